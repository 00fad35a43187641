//! `dpsynth audit`: one training run with canaries, turned into an empirical lower bound on ε
//! ([`crate::dp::audit`] holds the canaries of the critic step and the statistics).
//!
//! Two observers score the same run:
//! - white-box (DP runs only): gradient canaries on the critic's noisy gradient sums, the
//!   strongest observer DP-SGD's guarantee covers;
//! - black-box: canary rows drawn from the table, each kept in the training table by a fair
//!   coin, scored by the distance from the row to its closest row sampled from the trained
//!   generator (closer: guessed in).
//!
//! An audit run is never released: it writes no generator file, and its switches can break
//! the mechanism on purpose to show that the audit catches it.

use std::time::Instant;

use burn::tensor::Device;
use serde::Serialize;

use crate::config::RunConfig;
use crate::dp::audit::{lower_bound, AuditBound, AuditSwitches};
use crate::dp::DpRng;
use crate::error::{Error, Result};
use crate::evaluate::privacy::distances_to_closest;
use crate::export::ModelFile;
use crate::read::Table;
use crate::sample::GeneratorSampler;
use crate::train::{Progress, Trainer};

/// What an audit run does besides training.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// Gradient canaries on the critic step (DP runs only; 0: none).
    pub gradient_canaries: usize,
    /// Canary rows drawn from the table for the black-box observer (0: none).
    pub row_canaries: usize,
    /// Rows sampled from the trained generator for the black-box scores.
    pub samples: usize,
    /// What the run keeps of the mechanism (audit-only switches).
    pub switches: AuditSwitches,
    /// Confidence of the lower bounds, e.g. 0.95.
    pub confidence: f64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            gradient_canaries: 50_000,
            row_canaries: 500,
            samples: 20_000,
            switches: AuditSwitches::REAL,
            confidence: 0.95,
        }
    }
}

/// The outcome of `dpsynth audit`.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// The run's target ε; `None` without DP (no claim).
    pub claimed_epsilon: Option<f64>,
    /// The ε the accountant says the run spent.
    pub spent_epsilon: Option<f64>,
    /// The run's δ (0 without DP).
    pub delta: f64,
    /// Whether the noise was on.
    pub noise: bool,
    /// Whether the clipping was on.
    pub clipping: bool,
    /// Epochs trained.
    pub epochs: usize,
    /// Rows the run trained on (canary rows included).
    pub training_rows: usize,
    /// The white-box bound (gradient canaries), DP runs only.
    pub white_box: Option<AuditBound>,
    /// The black-box bound (canary rows, distance to the closest sampled row).
    pub black_box: Option<AuditBound>,
    /// Wall-clock seconds of the whole audit.
    pub seconds: f64,
}

impl AuditReport {
    /// The verdict line: the largest lower bound against the claim.
    pub fn verdict(&self) -> String {
        let best = [&self.white_box, &self.black_box]
            .iter()
            .filter_map(|b| b.as_ref().map(|b| b.epsilon_lower_bound))
            .fold(0.0f64, f64::max);
        match self.claimed_epsilon {
            Some(claim) if best > claim => format!(
                "FAIL: the audit shows epsilon >= {best:.3}, above the claimed {claim:.3}: this run leaks more than its ledger says"
            ),
            Some(claim) => format!(
                "pass: the largest audited lower bound, {best:.3}, is within the claimed epsilon {claim:.3}"
            ),
            None => format!("no DP claim; the audit shows epsilon >= {best:.3}"),
        }
    }
}

