//! Utility: train the same model on the synthetic rows and on the real training rows, test
//! both on real holdout rows, side by side. smartcore's logistic regression for a categorical
//! target (accuracy, macro-F1, and ROC-AUC when binary), linear regression for a numerical one
//! (R²). Features: numerical columns standardised by the real table (missing: the mean),
//! categorical columns one-hot over the real table's 50 most frequent values.

use std::collections::HashMap;

use serde::Serialize;
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::linear_regression::{LinearRegression, LinearRegressionParameters};
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

use super::{shape_of, Shape};
use crate::error::{Error, Result};
use crate::read::Table;

/// Most one-hot values per categorical feature column.
const MAX_LEVELS: usize = 50;
/// Rows each model trains on at most (every k-th row beyond it): smartcore's solver takes
/// about a minute on all 26,048 Adult rows and a few seconds on this many.
pub const TRAIN_ROW_CAP: usize = 4000;

fn capped(table: &Table) -> Table {
    let n = table.n_rows();
    if n <= TRAIN_ROW_CAP {
        return table.clone();
    }
    let rows: Vec<usize> = (0..TRAIN_ROW_CAP).map(|i| i * n / TRAIN_ROW_CAP).collect();
    table.take_rows(&rows)
}

/// Scores of one model, tested on the holdout.
#[derive(Debug, Clone, Serialize)]
pub struct ModelScores {
    /// Classification accuracy (categorical target).
    pub accuracy: Option<f64>,
    /// Macro-averaged F1 (categorical target).
    pub macro_f1: Option<f64>,
    /// ROC-AUC (binary target).
    pub roc_auc: Option<f64>,
    /// Coefficient of determination (numerical target).
    pub r2: Option<f64>,
}

/// Train-on-synthetic vs train-on-real, both tested on the holdout.
#[derive(Debug, Clone, Serialize)]
pub struct UtilityReport {
    /// The target column.
    pub target: String,
    /// The model used.
    pub model: &'static str,
    /// Trained on the synthetic rows.
    pub synthetic: ModelScores,
    /// Trained on the real training rows.
    pub real: ModelScores,
}

enum Feature {
    Numeric { mean: f64, std: f64 },
    OneHot(HashMap<String, usize>),
}

struct Encoding {
    columns: Vec<(usize, Feature)>,
    width: usize,
}

impl Encoding {
    fn fit(real: &Table, target: usize) -> Encoding {
        let mut columns = Vec::new();
        let mut width = 0;
        for (i, c) in real.columns.iter().enumerate() {
            if i == target {
                continue;
            }
            let feature = match shape_of(&c.values) {
                Shape::Numerical => {
                    let xs: Vec<f64> = (0..c.values.len())
                        .filter_map(|r| c.values.number(r))
                        .collect();
                    let mean = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
                    let var =
                        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len().max(1) as f64;
                    width += 1;
                    Feature::Numeric {
                        mean,
                        std: if var > 0.0 { var.sqrt() } else { 1.0 },
                    }
                }
                Shape::Categorical => {
                    let mut counts: HashMap<String, usize> = HashMap::new();
                    for r in 0..c.values.len() {
                        if let Some(k) = c.values.key(r) {
                            *counts.entry(k).or_default() += 1;
                        }
                    }
                    let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
                    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    let levels: HashMap<String, usize> = ranked
                        .into_iter()
                        .take(MAX_LEVELS)
                        .enumerate()
                        .map(|(j, (k, _))| (k, width + j))
                        .collect();
                    width += levels.len();
                    Feature::OneHot(levels)
                }
            };
            columns.push((i, feature));
        }
        Encoding { columns, width }
    }

