//! Reading tables from CSV or Parquet (through polars) into the pipeline's [`Table`], and writing
//! sampled tables back in the input's column order and types.

pub mod datetime;
pub mod encoding;
pub mod form;
pub mod number;
mod table;
mod write;

use std::path::Path;

use polars::prelude::{
    CsvParseOptions, CsvReadOptions, DataFrame, DataType, Field, NullValues, ParquetReader, Schema,
    SerReader, TimeUnit,
};

use crate::config::DataConfig;
use crate::error::{Error, Result};
pub use form::CellForm;
pub use number::NumberForm;
pub use table::{Column, Table, ValueType, Values};
pub use write::{table_to_frame, TableWriter};

/// Whether `path` names a Parquet file (by extension).
pub fn is_parquet(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("parquet") | Some("pq")
    )
}

/// Reads a CSV or Parquet table. Errors name the file and say what to change.
pub fn read_table(path: &Path, options: &DataConfig) -> Result<Table> {
    read_table_noted(path, options).map(|(table, _)| table)
}

/// [`read_table`], and a line for the terminal about each text column read as numbers or
/// dates with a few other cells missing ([`number::mostly_numbers`],
/// [`datetime::parse_text_column_mostly`]): what reading decided that the user may not expect.
pub fn read_table_noted(path: &Path, options: &DataConfig) -> Result<(Table, Vec<String>)> {
    read_table_as_written(path, options, &[])
}

/// How training reads its table under `config`: [`read_table_as_written`] with the columns a
/// DP run reads from their public metadata ([`crate::config::PrivacyConfig::read_alone`];
/// none without DP), and the notes of [`read_table_noted`].
pub fn read_training_table(
    path: &Path,
    config: &crate::config::RunConfig,
) -> Result<(Table, Vec<String>)> {
    read_table_as_written(path, &config.data, &config.privacy.read_alone())
}

/// [`read_table_noted`], with the columns named in `as_written` left as the text of their
/// cells, byte for byte (missing where empty or in `data.null_values`): no type or text form
/// is inferred for them from the other rows. A DP run reads so the columns whose kind and
/// storage type are public ([`crate::config::PrivacyConfig::read_alone`]); the schema then
/// reads each of their cells alone (`crate::schema`), so that how one cell is read never
/// depends on what the other rows hold. Parquet columns keep the file's own types (its schema
/// is the file's, not read from the cells).
pub fn read_table_as_written(
    path: &Path,
    options: &DataConfig,
    as_written: &[String],
) -> Result<(Table, Vec<String>)> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, "opening the table", e))?;
    if meta.len() == 0 {
        return Err(Error::table(
            path,
            "the file is empty; give a table with a header and rows",
        ));
    }
    let (frame, formats, int_forms, written) = if is_parquet(path) {
        let file =
            std::fs::File::open(path).map_err(|e| Error::io(path, "opening the table", e))?;
        let frame = ParquetReader::new(file)
            .finish()
            .map_err(|e| Error::table(path, format!("cannot read it as Parquet: {e}")))?;
        (frame, Vec::new(), Vec::new(), Vec::new())
    } else {
        let encoding = encoding::Encoding::parse(&options.encoding).ok_or_else(|| {
            Error::config(
                "data.encoding",
                format!(
                    "{:?} is not an encoding dpsynth reads; give one of {}",
                    options.encoding,
                    encoding::ENCODINGS.join(", ")
                ),
            )
        })?;
        // A file in another encoding is read from a UTF-8 copy; errors name the file given.
        let decoded = match encoding {
            encoding::Encoding::Utf8 => None,
            other => Some(DecodedCopy::write(path, other)?),
        };
        let csv = decoded.as_ref().map_or(path, |d| d.path.as_path());
        let read = sniff_delimiter(csv, options).and_then(|sniffed| {
            let options = sniffed.as_ref().unwrap_or(options);
            let (frame, formats, forms) = read_csv(csv, options)?;
            let cells = cells_as_written(csv, options, &frame, as_written)?;
            Ok((frame, formats, forms, cells))
        });
        match read {
            Ok(read) => read,
            Err(Error::Table { message, .. }) if decoded.is_some() => {
                return Err(Error::table(path, message))
            }
            Err(e) => {
                encoding::check_utf8(path)?;
                return Err(e);
            }
        }
    };
    let mut table = frame_to_table(&frame, path)?;
    for (name, text_form) in formats {
        if let Some(Values::Datetime {
            format,
            values,
            unit,
            ..
        }) = table
            .columns
            .iter_mut()
            .find(|c| c.name == name)
            .map(|c| &mut c.values)
        {
            // A form with a literal UTC offset writes clock times: the instants polars read
            // are moved to them.
            if let Some(seconds) = datetime::literal_offset(&text_form) {
                let per_second = datetime::per_second(unit);
                for v in values.iter_mut().flatten() {
                    *v += seconds * per_second;
                }
            }
            *format = Some(text_form);
        }
    }
    for (name, form) in int_forms {
        if let Some(column) = table.columns.iter_mut().find(|c| c.name == name) {
            column.form = Some(form);
        }
    }
    for (name, cells) in written {
        if let Some(column) = table.columns.iter_mut().find(|c| c.name == name) {
            column.values = Values::Text(cells);
            column.form = None;
        }
    }
    let mostly = read_text_forms(&mut table, as_written);
    drop_columns(&mut table, &options.drop, path)?;
    let notes = mostly
        .into_iter()
        .filter(|(name, _)| table.columns.iter().any(|c| &c.name == name))
        .map(|(_, note)| note)
        .collect();
    let table = drop_blank_rows(table);
    if table.columns.is_empty() {
        return Err(Error::table(path, "the table has no columns"));
    }
    if table.n_rows() == 0 {
        return Err(Error::table(
            path,
            "the table has a header but no rows; give at least one row of data",
        ));
    }
    if table.columns.len() == 1 && !is_parquet(path) {
        let name = &table.columns[0].name;
        if let Some(sep) = [';', '\t', '|', ',']
            .into_iter()
            .find(|c| name.contains(*c))
        {
            return Err(Error::table(
                path,
                format!(
                    "only one column was found, and its header {name:?} contains {sep:?}; set `data.delimiter = {:?}` in the config",
                    sep.to_string()
                ),
            ));
        }
    }
    Ok((table, notes))
}

