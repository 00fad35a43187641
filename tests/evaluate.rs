//! `evaluate` on pairs of tables whose answer is known, and against SDMetrics' own
//! QualityReport on a reference pair (`tests/fixtures/sdmetrics_credit.json`, made by
//! `scripts/sdmetrics_reference.py`).

use dpsynth::evaluate::evaluate;
use dpsynth::read::{Column, Table, Values};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::util::credit;

#[test]
fn identical_tables_score_perfectly_and_leak_everything() {
    // Under the distance searches' row cap, so no row is subsampled away.
    let real = credit().take_rows(&(0..1500).collect::<Vec<_>>());
    let report = evaluate(&real, real.clone(), Some(real.clone())).unwrap();
    let f = &report.fidelity;
    assert!((f.column_shapes - 1.0).abs() < 1e-12, "{}", f.column_shapes);
    assert!(
        (f.column_pair_trends - 1.0).abs() < 1e-12,
        "{}",
        f.column_pair_trends
    );
    let p = report.privacy.unwrap();
    // Every synthetic row is a training row.
    assert_eq!(p.exact_copies, 1.0);
    assert_eq!(p.dcr_train_median, 0.0);
    assert_eq!(p.closer_to_train_share, 0.5); // training and holdout are the same rows here
}

#[test]
fn copied_training_rows_are_caught_by_the_privacy_measures() {
    let table = credit();
    let train = table.take_rows(&(0..1500).collect::<Vec<_>>());
    let holdout = table.take_rows(&(1500..3000).collect::<Vec<_>>());
    // A "generator" that memorised: its rows are the training rows.
    let leaky = evaluate(&train, train.clone(), Some(holdout.clone()))
        .unwrap()
        .privacy
        .unwrap();
    assert_eq!(leaky.exact_copies, 1.0);
    assert!(
        leaky.closer_to_train_share > 0.95,
        "{}",
        leaky.closer_to_train_share
    );
    assert!(leaky.membership_auc > 0.9, "{}", leaky.membership_auc);
    // Fresh rows from the same population: no copies, no membership signal.
    let fresh = table.take_rows(&(3000..4454).collect::<Vec<_>>());
    let honest = evaluate(&train, fresh, Some(holdout))
        .unwrap()
        .privacy
        .unwrap();
    assert!(honest.exact_copies < 0.01, "{}", honest.exact_copies);
    assert!(
        (honest.membership_auc - 0.5).abs() < 0.1,
        "{}",
        honest.membership_auc
    );
}

#[test]
fn shuffling_a_column_breaks_pairs_not_shapes() {
    let real = credit();
    let mut shuffled = real.clone();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let n = real.n_rows();
    for name in ["Amount", "Price", "Income"] {
        let column = shuffled
            .columns
            .iter_mut()
            .find(|c| c.name == name)
            .unwrap();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        column.values = column.values.take(&order);
    }
    let f = evaluate(&real, shuffled, None).unwrap().fidelity;
    assert!(
        (f.column_shapes - 1.0).abs() < 1e-12,
        "shapes moved: {}",
        f.column_shapes
    );
    let pair = |a: &str, b: &str| {
        f.pairs
            .iter()
            .find(|p| p.column_1 == a && p.column_2 == b)
            .and_then(|p| p.score)
            .unwrap()
    };
    // Amount and Price are strongly correlated in the real table (r ~ 0.7): shuffled apart
    // the correlation similarity falls to about 1 - 0.7 / 2.
    assert!(
        pair("Amount", "Price") < 0.75,
        "{}",
        pair("Amount", "Price")
    );
    assert!(f.column_pair_trends < 0.97, "{}", f.column_pair_trends);
    // Pairs of untouched columns stay perfect.
    assert!((pair("Status", "Home") - 1.0).abs() < 1e-12);
}

#[test]
fn a_constant_synthetic_table_has_poor_shapes() {
    let real = credit();
    let constant = real.take_rows(&vec![0; real.n_rows()]);
    let f = evaluate(&real, constant, None).unwrap().fidelity;
    assert!(f.column_shapes < 0.5, "{}", f.column_shapes);
}

#[test]
fn mismatched_or_empty_tables_are_clear_errors() {
    let real = credit();
    let mut renamed = real.clone();
    renamed.columns[2].name = "Dwelling".into();
    let msg = evaluate(&real, renamed, None).unwrap_err().to_string();
    assert!(msg.contains("Home") && msg.contains("Dwelling"), "{msg}");
    let empty = Table {
        columns: real
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                values: Values::Text(Vec::new()),
                form: None,
            })
            .collect(),
    };
    let msg = evaluate(&real, empty, None).unwrap_err().to_string();
    assert!(msg.contains("no rows"), "{msg}");
}

