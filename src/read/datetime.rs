//! Datetime columns' text form and resolution: what the input CSV wrote
//! (`2013-01-01T10:00:00Z`) and the coarsest step its values fall on (hourly), so that sampled
//! values come back in the same form rather than as `2013-04-26T20:53:31.698210`.

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// Text forms tried, most specific first (a form is kept only if every sampled cell is
/// written back byte for byte in it). Offsets other than `Z` are not kept: polars turns them
/// into one instant, and the offset of each row is lost.
const FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%.3fZ",
    "%Y-%m-%dT%H:%M:%S%.6fZ",
    "%Y-%m-%dT%H:%M:%S%.9fZ",
    "%Y-%m-%dT%H:%MZ",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.3f",
    "%Y-%m-%dT%H:%M:%S%.6f",
    "%Y-%m-%dT%H:%M:%S%.9f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.3f",
    "%Y-%m-%d %H:%M:%S%.6f",
    "%Y-%m-%d %H:%M:%S%.9f",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
];

/// How many cells [`detect_format`] checks.
const CELLS_CHECKED: usize = 1000;

/// The form in `FORMATS` that writes every one of the first cells exactly as it was read,
/// or `None` (then polars' ISO form is used). `unit` is the column's time unit.
pub fn detect_format<'a>(cells: impl Iterator<Item = &'a str>, unit: &str) -> Option<String> {
    let cells: Vec<&str> = cells.take(CELLS_CHECKED).collect();
    if cells.is_empty() {
        return None;
    }
    // Timestamps that all carry one UTC offset (`2022-05-03T07:33:00+02:00`): polars reads
    // them as UTC instants and would write `05:33:00.000000`. The offset is kept as literal
    // text after the form and the values are the clock times it writes ([`literal_offset`]
    // gives the shift back).
    let offset = cells
        .first()
        .and_then(|c| offset_suffix(c))
        .filter(|o| cells.iter().all(|c| offset_suffix(c) == Some(*o)));
    // Offsets that vary (`+01:00` in winter, `+02:00` in summer): polars reads one UTC
    // instant per cell; they are written in the cells' form at offset `+00:00`, the same
    // instants, rather than in polars' naive ISO form without any offset.
    let offsets_vary = offset.is_none() && cells.iter().all(|c| offset_suffix(c).is_some());
    if offsets_vary {
        let clock = |c: &&'a str| -> &'a str { &c[..c.len() - 6] };
        return FORMATS
            .iter()
            .filter(|f| !f.ends_with('Z'))
            .find(|f| {
                cells
                    .iter()
                    .map(clock)
                    .all(|cell| writes_back(cell, f, unit))
            })
            .map(|f| format!("{f}+00:00"));
    }
    let candidates: Vec<String> = match offset {
        Some(o) => FORMATS
            .iter()
            .filter(|f| !f.ends_with('Z'))
            .map(|f| format!("{f}{o}"))
            .collect(),
        None => FORMATS.iter().map(|f| f.to_string()).collect(),
    };
    candidates
        .into_iter()
        .find(|format| cells.iter().all(|cell| writes_back(cell, format, unit)))
}

/// Whether `cell` read as a timestamp in `format` (in `unit`) is written back byte for byte.
fn writes_back(cell: &str, format: &str, unit: &str) -> bool {
    NaiveDateTime::parse_from_str(cell, format).is_ok_and(|t| {
        to_unit(t.and_utc(), unit)
            .and_then(|x| format_value(x, unit, format))
            .is_some_and(|back| back == cell)
    })
}

/// The UTC offset a timestamp cell ends with (`+02:00`, `-05:30`), if any.
fn offset_suffix(cell: &str) -> Option<&str> {
    let tail = cell.get(cell.len().checked_sub(6)?..)?;
    let b = tail.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    (matches!(b[0], b'+' | b'-') && digits(1..3) && b[3] == b':' && digits(4..6)).then_some(tail)
}