/// A UTF-8 copy of a CSV file in another encoding, in the temporary directory, removed when
/// dropped.
struct DecodedCopy {
    path: std::path::PathBuf,
}

impl DecodedCopy {
    /// Decodes `source` from `encoding` into a new temporary file.
    fn write(source: &Path, encoding: encoding::Encoding) -> Result<DecodedCopy> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let bytes = std::fs::read(source).map_err(|e| Error::io(source, "reading the table", e))?;
        let path = std::env::temp_dir().join(format!(
            ".dpsynth-decoded-{}-{}.csv",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, encoding.decode(&bytes))
            .map_err(|e| Error::io(&path, "writing a UTF-8 copy of the table", e))?;
        Ok(DecodedCopy { path })
    }
}

impl Drop for DecodedCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Removes the columns `data.drop` names; an error names one the table does not have.
fn drop_columns(table: &mut Table, drop: &[String], path: &Path) -> Result<()> {
    for name in drop {
        if !table.columns.iter().any(|c| &c.name == name) {
            return Err(Error::unknown_column(
                "data.drop",
                format!(
                    "names {name:?}, which is not a column of {}",
                    path.display()
                ),
                table.columns.iter().map(|c| c.name.as_str()),
            ));
        }
    }
    table.columns.retain(|c| !drop.contains(&c.name));
    Ok(())
}

/// Text columns whose every cell is a number in one text form (`$1,234.50`, `45.2%`, a
/// numeric column with `?` for missing) become number columns that remember the form
/// ([`number::detect`]); those whose every cell is a date, a time of day or a timestamp in a
/// form polars leaves as text (`10/25/2020`, `18:07`) become timestamps that remember theirs
/// ([`datetime::parse_text_column`]).
fn read_text_forms(table: &mut Table, as_written: &[String]) -> Vec<(String, String)> {
    let mostly_note = |name: &str, kind: &str| {
        format!(
            "note: {name:?} is read as {kind}: its cells that are not (under {:.0}% of them: words such as \"unknown\" or \"<5\") are read as missing; name them in data.null_values to say so and silence this note",
            100.0 * (1.0 - number::MOSTLY_NUMBERS_SHARE)
        )
    };
    let mut notes = Vec::new();
    for column in &mut table.columns {
        let Values::Text(cells) = &column.values else {
            continue;
        };
        if as_written.contains(&column.name) {
            continue;
        }
        let present: Vec<&str> = cells.iter().flatten().map(String::as_str).collect();
        if let Some(form) = number::detect(&present) {
            if let Some(values) = number::parse_column(cells, &form) {
                column.values = values;
                column.form = Some(CellForm::Number(form));
                continue;
            }
        }
        if let Some((format, values)) = datetime::parse_text_column(cells) {
            column.values = Values::Datetime {
                values,
                unit: "us".into(),
                tz: None,
                format: Some(format),
            };
            continue;
        }
        // Durations written as clocks that no time of day reads (`27:10:00`, `24:34`):
        // counts of their last unit, written back as clocks.
        if let Some(form) = number::detect_clock(&present) {
            if let Some(values) = number::parse_column(cells, &form) {
                column.values = values;
                column.form = Some(CellForm::Number(form));
                continue;
            }
        }
        // Numbers padded with spaces or written with a plus sign (` 42`, `42 `, `+42`, as
        // fixed-width exports write them): polars left them text, each a rare category.
        // Read without the padding and signs, and written back without them.
        let trimmed: Vec<Option<String>> = cells
            .iter()
            .map(|c| {
                let t = c.as_deref()?.trim();
                let t = t.strip_prefix('+').unwrap_or(t);
                (!t.is_empty()).then(|| t.to_string())
            })
            .collect();
        if trimmed != *cells {
            let present: Vec<&str> = trimmed.iter().flatten().map(String::as_str).collect();
            let exact = number::exact_form(&present)
                .and_then(|form| Some((number::parse_column(&trimmed, &form)?, form)));
            if let Some((values, form)) = exact {
                column.values = values;
                column.form = Some(CellForm::Number(form));
                notes.push((
                    column.name.clone(),
                    format!(
                        "note: {:?} is read as numbers without the spaces or plus signs around its digits (written back without them)",
                        column.name
                    ),
                ));
                continue;
            }
        }
        let numbers = number::mostly_numbers(cells).or_else(|| {
            (trimmed != *cells)
                .then(|| number::mostly_numbers(&trimmed))
                .flatten()
        });
        if let Some((form, values)) = numbers {
            column.values = values;
            column.form = Some(CellForm::Number(form));
            notes.push((column.name.clone(), mostly_note(&column.name, "numbers")));
        } else if let Some((format, values)) = datetime::parse_text_column_mostly(cells) {
            column.values = Values::Datetime {
                values,
                unit: "us".into(),
                tz: None,
                format: Some(format),
            };
            notes.push((column.name.clone(), mostly_note(&column.name, "dates")));
        }
    }
    notes
}

