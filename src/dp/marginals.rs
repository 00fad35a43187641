//! Noisy two-way marginals: for every pair of columns, a Gaussian-noised table of how many rows
//! are in each pair of states (a discrete column's category slot; a continuous column's mixture
//! mode, or null).
//!
//! - One row adds one to one cell of every pair table, so `P` tables have L2 sensitivity `√P`.
//!   They are measured as part of preprocessing's joint Gaussian mechanism: the noise std on
//!   every cell is the histograms' `z √(k + P)` (see `preprocess/`), so the accountant's
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

//! - With a tree (`privacy.pair_selection`), the `k − 1` pairs are chosen first, MST-style
//!   (McKenna, Miklau & Sheldon 2021): Kruskal's algorithm where each round picks, among the
//!   pairs that join two components, one by the exponential mechanism on the score
//!   `‖T − r cᵀ / N‖₁` (the table's distance from the product of its own margins: how far the
//!   two columns are from independent) less what independent columns with the columns'
//!   released state shares score by chance, its mean and one deviation
//!   ([`chance_offset_shares`]: released shares and the public row count only; where a column
//!   has no shares of its states' shape, the uniform table's bound [`chance_offset`]). One
//!   row moves the table by 1 and the product by less than 3 (`r cᵀ / N` with one more row:
//!   `(r + eᵢ)(c + eⱼ)ᵀ / (N + 1)`) and the offset not at all (it reads the row count, which
//!   the ledger takes as public, and shares released before the selection: adaptive
//!   composition), so the score's sensitivity is below
//!   [`SELECTION_SENSITIVITY`] = 4. Where a column of the pair is discrete (or continuous
//!   on exact values only: codes, counts, flags), its one-way shares were already released by preprocessing's histograms (noisy counts: public once
//!   released, adaptive composition), and the score is `‖T − r q̂ᵀ‖₁` instead, `r` the other
//!   column's exact counts and `q̂` the released shares ([`released_margin_score`]; the
//!   column whose chance offset and release noise, [`ReleasedMargin::noise_offset`], which is
//!   also subtracted, add up to less): one row moves `T` by 1 and `r q̂ᵀ` by `q̂`, which adds
//!   up to 1, so its
//!   sensitivity is [`RELEASED_MARGIN_SENSITIVITY`] = 2, and the same round's ε tells real
//!   dependences from chance twice as well (churn's target joined to its four real
//!   predictors in three seeds of three, docs/quality.md, stop 51). Each candidate's
//!   utility is its score over its own sensitivity, so every utility moves by at most 1.
//!   A round at `ε` is `ε²/8`-zCDP
//!   (bounded range, Cesar & Rogers 2021), i.e. RDP `α ε²/8`: with `ε = 2√w / z` it costs
//!   what a Gaussian measurement of weight `w` costs in `preprocess/`'s budget.
//! - Drawing rows from a tree model of the released tables (the DP warm start's surrogate) is
//!   post-processing and lives in `train/tree_model.rs`.

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
    /// Normal-score correlations of continuous pairs on the tree's edges, `((a, b), ρ)` with
    /// `a < b` (`dp::copula`); empty when not measured.
    #[serde(default)]
    pub copula: Vec<((usize, usize), f64)>,
    /// Per-state normal-score sums of discrete-continuous edges on the tree
    /// (`dp::copula::measure_shifts`); empty when not measured.
    #[serde(default)]
    pub shifts: Vec<super::copula::ScoreShift>,
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
    pair_counts_of(layout, rows, &all_pairs(layout.len()))
}

/// [`pair_counts`] of the pairs `pairs` only, in their order.
pub fn pair_counts_of(
    layout: &[ColumnStates],
    rows: &SparseRows,
    pairs: &[(usize, usize)],
) -> Vec<Vec<f64>> {
    let states: Vec<usize> = layout.iter().map(ColumnStates::count).collect();
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
            for (table, &(a, b)) in tables.iter_mut().zip(pairs) {
                table[row_states[a] * states[b] + row_states[b]] += 1.0;
            }
        }
    }
    tables
}

