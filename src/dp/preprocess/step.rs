//! A date's or timestamp's step (monthly, daily, hourly) under DP, from a noisy histogram of
//! the finest unit each value needs.

use super::PreprocessLedger;
use crate::dp::bounds;
use crate::read::Values;

/// A date or timestamp column's histogram of steps, each value counted in its
/// [`crate::read::datetime::step_class`] (first or last of a year or a month, midnight,
/// hour, minute, second, finer), and the column's time unit (`None` for dates). To be noised as one slot
/// of the bounds group, then read by [`set_step`].
pub(super) fn step_histogram(values: &Values) -> (Vec<f64>, Option<String>) {
    use crate::read::datetime::{step_class, STEP_CLASSES};
    let mut classes = vec![0.0; STEP_CLASSES];
    let unit = match values {
        Values::Date(v) => {
            for &d in v.iter().flatten() {
                classes[step_class(d as i64, None)] += 1.0;
            }
            None
        }
        Values::Datetime {
            values: v, unit, ..
        } => {
            for &x in v.iter().flatten() {
                classes[step_class(x, Some(unit))] += 1.0;
            }
            Some(unit.clone())
        }
        _ => None,
    };
    (classes, unit)
}

/// From a noisy step histogram ([`step_histogram`], noise std `std`) and the public row count
/// `rows`: the coarsest step of [`crate::read::datetime::STEPS`] outside which the counts are
/// few ([`bounds::few_outside`]: 1% of the rows plus three deviations), and inside which they
/// clear three deviations, sets the column's
/// calendar step and the fixed step sampled values are rounded to (post-processing). The
/// ledger lists it among the storage types decided under DP.
pub(super) fn set_step(
    noisy: &[f64],
    unit: Option<&str>,
    cs: &mut crate::schema::ColumnSchema,
    ledger: &mut PreprocessLedger,
    std: f64,
    rows: f64,
) {
    use crate::read::datetime::STEPS;
    let step = STEPS
        .iter()
        .find(|step| {
            let (inside, outside): (Vec<usize>, Vec<usize>) =
                (0..noisy.len()).partition(|c| step.covers.contains(c));
            let held: f64 = inside.iter().map(|&c| noisy[c]).sum();
            let outside: Vec<f64> = outside.iter().map(|&c| noisy[c]).collect();
            // A step is taken only where its own values clear the noise, so that on a table
            // too small for the noise no step is taken rather than the coarsest one.
            held > 3.0 * std * (inside.len() as f64).sqrt()
                && bounds::few_outside(&outside, std, rows)
        })
        .unwrap_or(&STEPS[STEPS.len() - 1]);
    cs.calendar = step.calendar;
    cs.resolution = step.in_unit(unit);
    ledger
        .typed_under_dp
        .push(format!("{}: {}", crate::schema::shown(&cs.name), step.name));
}