/// Trains `table` with `config` once, with canaries, and returns the audited lower bounds.
pub fn audit(
    table: Table,
    config: &RunConfig,
    settings: &AuditSettings,
    device: &Device,
    progress: &Progress,
) -> Result<AuditReport> {
    let started = Instant::now();
    let dp = config.privacy.enabled();
    if !dp && settings.switches != AuditSwitches::REAL {
        return Err(Error::Config {
            origin: "command line".into(),
            message: "--no-noise and --no-clipping break a DP run: set an epsilon (--epsilon)"
                .into(),
        });
    }
    // The coins and the choice of canary rows come from their own secret stream.
    let mut coins = match config.train.seed {
        Some(seed) => DpRng::from_seed(seed ^ 0xa0d1_7000),
        None => DpRng::from_os(),
    };
    let n = table.n_rows();
    let share = (settings.row_canaries as f64 / n as f64).min(0.5);
    let mut canary_rows = Vec::new();
    let mut keep = Vec::with_capacity(n);
    for row in 0..n {
        if settings.row_canaries > 0 && coins.coin(share) {
            canary_rows.push(row);
            if coins.coin(0.5) {
                keep.push(row);
            }
        } else {
            keep.push(row);
        }
    }
    let included: Vec<bool> = canary_rows
        .iter()
        .map(|r| keep.binary_search(r).is_ok())
        .collect();
    let canaries = table.take_rows(&canary_rows);
    // Rows that are never canaries, up to a cap that keeps the distance search to seconds.
    let population_rows: Vec<usize> = keep
        .iter()
        .copied()
        .filter(|r| canary_rows.binary_search(r).is_err())
        .take(settings.samples)
        .collect();
    let training = table.take_rows(&keep);

    let training_rows = training.n_rows();

    let mut trainer = Trainer::new(training, config, device)?;
    for note in trainer.fit_notes(config) {
        progress.note(&note);
    }
    if dp && settings.gradient_canaries > 0 {
        trainer.attach_canaries(settings.gradient_canaries, settings.switches)?;
    }
    let planned = trainer.epochs();
    for _ in 0..planned {
        if !trainer.budget_allows_epoch() {
            progress.note("stopping early: another epoch would pass the target epsilon");
            break;
        }
        let m = trainer
            .epoch_until(&|| false, Some(progress))?
            .expect("an epoch that is never asked to stop finishes");
        progress.epoch(&m, planned);
    }
    let delta = if dp { config.privacy.delta } else { 0.0 };
    let white_box = trainer.canaries().map(|c| {
        let (scores, coins) = c.outcome();
        lower_bound(scores, coins, delta, settings.confidence, 1)
    });
    let spent_epsilon = trainer.spent().map(|s| s.epsilon);
    let epochs = trainer.epochs_done();

    let black_box = if canary_rows.is_empty() {
        None
    } else {
        let model = ModelFile::from_training(trainer.finish(), config);
        let mut sampler =
            GeneratorSampler::new(&model, device, std::path::Path::new("(audit run)"))?.on_host();
        if crate::sample::Calibrate::Auto.applies(&model) {
            sampler = sampler.calibrated();
        } else {
            sampler = sampler.with_exact_dependence();
        }
        let synthetic = sampler.sample_stream(7, 0, settings.samples);
        let aligned = select_columns(&canaries, &synthetic)?;
        // Calibrated by each canary's distance to the closest non-canary row (the same in
        // both worlds, so the guesses stay a function of the release): a canary that sits in
        // a crowd is close to sampled rows anyway; one the generator memorised is closer to a
        // sampled row than to any other real row.
        let population = select_columns(&table.take_rows(&population_rows), &synthetic)?;
        let reference = distances_to_closest(&aligned, &population);
        let scores: Vec<f64> = distances_to_closest(&aligned, &synthetic)
            .into_iter()
            .zip(reference)
            .map(|(d, r)| -d / (r + 1e-3))
            .collect();
        Some(lower_bound(
            &scores,
            &included,
            delta,
            settings.confidence,
            2,
        ))
    };
    Ok(AuditReport {
        claimed_epsilon: config.privacy.epsilon.filter(|_| dp),
        spent_epsilon,
        delta,
        noise: settings.switches.noise,
        clipping: settings.switches.clipping,
        epochs,
        training_rows,
        white_box,
        black_box,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `rows` with the columns of `like`, in its order.
fn select_columns(rows: &Table, like: &Table) -> Result<Table> {
    Ok(Table {
        columns: like
            .columns
            .iter()
            .map(|c| {
                rows.column(&c.name).cloned().ok_or_else(|| {
                    Error::Training(format!(
                        "column `{}` of the sampled rows is not in the table",
                        c.name
                    ))
                })
            })
            .collect::<Result<_>>()?,
    })
}