/// Bound on how much one row moves a selection score (module note).
pub const SELECTION_SENSITIVITY: f64 = 4.0;

/// The selection score of one exact pair table `[ra, rb]`: its L1 distance from the product of
/// its own margins.
pub fn dependence_score(table: &[f64], rb: usize) -> f64 {
    let ra = table.len() / rb.max(1);
    let total: f64 = table.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let rows: Vec<f64> = (0..ra)
        .map(|i| table[i * rb..(i + 1) * rb].iter().sum())
        .collect();
    let cols: Vec<f64> = (0..rb)
        .map(|j| (0..ra).map(|i| table[i * rb + j]).sum())
        .collect();
    let mut score = 0.0;
    for i in 0..ra {
        for j in 0..rb {
            score += (table[i * rb + j] - rows[i] * cols[j] / total).abs();
        }
    }
    score
}

/// What a pair table of `cells` cells scores by chance, subtracted from its
/// [`dependence_score`] before selection where a column has no released shares of its
/// states' shape ([`chance_offset_shares`] otherwise): an upper bound on the expected distance from
/// independence that sampling alone gives two independent columns over `rows` rows,
/// `Σ √(2 N pᵢ qⱼ / π) ≤ √(2 N cells / π)` (each cell's count is about normal around
/// `N pᵢ qⱼ`). It depends only on the table's shape and the public row count, so the score's
/// sensitivity is unchanged. Without it the largest tables won by chance: on churn's 4,000
/// rows the 51 states and 3 area codes, which are independent, score 451, above the target's
/// real dependence on the international plan (423), and the target hung off one or two
/// neighbours (docs/quality.md, "A chance offset in the tree's selection", which also has
/// what AIM's larger offset for the measurement noise did).
pub fn chance_offset(cells: usize, rows: f64) -> f64 {
    (2.0 / std::f64::consts::PI * rows * cells as f64).sqrt()
}

/// Which margin a pair's score measures the table against: its own (`Own`,
/// [`dependence_score`]) or column b's or a's released shares ([`released_margin_score`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoredAgainst {
    /// The table's own margins.
    Own,
    /// Column b's released shares.
    ReleasedB,
    /// Column a's released shares.
    ReleasedA,
}

/// [`chance_offset`] for columns whose states have the public shares `p` (column a) and `q`
/// (column b), as preprocessing released them: the expected L1 distance that sampling alone
/// gives two independent columns over `rows` rows, cell by cell. Against the table's own
/// margins a cell's count moves around `N pᵢ qⱼ` with variance `N pᵢ qⱼ (1 − pᵢ)(1 − qⱼ)`;
/// against b's released shares, given a's exact counts, with variance `N pᵢ qⱼ (1 − qⱼ)`
/// (a's alike). Each cell adds `√(2/π)` standard deviations.
///
/// [`chance_offset`] bounds this by the uniform table's, which a skewed column never reaches: a
/// 0.2% fraud flag against a ten-mode amount over 80,000 rows is offset by 1,009 there and by
/// about 70 here (mean and one deviation), while the fraud rows' real dependence scores about 300, so the flag could
/// never join a neighbour. The shares are outputs of the charged one-way release (public, as
/// [`ReleasedMargin`]'s), so the score's sensitivity is unchanged.
pub fn chance_offset_shares(p: &[f64], q: &[f64], rows: f64, against: ScoredAgainst) -> f64 {
    let mut sum = 0.0;
    let mut var_sum = 0.0;
    for &pi in p {
        for &qj in q {
            let var = match against {
                ScoredAgainst::Own => pi * qj * (1.0 - pi) * (1.0 - qj),
                ScoredAgainst::ReleasedB => pi * qj * (1.0 - qj),
                ScoredAgainst::ReleasedA => pi * qj * (1.0 - pi),
            };
            sum += var.max(0.0).sqrt();
            var_sum += var.max(0.0);
        }
    }
    let mean = (2.0 / std::f64::consts::PI * rows).sqrt() * sum;
    let spread = ((1.0 - 2.0 / std::f64::consts::PI) * rows * var_sum).sqrt();
    mean + CHANCE_SPREADS * spread
}

