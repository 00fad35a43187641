//! `dpsynth evaluate`: does a synthetic table look like the real one (fidelity, with
//! SDMetrics' definitions so numbers compare with published ones), and does it leak training
//! rows (distances to closest records, exact copies, a membership-inference score)?

pub mod fidelity;
pub mod privacy;
pub mod report;
pub mod utility;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::read::{Table, Values};
pub use fidelity::FidelityReport;
pub use privacy::PrivacyReport;
pub use utility::UtilityReport;

/// How a column is compared: SDMetrics' "categorical" or "numerical".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// Text and booleans: frequencies of values.
    Categorical,
    /// Numbers, dates and times: distributions of values.
    Numerical,
}

/// The shape of a column, from its storage type.
pub fn shape_of(values: &Values) -> Shape {
    match values {
        Values::Text(_) | Values::Bool(_) => Shape::Categorical,
        _ => Shape::Numerical,
    }
}

/// Everything `evaluate` reports.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationReport {
    /// Rows of each table.
    pub rows: RowCounts,
    /// Fidelity of synthetic vs real.
    pub fidelity: FidelityReport,
    /// Leakage measures, when a holdout was given.
    pub privacy: Option<PrivacyReport>,
    /// Train-on-synthetic vs train-on-real, when a target and a holdout were given.
    pub utility: Option<UtilityReport>,
}

/// Row counts of the compared tables.
#[derive(Debug, Clone, Serialize)]
pub struct RowCounts {
    /// Real (training) rows.
    pub real: usize,
    /// Synthetic rows.
    pub synthetic: usize,
    /// Holdout rows, if any.
    pub holdout: Option<usize>,
}

/// Checks that `other` has the columns of `real`, in any order, and returns it reordered to
/// `real`'s order. `what` names `other` in errors.
pub fn align_columns(real: &Table, other: Table, what: &str) -> Result<Table> {
    let missing: Vec<&str> = real
        .columns
        .iter()
        .filter(|c| other.column(&c.name).is_none())
        .map(|c| c.name.as_str())
        .collect();
    let extra: Vec<&str> = other
        .columns
        .iter()
        .filter(|c| real.column(&c.name).is_none())
        .map(|c| c.name.as_str())
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(Error::Evaluation(format!(
            "the {what} table's columns differ from the real table's: missing {}, unexpected {}{}",
            if missing.is_empty() {
                "-".into()
            } else {
                missing.join(", ")
            },
            if extra.is_empty() {
                "-".into()
            } else {
                extra.join(", ")
            },
            if missing.is_empty() {
                ""
            } else {
                "; if the generator was trained with columns left out (data.drop), pass its file with --model to read the real rows as training did"
            }
        )));
    }
    if other.n_rows() == 0 {
        return Err(Error::Evaluation(format!(
            "the {what} table has no rows; nothing to evaluate"
        )));
    }
    let mut other = other;
    let columns = real
        .columns
        .iter()
        .map(|c| {
            let at = other
                .columns
                .iter()
                .position(|o| o.name == c.name)
                .expect("checked above");
            other.columns.swap_remove(at)
        })
        .collect();
    Ok(Table { columns })
}

/// Scores `synthetic` against `real` (and `holdout`, for the privacy measures and, with a
/// `target` column, utility). Returns the report and the synthetic table in `real`'s column
/// order.
pub fn evaluate_with(
    real: &Table,
    synthetic: Table,
    holdout: Option<Table>,
    target: Option<&str>,
) -> Result<(EvaluationReport, Table)> {
    if real.n_rows() == 0 {
        return Err(Error::Evaluation("the real table has no rows".into()));
    }
    let synthetic = align_columns(real, synthetic, "synthetic")?;
    let holdout = holdout
        .map(|h| align_columns(real, h, "holdout"))
        .transpose()?;
    let fidelity = fidelity::fidelity(real, &synthetic);
    let privacy = holdout
        .as_ref()
        .map(|h| privacy::privacy(real, &synthetic, h));
    let utility = match (target, &holdout) {
        (Some(t), Some(h)) => Some(utility::utility(real, &synthetic, h, t)?),
        (Some(t), None) => {
            return Err(Error::Evaluation(format!(
            "--target {t} needs --holdout: utility is measured on real rows the models never saw"
        )))
        }
        (None, _) => None,
    };
    let report = EvaluationReport {
        rows: RowCounts {
            real: real.n_rows(),
            synthetic: synthetic.n_rows(),
            holdout: holdout.as_ref().map(Table::n_rows),
        },
        fidelity,
        privacy,
        utility,
    };
    Ok((report, synthetic))
}

/// [`evaluate_with`] without a utility target, keeping only the report.
pub fn evaluate(
    real: &Table,
    synthetic: Table,
    holdout: Option<Table>,
) -> Result<EvaluationReport> {
    evaluate_with(real, synthetic, holdout, None).map(|(report, _)| report)
}
