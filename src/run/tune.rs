//! `dpsynth tune`: random or grid search over the config fields listed in `[tune.space]`.
//! Each trial is a run folder trained on the same training split and scored against the same
//! held-out rows; trials run until `--trials` or the wall-clock budget is used up, then a
//! leaderboard and the best config (a TOML file `train` accepts) are written.
//!
//! Tuning reads rows, so in DP mode it is a privacy question: every trial's training and every
//! score would read the private table, and the choice of the best trial would depend on it.
//! The user chooses, never silently: on a public proxy table (`--tune-on`; the private table is
//! not read), or charged (`--charge-trials`: the target (ε, δ) is split among the planned trials
//! and a report-noisy-max choice on private held-out rows, by basic composition, and the
//! chosen generator is released with that ledger). Without either, DP tuning is refused.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::score::{scoring_sample, split_rows, Scorer};
use super::{start, RunFolder, RunOptions, RunState};
use crate::config::{RunConfig, TuneConfig, TuneStrategy};
use crate::dp::selection::{
    holdout_floor, private_split, report_noisy_max, selection_score, split_budget, TuningCharge,
};
use crate::dp::DpRng;
use crate::error::{Error, Result};
use crate::export::ModelFile;
use crate::export::PrivacySection;
use crate::read::{Table, TableWriter};
use crate::train::Progress;

/// Mixed into `train.seed` when a seeded (not-for-release) run fixes the choice's noise; an
/// unseeded run draws it from the OS.
const SELECTION_SEED: u64 = 0x0005_E1EC;

/// A trial's changes to the base config: dotted field name and value.
pub type Overrides = crate::config::Overrides;

/// How much to tune and on what.
#[derive(Debug, Clone)]
pub struct TuneOptions {
    /// Most trials to run.
    pub trials: usize,
    /// Wall-clock budget for all trials together; the trial running when it ends is stopped
    /// cleanly and scored as it stands.
    pub budget: Option<Duration>,
    /// A public table with the private table's columns to tune on instead (DP mode needs this
    /// or `charge_trials`).
    pub tune_on: Option<PathBuf>,
    /// DP mode: tune on the private table and charge it: the target (ε, δ) is split among the
    /// planned trials and a report-noisy-max choice, and the chosen trial's generator is
    /// released with that ledger.
    pub charge_trials: bool,
    /// Share of ε for the choice when `charge_trials` is set.
    pub selection_share: f64,
}

/// One trial's outcome.
#[derive(Debug, Clone)]
pub struct Trial {
    /// 1-based trial number.
    pub number: usize,
    /// Its run folder.
    pub folder: PathBuf,
    /// What it changed in the base config.
    pub overrides: Overrides,
    /// Fidelity score of its released generator on the held-out rows (`None` if it failed).
    pub score: Option<f64>,
    /// Epochs completed.
    pub epochs: usize,
    /// Wall time of training and scoring.
    pub seconds: f64,
    /// Why it failed or stopped early, if it did.
    pub note: Option<String>,
}

/// What `tune` leaves behind.
#[derive(Debug, Clone)]
pub struct TuneResult {
    /// Trials run, best first (failed ones last).
    pub leaderboard: Vec<Trial>,
    /// The leaderboard as a tab-separated file.
    pub leaderboard_file: PathBuf,
    /// The best trial's config, ready for `dpsynth train --config`.
    pub best_config: PathBuf,
    /// The rows tuned on and scored against, in words.
    pub tuned_on: String,
    /// With `charge_trials`: the chosen trial's generator, carrying the tuning run's ledger.
    pub released: Option<PathBuf>,
}

/// Sets each dotted field of `config` (see [`RunConfig::with_overrides`]), as a trial does.
pub fn apply(config: &RunConfig, overrides: &Overrides) -> Result<RunConfig> {
    config.with_overrides("[tune.space]", overrides)
}

/// `a = 1, b = 2`.
pub fn describe(overrides: &Overrides) -> String {
    crate::config::describe_overrides(overrides)
}

