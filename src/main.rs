//! The `dpsynth` command line: parses flags, merges them with the TOML config, and calls the
//! library. All the work happens in `dpsynth::*`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use rand::SeedableRng;

use dpsynth::config::{DeviceChoice, RunConfig};
use dpsynth::export::ModelFile;
use dpsynth::read::{read_table, TableWriter};
use dpsynth::sample::GeneratorSampler;
use dpsynth::train::{MetricsLog, Progress, Reporting};

/// Synthetic tables from a CTGAN-style GAN, released as a generator-only file.
#[derive(Parser)]
#[command(name = "dpsynth", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a generator on a table and write the released generator file.
    Train(TrainArgs),
    /// Draw rows from a generator file into CSV or Parquet.
    Sample(SampleArgs),
    /// Show a generator file's schema, config, privacy status and sizes.
    Inspect(InspectArgs),
    /// Score a synthetic table against the real one: fidelity (SDMetrics' definitions) and,
    /// with a holdout, leakage (distances to closest records, copies, membership inference).
    Evaluate(EvaluateArgs),
    /// Plan a DP run before reading any data: the noise a target epsilon needs, or the epsilon
    /// a given noise spends.
    Privacy(PrivacyArgs),
    /// List run folders: state, progress, epsilon spent, best score, released file.
    Runs(RunsArgs),
    /// Search the config fields of `[tune.space]`: one run folder per trial, a leaderboard and
    /// the best config as TOML.
    Tune(TuneArgs),
    /// Measure the privacy claim: train once with canaries and print an empirical lower bound
    /// on epsilon (Steinke, Nasr & Jagielski 2023) beside the claimed one. Writes no generator.
    Audit(AuditArgs),
}

#[derive(clap::Args)]
struct AuditArgs {
    /// The table, config and config flags (as for `train`).
    #[command(flatten)]
    run: ConfigArgs,
    /// Gradient canaries on the critic's noisy sums (white-box; DP runs only).
    #[arg(long, default_value_t = 50_000)]
    gradient_canaries: usize,
    /// Canary rows drawn from the table (black-box).
    #[arg(long, default_value_t = 500)]
    row_canaries: usize,
    /// Rows sampled from the trained generator for the black-box scores.
    #[arg(long, default_value_t = 20_000)]
    samples: usize,
    /// Audit-only: train without the Gaussian noise (shows the audit catches it).
    #[arg(long)]
    no_noise: bool,
    /// Audit-only: train without per-row clipping (shows the audit catches it).
    #[arg(long)]
    no_clipping: bool,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args)]
struct TuneArgs {
    /// The table (CSV or Parquet); overrides `data.path` in the config.
    data: Option<PathBuf>,
    /// TOML config with a `[tune.space]` table.
    #[arg(long, short)]
    config: PathBuf,
    /// Most trials.
    #[arg(long, default_value_t = 20)]
    trials: usize,
    /// Wall-clock budget for all trials (e.g. 2h, 30m).
    #[arg(long, value_parser = humantime::parse_duration)]
    budget: Option<std::time::Duration>,
    /// The folder for the trials' run folders, the leaderboard and best.toml.
    #[arg(long)]
    run: PathBuf,
    /// Tune on this public table (same columns) instead of the private one: required in DP
    /// mode, where tuning on private rows would spend uncharged privacy.
    #[arg(long)]
    tune_on: Option<PathBuf>,
    /// DP mode: tune on the private table and charge it (the target epsilon is split among the
    /// --trials trials and a report-noisy-max choice; the winner is released as best.dpsynth).
    #[arg(long)]
    charge_trials: bool,
    /// With --charge-trials: share of epsilon for the choice.
    #[arg(long, default_value_t = 0.1)]
    selection_share: f64,
    /// Compute device (overrides `train.device`).
    #[arg(long, value_enum)]
    device: Option<DeviceChoice>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args)]
struct RunsArgs {
    /// A folder of run folders (or one run folder).
    #[arg(default_value = "runs")]
    dir: PathBuf,
}

#[derive(clap::Args)]
struct EvaluateArgs {
    /// The real (training) table.
    #[arg(long)]
    real: PathBuf,
    /// The synthetic table.
    #[arg(long)]
    synthetic: PathBuf,
    /// Real rows that were not used for training (enables the privacy measures).
    #[arg(long)]
    holdout: Option<PathBuf>,
    /// The generator file the synthetic rows came from: its privacy ledger is shown too.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Write every score as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Column to predict for the utility scores (needs --holdout; default: the model's first
    /// `privacy.targets`, with --model).
    #[arg(long)]
    target: Option<String>,
    /// Write a self-contained HTML report here.
    #[arg(long)]
    report: Option<PathBuf>,
}

