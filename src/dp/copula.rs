//! Noisy normal-score correlations of continuous pairs on the tree model's edges
//! (`privacy.copula`): how two continuous columns move together, which the pair tables of
//! mixture modes lose (an amount and a price, minutes and their charge).
//!
//! - A row's score in a continuous column is `g = Φ⁻¹(F(x))`, `F` the column's released
//!   (noisy) mixture distribution: a fixed function of the row's own value. `g` is clipped to
//!   `[−B, B]`, `B` = [`SCORE_CLIP`]; a null value scores 0.
//! - Per pair, `S_ab = Σ_rows g_a g_b / B²`; per column, `S_aa = Σ_rows g_a² / B²`. Every row adds
//!   at most 1 in absolute value to each sum, so each sum has sensitivity 1, like a count.
//! - They are measured in preprocessing's joint Gaussian mechanism with the pair tables' noise
//!   std: `preprocess/` reserves [`reserved_sums`] slots, `c − 1` pairs (a tree over `c`
//!   continuous columns has no more) and `c` spreads, so the accountant's one charge covers
//!   them. Measuring them after the tables, on edges chosen from the noisy tables, is adaptive
//!   composition.
//! - Per edge between a discrete column `d` and a continuous column `b` (at most
//!   [`reserved_shift_slots`] of them, chosen from the noisy tables), per state `s` of `d`:
//!   `T_s = Σ_{rows in s} g_b / B`. A row adds at most 1 in absolute value to exactly one `T_s`
//!   of the edge, so an edge's vector has L2 sensitivity 1, like one count table, and takes one
//!   slot of the mechanism ([`measure_shifts`]). `T_s · B / (N p_s)` (`N` the public row
//!   count, `p_s` the state's noisy share) is the mean score of the state's rows: how far the
//!   category shifts the amount (churners' day minutes run higher), which the mode tables
//!   lose when the column has few modes.
//! - `ρ_ab = S_ab / √(S_aa S_bb)`, clamped to `[−`[`MAX_RHO`]`, MAX_RHO]`, is post-processing:
//!   the surrogate rows of the warm start draw a continuous child's score from its parent's
//!   through a Gaussian copula with that `ρ` (`train/surrogate.rs`), and sampling moves a
//!   pair the generator misses to it (`transform/dependence.rs`).

use serde::{Deserialize, Serialize};

use super::noise::DpRng;
use crate::transform::SparseRows;

/// Scores are clipped to `[−SCORE_CLIP, SCORE_CLIP]` before they are summed.
pub const SCORE_CLIP: f64 = 2.0;

/// Largest correlation a pair is given.
pub const MAX_RHO: f64 = 0.99;

/// `E[min(g², B²)]` of a standard normal score `g` clipped at `B` = [`SCORE_CLIP`] (2): 0.92,
/// rounded down (a column's sum of squared scores over `N` rows is about `0.9 N`).
pub const CLIPPED_SCORE_SPREAD: f64 = 0.9;

/// Largest expected noise of a released correlation ([`rho_noise`]) for which the plan
/// reserves the correlation sums (`preprocess/`). At 0.34 a column's spread, about
/// `0.23 N` in units of `B²`, is three of its noise deviations: above it the spreads mostly
/// fail [`measure_copula`]'s rule and every `ρ` is released as 0 (penguins' 276 rows, 0.39),
/// so the slots' share of the mechanism goes to the histograms and pair tables instead. Not
/// lower: at 0.30 the breast-cancer table's strongest pairs still came through (mean area
/// with the target: released -0.76, real -0.71), and without them one of two runs lost its
/// classifier's AUC (0.99 -> 0.43-0.88 over three samples; docs/quality.md, stop 55).
pub const MAX_RHO_NOISE: f64 = 0.34;

/// About how far a sum's noise moves a released `ρ` on `rows` rows at noise std `noise_std`
/// per sum: each sum is over the rows' clipped scores divided by `B²`, about
/// `N E[min(g², B²)] / B²` for a spread, so `noise_std · B² / (N E[min(g², B²)])`. Public: the
/// plan's noise and the row count.
pub fn rho_noise(noise_std: f64, rows: f64) -> f64 {
    noise_std * SCORE_CLIP * SCORE_CLIP / (rows * CLIPPED_SCORE_SPREAD)
}

/// Sums to reserve in the mechanism for `continuous` continuous columns: `c − 1` pairs and `c`
/// spreads (none below two columns).
pub fn reserved_sums(continuous: usize) -> usize {
    if continuous < 2 {
        0
    } else {
        2 * continuous - 1
    }
}

/// Slots to reserve for the per-state score sums of discrete-continuous edges: one per
/// discrete column (a tree usually hangs each discrete column off one neighbour), none unless
/// the table has both kinds of column.
pub fn reserved_shift_slots(discrete: usize, continuous: usize) -> usize {
    if continuous == 0 {
        0
    } else {
        discrete
    }
}

