//! Numbers written as text: `$1,234.50`, `45.2%`, `1.234,5`, zip codes `00501`, accounting
//! negatives `($5.00)`, and a numeric
//! column with `?` or `N/A` for its missing cells. Polars reads the first kinds as text, which
//! a model can only treat as categories (under DP they all fold into "other"), and the zip
//! codes as integers without their leading zeros. [`detect`] finds the one [`NumberForm`] that
//! writes every cell of a column back byte for byte; the column is then read as numbers and
//! written back in that form.

use serde::{Deserialize, Serialize};

/// How a column writes its numbers as text, so that sampled values come back in the input's
/// form. Sign first (`-$5.00`), then `prefix`, the digits, `suffix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberForm {
    /// Text before the digits: a currency sign (`$`, `€ `, `USD `).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// Text after the digits: `%`, ` %`, ` kg`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub suffix: String,
    /// Thousands separator of the integer part (`,` in `1,234`), if the column groups digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grouping: Option<char>,
    /// The decimal mark: `.`, or `,` (`1.234,5`).
    pub decimal_mark: char,
    /// Decimal places every value is written with (`$5.10`: 2); `None`: as few as the value
    /// needs (an integer column has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub places: Option<u32>,
    /// Digits the integer part is padded to with leading zeros (zip code `00501`: 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Whether every value was written with exactly [`NumberForm::width`] digits: a code
    /// (a zip code), which no value of more digits can be ([`NumberForm::most`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fixed_width: bool,
    /// The text the column writes for a missing value (`?`, `N/A`), when not an empty cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// Whether negatives are written in parentheses, as accounting exports do (`($5.00)`)
    /// rather than with a minus sign.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parens: bool,
    /// The sign written before a negative when it is not `-`: the Unicode minus `−` (U+2212)
    /// that typeset reports and some spreadsheets write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minus: Option<char>,
    /// Whether negatives end in their minus sign (`123.45-`), as SAP and some mainframe
    /// exports write them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trailing_minus: bool,
    /// Whether digits are grouped as India writes them (`6,01,32,488`: the last three, then
    /// pairs) rather than in threes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lakh: bool,
    /// A duration written as a clock (`27:10:00`, `4:05`): the number of its fields, 3 for
    /// hours, minutes and seconds, 2 for two (minutes and seconds, or hours and minutes:
    /// either way the value counts the last field's units). The value is that count, and
    /// [`NumberForm::width`] pads the first field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<u8>,
    /// Whether the column held a few cells that are no number at all (`refused`, `<5`, `see
    /// notes`) among many plain numbers, read as missing ([`mostly_numbers`]); they are
    /// written back as missing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub words_as_missing: bool,
}

/// Cells that mark a missing value in an otherwise numeric column.
pub const MISSING_MARKERS: &[&str] = &[
    "?", "-", "--", ".", "NA", "N/A", "n/a", "na", "#N/A", "null", "NULL", "None", "none", "NaN",
    "nan", "missing",
];

/// Currency signs a prefix may hold (then an optional space).
const CURRENCY: &[char] = &['$', '€', '£', '¥', '₹', '₩', '₽', '¢', '₺', '₪', 'R'];

/// Whether `prefix` is a form's prefix: a currency sign, a sign after letters (`US$`, `R$`,
/// `CHF `), or three capitals and a space (`USD `). Words such as `Room ` are not, so a
/// category column `Room 1`, `Room 2` stays text.
fn is_prefix(prefix: &str) -> bool {
    let trimmed = prefix.strip_suffix(' ').unwrap_or(prefix);
    let chars: Vec<char> = trimmed.chars().collect();
    match chars.as_slice() {
        [] => prefix.is_empty(),
        [c] => CURRENCY.contains(c) && *c != 'R',
        [a, b] => a.is_ascii_uppercase() && *b == '$',
        [a, b, c] => {
            (a.is_ascii_uppercase() && b.is_ascii_uppercase() && *c == '$')
                || (chars.iter().all(char::is_ascii_uppercase) && prefix.ends_with(' '))
        }
        _ => false,
    }
}

/// Whether `suffix` is a form's suffix: `%`, `‰`, a currency sign (`243,49 €`, as much of
/// Europe writes prices), a unit of one to three letters, glued (`12kg`) or after a space
/// (`12 kg`), or a currency code after a space (`12 CHF`).
fn is_suffix(suffix: &str) -> bool {
    let trimmed = suffix.strip_prefix(' ').unwrap_or(suffix);
    if trimmed.is_empty() {
        return suffix.is_empty();
    }
    let chars: Vec<char> = trimmed.chars().collect();
    trimmed == "%"
        || trimmed == "‰"
        || matches!(chars.as_slice(), [c] if CURRENCY.contains(c) && *c != 'R')
        || (trimmed.len() <= 3 && trimmed.chars().all(|c| c.is_ascii_lowercase()))
        || (suffix.starts_with(' ')
            && chars.len() == 3
            && chars.iter().all(char::is_ascii_uppercase))
}

