//! Fidelity with SDMetrics 0.32's QualityReport definitions (read from its source; pinned by
//! `tests/fixtures/sdmetrics_credit.json`):
//! - column shapes: `1 − KS` (two-sample Kolmogorov–Smirnov statistic) for numerical columns,
//!   `1 − TV` (total-variation distance of value frequencies) for categorical ones, missing
//!   values dropped on each side;
//! - column pair trends: for two numerical columns `1 − |r_real − r_synthetic| / 2` (Pearson,
//!   rows where both are present; undefined for a constant column); otherwise `1 − TV` of the
//!   pair's joint frequencies, a numerical column cut into numpy's 10 equal-width bins between
//!   that table's own min and max (codes 1..=10, the maximum and missing values 11), a
//!   missing category its own value;
//! - a pair counts towards the property score only if the real table relates the two columns:
//!   |r_real| > 0.5, or Cramér's V of the real contingency table > 0.3;
//! - property scores are means; the overall score is their mean.

use std::collections::HashMap;

use serde::Serialize;

use super::{shape_of, Shape};
use crate::read::{Table, Values};

/// Per-column and per-pair scores and their averages.
#[derive(Debug, Clone, Serialize)]
pub struct FidelityReport {
    /// Mean of the two property scores.
    pub overall: f64,
    /// Mean column-shape score.
    pub column_shapes: f64,
    /// Mean pair-trend score over the pairs that meet SDMetrics' thresholds (NaN if none).
    pub column_pair_trends: f64,
    /// Mean pair-trend score over every pair with a score (no thresholds).
    pub column_pair_trends_all: f64,
    /// One entry per column.
    pub shapes: Vec<ColumnScore>,
    /// One entry per pair of columns.
    pub pairs: Vec<PairScore>,
    /// Share of missing values per column, real vs synthetic.
    pub missing: Vec<MissingRates>,
}

/// A column's shape score.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnScore {
    /// Column name.
    pub column: String,
    /// "KSComplement" or "TVComplement".
    pub metric: &'static str,
    /// The score in [0, 1] (1: same distribution).
    pub score: f64,
}

/// A pair's trend score.
#[derive(Debug, Clone, Serialize)]
pub struct PairScore {
    /// First column.
    pub column_1: String,
    /// Second column.
    pub column_2: String,
    /// "CorrelationSimilarity" or "ContingencySimilarity".
    pub metric: &'static str,
    /// The score in [0, 1]; `None` when undefined (a constant column's correlation).
    pub score: Option<f64>,
    /// Pearson r (numerical pairs) or Cramér's V (others) of the real table.
    pub real_relation: Option<f64>,
    /// Whether the real relation is strong enough for the pair to count (SDMetrics).
    pub meets_threshold: bool,
}

/// |r_real| above this makes a numerical pair count (SDMetrics' QualityReport).
pub const CORRELATION_THRESHOLD: f64 = 0.5;
/// Cramér's V of the real table above this makes another pair count.
pub const ASSOCIATION_THRESHOLD: f64 = 0.3;

/// Missing-value rates of one column.
#[derive(Debug, Clone, Serialize)]
pub struct MissingRates {
    /// Column name.
    pub column: String,
    /// Share missing in the real table.
    pub real: f64,
    /// Share missing in the synthetic table.
    pub synthetic: f64,
}

fn present(values: &Values) -> Vec<f64> {
    (0..values.len()).filter_map(|i| values.number(i)).collect()
}

/// The two-sample Kolmogorov–Smirnov statistic.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut d) = (0, 0, 0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// Total-variation distance between the frequencies of two samples of keys.
pub fn total_variation<K: std::hash::Hash + Eq>(a: &[K], b: &[K]) -> f64 {
    let mut counts: HashMap<&K, (f64, f64)> = HashMap::new();
    for k in a {
        counts.entry(k).or_default().0 += 1.0;
    }
    for k in b {
        counts.entry(k).or_default().1 += 1.0;
    }
    let (na, nb) = (a.len().max(1) as f64, b.len().max(1) as f64);
    0.5 * counts
        .values()
        .map(|(x, y)| (x / na - y / nb).abs())
        .sum::<f64>()
}