/// The trials' overrides: every combination in order (grid) or independent draws (random,
/// avoiding repeats while unseen combinations remain), at most `trials` of them.
pub fn plan_trials(tune: &TuneConfig, trials: usize) -> Vec<Overrides> {
    let fields: Vec<(&String, &Vec<toml::Value>)> = tune.space.iter().collect();
    let combinations: usize = fields.iter().map(|(_, v)| v.len()).product();
    let pick = |choice: &[usize]| -> Overrides {
        fields
            .iter()
            .zip(choice)
            .map(|((k, v), &i)| ((*k).clone(), v[i].clone()))
            .collect()
    };
    match tune.strategy {
        TuneStrategy::Grid => (0..combinations.min(trials))
            .map(|mut index| {
                let mut choice = vec![0; fields.len()];
                for (slot, (_, values)) in choice.iter_mut().zip(&fields).rev() {
                    *slot = index % values.len();
                    index /= values.len();
                }
                pick(&choice)
            })
            .collect(),
        TuneStrategy::Random => {
            let mut rng = ChaCha8Rng::seed_from_u64(tune.seed);
            let mut seen: Vec<Vec<usize>> = Vec::new();
            (0..trials)
                .map(|_| {
                    let mut choice = Vec::new();
                    for _ in 0..100 {
                        choice = fields
                            .iter()
                            .map(|(_, v)| rng.random_range(0..v.len()))
                            .collect();
                        if seen.len() >= combinations || !seen.contains(&choice) {
                            break;
                        }
                    }
                    seen.push(choice.clone());
                    pick(&choice)
                })
                .collect()
        }
    }
}

fn check_space(config: &RunConfig) -> Result<()> {
    if config.tune.space.is_empty() {
        return Err(Error::config(
            "[tune.space]",
            "is empty: list the fields to search, e.g. [tune.space] \"train.generator_lr\" = [1e-4, 2e-4]",
        ));
    }
    for (key, values) in &config.tune.space {
        if values.is_empty() {
            return Err(Error::config(
                "[tune.space]",
                format!("key '{key}' has no candidate values"),
            ));
        }
        for v in values {
            apply(config, &vec![(key.clone(), v.clone())])?;
        }
    }
    Ok(())
}

fn write_split(path: &Path, table: &Table) -> Result<()> {
    let mut writer = TableWriter::create(path)?;
    writer.write(table)?;
    writer.finish()
}