#[derive(clap::Args)]
struct PrivacyArgs {
    /// Target epsilon (calibrates the noise multiplier).
    #[arg(long)]
    epsilon: Option<f64>,
    /// A fixed DP-SGD noise multiplier (reports the epsilon it spends).
    #[arg(long)]
    noise_multiplier: Option<f64>,
    /// Target delta.
    #[arg(long, default_value_t = 1e-6)]
    delta: f64,
    /// Rows of the private table.
    #[arg(long)]
    rows: usize,
    /// Expected batch size.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Epochs.
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// Discriminator steps per generator step.
    #[arg(long, default_value_t = 1)]
    discriminator_steps: usize,
    /// Most critic steps (`train.max_steps`): fewer epochs are planned where --epochs
    /// would take more.
    #[arg(long)]
    max_steps: Option<usize>,
    /// Share of epsilon for the preprocessing histograms.
    #[arg(long, default_value_t = 0.1)]
    preprocess_share: f64,
    /// A fixed noise multiplier for the preprocessing histograms.
    #[arg(long)]
    histogram_noise_multiplier: Option<f64>,
    /// Plan for discovering categories or bounds under DP (reserves a tenth of delta for
    /// thresholding); without it every column's domain is taken as public.
    #[arg(long)]
    discover: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// The flags that make a run's config, shared by `train` and `audit`.
#[derive(clap::Args)]
struct ConfigArgs {
    /// The table (CSV or Parquet); overrides `data.path` in the config.
    data: Option<PathBuf>,
    /// TOML config (see configs/README.md); CTGAN defaults when absent.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Train under DP on a table as it arrives: start from the settings measured on tables
    /// without public metadata (configs/dp-discover.toml, built in: epsilon 3, categories,
    /// bounds and storage types discovered under DP and charged); `--config` and the flags
    /// below are laid over them.
    #[arg(long)]
    discover: bool,
    /// Epochs (overrides `train.epochs`).
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size (overrides `train.batch_size`).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Compute device (overrides `train.device`).
    #[arg(long, value_enum)]
    device: Option<DeviceChoice>,
    /// Seed for a reproducible run (overrides `train.seed`); the DP noise then follows it too,
    /// and the run is marked not for release.
    #[arg(long)]
    seed: Option<u64>,
    /// Train with differential privacy to this epsilon (overrides `privacy.epsilon`).
    #[arg(long)]
    epsilon: Option<f64>,
    /// A column the released rows will be used to predict (repeatable; adds to
    /// `privacy.targets`): every pair table with it is measured, beside a tree over the other
    /// columns where every pair would be too noisy.
    #[arg(long = "target", value_name = "COLUMN")]
    targets: Vec<String>,
    /// Delta of the DP guarantee (overrides `privacy.delta`).
    #[arg(long)]
    delta: Option<f64>,
    /// Set a config field, as `KEY=VALUE` with a dotted key (repeatable), after the config
    /// file and before the flags above: e.g. `--set train.discriminator_lr=1e-4
    /// --set model.discriminator_dims=[128,128]`.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = dpsynth::config::parse_override)]
    set: Vec<(String, toml::Value)>,
}

#[derive(clap::Args)]
struct TrainArgs {
    /// The table, config and config flags.
    #[command(flatten)]
    run_config: ConfigArgs,
    /// Where to write the generator file (default: models/<table>.dpsynth).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Per-epoch metrics file, JSON lines (default: beside the output, `.metrics.jsonl`; in DP
    /// mode none unless given, as it holds critic losses on private rows without noise).
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    /// Train in this run folder (release/: model.dpsynth and ledger.txt, shareable; private/:
    /// checkpoints and metrics; config and status at the top).
    #[arg(long, conflicts_with_all = ["out", "metrics", "resume"])]
    run: Option<PathBuf>,
    /// Continue the run in this folder from its newest valid checkpoint (with --epochs: train
    /// longer; in DP mode the target epsilon still holds).
    #[arg(long, conflicts_with_all = ["data", "config", "discover", "batch_size", "seed", "epsilon", "delta", "device", "set", "targets"])]
    resume: Option<PathBuf>,
    /// With --run/--resume: stop cleanly after this long (e.g. 8h, 90m), leaving a checkpoint
    /// and a released file.
    #[arg(long, value_parser = humantime::parse_duration)]
    max_time: Option<std::time::Duration>,
    /// With --run/--resume: checkpoint at the first epoch end after this long (default 10m).
    #[arg(long, value_parser = humantime::parse_duration)]
    checkpoint_every: Option<std::time::Duration>,
    /// With --run/--resume: also checkpoint every this many epochs.
    #[arg(long)]
    checkpoint_every_epochs: Option<usize>,
    /// With --run/--resume: checkpoints kept.
    #[arg(long, default_value_t = 3)]
    keep_checkpoints: usize,
    /// With --run: release the best-scoring epoch's generator (sets `score.keep_best`; needs
    /// `score.holdout_share` or `score.public_table`).
    #[arg(long, requires = "run")]
    keep_best: bool,
}

#[derive(clap::Args)]
struct SampleArgs {
    /// The generator file written by `dpsynth train`.
    model: PathBuf,
    /// Number of rows.
    #[arg(short = 'n', long = "rows")]
    rows: usize,
    /// Output file; `.csv` or `.parquet`, or `-` for CSV on standard output.
    #[arg(short, long)]
    output: PathBuf,
    /// Only rows with this category, as `column=value`.
    #[arg(long)]
    condition: Option<String>,
    /// Seed: the same seed gives the same rows.
    #[arg(long)]
    seed: Option<u64>,
    /// Compute device.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceChoice,
    /// Statistics the generator's BatchNorm layers use: the saved running ones, or each
    /// block of 256 rows' own (as SDV ctgan samples); docs/quality.md compares them.
    #[arg(long, value_enum, default_value = "running")]
    batch_norm: dpsynth::sample::BatchNormMode,
    /// Map each continuous column's values onto the file's released mixture, keeping their
    /// order, draw each choice at its released share, and keep generated rows by their
    /// weight towards the file's noisy pair tables where it has them (a pilot of 20,480 rows
    /// first; no privacy spent). auto: for a DP file, whose mixtures are its noisy marginals
    /// (and, for a file without DP, only its exact correlations of continuous pairs); margins:
    /// as on, without the pair tables' weights or the pairs' correlations; off: none of it.
    #[arg(long, value_enum, default_value = "auto")]
    calibrate: dpsynth::sample::Calibrate,
    /// Rows generated per chunk (bounds memory).
    #[arg(long, default_value_t = 50_000)]
    chunk_rows: usize,
    /// With --condition: give up after generating this many times the requested rows.
    #[arg(long, default_value_t = 100)]
    max_tries_factor: usize,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args)]
