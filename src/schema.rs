//! What each column is: its value type (how it is stored and written back) and its kind (how it
//! is modelled), inferred from the table and overridable per column in the config.

use serde::{Deserialize, Serialize};

use crate::config::{ColumnKindSetting, PublicColumn, RunConfig, StorageType, MAX_DECIMALS};
use crate::error::{Error, Result};
use crate::lattice::Lattice;
use crate::read::datetime::Calendar;
pub use crate::read::ValueType;
use crate::read::{CellForm, Column, Table, Values};

/// How a column is modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// One-hot categories.
    Discrete,
    /// Mode-specific normalisation.
    Continuous,
}

/// One column's name, type and kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSchema {
    /// The header name, byte for byte.
    pub name: String,
    /// Storage type, restored on output.
    pub value_type: ValueType,
    /// Modelling kind.
    pub kind: ColumnKind,
    /// Decimal places sampled values of a float column are rounded to, so that a column of
    /// whole amounts ("129.0") or cents comes back in that form rather than with 15 digits.
    /// Without DP it is learned from the rows ([`learn_decimals`]); in DP mode it comes only
    /// from the column's public metadata (`decimals`). `None`: full precision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
    /// The lattice sampled values of a numeric column are rounded to when it is coarser than
    /// its decimal places (amounts in hundreds, years of schooling in halves;
    /// [`crate::lattice`]). Without DP it is learned from the rows (every non-zero value
    /// on it); in DP mode measured from a noisy histogram of the values' classes for a column
    /// without public bounds, else `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lattice: Option<Lattice>,
    /// The step (in the column's time unit) sampled values of a datetime column are rounded
    /// to: an hourly column comes back hourly. Learned from the rows without DP
    /// ([`crate::read::datetime::learn_resolution`]); `None` in DP mode and when the values
    /// are finer than a microsecond.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<i64>,
    /// The calendar step sampled values of a date or datetime column are moved to: a monthly
    /// column (every value the first of a month) comes back on the first of a month. Learned
    /// from the rows without DP ([`crate::read::datetime::learn_step`]); in DP mode
    /// measured from a noisy histogram of the values' steps when the column has no public
    /// bounds, else `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<Calendar>,
    /// The text form the input wrote the column's numbers in (`$1,234.50`, `00501`), used
    /// again when writing CSV ([`crate::read::number`]). Read from the rows; in DP mode kept
    /// only where the column's type came from the rows under `privacy.discover` (the ledger
    /// lists it as not covered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<CellForm>,
}

/// The fewest decimal places (up to [`MAX_DECIMALS`]) that write every present value of a
/// float column exactly, as SDV's float formatter learns them: 0 for whole amounts stored as
/// floats, 2 for cents. `None` when some value needs more, or there is none.
pub fn learn_decimals(values: &[Option<f64>]) -> Option<u32> {
    let mut present = values.iter().flatten().peekable();
    present.peek()?;
    let mut needed = 0;
    for &x in present {
        while needed <= MAX_DECIMALS && round_to(x, needed) != x {
            needed += 1;
        }
        if needed > MAX_DECIMALS {
            return None;
        }
    }
    Some(needed)
}

/// `x` rounded to `decimals` decimal places (as the decimal text a CSV writer prints).
pub fn round_to(x: f64, decimals: u32) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    let rounded = (x * scale).round() / scale;
    if rounded.is_finite() {
        rounded
    } else {
        x
    }
}

/// Significant digits a float column of unknown decimal places keeps at its range's largest
/// magnitude ([`fallback_places`]); float32 holds about seven.
pub const FALLBACK_SIGNIFICANT_DIGITS: i32 = 7;

/// Fewest decimal places [`fallback_places`] gives: a column lands there when its values need
/// six places or more (the top class of DP's decimal-places histogram) or more than
/// [`MAX_DECIMALS`] without DP.
pub const FALLBACK_MIN_PLACES: i32 = 6;

/// Decimal places for sampled values of a float column whose places are not known (DP's
/// histogram said six or more, or had too few rows to tell; without DP, values needing more
/// than [`MAX_DECIMALS`]), from the column's sampled range `[lo, hi]`: at least
/// [`FALLBACK_MIN_PLACES`], and more for small values, so that a value at the range's largest
/// magnitude keeps [`FALLBACK_SIGNIFICANT_DIGITS`] significant digits. So `86.14913009040427`
/// minutes come back as `86.14913` and `0.0004927797502363111` (a range up to 0.001) as
/// `0.00049278`, not with every digit of an f64. Uses only the range, which the file
/// releases.
pub fn fallback_places(lo: f64, hi: f64) -> u32 {
    let top = lo.abs().max(hi.abs());
    if !(top > 0.0 && top.is_finite()) {
        return FALLBACK_MIN_PLACES as u32;
    }
    let integer_digits = top.log10().floor() as i32 + 1;
    (FALLBACK_SIGNIFICANT_DIGITS - integer_digits).clamp(FALLBACK_MIN_PLACES, MAX_DECIMALS as i32)
        as u32
}