/// The Unicode minus sign (U+2212).
const UNICODE_MINUS: char = '\u{2212}';

/// One cell split into sign, prefix, digits (with separators) and suffix.
struct Parts<'a> {
    negative: bool,
    /// Negative by parentheses around the whole cell (`($5.00)`).
    parens: bool,
    /// The leading sign of a negative that is not `-` (`−`).
    minus: Option<char>,
    /// Negative by a minus sign ending the cell (`123.45-`).
    trailing: bool,
    prefix: &'a str,
    body: &'a str,
    suffix: &'a str,
}

fn split(cell: &str) -> Option<Parts<'_>> {
    let inner = cell.strip_prefix('(').and_then(|c| c.strip_suffix(')'));
    // (negative, parens, minus, trailing, rest)
    let (negative, parens, minus, trailing, rest) = if let Some(inner) = inner {
        (true, true, None, false, inner)
    } else if let Some(rest) = cell.strip_prefix('-') {
        (true, false, None, false, rest)
    } else if let Some(rest) = cell.strip_prefix(UNICODE_MINUS) {
        (true, false, Some(UNICODE_MINUS), false, rest)
    } else if let Some(rest) = cell.strip_suffix('-') {
        (true, false, None, true, rest)
    } else {
        (false, false, None, false, cell)
    };
    let start = rest.find(|c: char| c.is_ascii_digit())?;
    let end = rest.rfind(|c: char| c.is_ascii_digit())? + 1;
    Some(Parts {
        negative,
        parens,
        minus,
        trailing,
        prefix: &rest[..start],
        body: &rest[start..end],
        suffix: &rest[end..],
    })
}

/// A number parsed from a cell in a form: an integer or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parsed {
    /// No decimal mark.
    Int(i64),
    /// With a decimal mark.
    Float(f64),
}

impl NumberForm {
    /// The largest value the form can write: `10^width - 1` for a code of a fixed width
    /// ([`NumberForm::fixed_width`]); `None` otherwise.
    pub fn most(&self) -> Option<f64> {
        match self.width {
            Some(w) if self.fixed_width && self.places.is_none_or(|p| p == 0) => {
                Some(10f64.powi(w as i32) - 1.0)
            }
            _ => None,
        }
    }

    /// The number `cell` writes in this form, or `None` if it is not in this form (a missing
    /// marker is not a number either).
    pub fn parse(&self, cell: &str) -> Option<Parsed> {
        if let Some(fields) = self.clock {
            return parse_clock(cell, fields).map(Parsed::Int);
        }
        let parts = split(cell)?;
        if parts.prefix != self.prefix
            || parts.suffix != self.suffix
            || parts.negative
                && (parts.parens != self.parens
                    || parts.minus != self.minus
                    || parts.trailing != self.trailing_minus)
        {
            return None;
        }
        let (int_part, frac) = match parts.body.split_once(self.decimal_mark) {
            Some((i, f)) => (i, Some(f)),
            None => (parts.body, None),
        };
        let digits: String = match self.grouping {
            Some(g) => int_part.chars().filter(|&c| c != g).collect(),
            None => int_part.to_string(),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sign = if parts.negative { "-" } else { "" };
        match frac {
            None => format!("{sign}{digits}").parse().ok().map(Parsed::Int),
            Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                format!("{sign}{digits}.{f}")
                    .parse()
                    .ok()
                    .map(Parsed::Float)
            }
            Some(_) => None,
        }
    }

    /// The category key ([`super::Values::key`]) of the number `cell` writes in this form.
    pub fn key(&self, cell: &str) -> Option<String> {
        self.parse(cell).map(|p| match p {
            Parsed::Int(x) => x.to_string(),
            Parsed::Float(x) => x.to_string(),
        })
    }

    /// A number's category key written in this form; `None` when the key is no number.
    pub fn write_key(&self, key: &str) -> Option<String> {
        match key.parse::<i64>() {
            Ok(x) => Some(self.format_int(x)),
            Err(_) => key.parse::<f64>().ok().map(|x| self.format_float(x)),
        }
    }

    /// `x` written in this form.
    pub fn format_float(&self, x: f64) -> String {
        if self.clock.is_some() {
            return self.format_int(x.round() as i64);
        }
        self.format_float_signed(x, false)
    }