struct InspectArgs {
    /// The generator file.
    model: PathBuf,
    /// Print the header as JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing to a closed pipe (`dpsynth inspect m | head`) would
    // panic; like other command-line tools, end quietly instead.
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Raise glibc's mmap and trim thresholds: burn allocates and frees large buffers every
    // op, and above the default thresholds each one comes from fresh zeroed pages (209,000+
    // page faults per Adult epoch). With 256 MiB an Adult epoch took 5.56/5.67 s against
    // 6.36/6.03 s (scripts/bench_cpu_options.sh, docs/performance.md).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => train(a),
        Command::Sample(a) => sample(a),
        Command::Inspect(a) => inspect(a),
        Command::Privacy(a) => privacy(a),
        Command::Evaluate(a) => evaluate(a),
        Command::Runs(a) => runs(a),
        Command::Tune(a) => tune(a),
        Command::Audit(a) => audit(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

impl ConfigArgs {
    /// The config file (or the defaults; with `--discover`, the file laid over the discovery
    /// preset) with `--set` and the flags applied, in that order.
    fn resolve(&self) -> Result<RunConfig> {
        let mut config = match (&self.config, self.discover) {
            (Some(path), false) => RunConfig::load(path)?,
            (None, false) => RunConfig::default(),
            (path, true) => RunConfig::discover_preset(path.as_deref())?,
        };
        if !self.set.is_empty() {
            config = config.with_overrides("--set", &self.set)?;
        }
        if let Some(e) = self.epochs {
            config.train.epochs = e;
        }
        if let Some(b) = self.batch_size {
            config.train.batch_size = b;
        }
        if let Some(d) = self.device {
            config.train.device = d;
        }
        if self.seed.is_some() {
            config.train.seed = self.seed;
        }
        if self.epsilon.is_some() {
            config.privacy.epsilon = self.epsilon;
        }
        for t in &self.targets {
            if !config.privacy.targets.contains(t) {
                config.privacy.targets.push(t.clone());
            }
        }
        if let Some(d) = self.delta {
            config.privacy.delta = d;
        }
        Ok(config)
    }
}

fn resolve_train(a: &TrainArgs) -> Result<(RunConfig, PathBuf, PathBuf)> {
    let mut config = a.run_config.resolve()?;
    if a.keep_best {
        config.score.keep_best = true;
    }
    config.validate("command line")?;
    let data = match (&a.run_config.data, &config.data.path) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => {
            bail!("no table given: pass it as an argument or set `data.path` in the config")
        }
    };
    let out = match (&a.out, &config.output.model) {
        (Some(o), _) => o.clone(),
        (None, Some(o)) => o.clone(),
        (None, None) => {
            let stem = data
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "model".into());
            PathBuf::from("models").join(format!("{stem}.dpsynth"))
        }
    };
    // A semicolon or tab file keeps its delimiter in the file's config, so that `sample`
    // writes it back in kind and `evaluate` reads the real rows with it.
    if let Some(d) = dpsynth::read::written_delimiter(&data, &config.data) {
        config.data.delimiter = d;
    }
    config.data.path = Some(data.clone());
    config.output.model = Some(out.clone());
    Ok((config, data, out))
}

/// Ctrl-C / SIGTERM: the first asks the run to stop after the current step (checkpoint and
/// released file follow); the second exits at once, leaving the last checkpoint as it was.
fn stop_flag() -> Result<&'static AtomicBool> {
    static STOP: AtomicBool = AtomicBool::new(false);
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            eprintln!("second interrupt: exiting now; the last checkpoint is intact");
            std::process::exit(130);
        }
        eprintln!("interrupt: stopping after the current step (press again to exit at once)");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(&STOP)
}

fn run_options(a: &TrainArgs) -> dpsynth::run::RunOptions {
    let defaults = dpsynth::run::RunOptions::default();
    dpsynth::run::RunOptions {
        max_time: a.max_time,
        checkpoint_every: a
            .checkpoint_every
            .or(if a.checkpoint_every_epochs.is_some() {
                None
            } else {
                defaults.checkpoint_every
            }),
        checkpoint_every_epochs: a.checkpoint_every_epochs,
        keep_checkpoints: a.keep_checkpoints.max(1),
    }
}