/// Delimiters tried when the header line holds no comma.
const OTHER_DELIMITERS: [char; 3] = [';', '\t', '|'];

/// With the default delimiter (","), a header line that holds no comma outside quotes but
/// does hold one of [`OTHER_DELIMITERS`] (a semicolon CSV as spreadsheets write it in much of
/// Europe, a TSV) is read with the one it holds most often: the options to read with, or
/// `None` to keep `options`. Only the header line is looked at (column names: the schema),
/// and a file whose header has a comma is read exactly as before.
fn sniff_delimiter(path: &Path, options: &DataConfig) -> Result<Option<DataConfig>> {
    if options.delimiter != "," || !options.has_header {
        return Ok(None);
    }
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, "opening the table", e))?;
    let mut header = Vec::new();
    std::io::BufReader::new(file)
        .read_until(b'\n', &mut header)
        .map_err(|e| Error::io(path, "reading the header line", e))?;
    let header = String::from_utf8_lossy(&header);
    let quote = options.quote.chars().next();
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for c in header.chars() {
        if Some(c) == quote {
            quoted = !quoted;
        } else if !quoted {
            if c == ',' {
                counts[3] += 1;
            } else if let Some(i) = OTHER_DELIMITERS.iter().position(|&d| d == c) {
                counts[i] += 1;
            }
        }
    }
    if counts[3] > 0 {
        return Ok(None);
    }
    let best = (0..3).max_by_key(|&i| (counts[i], std::cmp::Reverse(i)));
    Ok(best.filter(|&i| counts[i] > 0).map(|i| DataConfig {
        delimiter: OTHER_DELIMITERS[i].to_string(),
        ..options.clone()
    }))
}

/// The delimiter a CSV at `path` is read with under `options`: `options.delimiter`, or the
/// one its header line holds where that is not a comma (`sniff_delimiter`). From the header
/// line alone (column names: the schema). `None` for a Parquet file or one that cannot be
/// opened (reading it names the error).
pub fn written_delimiter(path: &Path, options: &DataConfig) -> Option<String> {
    if is_parquet(path) {
        return None;
    }
    match sniff_delimiter(path, options).ok()? {
        Some(sniffed) => Some(sniffed.delimiter),
        None => Some(options.delimiter.clone()),
    }
}

/// Removes rows in which every value is missing: polars reads a blank CSV line (often a
/// trailing one) as such a row, and it is not data. In a one-column table such a row is also
/// how a missing value is written (pandas writes `""`: statsmodels' co2 series lost its 59
/// missing weeks), so there only the trailing run is removed.
fn drop_blank_rows(table: Table) -> Table {
    let n = table.n_rows();
    let blank = |r: usize| table.columns.iter().all(|c| c.values.is_null(r));
    let keep: Vec<usize> = if table.columns.len() == 1 {
        let end = (0..n).rev().find(|&r| !blank(r)).map_or(0, |r| r + 1);
        (0..end).collect()
    } else {
        (0..n).filter(|&r| !blank(r)).collect()
    };
    if keep.len() == n {
        table
    } else {
        table.take_rows(&keep)
    }
}

fn csv_parse_options(options: &DataConfig) -> CsvParseOptions {
    let separator = options.delimiter.as_bytes()[0];
    let quote = options.quote.as_bytes()[0];
    let nulls = NullValues::AllColumns(
        options
            .null_values
            .iter()
            .map(|s| s.as_str().into())
            .collect(),
    );
    CsvParseOptions::default()
        .with_separator(separator)
        .with_quote_char(Some(quote))
        .with_null_values(Some(nulls))
}

