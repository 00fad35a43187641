//! Text encodings of CSV files other than UTF-8 (`data.encoding`): Latin-1 and Windows-1252,
//! as spreadsheets on Windows save CSV. Such a file is decoded to UTF-8 before it is parsed,
//! and a file that is not UTF-8 read without the setting gets an error that names it.

use std::path::Path;

use crate::error::{Error, Result};

/// The encodings `data.encoding` accepts, as written in a config.
pub const ENCODINGS: &[&str] = &["utf-8", "latin-1", "windows-1252"];

/// A CSV file's text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (ASCII included): read as it is.
    Utf8,
    /// ISO-8859-1: each byte is the code point of the same number.
    Latin1,
    /// Windows-1252: Latin-1 with printable characters (`€`, `‘`, `—`...) at 0x80-0x9F.
    Windows1252,
}

impl Encoding {
    /// The encoding `name` names (case and `-`/`_` ignored: `UTF8`, `latin1`, `cp1252`, `iso-8859-1`);
    /// `None` for any other name.
    pub fn parse(name: &str) -> Option<Encoding> {
        let key: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        match key.as_str() {
            "utf8" => Some(Encoding::Utf8),
            "latin1" | "iso88591" | "l1" => Some(Encoding::Latin1),
            "windows1252" | "cp1252" => Some(Encoding::Windows1252),
            _ => None,
        }
    }

    /// `bytes` decoded to a UTF-8 string (every byte sequence decodes: both are single-byte
    /// encodings; Windows-1252's five unassigned bytes keep their Latin-1 meaning).
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Encoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
            Encoding::Windows1252 => bytes
                .iter()
                .map(|&b| match b {
                    0x80..=0x9F => WINDOWS_1252_HIGH[usize::from(b - 0x80)],
                    _ => char::from(b),
                })
                .collect(),
        }
    }
}

/// Windows-1252's characters at 0x80-0x9F (the unassigned 0x81, 0x8D, 0x8F, 0x90 and 0x9D as
/// their Latin-1 control characters).
const WINDOWS_1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

/// Where `path`'s bytes stop being UTF-8, as an error that names the file, the byte and its
/// line and says which setting reads it; `Ok(())` when the file is UTF-8.
pub fn check_utf8(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "reading the table", e))?;
    match std::str::from_utf8(&bytes) {
        Ok(_) => Ok(()),
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            Err(Error::table(
                path,
                format!(
                    "is not UTF-8 text: byte 0x{:02X} on line {line} is no UTF-8 character; if the file was saved as Latin-1 or Windows-1252 (as spreadsheets on Windows save CSV), add `--set data.encoding=\"windows-1252\"` (or `encoding` under [data]), or convert it to UTF-8",
                    bytes[at]
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_byte_encodings_decode_to_their_characters() {
        // "Zürich – 5 €" in Windows-1252: ü is 0xFC in both, the dash 0x96 and the euro 0x80
        // only in Windows-1252.
        let bytes = b"Z\xFCrich \x96 5 \x80";
        assert_eq!(Encoding::Windows1252.decode(bytes), "Zürich – 5 €");
        assert_eq!(Encoding::Latin1.decode(b"Gen\xE8ve"), "Genève");
        assert_eq!(Encoding::parse("CP1252"), Some(Encoding::Windows1252));
        assert_eq!(Encoding::parse("ISO-8859-1"), Some(Encoding::Latin1));
        assert_eq!(Encoding::parse("UTF8"), Some(Encoding::Utf8));
        assert_eq!(Encoding::parse("koi8-r"), None);
        for name in ENCODINGS {
            assert!(Encoding::parse(name).is_some(), "{name}");
        }
    }
}