/// Seconds east of UTC of a form that ends with a literal offset ([`detect_format`]: `+02:00`
/// gives 7,200): the column's instants are shifted by them to the clock times the form
/// writes. `None` for a form without one.
pub fn literal_offset(format: &str) -> Option<i64> {
    let tail = offset_suffix(format)?;
    let (h, m): (i64, i64) = (tail[1..3].parse().ok()?, tail[4..6].parse().ok()?);
    let seconds = 3600 * h + 60 * m;
    Some(if tail.starts_with('-') {
        -seconds
    } else {
        seconds
    })
}

/// `value` (a count of `unit` since 1970-01-01 UTC) written in `format`; `None` outside
/// chrono's range.
pub fn format_value(value: i64, unit: &str, format: &str) -> Option<String> {
    let time = match unit {
        "ns" => DateTime::from_timestamp_nanos(value),
        "ms" => DateTime::from_timestamp_millis(value)?,
        _ => DateTime::from_timestamp_micros(value)?,
    };
    Some(time.naive_utc().format(format).to_string())
}

fn to_unit(time: DateTime<Utc>, unit: &str) -> Option<i64> {
    match unit {
        "ns" => time.timestamp_nanos_opt(),
        "ms" => Some(time.timestamp_millis()),
        _ => Some(time.timestamp_micros()),
    }
}

/// The coarsest of a day, an hour, a minute, a second, a millisecond and a microsecond (in
/// `unit`) that every present value is a whole multiple of; `None` when the values are finer
/// or there are none. Sampled values are rounded to it.
pub fn learn_resolution(values: &[Option<i64>], unit: &str) -> Option<i64> {
    let per_second: i64 = match unit {
        "ns" => 1_000_000_000,
        "ms" => 1_000,
        _ => 1_000_000,
    };
    let steps = [
        86_400 * per_second,
        3_600 * per_second,
        60 * per_second,
        per_second,
        per_second / 1_000,
        per_second / 1_000_000,
    ];
    let mut present = values.iter().flatten().peekable();
    present.peek()?;
    let mut candidates: Vec<i64> = steps.into_iter().filter(|&s| s > 1).collect();
    for &x in present {
        candidates.retain(|&s| x.rem_euclid(s) == 0);
        if candidates.is_empty() {
            return None;
        }
    }
    candidates.first().copied()
}

/// A step coarser than a day, which no fixed count of time units makes: a monthly column
/// (every value the first of a month at midnight) comes back on the first of a month, a
/// column of month ends (`1967-06-30`, `1967-07-31`) on the last day of a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calendar {
    /// The first of a month.
    Month,
    /// The first of January.
    Year,
    /// The last day of a month.
    MonthEnd,
    /// The 31st of December.
    YearEnd,
}

/// Classes of a date or timestamp's step ([`step_class`]): 0 the first of January, 1 the
/// first of another month, 2 the 31st of December, 3 the last day of another month, 4 another
/// midnight, 5 a whole hour, 6 minute, 7 second, 8 finer.
pub const STEP_CLASSES: usize = 9;

/// One step sampled values can be rounded to: the step classes whose values fall on it, its
/// calendar step and its fixed length in seconds (`None`: finer than a second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// How the ledger names it.
    pub name: &'static str,
    /// The classes of [`step_class`] this step holds.
    pub covers: &'static [usize],
    /// The calendar step, for steps coarser than a day.
    pub calendar: Option<Calendar>,
    /// The fixed step in seconds (a day for the calendar steps).
    pub seconds: Option<i64>,
}

/// The steps, coarsest first; the last holds every value.
pub const STEPS: [Step; 9] = [
    Step {
        name: "yearly (the first of January)",
        covers: &[0],
        calendar: Some(Calendar::Year),
        seconds: Some(86_400),
    },
    Step {
        name: "yearly (the 31st of December)",
        covers: &[2],
        calendar: Some(Calendar::YearEnd),
        seconds: Some(86_400),
    },
    Step {
        name: "monthly (the first of a month)",
        covers: &[0, 1],
        calendar: Some(Calendar::Month),
        seconds: Some(86_400),
    },
    Step {
        name: "monthly (the last day of a month)",
        covers: &[2, 3],
        calendar: Some(Calendar::MonthEnd),
        seconds: Some(86_400),
    },
    Step {
        name: "daily",
        covers: &[0, 1, 2, 3, 4],
        calendar: None,
        seconds: Some(86_400),
    },
    Step {
        name: "hourly",
        covers: &[0, 1, 2, 3, 4, 5],
        calendar: None,
        seconds: Some(3_600),
    },
    Step {
        name: "by the minute",
        covers: &[0, 1, 2, 3, 4, 5, 6],
        calendar: None,
        seconds: Some(60),
    },
    Step {
        name: "by the second",
        covers: &[0, 1, 2, 3, 4, 5, 6, 7],
        calendar: None,
        seconds: Some(1),
    },
    Step {
        name: "finer than a second",
        covers: &[0, 1, 2, 3, 4, 5, 6, 7, 8],
        calendar: None,
        seconds: None,
    },
];