    /// `x` written in this form, with its sign where it rounds to zero if `signed_zero`
    /// (`-0.0%`, as Python and spreadsheets write a small negative rounded).
    fn format_float_signed(&self, x: f64, signed_zero: bool) -> String {
        let body = match self.places {
            Some(d) => format!("{:.*}", d as usize, x.abs()),
            None => format!("{}", x.abs()),
        };
        let negative = x.is_sign_negative()
            && (signed_zero || body.bytes().any(|b| b.is_ascii_digit() && b != b'0'));
        let (int_part, frac) = match body.split_once('.') {
            Some((i, f)) => (i.to_string(), Some(f.to_string())),
            None => (body, None),
        };
        self.assemble(negative, int_part, frac)
    }

    /// `x` written in this form.
    pub fn format_int(&self, x: i64) -> String {
        if let Some(fields) = self.clock {
            return format_clock(x, fields, self.width.unwrap_or(1) as usize);
        }
        let frac = self
            .places
            .filter(|&d| d > 0)
            .map(|d| "0".repeat(d as usize));
        self.assemble(x < 0, x.unsigned_abs().to_string(), frac)
    }

    fn assemble(&self, negative: bool, int_part: String, frac: Option<String>) -> String {
        let mut int_part = int_part;
        if let Some(w) = self.width {
            while int_part.len() < w as usize {
                int_part.insert(0, '0');
            }
        }
        let grouped = match self.grouping {
            Some(g) => {
                let digits: Vec<char> = int_part.chars().collect();
                let mut out = String::with_capacity(digits.len() * 4 / 3 + 1);
                for (i, c) in digits.iter().enumerate() {
                    // Digits still to come after this one's place: a separator before the
                    // last three, then every three (every two in lakh grouping).
                    let after = digits.len() - i;
                    let group = if self.lakh && after > 3 {
                        (after - 3).is_multiple_of(2)
                    } else {
                        after.is_multiple_of(3)
                    };
                    if i > 0 && group {
                        out.push(g);
                    }
                    out.push(*c);
                }
                out
            }
            None => int_part,
        };
        let mut out = String::new();
        if negative && !self.trailing_minus {
            out.push(if self.parens {
                '('
            } else {
                self.minus.unwrap_or('-')
            });
        }
        out.push_str(&self.prefix);
        out.push_str(&grouped);
        if let Some(f) = frac {
            out.push(self.decimal_mark);
            out.push_str(&f);
        }
        out.push_str(&self.suffix);
        if negative && self.parens {
            out.push(')');
        }
        if negative && self.trailing_minus {
            out.push('-');
        }
        out
    }

    /// Whether this form adds anything to plain numbers (a plain form need not be kept).
    pub fn is_plain(&self) -> bool {
        *self
            == NumberForm {
                decimal_mark: '.',
                ..NumberForm::default()
            }
    }
}

impl Default for NumberForm {
    fn default() -> Self {
        NumberForm {
            prefix: String::new(),
            suffix: String::new(),
            grouping: None,
            decimal_mark: '.',
            places: None,
            width: None,
            fixed_width: false,
            missing: None,
            parens: false,
            minus: None,
            trailing_minus: false,
            lakh: false,
            clock: None,
            words_as_missing: false,
        }
    }
}

/// The count of the last field's units a clock-written duration `cell` of `fields` fields
/// names (`27:10:00`: 97,800 seconds; `-0:05`: -5): the first field any digits, the others
/// two digits under 60.
fn parse_clock(cell: &str, fields: u8) -> Option<i64> {
    let (negative, body) = match cell.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cell),
    };
    let parts: Vec<&str> = body.split(':').collect();
    if parts.len() != fields as usize || parts[0].is_empty() || parts[0].len() > 9 {
        return None;
    }
    let mut total: i64 = 0;
    for (i, part) in parts.iter().enumerate() {
        if !part.bytes().all(|b| b.is_ascii_digit()) || (i > 0 && part.len() != 2) {
            return None;
        }
        let v: i64 = part.parse().ok()?;
        if i > 0 && v >= 60 {
            return None;
        }
        total = total * 60 + v;
    }
    Some(if negative { -total } else { total })
}

/// `x` units written as a clock of `fields` fields, the first padded to `width` digits.
fn format_clock(x: i64, fields: u8, width: usize) -> String {
    let mut rest = x.unsigned_abs();
    let mut tail = String::new();
    for _ in 1..fields {
        tail = format!(":{:02}{tail}", rest % 60);
        rest /= 60;
    }
    let sign = if x < 0 { "-" } else { "" };
    format!("{sign}{rest:0width$}{tail}")
}

