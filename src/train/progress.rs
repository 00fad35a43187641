//! Progress reporting: an indicatif bar on a terminal, plain lines otherwise, nothing when quiet,
//! and a JSON-lines metrics file with one record per epoch.

use std::cell::Cell;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::error::{Error, Result};

/// One epoch's measurements, as written to the metrics file.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean generator loss over the epoch's steps.
    pub generator_loss: f64,
    /// Mean critic loss (with gradient penalty).
    pub discriminator_loss: f64,
    /// Wall time of the epoch.
    pub seconds: f64,
    /// Real rows consumed per second.
    pub rows_per_second: f64,
    /// ε spent so far (DP mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f64>,
    /// Fidelity score of a fixed-size sample (run folders only; see `[score]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// How progress is shown.
pub enum Progress {
    /// An indicatif bar over all steps of the run.
    Bar {
        /// The bar (its length becomes epochs x steps at the first step).
        bar: ProgressBar,
        /// Epochs of the run (those the trainer plans replace the configured ones at the
        /// first step: `train.max_steps` may cut them).
        epochs: Cell<usize>,
        /// Steps per epoch, once known (0 before the first step).
        steps: Cell<usize>,
    },
    /// One line per epoch on stderr, plus a line every [`LINE_EVERY`] within an epoch that
    /// runs longer than that.
    Lines {
        /// When the last in-epoch line was printed (or the epoch started).
        last: Cell<Instant>,
    },
    /// Nothing.
    Quiet,
}

/// How often a long epoch prints a progress line when stderr is not a terminal.
pub const LINE_EVERY: Duration = Duration::from_secs(5);

/// Where an epoch stands, for [`Progress::step`].
#[derive(Debug, Clone, Copy)]
pub struct StepProgress {
    /// 1-based epoch.
    pub epoch: usize,
    /// Epochs of the run.
    pub epochs: usize,
    /// Steps done in this epoch.
    pub step: usize,
    /// Steps per epoch.
    pub steps: usize,
    /// Rows this epoch has consumed so far (this session: steps done here x batch).
    pub rows: usize,
    /// Time since this epoch (or its resumed part) started.
    pub elapsed: Duration,
    /// Steps done since `elapsed` started counting.
    pub steps_timed: usize,
}

impl Progress {
    /// A bar when stderr is a terminal, plain lines otherwise, nothing when `quiet`.
    pub fn new(epochs: usize, quiet: bool) -> Self {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(epochs as u64);
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] ETA {eta} {msg}")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            Progress::Bar {
                bar,
                epochs: Cell::new(epochs),
                steps: Cell::new(0),
            }
        } else {
            Progress::Lines {
                last: Cell::new(Instant::now()),
            }
        }
    }

    /// Reports a step inside an epoch: the bar moves; plain lines appear every
    /// [`LINE_EVERY`] of a long epoch, with steps, rows/s and the epoch's ETA.
    pub fn step(&self, p: &StepProgress) {
        let rate = p.rows as f64 / p.elapsed.as_secs_f64().max(1e-9);
        let left = p.steps.saturating_sub(p.step) as f64 * p.elapsed.as_secs_f64()
            / p.steps_timed.max(1) as f64;
        match self {
            Progress::Bar { bar, epochs, steps } => {
                if steps.get() != p.steps || epochs.get() != p.epochs {
                    steps.set(p.steps);
                    epochs.set(p.epochs);
                    bar.set_length((p.epochs * p.steps) as u64);
                }
                bar.set_position(((p.epoch - 1) * p.steps + p.step) as u64);
                bar.set_message(format!(
                    "epoch {}/{} step {}/{} {rate:.0} rows/s",
                    p.epoch, p.epochs, p.step, p.steps
                ));
            }
            Progress::Lines { last } => {
                if last.get().elapsed() >= LINE_EVERY && p.step < p.steps {
                    last.set(Instant::now());
                    eprintln!(
                        "epoch {}/{}: step {}/{}, {rate:.0} rows/s, epoch ETA {left:.0} s",
                        p.epoch, p.epochs, p.step, p.steps
                    );
                }
            }
            Progress::Quiet => {}
        }
    }

    /// Reports a finished epoch.
    pub fn epoch(&self, m: &EpochMetrics, total: usize) {
        let mut msg = format!(
            "G {:.3} D {:.3} {:.0} rows/s",
            m.generator_loss, m.discriminator_loss, m.rows_per_second
        );
        if let Some(score) = m.score {
            msg.push_str(&format!(" score {score:.3}"));
        }
        match self {
            Progress::Bar { bar, steps, .. } => {
                bar.set_position((m.epoch * steps.get().max(1)) as u64);
                bar.set_message(format!("epoch {}/{total} {msg}", m.epoch));
            }
            Progress::Lines { last } => {
                last.set(Instant::now());
                eprintln!("epoch {}/{} {msg} ({:.2} s)", m.epoch, total, m.seconds)
            }
            Progress::Quiet => {}
        }
    }

    /// Prints a message without breaking the bar.
    pub fn note(&self, msg: &str) {
        match self {
            Progress::Bar { bar, .. } => bar.println(msg),
            Progress::Lines { .. } => eprintln!("{msg}"),
            Progress::Quiet => {}
        }
    }

    /// Prints a warning without breaking the bar, with `--quiet` too: something the run
    /// lost that the user has to act on.
    pub fn warn(&self, msg: &str) {
        match self {
            Progress::Bar { bar, .. } => bar.println(msg),
            Progress::Lines { .. } | Progress::Quiet => eprintln!("{msg}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Progress::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}

/// Appends JSON lines to the metrics file (created fresh for each run).
pub struct MetricsLog {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl MetricsLog {
    /// Creates (truncates) the metrics file.
    pub fn create(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(dir, "creating the directory", e))?;
        }
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, "creating", e))?;
        Ok(MetricsLog {
            file,
            path: path.to_owned(),
        })
    }

    /// Reopens the metrics file of a resumed run: records after epoch `epochs_done` (written
    /// after the checkpoint being resumed) are dropped, then new ones are appended.
    pub fn resume(path: &Path, epochs_done: usize) -> Result<Self> {
        let kept: String = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter(|line| {
                serde_json::from_str::<EpochMetrics>(line).is_ok_and(|m| m.epoch <= epochs_done)
            })
            .map(|line| format!("{line}\n"))
            .collect();
        crate::atomic::write_atomic(path, kept.as_bytes())?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, "opening", e))?;
        Ok(MetricsLog {
            file,
            path: path.to_owned(),
        })
    }

    /// Appends one record.
    pub fn write(&mut self, m: &EpochMetrics) -> Result<()> {
        let line = serde_json::to_string(m).expect("metrics serialise");
        writeln!(self.file, "{line}").map_err(|e| Error::io(&self.path, "writing", e))
    }
}
