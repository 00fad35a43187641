//! Training checkpoints: everything needed to continue a run bit for bit on the same backend
//! (both networks, both optimiser states, every random generator's position, the position in
//! the epoch, the fitted transformer and the DP ledger's state). A checkpoint holds the critic
//! and the DP noise generator's state, so it is never for release: `sample` refuses it.
//!
//! Layout: magic, format version (u32), header length (u64), JSON header, the four network
//! sections (burnpack bytes, lengths in the header), CRC-32 of everything after the magic.

use std::path::Path;

use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use super::host::HostNetworks;
use super::step::Networks;
use crate::atomic::write_atomic;
use crate::config::RunConfig;
use crate::dp::preprocess::PreprocessLedger;
use crate::dp::{PrivacyPlan, RngState};
use crate::error::{Error, Result};
use crate::model::host::Adam;
use crate::transform::DataTransformer;

/// First bytes of a checkpoint; `ModelFile::read` recognises them to refuse checkpoints.
pub const CHECKPOINT_MAGIC: &[u8; 8] = b"DPSYNCKP";
const FORMAT_VERSION: u32 = 1;
/// The order of the network sections.
const SECTIONS: [&str; 4] = [
    "generator",
    "discriminator",
    "generator_optimizer",
    "discriminator_optimizer",
];

/// The DP side of a run at a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DpState {
    /// The plan fixed before training (the accountant is rebuilt from it).
    pub plan: PrivacyPlan,
    /// Discriminator steps charged so far.
    pub steps: u64,
    /// Clipping norm C.
    pub max_grad_norm: f64,
    /// What preprocessing measured (spent once, never again on resume).
    pub preprocessing: PreprocessLedger,
    /// The noisy two-way marginals, when the run measured them (never measured again).
    #[serde(default)]
    pub pairs: Option<crate::dp::marginals::NoisyPairs>,
    /// The secure generator's position.
    pub rng: RngState,
}

/// The JSON header of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointHeader {
    /// Says what this file is, for anyone who opens it.
    pub kind: String,
    /// The dpsynth version that wrote it.
    pub written_by: String,
    /// The resolved config of the run.
    pub config: RunConfig,
    /// The fitted transformer (in DP mode fitted on noisy statistics: refitting would spend
    /// budget again and give another transformer).
    pub transformer: DataTransformer,
    /// Rows of the training table (checked on resume).
    pub rows: usize,
    /// The run's seed (drawn at random when the config gave none).
    pub seed: u64,
    /// Completed epochs.
    pub epochs_done: usize,
    /// Steps already taken in the current, unfinished epoch.
    pub step_in_epoch: usize,
    /// Sums of the losses over those steps (generator, critic).
    pub partial_losses: (f64, f64),
    /// Generator steps taken since the start of the run.
    pub total_steps: u64,
    /// The host generator's position (conditions, row choice).
    pub rng: RngState,
    /// The DP state; `None` without DP.
    pub dp: Option<DpState>,
    /// Byte lengths of the network sections, in order.
    pub sections: Vec<(String, usize)>,
    /// Whether the sections hold the host engine's networks (raw `f32` buffers, see
    /// [`host_sections`]) rather than burn records.
    #[serde(default)]
    pub host_engine: bool,
}

/// A checkpoint in memory.
pub struct Checkpoint {
    /// Everything but the networks.
    pub header: CheckpointHeader,
    /// The four network sections (burnpack bytes), in `SECTIONS` order.
    pub sections: Vec<Vec<u8>>,
}

fn record_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Training(format!("checkpoint {what}: {e}"))
}