/// Reads a CSV file. Dates and datetimes are parsed only in text columns whose first cells look
/// like them: letting polars try every text column cost 2.3 s of the 2.5 s it took to read
/// Adult (docs/performance.md). Also returns, for each datetime column, the text form its cells
/// are written in ([`datetime::detect_format`]), read from the unparsed cells, and for each
/// integer column written with leading zeros (zip codes `00501`), its zero-padded form.
fn read_csv(path: &Path, options: &DataConfig) -> Result<(DataFrame, TextForms, NumberForms)> {
    let mut frame = read_csv_with(path, options, None, false, None)?;
    let padded = typed_column_forms(path, options, &frame)?;
    let dated: Vec<String> = frame
        .columns()
        .iter()
        .filter(|c| {
            c.as_materialized_series()
                .str()
                .is_ok_and(|s| looks_like_dates(s.iter().flatten().take(DATE_CELLS_CHECKED)))
        })
        .map(|c| c.name().to_string())
        .collect();
    let mut formats = Vec::new();
    if dated.is_empty() {
        return Ok((frame, formats, padded));
    }
    // Types inferred from the first rows: inferring them from every row made polars try its
    // date patterns on every cell of every text column (6 s of a 300,000-row table's 6.3 s
    // read). If a later cell did not parse (an error, or a cell that came back missing), the
    // dated columns are read again with types inferred from every row, as before.
    let quick = read_csv_with(path, options, Some(&dated), true, Some(DATE_INFER_ROWS))
        .ok()
        .filter(|parsed| {
            dated.iter().all(|name| {
                let nulls = |f: &DataFrame| f.column(name).map(|c| c.null_count()).ok();
                nulls(parsed).is_some() && nulls(parsed) == nulls(&frame)
            })
        });
    let parsed = match quick {
        Some(parsed) => parsed,
        None => read_csv_with(path, options, Some(&dated), true, None)?,
    };
    let fail = |name: &str, e: polars::error::PolarsError| {
        Error::table(path, format!("column '{name}': {e}"))
    };
    for name in &dated {
        let column = parsed.column(name).map_err(|e| fail(name, e))?;
        if let DataType::Datetime(unit, _) = column.dtype() {
            let text = frame.column(name).map_err(|e| fail(name, e))?;
            let cells = text
                .as_materialized_series()
                .str()
                .map_err(|e| fail(name, e))?;
            if let Some(f) = datetime::detect_format(cells.iter().flatten(), unit_name(*unit)) {
                formats.push((name.clone(), f));
            }
        }
        if column.dtype() == &DataType::Date && own_date_form(&frame, name) {
            // Dates polars parsed from another form (`2023/07/29`): left text, so that
            // `read_text_forms` reads them in their form and they are written back in it.
            continue;
        }
        if matches!(column.dtype(), DataType::Date | DataType::Datetime(..)) {
            frame
                .replace(name.as_str(), column.clone())
                .map_err(|e| fail(name, e))?;
        }
    }
    Ok((frame, formats, padded))
}

/// Whether the text column `name` of `frame` holds dates that are not ISO (`2023/07/29`; the
/// first cells checked) in a form [`datetime::parse_text_column`] reads and writes back: a
/// form polars would lose by writing them `2023-07-29`.
fn own_date_form(frame: &DataFrame, name: &str) -> bool {
    let Ok(Ok(cells)) = frame
        .column(name)
        .map(|c| c.as_materialized_series().str().cloned())
    else {
        return false;
    };
    let iso = cells.iter().flatten().take(DATE_CELLS_CHECKED).all(|c| {
        chrono::NaiveDate::parse_from_str(c, "%Y-%m-%d")
            .is_ok_and(|d| d.format("%Y-%m-%d").to_string() == c)
    });
    if iso {
        return false;
    }
    let cells: Vec<Option<String>> = cells.iter().map(|c| c.map(str::to_string)).collect();
    datetime::parse_text_column(&cells).is_some()
}

/// Datetime columns' text forms, by column name.
type TextForms = Vec<(String, String)>;
/// Integer and boolean columns' text forms, by column name.
type NumberForms = Vec<(String, CellForm)>;

/// The text form of each integer or boolean column of `frame` whose cells, read again as
/// text, polars would not write back as they were: integers with leading zeros (`00501`;
/// polars read them as numbers without) and booleans written `TRUE`/`FALSE` or
/// `True`/`False` (polars writes `true`/`false`).
fn typed_column_forms(path: &Path, options: &DataConfig, frame: &DataFrame) -> Result<NumberForms> {
    let ints: Vec<String> = frame
        .columns()
        .iter()
        .filter(|c| c.dtype().is_integer() || c.dtype() == &DataType::Boolean)
        .map(|c| c.name().to_string())
        .collect();
    if ints.is_empty() {
        return Ok(Vec::new());
    }
    let text = read_as_text(path, options, &ints, "integer and boolean columns")?;
    let mut forms = Vec::new();
    for column in text.columns() {
        let Ok(cells) = column.as_materialized_series().str() else {
            continue;
        };
        let cells: Vec<&str> = cells.iter().flatten().collect();
        let name = column.name().to_string();
        let boolean = frame
            .column(&name)
            .is_ok_and(|c| c.dtype() == &DataType::Boolean);
        if boolean {
            if let Some(words) = form::bool_words(&cells) {
                forms.push((name, CellForm::Bool(words)));
            }
        } else if let Some(found) = number::detect(&cells) {
            forms.push((name, CellForm::Number(found)));
        }
    }
    Ok(forms)
}

