//! The per-table TOML configuration: every hyper-parameter of a run, with CTGAN's defaults.
//!
//! Every table rejects unknown keys (serde's `deny_unknown_fields`), so a typo is an error that
//! names the key instead of a silently ignored setting. `configs/README.md` documents each field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A whole run: where the table is, how to read and encode it, the networks, training and output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// How to read the input table.
    pub data: DataConfig,
    /// Per-column overrides of the inferred kind, keyed by column name.
    pub columns: BTreeMap<String, ColumnOverride>,
    /// Encoding of columns into the network's space.
    pub transform: TransformConfig,
    /// Generator and discriminator shapes.
    pub model: ModelConfig,
    /// Optimisation settings.
    pub train: TrainConfig,
    /// Where results go.
    pub output: OutputConfig,
}

/// How the input table is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Path of the CSV or Parquet table, relative to the working directory. Optional: the
    /// command line may give it instead.
    pub path: Option<PathBuf>,
    /// CSV field delimiter, one ASCII character. Default ",".
    pub delimiter: String,
    /// CSV quote character, one ASCII character. Default "\"".
    pub quote: String,
    /// Whether the CSV's first line is a header. Default true.
    pub has_header: bool,
    /// Strings read as missing values in CSV files. Default `["", "NA"]`.
    pub null_values: Vec<String>,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            path: None,
            delimiter: ",".into(),
            quote: "\"".into(),
            has_header: true,
            null_values: vec!["".into(), "NA".into()],
        }
    }
}

/// The kind a column is modelled as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKindSetting {
    /// One-hot encoded categories.
    Discrete,
    /// Mode-specific normalisation with a Gaussian mixture.
    Continuous,
}

/// Per-column settings that override what is inferred from the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ColumnOverride {
    /// Force the column to be discrete or continuous.
    pub kind: Option<ColumnKindSetting>,
}

/// How columns are encoded (CTGAN's transformer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransformConfig {
    /// Most mixture modes per continuous column. Default 10 (CTGAN).
    pub max_modes: usize,
    /// A mode whose mixture weight is below this is dropped. Default 0.005 (CTGAN).
    pub weight_threshold: f64,
    /// Integer columns with at most this many distinct values are discrete. Default 10.
    pub discrete_int_max_distinct: usize,
    /// Most one-hot categories per discrete column; rarer ones share one bucket whose values
    /// are drawn back at their observed frequencies. Keeps memory bounded for ID-like
    /// columns. Default 1000.
    pub max_categories: usize,
    /// Variational-mixture iterations. Default 100 (scikit-learn).
    pub mixture_iterations: usize,
}

impl Default for TransformConfig {
    fn default() -> Self {
        TransformConfig {
            max_modes: 10,
            weight_threshold: 0.005,
            discrete_int_max_distinct: 10,
            max_categories: 1000,
            mixture_iterations: 100,
        }
    }
}

/// Network shapes (CTGAN defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Size of the generator's random input. Default 128.
    pub embedding_dim: usize,
    /// Widths of the generator's residual blocks. Default [256, 256].
    pub generator_dims: Vec<usize>,
    /// Widths of the discriminator's hidden layers. Default [256, 256].
    pub discriminator_dims: Vec<usize>,
    /// PacGAN packing: rows judged together by the discriminator. Default 10.
    pub pac: usize,
    /// Dropout rate in the discriminator. Default 0.5.
    pub dropout: f64,
    /// Negative slope of the discriminator's LeakyReLU. Default 0.2.
    pub leaky_slope: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            embedding_dim: 128,
            generator_dims: vec![256, 256],
            discriminator_dims: vec![256, 256],
            pac: 10,
            dropout: 0.5,
            leaky_slope: 0.2,
        }
    }
}

/// Which compute device runs training and sampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// wgpu when an adapter is found, else the CPU backend.
    Auto,
    /// burn's wgpu backend (GPU, or Mesa's software Vulkan).
    Wgpu,
    /// The default CPU backend.
    Cpu,
    /// burn-ndarray explicitly.
    Ndarray,
    /// burn-flex explicitly.
    Flex,
}