/// The clock form (`27:10:00`, `1:05:09`, `24:34`) that writes every present cell of a
/// column back byte for byte: durations past a day, or minutes and seconds, that no time of
/// day reads (a column of times of day is read as such first). Missing markers are missing.
pub fn detect_clock(cells: &[&str]) -> Option<NumberForm> {
    let numbers: Vec<&str> = cells
        .iter()
        .copied()
        .filter(|c| !MISSING_MARKERS.contains(c))
        .collect();
    let first = numbers.first()?;
    let fields = first.split(':').count();
    if !(2..=3).contains(&fields) {
        return None;
    }
    let head = |c: &str| {
        let c = c.strip_prefix('-').unwrap_or(c);
        c.split(':').next().unwrap_or("").len()
    };
    let width = numbers
        .iter()
        .filter(|c| c.trim_start_matches('-').starts_with('0'))
        .map(|c| head(c))
        .max()
        .filter(|&w| w > 1);
    let form = NumberForm {
        clock: Some(fields as u8),
        width: width.map(|w| w as u32),
        missing: commonest_marker(cells),
        ..NumberForm::default()
    };
    numbers
        .iter()
        .all(|c| matches!(form.parse(c), Some(Parsed::Int(x)) if form.format_int(x) == *c))
        .then_some(form)
}

/// The [`MISSING_MARKERS`] cell that `cells` hold most often (the last of equals), if any:
/// a form's `missing`.
fn commonest_marker(cells: &[&str]) -> Option<String> {
    let mut markers: Vec<(&str, usize)> = Vec::new();
    for cell in cells
        .iter()
        .copied()
        .filter(|c| MISSING_MARKERS.contains(c))
    {
        match markers.iter_mut().find(|(m, _)| *m == cell) {
            Some((_, n)) => *n += 1,
            None => markers.push((cell, 1)),
        }
    }
    markers
        .iter()
        .max_by_key(|(_, n)| *n)
        .map(|(m, _)| m.to_string())
}

/// `cell` without the zeros that end its fraction (and its decimal mark, where nothing is
/// left after it): `50,0` -> `50`, `$4.10` -> `$4.1`, `1.000` with a mark of `,` unchanged.
fn without_fraction_zeros(cell: &str, decimal_mark: char) -> String {
    let Some(end) = cell.rfind(|c: char| c.is_ascii_digit()).map(|i| i + 1) else {
        return cell.to_string();
    };
    let head = &cell[..end];
    match head.rfind(decimal_mark) {
        Some(mark) if head[mark + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            let trimmed = head.trim_end_matches('0');
            let trimmed = trimmed.strip_suffix(decimal_mark).unwrap_or(trimmed);
            format!("{trimmed}{}", &cell[end..])
        }
        _ => cell.to_string(),
    }
}

/// Separators tried, as (grouping, decimal mark), in order.
const SEPARATORS: &[(Option<char>, char)] = &[
    (None, '.'),
    (Some(','), '.'),
    (None, ','),
    (Some('.'), ','),
    (Some(' '), ','),
    (Some('\u{a0}'), ','),
    // The narrow no-break space French typography groups digits with (`2 088,27 €`).
    (Some('\u{202f}'), ','),
    (Some(' '), '.'),
    (Some('\''), '.'),
];