/// Runs the search in the folder `root` on the table at `data` (or on `options.tune_on`).
pub fn tune(
    root: &Path,
    data: &Path,
    config: &RunConfig,
    options: &TuneOptions,
    device: &Device,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<TuneResult> {
    check_space(config)?;
    let charged = charge_plan(config, options, data)?;
    if root.join("leaderboard.tsv").exists() {
        return Err(Error::Training(format!(
            "{} already holds a tuning run; choose another --run folder",
            root.display()
        )));
    }
    let (source, tuned_on) = match &options.tune_on {
        Some(public) => (
            public.clone(),
            format!(
                "public proxy table {} (the private table was not read)",
                public.display()
            ),
        ),
        None => (data.to_path_buf(), format!("{}", data.display())),
    };
    let (table, _) = crate::read::read_training_table(&source, config)?;
    // Charged tuning splits by secret per-row coins (`dp::selection::private_split`), so that
    // neighbouring tables give splits that differ by one row; the same stream makes the choice.
    let mut dp_rng = match config.train.seed {
        Some(seed) => DpRng::from_seed(seed ^ SELECTION_SEED),
        None => DpRng::from_os(),
    };
    let (train, holdout) = match charged {
        Some(_) => private_split(&table, config.tune.holdout_share, &mut dp_rng)?,
        None => split_rows(&table, config.tune.holdout_share, config.tune.seed),
    };
    let table_rows = table.n_rows();
    drop(table);
    // The split rows are private in DP mode: they sit under `private/`, apart from what may
    // be shared (`best.dpsynth`, `best.toml`, `leaderboard.tsv`).
    let split_dir = if config.privacy.epsilon.is_some() {
        root.join("private").join("data")
    } else {
        root.join("data")
    };
    let train_path = split_dir.join("train.parquet");
    let holdout_path = split_dir.join("holdout.parquet");
    write_split(&train_path, &train)?;
    write_split(&holdout_path, &holdout)?;
    let rows = if config.score.rows > 0 {
        config.score.rows
    } else {
        1000
    };
    // The held-out rows typed as training types them (in DP mode the columns with public
    // metadata were read as written, cell by cell), so that trials are scored against numbers.
    let mut holdout = holdout;
    crate::train::type_as_trained(&mut holdout, config)?;
    let scorer = Scorer::new(
        &holdout,
        rows,
        format!("{} held-out rows", holdout.n_rows()),
    );
    let started = Instant::now();
    let mut trials = Vec::new();
    for (i, overrides) in plan_trials(&config.tune, options.trials)
        .into_iter()
        .enumerate()
    {
        let left = options.budget.map(|b| b.saturating_sub(started.elapsed()));
        if left.is_some_and(|l| l < Duration::from_secs(1))
            || stop.load(std::sync::atomic::Ordering::SeqCst)
        {
            progress.note(&format!(
                "tune: stopping before trial {}: the budget is used up or a stop was asked",
                i + 1
            ));
            break;
        }
        let number = i + 1;
        let folder = RunFolder::new(root.join(format!("trial-{number:03}")));
        let mut trial_config = apply(config, &overrides)?;
        // Every trial scores its epochs against the held-out rows, which are public in DP mode
        // (they come from the proxy table).
        trial_config.score.public_table = (charged.is_none()).then(|| holdout_path.clone());
        if let Some((trial_epsilon, trial_delta, _)) = charged {
            // Charged tuning: the trial spends its share and nothing else reads private rows
            // (a DP run without a public table is not scored per epoch).
            trial_config.privacy.epsilon = Some(trial_epsilon);
            trial_config.privacy.delta = trial_delta;
        }
        trial_config.score.holdout_share = 0.0;
        trial_config.score.keep_best = false;
        trial_config.score.rows = rows;
        trial_config.tune = TuneConfig::default();
        progress.note(&format!("tune: trial {number}: {}", describe(&overrides)));
        let run_options = RunOptions {
            max_time: left,
            checkpoint_every: None,
            checkpoint_every_epochs: None,
            keep_checkpoints: 1,
        };
        let t0 = Instant::now();
        let outcome = start(
            &folder,
            &train_path,
            &trial_config,
            device,
            &run_options,
            progress,
            stop,
        );
        let trial = match outcome.and_then(|o| {
            // Charged tuning scores the trials only inside the noisy choice, at the end.
            let score = match charged {
                Some(_) => None,
                None => Some(scorer.score(&ModelFile::read(&o.released)?, device)?),
            };
            Ok((o, score))
        }) {
            Ok((o, score)) => Trial {
                number,
                folder: folder.dir.clone(),
                overrides,
                score,
                epochs: o.epochs_done,
                seconds: t0.elapsed().as_secs_f64(),
                note: (o.state != RunState::Finished).then_some(o.message),
            },
            Err(e) => Trial {
                number,
                folder: folder.dir.clone(),
                overrides,
                score: None,
                epochs: 0,
                seconds: t0.elapsed().as_secs_f64(),
                note: Some(e.to_string()),
            },
        };
        if charged.is_none() {
            progress.note(&format!(
                "tune: trial {number} scored {}",
                trial
                    .score
                    .map_or("- (failed)".into(), |s| format!("{s:.4}"))
            ));
        }
        trials.push(trial);
    }
    if let Some(plan) = charged {
        let charged = Charged {
            budget: plan,
            holdout: &holdout,
            table_rows,
            rng: dp_rng,
        };
        return finish_charged(root, config, options, charged, trials, rows, device);
    }
    trials.sort_by(|a, b| {
        b.score
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.score.unwrap_or(f64::NEG_INFINITY))
    });
    let Some(best) = trials.first().filter(|t| t.score.is_some()) else {
        return Err(Error::Training(format!(
            "no trial finished with a score; see the trial folders under {}",
            root.display()
        )));
    };
    let mut best_config = apply(config, &best.overrides)?;
    best_config.tune = TuneConfig::default();
    let toml = toml::to_string(&best_config)
        .map_err(|e| Error::Training(format!("cannot write the best config: {e}")))?;
    let best_path = root.join("best.toml");
    let text = format!(
        "# Best of {} trials of `dpsynth tune` (trial {}: {}),\n# fidelity score {:.4} against {} of {tuned_on}.\n{toml}",
        trials.len(),
        best.number,
        describe(&best.overrides),
        best.score.unwrap_or(f64::NAN),
        scorer.source
    );
    crate::atomic::write_atomic(&best_path, text.as_bytes())?;
    let leaderboard_file = write_leaderboard(root, &trials, true)?;
    Ok(TuneResult {
        leaderboard: trials,
        leaderboard_file,
        best_config: best_path,
        tuned_on,
        released: None,
    })
}

