//! Overnight runs: a run folder per training run, checkpoints every few minutes or epochs
//! (atomic, the last K kept), resume from the newest valid checkpoint, and clean stops on a
//! signal or a time limit that leave a checkpoint and a released generator behind.
//!
//! The caller owns the signal handling: it sets the `stop` flag, and the run stops after the
//! step in progress.

pub mod audit;
pub mod folder;
pub mod score;
pub mod tune;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use burn::tensor::Device;

pub use folder::{list_runs, RunFolder, RunListing, RunState, RunStatus};
pub use score::Scorer;

use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::export::ModelFile;
use crate::export::PrivacySection;
use crate::read::{read_training_table, Table};
use crate::train::{Checkpoint, MetricsLog, Progress, Trainer};

/// When to checkpoint and when to give up.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Stop cleanly (checkpoint + released file) after this much wall time.
    pub max_time: Option<Duration>,
    /// Checkpoint at the first epoch end after this much time since the last checkpoint.
    pub checkpoint_every: Option<Duration>,
    /// Checkpoint every this many epochs.
    pub checkpoint_every_epochs: Option<usize>,
    /// Checkpoints kept (the newest).
    pub keep_checkpoints: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            max_time: None,
            checkpoint_every: Some(Duration::from_secs(600)),
            checkpoint_every_epochs: None,
            keep_checkpoints: 3,
        }
    }
}

/// How a run session ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Finished or stopped.
    pub state: RunState,
    /// Completed epochs.
    pub epochs_done: usize,
    /// The released generator.
    pub released: PathBuf,
    /// What happened, and what to do next.
    pub message: String,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn file_crc(path: &Path) -> Result<u32> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "reading the table", e))?;
    Ok(crc32fast::hash(&bytes))
}

/// Seed of the holdout split of `score.holdout_share`, fixed so that a resume trains on the
/// same rows.
const HOLDOUT_SEED: u64 = 0x0004_01D0;

/// The rows a run trains on and its scorer: `score.holdout_share` of the rows are held out
/// (non-DP only; the config refuses it in DP mode) and scored against.
fn prepare(table: Table, config: &RunConfig) -> Result<(Table, Option<Scorer>)> {
    if config.score.holdout_share > 0.0 {
        let (train, holdout) = score::split_rows(&table, config.score.holdout_share, HOLDOUT_SEED);
        let scorer = Scorer::for_run(config, &train, Some(&holdout))?;
        Ok((train, scorer))
    } else {
        let scorer = Scorer::for_run(config, &table, None)?;
        Ok((table, scorer))
    }
}