/// Pearson correlation over rows where both are present; `None` when a column is constant.
fn pearson(x: &Values, y: &Values) -> Option<f64> {
    let constant = |v: &Values| {
        let xs = present(v);
        xs.iter().all(|&a| a == xs[0])
    };
    if constant(x) || constant(y) {
        return None;
    }
    let pairs: Vec<(f64, f64)> = (0..x.len())
        .filter_map(|i| Some((x.number(i)?, y.number(i)?)))
        .collect();
    let n = pairs.len() as f64;
    if n < 2.0 {
        return None;
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in &pairs {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Cramér's V of the contingency table of two key columns (Pearson χ², no correction).
fn cramers_v(a: &[Option<String>], b: &[Option<String>]) -> Option<f64> {
    let mut cells: HashMap<(&Option<String>, &Option<String>), f64> = HashMap::new();
    let mut rows: HashMap<&Option<String>, f64> = HashMap::new();
    let mut cols: HashMap<&Option<String>, f64> = HashMap::new();
    for (x, y) in a.iter().zip(b) {
        *cells.entry((x, y)).or_default() += 1.0;
        *rows.entry(x).or_default() += 1.0;
        *cols.entry(y).or_default() += 1.0;
    }
    let n = a.len() as f64;
    if rows.len() < 2 || cols.len() < 2 || n == 0.0 {
        return None;
    }
    let mut chi2 = 0.0;
    for (x, rx) in &rows {
        for (y, cy) in &cols {
            let expected = rx * cy / n;
            let observed = cells.get(&(*x, *y)).copied().unwrap_or(0.0);
            chi2 += (observed - expected).powi(2) / expected;
        }
    }
    Some((chi2 / n / (rows.len().min(cols.len()) - 1) as f64).sqrt())
}

/// A column as discrete keys: categories as text (missing: `None`), numbers as numpy's
/// `digitize` codes over 10 equal-width bins between the column's min and max (1..=10, the
/// maximum and missing values 11).
fn discrete_keys(values: &Values, shape: Shape) -> Vec<Option<String>> {
    match shape {
        Shape::Categorical => (0..values.len()).map(|i| values.key(i)).collect(),
        Shape::Numerical => {
            let xs = present(values);
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (lo, hi) = if lo == hi {
                (lo - 0.5, hi + 0.5)
            } else {
                (lo, hi)
            };
            let edges: Vec<f64> = (0..=10).map(|k| lo + (hi - lo) * k as f64 / 10.0).collect();
            (0..values.len())
                .map(|i| {
                    let code = match values.number(i) {
                        Some(x) => edges.partition_point(|&e| e <= x),
                        None => edges.len(), // NaN sorts above every edge
                    };
                    Some(code.to_string())
                })
                .collect()
        }
    }
}

/// Scores `synthetic` against `real`; both have the same columns in the same order.
pub fn fidelity(real: &Table, synthetic: &Table) -> FidelityReport {
    let shapes_of: Vec<Shape> = real.columns.iter().map(|c| shape_of(&c.values)).collect();
    let mut shapes = Vec::new();
    let mut missing = Vec::new();
    for ((r, s), &shape) in real.columns.iter().zip(&synthetic.columns).zip(&shapes_of) {
        let score = match shape {
            Shape::Numerical => (
                "KSComplement",
                1.0 - ks_statistic(&present(&r.values), &present(&s.values)),
            ),
            Shape::Categorical => {
                let keys = |v: &Values| (0..v.len()).filter_map(|i| v.key(i)).collect::<Vec<_>>();
                (
                    "TVComplement",
                    1.0 - total_variation(&keys(&r.values), &keys(&s.values)),
                )
            }
        };
        shapes.push(ColumnScore {
            column: r.name.clone(),
            metric: score.0,
            score: score.1,
        });
        let rate = |v: &Values| (v.len() - v.non_null_count()) as f64 / v.len().max(1) as f64;
        missing.push(MissingRates {
            column: r.name.clone(),
            real: rate(&r.values),
            synthetic: rate(&s.values),
        });
    }
    let real_keys: Vec<_> = real
        .columns
        .iter()
        .zip(&shapes_of)
        .map(|(c, &s)| discrete_keys(&c.values, s))
        .collect();
    let synth_keys: Vec<_> = synthetic
        .columns
        .iter()
        .zip(&shapes_of)
        .map(|(c, &s)| discrete_keys(&c.values, s))
        .collect();
    let mut pairs = Vec::new();
    for a in 0..real.columns.len() {
        for b in a + 1..real.columns.len() {
            let (metric, score, real_relation, meets) =
                if shapes_of[a] == Shape::Numerical && shapes_of[b] == Shape::Numerical {
                    let r = pearson(&real.columns[a].values, &real.columns[b].values);
                    let s = pearson(&synthetic.columns[a].values, &synthetic.columns[b].values);
                    (
                        "CorrelationSimilarity",
                        r.zip(s).map(|(r, s)| 1.0 - (r - s).abs() / 2.0),
                        r,
                        r.is_some_and(|r| r.abs() > CORRELATION_THRESHOLD) && s.is_some(),
                    )
                } else {
                    let joint = |keys: &Vec<Vec<Option<String>>>| {
                        keys[a]
                            .iter()
                            .zip(&keys[b])
                            .map(|(x, y)| (x.clone(), y.clone()))
                            .collect::<Vec<_>>()
                    };
                    let v = cramers_v(&real_keys[a], &real_keys[b]);
                    (
                        "ContingencySimilarity",
                        Some(1.0 - total_variation(&joint(&real_keys), &joint(&synth_keys))),
                        v,
                        v.is_some_and(|v| v > ASSOCIATION_THRESHOLD),
                    )
                };
            pairs.push(PairScore {
                column_1: real.columns[a].name.clone(),
                column_2: real.columns[b].name.clone(),
                metric,
                score,
                real_relation,
                meets_threshold: meets,
            });
        }
    }
    let mean = |xs: Vec<f64>| {
        if xs.is_empty() {
            f64::NAN
        } else {
            xs.iter().sum::<f64>() / xs.len() as f64
        }
    };
    let column_shapes = mean(shapes.iter().map(|s| s.score).collect());
    let column_pair_trends = mean(
        pairs
            .iter()
            .filter(|p| p.meets_threshold)
            .filter_map(|p| p.score)
            .collect(),
    );
    let column_pair_trends_all = mean(pairs.iter().filter_map(|p| p.score).collect());
    let overall = if column_pair_trends.is_nan() {
        column_shapes
    } else {
        0.5 * (column_shapes + column_pair_trends)
    };
    FidelityReport {
        overall,
        column_shapes,
        column_pair_trends,
        column_pair_trends_all,
        shapes,
        pairs,
        missing,
    }
}

/// Pairwise association of a table's columns: |Pearson r| for two numerical columns,
/// Cramér's V otherwise (numerical columns binned as for pair trends). For heatmaps.
pub struct AssociationMatrix {
    /// Column names, in order.
    pub names: Vec<String>,
    /// `values[i][j]`; `None` where undefined (a constant column).
    pub values: Vec<Vec<Option<f64>>>,
}

/// The association matrix of `table`.
pub fn association_matrix(table: &Table) -> AssociationMatrix {
    let shapes: Vec<Shape> = table.columns.iter().map(|c| shape_of(&c.values)).collect();
    let keys: Vec<_> = table
        .columns
        .iter()
        .zip(&shapes)
        .map(|(c, &s)| discrete_keys(&c.values, s))
        .collect();
    let k = table.columns.len();
    let mut values = vec![vec![Some(1.0); k]; k];
    for a in 0..k {
        for b in a + 1..k {
            let v = if shapes[a] == Shape::Numerical && shapes[b] == Shape::Numerical {
                pearson(&table.columns[a].values, &table.columns[b].values).map(f64::abs)
            } else {
                cramers_v(&keys[a], &keys[b])
            };
            values[a][b] = v;
            values[b][a] = v;
        }
    }
    AssociationMatrix {
        names: table.columns.iter().map(|c| c.name.clone()).collect(),
        values,
    }
}
