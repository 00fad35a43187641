//! Leakage measures on normalised rows: distance to the closest record (synthetic rows to
//! training rows vs. to holdout rows), exact copies of training rows, and a distance-based
//! membership-inference score.
//!
//! A row's features: each numerical column scaled to [0, 1] by the training table's range
//! (missing: its own flag and 0), each categorical column one value that matches or not. The
//! distance between two rows is the Euclidean norm over columns of |x − y| (numerical) or
//! 0/1 (categorical mismatch; missing matches missing only).

use std::collections::HashSet;

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{shape_of, Shape};
use crate::read::Table;

/// Rows compared with every training row in the nearest-record searches; more are
/// subsampled (a stated cap keeps Adult-sized tables to seconds).
pub const DISTANCE_ROW_CAP: usize = 2000;

/// The privacy measures.
#[derive(Debug, Clone, Serialize)]
pub struct PrivacyReport {
    /// Median distance from a synthetic row to its closest training row.
    pub dcr_train_median: f64,
    /// 5th percentile of the same.
    pub dcr_train_p5: f64,
    /// Median distance from a synthetic row to its closest holdout row.
    pub dcr_holdout_median: f64,
    /// 5th percentile of the same.
    pub dcr_holdout_p5: f64,
    /// Share of synthetic rows closer to the training table than to the holdout (0.5 for a
    /// generator that learned the distribution, not the rows, when both tables are equally
    /// large).
    pub closer_to_train_share: f64,
    /// Share of synthetic rows that equal some training row exactly.
    pub exact_copies: f64,
    /// Membership inference: AUC of "closer synthetic row means member" separating training
    /// rows from holdout rows (0.5: no better than chance).
    pub membership_auc: f64,
    /// Rows of each table used in the distance searches.
    pub rows_compared: usize,
}

struct Encoded {
    /// `[rows][columns]` numeric features (categorical: hashed value, compared for equality).
    rows: Vec<Vec<f64>>,
}

fn encode(table: &Table, reference: &Table, rows: &[usize]) -> Encoded {
    let shapes: Vec<Shape> = reference
        .columns
        .iter()
        .map(|c| shape_of(&c.values))
        .collect();
    let ranges: Vec<(f64, f64)> = reference
        .columns
        .iter()
        .map(|c| {
            let xs = (0..c.values.len()).filter_map(|i| c.values.number(i));
            let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
                (l.min(x), h.max(x))
            });
            (lo, if hi > lo { hi - lo } else { 1.0 })
        })
        .collect();
    let rows = rows
        .iter()
        .map(|&r| {
            table
                .columns
                .iter()
                .zip(&shapes)
                .zip(&ranges)
                .map(|((c, shape), (lo, width))| match shape {
                    Shape::Numerical => match c.values.number(r) {
                        Some(x) => (x - lo) / width,
                        None => f64::NAN,
                    },
                    Shape::Categorical => match c.values.key(r) {
                        // A stable code per value; only equality matters.
                        Some(k) => {
                            use std::hash::{Hash, Hasher};
                            let mut h = std::collections::hash_map::DefaultHasher::new();
                            k.hash(&mut h);
                            (h.finish() >> 11) as f64
                        }
                        None => f64::NAN,
                    },
                })
                .collect()
        })
        .collect();
    Encoded { rows }
}

fn distance(a: &[f64], b: &[f64], categorical: &[bool]) -> f64 {
    let mut d = 0.0;
    for ((x, y), &cat) in a.iter().zip(b).zip(categorical) {
        let term = match (x.is_nan(), y.is_nan()) {
            (true, true) => 0.0,
            (true, false) | (false, true) => 1.0,
            _ if cat => f64::from(x != y),
            _ => (x - y).abs(),
        };
        d += term * term;
    }
    d.sqrt()
}

fn nearest(from: &Encoded, to: &Encoded, categorical: &[bool]) -> Vec<f64> {
    from.rows
        .iter()
        .map(|a| {
            to.rows
                .iter()
                .map(|b| distance(a, b, categorical))
                .fold(f64::INFINITY, f64::min)
        })
        .collect()
}