/// Writes `leaderboard.tsv`: trials in the given order, numbered when `ranked`, else only the
/// first (the charged choice ranks nothing else).
fn write_leaderboard(root: &Path, trials: &[Trial], ranked: bool) -> Result<PathBuf> {
    let mut board = String::from("rank\ttrial\tscore\tepochs\tseconds\tsettings\tnote\n");
    for (rank, t) in trials.iter().enumerate() {
        board.push_str(&format!(
            "{}\t{}\t{}\t{}\t{:.1}\t{}\t{}\n",
            if ranked || rank == 0 {
                (rank + 1).to_string()
            } else {
                "-".into()
            },
            t.folder.display(),
            t.score.map_or("-".into(), |s| format!("{s:.4}")),
            t.epochs,
            t.seconds,
            describe(&t.overrides),
            t.note.clone().unwrap_or_default()
        ));
    }
    let path = root.join("leaderboard.tsv");
    crate::atomic::write_atomic(&path, board.as_bytes())?;
    Ok(path)
}

/// Checks how a DP config may be tuned and returns the charged budget split
/// (trial ε, trial δ, selection ε) when the trials are charged.
fn charge_plan(
    config: &RunConfig,
    options: &TuneOptions,
    data: &Path,
) -> Result<Option<(f64, f64, f64)>> {
    let dp = config.privacy.enabled();
    if options.charge_trials && !dp {
        return Err(Error::config(
            "[privacy]",
            "--charge-trials is for DP configs; this config has no privacy.epsilon",
        ));
    }
    if options.charge_trials && options.tune_on.is_some() {
        return Err(Error::config(
            "--tune-on",
            "choose one: --tune-on (tune on a public table, free) or --charge-trials (tune on the private table, charged)",
        ));
    }
    if dp && !options.charge_trials && options.tune_on.is_none() {
        return Err(Error::config(
            "[privacy]",
            format!(
                "tuning a DP config on {} reads the private table once per trial and picks a winner by its rows; choose how that is paid for: --tune-on PUBLIC.csv (tune on a public table with the same columns; the private table is not read), or --charge-trials (the target epsilon is split among the trials and a noisy choice, and the winner's generator is released with that ledger)",
                data.display()
            ),
        ));
    }
    if !options.charge_trials {
        return Ok(None);
    }
    let Some(epsilon) = config.privacy.epsilon else {
        return Err(Error::config(
            "privacy.epsilon",
            "--charge-trials splits a target epsilon among the trials; set privacy.epsilon",
        ));
    };
    if !(options.selection_share > 0.0 && options.selection_share < 1.0) {
        return Err(Error::config("--selection-share", "must be in (0, 1)"));
    }
    Ok(Some(split_budget(
        epsilon,
        config.privacy.delta,
        options.trials,
        options.selection_share,
    )))
}

/// What the charged choice needs: the budget split, the private held-out rows, the public
/// row count of the whole table and the secret stream that split it.
struct Charged<'a> {
    budget: (f64, f64, f64),
    holdout: &'a Table,
    table_rows: usize,
    rng: DpRng,
}