/// The form that writes every present cell back byte for byte, if there is one: the cells that
/// are one of [`MISSING_MARKERS`] are missing values (the most common becomes the form's
/// `missing`), and at least one cell must be a number. `None` when a cell is in no form, the
/// prefix or suffix is not one a number takes (`Room 1`), or the form would be plain numbers
/// without markers (polars read those already).
pub fn detect(cells: &[&str]) -> Option<NumberForm> {
    let given = cells;
    let cells = || given.iter().copied();
    let mut numbers = cells().filter(|c| !MISSING_MARKERS.contains(c));
    let first = split(numbers.next()?)?;
    if !is_prefix(first.prefix) || !is_suffix(first.suffix) {
        return None;
    }
    let missing = commonest_marker(given);
    // Negatives in parentheses when any cell writes one so; the round trip refuses a column
    // that mixes them with minus signs.
    let parens = cells()
        .filter(|c| !MISSING_MARKERS.contains(c))
        .any(|c| split(c).is_some_and(|p| p.parens));
    // So with a Unicode minus or a trailing one.
    let minus = cells()
        .filter(|c| !MISSING_MARKERS.contains(c))
        .find_map(|c| split(c).and_then(|p| p.minus));
    let trailing_minus = cells()
        .filter(|c| !MISSING_MARKERS.contains(c))
        .any(|c| split(c).is_some_and(|p| p.trailing));
    // Places and zero padding from the cells, per separator choice; the round trip decides.
    for &(grouping, decimal_mark) in SEPARATORS {
        let mut places: Option<Option<u32>> = None;
        let mut width = None;
        // The fewest and most digits of any cell's integer part.
        let (mut fewest, mut most) = (u32::MAX, 0);
        let mut ok = true;
        // Whether a group of two digits stands before the last three (`6,01,32,488`).
        let mut lakh = false;
        for cell in cells().filter(|c| !MISSING_MARKERS.contains(c)) {
            let Some(parts) = split(cell) else {
                ok = false;
                break;
            };
            let (int_part, frac) = match parts.body.split_once(decimal_mark) {
                Some((i, f)) => (i, Some(f)),
                None => (parts.body, None),
            };
            let cell_places = frac.map(|f| f.len() as u32);
            match places {
                None => places = Some(cell_places),
                Some(p) if p == cell_places => {}
                // Mixed: only "as few as needed" can write both.
                Some(_) => places = Some(None),
            }
            if let Some(g) = grouping {
                let groups: Vec<&str> = int_part.split(g).collect();
                lakh |=
                    groups.len() > 2 && groups[1..groups.len() - 1].iter().any(|x| x.len() == 2);
            }
            let digits = int_part.chars().filter(|&c| Some(c) != grouping).count() as u32;
            (fewest, most) = (fewest.min(digits), most.max(digits));
            if int_part.starts_with('0') && digits > 1 {
                width = Some(width.map_or(digits, |w: u32| w.max(digits)));
            }
        }
        if !ok {
            return None;
        }
        let form = NumberForm {
            prefix: first.prefix.to_string(),
            suffix: first.suffix.to_string(),
            grouping,
            decimal_mark,
            places: places.flatten(),
            width,
            fixed_width: width.is_some_and(|w| fewest == w && most == w),
            missing: missing.clone(),
            parens,
            minus,
            trailing_minus,
            lakh,
            clock: None,
            words_as_missing: false,
        };
        // Where the places vary, a cell may end its fraction in zeros (`50,0` beside `47,35`,
        // as Python writes floats): the form writes the same number without them.
        let writes_back = cells()
            .filter(|c| !MISSING_MARKERS.contains(c))
            .all(|cell| match form.parse(cell) {
                Some(Parsed::Int(x)) if form.places.is_none() => form.format_int(x) == cell,
                Some(Parsed::Float(x)) => {
                    let written = form.format_float_signed(x, x == 0.0);
                    written == cell
                        || (form.places.is_none()
                            && written == without_fraction_zeros(cell, decimal_mark))
                }
                _ => false,
            });
        if writes_back {
            return (!form.is_plain()).then_some(form);
        }
    }
    None
}

/// The form that writes every one of `cells` back byte for byte: [`detect`]'s, or plain numbers
/// (`42`, `-3.75`) where every cell is one; `None` otherwise.
pub fn exact_form(cells: &[&str]) -> Option<NumberForm> {
    if let Some(form) = detect(cells) {
        return Some(form);
    }
    let plain = NumberForm::default();
    let writes_back = |cell: &&str| match plain.parse(cell) {
        Some(Parsed::Int(x)) => plain.format_int(x) == *cell,
        Some(Parsed::Float(x)) => plain.format_float(x) == *cell,
        None => false,
    };
    (!cells.is_empty() && cells.iter().all(writes_back)).then_some(plain)
}

/// The number one cell writes, read from that cell alone: the first form that writes it back
/// byte for byte ([`detect`] on the one cell; plain numbers, spaces around and a plus sign
/// allowed), `None` for a missing marker or a cell that is no number. In DP mode a column whose
/// kind is public (bounds in `[privacy.columns]`) reads its text cells so, so that how one cell
/// is read never depends on what the other rows hold.
pub fn parse_cell_alone(cell: &str) -> Option<f64> {
    let t = cell.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if let Ok(x) = t.parse::<f64>() {
        return x.is_finite().then_some(x);
    }
    if MISSING_MARKERS.contains(&t) {
        return None;
    }
    match detect(&[t])?.parse(t)? {
        Parsed::Int(x) => Some(x as f64),
        Parsed::Float(x) => Some(x),
    }
}

/// Smallest share of a text column's present cells that must be plain numbers for
/// [`mostly_numbers`] to read it as numbers.
pub const MOSTLY_NUMBERS_SHARE: f64 = 0.9;

/// Fewest distinct numbers [`mostly_numbers`] reads as a number column: with fewer the numbers
/// are codes, each a category that DP can release as one, beside the words.
pub const MOSTLY_NUMBERS_DISTINCT: usize = 50;

/// Whether `found` (a key per cell read, of `present` present cells) make a column "mostly"
/// numbers or dates: not every cell, at least [`MOSTLY_NUMBERS_SHARE`] of them, and at least
/// [`MOSTLY_NUMBERS_DISTINCT`] distinct keys ([`mostly_numbers`],
/// [`super::datetime::parse_text_column_mostly`]).
pub fn mostly(present: usize, mut found: Vec<u64>) -> bool {
    let n = found.len();
    if n == present || (n as f64) < MOSTLY_NUMBERS_SHARE * present as f64 {
        return false;
    }
    found.sort_unstable();
    found.dedup();
    found.len() >= MOSTLY_NUMBERS_DISTINCT
}

