//! DP training end to end: nothing private escapes the released file or its samples, the ledger
//! reports what the accountant says for the steps taken, the budget is never passed, and bad
//! privacy settings are refused with clear errors.

use std::path::Path;

use burn::tensor::Device;
use dpsynth::config::RunConfig;
use dpsynth::dp::Accountant;
use dpsynth::export::{ModelFile, PrivacySection};
use dpsynth::train::Trainer;

use crate::util::{assert_clean_failure, credit, credit_domains, dpsynth, stderr, tempdir};

const SMALL: &str = r#"
[model]
embedding_dim = 16
generator_dims = [32]
discriminator_dims = [32]

[train]
epochs = 1
batch_size = 500
"#;

/// The credit table plus one planted row: a category no one else has and an absurd amount.
fn planted_csv(dir: &Path) -> std::path::PathBuf {
    let text =
        std::fs::read_to_string(crate::util::root().join("datasets/credit_data.csv")).unwrap();
    let mut text = text.trim_end().to_string();
    text.push_str(
        "\ngood,9,CANARY_HOME_93ff,60,30,married,no,freelance,73,129.0,0.0,0.0,987654321,846\n",
    );
    let path = dir.join("planted.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// Trains in DP mode on the planted table with `toml` and `extra` flags, then checks that the
/// planted category and value are in neither the file nor 100,000 sampled rows, and that no
/// sampled Amount is anywhere near the outlier. Returns `inspect`'s output.
fn check_planted_row_is_absent(toml: &str, extra: &[&str], amount_cap: f64) -> String {
    let dir = tempdir();
    let data = planted_csv(dir.path());
    std::fs::write(dir.path().join("small.toml"), toml).unwrap();
    let mut args = vec![
        "train",
        data.to_str().unwrap(),
        "--config",
        "small.toml",
        "--epsilon",
        "1",
        "--delta",
        "1e-6",
        "--out",
        "m.dpsynth",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let out = dpsynth(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    // DP mode writes no unnoised statistic beside the released file unless asked.
    assert!(
        !dir.path().join("m.metrics.jsonl").exists(),
        "critic losses on private rows were written beside the release"
    );
    let bytes = std::fs::read(dir.path().join("m.dpsynth")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("CANARY"),
        "the planted category is in the model file"
    );
    assert!(
        !text.contains("987654321"),
        "the planted value is in the model file"
    );
    let model = ModelFile::read(&dir.path().join("m.dpsynth")).unwrap();
    let amount = model
        .header
        .transformer
        .schema
        .columns
        .iter()
        .position(|c| c.name == "Amount")
        .unwrap();
    match &model.header.transformer.encoders[amount] {
        dpsynth::transform::Encoder::Continuous(e) => {
            assert!(
                e.max <= amount_cap,
                "Amount's released upper bound {} betrays the outlier",
                e.max
            )
        }
        other => panic!("Amount should be continuous in DP mode, got {other:?}"),
    }
    assert!(matches!(model.header.privacy, PrivacySection::Dp(_)));

    let out = dpsynth(
        dir.path(),
        &[
            "sample",
            "m.dpsynth",
            "-n",
            "100000",
            "-o",
            "s.csv",
            "--seed",
            "1",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let seeded = extra.contains(&"--seed");
    assert_eq!(
        stderr(&out).contains("NOT FOR RELEASE"),
        seeded,
        "{}",
        stderr(&out)
    );
    let sampled = std::fs::read_to_string(dir.path().join("s.csv")).unwrap();
    assert!(!sampled.contains("CANARY"));
    let table = dpsynth::read::read_table(&dir.path().join("s.csv"), &Default::default()).unwrap();
    let amounts = &table.column("Amount").unwrap().values;
    // (Reading back drops rows whose every cell is missing, which a one-epoch generator may
    // emit: count the lines written.)
    assert_eq!(sampled.lines().count(), 100_001, "header plus 100,000 rows");
    let max = (0..amounts.len())
        .filter_map(|i| amounts.number(i))
        .fold(f64::MIN, f64::max);
    assert!(
        max <= amount_cap,
        "a sampled Amount of {max} is above {amount_cap}, towards the planted outlier"
    );

    let out = dpsynth(dir.path(), &["inspect", "m.dpsynth"]);
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(shown.contains("differentially private"), "{shown}");
    assert_eq!(shown.contains("NOT FOR RELEASE"), seeded, "{shown}");
    shown
}

#[test]
fn planted_row_appears_nowhere_in_the_release_with_public_domains() {
    // The release path: OS-seeded noise, every domain public (credit-dp.toml's), the planted
    // category outside the list and the planted amount far above the public bound 5,000.
    let toml = format!("{SMALL}\n{}", credit_domains());
    let shown = check_planted_row_is_absent(&toml, &[], 5000.0);
    // Nothing was discovered from the rows, and no kind was inferred from them.
    assert!(
        shown.contains("categories discovered under DP: -"),
        "{shown}"
    );
    assert!(shown.contains("bounds estimated under DP: -"), "{shown}");
    assert!(!shown.contains("NOT COVERED"), "{shown}");
}

#[test]
fn planted_row_appears_nowhere_after_a_warm_start() {
    // The warm start trains on rows drawn from the noisy marginals; the planted row must not
    // reach the file through it either, and the ledger says it happened and cost nothing.
    let toml = format!(
        "{SMALL}\n[privacy]\nwarm_start_epochs = 3\n\n{}",
        credit_domains()
    );
    let shown = check_planted_row_is_absent(&toml, &[], 5000.0);
    assert!(
        shown.contains("warm start: 3 epochs of non-private training on 20000 rows whose columns were drawn independently from the noisy marginals"),
        "{shown}"
    );
    // The same planned steps as without it: the warm start is not charged.
    assert!(shown.contains("9 of 9 planned steps"), "{shown}");
}

#[test]
fn planted_row_appears_nowhere_with_pair_marginals() {
    // The two-way marginals are measured from the clipped, encoded rows: the planted category
    // is "other" and the planted amount sits at the public bound, so neither reaches them.
    let toml = format!(
        "{SMALL}\n[privacy]\npair_marginals = true\npreprocess_share = 0.3\n\n{}",
        credit_domains()
    );
    let shown = check_planted_row_is_absent(&toml, &[], 5000.0);
    assert!(shown.contains("91 two-way marginal tables"), "{shown}");
}

#[test]
fn planted_row_appears_nowhere_after_a_warm_start_from_the_pair_tree() {
    // The warm start's rows follow a tree model of the noisy pair tables: post-processing of
    // them, so the planted row cannot reach the file through it, nor through the anchor steps
    // on the same rows between DP steps, and neither costs a step.
    let toml = format!(
        "{SMALL}\n[privacy]\npair_marginals = true\npreprocess_share = 0.3\nwarm_start_epochs = 2\nanchor_steps = 1\n\n{}",
        credit_domains()
    );
    let shown = check_planted_row_is_absent(&toml, &[], 5000.0);
    assert!(
        shown.contains("rows drawn from a tree model of the noisy two-way marginals"),
        "{shown}"
    );
    assert!(shown.contains("9 of 9 planned steps"), "{shown}");
}

#[test]
fn planted_row_appears_nowhere_in_the_release_with_discovery() {
    let toml = format!("{SMALL}\n[privacy]\ndiscover = true\n");
    let shown = check_planted_row_is_absent(&toml, &["--seed", "4"], 1e6);
    assert!(shown.contains("categories discovered under DP"), "{shown}");
}

fn dp_config(epochs: usize) -> RunConfig {
    let mut config = RunConfig::from_toml(SMALL, "test").unwrap();
    config.train.epochs = epochs;
    config.train.seed = Some(2);
    config.privacy.epsilon = Some(2.0);
    config.privacy.delta = 1e-6;
    let domains = RunConfig::from_toml(&credit_domains(), "credit-dp.toml").unwrap();
    config.privacy.columns = domains.privacy.columns;
    config
}

#[test]
fn ledger_reports_the_accountants_epsilon_and_the_budget_holds() {
    let _serial = crate::util::serial_flex();
    let mut config = dp_config(2);
    config.train.discriminator_steps = 2;
    let mut trainer = Trainer::new(credit(), &config, &Device::flex()).unwrap();
    for _ in 0..2 {
        assert!(trainer.budget_allows_epoch());
        trainer.epoch().unwrap();
    }
    // The plan was calibrated for exactly two epochs: nothing more fits.
    assert!(!trainer.budget_allows_epoch());
    let refused = trainer
        .step()
        .err()
        .expect("a step past the target is refused");
    assert!(refused.to_string().contains("target epsilon"), "{refused}");
    let ledger = trainer.finish().ledger.expect("a DP run has a ledger");
    // 2 epochs x round(4,454 / 500) = 9 generator steps x 2 critic steps each.
    assert_eq!(ledger.steps, 2 * 9 * 2);
    let again = Accountant::new(ledger.plan.clone()).spent(ledger.steps);
    assert_eq!(ledger.epsilon, again.epsilon);
    // The same composition straight from the formulas: the histograms' Gaussian mechanism
    // (RDP a / 2z^2) plus 36 Poisson-subsampled Gaussian steps at q = 500 / 4,454.
    let plan = &ledger.plan;
    let z = plan
        .histogram_noise_multiplier
        .expect("domains public, histograms measured");
    let orders = dpsynth::dp::accountant::run_orders();
    let rdp: Vec<f64> = orders
        .iter()
        .map(|&a| {
            a / (2.0 * z * z)
                + 36.0
                    * dpsynth::dp::rdp::sampled_gaussian_rdp(
                        500.0 / 4454.0,
                        plan.noise_multiplier,
                        a,
                    )
        })
        .collect();
    let direct = dpsynth::dp::rdp::epsilon_from_rdp(&orders, &rdp, 1e-6).0;
    assert!(
        (ledger.epsilon - direct).abs() < 1e-12,
        "{} vs {direct}",
        ledger.epsilon
    );
    assert_eq!(
        plan.delta_threshold, 0.0,
        "nothing to discover, no delta reserved"
    );
    assert!(
        ledger.epsilon <= 2.0 && ledger.epsilon > 1.99,
        "{}",
        ledger.epsilon
    );
    assert!(ledger.noise_seeded);
    assert!(ledger.summary().contains("NOT FOR RELEASE"));
}

#[test]
fn public_category_list_maps_unlisted_values_to_other() {
    let _serial = crate::util::serial_flex();
    let mut config = dp_config(1);
    config.privacy.discover = true;
    let public: RunConfig = RunConfig::from_toml(
        r#"
[privacy.columns.Home]
categories = ["rent", "owner"]
"#,
        "test",
    )
    .unwrap();
    config.privacy.columns = public.privacy.columns;
    let trainer = Trainer::new(credit(), &config, &Device::flex()).unwrap();
    let trained = trainer.finish();
    let home = trained
        .transformer
        .schema
        .columns
        .iter()
        .position(|c| c.name == "Home")
        .unwrap();
    let json = serde_json::to_string(&trained.transformer.encoders[home]).unwrap();
    for unlisted in ["parents", "priv", "ignore"] {
        assert!(!json.contains(unlisted), "{unlisted} leaked into {json}");
    }
    let ledger = trained.ledger.unwrap();
    assert!(ledger
        .preprocessing
        .public_categories
        .contains(&"Home".to_string()));
    assert!(ledger
        .preprocessing
        .discovered_categories
        .contains(&"Status".to_string()));
}

#[test]
fn bad_privacy_settings_are_clear_errors() {
    let dir = tempdir();
    let data = crate::util::root().join("datasets/credit_data.csv");
    let data = data.to_str().unwrap();
    let run = |extra: &[&str], toml: &str| {
        let text = if toml.starts_with("[model]") {
            SMALL.replace("[model]\n", toml)
        } else {
            format!("{SMALL}\n{toml}")
        };
        std::fs::write(dir.path().join("c.toml"), text).unwrap();
        let mut args = vec![
            "train",
            data,
            "--config",
            "c.toml",
            "--out",
            "x.dpsynth",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        dpsynth(dir.path(), &args)
    };
    assert_clean_failure(&run(&["--epsilon", "0"], ""), &["privacy.epsilon"]);
    assert_clean_failure(
        &run(&["--epsilon", "1", "--delta", "0.01"], ""),
        &["delta", "1 / rows"],
    );
    assert_clean_failure(
        &run(&["--epsilon", "1"], "[model]\npac = 10\n"),
        &["model.pac", "pac = 1"],
    );
    assert_clean_failure(
        &run(
            &["--epsilon", "1"],
            "[privacy.columns.Age]\nmin = 90\nmax = 18\n",
        ),
        &["privacy.columns.Age", "min"],
    );
    // No metadata at all: every column is named, with the TOML to add.
    assert_clean_failure(
        &run(&["--epsilon", "1"], ""),
        &[
            "public metadata",
            "Status",
            "Age",
            "[privacy.columns.Home]\ncategories = [",
            "[privacy.columns.Price]\nmin = ",
        ],
    );
    assert_clean_failure(
        &run(
            &["--epsilon", "1"],
            "[privacy.columns.Home]\ncategories = [\"rent\", \"owner\", \"rent\"]\n",
        ),
        &["privacy.columns.Home.categories", "\"rent\" more than once"],
    );
    assert_clean_failure(&run(&["--epsilon=-2"], ""), &["privacy.epsilon"]);
    assert!(!dir.path().join("x.dpsynth").exists());
}

#[test]
fn privacy_command_plans_without_data() {
    let dir = tempdir();
    let out = dpsynth(
        dir.path(),
        &[
            "privacy",
            "--noise-multiplier",
            "1.1",
            "--delta",
            "1e-5",
            "--rows",
            "10000",
            "--batch",
            "200",
            "--epochs",
            "10",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["steps"], 500);
    assert_eq!(v["sample_rate"], 0.02);
    assert_eq!(v["noise_multiplier"], 1.1);
    // DP-SGD alone, straight from the RDP formulas: 500 steps at q = 0.02, sigma = 1.1.
    let orders = dpsynth::dp::accountant::run_orders();
    let sgd: Vec<f64> = orders
        .iter()
        .map(|&a| 500.0 * dpsynth::dp::rdp::sampled_gaussian_rdp(0.02, 1.1, a))
        .collect();
    let eps_sgd = dpsynth::dp::rdp::epsilon_from_rdp(&orders, &sgd, 1e-5).0;
    let got_sgd = v["epsilon_sgd"].as_f64().unwrap();
    assert!(
        (got_sgd - eps_sgd).abs() < 1e-9 * eps_sgd,
        "{got_sgd} vs {eps_sgd}"
    );
    // The histograms take about a tenth (the default share) of the total, and compose.
    let pre = v["epsilon_preprocessing"].as_f64().unwrap();
    assert!(
        (pre - eps_sgd / 9.0).abs() < 1e-6 * eps_sgd,
        "{pre} vs {}",
        eps_sgd / 9.0
    );
    let eps = v["epsilon"].as_f64().unwrap();
    assert!(eps > got_sgd && eps < got_sgd + pre, "{eps}");
    assert_eq!(v["delta_threshold"], 0.0);
}

/// The released generator's BatchNorm statistics after a DP critic step depend on the
/// generator and its noise only, never on the private rows or on how many were sampled: the
/// step's fake rows are a pool of exactly B. Two tables that differ in 400 rows (so the
/// Poisson batches differ in size) give bit-identical running statistics from the same seed;
/// without the step they would be the initial ones, so the check can fail.
#[test]
fn dp_critic_step_fake_rows_do_not_depend_on_the_private_batch() {
    let _serial = crate::util::serial_flex();
    let mut config = dp_config(1);
    // No histograms: with uniform frequencies the transformer, and so the generator's input,
    // is the same for both tables; only the critic step reads their rows.
    config.privacy.preprocess_share = 0.0;
    let base = credit();
    let dir = tempdir();
    let text =
        std::fs::read_to_string(crate::util::root().join("datasets/credit_data.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let more = [&lines[..], &lines[1..401]].concat().join("\n") + "\n";
    std::fs::write(dir.path().join("more.csv"), more).unwrap();
    let bigger = dpsynth::read::read_table(&dir.path().join("more.csv"), &config.data).unwrap();
    assert_eq!(bigger.n_rows(), base.n_rows() + 400);
    let running = |table: dpsynth::read::Table, steps: usize| {
        let mut trainer = Trainer::new(table, &config, &Device::flex()).unwrap();
        for _ in 0..steps {
            trainer.discriminator_step().unwrap();
        }
        trainer
            .finish()
            .tensors
            .into_iter()
            .filter(|t| t.name.contains("running_"))
            .map(|t| (t.name, t.data))
            .collect::<Vec<_>>()
    };
    let (a, b) = (running(base.clone(), 3), running(bigger, 3));
    assert!(!a.is_empty(), "the generator has BatchNorm statistics");
    assert_eq!(a, b, "running statistics depend on the private rows");
    assert_ne!(
        a,
        running(base, 0),
        "the critic steps did not run the generator"
    );
}

/// A column marked `nullable` keeps a null slot (its nulls come back as nulls); a column
/// without nulls and without the mark gets none, so it never learns to emit them.
#[test]
fn nullable_columns_keep_their_null_slot() {
    let _serial = crate::util::serial_flex();
    let config = dp_config(1);
    assert!(config.privacy.columns["Income"].nullable);
    assert!(!config.privacy.columns["Age"].nullable);
    let trained = Trainer::new(credit(), &config, &Device::flex())
        .unwrap()
        .finish();
    let encoder = |name: &str| {
        let i = trained
            .transformer
            .schema
            .columns
            .iter()
            .position(|c| c.name == name)
            .unwrap();
        &trained.transformer.encoders[i]
    };
    match (encoder("Income"), encoder("Age")) {
        (
            dpsynth::transform::Encoder::Continuous(income),
            dpsynth::transform::Encoder::Continuous(age),
        ) => {
            assert!(
                income.has_null,
                "Income is nullable: it needs its null indicator"
            );
            assert!(!age.has_null, "Age has no nulls and is not marked nullable");
        }
        other => panic!("Income and Age are continuous in DP mode: {other:?}"),
    }
    match encoder("Home") {
        dpsynth::transform::Encoder::Discrete(home) => {
            assert!(home.slots.contains(&dpsynth::transform::Slot::Null))
        }
        other => panic!("Home is discrete: {other:?}"),
    }
}

#[test]
fn dp_schema_takes_text_forms_only_from_metadata() {
    // Decimal places and a datetime's resolution and text form, learned from the rows without
    // DP, are private: in DP mode they come from `[privacy.columns]` or not at all.
    let mut table = credit();
    let inferred = dpsynth::schema::Schema::infer(&mut table, &RunConfig::default()).unwrap();
    let income = |s: &dpsynth::schema::Schema| {
        s.columns
            .iter()
            .find(|c| c.name == "Income")
            .unwrap()
            .clone()
    };
    assert_eq!(
        income(&inferred).decimals,
        Some(0),
        "credit's Income holds whole amounts"
    );
    let mut config =
        RunConfig::from_toml(&format!("{SMALL}\n{}", credit_domains()), "test").unwrap();
    for column in config.privacy.columns.values_mut() {
        column.decimals = None;
    }
    let public = dpsynth::dp::preprocess::public_schema(inferred.clone(), &config.privacy);
    assert!(public
        .columns
        .iter()
        .all(|c| c.decimals.is_none() && c.resolution.is_none()));
    config.privacy.columns.get_mut("Income").unwrap().decimals = Some(2);
    let public = dpsynth::dp::preprocess::public_schema(inferred, &config.privacy);
    assert_eq!(income(&public).decimals, Some(2));
}

/// `train.max_steps` cuts the epochs before the plan is made: the noise is calibrated for the
/// steps taken (the spent ε reaches the target, with less noise than the uncut plan's), and the
/// terminal, the ledger, `dpsynth privacy` and a run folder's status all count the cut epochs.
#[test]
fn a_step_cap_cuts_the_epochs_and_the_noise_is_planned_for_the_steps_taken() {
    let dir = tempdir();
    // 5 epochs of round(4,454 / 500) = 9 steps would be 45; a cap of 20 leaves 2 epochs.
    let toml = format!("{SMALL}\n[privacy]\n{}", credit_domains())
        .replace("epochs = 1", "epochs = 5\nmax_steps = 20");
    std::fs::write(dir.path().join("capped.toml"), &toml).unwrap();
    let data = crate::util::root().join("datasets/credit_data.csv");
    let data = data.to_str().unwrap();
    let common = [
        "--config",
        "capped.toml",
        "--epsilon",
        "2",
        "--delta",
        "1e-6",
    ];
    let mut args = vec!["train", data, "--out", "m.dpsynth"];
    args.extend_from_slice(&common);
    let out = dpsynth(dir.path(), &args);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("train.max_steps = 20 cut the configured 5 epochs to 2 (9 critic steps each, 18 in all)"),
        "{err}"
    );
    assert!(err.contains("epoch 2/2"), "{err}");
    assert!(!err.contains("epoch 3/"), "{err}");

    let model = ModelFile::read(&dir.path().join("m.dpsynth")).unwrap();
    assert_eq!(model.header.epochs_run, 2);
    let PrivacySection::Dp(ledger) = &model.header.privacy else {
        panic!("a DP run has a ledger")
    };
    assert_eq!(ledger.steps, 18);
    assert_eq!(ledger.plan.planned_steps, 18);
    assert!(ledger
        .epochs_cut
        .as_deref()
        .is_some_and(|c| c.contains("to 2")));
    // Calibrated for 18 steps, the run spends its target; the uncut plan (45 steps) would have
    // needed more noise per step.
    assert!(
        ledger.epsilon > 0.97 * 2.0 && ledger.epsilon <= 2.0,
        "{}",
        ledger.epsilon
    );
    let share = model.header.config.privacy.preprocess_share_at(Some(2.0));
    let again = dpsynth::dp::PrivacyPlan::new(&plan_request(&ledger.plan, share)).unwrap();
    assert_eq!(&again, &ledger.plan);
    let uncut = dpsynth::dp::PrivacyPlan::new(&dpsynth::dp::PlanRequest {
        epochs: 5,
        ..plan_request(&ledger.plan, share)
    })
    .unwrap();
    assert_eq!(uncut.planned_steps, 45);
    assert!(uncut.noise_multiplier > ledger.plan.noise_multiplier * 1.1);
    let inspect = dpsynth(dir.path(), &["inspect", "m.dpsynth"]);
    assert!(
        String::from_utf8_lossy(&inspect.stdout).contains("cut the configured 5 epochs to 2"),
        "{}",
        String::from_utf8_lossy(&inspect.stdout)
    );

    // The planning command counts the same epochs and steps.
    let plan = dpsynth(
        dir.path(),
        &[
            "privacy",
            "--rows",
            "4454",
            "--batch",
            "500",
            "--epochs",
            "5",
            "--max-steps",
            "20",
            "--epsilon",
            "2",
            "--json",
        ],
    );
    assert!(plan.status.success(), "{}", stderr(&plan));
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(json["epochs"], 2);
    assert_eq!(json["steps"], 18);

    // A run folder's status and its finish message count the cut epochs too.
    let mut args = vec!["train", data, "--run", "run", "--quiet"];
    args.extend_from_slice(&common);
    let out = dpsynth(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = dpsynth::run::RunFolder::new(dir.path().join("run"))
        .status()
        .unwrap();
    assert_eq!((status.epoch, status.epochs), (2, 2));
    assert_eq!(status.state, dpsynth::run::RunState::Finished);
}

/// The request that reproduces `plan` (public domains: no discovery).
fn plan_request(plan: &dpsynth::dp::PrivacyPlan, share: f64) -> dpsynth::dp::PlanRequest {
    dpsynth::dp::PlanRequest {
        epsilon: plan.target_epsilon,
        delta: plan.target_delta,
        rows: plan.rows,
        batch: plan.batch,
        epochs: 2,
        discriminator_steps: 1,
        preprocess_share: share,
        discovery: false,
        noise_multiplier: None,
        histogram_noise_multiplier: None,
    }
}
