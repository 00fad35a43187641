//! The run folder: where an overnight run keeps its resolved config, metrics, checkpoints,
//! released generator, status and summary, under fixed names.
//!
//! What may leave the machine and what may not are kept apart:
//! - `release/`: the generator files (`model.dpsynth`, `best.dpsynth`) and `ledger.txt`, the
//!   plain-text privacy ledger. Nothing else.
//! - `private/`: the training checkpoints (the critic, the optimiser and the DP stream's
//!   position: replaying it undoes every noise draw) and `metrics.jsonl` (critic losses
//!   computed on private rows without noise).
//! - the folder itself: `config.toml`, `status.json`, `summary.txt` (the run's bookkeeping,
//!   with the table's path).
//!
//! Folders written before this layout (`checkpoints/` at the top) are resumed in place.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::{Error, Result};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Training (or killed without a chance to say so: see [`RunStatus::is_alive`]).
    Running,
    /// All epochs done, or the privacy budget used up.
    Finished,
    /// Stopped cleanly by a signal or the time limit; resumable.
    Stopped,
    /// Stopped by an error; resumable from the last checkpoint when the cause is fixed.
    Failed,
}

/// The machine-readable status, rewritten at every checkpoint and at the end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    /// Where the run stands.
    pub state: RunState,
    /// Completed epochs.
    pub epoch: usize,
    /// Epochs asked for.
    pub epochs: usize,
    /// ε spent so far (DP only).
    pub epsilon: Option<f64>,
    /// The target ε (DP only).
    pub target_epsilon: Option<f64>,
    /// The training table.
    pub data: PathBuf,
    /// CRC-32 of the table file's bytes: a resume on another file is refused.
    pub data_crc32: u32,
    /// The released generator, once written.
    pub released: Option<PathBuf>,
    /// Why the run stopped or failed, and what to do.
    pub message: Option<String>,
    /// The training process.
    pub pid: u32,
    /// Seconds since the Unix epoch at the last update.
    pub updated: u64,
    /// The latest epoch's fidelity score, when scored.
    #[serde(default)]
    pub score: Option<f64>,
    /// The best fidelity score so far and its epoch.
    #[serde(default)]
    pub best: Option<(usize, f64)>,
}

impl RunStatus {
    /// Whether the process that last wrote a "running" status still exists (Linux: /proc).
    pub fn is_alive(&self) -> bool {
        Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

/// A run folder on disk.
#[derive(Debug, Clone)]
pub struct RunFolder {
    /// The folder.
    pub dir: PathBuf,
    /// A folder written before `release/` and `private/` existed: everything at the top.
    flat: bool,
}

impl RunFolder {
    /// The folder at `dir` (not created yet, or an existing run of either layout).
    pub fn new(dir: impl Into<PathBuf>) -> RunFolder {
        let dir = dir.into();
        let flat = dir.join("checkpoints").is_dir() && !dir.join("private").exists();
        RunFolder { dir, flat }
    }

    /// What may be shared: the generator files and the plain-text ledger.
    pub fn release_dir(&self) -> PathBuf {
        if self.flat {
            self.dir.clone()
        } else {
            self.dir.join("release")
        }
    }

    /// What must stay on the training machine: checkpoints and unnoised metrics.
    pub fn private_dir(&self) -> PathBuf {
        if self.flat {
            self.dir.clone()
        } else {
            self.dir.join("private")
        }
    }

    /// The plain-text privacy ledger of the released generator (beside it, shareable).
    pub fn ledger(&self) -> PathBuf {
        self.release_dir().join("ledger.txt")
    }

    /// The resolved config, as TOML.
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }
    /// Per-epoch metrics, JSON lines (private: critic losses on private rows).
    pub fn metrics(&self) -> PathBuf {
        self.private_dir().join("metrics.jsonl")
    }
    /// The released generator.
    pub fn model(&self) -> PathBuf {
        self.release_dir().join("model.dpsynth")
    }
    /// The status file.
    pub fn status_path(&self) -> PathBuf {
        self.dir.join("status.json")
    }
    /// The human-readable summary.
    pub fn summary(&self) -> PathBuf {
        self.dir.join("summary.txt")
    }
    /// The generator of the best-scoring epoch so far (`score.keep_best`).
    pub fn best_model(&self) -> PathBuf {
        self.release_dir().join("best.dpsynth")
    }
    /// The checkpoint folder (private).
    pub fn checkpoints(&self) -> PathBuf {
        self.private_dir().join("checkpoints")
    }

    /// The checkpoint file for a position in the run.
    pub fn checkpoint(&self, epoch: usize, step_in_epoch: usize) -> PathBuf {
        self.checkpoints()
            .join(format!("epoch-{epoch:06}-step-{step_in_epoch:06}.ckpt"))
    }

    /// Checkpoints present, newest first (temporary files of an interrupted write are
    /// ignored: their names start with a dot).
    pub fn checkpoint_files(&self) -> Vec<PathBuf> {
        let mut found: Vec<((usize, usize), PathBuf)> = std::fs::read_dir(self.checkpoints())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let rest = name.strip_prefix("epoch-")?.strip_suffix(".ckpt")?;
                let (epoch, step) = rest.split_once("-step-")?;
                Some(((epoch.parse().ok()?, step.parse().ok()?), e.path()))
            })
            .collect();
        found.sort_by_key(|b| std::cmp::Reverse(b.0));
        found.into_iter().map(|(_, p)| p).collect()
    }

    /// Keeps the newest `keep` checkpoints and deletes the rest, plus leftovers of writes
    /// that a kill interrupted.
    pub fn prune_checkpoints(&self, keep: usize) {
        for old in self.checkpoint_files().into_iter().skip(keep.max(1)) {
            let _ = std::fs::remove_file(old);
        }
        for e in std::fs::read_dir(self.checkpoints())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = name
                .rsplit_once(".tmp-")
                .is_some_and(|(_, pid)| pid == std::process::id().to_string());
            if name.starts_with('.') && !ours {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Reads the status file.
    pub fn status(&self) -> Result<RunStatus> {
        let path = self.status_path();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::io(
                &path,
                "reading the run status (is this a run folder made by `dpsynth train --run`?)",
                e,
            )
        })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::model_file(&path, format!("run status is not valid: {e}")))
    }

    /// Writes the status file atomically.
    pub fn write_status(&self, status: &RunStatus) -> Result<()> {
        let text = serde_json::to_string_pretty(status).expect("status serialises");
        write_atomic(&self.status_path(), text.as_bytes())
    }
}

/// One line of `dpsynth runs`.
#[derive(Debug, Clone)]
pub struct RunListing {
    /// The run folder.
    pub dir: PathBuf,
    /// Its status, or why it could not be read.
    pub status: std::result::Result<RunStatus, String>,
}

/// The run folders directly under `root` (and `root` itself when it is one), sorted by name.
pub fn list_runs(root: &Path) -> Result<Vec<RunListing>> {
    let mut dirs = Vec::new();
    if root.join("status.json").exists() {
        dirs.push(root.to_path_buf());
    }
    let entries =
        std::fs::read_dir(root).map_err(|e| Error::io(root, "listing the run folders", e))?;
    for e in entries.flatten() {
        if e.path().join("status.json").exists() {
            dirs.push(e.path());
        }
    }
    dirs.sort();
    Ok(dirs
        .into_iter()
        .map(|dir| RunListing {
            status: RunFolder::new(&dir).status().map_err(|e| e.to_string()),
            dir,
        })
        .collect())
}