/// The schema of a whole table, in column order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Columns in input order.
    pub columns: Vec<ColumnSchema>,
}

impl Schema {
    /// Infers each column's kind and applies the config's overrides. Columns forced continuous
    /// that hold text are converted in place (an error names the first value that is not a
    /// number). Errors name config keys for columns that do not exist.
    pub fn infer(table: &mut Table, config: &RunConfig) -> Result<Schema> {
        for name in config.columns.keys() {
            if !table.columns.iter().any(|c| &c.name == name) {
                return Err(Error::unknown_column(
                    "columns",
                    format!("key 'columns.{name}' names a column that is not in the table"),
                    table.columns.iter().map(|c| c.name.as_str()),
                ));
            }
        }
        let mut columns = Vec::with_capacity(table.columns.len());
        for column in &mut table.columns {
            let forced = config.columns.get(&column.name).and_then(|o| o.kind);
            let private = config.privacy.enabled();
            if private {
                if let Some(public) = config.privacy.columns.get(&column.name) {
                    read_declared_type(column, public);
                }
            }
            columns.push(infer_column(
                column,
                forced,
                config.transform.discrete_int_max_distinct,
                private,
            )?);
        }
        Ok(Schema { columns })
    }

    /// Names of the discrete columns, in order.
    pub fn discrete_names(&self) -> Vec<&str> {
        self.columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Discrete)
            .map(|c| c.name.as_str())
            .collect()
    }
}

/// In DP mode, the text cells of a column declared a boolean, date or timestamp in its public
/// metadata (`type`; read as written, [`crate::read::read_table_as_written`]), each read
/// alone: a boolean in the words of the column's `format` or `true`/`false` in any case, a
/// date or timestamp in its `format` or the first known form that reads the cell
/// ([`crate::read::datetime::parse_cell_alone`]). A cell that is none of these is missing, as
/// a word in a column with public bounds is: neither a refusal nor the column's reading may
/// depend on one row.
fn read_declared_type(column: &mut Column, public: &PublicColumn) {
    let Values::Text(cells) = &column.values else {
        return;
    };
    let format = public.format.as_deref();
    column.values = match public.storage {
        None => return,
        Some(StorageType::Bool) => {
            let words = public.bool_words();
            Values::Bool(
                cells
                    .iter()
                    .map(|c| {
                        let c = c.as_deref()?.trim();
                        match &words {
                            Some((t, _)) if c == t => Some(true),
                            Some((_, f)) if c == f => Some(false),
                            _ if c.eq_ignore_ascii_case("true") => Some(true),
                            _ if c.eq_ignore_ascii_case("false") => Some(false),
                            _ => None,
                        }
                    })
                    .collect(),
            )
        }
        Some(StorageType::Date) => Values::Date(
            cells
                .iter()
                .map(|c| {
                    let us = crate::read::datetime::parse_cell_alone(c.as_deref()?, format)?;
                    let per_day = 86_400 * crate::read::datetime::per_second("us");
                    i32::try_from(us.div_euclid(per_day)).ok()
                })
                .collect(),
        ),
        Some(StorageType::Datetime) => Values::Datetime {
            values: cells
                .iter()
                .map(|c| crate::read::datetime::parse_cell_alone(c.as_deref()?, format))
                .collect(),
            unit: "us".into(),
            tz: None,
            format: format.map(str::to_string),
        },
    };
    column.form = None;
}