/// How many standard deviations of the chance distance [`chance_offset_shares`] adds to its
/// mean.
pub const CHANCE_SPREADS: f64 = 1.0;

/// Bound on how much one row moves a [`released_margin_score`] (module note).
pub const RELEASED_MARGIN_SENSITIVITY: f64 = 2.0;

/// A column's one-way shares as preprocessing released them (noisy counts, normalised: an
/// output of the charged mechanism, so public), with the noise std on each count: a discrete
/// column's, or a continuous column's whose modes are all exact values
/// (`train::released_margins`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReleasedMargin {
    /// The shares of the column's states, in [`ColumnStates`] order, adding up to 1.
    pub shares: Vec<f64>,
    /// Noise std on each of the counts they were drawn from.
    pub noise_std: f64,
}

impl ReleasedMargin {
    /// What the release's noise adds to a [`released_margin_score`] by itself: `E|noise|`
    /// on each of its counts, `√(2/π) σ` per state. Public (the plan's std and the shape).
    pub fn noise_offset(&self) -> f64 {
        (2.0 / std::f64::consts::PI).sqrt() * self.noise_std * self.shares.len() as f64
    }
}

/// The selection score of one exact pair table `[ra, rb]` against a released margin of one
/// of its columns (`released` of column b when `released_is_b`, else of column a): its L1
/// distance from the product of the other column's exact counts and the released shares,
/// `‖T − r q̂ᵀ‖₁`. One row moves `T` by 1 in one cell and `r q̂ᵀ` by `q̂` (which adds up to 1)
/// in the same row, so its sensitivity is [`RELEASED_MARGIN_SENSITIVITY`], half of
/// [`dependence_score`]'s, whose product of the table's own margins moves with both columns.
pub fn released_margin_score(
    table: &[f64],
    rb: usize,
    released: &[f64],
    released_is_b: bool,
) -> f64 {
    let ra = table.len() / rb.max(1);
    let mut score = 0.0;
    if released_is_b {
        for i in 0..ra {
            let row = &table[i * rb..(i + 1) * rb];
            let r: f64 = row.iter().sum();
            score += row
                .iter()
                .zip(released)
                .map(|(t, q)| (t - r * q).abs())
                .sum::<f64>();
        }
    } else {
        for j in 0..rb {
            let c: f64 = (0..ra).map(|i| table[i * rb + j]).sum();
            score += (0..ra)
                .map(|i| (table[i * rb + j] - c * released[i]).abs())
                .sum::<f64>();
        }
    }
    score
}