    fn matrix(&self, table: &Table) -> Result<DenseMatrix<f64>> {
        let n = table.n_rows();
        let mut rows = vec![vec![0.0; self.width]; n];
        let mut offset = 0;
        for (i, feature) in &self.columns {
            let values = &table.columns[*i].values;
            match feature {
                Feature::Numeric { mean, std } => {
                    for (r, row) in rows.iter_mut().enumerate() {
                        row[offset] = values.number(r).map_or(0.0, |x| (x - mean) / std);
                    }
                    offset += 1;
                }
                Feature::OneHot(levels) => {
                    for (r, row) in rows.iter_mut().enumerate() {
                        if let Some(&j) = values.key(r).as_ref().and_then(|k| levels.get(k)) {
                            row[j] = 1.0;
                        }
                    }
                    offset += levels.len();
                }
            }
        }
        DenseMatrix::from_2d_vec(&rows).map_err(|e| Error::Evaluation(format!("features: {e}")))
    }
}

fn macro_f1(truth: &[u32], predicted: &[u32], classes: usize) -> f64 {
    let mut total = 0.0;
    for c in 0..classes as u32 {
        let tp = truth
            .iter()
            .zip(predicted)
            .filter(|(t, p)| **t == c && **p == c)
            .count() as f64;
        let fp = truth
            .iter()
            .zip(predicted)
            .filter(|(t, p)| **t != c && **p == c)
            .count() as f64;
        let fn_ = truth
            .iter()
            .zip(predicted)
            .filter(|(t, p)| **t == c && **p != c)
            .count() as f64;
        total += if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (2.0 * tp + fp + fn_)
        };
    }
    total / classes as f64
}

fn classify(
    encoding: &Encoding,
    train: &Table,
    test: &Table,
    labels: &dyn Fn(&Table) -> Vec<u32>,
    classes: usize,
) -> Result<ModelScores> {
    let train = capped(train);
    // Rows whose target the real table never had (a DP model's "other" slot, a typo) cannot
    // teach a real class: train without them. In the holdout they stay, counted as errors.
    let known: Vec<usize> = labels(&train)
        .iter()
        .enumerate()
        .filter(|(_, &l)| (l as usize) < classes)
        .map(|(r, _)| r)
        .collect();
    let train = &train.take_rows(&known);
    let (x, y) = (encoding.matrix(train)?, labels(train));
    let distinct: std::collections::BTreeSet<u32> = y.iter().copied().collect();
    if distinct.len() < 2 {
        // A generator that produced one class only: the model predicts it everywhere.
        let only = *distinct.iter().next().unwrap_or(&0);
        let truth = labels(test);
        let predicted = vec![only; truth.len()];
        let accuracy = truth.iter().filter(|&&t| t == only).count() as f64 / truth.len() as f64;
        return Ok(ModelScores {
            accuracy: Some(accuracy),
            macro_f1: Some(macro_f1(&truth, &predicted, classes)),
            roc_auc: (classes == 2).then_some(0.5),
            r2: None,
        });
    }
    let model = LogisticRegression::fit(
        &x,
        &y,
        LogisticRegressionParameters::default().with_alpha(1e-3),
    )
    .map_err(|e| Error::Evaluation(format!("logistic regression: {e}")))?;
    let x_test = encoding.matrix(test)?;
    let truth = labels(test);
    let predicted = model
        .predict(&x_test)
        .map_err(|e| Error::Evaluation(format!("logistic regression: {e}")))?;
    let accuracy =
        truth.iter().zip(&predicted).filter(|(t, p)| t == p).count() as f64 / truth.len() as f64;
    let roc_auc = (classes == 2 && distinct.len() == 2).then(|| {
        // The model's score for class 1 (its classes are sorted, ours are 0 and 1).
        let coef = model.coefficients();
        let intercept = *model.intercept().get((0, 0));
        let scores: Vec<f64> = (0..truth.len())
            .map(|r| {
                (0..encoding.width)
                    .map(|j| x_test.get((r, j)) * coef.get((0, j)))
                    .sum::<f64>()
                    + intercept
            })
            .collect();
        let pos: Vec<f64> = scores
            .iter()
            .zip(&truth)
            .filter(|(_, t)| **t == 1)
            .map(|(s, _)| *s)
            .collect();
        let neg: Vec<f64> = scores
            .iter()
            .zip(&truth)
            .filter(|(_, t)| **t == 0)
            .map(|(s, _)| *s)
            .collect();
        super::privacy::auc(&pos, &neg)
    });
    Ok(ModelScores {
        accuracy: Some(accuracy),
        macro_f1: Some(macro_f1(&truth, &predicted, classes)),
        roc_auc,
        r2: None,
    })
}