/// A text column of numbers in one form (`-12`, `3.75`, `$1,250.00`, `45.2%`) with a few cells
/// that are no number in it (`refused`, `unknown`, `<5`, `#DIV/0!`): at least
/// [`MOSTLY_NUMBERS_SHARE`] of its present cells are numbers in the form and they take at least
/// [`MOSTLY_NUMBERS_DISTINCT`] values. Read as text, each of its many values is a rare category,
/// and under DP nearly every row was folded into "other"; read as numbers, the other cells are
/// missing. The form is the one that writes back every cell of the commonest prefix and suffix
/// (plain numbers when there are none), with `words_as_missing` set; integers when no number
/// has a decimal mark, else floats. `None` otherwise.
pub fn mostly_numbers(cells: &[Option<String>]) -> Option<(NumberForm, super::Values)> {
    let present: Vec<&str> = cells.iter().flatten().map(String::as_str).collect();
    // The commonest prefix and suffix among cells that hold digits.
    let mut affixes: Vec<((&str, &str), usize)> = Vec::new();
    for parts in present.iter().filter_map(|c| split(c)) {
        let key = (parts.prefix, parts.suffix);
        match affixes.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => affixes.push((key, 1)),
        }
    }
    let ((prefix, suffix), _) = affixes.into_iter().max_by_key(|(_, n)| *n)?;
    let share = |n: usize| n as f64 >= MOSTLY_NUMBERS_SHARE * present.len() as f64;
    let candidates: Vec<&str> = present
        .iter()
        .copied()
        .filter(|c| split(c).is_some_and(|p| p.prefix == prefix && p.suffix == suffix))
        .collect();
    if !share(candidates.len()) {
        return None;
    }
    let mut form = exact_form(&candidates)?;
    let parsed: Vec<Option<Parsed>> = cells
        .iter()
        .map(|c| c.as_deref().and_then(|c| form.parse(c)))
        .collect();
    let numbers: Vec<u64> = parsed
        .iter()
        .flatten()
        .map(|p| match p {
            Parsed::Int(x) => (*x as f64).to_bits(),
            Parsed::Float(x) => x.to_bits(),
        })
        .collect();
    if !mostly(present.len(), numbers) {
        return None;
    }
    form.words_as_missing = true;
    form.missing = None;
    Some((form, column_values(&parsed)))
}

/// The values of a column in `form`, or `None` when some present cell is not in it:
/// integers when no cell has a decimal mark, else floats. Missing markers are missing.
pub fn parse_column(cells: &[Option<String>], form: &NumberForm) -> Option<super::Values> {
    let mut parsed = Vec::with_capacity(cells.len());
    for cell in cells {
        parsed.push(match cell.as_deref() {
            None => None,
            Some(c) if MISSING_MARKERS.contains(&c) => None,
            Some(c) => Some(form.parse(c)?),
        });
    }
    Some(column_values(&parsed))
}

/// Parsed cells as a column: integers when no cell had a decimal mark, else floats.
fn column_values(parsed: &[Option<Parsed>]) -> super::Values {
    let any_float = parsed.iter().any(|p| matches!(p, Some(Parsed::Float(_))));
    if any_float {
        super::Values::Float(
            parsed
                .iter()
                .map(|p| {
                    p.map(|p| match p {
                        Parsed::Int(x) => x as f64,
                        Parsed::Float(x) => x,
                    })
                })
                .collect(),
        )
    } else {
        super::Values::Int(
            parsed
                .iter()
                .map(|p| {
                    p.map(|p| match p {
                        Parsed::Int(x) => x,
                        Parsed::Float(x) => x as i64,
                    })
                })
                .collect(),
        )
    }
}