impl Step {
    /// The fixed step in `unit` (`None` for a date column, whose values are whole days, and
    /// for a step finer than a second).
    pub fn in_unit(&self, unit: Option<&str>) -> Option<i64> {
        Some(self.seconds? * per_second(unit?))
    }
}

/// Units per second of `unit` ("ns", "ms", else microseconds).
pub fn per_second(unit: &str) -> i64 {
    match unit {
        "ns" => 1_000_000_000,
        "ms" => 1_000,
        _ => 1_000_000,
    }
}

/// The step class of `value` (see [`STEP_CLASSES`]). `unit` is the timestamp's time unit, or
/// `None` for a date column (`value` in days).
pub fn step_class(value: i64, unit: Option<&str>) -> usize {
    let days = match unit {
        None => value,
        Some(unit) => {
            let second = per_second(unit);
            let day = 86_400 * second;
            let within = value.rem_euclid(day);
            if within != 0 {
                return [3_600 * second, 60 * second, second]
                    .iter()
                    .position(|&s| within % s == 0)
                    .map_or(8, |i| 5 + i);
            }
            value.div_euclid(day)
        }
    };
    let (Some(date), Some(next)) = (day_to_date(days), day_to_date(days + 1)) else {
        return 4;
    };
    match (date.day(), date.month(), next.day()) {
        (1, 1, _) => 0,
        (1, _, _) => 1,
        (_, 12, 1) => 2,
        (_, _, 1) => 3,
        _ => 4,
    }
}

/// The coarsest step of [`STEPS`] that every present value falls on (`None` when there is
/// none). Without DP, sampled values are rounded to it.
pub fn learn_step(values: impl Iterator<Item = i64>, unit: Option<&str>) -> Option<Step> {
    let mut seen = [false; STEP_CLASSES];
    let mut any = false;
    for x in values {
        seen[step_class(x, unit)] = true;
        any = true;
    }
    any.then(|| {
        *STEPS
            .iter()
            .find(|s| (0..STEP_CLASSES).all(|c| !seen[c] || s.covers.contains(&c)))
            .expect("the last step covers every class")
    })
}

/// `value` moved to the nearest day of `calendar` (the first or last of a month or year) at
/// midnight; `unit` as in [`step_class`]. Values outside chrono's range are returned
/// unchanged.
pub fn snap_calendar(value: i64, unit: Option<&str>, calendar: Calendar) -> i64 {
    use chrono::NaiveDate;
    let day_units = unit.map_or(1, |u| 86_400 * per_second(u));
    let Some(date) = day_to_date(value.div_euclid(day_units)) else {
        return value;
    };
    let first_of = |year: i32, month: u32| {
        if month > 12 {
            NaiveDate::from_ymd_opt(year + 1, month - 12, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month, 1)
        }
    };
    let last_of = |year: i32, month: u32| first_of(year, month + 1)?.pred_opt();
    let (year, month) = (date.year(), date.month());
    let (before, after) = match calendar {
        Calendar::Month => (first_of(year, month), first_of(year, month + 1)),
        Calendar::Year => (first_of(year, 1), first_of(year + 1, 1)),
        Calendar::MonthEnd => (
            if month == 1 {
                last_of(year - 1, 12)
            } else {
                last_of(year, month - 1)
            },
            last_of(year, month),
        ),
        Calendar::YearEnd => (last_of(year - 1, 12), last_of(year, 12)),
    };
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch is a date");
    let to_units = |d: NaiveDate| (d - epoch).num_days() * day_units;
    match (before.map(to_units), after.map(to_units)) {
        (Some(a), Some(b)) if value - a <= b - value => a,
        (_, Some(b)) => b,
        (Some(a), None) => a,
        (None, None) => value,
    }
}