/// The networks and optimiser states as burnpack sections.
pub fn network_sections(nets: &Networks) -> Result<Vec<Vec<u8>>> {
    let module = |r: ModuleRecord, what| -> Result<Vec<u8>> {
        Ok(r.into_bytes().map_err(|e| record_error(what, e))?.to_vec())
    };
    let optim = |o: &ModuleOptimizer, what| -> Result<Vec<u8>> {
        Ok(o.into_bytes().map_err(|e| record_error(what, e))?.to_vec())
    };
    // burn holds a BatchNorm's latest running statistic aside until the next update, and a
    // record reads the held-back value: fold it in first (what the next update would do).
    for block in &nets.generator.blocks {
        let _ = block.bn.running_mean.value_sync();
        let _ = block.bn.running_var.value_sync();
    }
    Ok(vec![
        module(nets.generator.clone().into_record(), SECTIONS[0])?,
        module(nets.discriminator.clone().into_record(), SECTIONS[1])?,
        optim(&nets.generator_optim, SECTIONS[2])?,
        optim(&nets.discriminator_optim, SECTIONS[3])?,
    ])
}

/// Loads the sections into freshly built networks of the same shape. The module records keep
/// their parameter ids, which the optimiser states are keyed by.
pub fn load_networks(fresh: Networks, sections: &[Vec<u8>]) -> Result<Networks> {
    let bytes = |i: usize| Bytes::from_bytes_vec(sections[i].clone());
    let module =
        |i: usize| ModuleRecord::from_bytes(bytes(i)).map_err(|e| record_error(SECTIONS[i], e));
    let optim =
        |i: usize| OptimizerRecord::from_bytes(bytes(i)).map_err(|e| record_error(SECTIONS[i], e));
    Ok(Networks {
        generator: fresh
            .generator
            .try_load_record(module(0)?)
            .map_err(|e| record_error(SECTIONS[0], e))?,
        discriminator: fresh
            .discriminator
            .try_load_record(module(1)?)
            .map_err(|e| record_error(SECTIONS[1], e))?,
        generator_optim: fresh.generator_optim.load_record(optim(2)?),
        discriminator_optim: fresh.discriminator_optim.load_record(optim(3)?),
    })
}

fn push_f32s(out: &mut Vec<u8>, values: &[f32]) {
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn adam_bytes(adam: &Adam) -> Vec<u8> {
    let mut out = adam.time.to_le_bytes().to_vec();
    for m in adam.moment1.iter().chain(&adam.moment2) {
        push_f32s(&mut out, m);
    }
    out
}

/// The host engine's networks as the four sections (generator, critic, their optimisers):
/// little-endian `f32` buffers in parameter order (the generator's running statistics after
/// its parameters; an optimiser's step count as an `i32` first).
pub fn host_sections(nets: &HostNetworks) -> Vec<Vec<u8>> {
    let mut generator = nets.generator.clone();
    let mut g = Vec::new();
    for p in generator.params_mut() {
        push_f32s(&mut g, p);
    }
    for b in &nets.generator.blocks {
        push_f32s(&mut g, &b.running_mean);
        push_f32s(&mut g, &b.running_var);
    }
    let mut critic = nets.critic.clone();
    let mut d = Vec::new();
    for p in critic.params_mut() {
        push_f32s(&mut d, p);
    }
    vec![
        g,
        d,
        adam_bytes(&nets.generator_optim),
        adam_bytes(&nets.critic_optim),
    ]
}

/// Reads `f32`s from a section in order, failing if it is too short or too long.
struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl Reader<'_> {
    fn fill(&mut self, target: &mut [f32]) -> Result<()> {
        let need = target.len() * 4;
        if self.bytes.len() < need {
            return Err(record_error(
                self.what,
                "section is shorter than the networks",
            ));
        }
        for (t, c) in target.iter_mut().zip(self.bytes[..need].chunks_exact(4)) {
            *t = f32::from_le_bytes(c.try_into().expect("4 bytes"));
        }
        self.bytes = &self.bytes[need..];
        Ok(())
    }

    fn finish(self) -> Result<()> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(record_error(
                self.what,
                "section is longer than the networks",
            ))
        }
    }
}

