//! Overnight runs: a run killed with SIGKILL and resumed ends with the same generator as one
//! never interrupted (ndarray, same seed), with and without DP; SIGINT stops cleanly; damaged
//! checkpoints are skipped; checkpoints are refused by `sample`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dpsynth::export::{ModelFile, PrivacySection};
use dpsynth::run::{RunFolder, RunState};

use crate::util::{assert_clean_failure, credit_domains, dpsynth, root, stderr, tempdir};

/// The first 2,000 credit rows: 4 steps of 500 per epoch.
fn small_credit(dir: &Path) {
    let text = std::fs::read_to_string(root().join("datasets/credit_data.csv")).unwrap();
    let lines: Vec<&str> = text.lines().take(2001).collect();
    std::fs::write(dir.join("credit.csv"), lines.join("\n") + "\n").unwrap();
    // Its public domains, for DP runs.
    std::fs::write(dir.join("dp.toml"), credit_domains()).unwrap();
}

fn run_args<'a>(run: &'a str, epochs: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "credit.csv",
        "--run",
        run,
        "--epochs",
        epochs,
        "--seed",
        "11",
        "--checkpoint-every-epochs",
        "1",
        "--quiet",
    ];
    if !extra.contains(&"--device") {
        args.extend_from_slice(&["--device", "ndarray"]);
    }
    args.extend_from_slice(extra);
    args
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dpsynth"))
        .args(args)
        .current_dir(dir)
        .env("DPSYNTH_FORCE_CPU", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dpsynth starts")
}

/// Waits until `ready` holds, failing after two minutes.
fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn checkpoint_after(folder: &RunFolder, epoch: usize) -> bool {
    folder.checkpoint_files().iter().any(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("epoch-"))
            .and_then(|n| n.get(..6))
            .and_then(|e| e.parse::<usize>().ok())
            .is_some_and(|e| e >= epoch)
    })
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name} failed");
}

