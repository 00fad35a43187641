//! The `dpsynth` command line: parses flags, merges them with the TOML config, and calls the
//! library. All the work happens in `dpsynth::*`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
}

#[derive(clap::Args)]
struct TrainArgs {
    /// The table (CSV or Parquet); overrides `data.path` in the config.
    data: Option<PathBuf>,
    /// TOML config (see configs/README.md); CTGAN defaults when absent.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Where to write the generator file (default: models/<table>.dpsynth).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Epochs (overrides `train.epochs`).
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size (overrides `train.batch_size`).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Compute device (overrides `train.device`).
    #[arg(long, value_enum)]
    device: Option<DeviceChoice>,
    /// Seed for a reproducible run (overrides `train.seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Per-epoch metrics file, JSON lines (default: beside the output, `.metrics.jsonl`).
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args)]
struct SampleArgs {
    /// The generator file written by `dpsynth train`.
    model: PathBuf,
    /// Number of rows.
    #[arg(short = 'n', long = "rows")]
    rows: usize,
    /// Output file; `.csv` or `.parquet`.
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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => train(a),
        Command::Sample(a) => sample(a),
        Command::Inspect(a) => inspect(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn resolve_train(a: &TrainArgs) -> Result<(RunConfig, PathBuf, PathBuf)> {
    let mut config = match &a.config {
        Some(path) => RunConfig::load(path)?,
        None => RunConfig::default(),
    };
    if let Some(e) = a.epochs {
        config.train.epochs = e;
    }
    if let Some(b) = a.batch_size {
        config.train.batch_size = b;
    }
    if let Some(d) = a.device {
        config.train.device = d;
    }
    if a.seed.is_some() {
        config.train.seed = a.seed;
    }
    config.validate("command line")?;
    let data = match (&a.data, &config.data.path) {
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
    config.data.path = Some(data.clone());
    config.output.model = Some(out.clone());
    Ok((config, data, out))
}

fn train(a: TrainArgs) -> Result<()> {
    let (config, data, out) = resolve_train(&a)?;
    check_writable(&out)?;
    let table = read_table(&data, &config.data)?;
    let device = dpsynth::device::select(config.train.device)?;
    let progress = Progress::new(config.train.epochs, a.quiet);
    progress.note(&format!(
        "training on {} ({} rows x {} columns) with device {}",
        data.display(),
        table.n_rows(),
        table.columns.len(),
        device.name
    ));
    let metrics_path = a
        .metrics
        .clone()
        .or(config.output.metrics.clone())
        .unwrap_or_else(|| out.with_extension("metrics.jsonl"));
    let mut metrics = MetricsLog::create(&metrics_path)?;
    let started = std::time::Instant::now();
    let trained = dpsynth::train::train(
        table,
        &config,
        &device.device,
        Reporting {
            progress: &progress,
            metrics: Some(&mut metrics),
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
    let probe = dpsynth::export::temporary_sibling(out);
    std::fs::write(&probe, b"")
        .with_context(|| format!("{}: the output location is not writable", out.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn sample(a: SampleArgs) -> Result<()> {
    let model = ModelFile::read(&a.model)?;
    if !a.quiet {
        eprintln!("{}", model.header.privacy.summary());
    }
    let device = dpsynth::device::select(a.device)?;
    let sampler = GeneratorSampler::new(&model, &device.device, &a.model)?;
    let condition = a
        .condition
        .as_deref()
        .map(|c| sampler.resolve_condition(c))
        .transpose()?;
    let seed = a.seed.unwrap_or_else(rand::random);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut writer = TableWriter::create(&a.output)?;
    // Chunks start on stream blocks, so --seed gives the same rows whatever --chunk-rows is.
    let block = dpsynth::sample::BLOCK_ROWS;
    let chunk = a.chunk_rows.max(1).div_ceil(block) * block;
    let mut done = 0;
    loop {
        let n = (a.rows - done).min(chunk);
        let table = match &condition {
            None => sampler.sample_stream(seed, done, n),
            Some(c) => sampler.sample_table(n, Some(c), a.max_tries_factor, &mut rng)?,
        };
        writer.write(&table)?;
        done += n;
        if done >= a.rows {
            break;
        }
    }
    writer.finish()?;
    if !a.quiet {
        eprintln!("wrote {} rows to {}", a.rows, a.output.display());
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
    println!(
        "  written by {}; trained {} epochs on {} rows",
        h.written_by, h.epochs_run, h.training_rows
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
                "{} modes, range [{}, {}], {:.1}% missing",
                e.modes.len(),
                e.min,
                e.max,
                100.0 * e.null_rate
            ),
        };
        println!(
            "    {:<20} {:?} {:?}: {}",
            c.name, c.value_type, c.kind, detail
        );
    }
    Ok(())
}