fn train_run(a: &TrainArgs) -> Result<()> {
    let stop = stop_flag()?;
    let options = run_options(a);
    let outcome = if let Some(dir) = &a.resume {
        let folder = dpsynth::run::RunFolder::new(dir);
        let status = folder.status()?;
        let config_device = RunConfig::load(&folder.config())?.train.device;
        let device = dpsynth::device::select(config_device)?;
        let progress = Progress::new(a.run_config.epochs.unwrap_or(status.epochs), a.quiet);
        let outcome = dpsynth::run::resume(
            &folder,
            a.run_config.epochs,
            &device.device,
            &options,
            &progress,
            stop,
        )?;
        progress.finish();
        outcome
    } else {
        let (config, data, _) = resolve_train(a)?;
        let folder = dpsynth::run::RunFolder::new(a.run.as_ref().expect("--run is set"));
        let device = dpsynth::device::select(config.train.device)?;
        let progress = Progress::new(config.train.epochs, a.quiet);
        progress.note(&format!(
            "training on {} in run folder {} with device {}",
            data.display(),
            folder.dir.display(),
            device_label(&config, &device.name)
        ));
        let outcome = dpsynth::run::start(
            &folder,
            &data,
            &config,
            &device.device,
            &options,
            &progress,
            stop,
        )?;
        progress.finish();
        outcome
    };
    // A stopped run's message says how to resume it: shown even with --quiet.
    if !a.quiet || outcome.state != dpsynth::run::RunState::Finished {
        eprintln!(
            "{}; released generator: {}",
            outcome.message,
            outcome.released.display()
        );
    }
    Ok(())
}

fn runs(a: RunsArgs) -> Result<()> {
    let listing = dpsynth::run::list_runs(&a.dir)?;
    if listing.is_empty() {
        println!("no run folders under {}", a.dir.display());
    }
    for run in listing {
        match run.status {
            Ok(s) => {
                let state = match s.state {
                    dpsynth::run::RunState::Running if !s.is_alive() => {
                        "interrupted (no process; resume it)".to_string()
                    }
                    other => format!("{other:?}").to_lowercase(),
                };
                let epsilon = match (s.epsilon, s.target_epsilon) {
                    (Some(e), Some(t)) => format!("epsilon {e:.3} of {t}"),
                    (Some(e), None) => format!("epsilon {e:.3}"),
                    _ => "no DP".into(),
                };
                let best = s.best.map_or("best score -".into(), |(epoch, score)| {
                    format!("best score {score:.3} (epoch {epoch})")
                });
                println!(
                    "{}  {}  epoch {}/{}  {}  {}  {}",
                    run.dir.display(),
                    state,
                    s.epoch,
                    s.epochs,
                    epsilon,
                    best,
                    s.released.map_or("-".into(), |p| p.display().to_string())
                );
            }
            Err(e) => println!("{}  unreadable: {e}", run.dir.display()),
        }
    }
    Ok(())
}

fn tune(a: TuneArgs) -> Result<()> {
    let mut config = RunConfig::load(&a.config)?;
    if let Some(d) = a.device {
        config.train.device = d;
    }
    let data = match (&a.data, &config.data.path) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => {
            bail!("no table given: pass it as an argument or set `data.path` in the config")
        }
    };
    // As `train` does: the trials train on Parquet splits, and a semicolon or tab file's
    // delimiter is kept in their files' config for `sample` to write back in kind.
    if let Some(d) = dpsynth::read::written_delimiter(&data, &config.data) {
        config.data.delimiter = d;
    }
    let stop = stop_flag()?;
    let device = dpsynth::device::select(config.train.device)?;
    let progress = Progress::new(config.train.epochs, a.quiet);
    let options = dpsynth::run::tune::TuneOptions {
        trials: a.trials,
        budget: a.budget,
        tune_on: a.tune_on.clone(),
        charge_trials: a.charge_trials,
        selection_share: a.selection_share,
    };
    let result = dpsynth::run::tune::tune(
        &a.run,
        &data,
        &config,
        &options,
        &device.device,
        &progress,
        stop,
    )?;
    progress.finish();
    println!("tuned on {}", result.tuned_on);
    println!("rank  score   epochs  seconds  trial  settings");
    for (rank, t) in result.leaderboard.iter().enumerate() {
        println!(
            "{:>4}  {:<6}  {:>6}  {:>7.1}  {}  {}{}",
            rank + 1,
            t.score.map_or("-".into(), |s| format!("{s:.4}")),
            t.epochs,
            t.seconds,
            t.folder.display(),
            dpsynth::run::tune::describe(&t.overrides),
            t.note
                .as_ref()
                .map_or(String::new(), |n| format!("  ({n})"))
        );
    }
    if let Some(released) = &result.released {
        println!(
            "released: {} (the chosen trial's generator with the tuning run's ledger)",
            released.display()
        );
    }
    println!(
        "leaderboard: {}\nbest config: {} (train it with `dpsynth train --config {}`)",
        result.leaderboard_file.display(),
        result.best_config.display(),
        result.best_config.display()
    );
    Ok(())
}