/// The noisy per-state score sums of one discrete-continuous edge ([`measure_shifts`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreShift {
    /// The discrete column.
    pub discrete: usize,
    /// The continuous column.
    pub continuous: usize,
    /// Per state of the discrete column: `Σ_{rows in the state} g / B` plus noise.
    pub sums: Vec<f64>,
    /// The public row count `N`.
    pub rows: usize,
}

/// Measures the per-state score sums of the edges `edges` (`(discrete, continuous)`; at most
/// `budget` of them: the reserved slots) from the state `state(discrete, dense_row)` of each
/// row and its normal score `score(continuous, dense_row)` (`None` for a null value: 0), with
/// Gaussian noise of std `noise_std` on every sum from the secure generator. `states[d]` is
/// the number of states of discrete column `d`.
#[allow(clippy::too_many_arguments)]
pub fn measure_shifts(
    rows: &SparseRows,
    edges: &[(usize, usize)],
    budget: usize,
    states: &[usize],
    state: &dyn Fn(usize, &[f32]) -> usize,
    score: &dyn Fn(usize, &[f32]) -> Option<f64>,
    noise_std: f64,
    rng: &mut DpRng,
) -> Vec<ScoreShift> {
    let chosen: Vec<(usize, usize)> = edges.iter().copied().take(budget).collect();
    let mut sums: Vec<Vec<f64>> = chosen.iter().map(|&(d, _)| vec![0.0; states[d]]).collect();
    for_each_dense_row(rows, |row| {
        for (sum, &(d, b)) in sums.iter_mut().zip(&chosen) {
            let g = score(b, row).map_or(0.0, |z| z.clamp(-SCORE_CLIP, SCORE_CLIP));
            sum[state(d, row)] += g / SCORE_CLIP;
        }
    });
    chosen
        .iter()
        .zip(sums)
        .map(|(&(discrete, continuous), mut sums)| {
            for (v, e) in sums
                .iter_mut()
                .zip(rng.gaussian(states[discrete], noise_std))
            {
                *v += e;
            }
            ScoreShift {
                discrete,
                continuous,
                sums,
                rows: rows.n_rows,
            }
        })
        .collect()
}

/// Measures the correlation of the pairs `pairs` (at most `budget_pairs` of them: the reserved
/// slots) from the normal scores `score(column, dense_row)` (`None` for a null value: 0) of
/// `rows`, with Gaussian noise of std `noise_std` on every sum from the secure generator.
/// Returns `((a, b), ρ)` per measured pair, `a < b`; a pair whose columns' spreads do not
/// clear three noise deviations gets 0.
pub fn measure_copula(
    rows: &SparseRows,
    pairs: &[(usize, usize)],
    budget_pairs: usize,
    score: &dyn Fn(usize, &[f32]) -> Option<f64>,
    noise_std: f64,
    rng: &mut DpRng,
) -> Vec<((usize, usize), f64)> {
    let chosen: Vec<(usize, usize)> = pairs
        .iter()
        .map(|&(a, b)| (a.min(b), a.max(b)))
        .take(budget_pairs)
        .collect();
    if chosen.is_empty() {
        return Vec::new();
    }
    let mut columns: Vec<usize> = chosen.iter().flat_map(|&(a, b)| [a, b]).collect();
    columns.sort_unstable();
    columns.dedup();
    let slot = |c: usize| columns.binary_search(&c).expect("listed above");
    let mut spread = vec![0.0; columns.len()];
    let mut together = vec![0.0; chosen.len()];
    let clip2 = SCORE_CLIP * SCORE_CLIP;
    let mut g = vec![0.0; columns.len()];
    for_each_dense_row(rows, |row| {
        for (gi, &c) in g.iter_mut().zip(&columns) {
            *gi = score(c, row).map_or(0.0, |z| z.clamp(-SCORE_CLIP, SCORE_CLIP));
        }
        for (s, gi) in spread.iter_mut().zip(&g) {
            *s += gi * gi / clip2;
        }
        for (t, &(a, b)) in together.iter_mut().zip(&chosen) {
            *t += g[slot(a)] * g[slot(b)] / clip2;
        }
    });
    for (v, e) in spread
        .iter_mut()
        .zip(rng.gaussian(columns.len(), noise_std))
    {
        *v += e;
    }
    for (v, e) in together
        .iter_mut()
        .zip(rng.gaussian(chosen.len(), noise_std))
    {
        *v += e;
    }
    chosen
        .iter()
        .zip(&together)
        .map(|(&(a, b), &t)| {
            let (sa, sb) = (spread[slot(a)], spread[slot(b)]);
            // A spread the noise swamps says nothing: no correlation.
            let rho = if sa > 3.0 * noise_std && sb > 3.0 * noise_std {
                (t / (sa * sb).sqrt()).clamp(-MAX_RHO, MAX_RHO)
            } else {
                0.0
            };
            ((a, b), rho)
        })
        .collect()
}