/// Distance from each row of `rows` to its closest row of `synthetic` (`dpsynth audit`'s
/// black-box score). Features are scaled by the synthetic table's own ranges, so nothing but
/// the released rows and the scored rows is read. `rows` must hold `synthetic`'s columns in
/// the same order.
pub fn distances_to_closest(rows: &Table, synthetic: &Table) -> Vec<f64> {
    let categorical: Vec<bool> = synthetic
        .columns
        .iter()
        .map(|c| shape_of(&c.values) == Shape::Categorical)
        .collect();
    let from = encode(rows, synthetic, &(0..rows.n_rows()).collect::<Vec<_>>());
    let to = encode(
        synthetic,
        synthetic,
        &(0..synthetic.n_rows()).collect::<Vec<_>>(),
    );
    nearest(&from, &to, &categorical)
}

fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn subsample(n: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    if n <= DISTANCE_ROW_CAP {
        (0..n).collect()
    } else {
        sample(rng, n, DISTANCE_ROW_CAP).into_vec()
    }
}

/// AUC of scores for positives vs negatives (ties count half).
pub(crate) fn auc(positives: &[f64], negatives: &[f64]) -> f64 {
    let mut all: Vec<(f64, bool)> = positives
        .iter()
        .map(|&s| (s, true))
        .chain(negatives.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mann–Whitney U with average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0;
        rank_sum += avg_rank * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let (p, n) = (positives.len() as f64, negatives.len() as f64);
    (rank_sum - p * (p + 1.0) / 2.0) / (p * n)
}

/// The privacy measures of `synthetic` against the `train` rows it was made from and `holdout`
/// rows it never saw (same columns, same order).
pub fn privacy(train: &Table, synthetic: &Table, holdout: &Table) -> PrivacyReport {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let categorical: Vec<bool> = train
        .columns
        .iter()
        .map(|c| shape_of(&c.values) == Shape::Categorical)
        .collect();
    let row_key = |t: &Table, r: usize| -> Vec<Option<String>> {
        t.columns.iter().map(|c| c.values.key(r)).collect()
    };
    let train_rows: HashSet<Vec<Option<String>>> =
        (0..train.n_rows()).map(|r| row_key(train, r)).collect();
    let copies = (0..synthetic.n_rows())
        .filter(|&r| train_rows.contains(&row_key(synthetic, r)))
        .count();

    let train_idx = subsample(train.n_rows(), &mut rng);
    let holdout_idx = subsample(holdout.n_rows(), &mut rng);
    let synth_idx = subsample(synthetic.n_rows(), &mut rng);
    // Equal-sized reference sets, so "closer to train" is a fair coin for a good generator.
    let m = train_idx.len().min(holdout_idx.len());
    let train_enc = encode(train, train, &train_idx[..m]);
    let holdout_enc = encode(holdout, train, &holdout_idx[..m]);
    let synth_enc = encode(synthetic, train, &synth_idx);
    let to_train = nearest(&synth_enc, &train_enc, &categorical);
    let to_holdout = nearest(&synth_enc, &holdout_enc, &categorical);
    let closer = to_train
        .iter()
        .zip(&to_holdout)
        .map(|(a, b)| {
            if a < b {
                1.0
            } else if a == b {
                0.5
            } else {
                0.0
            }
        })
        .sum::<f64>()
        / to_train.len() as f64;
    // Members should have a closer synthetic neighbour: score = −distance.
    let member_scores: Vec<f64> = nearest(&train_enc, &synth_enc, &categorical)
        .into_iter()
        .map(|d| -d)
        .collect();
    let outsider_scores: Vec<f64> = nearest(&holdout_enc, &synth_enc, &categorical)
        .into_iter()
        .map(|d| -d)
        .collect();
    PrivacyReport {
        dcr_train_median: quantile(&to_train, 0.5),
        dcr_train_p5: quantile(&to_train, 0.05),
        dcr_holdout_median: quantile(&to_holdout, 0.5),
        dcr_holdout_p5: quantile(&to_holdout, 0.05),
        closer_to_train_share: closer,
        exact_copies: copies as f64 / synthetic.n_rows() as f64,
        membership_auc: auc(&member_scores, &outsider_scores),
        rows_compared: m,
    }
}

#[cfg(test)]
mod tests {
    use super::auc;

    #[test]
    fn auc_of_separated_and_identical_scores() {
        assert_eq!(auc(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(auc(&[1.0, 2.0], &[3.0, 4.0]), 0.0);
        assert_eq!(auc(&[1.0, 1.0], &[1.0, 1.0]), 0.5);
    }
}
