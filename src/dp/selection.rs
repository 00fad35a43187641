//! Choosing among tuning trials on private rows, charged to the ledger: report-noisy-max
//! (Dwork & Roth 2014, Claim 3.9, with Laplace noise of scale 2Δ/ε for scores that may move
//! either way) over a score whose sensitivity is proven below, and basic composition of the
//! trials and the choice.
//!
//! The score of a trial is the mean over columns of 1 − TV (discrete) or 1 − KS (numeric) between
//! its sample and the n private held-out rows, where a missing value is a value of its own
//! (a category for TV, +∞ for KS) so every column's distribution is over all n rows. Adding
//! one row x to n rows moves the empirical distribution P to (nP + δₓ)/(n + 1): by
//! (δₓ − P)/(n + 1), which is at most 1/(n + 1) in TV and in KS. By the triangle inequality each
//! column's score, and so their mean, moves by at most 1/(n + 1) ≤ 1/n for neighbours of the n
//! rows (n, the row count, is public). The synthetic samples are post-processing of the
//! trials, which are charged separately.
//!
//! The held-out rows come from [`private_split`]: each row goes to the held-out part by its
//! own coin (probability `share`) from the secret DP stream. Couple the coins of two
//! neighbours row by row (the coins are i.i.d. and independent of the values, so any row's
//! coin has the same law wherever it sits): the splits then differ only by the added row, in
//! one part. If it is a training row, the held-out rows are the same and the trials' own
//! guarantee covers the difference; if it is a held-out row, every trial trained on the same
//! rows and only the scores move, by at most `1/(n + 1)`. The held-out count `n` is
//! Binomial(N, share), a function of the coins and the public N only; the Laplace scale uses
//! the public floor [`holdout_floor`] instead of `n`, so it is the same for both neighbours,
//! and a split that falls below the floor (probability at most [`SPLIT_DELTA`] by Chernoff's
//! bound) stops the run before any trial, which adds `SPLIT_DELTA` to δ. Both cases are a
//! mixture over the same coin, so the whole run is (ε_trials + ε_choice, δ_trials +
//! SPLIT_DELTA)-DP by basic composition.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::noise::DpRng;
use crate::read::{Table, Values};

/// What a charged tuning run spent, written into the ledger of the file it releases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuningCharge {
    /// The (ε, δ) of the whole tuning run: trials and choice together (basic composition).
    pub epsilon: f64,
    /// δ of the whole tuning run.
    pub delta: f64,
    /// Trials planned (each charged, whether it ran or not).
    pub trials: usize,
    /// Target ε of each trial.
    pub trial_epsilon: f64,
    /// Target δ of each trial.
    pub trial_delta: f64,
    /// ε of the report-noisy-max choice.
    pub selection_epsilon: f64,
    /// Private rows held out of training and scored against.
    pub holdout_rows: usize,
    /// Sensitivity of the score (1 / holdout rows).
    pub score_sensitivity: f64,
    /// Scale of the Laplace noise added to each trial's score.
    pub laplace_scale: f64,
    /// The trial released (1-based).
    pub chosen_trial: usize,
}

/// Probability, spent as δ, that a private split's held-out part falls below
/// [`holdout_floor`] (the run then stops before any trial).
pub const SPLIT_DELTA: f64 = 1e-10;

/// Budget split of a charged tuning run: each of `trials` trials gets
/// `(epsilon·(1 − selection_share)/trials, (delta − SPLIT_DELTA)/trials)` and the choice
/// `epsilon·selection_share`; by basic composition (and the split's [`SPLIT_DELTA`]) the run
/// is (epsilon, delta)-DP.
pub fn split_budget(
    epsilon: f64,
    delta: f64,
    trials: usize,
    selection_share: f64,
) -> (f64, f64, f64) {
    let trials = trials.max(1) as f64;
    (
        epsilon * (1.0 - selection_share) / trials,
        (delta - SPLIT_DELTA).max(0.0) / trials,
        epsilon * selection_share,
    )
}

/// The public lower bound on the held-out rows of a [`private_split`] of `rows` rows: the
/// count is Binomial(rows, share) with mean μ, and Chernoff's bound
/// `P(n ≤ μ − t) ≤ exp(−t² / 2μ)` puts `n` below `μ − √(2μ ln(1/SPLIT_DELTA))` with
/// probability at most [`SPLIT_DELTA`]. At least 1.
pub fn holdout_floor(rows: usize, share: f64) -> usize {
    let mean = rows as f64 * share;
    let t = (2.0 * mean * (1.0 / SPLIT_DELTA).ln()).sqrt();
    ((mean - t).floor() as usize).max(1)
}