/// Infers one column's schema. In DP mode (`private`) nothing here may refuse a table for what
/// its rows hold, since whether a run releases anything would then depend on them: a column
/// whose every value is missing is kept (its noisy null count decides what is sampled), and a
/// NaN or infinite float, or a cell that is no number in a column forced continuous, is read as
/// a missing value, one row at a time.
fn infer_column(
    column: &mut Column,
    forced: Option<ColumnKindSetting>,
    int_max_distinct: usize,
    private: bool,
) -> Result<ColumnSchema> {
    if private {
        if let Values::Float(values) = &mut column.values {
            for v in values.iter_mut() {
                if v.is_some_and(|x| !x.is_finite()) {
                    *v = None;
                }
            }
        }
    } else if column.values.non_null_count() == 0 {
        return Err(Error::column(
            &column.name,
            "every value is missing; drop the column or fill it before training",
        ));
    }
    if let Values::Float(values) = &column.values {
        if let Some(row) = values
            .iter()
            .position(|v| v.is_some_and(|x| !x.is_finite()))
        {
            return Err(Error::column(
                &column.name,
                format!(
                    "row {} holds NaN or infinity; replace it with a number or leave the cell empty to mark it missing",
                    row + 1
                ),
            ));
        }
    }
    if forced == Some(ColumnKindSetting::Discrete) {
        // Categories are the cells as written (`00501`, `$5.10`), not the numbers read
        // from them: a public list of categories names them that way.
        let number_form = column.form.as_ref().filter(|f| f.number().is_some());
        if let Some(text) = number_form.and_then(|f| f.write(&column.values)) {
            column.values = Values::Text(text);
            column.form = None;
        }
    }
    if forced == Some(ColumnKindSetting::Continuous) {
        if let Values::Text(values) = &column.values {
            let mut parsed = Vec::with_capacity(values.len());
            for (row, v) in values.iter().enumerate() {
                parsed.push(match v {
                    None => None,
                    // Each cell read alone (`$1,250.00` as 1250, whatever the other rows
                    // hold). In DP mode a cell that is no number is missing, as NaN is: a
                    // refusal would make whether anything is released depend on it.
                    Some(s) => match crate::read::number::parse_cell_alone(s) {
                        Some(x) => Some(x),
                        None if private
                            || crate::read::number::MISSING_MARKERS.contains(&s.trim()) =>
                        {
                            None
                        }
                        None => {
                            return Err(Error::column(
                                &column.name,
                                format!(
                                    "is forced continuous in the config but row {} holds the non-numeric text {s:?}; fix the value or make the column discrete",
                                    row + 1
                                ),
                            ))
                        }
                    },
                });
            }
            column.values = Values::Float(parsed);
        }
        if let Values::Bool(_) = column.values {
            return Err(Error::column(
                &column.name,
                "is boolean and cannot be continuous; remove its `kind = \"continuous\"` override",
            ));
        }
    }
    let value_type = column.values.value_type();
    let kind = match forced {
        Some(ColumnKindSetting::Discrete) => ColumnKind::Discrete,
        Some(ColumnKindSetting::Continuous) => ColumnKind::Continuous,
        None => match &column.values {
            Values::Text(_) | Values::Bool(_) => ColumnKind::Discrete,
            Values::Float(_) | Values::Date(_) | Values::Datetime { .. } => ColumnKind::Continuous,
            Values::Int(values) => {
                let mut distinct = std::collections::HashSet::new();
                for v in values.iter().flatten() {
                    distinct.insert(*v);
                    if distinct.len() > int_max_distinct {
                        break;
                    }
                }
                if distinct.len() <= int_max_distinct {
                    ColumnKind::Discrete
                } else {
                    ColumnKind::Continuous
                }
            }
        },
    };
    let decimals = match &column.values {
        Values::Float(values) if kind == ColumnKind::Continuous => learn_decimals(values),
        _ => None,
    };
    let lattice = match &column.values {
        _ if kind != ColumnKind::Continuous => None,
        Values::Int(values) => crate::lattice::learn(values.iter().flatten().map(|&x| x as f64), 0),
        Values::Float(values) => {
            decimals.and_then(|d| crate::lattice::learn(values.iter().flatten().copied(), d))
        }
        _ => None,
    };
    let resolution = match &column.values {
        Values::Datetime { values, unit, .. } if kind == ColumnKind::Continuous => {
            crate::read::datetime::learn_resolution(values, unit)
        }
        _ => None,
    };
    let calendar = match &column.values {
        Values::Date(values) if kind == ColumnKind::Continuous => {
            crate::read::datetime::learn_step(values.iter().flatten().map(|&d| d as i64), None)
                .and_then(|s| s.calendar)
        }
        Values::Datetime { values, unit, .. } if kind == ColumnKind::Continuous => {
            crate::read::datetime::learn_step(values.iter().flatten().copied(), Some(unit))
                .and_then(|s| s.calendar)
        }
        _ => None,
    };
    Ok(ColumnSchema {
        name: column.name.clone(),
        value_type,
        kind,
        decimals,
        lattice,
        resolution,
        calendar,
        form: column.form.clone(),
    })
}

/// A column name as the ledger and `inspect` print it: an empty one (the header R and pandas
/// write over a table's row names) as `(unnamed column)`, so that a list does not show a bare
/// comma.
pub fn shown(name: &str) -> std::borrow::Cow<'_, str> {
    if name.trim().is_empty() {
        std::borrow::Cow::Owned(format!(
            "(unnamed column{})",
            if name.is_empty() { "" } else { " of spaces" }
        ))
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// A column name as a TOML key, for the `[privacy.columns.KEY]` a message asks the user to
/// write: bare when TOML allows it (letters, digits, `_` and `-`), else quoted with `"` and
/// `\` escaped (an empty name, row names' header, becomes `""`).
pub fn toml_key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
    if bare {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_places_keep_seven_significant_digits_at_the_range_top_and_at_least_six() {
        assert_eq!(fallback_places(0.0, 100.0), 6);
        assert_eq!(
            round_to(86.149_130_090_404_27, fallback_places(0.0, 120.0)),
            86.149_13
        );
        // A range up to 0.001: nine places, 0.0004927797502363111 -> 0.00049278.
        assert_eq!(fallback_places(-0.0005, 0.001), 9);
        assert_eq!(round_to(0.000_492_779_750_236_311_1, 9), 0.000_492_78);
        // Large magnitudes keep six places; tiny ones stop at MAX_DECIMALS; no range: six.
        assert_eq!(fallback_places(-1e300, 1e300), 6);
        assert_eq!(fallback_places(0.0, 1e-12), MAX_DECIMALS);
        assert_eq!(fallback_places(0.0, 0.0), 6);
        assert_eq!(fallback_places(f64::NEG_INFINITY, 1.0), 6);
    }
}