/// Calls `visit` with every row of `rows`, dense, a chunk of rows at a time.
fn for_each_dense_row(rows: &SparseRows, mut visit: impl FnMut(&[f32])) {
    const CHUNK: usize = 4096;
    for start in (0..rows.n_rows).step_by(CHUNK) {
        let end = (start + CHUNK).min(rows.n_rows);
        let ids: Vec<u32> = (start as u32..end as u32).collect();
        let dense = rows.gather(&ids);
        dense.chunks_exact(rows.dim.max(1)).for_each(&mut visit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlated_scores_give_their_correlation_and_one_row_moves_a_sum_by_at_most_one() {
        // Two columns whose scores are (z, ρ z + √(1 − ρ²) e): the measured ρ without noise
        // matches the clipped sample correlation, close to ρ for ρ = 0.8.
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let n = 20_000;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let mut rows = SparseRows::new(n, 2, 2);
        for r in 0..n {
            let z: f64 = StandardNormal.sample(&mut rng);
            let e: f64 = StandardNormal.sample(&mut rng);
            rows.index[2 * r] = 0;
            rows.value[2 * r] = z as f32;
            rows.index[2 * r + 1] = 1;
            rows.value[2 * r + 1] = (0.8 * z + 0.6 * e) as f32;
        }
        let score = |c: usize, row: &[f32]| Some(row[c] as f64);
        let measured = measure_copula(&rows, &[(1, 0)], 1, &score, 0.0, &mut DpRng::from_seed(1));
        assert_eq!(measured.len(), 1);
        assert_eq!(measured[0].0, (0, 1));
        assert!((measured[0].1 - 0.8).abs() < 0.03, "{measured:?}");
        // Sensitivity: any one row's terms are at most 1 in absolute value.
        for (a, b) in [(5.0f64, -9.0f64), (2.0, 2.0), (-0.3, 7.0)] {
            let (ca, cb) = (
                a.clamp(-SCORE_CLIP, SCORE_CLIP),
                b.clamp(-SCORE_CLIP, SCORE_CLIP),
            );
            let clip2 = SCORE_CLIP * SCORE_CLIP;
            assert!((ca * cb / clip2).abs() <= 1.0 && ca * ca / clip2 <= 1.0);
        }
    }

    #[test]
    fn shift_sums_give_each_states_mean_score_and_one_row_moves_one_sum_by_at_most_one() {
        // A discrete column (dense entries 0..3) whose states shift a score (entry 3) by
        // -0.5, 0 and +1: the noiseless sums over B times N p_s give those means.
        use rand::{Rng, SeedableRng};
        use rand_distr::{Distribution, StandardNormal};
        let n = 30_000;
        let shift = [-0.5, 0.0, 1.0];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let mut rows = SparseRows::new(n, 4, 2);
        let mut counts = [0usize; 3];
        for r in 0..n {
            let s = rng.random_range(0..3usize);
            counts[s] += 1;
            let e: f64 = StandardNormal.sample(&mut rng);
            rows.index[2 * r] = s as u32;
            rows.value[2 * r] = 1.0;
            rows.index[2 * r + 1] = 3;
            rows.value[2 * r + 1] = (shift[s] + 0.3 * e) as f32;
        }
        let state = |_: usize, row: &[f32]| (0..3).find(|&i| row[i] > 0.5).expect("one-hot");
        let score = |c: usize, row: &[f32]| Some(row[c] as f64);
        let measured = measure_shifts(
            &rows,
            &[(0, 3), (0, 3)],
            1,
            &[3, 0, 0, 0],
            &state,
            &score,
            0.0,
            &mut DpRng::from_seed(1),
        );
        assert_eq!(measured.len(), 1, "one slot: one edge");
        for s in 0..3 {
            let mean = measured[0].sums[s] * SCORE_CLIP / counts[s] as f64;
            assert!((mean - shift[s]).abs() < 0.02, "state {s}: {mean}");
        }
        // Sensitivity: one extra row with a huge score moves one sum, by exactly 1.
        let mut more = SparseRows::new(n + 1, 4, 2);
        more.index[..2 * n].copy_from_slice(&rows.index);
        more.value[..2 * n].copy_from_slice(&rows.value);
        more.index[2 * n] = 2;
        more.value[2 * n] = 1.0;
        more.index[2 * n + 1] = 3;
        more.value[2 * n + 1] = 1e6;
        let again = measure_shifts(
            &more,
            &[(0, 3)],
            1,
            &[3, 0, 0, 0],
            &state,
            &score,
            0.0,
            &mut DpRng::from_seed(1),
        );
        let moved: Vec<f64> = again[0]
            .sums
            .iter()
            .zip(&measured[0].sums)
            .map(|(a, b)| (a - b).abs())
            .collect();
        let total: f64 = moved.iter().map(|m| m * m).sum::<f64>().sqrt();
        assert!((total - 1.0).abs() < 1e-9, "{moved:?}");
    }
}