/// Splits `table` into (training, held-out) rows for charged tuning: each row goes to the
/// held-out part by its own coin with probability `share`, drawn in row order from `rng`
/// (secret and independent of the data); both parts keep the table's row order. Neighbouring
/// tables give splits that differ by the one row, in one part (module note). Fails when the
/// held-out part falls below [`holdout_floor`] (probability at most [`SPLIT_DELTA`]).
pub fn private_split(
    table: &Table,
    share: f64,
    rng: &mut DpRng,
) -> crate::error::Result<(Table, Table)> {
    let (mut kept, mut held_out) = (Vec::new(), Vec::new());
    for row in 0..table.n_rows() {
        if rng.coin(share) {
            held_out.push(row);
        } else {
            kept.push(row);
        }
    }
    let floor = holdout_floor(table.n_rows(), share);
    if held_out.len() < floor || kept.is_empty() {
        return Err(crate::error::Error::Privacy(format!(
            "the private split held out {} of {} rows, outside what the plan allows ({floor} to {}); raise tune.holdout_share or use a larger table",
            held_out.len(),
            table.n_rows(),
            table.n_rows().saturating_sub(1)
        )));
    }
    Ok((table.take_rows(&kept), table.take_rows(&held_out)))
}

/// The selection score of `synthetic` against `holdout` (same columns, same order); see the
/// module note for why one row moves it by at most `1 / holdout.n_rows()`.
pub fn selection_score(holdout: &Table, synthetic: &Table) -> f64 {
    let columns = holdout.columns.len().max(1) as f64;
    holdout
        .columns
        .iter()
        .zip(&synthetic.columns)
        .map(|(r, s)| match &r.values {
            Values::Text(_) | Values::Bool(_) => 1.0 - tv_with_nulls(&r.values, &s.values),
            _ => 1.0 - ks_with_nulls(&r.values, &s.values),
        })
        .sum::<f64>()
        / columns
}

fn tv_with_nulls(a: &Values, b: &Values) -> f64 {
    let mut counts: HashMap<Option<String>, (f64, f64)> = HashMap::new();
    let (na, nb) = (a.len().max(1) as f64, b.len().max(1) as f64);
    for i in 0..a.len() {
        counts.entry(a.key(i)).or_default().0 += 1.0 / na;
    }
    for i in 0..b.len() {
        counts.entry(b.key(i)).or_default().1 += 1.0 / nb;
    }
    0.5 * counts.values().map(|(p, q)| (p - q).abs()).sum::<f64>()
}

fn ks_with_nulls(a: &Values, b: &Values) -> f64 {
    let sorted = |v: &Values| {
        let mut x: Vec<f64> = (0..v.len())
            .map(|i| v.number(i).unwrap_or(f64::INFINITY))
            .collect();
        x.sort_by(f64::total_cmp);
        x
    };
    let (a, b) = (sorted(a), sorted(b));
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] == x {
            i += 1;
        }
        while j < b.len() && b[j] == x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d
}