fn load_adam(adam: &mut Adam, bytes: &[u8], what: &'static str) -> Result<()> {
    if bytes.len() < 4 {
        return Err(record_error(what, "section is cut short"));
    }
    adam.time = i32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
    let mut r = Reader {
        bytes: &bytes[4..],
        what,
    };
    for m in adam.moment1.iter_mut().chain(adam.moment2.iter_mut()) {
        r.fill(m)?;
    }
    r.finish()
}

/// Restores host-engine networks shaped like `fresh` from [`host_sections`]' bytes.
pub fn load_host(mut fresh: HostNetworks, sections: &[Vec<u8>]) -> Result<HostNetworks> {
    let mut r = Reader {
        bytes: &sections[0],
        what: SECTIONS[0],
    };
    for p in fresh.generator.params_mut() {
        r.fill(p)?;
    }
    for b in &mut fresh.generator.blocks {
        r.fill(&mut b.running_mean)?;
        r.fill(&mut b.running_var)?;
    }
    r.finish()?;
    let mut r = Reader {
        bytes: &sections[1],
        what: SECTIONS[1],
    };
    for p in fresh.critic.params_mut() {
        r.fill(p)?;
    }
    r.finish()?;
    load_adam(&mut fresh.generator_optim, &sections[2], SECTIONS[2])?;
    load_adam(&mut fresh.critic_optim, &sections[3], SECTIONS[3])?;
    Ok(fresh)
}

impl Checkpoint {
    /// Serialises the checkpoint.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut header = self.header.clone();
        header.sections = SECTIONS
            .iter()
            .zip(&self.sections)
            .map(|(n, s)| (n.to_string(), s.len()))
            .collect();
        let json = serde_json::to_vec(&header)
            .map_err(|e| Error::Training(format!("cannot serialise the checkpoint header: {e}")))?;
        let mut out = Vec::new();
        out.extend_from_slice(CHECKPOINT_MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(&json);
        for s in &self.sections {
            out.extend_from_slice(s);
        }
        let crc = crc32fast::hash(&out[8..]);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }

    /// Parses and validates a checkpoint read from `path` (named in errors).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Checkpoint> {
        let bad = |m: &str| Error::model_file(path, format!("checkpoint {m}"));
        if bytes.len() < 24 || &bytes[..8] != CHECKPOINT_MAGIC {
            return Err(bad("magic bytes missing or file truncated"));
        }
        let body_end = bytes.len() - 4;
        let stored = u32::from_le_bytes(bytes[body_end..].try_into().expect("4 bytes"));
        if crc32fast::hash(&bytes[8..body_end]) != stored {
            return Err(bad("is damaged or was cut short (checksum mismatch)"));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version > FORMAT_VERSION {
            return Err(bad("was written by a newer dpsynth; upgrade to resume it"));
        }
        let header_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes")) as usize;
        let header: CheckpointHeader = bytes
            .get(20..20 + header_len)
            .ok_or_else(|| bad("header is cut short"))
            .and_then(|h| {
                serde_json::from_slice(h).map_err(|e| bad(&format!("header is not valid: {e}")))
            })?;
        let mut at = 20 + header_len;
        let mut sections = Vec::new();
        for (_, len) in &header.sections {
            let s = bytes
                .get(at..at + len)
                .filter(|_| at + len <= body_end)
                .ok_or_else(|| bad("sections are cut short"))?;
            sections.push(s.to_vec());
            at += len;
        }
        if at != body_end || sections.len() != SECTIONS.len() {
            return Err(bad("sections do not match the header"));
        }
        Ok(Checkpoint { header, sections })
    }

    /// Writes the checkpoint atomically (temporary file, fsync, rename).
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes()?)
    }

    /// Reads and validates a checkpoint.
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let bytes =
            std::fs::read(path).map_err(|e| Error::io(path, "reading the checkpoint", e))?;
        Self::from_bytes(&bytes, path)
    }
}