/// Trains `epochs` uninterrupted in run `a`, and in run `b` with a SIGKILL once the epoch-2
/// checkpoint exists, then resumes `b`; returns both released files.
fn killed_and_uninterrupted(dir: &Path, epochs: &str, extra: &[&str]) -> (ModelFile, ModelFile) {
    small_credit(dir);
    let out = dpsynth(dir, &run_args("a", epochs, extra));
    assert!(out.status.success(), "{}", stderr(&out));

    let b = RunFolder::new(dir.join("b"));
    let mut child = spawn(dir, &run_args("b", epochs, extra));
    wait_for("the epoch-2 checkpoint", || checkpoint_after(&b, 2));
    signal(&child, "KILL");
    let _ = child.wait();
    assert!(
        !b.model().exists(),
        "the run was killed before it finished (make the run longer)"
    );
    // A kill during a checkpoint write leaves a temporary file and nothing else; a disk
    // fault can leave a damaged newest file. Both must be survived.
    let newest = b.checkpoint_files()[0].clone();
    let name = newest.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::write(
        b.checkpoints().join(format!(".{name}.tmp-999999")),
        b"half a checkpoint",
    )
    .unwrap();
    let bytes = std::fs::read(&newest).unwrap();
    let damaged = b.checkpoints().join("epoch-999999-step-000000.ckpt");
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();

    let out = dpsynth(dir, &["train", "--resume", "b"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("skipping a damaged checkpoint") && err.contains("epoch-999999"),
        "no warning about the damaged checkpoint:\n{err}"
    );
    assert_eq!(b.status().unwrap().state, RunState::Finished);
    let a = ModelFile::read(&dir.join("a/release/model.dpsynth")).unwrap();
    let b = ModelFile::read(&b.model()).unwrap();
    (a, b)
}

#[test]
fn a_killed_and_resumed_run_equals_an_uninterrupted_one() {
    let dir = tempdir();
    let (a, b) = killed_and_uninterrupted(dir.path(), "5", &[]);
    assert_eq!(a.header.epochs_run, 5);
    assert_eq!(b.header.epochs_run, 5);
    assert_eq!(a.header.transformer, b.header.transformer);
    assert!(
        a.tensors == b.tensors,
        "the resumed run's generator differs from the uninterrupted one"
    );
    // The metrics log holds each epoch once, even those redone after the kill.
    let log = std::fs::read_to_string(dir.path().join("b/private/metrics.jsonl")).unwrap();
    let epochs: Vec<u64> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["epoch"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(epochs, vec![1, 2, 3, 4, 5]);
}

#[test]
fn a_killed_and_resumed_host_engine_run_equals_an_uninterrupted_one() {
    let dir = tempdir();
    // A fixed thread count: following the free cores (the default) changes OpenBLAS's
    // partition of the products, and with it their float rounding, when the load changes.
    let (a, b) = killed_and_uninterrupted(
        dir.path(),
        "40",
        &["--device", "host", "--set", "train.threads=2"],
    );
    assert_eq!(b.header.epochs_run, 40);
    assert!(
        a.tensors == b.tensors,
        "the resumed host-engine run's generator differs from the uninterrupted one"
    );
}

#[test]
fn a_killed_and_resumed_dp_run_has_the_same_ledger_and_never_passes_the_target() {
    let dir = tempdir();
    let (a, b) =
        killed_and_uninterrupted(dir.path(), "5", &["--epsilon", "4", "--config", "dp.toml"]);
    let (PrivacySection::Dp(la), PrivacySection::Dp(lb)) = (&a.header.privacy, &b.header.privacy)
    else {
        panic!("DP runs release DP files")
    };
    assert_eq!(la, lb, "ledgers differ");
    assert!(a.tensors == b.tensors, "generators differ");
    // What may be shared sits apart: the generator and its plain-text ledger, no checkpoint,
    // no metrics (critic losses on private rows), and no path of the private table.
    let mut shared: Vec<String> = std::fs::read_dir(dir.path().join("b/release"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    shared.sort();
    assert_eq!(shared, ["ledger.txt", "model.dpsynth"]);
    let ledger = std::fs::read_to_string(dir.path().join("b/release/ledger.txt")).unwrap();
    assert!(
        ledger.starts_with("privacy: (") && ledger.contains("must stay secret"),
        "{ledger}"
    );
    assert!(!RunFolder::new(dir.path().join("b"))
        .checkpoint_files()
        .is_empty());
    assert!(dir.path().join("b/private/checkpoints").is_dir());
    assert!(dir.path().join("b/private/metrics.jsonl").is_file());
    assert_eq!(b.header.config.data.path, None);
    let bytes = std::fs::read(dir.path().join("b/release/model.dpsynth")).unwrap();
    assert!(
        !String::from_utf8_lossy(&bytes).contains("credit.csv"),
        "the released file names the private table"
    );
    // Extending the finished run far past its plan stops at the budget, not past it.
    let out = dpsynth(dir.path(), &["train", "--resume", "b", "--epochs", "10000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("another epoch would pass the target epsilon"),
        "{}",
        stderr(&out)
    );
    let extended = ModelFile::read(&dir.path().join("b/release/model.dpsynth")).unwrap();
    let PrivacySection::Dp(l) = &extended.header.privacy else {
        panic!("still DP")
    };
    // The noise was calibrated so that the planned 5 epochs spend the whole target: not one
    // more epoch fits.
    assert!(l.epsilon <= 4.0, "spent {} of 4", l.epsilon);
    assert_eq!(l.steps, lb.steps, "the extension trained past the plan");
    assert_eq!(l.epsilon, lb.epsilon);
}

#[test]
fn a_killed_and_resumed_dp_run_with_anchor_steps_and_the_copula_keeps_its_ledger() {
    // The warm start's surrogate rows (tree model, raking, copula) are rebuilt from the run's
    // seed and the checkpoint's noisy tables when the run resumes: no privacy is spent again,
    // and the release claims what the uninterrupted run claims. (The generators differ: the
    // anchor steps' stream restarts at the resume.)
    let dir = tempdir();
    let extra = [
        "--epsilon",
        "4",
        "--config",
        "dp.toml",
        "--set",
        "privacy.pair_marginals=true",
        "--set",
        "privacy.preprocess_share=0.3",
        "--set",
        "privacy.warm_start_epochs=1",
        "--set",
        "privacy.anchor_steps=1",
        "--set",
        "privacy.rake_rounds=2",
        "--set",
        "privacy.copula=true",
    ];
    let (a, b) = killed_and_uninterrupted(dir.path(), "5", &extra);
    let (PrivacySection::Dp(la), PrivacySection::Dp(lb)) = (&a.header.privacy, &b.header.privacy)
    else {
        panic!("DP runs release DP files")
    };
    assert_eq!(la, lb, "ledgers differ");
    assert!(lb.epsilon <= 4.0, "spent {}", lb.epsilon);
    assert!(lb.preprocessing.copula_sums > 0, "{lb:?}");
    let warm = lb.warm_start.as_deref().unwrap_or_default();
    assert!(
        warm.contains("raked") && warm.contains("Gaussian copula"),
        "{warm}"
    );
}

#[test]
fn sigint_stops_cleanly_with_a_checkpoint_a_released_file_and_a_hint() {
    let dir = tempdir();
    small_credit(dir.path());
    let run = RunFolder::new(dir.path().join("r"));
    let child = spawn(dir.path(), &run_args("r", "100000", &[]));
    wait_for("the first epoch", || {
        std::fs::read_to_string(run.metrics()).is_ok_and(|m| !m.is_empty())
    });
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("dpsynth train --resume"),
        "no resume hint:\n{err}"
    );
    let status = run.status().unwrap();
    assert_eq!(status.state, RunState::Stopped);
    let model = ModelFile::read(&run.model()).expect("a released file");
    assert_eq!(model.header.epochs_run, status.epoch);
    assert!(!run.checkpoint_files().is_empty());

    // `sample` refuses a checkpoint and says why.
    let ckpt = run.checkpoint_files()[0].clone();
    let out = dpsynth(
        dir.path(),
        &["sample", ckpt.to_str().unwrap(), "-n", "10", "-o", "x.csv"],
    );
    assert_clean_failure(&out, &["training checkpoint", "never for release"]);

    // `runs` lists it.
    let out = dpsynth(dir.path(), &["runs", "."]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("stopped") && listing.contains("model.dpsynth"),
        "{listing}"
    );

    // A new run cannot overwrite it.
    let out = dpsynth(dir.path(), &run_args("r", "1", &[]));
    assert_clean_failure(&out, &["already holds a run", "--resume"]);
}

fn epoch_scores(metrics: &Path) -> Vec<(usize, f64)> {
    std::fs::read_to_string(metrics)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["epoch"].as_u64().unwrap() as usize,
                v["score"].as_f64().expect("every epoch is scored"),
            )
        })
        .collect()
}

#[test]
fn keep_best_releases_the_best_scoring_epoch_on_held_out_rows() {
    let dir = tempdir();
    small_credit(dir.path());
    std::fs::write(
        dir.path().join("best.toml"),
        "[score]\nholdout_share = 0.25\nkeep_best = true\nrows = 500\n",
    )
    .unwrap();
    let out = dpsynth(dir.path(), &run_args("r", "6", &["--config", "best.toml"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let run = RunFolder::new(dir.path().join("r"));
    let scores = epoch_scores(&run.metrics());
    assert_eq!(scores.len(), 6);
    let (best_epoch, best) =
        scores
            .iter()
            .copied()
            .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
    let status = run.status().unwrap();
    assert_eq!(status.best, Some((best_epoch, best)));
    let released = ModelFile::read(&run.model()).unwrap();
    assert_eq!(released.header.epochs_run, best_epoch);
    if best_epoch < 6 {
        let selection = released.header.selection.clone().expect("selection noted");
        assert!(
            selection.contains(&format!("epoch {best_epoch} of 6")),
            "{selection}"
        );
        assert!(selection.contains("held-out rows"), "{selection}");
    }
    // 25% of 2,000 rows were held out of training.
    assert_eq!(released.header.training_rows, 1500);
    // The released generator scores what the log says: scoring is reproducible.
    let listing = dpsynth(dir.path(), &["runs", "."]);
    assert!(
        String::from_utf8_lossy(&listing.stdout).contains(&format!("best score {best:.3}")),
        "{}",
        String::from_utf8_lossy(&listing.stdout)
    );
}

#[test]
fn dp_runs_score_and_select_only_on_public_rows() {
    let dir = tempdir();
    small_credit(dir.path());
    // Choosing an epoch by private rows is refused, naming the key and the way out.
    std::fs::write(
        dir.path().join("private.toml"),
        format!("[score]\nkeep_best = true\n{}", credit_domains()),
    )
    .unwrap();
    let out = dpsynth(
        dir.path(),
        &run_args("p", "2", &["--config", "private.toml", "--epsilon", "4"]),
    );
    assert_clean_failure(&out, &["score.keep_best", "public_table"]);
    // With a public table (here: other credit rows), selection is free and the ledger says so.
    let text = std::fs::read_to_string(root().join("datasets/credit_data.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let public = [&lines[..1], &lines[3000..]].concat().join("\n") + "\n";
    std::fs::write(dir.path().join("public.csv"), public).unwrap();
    std::fs::write(
        dir.path().join("public.toml"),
        format!(
            "[score]\nkeep_best = true\npublic_table = \"public.csv\"\nrows = 500\n{}",
            credit_domains()
        ),
    )
    .unwrap();
    let out = dpsynth(
        dir.path(),
        &run_args("q", "4", &["--config", "public.toml", "--epsilon", "4"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let run = RunFolder::new(dir.path().join("q"));
    let scores = epoch_scores(&run.metrics());
    assert_eq!(scores.len(), 4);
    // The public table is read as training reads it and typed as the generator was trained:
    // scored with its amounts as text (every number a category) the epochs scored about 0.33;
    // typed, about 0.8 after three.
    assert!(scores.iter().all(|&(_, s)| s > 0.6), "{scores:?}");
    let released = ModelFile::read(&run.model()).unwrap();
    let PrivacySection::Dp(ledger) = &released.header.privacy else {
        panic!("a DP run releases a DP file")
    };
    // Whichever epoch wins, the ledger counts every step of the run.
    assert_eq!(ledger.steps, 4 * 4);
    if released.header.epochs_run < 4 {
        let selection = ledger
            .selection
            .clone()
            .expect("the ledger notes the choice");
        assert!(
            selection.contains("public table") && selection.contains("no privacy cost"),
            "{selection}"
        );
    }
    // Without a public table a DP run is not scored at all.
    let out = dpsynth(
        dir.path(),
        &run_args("s", "1", &["--epsilon", "4", "--config", "dp.toml"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let log = std::fs::read_to_string(dir.path().join("s/private/metrics.jsonl")).unwrap();
    assert!(!log.contains("\"score\""), "{log}");
}

const TUNE_CONFIG: &str = r#"
[data]
null_values = ["", "NA"]
[train]
epochs = 1
seed = 5
device = "ndarray"
[score]
rows = 300
[tune]
strategy = "grid"
[tune.space]
"train.generator_lr" = [1e-4, 3e-4]
"model.generator_dims" = [[32], [64]]
"#;

#[test]
fn a_tuned_semicolon_files_best_model_samples_with_semicolons() {
    // The trials train on Parquet splits, so their files kept the default comma and the
    // winner sampled a semicolon file's rows with commas.
    let dir = tempdir();
    let mut csv = String::from("age;group;amount\n");
    for i in 0..300usize {
        csv.push_str(&format!(
            "{};{};{},5\n",
            20 + i % 50,
            ["a", "b"][i % 2],
            40 + i % 30
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    std::fs::write(
        dir.path().join("tune.toml"),
        "[train]\nepochs = 1\nseed = 5\ndevice = \"ndarray\"\n[model]\nembedding_dim = 8\ngenerator_dims = [16]\ndiscriminator_dims = [16]\n[score]\nrows = 100\n[tune.space]\n\"train.generator_lr\" = [2e-4]\n",
    )
    .unwrap();
    let out = dpsynth(
        dir.path(),
        &[
            "tune",
            "t.csv",
            "--config",
            "tune.toml",
            "--trials",
            "1",
            "--run",
            "t",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let model = RunFolder::new(dir.path().join("t/trial-001")).model();
    let model = model.to_str().unwrap();
    let out = dpsynth(
        dir.path(),
        &["sample", model, "-n", "20", "-o", "s.csv", "--quiet"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sampled = std::fs::read_to_string(dir.path().join("s.csv")).unwrap();
    assert_eq!(sampled.lines().next(), Some("age;group;amount"));
}

#[test]
fn tune_runs_three_trials_ranks_them_and_writes_a_config_train_accepts() {
    let dir = tempdir();
    small_credit(dir.path());
    std::fs::write(dir.path().join("tune.toml"), TUNE_CONFIG).unwrap();
    let out = dpsynth(
        dir.path(),
        &[
            "tune",
            "credit.csv",
            "--config",
            "tune.toml",
            "--trials",
            "3",
            "--run",
            "t",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let root_dir = dir.path().join("t");
    for n in 1..=3 {
        let trial = RunFolder::new(root_dir.join(format!("trial-{n:03}")));
        assert_eq!(trial.status().unwrap().state, RunState::Finished);
        assert!(trial.model().exists());
    }
    assert!(!root_dir.join("trial-004").exists(), "only 3 trials");
    let board = std::fs::read_to_string(root_dir.join("leaderboard.tsv")).unwrap();
    let scores: Vec<f64> = board
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(scores.len(), 3);
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "not ranked: {board}"
    );
    // Grid order: the last field varies fastest.
    assert!(board.contains("model.generator_dims = [32], train.generator_lr = 0.0003"));
    assert!(!board.contains("model.generator_dims = [64], train.generator_lr = 0.0003"));
    // The best config holds the winner's settings and trains.
    let best = std::fs::read_to_string(root_dir.join("best.toml")).unwrap();
    let winner = board.lines().nth(1).unwrap().split('\t').nth(5).unwrap();
    let dims = if winner.contains("[32]") {
        "[32]"
    } else {
        "[64]"
    };
    assert!(best.contains(&format!("generator_dims = {dims}")), "{best}");
    let out = dpsynth(
        dir.path(),
        &[
            "train",
            "credit.csv",
            "--config",
            "t/best.toml",
            "--out",
            "best.dpsynth",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // A DP config is not tuned on the private table without saying how privacy is handled.
    std::fs::write(
        dir.path().join("tune-dp.toml"),
        format!("{TUNE_CONFIG}\n[privacy]\nepsilon = 40\ndiscover = true\n"),
    )
    .unwrap();
    let out = dpsynth(
        dir.path(),
        &[
            "tune",
            "credit.csv",
            "--config",
            "tune-dp.toml",
            "--run",
            "u",
        ],
    );
    assert_clean_failure(&out, &["--tune-on", "--charge-trials", "private table"]);
    // Charged: epsilon 40 (large enough for DP range discovery on 1,600 rows) split among 2 trials and a noisy choice; the winner is released with
    // the tuning run's ledger, and no score on private rows is shown.
    let out = dpsynth(
        dir.path(),
        &[
            "tune",
            "credit.csv",
            "--config",
            "tune-dp.toml",
            "--trials",
            "2",
            "--run",
            "w",
            "--charge-trials",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let released = ModelFile::read(&dir.path().join("w/best.dpsynth")).unwrap();
    let PrivacySection::Dp(ledger) = &released.header.privacy else {
        panic!("charged tuning releases a DP file")
    };
    let charge = ledger
        .tuning
        .as_ref()
        .expect("the ledger holds the tuning charge");
    assert_eq!(charge.trials, 2);
    assert!((2.0 * charge.trial_epsilon + charge.selection_epsilon - 40.0).abs() < 1e-12);
    // The private split's Chernoff bound takes SPLIT_DELTA of delta; the trials share the rest.
    let split = dpsynth::dp::selection::SPLIT_DELTA;
    assert!((2.0 * charge.trial_delta - (1e-6 - split)).abs() < 1e-18);
    let floor = dpsynth::dp::selection::holdout_floor(2000, 0.2);
    assert!((charge.score_sensitivity - 1.0 / floor as f64).abs() < 1e-15);
    assert!(
        !dir.path().join("w/data").exists(),
        "private split rows beside best.dpsynth"
    );
    assert!(dir.path().join("w/private/data/holdout.parquet").exists());
    // Each row's own coin: about 400 of 2,000, never below the public floor.
    assert!(
        charge.holdout_rows >= floor && charge.holdout_rows < 600,
        "{}",
        charge.holdout_rows
    );
    assert!((1..=2).contains(&charge.chosen_trial));
    assert!(
        ledger.epsilon <= charge.trial_epsilon + 1e-9,
        "the trial overspent"
    );
    assert!(ledger
        .summary()
        .contains("(40.000, 1e-6)-differentially private as the winner"));
    let board = std::fs::read_to_string(dir.path().join("w/leaderboard.tsv")).unwrap();
    for line in board.lines().skip(1) {
        assert_eq!(
            line.split('\t').nth(2),
            Some("-"),
            "a private score leaked: {line}"
        );
    }
    for n in 1..=2 {
        let log = std::fs::read_to_string(
            dir.path()
                .join(format!("w/trial-00{n}/private/metrics.jsonl")),
        )
        .unwrap();
        assert!(
            !log.contains("\"score\""),
            "trial {n} was scored on private rows"
        );
    }
    // A misspelt field is named before any trial runs.
    std::fs::write(
        dir.path().join("tune-typo.toml"),
        TUNE_CONFIG.replace("train.generator_lr", "train.generator_rate"),
    )
    .unwrap();
    let out = dpsynth(
        dir.path(),
        &[
            "tune",
            "credit.csv",
            "--config",
            "tune-typo.toml",
            "--run",
            "v",
        ],
    );
    assert_clean_failure(&out, &["generator_rate"]);
    assert!(!dir.path().join("v/trial-001").exists());
}

#[test]
fn the_manifest_launcher_trains_one_line_per_array_task_or_all_in_a_loop() {
    let dir = tempdir();
    small_credit(dir.path());
    std::fs::write(
        dir.path().join("quick.toml"),
        "[train]\nseed = 1\ndevice = \"ndarray\"\n[score]\nrows = 0\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tables.tsv"),
        "# name\ttable\tconfig\tflags\nfirst\tcredit.csv\tquick.toml\t--epochs 1 --quiet\n\nsecond\tcredit.csv\tquick.toml\t--epochs 2 --max-time 1h --quiet\n",
    )
    .unwrap();
    let launch = |task: Option<&str>| {
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("scripts/train_many.sh"))
            .args(["tables.tsv", "runs"])
            .current_dir(dir.path())
            .env("DPSYNTH", env!("CARGO_BIN_EXE_dpsynth"))
            .env("DPSYNTH_FORCE_CPU", "1")
            .env_remove("SLURM_ARRAY_TASK_ID");
        if let Some(t) = task {
            cmd.env("SLURM_ARRAY_TASK_ID", t);
        }
        cmd.output().unwrap()
    };
    // Array task 2 trains the second table only.
    let out = launch(Some("2"));
    assert!(out.status.success(), "{}", stderr(&out));
    let second = RunFolder::new(dir.path().join("runs/second"));
    assert_eq!(second.status().unwrap().state, RunState::Finished);
    assert_eq!(second.status().unwrap().epoch, 2);
    assert!(!dir.path().join("runs/first").exists());
    // A plain loop trains what is left and skips finished runs.
    let out = launch(None);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("second: already finished"), "{stdout}");
    let first = RunFolder::new(dir.path().join("runs/first"));
    assert_eq!(first.status().unwrap().epoch, 1);
    // A task number past the manifest is an error that says how many tables there are.
    let out = launch(Some("3"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("lists 2 tables"), "{}", stderr(&out));
}