/// Report-noisy-max: the index of the largest `score + Laplace(2·sensitivity/epsilon)`;
/// ε-differentially private in the rows behind the scores. Returns the index and the scale.
pub fn report_noisy_max(
    scores: &[f64],
    sensitivity: f64,
    epsilon: f64,
    rng: &mut DpRng,
) -> (usize, f64) {
    let scale = 2.0 * sensitivity / epsilon;
    let noisy: Vec<f64> = scores.iter().map(|s| s + rng.laplace(scale)).collect();
    let best = (0..noisy.len())
        .max_by(|&a, &b| noisy[a].total_cmp(&noisy[b]))
        .unwrap_or(0);
    (best, scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Column;

    fn table(values: Values) -> Table {
        Table {
            columns: vec![Column {
                name: "x".into(),
                values,
                form: None,
            }],
        }
    }

    #[test]
    fn one_more_row_moves_the_score_by_at_most_one_over_n() {
        let synth = Table {
            columns: vec![
                Column {
                    name: "c".into(),
                    values: Values::Text((0..50).map(|i| Some(format!("k{}", i % 3))).collect()),
                    form: None,
                },
                Column {
                    name: "x".into(),
                    values: Values::Float((0..50).map(|i| Some(i as f64 * 0.7)).collect()),
                    form: None,
                },
            ],
        };
        let mut rng = DpRng::from_seed(3);
        for trial in 0..200 {
            let n = 5 + trial % 30;
            let cats: Vec<Option<String>> = (0..n)
                .map(|_| (rng.index(5) > 0).then(|| format!("k{}", rng.index(4))))
                .collect();
            let nums: Vec<Option<f64>> = (0..n)
                .map(|_| (rng.index(4) > 0).then(|| rng.index(40) as f64))
                .collect();
            let base = Table {
                columns: vec![
                    Column {
                        name: "c".into(),
                        values: Values::Text(cats.clone()),
                        form: None,
                    },
                    Column {
                        name: "x".into(),
                        values: Values::Float(nums.clone()),
                        form: None,
                    },
                ],
            };
            // The neighbour with one extreme or missing row added.
            let mut cats2 = cats.clone();
            cats2.push((trial % 2 == 0).then(|| "unseen".to_string()));
            let mut nums2 = nums.clone();
            nums2.push((trial % 3 != 0).then_some(1e9));
            let bigger = Table {
                columns: vec![
                    Column {
                        name: "c".into(),
                        values: Values::Text(cats2),
                        form: None,
                    },
                    Column {
                        name: "x".into(),
                        values: Values::Float(nums2),
                        form: None,
                    },
                ],
            };
            let moved = (selection_score(&base, &synth) - selection_score(&bigger, &synth)).abs();
            assert!(
                moved <= 1.0 / n as f64 + 1e-12,
                "n {n}: moved {moved} > 1/n"
            );
        }
    }

    #[test]
    fn a_private_split_of_a_neighbour_differs_by_exactly_the_added_row() {
        let rows = 2000;
        let base = table(Values::Float((0..rows).map(|i| Some(i as f64)).collect()));
        let mut plus = base.clone();
        if let Values::Float(v) = &mut plus.columns[0].values {
            v.push(Some(1e9));
        }
        let values = |t: &Table| -> Vec<f64> {
            (0..t.n_rows())
                .map(|i| t.columns[0].values.number(i).unwrap())
                .collect()
        };
        let mut landed = [0, 0];
        for seed in 0..40 {
            let (train_a, hold_a) = private_split(&base, 0.2, &mut DpRng::from_seed(seed)).unwrap();
            let (train_b, hold_b) = private_split(&plus, 0.2, &mut DpRng::from_seed(seed)).unwrap();
            let (ta, ha, tb, hb) = (
                values(&train_a),
                values(&hold_a),
                values(&train_b),
                values(&hold_b),
            );
            if hb.last() == Some(&1e9) {
                assert_eq!(ta, tb, "seed {seed}: the training rows moved");
                assert_eq!(ha[..], hb[..hb.len() - 1], "seed {seed}");
                landed[1] += 1;
            } else {
                assert_eq!(ha, hb, "seed {seed}: the held-out rows moved");
                assert_eq!(ta[..], tb[..tb.len() - 1], "seed {seed}");
                landed[0] += 1;
            }
            // The held-out share follows the coin, not a fixed count.
            assert!((ha.len() as f64 - 400.0).abs() < 100.0, "{}", ha.len());
        }
        assert!(landed[0] > 20 && landed[1] > 2, "{landed:?}");
        let floor = holdout_floor(rows, 0.2);
        assert!(floor > 200 && floor < 400, "{floor}");
    }

    #[test]
    fn the_holdout_floor_is_a_chernoff_bound() {
        // mu = 900: t = sqrt(2 * 900 * ln 1e10) = 203.6.
        assert_eq!(holdout_floor(4500, 0.2), 696);
        // Tiny tables still hold out at least one row.
        assert_eq!(holdout_floor(10, 0.2), 1);
    }

    #[test]
    fn identical_tables_score_one_and_ks_counts_missing_values() {
        let a = table(Values::Float(vec![Some(1.0), None, Some(3.0), Some(2.0)]));
        assert!((selection_score(&a, &a) - 1.0).abs() < 1e-12);
        let b = table(Values::Float(vec![
            Some(1.0),
            Some(5.0),
            Some(3.0),
            Some(2.0),
        ]));
        // One of four values moved from "missing" to 5: the CDFs differ by 1/4 in [5, inf).
        assert!((selection_score(&a, &b) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn noisy_max_finds_a_clear_winner_and_its_noise_has_the_laplace_scale() {
        let mut rng = DpRng::from_seed(9);
        let scores = [0.5, 0.9, 0.6];
        let wins = (0..1000)
            .filter(|_| report_noisy_max(&scores, 1e-3, 1.0, &mut rng).0 == 1)
            .count();
        assert!(wins > 990, "{wins}");
        // Laplace(b): mean |X| = b.
        let draws: Vec<f64> = (0..200_000).map(|_| rng.laplace(2.0)).collect();
        let mean_abs = draws.iter().map(|x| x.abs()).sum::<f64>() / draws.len() as f64;
        assert!((mean_abs - 2.0).abs() < 0.03, "{mean_abs}");
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!(mean.abs() < 0.03, "{mean}");
    }
}
