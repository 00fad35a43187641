//! How a column's cells were written, when not in the form polars writes them back: numbers in
//! a text form ([`NumberForm`]: `$1,234.50`, `00501`) and booleans in words other than
//! `true`/`false` ([`BoolWords`]: `TRUE`/`FALSE` as R writes them, `True`/`False` as pandas
//! does). Sampled values are written in the same form, so a CSV round trip keeps it.

use serde::{Deserialize, Serialize};

use super::number::{self, NumberForm};
use super::Values;

/// The words a boolean column writes for its two values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoolWords {
    /// The word for true (`TRUE`, `True`).
    pub true_word: String,
    /// The word for false (`FALSE`, `False`).
    pub false_word: String,
}

/// A column's text form (serialized untagged: a generator file written before booleans had
/// one reads its number forms unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CellForm {
    /// Numbers written as text.
    Number(NumberForm),
    /// Booleans written in other words.
    Bool(BoolWords),
}

impl CellForm {
    /// The number form, if this is one.
    pub fn number(&self) -> Option<&NumberForm> {
        match self {
            CellForm::Number(form) => Some(form),
            CellForm::Bool(_) => None,
        }
    }

    /// The category key of a cell written in this form (`$5.00` -> `5`, `TRUE` -> `true`);
    /// `None` when the cell is not in it.
    pub fn key(&self, cell: &str) -> Option<String> {
        match self {
            CellForm::Number(form) => form.key(cell),
            CellForm::Bool(words) if cell == words.true_word => Some("true".into()),
            CellForm::Bool(words) if cell == words.false_word => Some("false".into()),
            CellForm::Bool(_) => None,
        }
    }

    /// A category key written in this form; `None` when the key is not a value of the form.
    pub fn write_key(&self, key: &str) -> Option<String> {
        match self {
            CellForm::Number(form) => form.write_key(key),
            CellForm::Bool(words) => match key {
                "true" => Some(words.true_word.clone()),
                "false" => Some(words.false_word.clone()),
                _ => None,
            },
        }
    }

    /// The cells of `values` written in this form, or `None` when the form does not apply to
    /// the values' type (then they are written as polars writes them).
    pub fn write(&self, values: &Values) -> Option<Vec<Option<String>>> {
        match (self, values) {
            (CellForm::Number(form), Values::Int(_) | Values::Float(_)) => {
                Some(number::write_column(values, form))
            }
            (CellForm::Bool(words), Values::Bool(v)) => Some(
                v.iter()
                    .map(|b| {
                        b.map(|b| match b {
                            true => words.true_word.clone(),
                            false => words.false_word.clone(),
                        })
                    })
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// The words of a column polars read as booleans, from its cells read as text: `Some` when
/// every present cell is one spelling of `true` and one of `false` in the same case pattern
/// (`TRUE`/`FALSE`, `True`/`False`), `None` for `true`/`false` (polars' own) or a mix.
pub fn bool_words(cells: &[&str]) -> Option<BoolWords> {
    let mut true_word: Option<&str> = None;
    let mut false_word: Option<&str> = None;
    for &cell in cells {
        let slot = match cell.to_ascii_lowercase().as_str() {
            "true" => &mut true_word,
            "false" => &mut false_word,
            _ => return None,
        };
        match slot {
            Some(seen) if *seen != cell => return None,
            Some(_) => {}
            None => *slot = Some(cell),
        }
    }
    // A word seen alone gives the other in its case pattern.
    let other_in_case = |seen: &str, word: &str| -> String {
        if seen.chars().all(|c| c.is_ascii_uppercase()) {
            word.to_ascii_uppercase()
        } else if seen.chars().skip(1).all(|c| c.is_ascii_lowercase())
            && seen.starts_with(|c: char| c.is_ascii_uppercase())
        {
            let mut w = word.to_string();
            w[..1].make_ascii_uppercase();
            w
        } else {
            word.to_string()
        }
    };
    let (t, f) = match (true_word, false_word) {
        (Some(t), Some(f)) => (t.to_string(), f.to_string()),
        (Some(t), None) => (t.to_string(), other_in_case(t, "false")),
        (None, Some(f)) => (other_in_case(f, "true"), f.to_string()),
        (None, None) => return None,
    };
    (t != "true" || f != "false").then_some(BoolWords {
        true_word: t,
        false_word: f,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bool_words_are_the_spellings_the_cells_use() {
        let words = |t: &str, f: &str| {
            Some(BoolWords {
                true_word: t.into(),
                false_word: f.into(),
            })
        };
        assert_eq!(
            bool_words(&["TRUE", "FALSE", "TRUE"]),
            words("TRUE", "FALSE")
        );
        assert_eq!(bool_words(&["True", "False"]), words("True", "False"));
        assert_eq!(bool_words(&["TRUE", "TRUE"]), words("TRUE", "FALSE"));
        assert_eq!(bool_words(&["False"]), words("True", "False"));
        assert_eq!(bool_words(&["true", "false"]), None);
        assert_eq!(bool_words(&["TRUE", "true"]), None);
        assert_eq!(bool_words(&["TRUE", "yes"]), None);
        assert_eq!(bool_words(&[]), None);
        let form = CellForm::Bool(BoolWords {
            true_word: "TRUE".into(),
            false_word: "FALSE".into(),
        });
        assert_eq!(
            form.write(&Values::Bool(vec![Some(true), None, Some(false)])),
            Some(vec![Some("TRUE".into()), None, Some("FALSE".into())])
        );
        assert_eq!(form.key("TRUE").as_deref(), Some("true"));
        assert_eq!(form.write_key("false").as_deref(), Some("FALSE"));
        // A generator file's number form reads as one, a boolean's as the other.
        let number: CellForm =
            serde_json::from_str(r#"{"prefix":"$","decimal_mark":".","places":2}"#).unwrap();
        assert!(number.number().is_some());
        let back: CellForm = serde_json::from_str(&serde_json::to_string(&form).unwrap()).unwrap();
        assert_eq!(back, form);
    }
}