fn train(a: TrainArgs) -> Result<()> {
    if a.run.is_some() || a.resume.is_some() {
        return train_run(&a);
    }
    let (config, data, out) = resolve_train(&a)?;
    check_writable(&out)?;
    let read_started = std::time::Instant::now();
    let (table, read_notes) = dpsynth::read::read_training_table(&data, &config)?;
    let read_seconds = read_started.elapsed().as_secs_f64();
    let device = dpsynth::device::select(config.train.device)?;
    let progress = Progress::new(config.train.epochs, a.quiet);
    progress.note(&format!(
        "training on {} ({} rows x {} columns, read in {read_seconds:.2} s) with device {}",
        data.display(),
        table.n_rows(),
        table.columns.len(),
        device_label(&config, &device.name)
    ));
    for line in &read_notes {
        progress.note(line);
    }
    // The metrics hold critic losses computed on the rows without noise: in DP mode they are
    // written only when asked for (--metrics or output.metrics), never beside the released file
    // by default.
    let metrics_path = a
        .metrics
        .clone()
        .or(config.output.metrics.clone())
        .or_else(|| (!config.privacy.enabled()).then(|| out.with_extension("metrics.jsonl")));
    let mut metrics = match &metrics_path {
        Some(path) => Some(MetricsLog::create(path)?),
        None => None,
    };
    if config.privacy.enabled() && metrics_path.is_some() {
        progress.note("DP mode: the metrics file holds critic losses on private rows without noise; keep it with the private table, do not share it");
    }
    let started = std::time::Instant::now();
    let trained = dpsynth::train::train(
        table,
        &config,
        &device.device,
        Reporting {
            progress: &progress,
            metrics: metrics.as_mut(),
        },
    )?;
    progress.finish();
    let file = ModelFile::from_training(trained, &config);
    file.write(&out)?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    if !a.quiet {
        eprintln!(
            "wrote {} ({:.1} MiB) in {:.1} s; {}",
            out.display(),
            size as f64 / (1024.0 * 1024.0),
            started.elapsed().as_secs_f64(),
            file.header.privacy.summary()
        );
    }
    Ok(())
}