/// `values` written in `form`: numbers as text, a missing value as the form's marker (or
/// missing). Values that are not numbers are written as their keys.
pub fn write_column(values: &super::Values, form: &NumberForm) -> Vec<Option<String>> {
    use super::Values;
    let missing = || form.missing.clone();
    match values {
        Values::Int(v) => v
            .iter()
            .map(|x| x.map_or_else(missing, |x| Some(form.format_int(x))))
            .collect(),
        Values::Float(v) => v
            .iter()
            .map(|x| x.map_or_else(missing, |x| Some(form.format_float(x))))
            .collect(),
        other => (0..other.len()).map(|i| other.key(i)).collect(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cell_alone_is_read_in_the_first_form_that_writes_it_back() {
        assert_eq!(parse_cell_alone("$1,250.00"), Some(1250.0));
        assert_eq!(parse_cell_alone(" +42 "), Some(42.0));
        assert_eq!(parse_cell_alone("45.2%"), Some(45.2));
        assert_eq!(parse_cell_alone("($5.00)"), Some(-5.0));
        assert_eq!(parse_cell_alone("1.234,5"), Some(1234.5));
        for junk in ["refused", "N/A", "inf", "NaN", "#DIV/0!", "Room 1"] {
            assert_eq!(parse_cell_alone(junk), None, "{junk}");
        }
    }

    use super::*;

    fn roundtrip(cells: &[&str]) -> NumberForm {
        let form = detect(cells).unwrap_or_else(|| panic!("{cells:?}"));
        for cell in cells {
            if MISSING_MARKERS.contains(cell) {
                continue;
            }
            let back = match form.parse(cell).unwrap() {
                Parsed::Int(x) => form.format_int(x),
                Parsed::Float(x) => form.format_float(x),
            };
            assert_eq!(&back, cell, "{form:?}");
        }
        form
    }

    #[test]
    fn currency_percent_grouping_and_padding_are_found_and_written_back() {
        let f = roundtrip(&["$1,234.50", "$5.10", "-$12.00", "$1,000,000.01"]);
        assert_eq!(
            (f.prefix.as_str(), f.grouping, f.places),
            ("$", Some(','), Some(2))
        );
        let f = roundtrip(&["4.8%", "63.1%", "100.0%"]);
        assert_eq!((f.suffix.as_str(), f.places), ("%", Some(1)));
        let f = roundtrip(&["1.234,5", "12,25", "-7,5"]);
        assert_eq!((f.grouping, f.decimal_mark), (Some('.'), ','));
        let f = roundtrip(&["00501", "12345", "09999"]);
        assert_eq!(
            (f.width, f.fixed_width, f.most()),
            (Some(5), true, Some(99_999.0))
        );
        // Padded ids beside longer ones: no fixed width, no largest value.
        let f = roundtrip(&["007", "123", "4567"]);
        assert_eq!((f.width, f.fixed_width, f.most()), (Some(3), false, None));
        let f = roundtrip(&["7", "?", "12", "?"]);
        assert_eq!(f.missing.as_deref(), Some("?"));
        let f = roundtrip(&["4,995", "579,769", "861"]);
        assert_eq!(f.grouping, Some(','));
        roundtrip(&["€ 12", "€ 7"]);
        roundtrip(&["USD 12.5", "USD 7.25"]);
        roundtrip(&["12 kg", "7 kg"]);
        let euro = roundtrip(&["243,49 €", "1.454,53 €", "7,00 €"]);
        assert_eq!(
            (euro.suffix.as_str(), euro.grouping, euro.decimal_mark),
            (" €", Some('.'), ',')
        );
        roundtrip(&["12€", "7€"]);
        let french = roundtrip(&["2\u{202f}088,27 €", "613,75 €", "12\u{202f}500,00 €"]);
        assert_eq!(french.grouping, Some('\u{202f}'));
        roundtrip(&["12.50 CHF", "7.25 CHF"]);
        // Accounting negatives, with and without a currency sign.
        let acc = roundtrip(&["$1,234.50", "($5.00)", "$0.10", "($1,000.25)"]);
        assert!(acc.parens && acc.prefix == "$" && acc.grouping == Some(','));
        assert_eq!(acc.parse("($5.00)"), Some(Parsed::Float(-5.0)));
        assert_eq!(acc.format_float(-1234.5), "($1,234.50)");
        assert_eq!(acc.format_float(-0.001), "$0.00");
        let acc = roundtrip(&["(12)", "7", "(3)"]);
        assert!(acc.parens);
        assert_eq!(acc.format_int(-40), "(40)");
        assert_eq!(f.format_int(1_234_567), "1,234,567");
    }

    #[test]
    fn durations_written_as_clocks_are_counts_of_their_last_unit() {
        let f = detect_clock(&["27:10:00", "1:05:09", "?", "0:00:45", "-0:05:00"]).unwrap();
        assert_eq!(
            (f.clock, f.width, f.missing.as_deref()),
            (Some(3), None, Some("?"))
        );
        assert_eq!(f.parse("27:10:00"), Some(Parsed::Int(27 * 3600 + 600)));
        assert_eq!(f.parse("-0:05:00"), Some(Parsed::Int(-300)));
        assert_eq!(f.format_int(97_800), "27:10:00");
        assert_eq!(f.format_float(3599.6), "1:00:00");
        let f = detect_clock(&["24:34", "03:05", "112:09"]).unwrap();
        assert_eq!((f.clock, f.width), (Some(2), Some(2)));
        assert_eq!(f.format_int(65), "01:05");
        assert_eq!(f.parse("112:09"), Some(Parsed::Int(112 * 60 + 9)));
        for text in [
            &["1:2:3"][..],
            &["12:60"],
            &["12:5"],
            &["a:10"],
            &["1:00", "1:00:00"],
        ] {
            assert_eq!(detect_clock(text), None, "{text:?}");
        }
    }

    #[test]
    fn other_signs_indian_grouping_and_a_signed_zero_are_written_back() {
        // Found by probing exports as they arrive: each column was text before ("other" in
        // every sampled row under DP).
        let f = roundtrip(&["\u{2212}10.3", "5.7", "\u{2212}0.4"]);
        assert_eq!(f.minus, Some('\u{2212}'));
        assert_eq!(f.format_float(-2.5), "\u{2212}2.5");
        let f = roundtrip(&["257.28", "123.45-", "1,000.00-", "3.10"]);
        assert!(f.trailing_minus && f.grouping == Some(','));
        assert_eq!(f.parse("123.45-"), Some(Parsed::Float(-123.45)));
        assert_eq!(f.format_float(-7.0), "7.00-");
        let f = roundtrip(&["6,01,32,488", "488", "32,488", "1,00,000"]);
        assert!(f.lakh);
        assert_eq!(f.format_int(123_456_789), "12,34,56,789");
        // Python's `f"{x:.1%}"` of a small negative: the sign stays on a zero.
        let f = detect(&["1.3%", "-4.3%", "-0.0%", "12.0%"]).unwrap();
        assert_eq!((f.suffix.as_str(), f.places), ("%", Some(1)));
        assert_eq!(f.parse("-0.0%"), Some(Parsed::Float(-0.0)));
        assert_eq!(f.format_float(-0.01), "0.0%");
        for mixed in [&["\u{2212}5", "-5"][..], &["5-", "-5"], &["5-", "(5)"]] {
            assert_eq!(detect(mixed), None, "{mixed:?}");
        }
    }

    #[test]
    fn decimal_commas_with_varying_places_are_numbers() {
        // A semicolon-separated export from Python (`str(50.0)` is `50.0`): the places vary
        // and some fractions end in zero. The form writes the same numbers without those
        // zeros; before, no form wrote `50,0` back and the column was text (all "other"
        // under DP).
        let cells = ["47,3", "59,58", "50,0", "-3,10", "61"];
        let f = detect(&cells).unwrap();
        assert_eq!((f.grouping, f.decimal_mark, f.places), (None, ',', None));
        let parsed: Vec<f64> = cells
            .iter()
            .map(|c| match f.parse(c).unwrap() {
                Parsed::Int(x) => x as f64,
                Parsed::Float(x) => x,
            })
            .collect();
        assert_eq!(parsed, [47.3, 59.58, 50.0, -3.1, 61.0]);
        assert_eq!(f.format_float(50.0), "50");
        assert_eq!(f.format_float(-3.1), "-3,1");
        assert_eq!(without_fraction_zeros("$4.10 kg", '.'), "$4.1 kg");
        assert_eq!(without_fraction_zeros("1.000", ','), "1.000");
        // Grouped thousands still win where every cell has three digits after the comma.
        assert_eq!(
            detect(&["1,000", "12,500", "7"]).unwrap().grouping,
            Some(',')
        );
    }

    #[test]
    fn words_and_mixed_forms_stay_text() {
        for cells in [
            &["Room 1", "Room 2"][..],
            &["A1", "B2"],
            &["$5", "5%"],
            &["1-2", "3-4"],
            &["?", "N/A"],
            &["12", "7"],
            &["v1.2", "v1.10"],
            &["1.5", "2"],
            &["12 kg", "7"],
            &["($5.00)", "-$2.00"],
            &["(5)", "(6"],
        ] {
            assert_eq!(detect(cells), None, "{cells:?}");
        }
    }

    #[test]
    fn a_column_parses_to_integers_or_floats_with_markers_missing() {
        let cells = |v: &[Option<&str>]| -> Vec<Option<String>> {
            v.iter().map(|c| c.map(str::to_string)).collect()
        };
        let detect_in = |cells: &[Option<String>]| {
            let present: Vec<&str> = cells.iter().flatten().map(String::as_str).collect();
            detect(&present).unwrap()
        };
        let ints = cells(&[Some("$1,200"), Some("?"), None, Some("$5")]);
        let form = detect_in(&ints);
        assert_eq!(
            parse_column(&ints, &form),
            Some(super::super::Values::Int(vec![
                Some(1200),
                None,
                None,
                Some(5)
            ]))
        );
        let floats = cells(&[Some("5.10%"), Some("-0.25%")]);
        let form = detect_in(&floats);
        assert_eq!(
            parse_column(&floats, &form),
            Some(super::super::Values::Float(vec![Some(5.1), Some(-0.25)]))
        );
        assert_eq!(form.format_float(-0.001), "0.00%");
    }
}