/// The columns `names` of a CSV file, every cell read as text (no type inferred); `what`
/// names them in an error.
fn read_as_text(
    path: &Path,
    options: &DataConfig,
    names: &[String],
    what: &str,
) -> Result<DataFrame> {
    CsvReadOptions::default()
        .with_has_header(options.has_header)
        .with_infer_schema_length(Some(0))
        .with_columns(Some(names.iter().map(|c| c.as_str().into()).collect()))
        .with_parse_options(csv_parse_options(options))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| Error::table(path, format!("reading {what} as text: {e}")))
}

/// The cells of each column of `frame` named in `as_written`, read again as text, byte for
/// byte (empty cells and `data.null_values` missing).
fn cells_as_written(
    path: &Path,
    options: &DataConfig,
    frame: &DataFrame,
    as_written: &[String],
) -> Result<Vec<(String, Vec<Option<String>>)>> {
    let names: Vec<String> = frame
        .get_column_names()
        .into_iter()
        .map(|n| n.to_string())
        .filter(|n| as_written.contains(n))
        .collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let text = read_as_text(path, options, &names, "columns with public metadata")?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let column = text
            .column(&name)
            .map_err(|e| Error::table(path, format!("column '{name}': {e}")))?;
        let cells = column
            .as_materialized_series()
            .str()
            .map_err(|e| Error::table(path, format!("column '{name}': {e}")))?
            .iter()
            .map(|c| c.map(str::to_string))
            .collect();
        out.push((name, cells));
    }
    Ok(out)
}

/// How many cells of a text column [`looks_like_dates`] looks at.
const DATE_CELLS_CHECKED: usize = 100;

/// Whether every one of these cells could be a date or datetime (`2013-01-01`,
/// `2013/01/01 10:00`, `2013-01-01T10:00:00.5Z`): digits first, a date separator, and only
/// digits, separators, `T`, `Z` and spaces.
fn looks_like_dates<'a>(cells: impl Iterator<Item = &'a str>) -> bool {
    let mut any = false;
    for cell in cells {
        let cell = cell.trim();
        let ok = cell.len() >= 8
            && cell.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && (cell.contains('-') || cell.contains('/'))
            && cell
                .bytes()
                .all(|b| b.is_ascii_digit() || b"-/:.TZ +".contains(&b));
        if !ok {
            return false;
        }
        any = true;
    }
    any
}

/// Rows whose cells set a dated column's type in the quick read of [`read_csv`].
const DATE_INFER_ROWS: usize = 10_000;

/// Reads `columns` (all when `None`) of a CSV, parsing dates when `parse_dates`, with types
/// inferred from the first `infer_rows` rows (`None`: from every row).
fn read_csv_with(
    path: &Path,
    options: &DataConfig,
    columns: Option<&[String]>,
    parse_dates: bool,
    infer_rows: Option<usize>,
) -> Result<DataFrame> {
    // Columns read as text because a cell overflows the integer type polars inferred (an
    // id of 20 digits, past i64): polars stops with "could not parse `...` as dtype `i64` at
    // column 'x'", and the file is read again with that column as text.
    let mut text: Vec<String> = Vec::new();
    loop {
        let overwrite = (!text.is_empty()).then(|| {
            std::sync::Arc::new(Schema::from_iter(
                text.iter()
                    .map(|name| Field::new(name.as_str().into(), DataType::String)),
            ))
        });
        let parse = csv_parse_options(options).with_try_parse_dates(parse_dates);
        let read = CsvReadOptions::default()
            .with_has_header(options.has_header)
            .with_infer_schema_length(infer_rows)
            .with_columns(columns.map(|c| c.iter().map(|c| c.as_str().into()).collect()))
            .with_schema_overwrite(overwrite)
            .with_parse_options(parse)
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish());
        match read {
            Ok(frame) => return Ok(frame),
            Err(e) => {
                let message = e.to_string();
                match overflowing_column(&message) {
                    Some(name) if !text.contains(&name) => text.push(name),
                    _ => {
                        return Err(Error::table(
                            path,
                            format!(
                                "cannot parse it as CSV with delimiter {:?} and quote {:?}: {}; check `data.delimiter` and `data.quote`",
                                options.delimiter,
                                options.quote,
                                message.lines().next().unwrap_or_default()
                            ),
                        ))
                    }
                }
            }
        }
    }
}

/// The column named in polars' error for a cell that does not fit the integer type it
/// inferred for that column (`could not parse `…` as dtype `i64` at column 'id'`), if that is
/// the error.
fn overflowing_column(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("as dtype `")?;
    let (dtype, rest) = rest.split_once('`')?;
    if !matches!(dtype, "i64" | "u64" | "i32" | "u32") {
        return None;
    }
    let (_, rest) = rest.split_once("at column '")?;
    let (name, _) = rest.split_once('\'')?;
    Some(name.to_string())
}

fn unit_name(unit: TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Nanoseconds => "ns",
        TimeUnit::Microseconds => "us",
        TimeUnit::Milliseconds => "ms",
    }
}