/// Charged tuning's end: the choice by report-noisy-max on the private held-out rows (their
/// exact scores are never shown), the winner released with the tuning run's ledger.
fn finish_charged(
    root: &Path,
    config: &RunConfig,
    options: &TuneOptions,
    charged: Charged,
    mut trials: Vec<Trial>,
    rows: usize,
    device: &Device,
) -> Result<TuneResult> {
    let Charged {
        budget: (trial_epsilon, trial_delta, selection_epsilon),
        holdout,
        table_rows,
        mut rng,
    } = charged;
    let mut candidates = Vec::new();
    let mut scores = Vec::new();
    for (i, t) in trials.iter().enumerate() {
        let path = RunFolder::new(&t.folder).model();
        if let Ok(model) = ModelFile::read(&path) {
            let synthetic = scoring_sample(&model, device, rows, holdout)?;
            scores.push(selection_score(holdout, &synthetic));
            candidates.push((i, model));
        }
    }
    if candidates.is_empty() {
        let why: Vec<String> = trials
            .iter()
            .filter_map(|t| Some(format!("trial {}: {}", t.number, t.note.as_ref()?)))
            .collect();
        return Err(Error::Training(format!(
            "no trial released a generator ({}); see the trial folders under {}",
            why.join("; "),
            root.display()
        )));
    }
    // The public floor on the held-out count, not the count itself: the Laplace scale must be
    // the same for both neighbours (`dp::selection` module note).
    let sensitivity = 1.0 / holdout_floor(table_rows, config.tune.holdout_share) as f64;
    let (pick, scale) = report_noisy_max(&scores, sensitivity, selection_epsilon, &mut rng);
    let (chosen_index, mut model) = candidates.swap_remove(pick);
    let chosen = trials[chosen_index].number;
    let charge = TuningCharge {
        epsilon: config.privacy.epsilon.unwrap_or(f64::NAN),
        delta: config.privacy.delta,
        trials: options.trials,
        trial_epsilon,
        trial_delta,
        selection_epsilon,
        holdout_rows: holdout.n_rows(),
        score_sensitivity: sensitivity,
        laplace_scale: scale,
        chosen_trial: chosen,
    };
    let PrivacySection::Dp(ledger) = &mut model.header.privacy else {
        return Err(Error::Training(
            "a charged trial released a file without DP".into(),
        ));
    };
    ledger.tuning = Some(charge);
    ledger.selection = Some(format!(
        "trial {chosen} of {} planned, chosen by report-noisy-max on private held-out rows (charged)",
        options.trials
    ));
    let released = root.join("best.dpsynth");
    model.write(&released)?;
    // Scores on private rows are never shown: the leaderboard says only which trial won.
    for t in &mut trials {
        t.score = None;
    }
    trials.sort_by_key(|t| (t.number != chosen, t.number));
    if let Some(t) = trials.first_mut() {
        t.note = Some("chosen by report-noisy-max (scores on private rows are not shown)".into());
    }
    let leaderboard_file = write_leaderboard(root, &trials, false)?;
    let mut best_config = model.header.config.clone();
    best_config.tune = TuneConfig::default();
    best_config.score = config.score.clone();
    best_config.privacy.epsilon = config.privacy.epsilon;
    best_config.privacy.delta = config.privacy.delta;
    let toml = toml::to_string(&best_config)
        .map_err(|e| Error::Training(format!("cannot write the best config: {e}")))?;
    let best_path = root.join("best.toml");
    let text = format!(
        "# Trial {chosen} of a charged tuning run ({}), chosen by report-noisy-max.\n# Its generator is released as best.dpsynth with the tuning run's ledger. Training this\n# config again on the same table spends a new budget on top of the tuning run's.\n{toml}",
        describe(&trials[0].overrides)
    );
    crate::atomic::write_atomic(&best_path, text.as_bytes())?;
    Ok(TuneResult {
        leaderboard: trials,
        leaderboard_file,
        best_config: best_path,
        tuned_on: "the private table, charged to the ledger".into(),
        released: Some(released),
    })
}