/// Chooses `k − 1` pairs forming a spanning tree of the `k` columns: Kruskal's rounds, each
/// picking among the pairs that join two components by the exponential mechanism at
/// `epsilon_round` on [`dependence_score`] less the chance offset, or where a column of the
/// pair has a `released` margin (one per column; an empty slice: none) on
/// [`released_margin_score`] less the chance offset and the margin's noise offset, each over
/// its sensitivity (Gumbel-max, draws from the secure generator); then `extra` more rounds at
/// the same `epsilon_round`, each among the pairs not yet chosen (`privacy.extra_pairs`:
/// dependences the tree leaves out, such as a target's with more than one column).
///
/// Every pair with a column in `targets` (`privacy.targets`: public) is returned without a
/// round, and the rounds above run over the other columns only: the tree spans the `k − t`
/// columns that are not targets (`k − t − 1` rounds), and each target joins it through all
/// of its pairs.
///
/// The chance offset is [`chance_offset_shares`] of the columns' `shares` (each column's
/// states' released shares, in [`ColumnStates`] order; public), or [`chance_offset`] where a
/// column has none of its states' shape. Where both columns have a released margin, the score
/// is taken against the one whose offsets add up to less (public numbers only).
#[allow(clippy::too_many_arguments)] // the rows, the mechanism's ε, and what the plan made public
pub fn select_tree(
    layout: &[ColumnStates],
    rows: &SparseRows,
    epsilon_round: f64,
    extra: usize,
    released: &[Option<ReleasedMargin>],
    shares: &[Vec<f64>],
    targets: &[usize],
    rng: &mut DpRng,
) -> Vec<(usize, usize)> {
    let k = layout.len();
    let states: Vec<usize> = layout.iter().map(ColumnStates::count).collect();
    let pairs = all_pairs(k);
    let n = rows.n_rows as f64;
    // A margin of another shape than the column's states is not used (it would be misread).
    let released_of = |c: usize| {
        released
            .get(c)
            .and_then(Option::as_ref)
            .filter(|m| m.shares.len() == states[c])
    };
    let shares_of = |c: usize| shares.get(c).filter(|s| s.len() == states[c]);
    // Each score in units of its own sensitivity (so the mechanism's utility moves by at most
    // 1): against the released margin whose noise adds the least where a column of the pair
    // has one, against the table's own margins otherwise.
    let scores: Vec<f64> = pair_counts(layout, rows)
        .iter()
        .zip(&pairs)
        .map(|(t, &(a, b))| {
            let chance = |against| match (shares_of(a), shares_of(b)) {
                (Some(p), Some(q)) => chance_offset_shares(p, q, n, against),
                _ => chance_offset(states[a] * states[b], n),
            };
            let offset_b =
                released_of(b).map(|m| chance(ScoredAgainst::ReleasedB) + m.noise_offset());
            let offset_a =
                released_of(a).map(|m| chance(ScoredAgainst::ReleasedA) + m.noise_offset());
            // (whether the released side is b, its margin, the offsets)
            let side = match (offset_a, offset_b) {
                (Some(oa), Some(ob)) if ob < oa => released_of(b).map(|m| (true, m, ob)),
                (Some(oa), _) => released_of(a).map(|m| (false, m, oa)),
                (None, Some(ob)) => released_of(b).map(|m| (true, m, ob)),
                (None, None) => None,
            };
            match side {
                Some((is_b, m, offset)) => {
                    (released_margin_score(t, states[b], &m.shares, is_b) - offset)
                        / RELEASED_MARGIN_SENSITIVITY
                }
                None => {
                    (dependence_score(t, states[b]) - chance(ScoredAgainst::Own))
                        / SELECTION_SENSITIVITY
                }
            }
        })
        .collect();
    let mut component: Vec<usize> = (0..k).collect();
    let find = |c: &Vec<usize>, mut x: usize| {
        while c[x] != x {
            x = c[x];
        }
        x
    };
    // Gumbel-max: argmax of ε u / 2 + Gumbel noise (u = s / Δ, moved by at most 1 by a row)
    // is a draw of the exponential mechanism.
    let pick = |candidates: &[usize], rng: &mut DpRng| -> Option<usize> {
        let gumbel = rng.uniform(candidates.len());
        candidates
            .iter()
            .zip(gumbel)
            .max_by(|x, y| {
                let key = |(&i, u): (&usize, f32)| {
                    let u = (u as f64).max(f64::MIN_POSITIVE);
                    epsilon_round * scores[i] / 2.0 - (-u.ln()).ln()
                };
                key(*x).total_cmp(&key(*y))
            })
            .map(|(&i, _)| i)
    };
    // A target's pairs are measured without a round; the rounds choose among the others.
    let targeted = |i: usize| targets.contains(&pairs[i].0) || targets.contains(&pairs[i].1);
    let mut taken: Vec<bool> = (0..pairs.len()).map(targeted).collect();
    let mut chosen: Vec<(usize, usize)> = (0..pairs.len())
        .filter(|&i| taken[i])
        .map(|i| pairs[i])
        .collect();
    for _ in 1..k {
        let candidates: Vec<usize> = (0..pairs.len())
            .filter(|&i| {
                !targeted(i) && find(&component, pairs[i].0) != find(&component, pairs[i].1)
            })
            .collect();
        let Some(best) = pick(&candidates, rng) else {
            break;
        };
        let (ra, rb) = (
            find(&component, pairs[best].0),
            find(&component, pairs[best].1),
        );
        component[ra] = rb;
        taken[best] = true;
        chosen.push(pairs[best]);
    }
    for _ in 0..extra {
        let candidates: Vec<usize> = (0..pairs.len()).filter(|&i| !taken[i]).collect();
        let Some(best) = pick(&candidates, rng) else {
            break;
        };
        taken[best] = true;
        chosen.push(pairs[best]);
    }
    chosen.sort_unstable();
    chosen
}