/// Fails early, before hours of training, when the output's directory cannot be written.
fn check_writable(out: &Path) -> Result<()> {
    let dir = match out.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("{}: cannot create the output directory", dir.display()))?;
    let probe = dpsynth::atomic::temporary_sibling(out);
    std::fs::write(&probe, b"")
        .with_context(|| format!("{}: the output location is not writable", out.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The device's name for the training log, with the host engine's matrix-product library
/// when that engine trains.
fn device_label(config: &RunConfig, name: &str) -> String {
    if dpsynth::device::uses_host_engine(config.train.device) && !config.privacy.enabled() {
        format!(
            "{name}, matrix products on {}",
            dpsynth::model::host::matmul_library()
        )
    } else {
        name.to_string()
    }
}

fn sample(a: SampleArgs) -> Result<()> {
    let model = ModelFile::read(&a.model)?;
    if !a.quiet {
        eprintln!("{}", model.header.privacy.summary());
    }
    let device = dpsynth::device::select(a.device)?;
    let mut sampler =
        GeneratorSampler::new(&model, &device.device, &a.model)?.with_batch_norm(a.batch_norm);
    if dpsynth::device::uses_host_engine(a.device) {
        sampler = sampler.on_host();
    }
    if a.calibrate.applies(&model) {
        sampler = sampler.calibrated_with(a.calibrate != dpsynth::sample::Calibrate::Margins);
        if !a.quiet {
            eprintln!(
                "calibrated {} continuous columns onto the released mixtures",
                sampler.calibrated_columns()
            );
            if let Some((tables, kept)) = sampler.pair_weighting() {
                eprintln!(
                    "generated rows kept by their weight towards {tables} released pair tables: about {:.0}% of them (--calibrate margins: all)",
                    100.0 * kept
                );
            }
        }
    } else if a.calibrate == dpsynth::sample::Calibrate::Auto {
        // A file without DP: its exact correlations of continuous pairs, if it holds them.
        sampler = sampler.with_exact_dependence();
    }
    if !a.quiet && !sampler.links().is_empty() {
        eprintln!(
            "drawn from a pair table given the column that determines them: {}",
            sampler.links().describe(&model.header.transformer)
        );
    }
    if !a.quiet && !sampler.redraws().is_empty() {
        eprintln!(
            "drawn again from the released pair tables given their neighbours: {}",
            sampler.redraws().describe(&model.header.transformer)
        );
    }
    let edges = sampler.dependence_edges();
    if !a.quiet && !edges.is_empty() {
        let names = &model.header.transformer.schema.columns;
        let described: Vec<String> = edges
            .iter()
            .map(|&(p, c, _, _)| format!("{} with {}", names[c].name, names[p].name))
            .collect();
        eprintln!(
            "continuous pairs moved to the file's correlation (released under DP, exact without): {} (--calibrate off: none)",
            described.join(", ")
        );
    }
    let condition = a
        .condition
        .as_deref()
        .map(|c| sampler.resolve_condition(c))
        .transpose()?;
    let seed = a.seed.unwrap_or_else(rand::random);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut writer =
        TableWriter::create(&a.output)?.with_delimiter(&model.header.config.data.delimiter);
    // Chunks start on tiles of stream blocks, so --seed gives the same rows whatever
    // --chunk-rows is.
    let block = dpsynth::sample::BLOCK_ROWS * dpsynth::sample::TILE_BLOCKS;
    let chunk = a.chunk_rows.max(1).div_ceil(block) * block;
    let mut done = 0;
    let started = std::time::Instant::now();
    let mut generating = std::time::Duration::ZERO;
    loop {
        let n = (a.rows - done).min(chunk);
        let chunk_started = std::time::Instant::now();
        let table = match &condition {
            None => sampler.sample_stream(seed, done, n),
            Some(c) => sampler.sample_table(n, Some(c), a.max_tries_factor, &mut rng)?,
        };
        generating += chunk_started.elapsed();
        writer.write(&table)?;
        done += n;
        if done >= a.rows {
            break;
        }
    }
    writer.finish()?;
    if !a.quiet {
        let total = started.elapsed().as_secs_f64();
        let g = generating.as_secs_f64();
        eprintln!(
            "wrote {} rows to {} in {total:.2} s (generating {g:.2} s, {:.0} rows/s; writing {:.2} s)",
            a.rows,
            a.output.display(),
            a.rows as f64 / g.max(1e-9),
            total - g
        );
    }
    Ok(())
}

fn inspect(a: InspectArgs) -> Result<()> {
    let size = std::fs::metadata(&a.model)
        .with_context(|| format!("{}: cannot read the model file", a.model.display()))?
        .len();
    let model = ModelFile::read(&a.model)?;
    let h = &model.header;
    if a.json {
        println!("{}", serde_json::to_string_pretty(h)?);
        return Ok(());
    }
    println!("{}", a.model.display());
    println!("  {}", h.privacy.summary());
    for (label, line) in h.privacy.details() {
        println!("    {label}: {line}");
    }
    println!(
        "  written by {}; trained {} epochs on {} rows",
        h.written_by, h.epochs_run, h.training_rows
    );
    if let Some(selection) = &h.selection {
        println!("  released epoch: {selection}");
    }
    let indicators =
        dpsynth::sample::indicator_groups(&h.transformer, h.pairs.as_ref(), h.training_rows);
    if let Some(pairs) = &h.pairs {
        println!(
            "  released with the generator: {} noisy two-way marginal tables (noise std {:.1} per count; outputs of the charged preprocessing mechanism), towards which sampling weighs rows",
            pairs.tables.len(),
            pairs.noise_std
        );
        let links = dpsynth::train::links::Links::find(pairs, &h.transformer, h.training_rows)
            .sparing(|c| indicators.holds(c));
        println!(
            "  drawn from a released table given the column that determines them: {}",
            links.describe(&h.transformer)
        );
        print_correlations("released", &pairs.copula, &h.transformer);
    }
    if let Some(exact) = &h.determined {
        let links = dpsynth::train::links::Links::find(exact, &h.transformer, h.training_rows);
        println!(
            "  drawn from the table's exact pair table given the column that determines them (no DP): {}",
            links.describe(&h.transformer)
        );
        print_correlations("exact (no DP)", &exact.copula, &h.transformer);
    }
    println!(
        "  indicator columns drawn one per row (names of one stem whose released shares of 1 sum to 1): {}",
        indicators.describe(&h.transformer)
    );
    let weights: usize = model.tensors.iter().map(|t| t.data.len()).sum();
    println!(
        "  file size {} bytes; generator {} tensors, {} weights",
        size,
        model.tensors.len(),
        weights
    );
    println!(
        "  encoded row width {}; embedding {}; generator {:?}",
        h.transformer.output_dim(),
        h.config.model.embedding_dim,
        h.config.model.generator_dims
    );
    println!("  columns:");
    for (c, enc) in h
        .transformer
        .schema
        .columns
        .iter()
        .zip(&h.transformer.encoders)
    {
        let detail = match enc {
            dpsynth::transform::Encoder::Discrete(d) => format!("{} categories", d.width()),
            dpsynth::transform::Encoder::Continuous(e) => format!(
                "{} modes, range [{}, {}]{}{}{}, {:.1}% missing",
                e.modes.len(),
                e.min,
                e.max,
                e.trim
                    .map(|t| format!(" (sampled in [{}, {}])", t.lo, t.hi))
                    .unwrap_or_default(),
                c.lattice
                    .map(|l| format!(", on a lattice of {}", f64::from(l)))
                    .unwrap_or_default(),
                match (e.support.len(), e.support_shares.len()) {
                    (0, _) => String::new(),
                    (k, 0) => format!(", sampled on {k} values"),
                    (k, _) => format!(", sampled on {k} values at their noisy shares"),
                },
                100.0 * e.null_rate
            ),
        };
        println!(
            "    {:<20} {:?} {:?}: {}",
            dpsynth::dp::ledger::shown(&c.name),
            c.value_type,
            c.kind,
            detail
        );
    }
    Ok(())
}

fn audit(a: AuditArgs) -> Result<()> {
    let config = a.run.resolve()?;
    config.validate("command line")?;
    let data = match (&a.run.data, &config.data.path) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => {
            bail!("no table given: pass it as an argument or set `data.path` in the config")
        }
    };
    if let Some(json) = &a.json {
        check_writable(json)?;
    }
    let (mut table, _) = dpsynth::read::read_training_table(&data, &config)?;
    // Typed as training types it, so that canaries are compared with sampled rows as numbers
    // (in DP mode the columns with public metadata were read as written).
    dpsynth::train::type_as_trained(&mut table, &config)?;
    let device = dpsynth::device::select(config.train.device)?;
    let progress = Progress::new(config.train.epochs, a.quiet);
    let settings = dpsynth::run::audit::AuditSettings {
        gradient_canaries: a.gradient_canaries,
        row_canaries: a.row_canaries,
        samples: a.samples,
        switches: dpsynth::dp::audit::AuditSwitches {
            noise: !a.no_noise,
            clipping: !a.no_clipping,
        },
        ..Default::default()
    };
    progress.note(&format!(
        "audit run on {} ({} rows): {} gradient canaries, {} canary rows{}",
        data.display(),
        table.n_rows(),
        if config.privacy.enabled() {
            a.gradient_canaries
        } else {
            0
        },
        a.row_canaries,
        match (a.no_noise, a.no_clipping) {
            (false, false) => String::new(),
            (n, c) => format!(
                "; BROKEN ON PURPOSE:{}{}",
                if n { " no noise" } else { "" },
                if c { " no clipping" } else { "" }
            ),
        }
    ));
    let report = dpsynth::run::audit::audit(table, &config, &settings, &device.device, &progress)?;
    progress.finish();
    match report.claimed_epsilon {
        Some(e) => println!(
            "claimed: epsilon {e:.3}, delta {:e} (accountant spent {:.3}) over {} epochs on {} rows",
            report.delta,
            report.spent_epsilon.unwrap_or(f64::NAN),
            report.epochs,
            report.training_rows
        ),
        None => println!(
            "claimed: nothing (no DP) over {} epochs on {} rows",
            report.epochs, report.training_rows
        ),
    }
    let line = |name: &str, b: &dpsynth::dp::audit::AuditBound| {
        println!(
            "{name}: {} canaries ({} in); best guesses {} in + {} out, {} correct -> epsilon >= {:.3} ({:.0}% confidence)",
            b.canaries,
            b.included,
            b.guessed_in,
            b.guessed_out,
            b.correct,
            b.epsilon_lower_bound,
            b.confidence * 100.0
        )
    };
    if let Some(b) = &report.white_box {
        line("white-box (gradient canaries)", b);
    }
    if let Some(b) = &report.black_box {
        line("black-box (canary rows, closest sampled row)", b);
    }
    println!("{}", report.verdict());
    if let Some(json) = &a.json {
        let text = serde_json::to_string_pretty(&report).context("audit report as JSON")?;
        dpsynth::atomic::write_atomic(json, text.as_bytes())?;
    }
    Ok(())
}

fn privacy(a: PrivacyArgs) -> Result<()> {
    use dpsynth::dp::accountant::{epochs_within, steps_per_epoch};
    use dpsynth::dp::{Accountant, PlanRequest, PrivacyPlan};
    if a.max_steps == Some(0) {
        bail!("--max-steps must be at least 1 (leave it out for no cap)");
    }
    let epochs = epochs_within(
        a.epochs,
        steps_per_epoch(a.rows, a.batch) * a.discriminator_steps as u64,
        a.max_steps,
    );
    if epochs < a.epochs && !a.json {
        println!(
            "--max-steps {} cuts the {} epochs to {epochs}",
            a.max_steps.unwrap_or(0),
            a.epochs
        );
    }
    let a = PrivacyArgs { epochs, ..a };
    let plan = PrivacyPlan::new(&PlanRequest {
        epsilon: a.epsilon,
        delta: a.delta,
        rows: a.rows,
        batch: a.batch,
        epochs: a.epochs,
        discriminator_steps: a.discriminator_steps,
        preprocess_share: a.preprocess_share,
        noise_multiplier: a.noise_multiplier,
        histogram_noise_multiplier: a.histogram_noise_multiplier,
        discovery: a.discover,
    })?;
    let accountant = Accountant::new(plan.clone());
    let spent = accountant.spent(plan.planned_steps);
    let per_epoch = plan.planned_steps / a.epochs.max(1) as u64;
    let checkpoints: Vec<usize> = [1, 10, 30, 100, 300, 1000]
        .into_iter()
        .filter(|&e| e < a.epochs)
        .chain(std::iter::once(a.epochs))
        .collect();
    let by_epoch: Vec<(usize, f64)> = checkpoints
        .iter()
        .map(|&e| (e, accountant.spent(e as u64 * per_epoch).epsilon))
        .collect();
    if a.json {
        let value = serde_json::json!({
            "noise_multiplier": plan.noise_multiplier,
            "sample_rate": plan.sample_rate,
            "epochs": a.epochs,
            "steps": plan.planned_steps,
            "epsilon": spent.epsilon,
            "epsilon_sgd": spent.epsilon_sgd,
            "epsilon_preprocessing": spent.epsilon_preprocess,
            "best_order": spent.order,
            "delta": plan.target_delta,
            "delta_conversion": plan.delta_conversion,
            "delta_threshold": plan.delta_threshold,
            "histogram_noise_multiplier": plan.histogram_noise_multiplier,
            "epsilon_by_epoch": by_epoch.iter().map(|(e, eps)| serde_json::json!({"epoch": e, "epsilon": eps})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "noise multiplier {:.4}; sample rate {:.5} ({} of {} rows per step); {} steps ({} per epoch)",
        plan.noise_multiplier, plan.sample_rate, a.batch, a.rows, plan.planned_steps, per_epoch
    );
    println!(
        "epsilon {:.4} at delta {:.1e} (order {}): {:.4} from DP-SGD alone, {:.4} from preprocessing alone",
        spent.epsilon, plan.target_delta, spent.order, spent.epsilon_sgd, spent.epsilon_preprocess
    );
    if let Some(z) = plan.histogram_noise_multiplier {
        println!(
            "preprocessing histograms: joint noise multiplier {z:.3}; {:.1e} of delta reserved for category thresholding",
            plan.delta_threshold
        );
    }
    for (e, eps) in by_epoch {
        println!("  after epoch {e:>5}: epsilon {eps:.4}");
    }
    Ok(())
}

fn evaluate(a: EvaluateArgs) -> Result<()> {
    let model = a.model.as_deref().map(ModelFile::read).transpose()?;
    // The real rows are read as training read them when the generator file says how (its
    // `[data]`: the columns it left out with `drop`, its encoding and delimiter); the sampled
    // rows as dpsynth writes them.
    let options = dpsynth::config::DataConfig::default();
    let real_options = model.as_ref().map_or_else(
        || options.clone(),
        |m| dpsynth::config::DataConfig {
            path: None,
            ..m.header.config.data.clone()
        },
    );
    let started = std::time::Instant::now();
    let real = read_table(&a.real, &real_options)?;
    let synthetic = read_table(&a.synthetic, &options)?;
    let holdout = a
        .holdout
        .as_deref()
        .map(|h| read_table(h, &real_options))
        .transpose()?;
    // Without --target, the column the model was trained to keep (`privacy.targets`, or the
    // one its name made the target: the ledger's) where there is a holdout to score it on.
    let target = a.target.clone().or_else(|| {
        holdout.as_ref()?;
        let header = &model.as_ref()?.header;
        header
            .config
            .privacy
            .targets
            .first()
            .cloned()
            .or_else(|| match &header.privacy {
                dpsynth::export::PrivacySection::Dp(ledger) => {
                    ledger.preprocessing.targets.first().cloned()
                }
                dpsynth::export::PrivacySection::None => None,
            })
    });
    let (report, synthetic) =
        dpsynth::evaluate::evaluate_with(&real, synthetic, holdout, target.as_deref())?;
    let f = &report.fidelity;
    println!(
        "fidelity (SDMetrics definitions; {} real vs {} synthetic rows): overall {:.3}, column shapes {:.3}, pair trends {:.3} ({} related pairs; {:.3} over all {} pairs)",
        report.rows.real,
        report.rows.synthetic,
        f.overall,
        f.column_shapes,
        f.column_pair_trends,
        f.pairs.iter().filter(|p| p.meets_threshold).count(),
        f.column_pair_trends_all,
        f.pairs.len()
    );
    for (s, m) in f.shapes.iter().zip(&f.missing) {
        println!(
            "  {:<24} {:<13} {:.3}   missing {:.1}% real, {:.1}% synthetic",
            s.column,
            s.metric,
            s.score,
            100.0 * m.real,
            100.0 * m.synthetic
        );
    }
    if let Some(p) = &report.privacy {
        println!(
            "privacy ({} rows per side): distance to closest record, median {:.3} to training vs {:.3} to holdout (5th percentile {:.3} vs {:.3}); closer to training {:.1}%; exact copies of training rows {:.2}%; membership-inference AUC {:.3} (0.5 = chance)",
            p.rows_compared,
            p.dcr_train_median,
            p.dcr_holdout_median,
            p.dcr_train_p5,
            p.dcr_holdout_p5,
            100.0 * p.closer_to_train_share,
            100.0 * p.exact_copies,
            p.membership_auc
        );
    }
    if let Some(u) = &report.utility {
        let show = |s: &dpsynth::evaluate::utility::ModelScores| match s.r2 {
            Some(r2) => format!("R² {r2:.3}"),
            None => format!(
                "accuracy {:.3}, macro-F1 {:.3}{}",
                s.accuracy.unwrap_or(f64::NAN),
                s.macro_f1.unwrap_or(f64::NAN),
                s.roc_auc
                    .map_or(String::new(), |a| format!(", ROC-AUC {a:.3}"))
            ),
        };
        println!(
            "utility ({}, target {}, tested on the holdout): trained on synthetic: {}; trained on real: {}",
            u.model,
            u.target,
            show(&u.synthetic),
            show(&u.real)
        );
    }
    let privacy = model.map(|m| m.header.privacy);
    if let Some(p) = &privacy {
        println!("model: {}", p.summary());
    }
    if let Some(path) = &a.report {
        let ledger = privacy.as_ref().map(|p| (p.summary(), p.details()));
        let html = dpsynth::evaluate::report::render(&report, &real, &synthetic, ledger.as_ref());
        dpsynth::atomic::write_atomic(path, html.as_bytes())?;
        println!("report: {}", path.display());
    }
    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&report)?;
        dpsynth::atomic::write_atomic(path, text.as_bytes())?;
    }
    eprintln!("evaluated in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `inspect`'s line of a file's normal-score correlations of continuous pairs (`kind`:
/// released or exact), which sampling moves the pairs towards (`transform::dependence`).
fn print_correlations(
    kind: &str,
    pairs: &[((usize, usize), f64)],
    transformer: &dpsynth::transform::DataTransformer,
) {
    if pairs.is_empty() {
        return;
    }
    let name = |c: usize| transformer.schema.columns[c].name.as_str();
    let listed: Vec<String> = pairs
        .iter()
        .map(|&((a, b), rho)| format!("{}-{} {rho:.2}", name(a), name(b)))
        .collect();
    println!(
        "  {kind} normal-score correlations of continuous pairs, which sampling sets where the generator misses them: {}",
        listed.join(", ")
    );
}