/// Starts a new run in `folder` on the table at `data`.
pub fn start(
    folder: &RunFolder,
    data: &Path,
    config: &RunConfig,
    device: &Device,
    options: &RunOptions,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<Outcome> {
    if folder.status_path().exists() {
        return Err(Error::Training(format!(
            "{} already holds a run; continue it with `dpsynth train --resume {}` or choose another --run folder",
            folder.dir.display(),
            folder.dir.display()
        )));
    }
    std::fs::create_dir_all(folder.checkpoints())
        .map_err(|e| Error::io(&folder.dir, "creating the run folder", e))?;
    let toml = toml::to_string(config)
        .map_err(|e| Error::Training(format!("cannot write the resolved config: {e}")))?;
    crate::atomic::write_atomic(&folder.config(), toml.as_bytes())?;
    // Absolute, so that `--resume` works from any directory.
    let data = &std::fs::canonicalize(data).map_err(|e| Error::io(data, "opening the table", e))?;
    let data_crc32 = file_crc(data)?;
    let (table, _) = read_training_table(data, config)?;
    let mut status = RunStatus {
        state: RunState::Running,
        epoch: 0,
        epochs: config.train.epochs,
        epsilon: None,
        target_epsilon: config.privacy.epsilon,
        data: data.to_path_buf(),
        data_crc32,
        released: None,
        message: None,
        pid: std::process::id(),
        updated: now(),
        score: None,
        best: None,
    };
    folder.write_status(&status)?;
    let (table, scorer) = prepare(table, config)?;
    if config.privacy.enabled() && config.score.rows > 0 && scorer.is_none() {
        progress.note("DP mode: epochs are not scored (a score on private rows would be uncharged); set score.public_table to score against a public table");
    }
    let trainer = match Trainer::with_progress(table, config, device, Some(progress)) {
        Ok(t) => t,
        Err(e) => {
            status.state = RunState::Failed;
            status.message = Some(e.to_string());
            folder.write_status(&status)?;
            return Err(e);
        }
    };
    for note in trainer.fit_notes(config) {
        progress.note(&note);
    }
    status.epochs = trainer.epochs();
    // Before the first step: a crash in epoch 1 resumes here instead of refitting (which in DP
    // mode would spend the preprocessing budget a second time).
    write_checkpoint(folder, &trainer, options)?;
    let metrics = MetricsLog::create(&folder.metrics())?;
    drive(
        folder, trainer, scorer, status, metrics, device, options, progress, stop,
    )
}

/// Continues the run in `folder` from its newest valid checkpoint; `epochs` raises the epoch
/// count (in DP mode the budget still stops the run at the target ε; `train.max_steps` still
/// caps it, as [`Trainer::epochs`] counts).
pub fn resume(
    folder: &RunFolder,
    epochs: Option<usize>,
    device: &Device,
    options: &RunOptions,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<Outcome> {
    let mut status = folder.status()?;
    if status.state == RunState::Running && status.is_alive() && status.pid != std::process::id() {
        return Err(Error::Training(format!(
            "{} is still being trained by process {}; stop it first (Ctrl-C or kill {})",
            folder.dir.display(),
            status.pid,
            status.pid
        )));
    }
    if file_crc(&status.data)? != status.data_crc32 {
        return Err(Error::table(
            &status.data,
            "this file changed since the run started; a resumed run must train on the same table",
        ));
    }
    let mut checkpoint = None;
    for path in folder.checkpoint_files() {
        match Checkpoint::read(&path) {
            Ok(c) => {
                checkpoint = Some(c);
                break;
            }
            Err(e) => progress.note(&format!("warning: skipping a damaged checkpoint: {e}")),
        }
    }
    let Some(mut checkpoint) = checkpoint else {
        return Err(Error::Training(format!(
            "{} has no valid checkpoint to resume from; start a new run",
            folder.checkpoints().display()
        )));
    };
    if let Some(e) = epochs {
        checkpoint.header.config.train.epochs = e;
    }
    let config = checkpoint.header.config.clone();
    let (table, _) = read_training_table(&status.data, &config)?;
    let (table, scorer) = prepare(table, &config)?;
    let trainer = Trainer::resume(table, &checkpoint, device)?;
    if config.privacy.enabled() && status.best.is_some_and(|(e, _)| e > trainer.epochs_done()) {
        // That generator came from steps after the checkpoint, which are run again now; in DP
        // mode only the steps the ledger counts may shape the release.
        status.best = None;
        let _ = std::fs::remove_file(folder.best_model());
    }
    progress.note(&format!(
        "resuming {} at epoch {} (step {} of the epoch) from {}",
        folder.dir.display(),
        checkpoint.header.epochs_done,
        checkpoint.header.step_in_epoch,
        folder
            .checkpoint(
                checkpoint.header.epochs_done,
                checkpoint.header.step_in_epoch
            )
            .display()
    ));
    let metrics = MetricsLog::resume(&folder.metrics(), trainer.epochs_done())?;
    status.state = RunState::Running;
    status.epochs = trainer.epochs();
    status.pid = std::process::id();
    status.message = None;
    folder.write_status(&status)?;
    drive(
        folder, trainer, scorer, status, metrics, device, options, progress, stop,
    )
}

fn write_checkpoint(folder: &RunFolder, trainer: &Trainer, options: &RunOptions) -> Result<()> {
    let c = trainer.checkpoint()?;
    c.write(&folder.checkpoint(c.header.epochs_done, c.header.step_in_epoch))?;
    folder.prune_checkpoints(options.keep_checkpoints);
    Ok(())
}

/// Trains until done, stopped or failed; always leaves a checkpoint and, unless training
/// failed, a released generator.
#[allow(clippy::too_many_arguments)]
fn drive(
    folder: &RunFolder,
    mut trainer: Trainer,
    scorer: Option<Scorer>,
    mut status: RunStatus,
    mut metrics: MetricsLog,
    device: &Device,
    options: &RunOptions,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<Outcome> {
    let started = Instant::now();
    let mut last_checkpoint = Instant::now();
    let epochs = trainer.epochs();
    let out_of_time = || options.max_time.is_some_and(|t| started.elapsed() >= t);
    let should_stop = || stop.load(Ordering::SeqCst) || out_of_time();
    let (state, message) = loop {
        if trainer.epochs_done() >= epochs {
            break (RunState::Finished, format!("finished {epochs} epochs"));
        }
        if !trainer.budget_allows_epoch() {
            break (
                RunState::Finished,
                format!(
                    "stopped at epoch {}: another epoch would pass the target epsilon",
                    trainer.epochs_done()
                ),
            );
        }
        match trainer.epoch_until(&should_stop, Some(progress)) {
            Err(e) => {
                status.state = RunState::Failed;
                status.message = Some(format!(
                    "{e}; the last checkpoint is intact: fix the cause, then `dpsynth train --resume {}`",
                    folder.dir.display()
                ));
                status.updated = now();
                folder.write_status(&status)?;
                return Err(e);
            }
            Ok(Some(mut m)) => {
                if let Some(scorer) = &scorer {
                    if m.epoch % trainer.config().score.every == 0 || m.epoch == epochs {
                        score_epoch(folder, &trainer, scorer, &mut m, &mut status, device)?;
                    }
                }
                progress.epoch(&m, epochs);
                metrics.write(&m)?;
                let due = options
                    .checkpoint_every_epochs
                    .is_some_and(|k| k > 0 && m.epoch % k == 0)
                    || options
                        .checkpoint_every
                        .is_some_and(|t| last_checkpoint.elapsed() >= t);
                if due {
                    write_checkpoint(folder, &trainer, options)?;
                    last_checkpoint = Instant::now();
                    status.epoch = trainer.epochs_done();
                    status.epsilon = trainer.spent().map(|s| s.epsilon);
                    status.updated = now();
                    folder.write_status(&status)?;
                }
            }
            Ok(None) => {
                let why = if out_of_time() {
                    "the time limit was reached"
                } else {
                    "a stop signal arrived"
                };
                break (
                    RunState::Stopped,
                    format!(
                        "stopped in epoch {} because {why}; continue with `dpsynth train --resume {}`",
                        trainer.epochs_done() + 1,
                        folder.dir.display()
                    ),
                );
            }
        }
    };
    write_checkpoint(folder, &trainer, options)?;
    let file = released_file(folder, &trainer, scorer.as_ref(), &status)?;
    file.write(&folder.model())?;
    crate::atomic::write_atomic(&folder.ledger(), file.header.privacy.text().as_bytes())?;
    status.state = state;
    status.epoch = trainer.epochs_done();
    status.epsilon = trainer.spent().map(|s| s.epsilon);
    status.released = Some(folder.model());
    status.message = Some(message.clone());
    status.updated = now();
    folder.write_status(&status)?;
    let scores = match (&scorer, status.best) {
        (Some(s), Some((epoch, best))) => format!(
            "fidelity score (against {}): last {:.4}, best {best:.4} at epoch {epoch}\n",
            s.source,
            status.score.unwrap_or(f64::NAN)
        ),
        _ => String::new(),
    };
    let summary = format!(
        "run: {}\nstate: {:?}\nepochs: {} of {}\ntable: {}\nreleased generator: {} ({})\n{scores}{}\n{}\n",
        folder.dir.display(),
        state,
        status.epoch,
        status.epochs,
        status.data.display(),
        folder.model().display(),
        file.header
            .selection
            .clone()
            .unwrap_or_else(|| "the last epoch".into()),
        file.header.privacy.summary(),
        message
    );
    crate::atomic::write_atomic(&folder.summary(), summary.as_bytes())?;
    Ok(Outcome {
        state,
        epochs_done: status.epoch,
        released: folder.model(),
        message,
    })
}

/// Scores the epoch just trained; in `keep_best` runs a new best generator is written before
/// the status names it, so the status never points at a best file that is not there.
fn score_epoch(
    folder: &RunFolder,
    trainer: &Trainer,
    scorer: &Scorer,
    m: &mut crate::train::EpochMetrics,
    status: &mut RunStatus,
    device: &Device,
) -> Result<()> {
    let file = ModelFile::from_training(trainer.released(), trainer.config());
    let score = scorer.score(&file, device)?;
    m.score = Some(score);
    status.score = Some(score);
    if status.best.is_none_or(|(_, best)| score > best) {
        status.best = Some((m.epoch, score));
        if trainer.config().score.keep_best {
            file.write(&folder.best_model())?;
            status.epoch = trainer.epochs_done();
            status.updated = now();
            folder.write_status(status)?;
        }
    }
    Ok(())
}

/// The file a run releases: the current generator, or with `score.keep_best` the best-scoring
/// epoch's, carrying the whole run's ledger (every epoch was a candidate, so every step counts)
/// and a note of how it was chosen.
fn released_file(
    folder: &RunFolder,
    trainer: &Trainer,
    scorer: Option<&Scorer>,
    status: &RunStatus,
) -> Result<ModelFile> {
    let last = ModelFile::from_training(trainer.released(), trainer.config());
    let (Some(scorer), Some((epoch, best)), true) =
        (scorer, status.best, trainer.config().score.keep_best)
    else {
        return Ok(last);
    };
    if epoch == trainer.epochs_done() || !folder.best_model().exists() {
        return Ok(last);
    }
    let mut file = ModelFile::read(&folder.best_model())?;
    let cost = if trainer.config().privacy.enabled() {
        "public rows only: no privacy cost; epsilon counts every epoch trained"
    } else {
        "no privacy guarantee either way"
    };
    let selection = format!(
        "epoch {epoch} of {}, the best fidelity score ({best:.4}) against {} ({cost})",
        trainer.epochs_done(),
        scorer.source
    );
    file.header.privacy = match last.header.privacy {
        PrivacySection::Dp(mut ledger) => {
            ledger.selection = Some(selection.clone());
            PrivacySection::Dp(ledger)
        }
        PrivacySection::None => PrivacySection::None,
    };
    file.header.selection = Some(selection);
    file.header.config = last.header.config;
    Ok(file)
}
