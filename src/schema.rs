//! What each column is: its value type (how it is stored and written back) and its kind (how it
//! is modelled), inferred from the table and overridable per column in the config.

use serde::{Deserialize, Serialize};

use crate::config::{ColumnKindSetting, RunConfig};
use crate::error::{Error, Result};
pub use crate::read::ValueType;
use crate::read::{Column, Table, Values};

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
                let known: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
                return Err(Error::config(
                    "columns",
                    format!(
                        "key 'columns.{name}' names a column that is not in the table; its columns are: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        let mut columns = Vec::with_capacity(table.columns.len());
        for column in &mut table.columns {
            let forced = config.columns.get(&column.name).and_then(|o| o.kind);
            columns.push(infer_column(
                column,
                forced,
                config.transform.discrete_int_max_distinct,
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

fn infer_column(
    column: &mut Column,
    forced: Option<ColumnKindSetting>,
    int_max_distinct: usize,
) -> Result<ColumnSchema> {
    if column.values.non_null_count() == 0 {
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
    if forced == Some(ColumnKindSetting::Continuous) {
        if let Values::Text(values) = &column.values {
            let mut parsed = Vec::with_capacity(values.len());
            for (row, v) in values.iter().enumerate() {
                parsed.push(match v {
                    None => None,
                    Some(s) => match s.trim().parse::<f64>() {
                        Ok(x) if x.is_finite() => Some(x),
                        _ => {
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
    Ok(ColumnSchema {
        name: column.name.clone(),
        value_type,
        kind,
    })
}
