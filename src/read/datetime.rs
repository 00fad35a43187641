//! Datetime columns' text form and resolution: what the input CSV wrote
//! (`2013-01-01T10:00:00Z`) and the coarsest step its values fall on (hourly), so that sampled
//! values come back in the same form rather than as `2013-04-26T20:53:31.698210`.

use chrono::{DateTime, NaiveDateTime, Utc};

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
    FORMATS
        .iter()
        .find(|format| {
            cells.iter().all(|cell| {
                NaiveDateTime::parse_from_str(cell, format).is_ok_and(|t| {
                    to_unit(t.and_utc(), unit)
                        .and_then(|x| format_value(x, unit, format))
                        .is_some_and(|back| back == *cell)
                })
            })
        })
        .map(|f| f.to_string())
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
}