/// The date `days` after 1970-01-01, inside chrono's range.
fn day_to_date(days: i64) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?
        .checked_add_signed(chrono::TimeDelta::try_days(days)?)
}

/// Text forms of dates, times and timestamps that polars does not parse (it reads a column as
/// dates only when the year comes first): month first as written in the US, day first as in
/// most of Europe, month names, and times of day. Day-first is tried after month-first, so a
/// column whose every day is 12 or less reads month first.
const TEXT_FORMATS: &[&str] = &[
    "%m/%d/%Y",
    "%-m/%-d/%Y",
    "%d/%m/%Y",
    "%-d/%-m/%Y",
    "%m/%d/%y",
    "%-m/%-d/%y",
    "%d/%m/%y",
    "%d.%m.%Y",
    "%-d.%-m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d %b %Y",
    "%-d %b %Y",
    "%b %d, %Y",
    "%b %-d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %B %Y",
    "%B %d, %Y",
    "%B %-d, %Y",
    // Without the comma: vega-datasets' movies write `Jun 12 1998`.
    "%b %d %Y",
    "%b %-d %Y",
    "%B %d %Y",
    "%B %-d %Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%-m/%-d/%Y %H:%M",
    "%-m/%-d/%Y %-H:%M",
    "%-m/%-d/%Y %H:%M:%S",
    "%-m/%-d/%Y %-I:%M %p",
    "%-m/%-d/%Y %-I:%M:%S %p",
    // Month first with a zero-padded 12-hour clock, as Excel and US exports write it
    // (`05/19/2023 04:09 AM`).
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%H:%M",
    "%H:%M:%S",
    "%-H:%M",
    "%-H:%M:%S",
    "%-I:%M %p",
    // Year first: polars reads these, unless a cell such as `N/A` kept the column text.
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
];

/// What a cell in `format` names, in microseconds since 1970-01-01: a date at midnight, a
/// time of day on 1970-01-01, or a timestamp. `None` if the cell is not in that form.
fn parse_text(cell: &str, format: &str) -> Option<i64> {
    use chrono::{NaiveDate, NaiveTime};
    let has_date = ["%Y", "%y", "%d", "%-d"].iter().any(|f| format.contains(f));
    let has_time = ["%H", "%-H", "%I", "%-I"]
        .iter()
        .any(|f| format.contains(f));
    let time = match (has_date, has_time) {
        (true, true) => NaiveDateTime::parse_from_str(cell, format).ok()?,
        (true, false) => NaiveDate::parse_from_str(cell, format)
            .ok()?
            .and_hms_opt(0, 0, 0)?,
        (false, _) => NaiveDate::from_ymd_opt(1970, 1, 1)?
            .and_time(NaiveTime::parse_from_str(cell, format).ok()?),
    };
    to_unit(time.and_utc(), "us")
}

/// What one cell names, in microseconds since 1970-01-01, read from that cell alone: in
/// `format` when one is given (a column's public `format`), else in the first of the ISO forms
/// polars reads and then [`TEXT_FORMATS`] that reads it (so `03/04/2020` is the 4th of March:
/// a day-first column needs its `format`). `None` for a missing marker or a cell that is no
/// date. A DP run reads the cells of a column declared a date or timestamp so, so that how
/// one cell is read never depends on what the other rows hold.
pub fn parse_cell_alone(cell: &str, format: Option<&str>) -> Option<i64> {
    let cell = cell.trim();
    match format {
        Some(format) => parse_text(cell, format),
        // A timestamp with a UTC offset (`2022-05-03T07:33:00+02:00`) is its clock time, as
        // the reader keeps a column of one offset.
        None => FORMATS
            .iter()
            .chain(TEXT_FORMATS)
            .find_map(|f| parse_text(cell, f))
            .or_else(|| {
                let clock = &cell[..cell.len() - offset_suffix(cell)?.len()];
                FORMATS.iter().find_map(|f| parse_text(clock, f))
            }),
    }
}

