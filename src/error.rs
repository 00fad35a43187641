//! The one error type of the library: every variant names the file, column or key at fault and,
//! where it helps, what to do about it.

use std::path::PathBuf;

/// Convenience alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between reading a table and writing sampled rows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read, written or renamed.
    #[error("{path}: {action} failed: {os_error}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What we were doing ("reading", "writing", "renaming into place").
        action: &'static str,
        /// The operating system's error. Shown in the message and deliberately not exposed as
        /// [`std::error::Error::source`]: error chains (`{:#}`) would print it twice.
        os_error: std::io::Error,
    },
    /// The input table could not be parsed or is unusable as a whole.
    #[error("{path}: {message}")]
    Table {
        /// The table file.
        path: PathBuf,
        /// What is wrong, and what to do.
        message: String,
    },
    /// One column of the input is unusable.
    #[error("column '{column}': {message}")]
    Column {
        /// The column name as it appears in the header.
        column: String,
        /// What is wrong, and what to do.
        message: String,
    },
    /// The TOML configuration is malformed or names something that does not exist.
    #[error("config {origin}: {message}")]
    Config {
        /// The config file, or "command line" for flags.
        origin: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A model file is truncated, corrupted, of a newer format, or otherwise unusable.
    #[error("model file {path}: {message}")]
    ModelFile {
        /// The model file.
        path: PathBuf,
        /// What is wrong, and what to do.
        message: String,
    },
    /// A `--condition col=value` request cannot be honoured.
    #[error("condition {condition}: {message}")]
    Condition {
        /// The condition as typed.
        condition: String,
        /// Why it cannot be honoured.
        message: String,
    },
    /// The requested compute device is not available.
    #[error("device: {0}")]
    Device(String),
    /// Training failed (for example the loss became NaN).
    #[error("training: {0}")]
    Training(String),
    /// The tables given to `evaluate` cannot be compared.
    #[error("evaluate: {0}")]
    Evaluation(String),
    /// A privacy setting is invalid or the target cannot be met.
    #[error("privacy: {0}")]
    Privacy(String),
}

impl Error {
    /// Shorthand for an [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            action,
            os_error: source,
        }
    }

    /// Shorthand for an [`Error::Column`].
    pub fn column(column: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Column {
            column: column.into(),
            message: message.into(),
        }
    }

    /// Shorthand for an [`Error::Table`].
    pub fn table(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Table {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for an [`Error::Config`].
    pub fn config(origin: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            origin: origin.into(),
            message: message.into(),
        }
    }

    /// An [`Error::Config`] for a key (`origin`) that names a column the table does not have:
    /// `lead` says which, and the message lists the table's `columns`.
    pub fn unknown_column<'a>(
        origin: &str,
        lead: String,
        columns: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let columns: Vec<&str> = columns.into_iter().collect();
        Error::config(
            origin,
            format!("{lead}; its columns are: {}", columns.join(", ")),
        )
    }

    /// Shorthand for an [`Error::ModelFile`].
    pub fn model_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::ModelFile {
            path: path.into(),
            message: message.into(),
        }
    }
}