/// Measures the pair tables `pairs` (every pair when `None`) of `rows` with Gaussian noise of
/// std `noise_std` per count, from the secure generator, then projects each onto non-negative
/// counts that add up to the public row count and normalises.
pub fn measure_pairs(
    layout: &[ColumnStates],
    rows: &SparseRows,
    pairs: Option<Vec<(usize, usize)>>,
    noise_std: f64,
    rng: &mut DpRng,
) -> NoisyPairs {
    let states: Vec<usize> = layout.iter().map(ColumnStates::count).collect();
    // In table order, which is how the tables are counted, noised and listed.
    let mut pairs = pairs.unwrap_or_else(|| all_pairs(layout.len()));
    pairs.sort_unstable();
    pairs.dedup();
    let total = rows.n_rows as f64;
    let exact = pair_counts_of(layout, rows, &pairs);
    let tables = exact
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
        copula: Vec::new(),
        shifts: Vec::new(),
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
    fn one_row_moves_a_dependence_score_by_less_than_the_sensitivity() {
        let mut rng = DpRng::from_seed(4);
        for _ in 0..500 {
            let (ra, rb) = (1 + rng.index(4), 1 + rng.index(5));
            let table: Vec<f64> = (0..ra * rb).map(|_| rng.index(30) as f64).collect();
            let mut plus = table.clone();
            plus[rng.index(ra * rb)] += 1.0;
            let moved = (dependence_score(&plus, rb) - dependence_score(&table, rb)).abs();
            assert!(moved <= SELECTION_SENSITIVITY, "{moved} for {table:?}");
        }
        // Independent columns score 0; a copy scores high.
        assert!(dependence_score(&[10.0, 20.0, 30.0, 60.0], 2) < 1e-9);
        assert!((dependence_score(&[50.0, 0.0, 0.0, 50.0], 2) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn one_row_moves_a_released_margin_score_by_at_most_its_sensitivity() {
        let mut rng = DpRng::from_seed(5);
        let mut largest: f64 = 0.0;
        for _ in 0..2000 {
            let (ra, rb) = (1 + rng.index(4), 1 + rng.index(5));
            let table: Vec<f64> = (0..ra * rb).map(|_| rng.index(30) as f64).collect();
            let released_is_b = rng.index(2) == 0;
            let raw: Vec<f64> = (0..if released_is_b { rb } else { ra })
                .map(|_| 1.0 + rng.index(10) as f64)
                .collect();
            let total: f64 = raw.iter().sum();
            let shares: Vec<f64> = raw.iter().map(|v| v / total).collect();
            let mut plus = table.clone();
            plus[rng.index(ra * rb)] += 1.0;
            let score = |t: &[f64]| released_margin_score(t, rb, &shares, released_is_b);
            let moved = (score(&plus) - score(&table)).abs();
            assert!(
                moved <= RELEASED_MARGIN_SENSITIVITY + 1e-9,
                "{moved} for {table:?}"
            );
            largest = largest.max(moved);
        }
        // The bound is nearly reached (a row in a cell whose released share is small).
        assert!(largest > 1.5, "{largest}");
        // Independent of the released shares: 0; a copy against its released margin: high.
        let shares = [0.25, 0.75];
        assert!(released_margin_score(&[10.0, 30.0, 20.0, 60.0], 2, &shares, true) < 1e-9);
        assert!(
            (released_margin_score(&[50.0, 0.0, 0.0, 50.0], 2, &[0.5, 0.5], false) - 100.0).abs()
                < 1e-9
        );
    }

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