/// Optimisation settings (CTGAN / SDV ctgan 0.12 defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the table. Default 300.
    pub epochs: usize,
    /// Rows per step; must be a multiple of `model.pac`. Default 500.
    pub batch_size: usize,
    /// Generator learning rate. Default 2e-4.
    pub generator_lr: f64,
    /// Discriminator learning rate. Default 2e-4.
    pub discriminator_lr: f64,
    /// Generator weight decay (Adam's L2 term). Default 1e-6.
    pub generator_decay: f64,
    /// Discriminator weight decay. Default 1e-6.
    pub discriminator_decay: f64,
    /// Adam beta1. Default 0.5.
    pub beta1: f64,
    /// Adam beta2. Default 0.9.
    pub beta2: f64,
    /// Discriminator steps per generator step. Default 1.
    pub discriminator_steps: usize,
    /// Gradient-penalty weight. Default 10.
    pub gp_lambda: f64,
    /// Gumbel-softmax temperature. Default 0.2.
    pub gumbel_tau: f64,
    /// Sample conditions by log-frequency (CTGAN). Default true.
    pub log_frequency: bool,
    /// Seed for everything random; absent means a fresh seed from the OS.
    pub seed: Option<u64>,
    /// Compute device. Default "auto".
    pub device: DeviceChoice,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 300,
            batch_size: 500,
            generator_lr: 2e-4,
            discriminator_lr: 2e-4,
            generator_decay: 1e-6,
            discriminator_decay: 1e-6,
            beta1: 0.5,
            beta2: 0.9,
            discriminator_steps: 1,
            gp_lambda: 10.0,
            gumbel_tau: 0.2,
            log_frequency: true,
            seed: None,
            device: DeviceChoice::Auto,
        }
    }
}

/// Where results go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// The released generator file. Default: the table's name with `.dpsynth` under `models/`.
    pub model: Option<PathBuf>,
    /// Per-epoch metrics (JSON lines). Default: the model path with `.metrics.jsonl`.
    pub metrics: Option<PathBuf>,
}

impl RunConfig {
    /// Parses a TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let config: RunConfig =
            toml::from_str(text).map_err(|e| Error::config(origin, e.to_string()))?;
        config.validate(origin)?;
        Ok(config)
    }

    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, "reading", e))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Checks values that serde cannot: ranges and consistency between fields.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let bad = |key: &str, why: &str| Err(Error::config(origin, format!("key '{key}': {why}")));
        if self.data.delimiter.len() != 1 || !self.data.delimiter.is_ascii() {
            return bad("data.delimiter", "must be exactly one ASCII character");
        }
        if self.data.quote.len() != 1 || !self.data.quote.is_ascii() {
            return bad("data.quote", "must be exactly one ASCII character");
        }
        let m = &self.model;
        if m.pac == 0 {
            return bad("model.pac", "must be at least 1");
        }
        if m.embedding_dim == 0 {
            return bad("model.embedding_dim", "must be at least 1");
        }
        if m.discriminator_dims.is_empty() {
            return bad(
                "model.discriminator_dims",
                "needs at least one hidden layer",
            );
        }
        if m.generator_dims.contains(&0) || m.discriminator_dims.contains(&0) {
            return bad("model.*_dims", "layer widths must be positive");
        }
        if !(0.0..1.0).contains(&m.dropout) {
            return bad("model.dropout", "must be in [0, 1)");
        }
        let t = &self.train;
        if t.epochs == 0 {
            return bad("train.epochs", "must be at least 1");
        }
        if t.batch_size == 0 || t.batch_size % m.pac != 0 {
            return bad(
                "train.batch_size",
                &format!(
                    "{} is not a positive multiple of model.pac = {}",
                    t.batch_size, m.pac
                ),
            );
        }
        if t.discriminator_steps == 0 {
            return bad("train.discriminator_steps", "must be at least 1");
        }
        for (key, v) in [
            ("train.generator_lr", t.generator_lr),
            ("train.discriminator_lr", t.discriminator_lr),
            ("train.gumbel_tau", t.gumbel_tau),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(key, "must be a positive number");
            }
        }
        if !(0.0..1.0).contains(&t.beta1) || !(0.0..1.0).contains(&t.beta2) {
            return bad("train.beta1/beta2", "must be in [0, 1)");
        }
        let tr = &self.transform;
        if tr.max_modes == 0 {
            return bad("transform.max_modes", "must be at least 1");
        }
        if tr.max_categories < 2 {
            return bad("transform.max_categories", "must be at least 2");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let err = RunConfig::from_toml("[train]\nepochz = 3\n", "t.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("epochz"), "{msg}");
    }

    #[test]
    fn defaults_are_ctgan() {
        let c = RunConfig::from_toml("", "empty").unwrap();
        assert_eq!(c.train.batch_size, 500);
        assert_eq!(c.model.pac, 10);
        assert_eq!(c.model.generator_dims, vec![256, 256]);
        assert_eq!(c.train.epochs, 300);
    }

    #[test]
    fn batch_must_be_multiple_of_pac() {
        let err = RunConfig::from_toml("[train]\nbatch_size = 55\n", "t.toml").unwrap_err();
        assert!(err.to_string().contains("train.batch_size"));
    }
}