/// Converts a polars frame to a [`Table`], mapping polars types to the pipeline's.
pub fn frame_to_table(frame: &DataFrame, path: &Path) -> Result<Table> {
    let mut columns = Vec::with_capacity(frame.width());
    for col in frame.columns() {
        // Polars keeps a quoted header's doubled quotes (`"Amount ""USD"""` is named
        // `Amount ""USD""`); the name is `Amount "USD"`, and it is written back so.
        let name = col.name().replace("\"\"", "\"");
        let series = col.as_materialized_series();
        let fail =
            |e: polars::error::PolarsError| Error::table(path, format!("column '{name}': {e}"));
        let values = match series.dtype() {
            DataType::Boolean => Values::Bool(series.bool().map_err(fail)?.iter().collect()),
            DataType::Float32 | DataType::Float64 => Values::Float(
                series
                    .cast(&DataType::Float64)
                    .map_err(fail)?
                    .f64()
                    .map_err(fail)?
                    .iter()
                    .collect(),
            ),
            dt if dt.is_integer() => Values::Int(
                series
                    .cast(&DataType::Int64)
                    .map_err(fail)?
                    .i64()
                    .map_err(fail)?
                    .iter()
                    .collect(),
            ),
            DataType::Date => {
                Values::Date(series.date().map_err(fail)?.physical().iter().collect())
            }
            DataType::Datetime(unit, tz) => Values::Datetime {
                values: series.datetime().map_err(fail)?.physical().iter().collect(),
                unit: unit_name(*unit).into(),
                tz: tz.as_ref().map(|t| t.to_string()),
                format: None,
            },
            DataType::String => Values::Text(
                series
                    .str()
                    .map_err(fail)?
                    .iter()
                    .map(|v| v.map(str::to_owned))
                    .collect(),
            ),
            DataType::Null => Values::Text(vec![None; series.len()]),
            other => {
                let text = series.cast(&DataType::String).map_err(|_| {
                    Error::table(
                        path,
                        format!("column '{name}' has type {other}, which dpsynth cannot model"),
                    )
                })?;
                Values::Text(
                    text.str()
                        .map_err(fail)?
                        .iter()
                        .map(|v| v.map(str::to_owned))
                        .collect(),
                )
            }
        };
        columns.push(Column::new(name, values));
    }
    Ok(Table { columns })
}

