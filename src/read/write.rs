//! Writing tables to CSV or Parquet in chunks, through a temporary file renamed into place at
//! the end, so an interrupted run never leaves a partial file under the final name.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{
    Column as PlColumn, CsvWriter, DataFrame, DataType, IntoColumn, NamedFrom, ParquetWriter,
    SerWriter, Series, TimeUnit,
};

use super::{is_parquet, Table, Values};
use crate::atomic::temporary_sibling;
use crate::error::{Error, Result};

fn unit_of(name: &str) -> TimeUnit {
    match name {
        "ns" => TimeUnit::Nanoseconds,
        "ms" => TimeUnit::Milliseconds,
        _ => TimeUnit::Microseconds,
    }
}

/// Converts a [`Table`] to a polars frame with the original types. With `csv_text`, datetime
/// columns that remember their input's text form ([`crate::read::ValueType::Datetime`]'s
/// `format`) and number columns that do ([`crate::read::Column::form`]) become text in that
/// form, so a CSV round trip keeps it.
pub fn table_to_frame(
    table: &Table,
    csv_text: bool,
) -> std::result::Result<DataFrame, polars::error::PolarsError> {
    let mut cols: Vec<PlColumn> = Vec::with_capacity(table.columns.len());
    for c in &table.columns {
        let name = c.name.as_str().into();
        let text = match (&c.form, csv_text) {
            (Some(form), true) => form.write(&c.values),
            _ => None,
        };
        if let Some(text) = text {
            cols.push(Series::new(name, text).into_column());
            continue;
        }
        let series = match &c.values {
            Values::Datetime {
                values,
                unit,
                format: Some(format),
                ..
            } if csv_text => {
                let text: Vec<Option<String>> = values
                    .iter()
                    .map(|v| v.and_then(|x| super::datetime::format_value(x, unit, format)))
                    .collect();
                Series::new(name, text)
            }
            Values::Text(v) => Series::new(name, v),
            Values::Bool(v) => Series::new(name, v),
            Values::Int(v) => Series::new(name, v),
            Values::Float(v) => Series::new(name, v),
            Values::Date(v) => Series::new(name, v).cast(&DataType::Date)?,
            Values::Datetime {
                values, unit, tz, ..
            } => Series::new(name, values).cast(&DataType::Datetime(
                unit_of(unit),
                polars::prelude::TimeZone::opt_try_new(tz.as_deref())?,
            ))?,
        };
        cols.push(series.into_column());
    }
    DataFrame::new(table.n_rows(), cols)
}

#[allow(clippy::large_enum_variant)] // one per output file
enum Sink {
    Csv {
        file: File,
        wrote_header: bool,
    },
    Parquet(polars::io::parquet::write::BatchedWriter<File>),
    /// CSV to standard output (`-o -`), for a pipe.
    Stdout {
        wrote_header: bool,
    },
    Pending,
}

/// Writes chunks of rows to one CSV or Parquet file (chosen by extension), or as CSV to
/// standard output when the path is `-`.
pub struct TableWriter {
    path: PathBuf,
    tmp: PathBuf,
    sink: Sink,
    parquet: bool,
    /// Byte between a CSV's fields (`,` unless [`TableWriter::with_delimiter`] says).
    separator: u8,
}

impl TableWriter {
    /// Opens a temporary file beside `path`.
    pub fn create(path: &Path) -> Result<Self> {
        if path == Path::new("-") {
            return Ok(TableWriter {
                path: path.to_owned(),
                tmp: path.to_owned(),
                sink: Sink::Stdout {
                    wrote_header: false,
                },
                parquet: false,
                separator: b',',
            });
        }
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !matches!(extension.as_deref(), Some("csv" | "parquet" | "pq")) {
            return Err(Error::table(
                path,
                format!(
                    "{}: the output format is chosen by the extension, and the supported ones are .csv and .parquet (or .pq)",
                    match &extension {
                        Some(e) => format!("unknown extension '.{e}'"),
                        None => "no extension".to_string(),
                    }
                ),
            ));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(dir, "creating the directory", e))?;
        }
        let tmp = temporary_sibling(path);
        File::create(&tmp).map_err(|e| Error::io(path, "creating the output", e))?;
        Ok(TableWriter {
            path: path.to_owned(),
            tmp,
            sink: Sink::Pending,
            parquet: is_parquet(path),
            separator: b',',
        })
    }

    /// Writes CSV with `delimiter` between fields (the training table's: a semicolon file
    /// comes back with semicolons); one that is not a single ASCII character keeps `,`.
    pub fn with_delimiter(mut self, delimiter: &str) -> Self {
        if let [b] = delimiter.as_bytes() {
            self.separator = *b;
        }
        self
    }

    /// Appends a chunk of rows.
    pub fn write(&mut self, table: &Table) -> Result<()> {
        let fail = |e: polars::error::PolarsError| {
            Error::table(&self.path, format!("writing failed: {e}"))
        };
        let mut frame = table_to_frame(table, !self.parquet).map_err(fail)?;
        if matches!(self.sink, Sink::Pending) {
            let file = File::create(&self.tmp)
                .map_err(|e| Error::io(&self.path, "creating the output", e))?;
            self.sink = if self.parquet {
                Sink::Parquet(
                    ParquetWriter::new(file)
                        .batched(frame.schema())
                        .map_err(fail)?,
                )
            } else {
                Sink::Csv {
                    file,
                    wrote_header: false,
                }
            };
        }
        match &mut self.sink {
            Sink::Csv { file, wrote_header } => {
                CsvWriter::new(file)
                    .with_separator(self.separator)
                    .include_header(!*wrote_header)
                    .finish(&mut frame)
                    .map_err(fail)?;
                *wrote_header = true;
            }
            Sink::Parquet(w) => w.write_batch(&frame).map_err(fail)?,
            Sink::Stdout { wrote_header } => {
                CsvWriter::new(std::io::stdout().lock())
                    .with_separator(self.separator)
                    .include_header(!*wrote_header)
                    .finish(&mut frame)
                    .map_err(fail)?;
                *wrote_header = true;
            }
            Sink::Pending => unreachable!("opened above"),
        }
        Ok(())
    }

    /// Flushes and renames the file into place.
    pub fn finish(mut self) -> Result<()> {
        let path = self.path.clone();
        let fail =
            |e: polars::error::PolarsError| Error::table(&path, format!("writing failed: {e}"));
        match std::mem::replace(&mut self.sink, Sink::Pending) {
            Sink::Csv { file, .. } => file
                .sync_all()
                .map_err(|e| Error::io(&path, "writing", e))?,
            Sink::Parquet(w) => {
                w.finish().map_err(fail)?;
            }
            Sink::Stdout { .. } => {
                use std::io::Write;
                return std::io::stdout()
                    .flush()
                    .map_err(|e| Error::io(&path, "writing to standard output", e));
            }
            Sink::Pending => {}
        }
        std::fs::rename(&self.tmp, &self.path)
            .map_err(|e| Error::io(&self.path, "renaming into place", e))
    }
}

impl Drop for TableWriter {
    fn drop(&mut self) {
        // After a successful finish the temporary name no longer exists; otherwise clean up.
        if matches!(self.sink, Sink::Stdout { .. }) || self.tmp == Path::new("-") {
            return;
        }
        let _ = std::fs::remove_file(&self.tmp);
    }
}
