//! The released generator file: one versioned, checksummed file holding the generator's
//! weights, the fitted transformer, the run's config and its privacy section. The discriminator
//! and optimiser state never enter it.
//!
//! Layout (little-endian):
//! ```text
//! b"DPSYNTH\0"            8 bytes, magic
//! format version          u32
//! header length           u64
//! header                  JSON (ModelHeader)
//! tensor data             f32 values, in the order of header.tensors
//! CRC-32 of header+data   u32
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::config::RunConfig;
use crate::dp::Ledger;
use crate::error::{Error, Result};
pub use crate::model::NamedTensor;
use crate::train::TrainedGenerator;
use crate::transform::DataTransformer;

/// Magic bytes at the start of every model file.
pub const MAGIC: &[u8; 8] = b"DPSYNTH\0";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// What the released file says about privacy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PrivacySection {
    /// Trained without differential privacy: no guarantee at all.
    None,
    /// Trained with DP-SGD and DP preprocessing; the ledger says what holds.
    Dp(Box<Ledger>),
}

impl PrivacySection {
    /// The one-line summary shown by `inspect` and `sample`.
    pub fn summary(&self) -> String {
        match self {
            PrivacySection::None => {
                "privacy: none (trained without differential privacy; no privacy guarantee)".into()
            }
            PrivacySection::Dp(ledger) => ledger.summary(),
        }
    }

    /// The full ledger as labelled lines (none for a non-DP model: its summary says it all).
    pub fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            PrivacySection::None => Vec::new(),
            PrivacySection::Dp(ledger) => ledger.details(),
        }
    }

    /// The ledger as plain text, one labelled line each: the summary, then the details.
    pub fn text(&self) -> String {
        let mut out = format!("{}\n", self.summary());
        for (label, value) in self.details() {
            out.push_str(&format!("{label}: {value}\n"));
        }
        out
    }

    /// Whether the file must not be shared (DP noise fixed by a seed).
    pub fn not_for_release(&self) -> bool {
        match self {
            PrivacySection::None => false,
            PrivacySection::Dp(ledger) => ledger.noise_seeded,
        }
    }
}

/// Where a tensor sits in the data section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorEntry {
    /// Dotted name, e.g. `generator.residual.0.linear.weight`.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
}

/// The JSON header of a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// The dpsynth version that wrote the file.
    pub written_by: String,
    /// The resolved config of the run.
    pub config: RunConfig,
    /// The fitted transformer.
    pub transformer: DataTransformer,
    /// Privacy status.
    pub privacy: PrivacySection,
    /// Number of rows the model was trained on (public in DP mode too).
    pub training_rows: usize,
    /// Epochs actually run (for a best-epoch release: the epoch released).
    pub epochs_run: usize,
    /// How the released epoch was chosen, when it is not the last one trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<String>,
    /// A DP run's noisy two-way marginals (outputs of the charged preprocessing mechanism,
    /// like the transformer's noisy histograms): sampling weighs the generator's rows towards
    /// them (`sample::GeneratorSampler::calibrated`). Absent from files without DP, from DP
    /// runs without `privacy.pair_marginals`, and from files written before stop 48.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs: Option<crate::dp::marginals::NoisyPairs>,
    /// A file without DP: the exact tables of the pairs where one column determines the other
    /// (`train::links`), from which sampling draws the determined column, and the exact
    /// normal-score correlations of a forest of continuous pairs (`copula`;
    /// `train::links::exact_correlations`), which sampling sets. Never in a DP file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub determined: Option<crate::dp::marginals::NoisyPairs>,
    /// The tensors in the data section, in order.
    pub tensors: Vec<TensorEntry>,
}

/// A whole model file in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// Metadata.
    pub header: ModelHeader,
    /// Generator weights, in the order of `header.tensors`.
    pub tensors: Vec<NamedTensor>,
}

impl ModelFile {
    /// The released file for a finished training run: generator, transformer, config and the
    /// privacy section. Nothing else from training enters it.
    ///
    /// The config loses the paths of the training machine (the private table's, the metrics
    /// file's): a released file names no private file.
    pub fn from_training(trained: TrainedGenerator, config: &RunConfig) -> Self {
        let mut config = config.clone();
        config.data.path = None;
        config.output.metrics = None;
        let dp = trained.ledger.is_some();
        ModelFile {
            header: ModelHeader {
                written_by: format!("dpsynth {}", env!("CARGO_PKG_VERSION")),
                config,
                transformer: trained.transformer,
                privacy: match trained.ledger {
                    Some(ledger) => PrivacySection::Dp(Box::new(ledger)),
                    None => PrivacySection::None,
                },
                training_rows: trained.training_rows,
                epochs_run: trained.epochs_run,
                selection: None,
                pairs: trained.pairs,
                // Exact counts never travel in a DP file.
                determined: trained.determined.filter(|_| !dp),
                tensors: Vec::new(),
            },
            tensors: trained.tensors,
        }
    }