fn regress(encoding: &Encoding, train: &Table, test: &Table, target: usize) -> Result<ModelScores> {
    let keep = |t: &Table| -> (Table, Vec<f64>) {
        let rows: Vec<usize> = (0..t.n_rows())
            .filter(|&r| t.columns[target].values.number(r).is_some())
            .collect();
        let kept = t.take_rows(&rows);
        let y = (0..kept.n_rows())
            .map(|r| kept.columns[target].values.number(r).unwrap_or(0.0))
            .collect();
        (kept, y)
    };
    let (train, y) = keep(&capped(train));
    let (test, truth) = keep(test);
    let model = LinearRegression::fit(
        &encoding.matrix(&train)?,
        &y,
        LinearRegressionParameters::default(),
    )
    .map_err(|e| Error::Evaluation(format!("linear regression: {e}")))?;
    let predicted = model
        .predict(&encoding.matrix(&test)?)
        .map_err(|e| Error::Evaluation(format!("linear regression: {e}")))?;
    let mean = truth.iter().sum::<f64>() / truth.len().max(1) as f64;
    let ss_res: f64 = truth
        .iter()
        .zip(&predicted)
        .map(|(t, p)| (t - p).powi(2))
        .sum();
    let ss_tot: f64 = truth.iter().map(|t| (t - mean).powi(2)).sum();
    Ok(ModelScores {
        accuracy: None,
        macro_f1: None,
        roc_auc: None,
        r2: Some(1.0 - ss_res / ss_tot.max(f64::MIN_POSITIVE)),
    })
}

/// Train-on-synthetic vs train-on-real for `target`, tested on `holdout` (all with the real
/// table's columns, in its order).
pub fn utility(
    real: &Table,
    synthetic: &Table,
    holdout: &Table,
    target: &str,
) -> Result<UtilityReport> {
    let Some(t) = real.columns.iter().position(|c| c.name == target) else {
        let names: Vec<&str> = real.columns.iter().map(|c| c.name.as_str()).collect();
        return Err(Error::Evaluation(format!(
            "the target column '{target}' is not in the real table; its columns are: {}",
            names.join(", ")
        )));
    };
    let values = &real.columns[t].values;
    let distinct: std::collections::BTreeSet<String> =
        (0..values.len()).filter_map(|r| values.key(r)).collect();
    if distinct.len() < 2 {
        return Err(Error::Evaluation(format!(
            "the target column '{target}' is constant in the real table; pick a column with at least two values"
        )));
    }
    let encoding = Encoding::fit(real, t);
    let shape = shape_of(values);
    let (model, synthetic_scores, real_scores) = match shape {
        Shape::Categorical => {
            let classes: Vec<String> = distinct.into_iter().collect();
            let index: HashMap<&str, u32> = classes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str(), i as u32))
                .collect();
            // Values the real table never had (or missing) count as a wrong class.
            let unknown = classes.len() as u32;
            let labels = |table: &Table| -> Vec<u32> {
                let v = &table.columns[t].values;
                (0..v.len())
                    .map(|r| {
                        v.key(r)
                            .and_then(|k| index.get(k.as_str()).copied())
                            .unwrap_or(unknown)
                    })
                    .collect()
            };
            (
                "smartcore logistic regression (alpha 1e-3)",
                classify(&encoding, synthetic, holdout, &labels, classes.len())?,
                classify(&encoding, real, holdout, &labels, classes.len())?,
            )
        }
        Shape::Numerical => (
            "smartcore linear regression",
            regress(&encoding, synthetic, holdout, t)?,
            regress(&encoding, real, holdout, t)?,
        ),
    };
    Ok(UtilityReport {
        target: target.into(),
        model,
        synthetic: synthetic_scores,
        real: real_scores,
    })
}