/// For a text column polars did not read as dates: the form in `TEXT_FORMATS` that reads
/// every present cell and writes it back byte for byte, and the values in microseconds
/// (missing where the cell is, or is one of [`super::number::MISSING_MARKERS`]). `None` when
/// no form fits every cell.
pub fn parse_text_column(cells: &[Option<String>]) -> Option<(String, Vec<Option<i64>>)> {
    let marker = |c: &str| super::number::MISSING_MARKERS.contains(&c);
    let first = cells.iter().flatten().find(|c| !marker(c))?;
    TEXT_FORMATS
        .iter()
        .filter(|f| {
            parse_text(first, f).is_some_and(|x| format_value(x, "us", f).as_deref() == Some(first))
        })
        .find_map(|format| {
            let values: Option<Vec<Option<i64>>> = cells
                .iter()
                .map(|cell| match cell {
                    None => Some(None),
                    Some(c) if marker(c) => Some(None),
                    Some(c) => parse_text(c, format)
                        .filter(|&x| format_value(x, "us", format).as_deref() == Some(c))
                        .map(Some),
                })
                .collect();
            values.map(|v| (format.to_string(), v))
        })
}

/// For a text column that [`parse_text_column`] does not read because a few cells are no
/// date (`unknown`, `pending`): the form in `TEXT_FORMATS` that reads and writes back the most
/// cells, where those are at least [`super::number::MOSTLY_NUMBERS_SHARE`] of the present cells
/// and take at least [`super::number::MOSTLY_NUMBERS_DISTINCT`] values; the other cells are
/// missing. As text each date was a rare category (under DP nearly every row "other"); fewer
/// distinct dates stay text, each a category.
pub fn parse_text_column_mostly(cells: &[Option<String>]) -> Option<(String, Vec<Option<i64>>)> {
    let present = cells.iter().flatten().count();
    let parse = |c: &str, f: &str| {
        parse_text(c, f).filter(|&x| format_value(x, "us", f).as_deref() == Some(c))
    };
    // A look at the first present cells first: a text column of words (every category
    // column of the table) costs one failed parse per format on a hundred cells, not on all.
    let head: Vec<&str> = cells
        .iter()
        .flatten()
        .take(100)
        .map(String::as_str)
        .collect();
    let (format, values) = TEXT_FORMATS
        .iter()
        .filter(|f| {
            let parsed = head.iter().filter(|c| parse(c, f).is_some()).count();
            parsed as f64 >= 0.5 * head.len() as f64
        })
        .map(|f| {
            let values: Vec<Option<i64>> = cells
                .iter()
                .map(|c| c.as_deref().and_then(|c| parse(c, f)))
                .collect();
            (f, values)
        })
        .max_by_key(|(_, v)| v.iter().flatten().count())?;
    let dates: Vec<u64> = values.iter().flatten().map(|&x| x as u64).collect();
    super::number::mostly(present, dates).then(|| (format.to_string(), values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_recognised_and_written_back() {
        let utc = ["2013-01-01T10:00:00Z", "2013-02-11T23:00:00Z"];
        assert_eq!(
            detect_format(utc.into_iter(), "us").as_deref(),
            Some("%Y-%m-%dT%H:%M:%SZ")
        );
        let spaced = ["2013-01-01 10:00", "2013-02-11 23:59"];
        assert_eq!(
            detect_format(spaced.into_iter(), "us").as_deref(),
            Some("%Y-%m-%d %H:%M")
        );
        // Mixed precision fits no single form.
        let mixed = ["2013-01-01T10:00:00", "2013-01-01T10:00:00.5"];
        assert_eq!(detect_format(mixed.into_iter(), "us"), None);
        // 2013-01-01T10:00:00Z is 1,357,034,400 s after the epoch.
        assert_eq!(
            format_value(1_357_034_400_000_000, "us", "%Y-%m-%dT%H:%M:%SZ").as_deref(),
            Some("2013-01-01T10:00:00Z")
        );
        assert_eq!(
            format_value(1_357_034_400_000, "ms", "%Y-%m-%d %H:%M").as_deref(),
            Some("2013-01-01 10:00")
        );
    }

    #[test]
    fn one_cell_is_read_alone_in_its_format_or_the_first_form_that_reads_it() {
        // 2013-01-01T10:00:00 is 1,357,034,400 s after the epoch.
        let ten = Some(1_357_034_400_000_000);
        assert_eq!(parse_cell_alone("2013-01-01T10:00:00Z", None), ten);
        assert_eq!(parse_cell_alone(" 2013-01-01 10:00 ", None), ten);
        assert_eq!(parse_cell_alone("2013-01-01T10:00:00+02:00", None), ten);
        assert_eq!(parse_cell_alone("01/01/2013 10:00", None), ten);
        // Month first unless the format says otherwise; a day over 12 reads day first.
        let march_4 = Some(1_362_355_200_000_000);
        assert_eq!(parse_cell_alone("03/04/2013", None), march_4);
        assert_eq!(parse_cell_alone("04/03/2013", Some("%d/%m/%Y")), march_4);
        assert_eq!(
            parse_cell_alone("13/04/2013", None),
            Some(1_365_811_200_000_000)
        );
        assert_eq!(parse_cell_alone("pending", None), None);
        assert_eq!(parse_cell_alone("2013-01-01", Some("%d/%m/%Y")), None);
    }

    #[test]
    fn dates_times_and_timestamps_polars_leaves_as_text_are_read_and_written_back() {
        let column = |cells: &[&str]| -> Vec<Option<String>> {
            cells.iter().map(|c| Some(c.to_string())).collect()
        };
        let read = |cells: &[&str]| parse_text_column(&column(cells));
        let (format, values) = read(&["10/25/2020", "01/02/2021"]).unwrap();
        assert_eq!(format, "%m/%d/%Y");
        // 2020-10-25 is day 18,560 after the epoch.
        assert_eq!(values[0], Some(18_560 * 86_400_000_000));
        assert_eq!(read(&["25/10/2020", "01/02/2021"]).unwrap().0, "%d/%m/%Y");
        assert_eq!(read(&["3/5/2020", "12/25/2020"]).unwrap().0, "%-m/%-d/%Y");
        assert_eq!(read(&["25.10.2020"]).unwrap().0, "%d.%m.%Y");
        assert_eq!(
            read(&["Oct 25, 2020", "Jan 02, 2021"]).unwrap().0,
            "%b %d, %Y"
        );
        assert_eq!(read(&["25-Oct-2020"]).unwrap().0, "%d-%b-%Y");
        let (format, values) = read(&["Jun 12 1998", "Dec 31 1969"]).unwrap();
        assert_eq!(format, "%b %d %Y");
        assert_eq!(values[1], Some(-86_400_000_000));
        let (format, values) = read(&["18:07", "03:36"]).unwrap();
        assert_eq!(format, "%H:%M");
        assert_eq!(values[0], Some((18 * 60 + 7) * 60_000_000));
        assert_eq!(
            read(&["3/5/2020 9:07 PM"]).unwrap().0,
            "%-m/%-d/%Y %-I:%M %p"
        );
        // Zero-padded 12-hour clocks (Excel's US export) and a clock of one-digit hours
        // with seconds (a duration under a day written `1:54:55`) were text.
        let (format, values) = read(&["05/19/2023 04:09 AM", "03/15/2023 03:05 PM"]).unwrap();
        assert_eq!(format, "%m/%d/%Y %I:%M %p");
        assert_eq!(
            format_value(values[1].unwrap(), "us", &format).as_deref(),
            Some("03/15/2023 03:05 PM")
        );
        let (format, values) = read(&["1:54:55", "0:07:02", "3:00:10"]).unwrap();
        assert_eq!(format, "%-H:%M:%S");
        assert_eq!(values[0], Some((3600 + 54 * 60 + 55) * 1_000_000));
        // A missing-value marker kept an ISO column text: it is read, the marker missing.
        let (format, values) = read(&["2020-10-25", "N/A", "2021-01-02"]).unwrap();
        assert_eq!((format.as_str(), values[1]), ("%Y-%m-%d", None));
        assert_eq!(read(&["N/A", "?"]), None);
        for text in [
            &["10/25/2020", "2020-10-25"][..],
            &["13/25/2020"],
            &["Private", "10/25/2020"],
            &["1/2", "3/4"],
            &["12", "7"],
            &["25:07"],
        ] {
            assert_eq!(read(text), None, "{text:?}");
        }
    }

    #[test]
    fn resolution_is_the_coarsest_common_step() {
        let hour = 3_600_000_000i64;
        let hourly = [
            Some(1_357_034_400_000_000),
            None,
            Some(1_357_034_400_000_000 + 5 * hour),
        ];
        assert_eq!(learn_resolution(&hourly, "us"), Some(hour));
        let daily = [Some(0), Some(86_400_000 * 3)];
        assert_eq!(learn_resolution(&daily, "ms"), Some(86_400_000));
        let seconds = [Some(hour), Some(hour + 7_000_000)];
        assert_eq!(learn_resolution(&seconds, "us"), Some(1_000_000));
        assert_eq!(learn_resolution(&[Some(hour + 3)], "us"), None);
        assert_eq!(learn_resolution(&[None], "us"), None);
    }

    #[test]
    fn step_classes_and_the_calendar_snap() {
        // Days since 1970-01-01: 2020-01-01 18,262; 2020-03-01 18,322; 2020-03-17 18,338;
        // 2020-03-31 18,352; 2020-04-01 18,353; 2020-12-31 18,627; 2021-01-01 18,628.
        assert_eq!(step_class(18_262, None), 0);
        assert_eq!(step_class(18_322, None), 1);
        assert_eq!(step_class(18_627, None), 2);
        assert_eq!(step_class(18_352, None), 3);
        assert_eq!(step_class(18_338, None), 4);
        assert_eq!(step_class(-1, None), 2); // 1969-12-31
        let day_us = 86_400_000_000i64;
        assert_eq!(step_class(18_322 * day_us, Some("us")), 1);
        assert_eq!(step_class(18_322 * day_us + 3_600_000_000, Some("us")), 5);
        assert_eq!(step_class(18_322 * day_us + 61_000_000, Some("us")), 7);
        assert_eq!(step_class(18_322 * day_us + 1, Some("us")), 8);
        let name = |v: &[i64]| learn_step(v.iter().copied(), None).map(|s| s.name);
        assert_eq!(
            name(&[18_262, 18_322]),
            Some("monthly (the first of a month)")
        );
        assert_eq!(name(&[18_262]), Some("yearly (the first of January)"));
        assert_eq!(
            name(&[18_352, 18_627]),
            Some("monthly (the last day of a month)")
        );
        assert_eq!(name(&[18_322, 18_338]), Some("daily"));
        assert_eq!(name(&[]), None);
        let hourly = learn_step(
            [18_322 * day_us, 18_322 * day_us + 7_200_000_000].into_iter(),
            Some("us"),
        );
        assert_eq!(hourly.and_then(|s| s.in_unit(Some("ms"))), Some(3_600_000));
        // 2020-03-17 is nearer 2020-04-01 than 2020-03-01; 2020-03-10 (18,331) is not.
        assert_eq!(snap_calendar(18_338, None, Calendar::Month), 18_353);
        assert_eq!(snap_calendar(18_331, None, Calendar::Month), 18_322);
        assert_eq!(snap_calendar(18_338, None, Calendar::Year), 18_262);
        // 2020-12-20 goes to 2021-01-01.
        assert_eq!(snap_calendar(18_616, None, Calendar::Month), 18_628);
        // Month ends: 2020-03-17 -> 2020-03-31; 2020-03-05 -> 2020-02-29 (leap year, 18,321).
        assert_eq!(snap_calendar(18_338, None, Calendar::MonthEnd), 18_352);
        assert_eq!(snap_calendar(18_326, None, Calendar::MonthEnd), 18_321);
        assert_eq!(snap_calendar(18_266, None, Calendar::YearEnd), 18_261); // 2020-01-05
        let snapped = snap_calendar(18_338 * day_us + 5, Some("us"), Calendar::Month);
        assert_eq!(snapped, 18_353 * day_us);
    }
}