    /// Serialises the file to bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut header = self.header.clone();
        header.tensors = self
            .tensors
            .iter()
            .map(|t| TensorEntry {
                name: t.name.clone(),
                shape: t.shape.clone(),
            })
            .collect();
        let json = serde_json::to_vec(&header)
            .map_err(|e| Error::Training(format!("cannot serialise model header: {e}")))?;
        // JSON writes an infinity or NaN as null, which the reader refuses: a file that
        // cannot be read back is an error here, not a file written for `sample` to reject.
        if let Err(e) = serde_json::from_slice::<ModelHeader>(&json) {
            return Err(Error::Training(format!(
                "the model header would not read back ({e}): a value in it is not finite; this is a bug, please report it with the table's shape"
            )));
        }
        let n_values: usize = self.tensors.iter().map(|t| t.data.len()).sum();
        let mut out = Vec::with_capacity(24 + json.len() + 4 * n_values + 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(&json);
        for t in &self.tensors {
            for v in &t.data {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        let crc = crc32fast::hash(&out[20..]);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }

    /// Parses and validates bytes read from `path` (used in error messages only).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |m: String| Error::model_file(path, m);
        if bytes.starts_with(crate::train::checkpoint::CHECKPOINT_MAGIC) {
            return Err(bad(
                "this is a training checkpoint, not a released generator: it holds the critic, the optimiser state and the DP noise generator's state, so it is never for release. Sample from the run's model.dpsynth, or continue the run with `dpsynth train --resume RUN`".into(),
            ));
        }
        if bytes.len() < 8 || &bytes[..8] != MAGIC {
            return Err(bad(
                "not a dpsynth model file (magic bytes missing); give a file written by `dpsynth train`".into(),
            ));
        }
        if bytes.len() < 24 {
            return Err(bad("truncated: the file ends inside its header".into()));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version > FORMAT_VERSION {
            return Err(bad(format!(
                "written in format version {version}, newer than the {FORMAT_VERSION} this dpsynth {} reads; upgrade dpsynth",
                env!("CARGO_PKG_VERSION")
            )));
        }
        let header_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes")) as usize;
        if bytes.len() < 20 + 4 || header_len > bytes.len() - 24 {
            return Err(bad(
                "truncated: the file is shorter than its header says".into()
            ));
        }
        let body_end = bytes.len() - 4;
        let stored_crc = u32::from_le_bytes(bytes[body_end..].try_into().expect("4 bytes"));
        let header: ModelHeader = match serde_json::from_slice(&bytes[20..20 + header_len]) {
            Ok(h) => h,
            Err(e) => {
                let msg = if crc32fast::hash(&bytes[20..body_end]) != stored_crc {
                    "corrupted or truncated (checksum mismatch)".to_string()
                } else {
                    format!("header is not valid: {e}")
                };
                return Err(bad(msg));
            }
        };
        let n_values: usize = header
            .tensors
            .iter()
            .map(|t| t.shape.iter().product::<usize>())
            .sum();
        if 20 + header_len + 4 * n_values != body_end {
            return Err(bad(format!(
                "truncated or padded: the header lists {n_values} weights but the file holds {} bytes of them",
                body_end.saturating_sub(20 + header_len)
            )));
        }
        if crc32fast::hash(&bytes[20..body_end]) != stored_crc {
            return Err(bad(
                "corrupted (checksum mismatch); re-copy or retrain the file".into(),
            ));
        }
        let mut at = 20 + header_len;
        let tensors = header
            .tensors
            .iter()
            .map(|entry| {
                let len: usize = entry.shape.iter().product();
                let data = bytes[at..at + 4 * len]
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect();
                at += 4 * len;
                NamedTensor {
                    name: entry.name.clone(),
                    shape: entry.shape.clone(),
                    data,
                }
            })
            .collect();
        Ok(ModelFile { header, tensors })
    }

    /// Writes the file atomically: a temporary file beside `path`, flushed, then renamed over it.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes()?)
    }

    /// Reads and validates a model file.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, "reading the model", e))?;
        Self::from_bytes(&bytes, path)
    }
}