/// Appends tables with the same columns, row-wise.
pub fn concat_tables(parts: Vec<Table>) -> Table {
    let mut parts = parts.into_iter();
    let Some(mut out) = parts.next() else {
        return Table {
            columns: Vec::new(),
        };
    };
    for part in parts {
        for (a, b) in out.columns.iter_mut().zip(part.columns) {
            match (&mut a.values, b.values) {
                (Values::Text(x), Values::Text(y)) => x.extend(y),
                (Values::Bool(x), Values::Bool(y)) => x.extend(y),
                (Values::Int(x), Values::Int(y)) => x.extend(y),
                (Values::Float(x), Values::Float(y)) => x.extend(y),
                (Values::Date(x), Values::Date(y)) => x.extend(y),
                (Values::Datetime { values: x, .. }, Values::Datetime { values: y, .. }) => {
                    x.extend(y)
                }
                _ => unreachable!("tables from one transformer have the same column types"),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::looks_like_dates;

    #[test]
    fn a_header_without_commas_picks_the_delimiter_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let read = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            super::read_table(&path, &crate::config::DataConfig::default())
        };
        for (name, text) in [
            ("semi.csv", "city;amount\r\n\"Paris; FR\";1,5\r\nRome;2\r\n"),
            ("tab.tsv", "city\tamount\nParis; FR\t1,5\nRome\t2\n"),
            ("pipe.csv", "city|amount\nParis; FR|1,5\nRome|2\n"),
        ] {
            let table = read(name, text).unwrap();
            let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, ["city", "amount"], "{name}");
            assert_eq!(table.columns[0].values.key(0).as_deref(), Some("Paris; FR"));
            // A decimal comma, as such files write numbers: read as 1.5, written back "1,5".
            assert_eq!(table.columns[1].values.key(0).as_deref(), Some("1.5"));
            assert_eq!(
                table.columns[1]
                    .form
                    .as_ref()
                    .and_then(|f| f.number())
                    .map(|f| f.decimal_mark),
                Some(',')
            );
        }
        // A header with a comma is read with commas, as before, even if it holds semicolons.
        let table = read("comma.csv", "\"a;b\",c\n1,2\n").unwrap();
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a;b", "c"]);
    }

    #[test]
    fn a_quoted_header_with_quotes_in_it_keeps_its_name_and_writes_it_back() {
        // `"Amount ""USD"""` names `Amount "USD"`: polars kept the doubled quotes, and each
        // train-and-sample round doubled them again.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.csv");
        std::fs::write(&path, "\"Amount \"\"USD\"\"\",n\n1.5,2\n").unwrap();
        let table = super::read_table(&path, &crate::config::DataConfig::default()).unwrap();
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Amount \"USD\"", "n"]);
        let out = dir.path().join("back.csv");
        let mut writer = super::TableWriter::create(&out).unwrap();
        writer.write(&table).unwrap();
        writer.finish().unwrap();
        let back = std::fs::read_to_string(&out).unwrap();
        assert_eq!(back.lines().next(), Some("\"Amount \"\"USD\"\"\",n"));
    }

    #[test]
    fn an_id_of_twenty_digits_is_read_as_text_beside_typed_columns() {
        // Ids past i64 (a 20-digit transaction number) after 500 that fit: polars inferred
        // i64 and stopped with its own advice for Python users; now that column is text and
        // the others keep their types.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.csv");
        let mut text = String::from("id,age,amount\n");
        for i in 0..600u64 {
            let id = if i < 500 {
                format!("{}", 1_000_000_000_000 + i)
            } else {
                format!("1171482986292151{:04}", i)
            };
            text.push_str(&format!("{id},{},{}.5\n", 20 + i % 50, i % 90));
        }
        std::fs::write(&path, text).unwrap();
        let table = super::read_table(&path, &crate::config::DataConfig::default()).unwrap();
        assert!(matches!(table.columns[0].values, super::Values::Text(_)));
        assert_eq!(
            table.columns[0].values.key(599).as_deref(),
            Some("11714829862921510599")
        );
        assert!(matches!(table.columns[1].values, super::Values::Int(_)));
        assert!(matches!(table.columns[2].values, super::Values::Float(_)));
        assert_eq!(
            super::overflowing_column(
                "could not parse `1171` as dtype `i64` at column 'id' (column number 1)"
            )
            .as_deref(),
            Some("id")
        );
        assert_eq!(
            super::overflowing_column("found more fields than defined"),
            None
        );
    }

    #[test]
    fn numbers_among_a_few_words_are_read_as_numbers_with_the_words_missing() {
        let dir = tempfile::tempdir().unwrap();
        let read = |name: &str, rows: &dyn Fn(usize) -> String| {
            let path = dir.path().join(name);
            let mut text = String::from("income,code\n");
            for i in 0..200 {
                text.push_str(&rows(i));
                text.push('\n');
            }
            std::fs::write(&path, text).unwrap();
            super::read_table(&path, &crate::config::DataConfig::default()).unwrap()
        };
        // 190 incomes of 100 values and 10 words ("refused", "<5"): numbers, words missing; the
        // code column (12 numbers and a letter in 5% of rows) stays text: its codes are few.
        let table = read("income.csv", &|i| {
            let income = match i % 20 {
                0 => "refused".to_string(),
                10 => "<5".to_string(),
                _ => format!("{}", 1000 + 37 * (i % 100)),
            };
            let code = if i % 20 == 5 {
                "X".to_string()
            } else {
                format!("{}", i % 12)
            };
            format!("{income},{code}")
        });
        let income = &table.columns[0];
        assert!(matches!(income.values, super::Values::Int(_)));
        assert_eq!(income.values.number(1), Some(1037.0));
        assert_eq!(income.values.number(0), None);
        assert_eq!(income.values.number(10), None);
        assert_eq!(income.values.non_null_count(), 180);
        assert!(matches!(table.columns[1].values, super::Values::Text(_)));
        let (_, notes) = super::read_table_noted(
            &dir.path().join("income.csv"),
            &crate::config::DataConfig::default(),
        )
        .unwrap();
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("\"income\" is read as numbers"),
            "{notes:?}"
        );
        // A decimal point makes floats; a fifth of the cells words keeps the column text.
        let table = read("rates.csv", &|i| {
            let rate = if i % 25 == 0 {
                "n.d.".to_string()
            } else {
                format!("{:.2}", i as f64 / 7.0)
            };
            let words = if i % 5 == 0 {
                "other".to_string()
            } else {
                format!("{i}")
            };
            format!("{rate},{words}")
        });
        assert!(matches!(table.columns[0].values, super::Values::Float(_)));
        assert_eq!(table.columns[0].values.number(7), Some(1.0));
        assert!(matches!(table.columns[1].values, super::Values::Text(_)));
        // Dollars with grouping among spreadsheet errors: numbers in their form, written back
        // so; the errors missing.
        let table = read("dollars.csv", &|i| {
            if i % 40 == 9 {
                "#DIV/0!,a".to_string()
            } else {
                format!("\"${},{:03}.50\",a", 1 + i % 70, i)
            }
        });
        let form = table.columns[0]
            .form
            .as_ref()
            .and_then(|f| f.number())
            .unwrap();
        assert!(
            form.words_as_missing && form.grouping == Some(','),
            "{form:?}"
        );
        assert_eq!(table.columns[0].values.number(1), Some(2001.5));
        assert_eq!(table.columns[0].values.number(9), None);
        assert_eq!(form.format_float(2001.5), "$2,001.50");
        // Right-aligned numbers and plus signs, as fixed-width exports write them: numbers; a
        // column of padded words stays text.
        let table = read("padded.csv", &|i| {
            format!(
                "{:>5},{}",
                format!("+{}", i * 3 % 500),
                [" yes", "no "][i % 2]
            )
        });
        assert_eq!(table.columns[0].values.number(7), Some(21.0));
        assert!(matches!(table.columns[0].values, super::Values::Int(_)));
        assert!(matches!(table.columns[1].values, super::Values::Text(_)));
        // Dates (day first) among a few words: dates, written back in their form; a column of
        // eight quarter starts and a word stays text.
        let table = read("dates.csv", &|i| {
            let day = if i % 30 == 7 {
                "pending".to_string()
            } else {
                format!("{:02}/{:02}/2021", 1 + i % 28, 1 + i % 12)
            };
            let quarter = if i % 20 == 0 {
                "tbd".to_string()
            } else {
                format!("01/{:02}/202{}", 1 + 3 * (i % 4), i % 2)
            };
            format!("{day},{quarter}")
        });
        match &table.columns[0].values {
            super::Values::Datetime { values, format, .. } => {
                assert_eq!(format.as_deref(), Some("%d/%m/%Y"));
                assert_eq!(values.iter().filter(|v| v.is_none()).count(), 7);
            }
            other => panic!("not dates: {other:?}"),
        }
        assert!(matches!(table.columns[1].values, super::Values::Text(_)));
    }

    /// The first column of the CSV `text` (written to `path`) read as a datetime: its text
    /// form and its values written back in it.
    fn datetimes_written_back(path: &std::path::Path, text: &str) -> (String, Vec<String>) {
        std::fs::write(path, text).unwrap();
        let table = super::read_table(path, &crate::config::DataConfig::default()).unwrap();
        let super::Values::Datetime {
            values,
            unit,
            format: Some(format),
            ..
        } = &table.columns[0].values
        else {
            panic!("{:?}", table.columns[0]);
        };
        let back = values
            .iter()
            .map(|v| super::datetime::format_value(v.unwrap(), unit, format).unwrap())
            .collect();
        (format.clone(), back)
    }

    #[test]
    fn timestamps_with_one_utc_offset_keep_it_and_their_clock_times() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let (format, back) = datetimes_written_back(
            &path,
            "ts,v\n2022-05-03T07:33:00+02:00,1\n2022-05-03T23:59:00+02:00,2\n",
        );
        assert_eq!(format, "%Y-%m-%dT%H:%M:%S+02:00");
        // Polars' instant was 05:33 UTC; the value is the clock time the cell wrote.
        assert_eq!(
            back,
            ["2022-05-03T07:33:00+02:00", "2022-05-03T23:59:00+02:00"]
        );
        assert_eq!(
            super::datetime::literal_offset("%H:%M-05:30"),
            Some(-19_800)
        );
        assert_eq!(super::datetime::literal_offset("%Y-%m-%dT%H:%M:%SZ"), None);
        // Offsets that change with summer time: the same instants, written at +00:00 in the
        // cells' form (they were written in polars' naive form, `...T05:17:25.000000`).
        let (format, back) = datetimes_written_back(
            &path,
            "ts,v\n2023-03-06T07:17:25+01:00,1\n2023-03-31T00:07:52+02:00,2\n",
        );
        assert_eq!(format, "%Y-%m-%dT%H:%M:%S+00:00");
        assert_eq!(
            back,
            ["2023-03-06T06:17:25+00:00", "2023-03-30T22:07:52+00:00"]
        );
    }

    #[test]
    fn dates_polars_reads_in_another_form_keep_it() {
        // Polars parses `2023/07/29` as a date and writes it `2023-07-29`: the column is
        // read in its own form instead; ISO dates stay polars' dates.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let text = "slash,iso\n2023/07/29,2023-07-29\n2022/01/05,2022-01-05\n";
        let (format, back) = datetimes_written_back(&path, text);
        assert_eq!(format, "%Y/%m/%d");
        assert_eq!(back, ["2023/07/29", "2022/01/05"]);
        let table = super::read_table(&path, &crate::config::DataConfig::default()).unwrap();
        assert!(matches!(table.columns[1].values, super::Values::Date(_)));
        // A form no text format writes back stays polars' date (written ISO), not text.
        std::fs::write(&path, "d\n2023-7-5\n2022-12-25\n").unwrap();
        let table = super::read_table(&path, &crate::config::DataConfig::default()).unwrap();
        assert!(
            !matches!(table.columns[0].values, super::Values::Text(_)),
            "{:?}",
            table.columns[0]
        );
    }

    #[test]
    fn only_date_like_text_is_parsed_as_dates() {
        for dates in [
            &["2013-01-01", "2014-12-31"][..],
            &["2013-01-01T10:00:00Z"],
            &["2013/01/01 10:00", "2013/01/02 11:30:15.5"],
        ] {
            assert!(looks_like_dates(dates.iter().copied()), "{dates:?}");
        }
        for text in [
            &[" Private", " Self-emp"][..],
            &["2013-01-01", "unknown"],
            &["12-3456"],
            &["1234-5678-abc"],
            &[],
        ] {
            assert!(!looks_like_dates(text.iter().copied()), "{text:?}");
        }
    }
}
