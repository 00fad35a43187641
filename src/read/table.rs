//! The in-memory table that the rest of the pipeline sees: named columns of typed, nullable
//! values. Polars is only used at the edges (reading and writing files).

use serde::{Deserialize, Serialize};

use super::form::CellForm;

/// How a column's values are stored in the input and restored in the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// UTF-8 text, restored byte for byte.
    Text,
    /// true/false.
    Bool,
    /// 64-bit integers; continuous integers are rounded on the way back.
    Int,
    /// 64-bit floats.
    Float,
    /// Calendar dates (days since 1970-01-01).
    Date,
    /// Timestamps in `unit` ("ns", "us" or "ms") with an optional time zone.
    Datetime {
        /// Time unit of the stored integer.
        unit: String,
        /// Time zone, when the input had one.
        tz: Option<String>,
        /// The text form of the values in the input CSV, as a chrono pattern
        /// (`%Y-%m-%dT%H:%M:%SZ`), used again when writing CSV; `None`: polars' ISO form.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
    },
}

/// A column's values, by storage type. `None` is a missing value.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Text, byte for byte.
    Text(Vec<Option<String>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// Integers.
    Int(Vec<Option<i64>>),
    /// Floats.
    Float(Vec<Option<f64>>),
    /// Days since 1970-01-01.
    Date(Vec<Option<i32>>),
    /// Timestamps as integers in `unit`.
    Datetime {
        /// The stored integers.
        values: Vec<Option<i64>>,
        /// "ns", "us" or "ms".
        unit: String,
        /// Time zone, if any.
        tz: Option<String>,
        /// Text form in CSV (see [`ValueType::Datetime`]).
        format: Option<String>,
    },
}

/// One named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header name, byte for byte.
    pub name: String,
    /// The values.
    pub values: Values,
    /// The text form the input wrote these numbers (`$1,234.50`, `00501`, `?` for a missing
    /// value) or booleans (`TRUE`) in, used again when writing CSV; `None`: as polars writes.
    pub form: Option<CellForm>,
}

impl Column {
    /// A column without a text form.
    pub fn new(name: impl Into<String>, values: Values) -> Column {
        Column {
            name: name.into(),
            values,
            form: None,
        }
    }
}

/// A table: columns of equal length, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The columns.
    pub columns: Vec<Column>,
}

impl Table {
    /// Number of rows (0 for a table without columns).
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Keeps only the rows at `rows` (in that order).
    pub fn take_rows(&self, rows: &[usize]) -> Table {
        Table {
            columns: self
                .columns
                .iter()
                .map(|c| Column {
                    name: c.name.clone(),
                    values: c.values.take(rows),
                    form: c.form.clone(),
                })
                .collect(),
        }
    }
}