#[test]
fn scores_agree_with_sdmetrics_quality_report() {
    let root = crate::util::root();
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/fixtures/sdmetrics_credit.json")).unwrap(),
    )
    .unwrap();
    let synthetic = dpsynth::read::read_table(
        &root.join("tests/fixtures/credit_synthetic.csv"),
        &Default::default(),
    )
    .unwrap();
    let f = evaluate(&credit(), synthetic, None).unwrap().fidelity;
    let num = |v: &serde_json::Value| v.as_f64().unwrap();
    // The bar: within 0.01 of SDMetrics' headline scores.
    for (ours, key) in [
        (f.overall, "overall"),
        (f.column_shapes, "column_shapes"),
        (f.column_pair_trends, "column_pair_trends"),
    ] {
        assert!(
            (ours - num(&fixture[key])).abs() < 0.01,
            "{key}: {ours} vs {}",
            fixture[key]
        );
    }
    // And far tighter for every column and every pair (same definitions, not just close).
    for s in &f.shapes {
        let want = num(&fixture["shapes"][&s.column]["score"]);
        assert!(
            (s.score - want).abs() < 1e-9,
            "{}: {} vs {want}",
            s.column,
            s.score
        );
    }
    let all = fixture["unthresholded"]["pairs"].as_array().unwrap();
    assert_eq!(all.len(), f.pairs.len());
    for (p, want) in f.pairs.iter().zip(all) {
        assert_eq!(p.column_1, want["column_1"].as_str().unwrap());
        assert_eq!(p.column_2, want["column_2"].as_str().unwrap());
        let (ours, theirs) = (p.score.unwrap(), num(&want["score"]));
        assert!(
            (ours - theirs).abs() < 1e-9,
            "{} x {}: {ours} vs {theirs}",
            p.column_1,
            p.column_2
        );
    }
    let thresholded = fixture["pairs"].as_array().unwrap();
    for (p, want) in f.pairs.iter().zip(thresholded) {
        assert_eq!(
            p.meets_threshold,
            want["meets_threshold"].as_bool().unwrap(),
            "{} x {}",
            p.column_1,
            p.column_2
        );
    }
}

#[test]
fn utility_and_report_on_a_credit_split() {
    let table = credit();
    let train = table.take_rows(&(0..3000).collect::<Vec<_>>());
    let holdout = table.take_rows(&(3000..4454).collect::<Vec<_>>());
    // Synthetic = real training rows: utility must equal train-on-real.
    let (report, synthetic) = dpsynth::evaluate::evaluate_with(
        &train,
        train.clone(),
        Some(holdout.clone()),
        Some("Status"),
    )
    .unwrap();
    let u = report.utility.as_ref().unwrap();
    assert_eq!(u.synthetic.accuracy, u.real.accuracy);
    let auc = u.real.roc_auc.unwrap();
    assert!(
        auc > 0.7 && auc <= 1.0,
        "a real model predicts Status: AUC {auc}"
    );
    // A DP model's "other" slot puts target values the real table never had into the
    // synthetic rows: they are left out of training and the binary scores stay defined.
    let mut with_other = train.clone();
    let status = with_other
        .columns
        .iter_mut()
        .find(|c| c.name == "Status")
        .unwrap();
    let Values::Text(v) = &mut status.values else {
        panic!("Status is text")
    };
    for r in (0..v.len()).step_by(10) {
        v[r] = Some("other".into());
    }
    let (other_report, _) =
        dpsynth::evaluate::evaluate_with(&train, with_other, Some(holdout.clone()), Some("Status"))
            .unwrap();
    let other_auc = other_report.utility.unwrap().synthetic.roc_auc;
    assert!(
        other_auc.is_some_and(|a| (a - auc).abs() < 0.05),
        "{other_auc:?} vs {auc}"
    );
    // A synthetic table whose target is shuffled away from its features teaches nothing:
    // the model trained on it ranks holdout rows no better than chance.
    let mut broken = train.clone();
    let status = broken
        .columns
        .iter_mut()
        .find(|c| c.name == "Status")
        .unwrap();
    let mut order: Vec<usize> = (0..train.n_rows()).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(7));
    status.values = status.values.take(&order);
    let (shuffled_report, _) =
        dpsynth::evaluate::evaluate_with(&train, broken, Some(holdout.clone()), Some("Status"))
            .unwrap();
    let shuffled_auc = shuffled_report.utility.unwrap().synthetic.roc_auc.unwrap();
    assert!(
        (shuffled_auc - 0.5).abs() < 0.1 && shuffled_auc < auc - 0.15,
        "shuffled target AUC {shuffled_auc} vs real {auc}"
    );
    let html = dpsynth::evaluate::report::render(
        &report,
        &train,
        &synthetic,
        Some(&("privacy: none".to_string(), Vec::new())),
    );
    for section in [
        "id=\"fidelity\"",
        "id=\"distributions\"",
        "id=\"associations\"",
        "id=\"utility\"",
        "id=\"privacy\"",
        "id=\"ledger\"",
    ] {
        assert!(html.contains(section), "missing {section}");
    }
    // One chart per column plus the two heatmaps, all inline.
    assert_eq!(html.matches("<svg").count(), train.columns.len() + 2);
    // Self-contained: nothing is fetched when the file is opened offline.
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    // Bad targets.
    let err = |t: &str| {
        dpsynth::evaluate::evaluate_with(&train, train.clone(), Some(holdout.clone()), Some(t))
            .unwrap_err()
            .to_string()
    };
    assert!(err("Nope").contains("'Nope' is not in the real table"));
    let mut constant = train.clone();
    constant.columns[0].values = constant.take_rows(&vec![0; 3000]).columns[0].values.clone();
    let msg = dpsynth::evaluate::evaluate_with(
        &constant,
        constant.clone(),
        Some(holdout),
        Some("Status"),
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("constant"), "{msg}");
}
