//! Noisy two-way marginals: for every pair of columns, a Gaussian-noised table of how many rows
//! are in each pair of states (a discrete column's category slot; a continuous column's mixture
//! mode, or null).
//!
//! - One row adds one to one cell of every pair table, so `P` tables have L2 sensitivity `√P`.
//!   They are measured as part of preprocessing's joint Gaussian mechanism: the noise std on
//!   every cell is the histograms' `z √(k + P)` (see `preprocess.rs`), so the accountant's
//!   charge `α / (2 z²)` covers the one-way histograms and these tables together. Measuring
//!   them after the mixture modes were fitted from the one-way histograms is adaptive
//!   composition, which RDP allows.
//! - A row's mode is drawn from the mode posterior of its own value (the training encoding).
//!   The draws come from one secret stream taken column by column, so removing a row shifts
//!   the draws of the rows after it; but the draws are i.i.d. uniforms, so coupling each
//!   remaining row's draw across the two neighbours gives, for every coupled draw, two count
//!   vectors that differ in one cell per table, and the bound holds for the mixture (joint
//!   quasi-convexity of the Rényi divergence). That needs the encoding seed to stay secret:
//!   it is random unless `--seed` is given, and a seeded run is marked not for release. The same
//!   argument covers DP-SGD, which trains on these encoded rows.
//! - Everything after the noise (projection onto counts that are non-negative and add up to the
//!   public row count, normalisation) is post-processing. The generator is then trained to
//!   match these tables; that reads no row.

use serde::{Deserialize, Serialize};

use super::noise::DpRng;
use crate::transform::{ColumnStates, SparseRows};

/// Number of pair tables for `columns` columns (every unordered pair).
pub fn pair_count(columns: usize) -> usize {
    columns * columns.saturating_sub(1) / 2
}

/// The released two-way marginals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoisyPairs {
    /// States per column, in schema order.
    pub states: Vec<usize>,
    /// The column pairs `(a, b)`, `a < b`, in the order of `tables`.
    pub pairs: Vec<(usize, usize)>,
    /// One table per pair, row-major `[states[a], states[b]]`: probabilities (non-negative,
    /// summing to 1).
    pub tables: Vec<Vec<f64>>,
    /// Noise std on every count.
    pub noise_std: f64,
}

/// Every unordered pair `(a, b)`, `a < b`, of `columns` columns, in table order.
pub fn all_pairs(columns: usize) -> Vec<(usize, usize)> {
    (0..columns)
        .flat_map(|a| (a + 1..columns).map(move |b| (a, b)))
        .collect()
}

/// Exact pair counts of `rows` (no noise): `[pairs][states[a] * states[b]]`, pairs in
/// [`all_pairs`] order. Only [`measure_pairs`] may release them, with noise.
pub fn pair_counts(layout: &[ColumnStates], rows: &SparseRows) -> Vec<Vec<f64>> {
    let states: Vec<usize> = layout.iter().map(ColumnStates::count).collect();
    let pairs = all_pairs(layout.len());
    let mut tables: Vec<Vec<f64>> = pairs
        .iter()
        .map(|&(a, b)| vec![0.0; states[a] * states[b]])
        .collect();
    const CHUNK: usize = 4096;
    let mut row_states = vec![0usize; layout.len()];
    for start in (0..rows.n_rows).step_by(CHUNK) {
        let end = (start + CHUNK).min(rows.n_rows);
        let ids: Vec<u32> = (start as u32..end as u32).collect();
        let dense = rows.gather(&ids);
        for row in dense.chunks_exact(rows.dim.max(1)) {
            for (s, l) in row_states.iter_mut().zip(layout) {
                *s = l.state(row);
            }
            for (table, &(a, b)) in tables.iter_mut().zip(&pairs) {
                table[row_states[a] * states[b] + row_states[b]] += 1.0;
            }
        }
    }
    tables
}

/// Measures every pair table of `rows` with Gaussian noise of std `noise_std` per count, from
/// the secure generator, then projects each onto non-negative counts that add up to the
/// public row count and normalises.
pub fn measure_pairs(
    layout: &[ColumnStates],
    rows: &SparseRows,
    noise_std: f64,
    rng: &mut DpRng,
) -> NoisyPairs {
    let states: Vec<usize> = layout.iter().map(ColumnStates::count).collect();
    let pairs = all_pairs(layout.len());
    let total = rows.n_rows as f64;
    let tables = pair_counts(layout, rows)
        .into_iter()
        .map(|mut counts| {
            let noise = rng.gaussian(counts.len(), noise_std);
            for (c, e) in counts.iter_mut().zip(noise) {
                *c += e;
            }
            project_to_simplex(&mut counts, total);
            counts.iter().map(|c| c / total.max(1.0)).collect()
        })
        .collect();
    NoisyPairs {
        states,
        pairs,
        tables,
        noise_std,
    }
}

/// The Euclidean projection of `x` onto `{y ≥ 0, Σ y = total}`: `y_i = max(0, x_i − τ)` with the
/// one `τ` that makes them add up (Held, Wolfe & Crowder 1974; Duchi et al. 2008). It undoes the
/// upward bias that clamping noisy counts at zero gives empty cells.
pub fn project_to_simplex(x: &mut [f64], total: f64) {
    if x.is_empty() {
        return;
    }
    let mut sorted: Vec<f64> = x.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let mut cumulative = 0.0;
    let mut tau = (sorted.iter().sum::<f64>() - total) / sorted.len() as f64;
    for (i, &v) in sorted.iter().enumerate() {
        cumulative += v;
        let t = (cumulative - total) / (i + 1) as f64;
        if v - t > 0.0 {
            tau = t;
        } else {
            break;
        }
    }
    for v in x.iter_mut() {
        *v = (*v - tau).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_matches_a_hand_worked_case() {
        // Sorted 5, 2, -1, total 4: τ = (5 + 2 − 4) / 2 = 1.5 (−1 − 1.5 < 0 drops out).
        let mut x = vec![2.0, -1.0, 5.0];
        project_to_simplex(&mut x, 4.0);
        assert_eq!(x, vec![0.5, 0.0, 3.5]);
        // Already on the simplex: unchanged.
        let mut y = vec![1.0, 0.0, 3.0];
        project_to_simplex(&mut y, 4.0);
        assert_eq!(y, vec![1.0, 0.0, 3.0]);
        // Too little mass: spread up evenly.
        let mut z = vec![1.0, 1.0];
        project_to_simplex(&mut z, 4.0);
        assert_eq!(z, vec![2.0, 2.0]);
    }

    #[test]
    fn projection_is_the_nearest_point_on_the_simplex() {
        // Compared with a brute-force search over a grid of the 2-simplex scaled to 10.
        let x = [7.3, -2.0, 6.1];
        let mut p = x.to_vec();
        project_to_simplex(&mut p, 10.0);
        let dist = |y: &[f64]| -> f64 { y.iter().zip(&x).map(|(a, b)| (a - b).powi(2)).sum() };
        let mut best = f64::INFINITY;
        let steps = 1000;
        for i in 0..=steps {
            for j in 0..=steps - i {
                let y = [
                    10.0 * i as f64 / steps as f64,
                    10.0 * j as f64 / steps as f64,
                    10.0 * (steps - i - j) as f64 / steps as f64,
                ];
                best = best.min(dist(&y));
            }
        }
        assert!(p.iter().all(|&v| v >= 0.0));
        assert!((p.iter().sum::<f64>() - 10.0).abs() < 1e-9);
        assert!(dist(&p) <= best + 1e-9, "{} > {best}", dist(&p));
    }
}