impl Values {
    /// Number of values, missing ones included.
    pub fn len(&self) -> usize {
        match self {
            Values::Text(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Date(v) => v.len(),
            Values::Datetime { values, .. } => values.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether value `i` is missing.
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            Values::Text(v) => v[i].is_none(),
            Values::Bool(v) => v[i].is_none(),
            Values::Int(v) => v[i].is_none(),
            Values::Float(v) => v[i].is_none(),
            Values::Date(v) => v[i].is_none(),
            Values::Datetime { values, .. } => values[i].is_none(),
        }
    }

    /// Number of values that are present.
    pub fn non_null_count(&self) -> usize {
        (0..self.len()).filter(|&i| !self.is_null(i)).count()
    }

    /// The storage type these values restore to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Values::Text(_) => ValueType::Text,
            Values::Bool(_) => ValueType::Bool,
            Values::Int(_) => ValueType::Int,
            Values::Float(_) => ValueType::Float,
            Values::Date(_) => ValueType::Date,
            Values::Datetime {
                unit, tz, format, ..
            } => ValueType::Datetime {
                unit: unit.clone(),
                tz: tz.clone(),
                format: format.clone(),
            },
        }
    }

    /// Value `i` as a category key (its text form), `None` when missing. Keys round-trip
    /// through [`Values::from_keys`].
    pub fn key(&self, i: usize) -> Option<String> {
        match self {
            Values::Text(v) => v[i].clone(),
            Values::Bool(v) => v[i].map(|b| b.to_string()),
            Values::Int(v) => v[i].map(|x| x.to_string()),
            Values::Float(v) => v[i].map(|x| x.to_string()),
            Values::Date(v) => v[i].map(|x| x.to_string()),
            Values::Datetime { values, .. } => values[i].map(|x| x.to_string()),
        }
    }

    /// Clamps numeric values into `[lo, hi]` (integers to the integers inside it); text and
    /// booleans are left alone.
    pub fn clamp_numbers(&mut self, lo: f64, hi: f64) {
        let (ilo, ihi) = (lo.ceil(), hi.floor());
        let clamp_int = |x: i64| (x as f64).clamp(ilo, ihi.max(ilo)) as i64;
        match self {
            Values::Text(_) | Values::Bool(_) => {}
            Values::Float(v) => v.iter_mut().flatten().for_each(|x| *x = x.clamp(lo, hi)),
            Values::Int(v) => v.iter_mut().flatten().for_each(|x| *x = clamp_int(*x)),
            Values::Date(v) => v
                .iter_mut()
                .flatten()
                .for_each(|x| *x = clamp_int(*x as i64) as i32),
            Values::Datetime { values, .. } => {
                values.iter_mut().flatten().for_each(|x| *x = clamp_int(*x))
            }
        }
    }

    /// Marks every value missing (a column with no usable values, as DP preprocessing decides).
    pub fn clear(&mut self) {
        match self {
            Values::Text(v) => v.fill(None),
            Values::Bool(v) => v.fill(None),
            Values::Float(v) => v.fill(None),
            Values::Int(v) => v.fill(None),
            Values::Date(v) => v.fill(None),
            Values::Datetime { values, .. } => values.fill(None),
        }
    }

    /// Value `i` as a number for continuous modelling, `None` when missing or text.
    pub fn number(&self, i: usize) -> Option<f64> {
        match self {
            Values::Text(_) => None,
            Values::Bool(v) => v[i].map(|b| b as u8 as f64),
            Values::Int(v) => v[i].map(|x| x as f64),
            Values::Float(v) => v[i],
            Values::Date(v) => v[i].map(|x| x as f64),
            Values::Datetime { values, .. } => values[i].map(|x| x as f64),
        }
    }

    /// Builds values of type `ty` from category keys made by [`Values::key`].
    pub fn from_keys(ty: &ValueType, keys: Vec<Option<&str>>) -> Values {
        fn parse<T: std::str::FromStr>(keys: &[Option<&str>]) -> Vec<Option<T>> {
            keys.iter()
                .map(|k| k.and_then(|s| s.parse().ok()))
                .collect()
        }
        match ty {
            ValueType::Text => Values::Text(keys.iter().map(|k| k.map(str::to_owned)).collect()),
            ValueType::Bool => Values::Bool(parse(&keys)),
            ValueType::Int => Values::Int(parse(&keys)),
            ValueType::Float => Values::Float(parse(&keys)),
            ValueType::Date => Values::Date(parse(&keys)),
            ValueType::Datetime { unit, tz, format } => Values::Datetime {
                values: parse(&keys),
                unit: unit.clone(),
                tz: tz.clone(),
                format: format.clone(),
            },
        }
    }

    /// Builds values of type `ty` from numbers, rounding for integer-backed types.
    pub fn from_numbers(ty: &ValueType, numbers: Vec<Option<f64>>) -> Values {
        let round = |v: &Option<f64>| v.map(|x| x.round() as i64);
        match ty {
            ValueType::Text => {
                Values::Text(numbers.iter().map(|v| v.map(|x| x.to_string())).collect())
            }
            ValueType::Bool => Values::Bool(numbers.iter().map(|v| v.map(|x| x >= 0.5)).collect()),
            ValueType::Int => Values::Int(numbers.iter().map(round).collect()),
            ValueType::Float => Values::Float(numbers),
            ValueType::Date => Values::Date(
                numbers
                    .iter()
                    .map(|v| v.map(|x| x.round() as i32))
                    .collect(),
            ),
            ValueType::Datetime { unit, tz, format } => Values::Datetime {
                values: numbers.iter().map(round).collect(),
                unit: unit.clone(),
                tz: tz.clone(),
                format: format.clone(),
            },
        }
    }

    /// The values at `rows`, in that order.
    pub fn take(&self, rows: &[usize]) -> Values {
        fn pick<T: Clone>(v: &[T], rows: &[usize]) -> Vec<T> {
            rows.iter().map(|&r| v[r].clone()).collect()
        }
        match self {
            Values::Text(v) => Values::Text(pick(v, rows)),
            Values::Bool(v) => Values::Bool(pick(v, rows)),
            Values::Int(v) => Values::Int(pick(v, rows)),
            Values::Float(v) => Values::Float(pick(v, rows)),
            Values::Date(v) => Values::Date(pick(v, rows)),
            Values::Datetime {
                values,
                unit,
                tz,
                format,
            } => Values::Datetime {
                values: pick(values, rows),
                unit: unit.clone(),
                tz: tz.clone(),
                format: format.clone(),
            },
        }
    }
}
