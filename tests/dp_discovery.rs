//! DP on a table nobody wrote metadata for (issue 21): bounds that keep the data, storage
//! types decided under DP, no value the data never had, categories found on small tables,
//! and the storage-type refusals of issue 20.

use burn::tensor::Device;
use dpsynth::config::{PrivacyConfig, RunConfig, TransformConfig};
use dpsynth::dp::preprocess::{fit_private_transformer, PreprocessSettings};
use dpsynth::dp::{DpRng, PlanRequest, PrivacyPlan};
use dpsynth::read::{Column, Table, Values};
use dpsynth::schema::{ColumnKind, Schema};
use dpsynth::train::Trainer;
use dpsynth::transform::{Encoder, Slot};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal};

use crate::util::{assert_clean_failure, dpsynth, tempdir};

/// The histogram noise multiplier and δ threshold of a plan at `epsilon` with `share` of it
/// for preprocessing.
fn histogram_z_with(rows: usize, epsilon: f64, share: f64) -> (f64, f64) {
    let plan = PrivacyPlan::new(&PlanRequest {
        epsilon: Some(epsilon),
        delta: 1e-6,
        rows,
        batch: rows.min(500),
        epochs: 50,
        discriminator_steps: 1,
        preprocess_share: share,
        discovery: true,
        noise_multiplier: None,
        histogram_noise_multiplier: None,
    })
    .unwrap();
    (
        plan.histogram_noise_multiplier.unwrap(),
        plan.delta_threshold,
    )
}

fn numbers(name: &str, v: Vec<f64>) -> Column {
    Column {
        name: name.into(),
        values: Values::Float(v.into_iter().map(Some).collect()),
        form: None,
    }
}

/// The clipped table, the DP transformer and its preprocessing ledger.
type Fitted = (
    Table,
    dpsynth::transform::DataTransformer,
    dpsynth::dp::preprocess::PreprocessLedger,
);

/// Fits the DP transformer on `table` with discovery on, at epsilon 3 with 30% for
/// preprocessing; returns the clipped table too.
fn fit(table: Table, seed: u64) -> Fitted {
    let privacy = PrivacyConfig {
        epsilon: Some(3.0),
        discover: true,
        ..PrivacyConfig::default()
    };
    fit_with(table, seed, privacy, 0.3)
}

/// [`fit`] with the privacy settings given and `share` of epsilon for preprocessing.
fn fit_with(mut table: Table, seed: u64, privacy: PrivacyConfig, share: f64) -> Fitted {
    let mut config = RunConfig {
        privacy: privacy.clone(),
        ..RunConfig::default()
    };
    config.transform.discrete_int_max_distinct = 0;
    let schema = Schema::infer(&mut table, &config).unwrap();
    let schema = dpsynth::dp::preprocess::public_schema(schema, &privacy);
    let (z, delta_threshold) = histogram_z_with(table.n_rows(), 3.0, share);
    let (transformer, ledger) = fit_private_transformer(
        &mut table,
        &schema,
        &PreprocessSettings {
            privacy: &privacy,
            transform: &TransformConfig::default(),
            noise_multiplier: Some(z),
            delta_threshold,
        },
        &mut DpRng::from_seed(seed),
    )
    .unwrap();
    (table, transformer, ledger)
}

#[test]
fn estimated_bounds_keep_at_least_99_percent_of_rows() {
    let rows = 4000;
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let lognormal: LogNormal<f64> = LogNormal::new(7.0, 1.0).unwrap();
    let skewed: Vec<f64> = (0..rows)
        .map(|_| lognormal.sample(&mut rng).round())
        .collect();
    // Three quarters zeros, the rest spread over 10..50 (a voicemail count).
    let zero_inflated: Vec<f64> = (0..rows)
        .map(|_| {
            if rng.random::<f64>() < 0.75 {
                0.0
            } else {
                rng.random_range(10..=50) as f64
            }
        })
        .collect();
    let normal: Normal<f64> = Normal::new(100.0, 20.0).unwrap();
    let calls: Vec<f64> = (0..rows)
        .map(|_| normal.sample(&mut rng).round().max(0.0))
        .collect();
    // Narrow, far from zero: a year.
    let years: Vec<f64> = (0..rows)
        .map(|_| rng.random_range(2001..=2012) as f64)
        .collect();
    let minutes: Vec<f64> = (0..rows)
        .map(|_| (normal.sample(&mut rng) * 18.0).round() / 10.0)
        .collect();
    // Tiny, both signs: a rate near 1e-6 (the grid once stopped at 1e-4 and clipped it to 0).
    let tiny: Normal<f64> = Normal::new(0.0, 1e-6).unwrap();
    let rates: Vec<f64> = (0..rows).map(|_| tiny.sample(&mut rng)).collect();
    let table = Table {
        columns: vec![
            numbers("amount", skewed.clone()),
            numbers("vmail", zero_inflated.clone()),
            numbers("calls", calls.clone()),
            numbers("year", years.clone()),
            numbers("minutes", minutes.clone()),
            numbers("rate", rates.clone()),
        ],
    };
    let originals = [skewed, zero_inflated, calls, years, minutes, rates];
    for seed in 0..3 {
        let (clipped, transformer, ledger) = fit(table.clone(), seed);
        assert_eq!(ledger.estimated_bounds.len(), 6);
        assert!(ledger.bounds_noise_std > 0.0, "{ledger:?}");
        // Six grid and six storage-class histograms, six main histograms, and one more for
        // each column whose values sat in a small part of its range or mostly in its first
        // bin (measured again in log scale) or whose points or float values were counted, in
        // the one slot each column has for these: all charged.
        let second: std::collections::BTreeSet<&String> = ledger
            .narrowed_bounds
            .iter()
            .chain(&ledger.log_binned)
            .chain(&ledger.points_measured)
            .chain(&ledger.keys_measured)
            .collect();
        assert_eq!(
            second.len(),
            ledger.narrowed_bounds.len()
                + ledger.log_binned.len()
                + ledger.points_measured.len()
                + ledger.keys_measured.len(),
            "a column used its second slot twice: {ledger:?}"
        );
        assert_eq!(ledger.histograms, 18 + second.len());
        // The year (2001-2012) sits in one bin of its log-scale bounds ([563, 5623]): it is
        // measured again over that bin, so its mixture sees single years, not 80-year bins.
        assert!(
            ledger.narrowed_bounds.contains(&"year".to_string()),
            "seed {seed}: {:?}",
            ledger.narrowed_bounds
        );
        let Encoder::Continuous(year) = &transformer.encoders[3] else {
            panic!()
        };
        // One grid bin of 79 years, or two where the neighbour's noisy count clears two
        // deviations (the bounds' growth rule; pure noise does so 2.3% of the time a side).
        assert!(
            year.max - year.min <= 160.0 && year.min <= 2001.0 && year.max >= 2012.0,
            "seed {seed}: year range [{}, {}]",
            year.min,
            year.max
        );
        // Its narrowed part is counted per year (its bins are the sums), and the sampled
        // years are kept to the loud ones (at most one bin's worth beyond 2001-2012; before
        // the per-year counts, the modes sat at bin middles and sampled some years only).
        assert!(
            !year.support.is_empty()
                && year.support.iter().all(|&y| (1998.0..=2015.0).contains(&y))
                && (2001..=2012).all(|y| year.support.contains(&(y as f64))),
            "seed {seed}: year support {:?}",
            year.support
        );
        for (c, original) in originals.iter().enumerate() {
            let moved = (0..rows)
                .filter(|&i| clipped.columns[c].values.number(i) != Some(original[i]))
                .count();
            assert!(
                (moved as f64) <= 0.01 * rows as f64,
                "seed {seed}: column {} clipped {moved} of {rows} rows",
                clipped.columns[c].name
            );
            let Encoder::Continuous(enc) = &transformer.encoders[c] else {
                panic!("continuous")
            };
            assert!(enc.min <= enc.max);
        }
        // Integer columns are integers, the minutes keep their one decimal place.
        let schema = &transformer.schema.columns;
        for column in &schema[..4] {
            assert_eq!(
                column.value_type,
                dpsynth::read::ValueType::Int,
                "{}",
                column.name
            );
        }
        assert_eq!(schema[4].value_type, dpsynth::read::ValueType::Float);
        assert_eq!(schema[4].decimals, Some(1));
        let Encoder::Continuous(rate) = &transformer.encoders[5] else {
            panic!()
        };
        assert!(
            rate.min < -2e-6 && rate.max > 2e-6 && rate.max < 1e-4,
            "seed {seed}: rate range [{}, {}]",
            rate.min,
            rate.max
        );
        // Zero-inflated: the zeros sit exactly on the lower bound.
        let Encoder::Continuous(vmail) = &transformer.encoders[1] else {
            panic!()
        };
        assert_eq!(vmail.min, 0.0);
    }
}

#[test]
fn a_signed_amount_keeps_both_signs_and_its_bins_follow_them() {
    // A profit: 85% gains and 15% losses, both spread over decades (as Forbes2000's, -25.8
    // to 21, most within 1 of zero; here a median of 0.08). Its range crosses zero, and its
    // even bins over that range would merge most rows into the one holding zero: the column
    // is measured again over bins even in log scale on both sides of zero.
    let rows = 4000;
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let spread: LogNormal<f64> = LogNormal::new(-2.5, 1.5).unwrap();
    let profit: Vec<f64> = (0..rows)
        .map(|_| {
            let x = (spread.sample(&mut rng) * 100.0).round() / 100.0;
            if rng.random::<f64>() < 0.15 {
                -x
            } else {
                x
            }
        })
        .collect();
    let table = Table {
        columns: vec![numbers("profit", profit.clone())],
    };
    for seed in 0..3 {
        let (clipped, transformer, ledger) = fit(table.clone(), seed);
        let moved = (0..rows)
            .filter(|&i| clipped.columns[0].values.number(i) != Some(profit[i]))
            .count();
        // The losses' tail beyond -1.8 (about 1% of the rows, at one or two rows' worth of
        // the bounds' noise per half-decade) is clipped in some draws: the support grows
        // over bins above two deviations only.
        assert!(
            moved * 200 <= 3 * rows,
            "seed {seed}: {moved} of {rows} rows clipped"
        );
        assert_eq!(ledger.log_binned, vec!["profit".to_string()], "seed {seed}");
        let Encoder::Continuous(enc) = &transformer.encoders[0] else {
            panic!()
        };
        // The mixture's mass below zero (each mode's normal below 0) near the losses' 15%.
        let below: f64 = enc
            .modes
            .iter()
            .map(|m| {
                let z = if m.std > 0.0 {
                    -m.mean / m.std
                } else {
                    f64::from(m.mean < 0.0) * 1e9
                };
                m.weight * 0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
            })
            .sum();
        let total: f64 = enc.modes.iter().map(|m| m.weight).sum();
        assert!(
            (0.08..0.25).contains(&(below / total)),
            "seed {seed}: {:.3} of the mixture below zero: {:?}",
            below / total,
            enc.modes
        );
    }
}

#[test]
fn a_small_table_finds_most_of_51_categories_or_says_so() {
    let rows = 4000;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let states: Vec<Option<String>> = (0..rows).map(|i| Some(format!("S{:02}", i % 51))).collect();
    let flag: Vec<Option<String>> = (0..rows)
        .map(|_| {
            Some(
                if rng.random::<f64>() < 0.1 {
                    "yes"
                } else {
                    "no"
                }
                .to_string(),
            )
        })
        .collect();
    let normal: Normal<f64> = Normal::new(100.0, 20.0).unwrap();
    let mut columns = vec![
        Column {
            name: "state".into(),
            values: Values::Text(states),
            form: None,
        },
        Column {
            name: "plan".into(),
            values: Values::Text(flag),
            form: None,
        },
    ];
    for c in 0..10 {
        columns.push(numbers(
            &format!("x{c}"),
            (0..rows).map(|_| normal.sample(&mut rng).round()).collect(),
        ));
    }
    let (_, transformer, ledger) = fit(Table { columns }, 1);
    let Encoder::Discrete(state) = &transformer.encoders[0] else {
        panic!()
    };
    let found = state
        .slots
        .iter()
        .filter(|s| matches!(s, Slot::Value(_)))
        .count();
    eprintln!(
        "found {found} of 51 states (threshold {:.1}, std {:.2})",
        ledger.threshold, ledger.discovery_noise_std
    );
    if found < 40 {
        assert!(
            ledger
                .folded
                .iter()
                .any(|(c, rows)| c == "state" && *rows > 0.0),
            "{found} states found and the fold is not reported: {:?}",
            ledger.folded
        );
    }
    // The yes/no column is complete: no "other" and no null slot that no row has.
    let Encoder::Discrete(plan) = &transformer.encoders[1] else {
        panic!()
    };
    assert_eq!(plan.slots.len(), 2, "{:?}", plan.slots);
    assert_eq!(transformer.schema.columns[0].kind, ColumnKind::Discrete);
}

#[test]
fn a_rare_yes_beside_a_common_no_is_released_without_the_threshold() {
    // 1,900 rows: `dmi` says "yes" in 40 (2%, hdma's mortgage-insurance denials), `code` has
    // a rare "unknown" in 40 rows beside "known" (no public partner), and `all_no` is "no"
    // in every row. With the public yes/no pairs (`PARTNER_WORDS`), "yes" needs three
    // deviations of the discovery noise where "no" was released, not the threshold; a word
    // the rows never hold is almost never released, and a word without a partner still
    // needs the threshold.
    let rows = 1_900;
    let text = |name: &str, rare: &str, common: &str, n_rare: usize| Column {
        name: name.into(),
        values: Values::Text(
            (0..rows)
                .map(|i| Some(if i < n_rare { rare } else { common }.to_string()))
                .collect(),
        ),
        form: None,
    };
    let kept = |t: &dpsynth::transform::DataTransformer, c: usize, word: &str| {
        let Encoder::Discrete(d) = &t.encoders[c] else {
            panic!("column {c} is not discrete")
        };
        d.slots.iter().any(|s| *s == Slot::Value(word.into()))
    };
    let (mut yes, mut partnered, mut unknown, mut false_yes, mut female) = (0, 0, 0, 0, 0);
    let seeds = 20usize;
    for seed in 0..seeds as u64 {
        let table = Table {
            columns: vec![
                text("dmi", "yes", "no", 40),
                text("code", "unknown", "known", 40),
                text("all_no", "yes", "no", 0),
            ],
        };
        let (_, t, ledger) = fit(table, seed);
        if seed == 0 {
            eprintln!(
                "threshold {:.1}, discovery std {:.2}",
                ledger.threshold, ledger.discovery_noise_std
            );
            assert!(
                40.0 < ledger.threshold,
                "the test needs a threshold above 40 rows"
            );
            assert!(
                40.0 > 4.0 * ledger.discovery_noise_std,
                "the test needs 40 rows at four deviations"
            );
        }
        assert!(kept(&t, 0, "no") && kept(&t, 1, "known") && kept(&t, 2, "no"));
        yes += usize::from(kept(&t, 0, "yes"));
        // "F" is in two pairs (T/F and M/F): beside "M" it is released by the rule too.
        let (_, _, sexes) = fit(
            Table {
                columns: vec![
                    text("sex", "F", "M", 40),
                    text("code", "unknown", "known", 40),
                    text("all_no", "yes", "no", 0),
                ],
            },
            seed,
        );
        female += usize::from(sexes.partnered.iter().any(|p| p == "sex: F"));
        // Released by the partner rule (not by clearing the threshold), and said so.
        partnered += usize::from(ledger.partnered.iter().any(|p| p == "dmi: yes"));
        unknown += usize::from(kept(&t, 1, "unknown"));
        false_yes += usize::from(kept(&t, 2, "yes"));
    }
    eprintln!(
        "of {seeds} seeds: yes kept {yes} ({partnered} by its partner), F beside M {female}, unknown kept {unknown}, a false yes {false_yes}"
    );
    // 40 rows against three deviations (26.1): kept in 94.5% of draws by the normal tail;
    // against the threshold (48): in 18%.
    assert!(yes >= 16, "{yes}");
    assert!(female >= seeds / 2, "{female}");
    assert!(partnered >= seeds / 2, "{partnered}");
    assert!(unknown <= 8 && yes >= unknown + 8, "{unknown}");
    assert_eq!(false_yes, 0);
}

#[test]
fn an_integer_column_range_stays_inside_what_i64_holds() {
    // Multiples of 1e300 are whole numbers to the decimal-places histogram, and the log grid
    // reaches 1.8e19: the column was typed integer with a range past i64::MAX, and sampled
    // values were written as 9223372036854775807.
    let table = Table {
        columns: vec![numbers(
            "huge",
            (0..3_000).map(|i| 1e300 * (i % 7) as f64).collect(),
        )],
    };
    for seed in 0..3 {
        let (clipped, t, _) = fit(table.clone(), seed);
        let Encoder::Continuous(c) = &t.encoders[0] else {
            panic!("not continuous")
        };
        let typed = t.schema.columns[0].value_type.clone();
        eprintln!("{typed:?} range [{}, {}]", c.min, c.max);
        if typed == dpsynth::read::ValueType::Int {
            assert!(
                c.max < i64::MAX as f64 && c.min > i64::MIN as f64,
                "{}",
                c.max
            );
            assert!(clipped.columns[0].values.number(1).unwrap() <= c.max);
        }
    }
}

#[test]
fn samples_stay_inside_types_and_public_domains() {
    let _serial = crate::util::serial_flex();
    // Public complete lists, integers, non-nullable columns: no sampled value outside them.
    let mut config = RunConfig::from_toml(
        &format!(
            "[model]\nembedding_dim = 16\ngenerator_dims = [32]\ndiscriminator_dims = [32]\n[train]\nepochs = 2\nbatch_size = 500\nseed = 3\n{}",
            crate::util::credit_domains()
        ),
        "test",
    )
    .unwrap();
    config.privacy.epsilon = Some(1.0);
    let trained = Trainer::new(crate::util::credit(), &config, &Device::flex())
        .unwrap()
        .finish();
    let file = dpsynth::export::ModelFile::from_training(trained, &config);
    let sampler = dpsynth::sample::GeneratorSampler::new(
        &file,
        &Device::flex(),
        std::path::Path::new("memory"),
    )
    .unwrap();
    let rows = sampler
        .sample_table(20_000, None, 1, &mut ChaCha8Rng::seed_from_u64(1))
        .unwrap();
    for column in &rows.columns {
        let public = &config.privacy.columns[&column.name];
        for i in 0..column.values.len() {
            match column.values.key(i) {
                None => assert!(public.nullable, "{} sampled a null", column.name),
                Some(k) => {
                    if let Some(list) = &public.categories {
                        assert!(list.contains(&k), "{} sampled {k:?}", column.name);
                    }
                    if public.integer {
                        let x = column.values.number(i).unwrap();
                        assert_eq!(x, x.round(), "{}: {x}", column.name);
                    }
                    if let (Some(lo), Some(hi)) = (public.min, public.max) {
                        let x = column.values.number(i).unwrap();
                        assert!(
                            x >= lo && x <= hi,
                            "{}: {x} outside [{lo}, {hi}]",
                            column.name
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn boolean_and_date_columns_need_their_type_in_dp_mode() {
    let dir = tempdir();
    let mut csv = String::from("flag,day,amount\n");
    for i in 0..400 {
        csv.push_str(&format!(
            "{},2024-01-{:02},{}\n",
            i % 3 == 0,
            1 + i % 28,
            i % 50
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let base = "[train]\nepochs = 1\nbatch_size = 100\n[privacy]\nepsilon = 3.0\n[privacy.columns.amount]\nmin = 0\nmax = 100\ninteger = true\n";
    let train = |toml: &str| {
        std::fs::write(dir.path().join("c.toml"), toml).unwrap();
        dpsynth(
            dir.path(),
            &[
                "train",
                "t.csv",
                "--config",
                "c.toml",
                "--out",
                "m.dpsynth",
                "--quiet",
                "--seed",
                "3",
            ],
        )
    };
    // Without metadata for either: one error names both, the lines to add and `--discover`.
    let out = train(base);
    assert_clean_failure(
        &out,
        &[
            "--discover",
            "[privacy.columns.flag]\ntype = \"bool\"",
            "[privacy.columns.day]\ntype = \"date\"",
        ],
    );
    // Bounds without `type = "date"`: each cell is read as a number, and dates are none, so
    // the column is missing throughout (no refusal: that would depend on the rows) and the
    // terminal names the key to check, from the noisy null count.
    let out = train(&format!("{base}[privacy.columns.day]\nmin = 19700\nmax = 20000\n[privacy.columns.flag]\ntype = \"bool\"\n"));
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let err = crate::util::stderr(&out);
    assert!(
        err.contains("warning: day is missing in nearly every row") && err.contains("`type`"),
        "{err}"
    );
    // A public list makes the column text: its cells are the categories as written.
    let out = train(&format!("{base}[privacy.columns.day]\nmin = 19700\nmax = 20000\ntype = \"date\"\n[privacy.columns.flag]\ncategories = [\"false\", \"true\"]\n"));
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    assert!(!crate::util::stderr(&out).contains("warning"));
    let out = train(&format!("{base}[privacy.columns.day]\nmin = 19700\nmax = 20000\ntype = \"date\"\n[privacy.columns.flag]\ntype = \"bool\"\n"));
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
}

#[test]
fn a_declared_boolean_is_written_in_the_words_of_its_format() {
    // R writes booleans as TRUE/FALSE. Under DP, with `type = "bool"` declared, the words read
    // from the rows are not public and the release held true/false; `format = "TRUE/FALSE"`
    // now gives them.
    let dir = tempdir();
    let mut csv = String::from("flag,amount\n");
    for i in 0..400 {
        csv.push_str(&format!("{},{}\n", ["TRUE", "FALSE"][i % 3 / 2], i % 50));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let base = "[model]\nembedding_dim = 16\ngenerator_dims = [32]\ndiscriminator_dims = [32]\n[train]\nepochs = 1\nbatch_size = 100\nseed = 5\n[privacy]\nepsilon = 3.0\n[privacy.columns.amount]\nmin = 0\nmax = 100\ninteger = true\n[privacy.columns.flag]\ntype = \"bool\"\n";
    let words = |format: &str| -> std::collections::BTreeSet<String> {
        let text = train_and_sample(dir.path(), &format!("{base}{format}"), "300", "1");
        text.lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect()
    };
    let set = |w: &[&str]| w.iter().map(|s| s.to_string()).collect();
    assert_eq!(words("format = \"TRUE/FALSE\"\n"), set(&["TRUE", "FALSE"]));
    assert_eq!(words("format = \"Yes / No\"\n"), set(&["Yes", "No"]));
    assert_eq!(words(""), set(&["true", "false"]));
    std::fs::write(
        dir.path().join("c.toml"),
        format!("{base}format = \"TRUE\"\n"),
    )
    .unwrap();
    let out = dpsynth(
        dir.path(),
        &["train", "t.csv", "--config", "c.toml", "--out", "m.dpsynth"],
    );
    assert_clean_failure(&out, &["privacy.columns.flag.format", "TRUE/FALSE"]);
}

#[test]
fn a_dp_run_refuses_nothing_for_what_its_rows_hold() {
    // Whether a DP run releases anything must not depend on the rows: an all-missing column,
    // NaN and infinite cells and a table smaller than the configured batch all train (without
    // DP the first is refused, asking to drop the column). A timestamp whose type came from the
    // rows keeps its text form.
    let dir = tempdir();
    let mut csv = String::from("empty,amount,when,kind\n");
    for i in 0..300 {
        let amount = match i % 50 {
            0 => "NaN".to_string(),
            1 => "inf".to_string(),
            _ => format!("{}.5", i % 40),
        };
        csv.push_str(&format!(
            ",{amount},2024-01-{:02} {:02}:{:02},{}\n",
            1 + i % 28,
            i % 24,
            (i * 7) % 60,
            ["a", "b"][i % 2]
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "[model]\nembedding_dim = 16\ngenerator_dims = [32]\ndiscriminator_dims = [32]\n[train]\nepochs = 1\nbatch_size = 1000\nseed = 5\n[privacy]\nepsilon = 3.0\ndiscover = true\npreprocess_share = 0.8\nwarm_start_epochs = 1\nbins = 128\n",
    )
    .unwrap();
    let out = dpsynth(
        dir.path(),
        &["train", "t.csv", "--config", "c.toml", "--out", "m.dpsynth"],
    );
    let err = crate::util::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("train.batch_size = 1000 is more than the table's 300 rows: training with batches of 300"),
        "{err}"
    );
    // 300 rows cannot fill the configured 128 bins at this noise; the ledger says so against
    // the configured count.
    let out = dpsynth(dir.path(), &["inspect", "m.dpsynth"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("fewer than the 128 of privacy.bins for this noise"),
        "{shown}"
    );
    let out = dpsynth(
        dir.path(),
        &[
            "sample",
            "m.dpsynth",
            "-n",
            "500",
            "-o",
            "s.csv",
            "--seed",
            "1",
        ],
    );
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let sampled = std::fs::read_to_string(dir.path().join("s.csv")).unwrap();
    let mut lines = sampled.lines();
    assert_eq!(lines.next(), Some("empty,amount,when,kind"));
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(
            cells[0], "",
            "the all-missing column sampled a value: {line}"
        );
        let amount = cells[1];
        assert!(
            amount.is_empty() || amount.parse::<f64>().is_ok_and(f64::is_finite),
            "{line}"
        );
        assert!(
            chrono::NaiveDateTime::parse_from_str(cells[2], "%Y-%m-%d %H:%M").is_ok(),
            "timestamp not in the file's form: {line}"
        );
    }
    std::fs::write(
        dir.path().join("c.toml"),
        "[model]\nembedding_dim = 16\ngenerator_dims = [32]\ndiscriminator_dims = [32]\n[train]\nepochs = 1\nbatch_size = 100\n",
    )
    .unwrap();
    let out = dpsynth(
        dir.path(),
        &["train", "t.csv", "--config", "c.toml", "--out", "n.dpsynth"],
    );
    assert_clean_failure(&out, &["column 'empty'", "every value is missing"]);
}

#[test]
fn a_column_too_sparse_for_a_range_is_sampled_as_missing_and_the_ledger_says_so() {
    // 2,000 rows; `sparse` has 3 values, far below the noise of its log-scale histogram, so no
    // range can be released: every value becomes missing, and nothing decodes to a number.
    let rows = 2000;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let dense: Vec<f64> = (0..rows).map(|_| rng.random_range(0.0..100.0)).collect();
    let table = Table {
        columns: vec![
            numbers("dense", dense),
            Column {
                name: "sparse".into(),
                values: Values::Float((0..rows).map(|i| (i < 3).then_some(7.0)).collect()),
                form: None,
            },
        ],
    };
    for seed in 0..3 {
        let (clipped, transformer, ledger) = fit(table.clone(), seed);
        assert_eq!(ledger.no_range, ["sparse"], "seed {seed}");
        assert_eq!(clipped.columns[1].values.non_null_count(), 0);
        let Encoder::Continuous(enc) = &transformer.encoders[1] else {
            panic!()
        };
        assert!(enc.has_null && enc.null_rate >= 1.0, "{enc:?}");
        // Whatever the generator outputs for the column, it decodes to missing.
        let mut span = vec![0.0f32; enc.width()];
        for present in [1.0, -1.0] {
            let n = span.len();
            span[n - 2] = present;
            span[n - 1] = -present;
            assert_eq!(enc.decode_value(&span), None);
        }
        let text = dpsynth::dp::ledger::no_range_text(&ledger);
        assert!(text.contains("[privacy.columns.sparse]"), "{text}");
    }
}

/// Trains on `t.csv` in `dir` with `config` (written to `c.toml`), samples `rows` rows with
/// sampling seed `seed`, and returns the sampled CSV's text.
fn train_and_sample(dir: &std::path::Path, config: &str, rows: &str, seed: &str) -> String {
    train_and_sample_with(dir, config, &[], rows, seed)
}

/// [`train_and_sample`] with `flags` added to the training command (`--discover`).
fn train_and_sample_with(
    dir: &std::path::Path,
    config: &str,
    flags: &[&str],
    rows: &str,
    seed: &str,
) -> String {
    std::fs::write(dir.join("c.toml"), config).unwrap();
    let mut args = vec![
        "train",
        "t.csv",
        "--config",
        "c.toml",
        "--out",
        "m.dpsynth",
        "--quiet",
    ];
    args.extend_from_slice(flags);
    let out = dpsynth(dir, &args);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let out = dpsynth(
        dir,
        &[
            "sample",
            "m.dpsynth",
            "-n",
            rows,
            "-o",
            "s.csv",
            "--seed",
            seed,
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    std::fs::read_to_string(dir.join("s.csv")).unwrap()
}

/// The cells of one CSV line (fields with a comma are quoted, as polars writes them).
fn csv_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

/// `$1,234.50`: a dollar sign, digits grouped by threes, two decimals.
fn is_dollars(cell: &str) -> bool {
    let Some(body) = cell.strip_prefix('-').unwrap_or(cell).strip_prefix('$') else {
        return false;
    };
    let Some((int_part, cents)) = body.split_once('.') else {
        return false;
    };
    let groups: Vec<&str> = int_part.split(',').collect();
    cents.len() == 2
        && cents.bytes().all(|b| b.is_ascii_digit())
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn numbers_written_as_text_are_modelled_as_numbers_and_come_back_in_their_form() {
    // Currency with thousands separators and accounting negatives (`($12.50)`, a refund in
    // every fifth row), percentages, zero-padded zip codes, a numeric
    // column with "?" for missing, dates written month first and times of day: polars reads
    // all but the zips as text (under DP every value folded into "other") and the zips as
    // numbers without their leading zeros.
    let dir = tempdir();
    let mut csv = String::from("price,pct,zip,score,kind,day,at\n");
    for i in 0..600usize {
        let cents = 500 + (i * 7919) % 400_000;
        let price = format!("{}.{:02}", cents / 100, cents % 100);
        let price = match price.split_once('.') {
            Some((whole, c)) if whole.len() > 3 => {
                format!(
                    "\"${},{}.{c}\"",
                    &whole[..whole.len() - 3],
                    &whole[whole.len() - 3..]
                )
            }
            _ => format!("${price}"),
        };
        let price = if i % 5 == 0 {
            format!("\"({})\"", price.trim_matches('"'))
        } else {
            price
        };
        let score = if i % 10 == 0 {
            "?".to_string()
        } else {
            (300 + (i * 31) % 500).to_string()
        };
        csv.push_str(&format!(
            "{price},{:.1}%,{:05},{score},{},{:02}/{:02}/2021,{:02}:{:02}\n",
            (i * 37 % 1000) as f64 / 10.0,
            501 + (i * 211) % 9000,
            ["a", "b"][i % 2],
            1 + i % 12,
            1 + (i * 7) % 28,
            (i * 5) % 24,
            (i * 13) % 60
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let run = |config: &str| {
        let text = train_and_sample(
            dir.path(),
            &format!("[model]\nembedding_dim = 16\ngenerator_dims = [32]\ndiscriminator_dims = [32]\n[train]\nepochs = 2\nbatch_size = 100\nseed = 5\n{config}"),
            "400",
            "2",
        );
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("price,pct,zip,score,kind,day,at"));
        lines.map(csv_cells).collect::<Vec<_>>()
    };
    let is_pct = |c: &str| {
        c.strip_suffix('%').is_some_and(|n| {
            n.split_once('.').is_some_and(|(_, f)| f.len() == 1) && n.parse::<f64>().is_ok()
        })
    };
    let is_score = |c: &str| c == "?" || c.parse::<i64>().is_ok();
    // Without DP and with discovery, every cell is in the input's form.
    for (mode, config) in [
        ("no DP", ""),
        (
            "DP, discovered",
            "[privacy]\nepsilon = 3.0\ndiscover = true\nwarm_start_epochs = 1\npreprocess_share = 0.8\n",
        ),
    ] {
        let rows = run(config);
        // (Under DP, 120 refunds spread over three decades are below the bounds' noise on 600
        // rows: the range starts at 0.)
        let refunds = rows.iter().filter(|r| r[0].starts_with('(')).count();
        assert!(
            refunds > 20 || mode != "no DP",
            "{mode}: {refunds} refunds in 400 rows (20% in the input)"
        );
        // Prices are modelled as numbers, not as 600 categories: most sampled ones are new.
        let input = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
        let seen: std::collections::HashSet<String> =
            input.lines().skip(1).map(|l| csv_cells(l)[0].clone()).collect();
        let new_prices = rows.iter().filter(|r| !seen.contains(&r[0])).count();
        assert!(new_prices > 200, "{mode}: {new_prices} of 400 prices not in the input");
        for row in &rows {
            let price = row[0]
                .strip_prefix('(')
                .and_then(|p| p.strip_suffix(')'))
                .unwrap_or(&row[0]);
            assert!(is_dollars(price), "{mode}: price {:?}", row[0]);
            assert!(is_pct(&row[1]), "{mode}: pct {:?}", row[1]);
            assert!(
                row[2].len() >= 5 && row[2].bytes().all(|b| b.is_ascii_digit()),
                "{mode}: zip {:?} lost its leading zeros",
                row[2]
            );
            assert!(is_score(&row[3]), "{mode}: score {:?}", row[3]);
            // Dates month first and times of day, as the input wrote them (polars reads
            // neither as a date).
            assert!(
                chrono::NaiveDate::parse_from_str(&row[5], "%m/%d/%Y").is_ok() && row[5].len() == 10,
                "{mode}: day {:?}",
                row[5]
            );
            assert!(
                chrono::NaiveTime::parse_from_str(&row[6], "%H:%M").is_ok() && row[6].len() == 5,
                "{mode}: time {:?}",
                row[6]
            );
        }
        // The zips start with a zero in the input (501 .. 9500): so do most sampled ones.
        let padded = rows.iter().filter(|r| r[2].starts_with('0')).count();
        assert!(
            padded > rows.len() / 2,
            "{mode}: {padded} of {} zips start with 0",
            rows.len()
        );
        if mode == "no DP" {
            let marked = rows.iter().filter(|r| r[3] == "?").count();
            assert!(
                marked > 10,
                "{mode}: {marked} '?' cells in 400 rows (10% in the input)"
            );
        }
    }
    // DP with public bounds for price (the form is read from the rows, so not kept): plain
    // numbers. A zip with a public list of categories keeps the cells as written.
    let rows = run("[privacy]\nepsilon = 3.0\ndiscover = true\nwarm_start_epochs = 1\npreprocess_share = 0.8\n[privacy.columns.price]\nmin = -5000.0\nmax = 5000.0\ndecimals = 2\n[privacy.columns.zip]\ncategories = [\"00501\", \"00712\", \"09500\"]\n");
    for row in &rows {
        assert!(
            row[0]
                .parse::<f64>()
                .is_ok_and(|x| (-5000.0..=5000.0).contains(&x)),
            "price with public bounds: {:?}",
            row[0]
        );
        assert!(
            ["00501", "00712", "09500", "other", ""].contains(&row[2].as_str()),
            "zip with a public list: {:?}",
            row[2]
        );
    }
}

#[test]
fn short_integer_columns_sample_only_values_their_noisy_counts_support() {
    // In DP mode an integer column is continuous (how many distinct values it has is
    // private), and its log-scale range pads it: a 0/1 flag got [0, 5] and was sampled as 2
    // and 3. The integers whose noisy count clears the noise are the only ones sampled. (The
    // two-epoch generator here samples them at other shares than the mixture's weights: the
    // model's support and weights are checked, and that the sample keeps to the support.)
    let dir = tempdir();
    let mut csv = String::from("flag,stars,even,amount\n");
    for i in 0..3000usize {
        csv.push_str(&format!(
            "{},{},{},{}.5\n",
            usize::from(i % 7 < 2),
            1 + (i * 13) % 5,
            2 * ((i * 7) % 4),
            100 + (i * 37) % 900
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let text = train_and_sample(
        dir.path(),
        "[model]\nembedding_dim = 16\ngenerator_dims = [32]\ndiscriminator_dims = [32]\n[train]\nepochs = 2\nbatch_size = 500\nseed = 5\n[privacy]\nepsilon = 3.0\ndiscover = true\nwarm_start_epochs = 1\n",
        "3000",
        "1",
    );
    let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let std = header["privacy"]["preprocessing"]["count_noise_std"]
        .as_f64()
        .unwrap();
    let allowed: [&[f64]; 3] = [
        &[0.0, 1.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0],
        &[0.0, 2.0, 4.0, 6.0],
    ];
    for c in 0..3 {
        let e = &header["transformer"]["encoders"][c]["Continuous"];
        let support: Vec<f64> = e["support"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        // Every value of the data is supported.
        assert!(
            allowed[c].iter().all(|v| support.contains(v)),
            "column {c}: support {support:?}"
        );
        // An integer with no row can still join where its noisy count clears two deviations
        // next to or between supported ones (pure noise does so 2.3% of the time: about a
        // run in four on this table's nine such places); it joins at its noisy count's
        // weight, which clears three deviations 0.13% of the time.
        for m in e["modes"].as_array().unwrap() {
            let mean = m["mean"].as_f64().unwrap();
            if !allowed[c].contains(&mean) {
                let weight = m["weight"].as_f64().unwrap();
                assert!(
                    weight * 3000.0 < 3.0 * std,
                    "column {c}: {mean} never in the data has weight {weight} (std {std})"
                );
            }
        }
        // Every sampled value is a supported one.
        for line in text.lines().skip(1) {
            let cell: f64 = line.split(',').nth(c).unwrap().parse().unwrap();
            assert!(
                support.contains(&cell),
                "column {c} sampled {cell}: {support:?}"
            );
        }
    }
}

/// A small model trained for two epochs; with `dp`, at epsilon 3 with discovery on.
fn small_config(dp: bool) -> String {
    let model = "[model]\nembedding_dim = 16\ngenerator_dims = [32]\ndiscriminator_dims = [32]\n[train]\nepochs = 2\nbatch_size = 500\nseed = 5\n";
    if dp {
        format!("{model}[privacy]\nepsilon = 3.0\ndiscover = true\nwarm_start_epochs = 1\n")
    } else {
        model.to_string()
    }
}

#[test]
fn monthly_dates_and_hourly_timestamps_come_back_on_their_step() {
    // A column of months (every value the first of a month) was sampled on any day, and an
    // hourly timestamp at any minute in DP mode (its step was learned only without DP). The
    // step is now measured under DP (a noisy histogram of each value's step) and learned from
    // the rows without DP.
    let dir = tempdir();
    let mut csv = String::from("month,seen,amount\n");
    for i in 0..3000usize {
        csv.push_str(&format!(
            "{}-{:02}-01,2021-03-{:02} {:02}:00:00,{}.25\n",
            2015 + i % 6,
            1 + (i * 7) % 12,
            1 + (i * 11) % 28,
            (i * 5) % 24,
            100 + (i * 37) % 900
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    for dp in [true, false] {
        let config = small_config(dp);
        let text = train_and_sample(dir.path(), &config, "2000", "1");
        let mut months = std::collections::BTreeSet::new();
        for line in text.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            assert!(
                cells[0].len() == 10 && cells[0].ends_with("-01"),
                "dp {dp}: month sampled as {:?}, not the first of a month",
                cells[0]
            );
            months.insert(&cells[0][5..7]);
            let time = cells[1].split(' ').nth(1).unwrap_or("");
            assert!(
                time.ends_with(":00:00"),
                "dp {dp}: hourly timestamp sampled as {:?}",
                cells[1]
            );
        }
        assert!(months.len() >= 6, "dp {dp}: months sampled {months:?}");
        if dp {
            // With public bounds (days since 1970) and a declared type the step is measured
            // too: the bounds say nothing of it, and these months came back on any day.
            let public = config.clone()
                + "[privacy.columns.month]\nmin = 16000\nmax = 19000\ntype = \"date\"\n";
            let text = train_and_sample(dir.path(), &public, "1000", "1");
            for line in text.lines().skip(1) {
                let month = line.split(',').next().unwrap();
                assert!(
                    month.ends_with("-01"),
                    "public bounds: month sampled as {month:?}"
                );
            }
            let out = dpsynth(dir.path(), &["inspect", "m.dpsynth"]);
            let shown = String::from_utf8_lossy(&out.stdout);
            assert!(shown.contains("month: monthly"), "{shown}");
            // The ledger's other lines come from the run without public bounds, again.
            train_and_sample(dir.path(), &config, "10", "1");
            let out = dpsynth(dir.path(), &["inspect", "m.dpsynth"]);
            let shown = String::from_utf8_lossy(&out.stdout);
            assert!(
                shown.contains("month: monthly") && shown.contains("seen: hourly"),
                "{shown}"
            );
        }
    }
}

#[test]
fn booleans_come_back_in_the_words_the_file_wrote() {
    // R writes TRUE/FALSE and pandas True/False; polars reads both as booleans and wrote
    // them back as true/false.
    let dir = tempdir();
    let mut csv = String::from("r_flag,py_flag,plain,amount\n");
    for i in 0..3000usize {
        csv.push_str(&format!(
            "{},{},{},{}.5\n",
            if i % 3 == 0 { "TRUE" } else { "FALSE" },
            if i % 5 < 2 { "True" } else { "False" },
            i % 2 == 0,
            100 + (i * 37) % 900
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    for dp in [true, false] {
        let config = small_config(dp);
        let text = train_and_sample(dir.path(), &config, "1000", "1");
        let mut seen = [
            std::collections::BTreeSet::new(),
            Default::default(),
            Default::default(),
        ];
        for line in text.lines().skip(1) {
            for (c, cell) in line.split(',').take(3).enumerate() {
                seen[c].insert(cell.to_string());
            }
        }
        let expect = |words: [&str; 2]| words.iter().map(|w| w.to_string()).collect();
        assert_eq!(seen[0], expect(["FALSE", "TRUE"]), "dp {dp}");
        assert_eq!(seen[1], expect(["False", "True"]), "dp {dp}");
        assert_eq!(seen[2], expect(["false", "true"]), "dp {dp}");
    }
    // A condition is read in the column's words.
    let out = dpsynth(
        dir.path(),
        &[
            "sample",
            "m.dpsynth",
            "-n",
            "20",
            "-o",
            "c.csv",
            "--condition",
            "r_flag=TRUE",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("c.csv")).unwrap();
    assert!(
        text.lines().skip(1).all(|l| l.starts_with("TRUE,")),
        "{text}"
    );
}

/// For each row value of `values`, the mean of the mode `enc` encodes it in (one draw each).
fn encoded_mode_means(
    enc: &dpsynth::transform::ContinuousEncoder,
    values: &[f64],
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    let mut out = vec![0.0f32; enc.width()];
    let mut probs = vec![0.0; enc.modes.len()];
    values
        .iter()
        .map(|&x| {
            enc.encode_value(Some(x), &mut out, &mut probs, rng);
            let k = (0..enc.modes.len()).find(|&k| out[1 + k] == 1.0).unwrap();
            enc.modes[k].mean
        })
        .collect()
}

#[test]
fn the_values_of_a_count_are_encoded_in_their_own_modes() {
    // The mixture is fitted on one point per histogram bin. On 30,000 rows of a count on
    // [0, 56] (bins 0.875 wide), the 1s' mode sat at the bin's middle, 1.31, with a deviation
    // of 0.02, so every 1 was encoded into a far, wide mode, and the generator sampled 1 in
    // 0.8% of rows against 19%. The points of such bins are now their integers.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let counts: Vec<f64> = (0..30_000)
        .map(|_| (-(rng.random::<f64>()).ln() / 0.3).floor())
        .collect();
    for seed in [1, 2] {
        let table = Table {
            columns: vec![Column::new(
                "visits",
                Values::Int(counts.iter().map(|&c| Some(c as i64)).collect()),
            )],
        };
        let (_, transformer, _) = fit(table, seed);
        let Encoder::Continuous(visits) = &transformer.encoders[0] else {
            panic!("a continuous column")
        };
        let means = encoded_mode_means(visits, &counts, &mut rng);
        for k in 0..5 {
            let rows: Vec<f64> = counts
                .iter()
                .zip(&means)
                .filter(|(&c, _)| c == k as f64)
                .map(|(_, &m)| m)
                .collect();
            let own = rows.iter().filter(|&&m| (m - k as f64).abs() < 0.5).count();
            assert!(
                own as f64 >= 0.95 * rows.len() as f64,
                "seed {seed}: {own} of the {} rows of {k} encoded in a mode at {k} (range [{}, {}], modes {:?})",
                rows.len(),
                visits.min,
                visits.max,
                visits.modes.iter().map(|m| (m.mean, m.std)).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn estimated_ranges_are_sampled_within_the_part_their_rows_sit_in() {
    // An age of 20-61 gets the log-scale range [17.8, 177.8] (the data's half-decades, padded
    // by a quarter decade), and the generator's modes reached into the padding: ages up to 177
    // in 3-29% of rows. The column is now sampled within the part of that range its noisy
    // counts put all but 1% of the rows in; what the generator puts beyond is folded into the
    // part's outer bin, not piled onto its bound.
    let dir = tempdir();
    let mut csv = String::from("age,score\n");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..4000usize {
        let u: f64 = rng.random();
        let age = 20 + (u * 42.0) as usize;
        csv.push_str(&format!(
            "{age},{:.2}\n",
            300.0 + 5.0 * age as f64 + 40.0 * u
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let text = train_and_sample(dir.path(), &small_config(true), "3000", "2");
    let ages: Vec<f64> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect();
    assert!(ages.len() > 2900, "{} ages parsed", ages.len());
    // The part's bins are 2.7 years wide; a margin bin on each side and one more of slack
    // for where the noisy part ends.
    let outside: Vec<f64> = ages
        .iter()
        .copied()
        .filter(|&a| !(14.0..=67.0).contains(&a))
        .collect();
    assert!(
        outside.is_empty(),
        "{} of {} ages outside 14-67, e.g. {:?}",
        outside.len(),
        ages.len(),
        &outside[..outside.len().min(5)]
    );
    // Folded, not piled up: no single age holds more than 8% of the rows (each of the 42
    // real ages holds 2.4%).
    let mut counts = std::collections::BTreeMap::new();
    for a in &ages {
        *counts.entry(*a as i64).or_insert(0usize) += 1;
    }
    let (top, most) = counts.iter().max_by_key(|(_, &n)| n).unwrap();
    assert!(
        (*most as f64) < 0.08 * ages.len() as f64,
        "age {top} in {most} of {} rows",
        ages.len()
    );
    let out = dpsynth(dir.path(), &["inspect", "m.dpsynth"]);
    let ledger = String::from_utf8_lossy(&out.stdout);
    assert!(
        ledger.contains("sampled within the loud part of the range: age"),
        "{ledger}"
    );
}

#[test]
fn a_table_with_r_row_names_and_ratings_keeps_quiet_end_ratings_and_names_the_unnamed_column() {
    // R writes a table's row names under an empty header (`"",A1,...`), and bfi (psych) has 25
    // ratings of 1-6 whose end values hold 2-3% of the rows, near three noise deviations. The
    // ledger printed the empty name as a bare comma, and a quiet end value was left out of the
    // column's integer support or its mixture and sampled as its neighbour: bfi lost 7 to 10
    // such values per run. Here 24 ratings whose end values hold 1.5% of 2,800 rows (about
    // four deviations of the counts' noise): the previous code left 20-24 of the 72 end values
    // out in three seeds.
    let dir = tempdir();
    let shares = [
        [0.33, 0.30, 0.15, 0.12, 0.085, 0.015],
        [0.015, 0.085, 0.12, 0.15, 0.30, 0.33],
        [0.015, 0.165, 0.32, 0.32, 0.165, 0.015],
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut draw = |s: &[f64; 6]| {
        let u: f64 = rng.random();
        let mut acc = 0.0;
        s.iter()
            .position(|p| {
                acc += p;
                u < acc
            })
            .unwrap_or(5)
            + 1
    };
    let names: Vec<String> = (0..24).map(|j| format!("R{j}")).collect();
    let mut csv = format!("\"\",{},gender\n", names.join(","));
    for i in 0..2800usize {
        let ratings: Vec<String> = (0..24).map(|j| draw(&shares[j % 3]).to_string()).collect();
        let gender = 1 + usize::from(draw(&[0.0, 0.0, 0.0, 0.0, 0.33, 0.67]) == 6);
        csv.push_str(&format!(
            "\"{}\",{},{gender}\n",
            61617 + i,
            ratings.join(",")
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let config = small_config(true) + "preprocess_share = 0.8\n";
    let text = train_and_sample(dir.path(), &config, "2000", "3");
    // The empty header is written back as it came; every sampled rating is one of 1-6.
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with(",R0,") || header.starts_with("\"\",R0,"),
        "{header}"
    );
    // Every sampled rating is a whole number.
    for line in text.lines().skip(1) {
        for v in line.split(',').skip(1).take(24) {
            assert!(v.parse::<u32>().is_ok(), "{line}");
        }
    }
    // Each rating's values in its integer support and within reach of a mode of its mixture.
    let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let encoders = header["transformer"]["encoders"].as_array().unwrap();
    let mut left_out = Vec::new();
    for (j, name) in names.iter().enumerate() {
        let e = &encoders[j + 1]["Continuous"];
        let support: Vec<f64> = e["support"]
            .as_array()
            .map(|s| s.iter().map(|v| v.as_f64().unwrap()).collect())
            .unwrap_or_default();
        for v in 1..=6 {
            let v = v as f64;
            let reached = e["modes"].as_array().unwrap().iter().any(|m| {
                let (mean, std) = (m["mean"].as_f64().unwrap(), m["std"].as_f64().unwrap());
                (mean - v).abs() <= (3.0 * std).max(0.5)
            });
            let supported = support.is_empty() || support.contains(&v);
            if !(supported && reached) {
                // Middle values hold 8.5-33% of the rows: never left out.
                assert!(
                    v == 1.0 || v == 6.0,
                    "{name} = {v}: supported {supported}, reached {reached}"
                );
                left_out.push(format!("{name} = {v}"));
            }
        }
    }
    assert!(
        left_out.len() <= 3,
        "{} left out: {left_out:?}",
        left_out.len()
    );
    let beyond: Vec<&String> = names
        .iter()
        .enumerate()
        .filter(|(j, _)| {
            encoders[j + 1]["Continuous"]["support"]
                .as_array()
                .is_some_and(|s| {
                    s.iter()
                        .any(|v| !(1.0..=6.0).contains(&v.as_f64().unwrap()))
                })
        })
        .map(|(_, n)| n)
        .collect();
    // Values the data never had: an end's quiet neighbour (above two deviations, which pure
    // noise clears 2.3% of the time) joins the support, so about one of the 48 ends reaches a
    // 0 or a 7 per run, with the small weight of its noisy count. (This two-epoch generator
    // picks the exact modes nearly evenly, so its samples would not show the weights.)
    assert!(beyond.len() <= 3, "supports beyond 1-6: {beyond:?}");
    for (j, name) in names.iter().enumerate() {
        let e = &encoders[j + 1]["Continuous"];
        let weight: f64 = e["modes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| !(0.5..=6.5).contains(&m["mean"].as_f64().unwrap()))
            .map(|m| m["weight"].as_f64().unwrap())
            .sum();
        assert!(weight < 0.02, "{name}: weight {weight} outside 1-6: {e}");
    }
    let out = dpsynth(dir.path(), &["inspect", "m.dpsynth"]);
    let ledger = String::from_utf8_lossy(&out.stdout);
    assert!(
        ledger.contains("bounds estimated under DP: (unnamed column), R0"),
        "{ledger}"
    );
    assert!(
        !ledger.contains(": , ") && !ledger.contains(":  & "),
        "{ledger}"
    );
}

#[test]
fn zero_one_flags_of_a_small_table_keep_their_ones() {
    // COUNT's affairs (601 rows, 18 0/1 columns): the bounds' log-scale grid put a flag's ones
    // 16 half-decades from its zeros, and ones at 10-35% of the rows (below the seed level of
    // the bounds' noise) could not join them: 14 of 18 flags here (and 15 of affairs' 18) came
    // back as the constant 0. An integer column's grid skips the bins where no integer lies,
    // and a range that is the zero bin alone reaches 1-3 for the column's own histogram.
    let dir = tempdir();
    let shares = [0.10, 0.15, 0.20, 0.25, 0.30, 0.35];
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let names: Vec<String> = (0..18).map(|j| format!("f{j}")).collect();
    let mut csv = names.join(",") + "\n";
    for _ in 0..601 {
        let row: Vec<&str> = (0..18)
            .map(|j| {
                if rng.random::<f64>() < shares[j % 6] {
                    "1"
                } else {
                    "0"
                }
            })
            .collect();
        csv.push_str(&(row.join(",") + "\n"));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let config = small_config(true) + "preprocess_share = 0.8\n";
    let text = train_and_sample(dir.path(), &config, "1000", "3");
    let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let encoders = header["transformer"]["encoders"].as_array().unwrap();
    for (j, name) in names.iter().enumerate() {
        let e = &encoders[j]["Continuous"];
        // The ones are a mode of the column's mixture with about their share of the weight.
        let ones: f64 = e["modes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| (m["mean"].as_f64().unwrap() - 1.0).abs() < 0.25)
            .map(|m| m["weight"].as_f64().unwrap())
            .sum();
        assert!(
            ones > 0.5 * shares[j % 6] && ones < 2.0 * shares[j % 6],
            "{name}: weight {ones} at 1 for {}% ones: {e}",
            100.0 * shares[j % 6]
        );
    }
    // Each flag's ones come back in the sample (this two-epoch generator gets their shares
    // only roughly).
    for (j, name) in names.iter().enumerate() {
        let ones = text
            .lines()
            .skip(1)
            .filter(|l| l.split(',').nth(j) == Some("1"))
            .count();
        assert!(ones > 20, "{name}: {ones} ones in 1,000 rows");
    }
}

#[test]
fn round_amounts_and_half_years_come_back_on_their_lattice() {
    // Loan amounts in steps of 500, incomes in thousands (a fifth of them zero), years of
    // schooling in halves, and two controls: ages (plain integers, a fifth of them multiples
    // of 5 by chance) and rates in cents. The amounts came back as any integer (4,217) and the
    // half years with one decimal (10.3); each column's values are now rounded onto the
    // lattice its rows sit on, learned from the rows without DP and from a noisy histogram of
    // the values' classes under DP (in the slot the storage type already used).
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut csv = String::from("amount,income,school,age,rate\n");
    for _ in 0..4000 {
        let amount = 500 * rng.random_range(2..70);
        let income = if rng.random::<f64>() < 0.2 {
            0
        } else {
            1000 * (10.0 + 60.0 * rng.random::<f64>().powi(2)) as i64
        };
        let school = 8.0 + 0.5 * rng.random_range(0..21) as f64;
        let age = rng.random_range(18..80);
        let rate = rng.random_range(500..2500) as f64 / 100.0;
        csv.push_str(&format!("{amount},{income},{school:.1},{age},{rate:.2}\n"));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    for dp in [false, true] {
        let text = train_and_sample(dir.path(), &small_config(dp), "2000", "4");
        let column = |j: usize| -> Vec<f64> {
            text.lines()
                .skip(1)
                .filter_map(|l| l.split(',').nth(j).and_then(|c| c.parse().ok()))
                .collect()
        };
        let off = |j: usize, step: f64| {
            let v = column(j);
            assert!(
                v.len() > 1900,
                "dp {dp}: column {j} has {} numbers",
                v.len()
            );
            v.iter()
                .filter(|&&x| (x / step - (x / step).round()).abs() > 1e-9)
                .count()
        };
        assert_eq!(off(0, 500.0), 0, "dp {dp}: amounts off the 500s");
        assert_eq!(off(1, 1000.0), 0, "dp {dp}: incomes off the thousands");
        assert_eq!(off(2, 0.5), 0, "dp {dp}: schooling off the halves");
        // The controls keep their own values: ages end in every digit, rates in cents.
        assert!(off(3, 5.0) > 1000, "dp {dp}: ages were put on a lattice");
        assert!(off(4, 0.05) > 1000, "dp {dp}: rates were put on a lattice");
        let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
        let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let lattices: Vec<Option<f64>> = header["transformer"]["schema"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["lattice"].as_f64())
            .collect();
        assert_eq!(
            lattices,
            [Some(500.0), Some(1000.0), Some(0.5), None, None],
            "dp {dp}"
        );
    }
}

#[test]
fn a_declared_lattice_is_used_with_public_bounds_and_a_wrong_one_is_named() {
    // With public bounds nothing is measured about a column's storage: only its metadata
    // puts it on a lattice (`lattice = 500`). A lattice that is not 1 or 5 times a power of
    // ten, or one finer than the declared places, is refused with the key named.
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut csv = String::from("amount,kind\n");
    for _ in 0..1000 {
        csv.push_str(&format!(
            "{},{}\n",
            500 * rng.random_range(2..40),
            ["a", "b"][rng.random_range(0..2)]
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let base = small_config(true)
        + "[privacy.columns.kind]\ncategories = [\"a\", \"b\"]\n[privacy.columns.amount]\nmin = 0\nmax = 20000\ninteger = true\n";
    let text = train_and_sample(dir.path(), &format!("{base}lattice = 500\n"), "500", "2");
    let amounts: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(amounts.len(), 500);
    assert!(
        amounts
            .iter()
            .all(|a| a % 500.0 == 0.0 && (0.0..=20000.0).contains(a)),
        "{amounts:?}"
    );
    // Without the key, public bounds say nothing of a lattice.
    let text = train_and_sample(dir.path(), &base, "500", "2");
    let off = text
        .lines()
        .skip(1)
        .filter(|l| l.split(',').next().unwrap().parse::<f64>().unwrap() % 500.0 != 0.0)
        .count();
    assert!(
        off > 250,
        "{off} of 500 amounts off the 500s without a declared lattice"
    );
    for (line, needles) in [
        (
            "lattice = 200\n",
            &["privacy.columns.amount.lattice", "200"][..],
        ),
        (
            "lattice = 0.5\n",
            &["privacy.columns.amount.lattice", "decimal places"][..],
        ),
    ] {
        std::fs::write(dir.path().join("c.toml"), format!("{base}{line}")).unwrap();
        let out = dpsynth(
            dir.path(),
            &["train", "t.csv", "--config", "c.toml", "--out", "m.dpsynth"],
        );
        assert_clean_failure(&out, needles);
    }
}

#[test]
fn a_column_of_a_few_coded_values_is_sampled_on_them() {
    // Chile's incomes are seven bracket middles from 2,500 to 200,000 and Fair's ages are
    // coded 17.5, 22, 27, ..., 57: each a few points in a range whose 64 bins merge them,
    // so they were sampled as any multiple of 500 or any half year. A histogram over every
    // point of the column's grain in its loud part (the slot a narrowing would use) finds
    // them; a spread-out column (the control) is left as it was. (With train seeds 1-6 the
    // incomes were on their points in five; in the sixth their range's first even bin held
    // most rows and the slot went to log-scale bins instead, sampled as before.)
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let incomes = [
        (2_500, 0.06),
        (7_500, 0.19),
        (15_000, 0.29),
        (35_000, 0.28),
        (75_000, 0.10),
        (125_000, 0.04),
        (200_000, 0.04),
    ];
    let ages = [17.5, 22.0, 27.0, 32.0, 37.0, 42.0, 47.0, 52.0, 57.0];
    let mut csv = String::from("income,age,score\n");
    for _ in 0..2700 {
        let mut u = rng.random::<f64>();
        let income = incomes
            .iter()
            .find(|(_, p)| {
                u -= p;
                u < 0.0
            })
            .map_or(200_000, |(v, _)| *v);
        let age = ages[(rng.random::<f64>().powi(2) * 9.0) as usize];
        let score = 50.0 + 10.0 * (rng.random::<f64>() + rng.random::<f64>() - 1.0) * 2.4;
        csv.push_str(&format!("{income},{age},{score:.2}\n"));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let config = small_config(true) + "preprocess_share = 0.8\n";
    let text = train_and_sample(dir.path(), &config, "2000", "3");
    let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
    let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let on_points = &header["privacy"]["preprocessing"]["on_points"];
    assert_eq!(on_points, &serde_json::json!(["income", "age"]));
    let column = |j: usize| -> Vec<f64> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').nth(j).unwrap().parse().unwrap())
            .collect()
    };
    let income = column(0);
    assert!(
        income
            .iter()
            .all(|x| incomes.iter().any(|(v, _)| *v as f64 == *x)),
        "{:?}",
        income
            .iter()
            .filter(|x| !incomes.iter().any(|(v, _)| *v as f64 == **x))
            .take(10)
            .collect::<Vec<_>>()
    );
    let age = column(1);
    assert!(age.iter().all(|x| ages.contains(x)), "{age:?}");
    // The control keeps its spread: more than a hundred distinct scores.
    let score = column(2);
    let distinct: std::collections::BTreeSet<i64> =
        score.iter().map(|x| (x * 100.0).round() as i64).collect();
    assert!(distinct.len() > 100, "{} distinct scores", distinct.len());
}

#[test]
fn float_codes_off_any_lattice_are_sampled_on_them() {
    // MedExp's `lc` (log coinsurance, Ecdat): 0, 3.258096, 3.931826 and 4.564348 on 5,574
    // rows. No lattice holds them, so the grain points never saw them and the mixture sampled
    // everything but the zeros as a continuum over [0, 4.6]. The slot the points would use
    // measures the values themselves, thresholded (`keys_measured`); a measurement with six
    // decimals (the control) is measured the same way, releases no value, and keeps its spread.
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let codes = [
        (0.0, 0.40),
        (3.258096, 0.20),
        (3.931826, 0.07),
        (4.564348, 0.33),
    ];
    let spread = LogNormal::new(2.0, 0.5).unwrap();
    let mut csv = String::from("lc,dose\n");
    for _ in 0..5000 {
        let mut u = rng.random::<f64>();
        let lc = codes
            .iter()
            .find(|(_, p)| {
                u -= p;
                u < 0.0
            })
            .map_or(4.564348, |(v, _)| *v);
        let dose: f64 = spread.sample(&mut rng);
        csv.push_str(&format!("{lc},{dose:.6}\n"));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let config = small_config(true) + "preprocess_share = 0.8\n";
    let text = train_and_sample(dir.path(), &config, "4000", "3");
    let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
    let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pre = &header["privacy"]["preprocessing"];
    assert_eq!(pre["keys_measured"], serde_json::json!(["lc", "dose"]));
    assert_eq!(pre["on_points"], serde_json::json!(["lc"]));
    let column = |j: usize| -> Vec<f64> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').nth(j).unwrap().parse().unwrap())
            .collect()
    };
    let lc = column(0);
    // Each code is sampled (the shares are the two-epoch generator's business).
    for (code, share) in codes {
        let got = lc.iter().filter(|&&x| x == code).count() as f64 / lc.len() as f64;
        assert!(got > 0.02, "{code}: {got:.3} of the rows, real {share}");
    }
    let off = lc
        .iter()
        .filter(|x| !codes.iter().any(|c| c.0 == **x))
        .count();
    assert!(
        off * 20 < lc.len(),
        "{off} of {} values off the codes",
        lc.len()
    );
    let dose = column(1);
    let distinct: std::collections::BTreeSet<i64> =
        dose.iter().map(|x| (x * 1e6).round() as i64).collect();
    assert!(distinct.len() > 1000, "{} distinct doses", distinct.len());
}

#[test]
fn a_coded_score_of_a_few_dozen_values_is_sampled_on_them() {
    // nlschools' SES: 21 coded values from 10 to 50 on 2,287 rows, each 0.6-17% of them. Two
    // or three share a bin of the estimated range, so the mixture of bin middles sampled the
    // integers between (11, 12, 14, ...), and only five or so points clear the points'
    // threshold: they held half the rows, short of the three quarters the points' modes need.
    // Now a point joins where its bin's own count confirms rows beyond the loud points, and
    // where those points hold half the rows, the mixture is fitted on every point of a part
    // of at most 64 and sampled values snap onto them. A spread-out score (the control, 48
    // integers) keeps its mixture.
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let ses: [(i64, f64); 21] = [
        (10, 136.0),
        (13, 33.0),
        (15, 98.0),
        (17, 79.0),
        (18, 121.0),
        (20, 394.0),
        (23, 182.0),
        (25, 100.0),
        (27, 72.0),
        (28, 59.0),
        (30, 239.0),
        (33, 126.0),
        (35, 80.0),
        (37, 76.0),
        (38, 24.0),
        (40, 180.0),
        (43, 55.0),
        (45, 52.0),
        (47, 39.0),
        (48, 13.0),
        (50, 129.0),
    ];
    let total: f64 = ses.iter().map(|s| s.1).sum();
    let mut csv = String::from("ses,lang\n");
    for _ in 0..2287 {
        let mut u = rng.random::<f64>() * total;
        let code = ses
            .iter()
            .find(|(_, w)| {
                u -= w;
                u < 0.0
            })
            .map_or(50, |s| s.0);
        let spread: f64 = (0..4).map(|_| rng.random::<f64>()).sum::<f64>() - 2.0;
        let lang = (41.0 + 9.0 * 1.7 * spread).round().clamp(9.0, 58.0);
        csv.push_str(&format!("{code},{lang}\n"));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let config = small_config(true) + "preprocess_share = 0.8\n";
    let text = train_and_sample(dir.path(), &config, "2000", "3");
    let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
    let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let on_points = &header["privacy"]["preprocessing"]["on_points"];
    assert_eq!(on_points, &serde_json::json!(["ses"]));
    let column = |j: usize| -> Vec<i64> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').nth(j).unwrap().parse().unwrap())
            .collect()
    };
    let sampled = column(0);
    // Sampled on the points: the codes, and at most a few points of noise (a point's share of
    // its bin's rest is its noisy count less one deviation).
    let encoder = &header["transformer"]["encoders"][0]["Continuous"];
    let support: Vec<i64> = encoder["support"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as i64)
        .collect();
    let noise_points = support
        .iter()
        .filter(|x| !ses.iter().any(|s| s.0 == **x))
        .count();
    assert!(noise_points <= 3, "{encoder}");
    assert!(sampled.iter().all(|x| support.contains(x)), "{support:?}");
    // Put on them by quantiles, each at its noisy share (`support_shares`, cumulative).
    let shares = encoder["support_shares"].as_array().unwrap();
    assert_eq!(shares.len(), support.len(), "{encoder}");
    assert_eq!(shares.last().unwrap().as_f64(), Some(1.0));
    // A noise point is a snapping target too, so it takes the mixture's mass around it.
    let on_codes = sampled
        .iter()
        .filter(|x| ses.iter().any(|s| s.0 == **x))
        .count();
    assert!(
        on_codes as f64 >= 0.9 * sampled.len() as f64,
        "{on_codes} of {} on the codes",
        sampled.len()
    );
    for (code, w) in ses.iter().filter(|s| s.1 / total >= 0.04) {
        assert!(sampled.contains(code), "{code} ({w} rows) never sampled");
    }
    // The control keeps its spread: at least 25 distinct values.
    let lang: std::collections::BTreeSet<i64> = column(1).into_iter().collect();
    assert!(lang.len() >= 25, "{} distinct scores", lang.len());
}

#[test]
fn a_score_of_many_integers_is_sampled_at_its_noisy_shares() {
    // A 0-20 score (4,000 rows, binomial): more supported integers than modes, so the mixture
    // stays and sampled values are put on the integers. By nearness each integer took the
    // mixture's mass around it (Adult's hours-per-week had KS distance 0.31 in one run); by
    // quantiles each takes its noisy count's share (`support_shares`), checked here against
    // the real shares within the counts' noise.
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut csv = String::from("score,other\n");
    let mut real = [0usize; 21];
    for _ in 0..4000 {
        let score = (0..20).filter(|_| rng.random::<f64>() < 0.45).count();
        real[score] += 1;
        csv.push_str(&format!("{score},{}\n", rng.random_range(0..3)));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let text = train_and_sample(dir.path(), &small_config(true), "2000", "2");
    let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
    let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let std = header["privacy"]["preprocessing"]["count_noise_std"]
        .as_f64()
        .unwrap();
    let e = &header["transformer"]["encoders"][0]["Continuous"];
    let values = |key: &str| -> Vec<f64> {
        e[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key}: {e}"))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let (support, shares) = (values("support"), values("support_shares"));
    assert!(support.len() >= 10 && shares.len() == support.len(), "{e}");
    let mut below = 0.0;
    for (k, cumulative) in support.iter().zip(&shares) {
        let share = cumulative - below;
        below = *cumulative;
        let want = real[*k as usize] as f64 / 4000.0;
        // A count's noise, and the few rows of the integers left out, spread over the rest.
        assert!(
            (share - want).abs() < 4.0 * std / 4000.0 + 0.005,
            "{k}: share {share:.4}, real {want:.4} (std {std:.1})"
        );
    }
    for line in text.lines().skip(1) {
        let cell: f64 = line.split(',').next().unwrap().parse().unwrap();
        assert!(support.contains(&cell), "sampled {cell}: {support:?}");
    }
}

#[test]
fn a_small_table_of_logarithms_keeps_its_decimals() {
    // plm's Gasoline: 342 rows of logarithms written with nine places. Every class of the
    // storage histogram sat within the noise, the column was taken for integers, and it came
    // back as 3, 4, 5 and 6. Now it is written in full, and an integer column of the same
    // table stays integer. (200 rows here: at 342 the old rule failed one draw in five.)
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut csv = String::from("lgaspcar,year,lincomep,lrpmg,lcarpcap,id\n");
    for i in 0..200 {
        let mut x = || rng.random::<f64>() * 1.5 + rng.random::<f64>() * 0.5;
        let (a, b, c, d) = (4.0 + x(), -8.0 + x(), -1.0 + x(), -13.0 + x());
        csv.push_str(&format!(
            "{a:.9},{},{b:.9},{c:.9},{d:.9},{}\n",
            1960 + i % 19,
            i + 1
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    // The share `train --discover` spends on measurements (configs/dp-discover.toml).
    let config = small_config(true).replace("batch_size = 500", "batch_size = 100")
        + "preprocess_share = 0.8\n";
    let text = train_and_sample(dir.path(), &config, "500", "1");
    let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
    let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let columns = &header["transformer"]["schema"]["columns"];
    assert_eq!(columns[0]["value_type"], "float", "{}", columns[0]);
    assert_eq!(columns[1]["value_type"], "int", "{}", columns[1]);
    let whole = text
        .lines()
        .skip(1)
        .filter(|l| {
            let x: f64 = l.split(',').next().unwrap().parse().unwrap();
            x.fract() == 0.0
        })
        .count();
    assert!(
        whole < 10,
        "{whole} of 500 logarithms sampled as whole numbers"
    );
    // Places not measured: six (the histogram's top class) at this magnitude, not the 15-17
    // digits of an f64 (`4.173244195` came back as `4.1732441951234567`).
    let places: Vec<usize> = text
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .next()
                .unwrap()
                .split_once('.')
                .map_or(0, |(_, f)| f.len())
        })
        .collect();
    assert!(places.iter().all(|&p| p <= 6), "{places:?}");
    assert!(
        places.iter().filter(|&&p| p >= 4).count() > 400,
        "rounded coarser than the values: {places:?}"
    );
}

#[test]
fn float32_prints_released_as_values_come_back_as_written_and_the_rest_rounded() {
    // hdma's `uria` and debt ratios: values written from float32. The coded rates
    // (`3.200000047683716` in 40% of the rows) are released as points and must come back
    // exactly as written (rounded to 3.2, KS counted every such row as misplaced); the spread
    // ratios have no known places and come back with seven significant digits, not with an
    // f64's 16-17 (`0.7779470086097717`).
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let codes = [1.8f32, 2.2, 3.2, 3.9, 4.3, 6.1, 8.3];
    let mut csv = String::from("uria,ratio,flag\n");
    for i in 0..3000 {
        let code = codes[[0, 1, 2, 2, 2, 3, 4, 5, 6, 2][i % 10]];
        let ratio = rng.random_range(0.1f32..0.9);
        csv.push_str(&format!(
            "{},{},{}\n",
            f64::from(code),
            f64::from(ratio),
            ["no", "yes"][i % 2]
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let config = small_config(true) + "preprocess_share = 0.8\n";
    let text = train_and_sample(dir.path(), &config, "2000", "1");
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let loud = rows.iter().filter(|r| r[0] == "3.200000047683716").count();
    assert!(
        loud > 400,
        "{loud} of 2000 rows at the released value as written"
    );
    let places = |c: &str| c.split_once('.').map_or(0, |(_, f)| f.len());
    let long: Vec<&str> = rows
        .iter()
        .map(|r| r[1])
        .filter(|c| places(c) > 7)
        .collect();
    assert!(
        long.is_empty(),
        "ratios written with more than 7 places: {long:?}"
    );
    assert!(rows.iter().filter(|r| places(r[1]) >= 5).count() > 1500);
}

#[test]
fn years_of_a_narrowed_range_are_counted_one_by_one() {
    // rwm5yr's years, 1984-1988 (a fifth of the rows each): the year's log-scale range is
    // narrowed to one or two grid bins (about 80 or 160 years), whose 64 even bins are 2.5
    // years wide. Each bin's count was split evenly over its years, and the release held
    // 1981-1991. The narrowed part is now counted per year, and the years are its points.
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut csv = String::from("year,visits\n");
    for _ in 0..4000 {
        csv.push_str(&format!(
            "{},{}\n",
            rng.random_range(1984..=1988),
            rng.random_range(0..6)
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let config = small_config(true) + "preprocess_share = 0.8\n";
    let text = train_and_sample(dir.path(), &config, "2000", "4");
    let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
    let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pre = &header["privacy"]["preprocessing"];
    assert!(
        pre["narrowed_bounds"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("year")),
        "{pre}"
    );
    let e = &header["transformer"]["encoders"][0]["Continuous"];
    assert_eq!(
        e["support"],
        serde_json::json!([1984.0, 1985.0, 1986.0, 1987.0, 1988.0]),
        "{e}"
    );
    for line in text.lines().skip(1) {
        let year: i64 = line.split(',').next().unwrap().parse().unwrap();
        assert!((1984..=1988).contains(&year), "sampled {year}");
    }
}

#[test]
fn years_of_a_range_a_grid_bin_wider_are_counted_one_by_one_too() {
    // Restaurant inspections' years (causaldata: 27,178 rows, 2000-2009 and 2015-2019, 788
    // to 3,447 rows a year) beside a score and a count. Where the estimated range was a grid
    // bin wider, the years' part was narrowed to about 270 years, more than the 256 counted
    // one by one; they were binned 4.2 years a bin, found no values and were sampled over
    // 1991-2027 (9.6% outside). Their rows sit in fewer than three of the first histogram's
    // bins, so the part is counted per year up to 1,024 years.
    let counts = [
        (2000, 899),
        (2001, 840),
        (2002, 901),
        (2003, 975),
        (2004, 1718),
        (2005, 1432),
        (2006, 2119),
        (2007, 2432),
        (2008, 1962),
        (2009, 1967),
        (2015, 2499),
        (2016, 3447),
        (2017, 2984),
        (2018, 2215),
        (2019, 788),
    ];
    let years: Vec<f64> = counts
        .iter()
        .flat_map(|&(y, n)| std::iter::repeat_n(f64::from(y), n))
        .collect();
    let rows = years.len();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let score: Vec<f64> = (0..rows)
        .map(|_| (100.0 - rng.random_range(0.0f64..1.0).powi(3) * 34.0).round())
        .collect();
    let sites: Vec<f64> = (0..rows)
        .map(|_| (rng.random_range(0.0f64..1.0).powi(4) * 645.0).round() + 1.0)
        .collect();
    let mut wide = 0;
    for seed in 0..200 {
        let table = Table {
            columns: vec![
                numbers("year", years.clone()),
                numbers("score", score.clone()),
                numbers("sites", sites.clone()),
            ],
        };
        let (_, transformer, ledger) = fit(table, seed);
        assert!(ledger.narrowed_bounds.contains(&"year".to_string()));
        let Encoder::Continuous(year) = &transformer.encoders[0] else {
            panic!()
        };
        wide += usize::from(year.max - year.min > 256.0);
        // Every year, and at most a noise point or two next to them holding under 1% of the
        // rows (about 1,800 rows a year against noise std 19 per count).
        // Cumulative shares, as the sampler reads them.
        let shares: Vec<f64> = year
            .support_shares
            .iter()
            .scan(0.0, |prev, &c| {
                let share = c - *prev;
                *prev = c;
                Some(share)
            })
            .collect();
        assert_eq!(shares.len(), year.support.len(), "seed {seed}");
        let stray: f64 = year
            .support
            .iter()
            .zip(&shares)
            .filter(|(y, _)| !counts.iter().any(|&(r, _)| f64::from(r) == **y))
            .map(|(_, s)| s)
            .sum();
        assert!(
            counts
                .iter()
                .all(|&(y, _)| year.support.contains(&f64::from(y)))
                && year.support.iter().all(|&y| (1995.0..=2024.0).contains(&y))
                && stray < 0.01,
            "seed {seed}: range [{}, {}], support {:?}, {stray} of the rows on years without any",
            year.min,
            year.max,
            year.support
        );
    }
    // The case this test is for: a part wider than 256 years in some seeds.
    assert!(wide > 0, "no seed narrowed the years to more than 256");
}

#[test]
fn a_wide_tables_narrowed_columns_keep_their_spread() {
    // 100 numeric columns of 2,000 rows (one hidden factor, as
    // scripts/make_wide_factor_table.py writes them): the bounds share is split 300 ways,
    // and each narrowed part's second histogram has noise std 100 and more. Over 32 bins a
    // part's peak held fewer rows than the floor; the few bins kept were noise, and the
    // mixture put a normal of std 4.5 on one or two spikes. Where the noise would swamp even
    // 16 bins the part now gets 8. Drawn from the fitted marginals alone: mean KS over the
    // narrowed columns 0.314 before, 0.163 after (std ratios 0.27 to 2.1).
    let rows = 2000;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let normal: Normal<f64> = Normal::new(0.0, 1.0).unwrap();
    let z: Vec<f64> = (0..rows).map(|_| normal.sample(&mut rng)).collect();
    let columns: Vec<Column> = (0..100)
        .map(|j| {
            let v = z
                .iter()
                .map(|&z| {
                    let x = z * (j % 5 + 1) as f64 + 2.0 * normal.sample(&mut rng) + j as f64;
                    (x * 1000.0).round() / 1000.0
                })
                .collect();
            numbers(&format!("x{j}"), v)
        })
        .collect();
    let originals: Vec<Vec<f64>> = columns
        .iter()
        .map(|c| (0..rows).filter_map(|i| c.values.number(i)).collect())
        .collect();
    let (_, transformer, ledger) = fit(Table { columns }, 5);
    assert!(
        ledger.narrowed_bounds.len() >= 20,
        "only {} columns narrowed: {:?}",
        ledger.narrowed_bounds.len(),
        ledger.narrowed_bounds
    );
    let mut draw = ChaCha8Rng::seed_from_u64(5);
    let drawn = transformer.sample_independent(10_000, &mut draw);
    let back = transformer.inverse(&drawn.rows.to_dense(), drawn.n_rows, &mut draw);
    let std = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    };
    let (mut ks_sum, mut worst) = (0.0, (0.0, String::new()));
    for name in &ledger.narrowed_bounds {
        let j: usize = name[1..].parse().unwrap();
        let fake: Vec<f64> = {
            let v = &back.column(name).unwrap().values;
            (0..v.len()).filter_map(|i| v.number(i)).collect()
        };
        let ratio = std(&fake) / std(&originals[j]);
        assert!(
            (0.2..2.5).contains(&ratio),
            "{name}: sampled std {:.2} against {:.2}",
            std(&fake),
            std(&originals[j])
        );
        let ks = dpsynth::evaluate::fidelity::ks_statistic(&originals[j], &fake);
        ks_sum += ks;
        if ks > worst.0 {
            worst = (ks, name.clone());
        }
    }
    let mean = ks_sum / ledger.narrowed_bounds.len() as f64;
    assert!(mean < 0.22, "mean KS {mean:.3}, worst {worst:?}");
}

#[test]
fn a_word_in_a_column_with_public_bounds_is_missing_under_dp_and_refused_without() {
    // [privacy.columns.income] gives public bounds, so the column is continuous; a fifth of
    // its cells are "refused" (too many for the reader to take it as numbers by itself). A
    // refusal would make whether a DP run releases anything depend on one cell: under DP the
    // word is a missing value, and each dollar amount is read from its own cell ($20,097 as
    // 20097, not missing because other rows hold words). Without DP the error names the
    // column and the row.
    let dir = tempdir();
    let mut csv = String::from("income,region\n");
    for i in 0..400usize {
        let income = if i % 5 == 3 {
            "refused".to_string()
        } else {
            format!("${}", 20_000 + 97 * i)
        };
        csv.push_str(&format!("{income},{}\n", ["N", "S"][i % 2]));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let dp = format!(
        "{}[privacy.columns.income]\nmin = 0\nmax = 100000\n[privacy.columns.region]\ncategories = [\"N\", \"S\"]\n",
        small_config(true)
    );
    let text = train_and_sample(dir.path(), &dp, "500", "1");
    let incomes: Vec<f64> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect();
    // 80% of the rows hold an amount: most sampled rows have one.
    assert!(incomes.len() > 300, "{text}");
    assert!(incomes.iter().all(|x| (0.0..=100_000.0).contains(x)));
    let plain = format!(
        "{}[columns.income]\nkind = \"continuous\"\n",
        small_config(false)
    );
    std::fs::write(dir.path().join("p.toml"), plain).unwrap();
    let out = dpsynth(
        dir.path(),
        &["train", "t.csv", "--config", "p.toml", "--out", "p.dpsynth"],
    );
    assert_clean_failure(&out, &["income", "row 4", "refused"]);
}

#[test]
fn columns_with_public_metadata_are_read_cell_by_cell_under_dp() {
    // How a column's cells are read must not depend on the other rows when its kind and type
    // are public: under DP the reader leaves such columns as written and each cell is read
    // alone. Here, left to the reader, `code` (60 numeric codes and an "unknown" in 1 row of
    // 12) would be read as numbers with "unknown" missing, and `when` (dates, one "pending")
    // as timestamps, which the declared `type = "date"` then refused.
    let dir = tempdir();
    let mut csv = String::from("code,when,flag,amount\n");
    for i in 0..600usize {
        let code = if i % 12 == 5 {
            "unknown".to_string()
        } else {
            format!("{}", 100 + i % 60)
        };
        let when = match i {
            7 => "pending".to_string(),
            8 => "03/04/2020".to_string(),
            _ => format!("2020-01-{:02}", 1 + i % 28),
        };
        let flag = match i {
            9 => "?",
            _ if i % 2 == 0 => "Y",
            _ => "N",
        };
        let amount = if i == 10 {
            "n/a".to_string()
        } else {
            format!("{}.5", i)
        };
        csv.push_str(&format!("{code},{when},{flag},{amount}\n"));
    }
    let path = dir.path().join("t.csv");
    std::fs::write(&path, csv).unwrap();
    let codes: Vec<String> = (100..160)
        .map(|c| format!("\"{c}\""))
        .chain(["\"unknown\"".to_string()])
        .collect();
    let toml = format!(
        "{}[privacy.columns.code]\ncategories = [{}]\n[privacy.columns.when]\ntype = \"date\"\nmin = 18262\nmax = 18700\n[privacy.columns.flag]\ntype = \"bool\"\nformat = \"Y/N\"\n[privacy.columns.amount]\nmin = 0\nmax = 1000\n",
        small_config(true),
        codes.join(", ")
    );
    let mut config = RunConfig::from_toml(&toml, "test").unwrap();
    let (mut table, _) = dpsynth::read::read_training_table(&path, &config).unwrap();
    config.transform.discrete_int_max_distinct = 0;
    dpsynth::dp::preprocess::force_public_kinds(&mut config).unwrap();
    Schema::infer(&mut table, &config).unwrap();
    let column = |name: &str| &table.column(name).unwrap().values;
    let Values::Text(code) = column("code") else {
        panic!("code: {:?}", column("code"))
    };
    assert_eq!(code[5].as_deref(), Some("unknown"));
    assert_eq!(code[0].as_deref(), Some("100"));
    let Values::Date(when) = column("when") else {
        panic!("when: {:?}", column("when"))
    };
    // 2020-01-01 is day 18262; a month-first cell read alone; a word missing.
    assert_eq!(when[0], Some(18262));
    assert_eq!(when[7], None);
    assert_eq!(when[8], Some(18325));
    let Values::Bool(flag) = column("flag") else {
        panic!("flag: {:?}", column("flag"))
    };
    assert_eq!(
        &flag[..4],
        &[Some(true), Some(false), Some(true), Some(false)]
    );
    assert_eq!(flag[9], None);
    let Values::Float(amount) = column("amount") else {
        panic!("amount: {:?}", column("amount"))
    };
    assert_eq!(amount[3], Some(3.5));
    assert_eq!(amount[10], None);
    // Without DP the reader decides as before: the codes are numbers.
    let plain = RunConfig::from_toml(&small_config(false), "test").unwrap();
    let (table, _) = dpsynth::read::read_training_table(&path, &plain).unwrap();
    assert!(!matches!(
        table.column("code").unwrap().values,
        Values::Text(_)
    ));
}

#[test]
fn a_narrowed_column_without_nulls_gains_a_null_slot_only_as_often_as_noise_allows() {
    // Penguins' survey year (2007-2009, no missing cell) on a 300-row table: its log-scale
    // range is narrowed to one even bin and measured again with the bounds share, whose
    // noise is smaller than the first histogram's. The null count keeps the first
    // histogram's noise, and its three-deviation rule must use that noise: with the second
    // histogram's, a year without a missing cell came back 18.6% missing (a null count of
    // 2.3 deviations; here 14 seeds of 300). Three deviations of pure noise pass 0.13% of the
    // time.
    let rows = 300;
    let mut rng = ChaCha8Rng::seed_from_u64(52);
    let table = Table {
        columns: vec![Column {
            name: "year".into(),
            values: Values::Int(
                (0..rows)
                    .map(|_| Some(rng.random_range(2007..=2009)))
                    .collect(),
            ),
            form: None,
        }],
    };
    // Penguins' shape: four measurements and three words of three values, so that the
    // noise leaves the histograms 8 bins (the year's narrowed part is then one bin of
    // [563, 5623], over 256 years) and the pair tables share the first histograms' weight.
    let mut table = table;
    for j in 0..4 {
        let values = (0..rows)
            .map(|_| 3500.0 + rng.random_range(0.0..2000.0))
            .collect();
        table.columns.push(numbers(&format!("mass{j}"), values));
    }
    for j in 0..3 {
        let words = ["a", "b", "c"];
        table.columns.push(Column {
            name: format!("word{j}"),
            values: Values::Text(
                (0..rows)
                    .map(|_| Some(words[rng.random_range(0..3)].to_string()))
                    .collect(),
            ),
            form: None,
        });
    }
    // configs/dp-discover.toml's tables: the pair tables share the first histograms' weight.
    let privacy = PrivacyConfig {
        epsilon: Some(3.0),
        discover: true,
        pair_marginals: true,
        ..PrivacyConfig::default()
    };
    let (mut narrowed, mut with_null) = (0, 0);
    for seed in 0..300 {
        let (_, transformer, ledger) = fit_with(table.clone(), seed, privacy.clone(), 0.3);
        narrowed += usize::from(ledger.narrowed_bounds.iter().any(|c| c == "year"));
        let Encoder::Continuous(enc) = &transformer.encoders[0] else {
            panic!()
        };
        with_null += usize::from(enc.has_null);
    }
    assert!(narrowed >= 200, "year narrowed in {narrowed} of 300 seeds");
    assert!(
        with_null <= 3,
        "a null slot in {with_null} of 300 seeds ({narrowed} narrowed)"
    );
}

#[test]
fn a_column_missing_in_most_rows_gets_bins_its_present_rows_can_fill() {
    // vega's movies (2,561 rows, 15 columns): DVD sales present in 18% of rows, log-normal
    // around 20 million. Sized for every row, its 64 bins held about 7 rows each, under the
    // noise floor, and it was sampled with a median of 81 million (real 20 million). The bins
    // are now sized for the bounds grid's noisy count of present rows.
    let rows = 2561;
    let mut rng = ChaCha8Rng::seed_from_u64(52);
    let sales = LogNormal::new((2.0e7f64).ln(), 1.2).unwrap();
    let dense: Vec<f64> = (0..rows).map(|_| rng.random_range(0.0..100.0)).collect();
    let dvd: Vec<Option<f64>> = (0..rows)
        .map(|_| (rng.random::<f64>() < 0.18).then(|| sales.sample(&mut rng).round()))
        .collect();
    let words: Vec<Option<String>> = (0..rows)
        .map(|_| Some(["a", "b", "c", "d", "e"][rng.random_range(0..5)].to_string()))
        .collect();
    // Movies' shape (six words, eight numbers and the one tried) and its share of epsilon
    // for preprocessing (configs/dp-discover.toml), so that the noise is movies' own.
    let table_with = |last: Column| {
        let mut columns: Vec<Column> = (0..6)
            .map(|j| Column {
                name: format!("word{j}"),
                values: Values::Text(words.clone()),
                form: None,
            })
            .chain((0..8).map(|j| numbers(&format!("dense{j}"), dense.clone())))
            .collect();
        columns.push(last);
        Table { columns }
    };
    // At equal weights (movies' noise when this was measured; the weight chosen where it
    // is unset gives the one-way histograms less noise, and both columns 64 bins).
    let privacy = PrivacyConfig {
        epsilon: Some(3.0),
        discover: true,
        pair_marginals: true,
        margin_weight: Some(1.0),
        ..PrivacyConfig::default()
    };
    for seed in 0..10 {
        // The ledger's `continuous_bins` is the last continuous column's.
        let bins_of = |last: Column| {
            fit_with(table_with(last), seed, privacy.clone(), 0.8)
                .2
                .continuous_bins
        };
        let full = bins_of(numbers("full", dense.clone()));
        let sparse = bins_of(Column {
            name: "dvd".into(),
            values: Values::Float(dvd.clone()),
            form: None,
        });
        assert!(
            2 * sparse <= full,
            "seed {seed}: the DVD sales got {sparse} bins, a full column {full}"
        );
    }
}

#[test]
fn a_few_coded_values_of_both_signs_are_sampled_on_them() {
    // -2.25, 0 and 1.5 (a lattice of 0.05 over a range across zero): the zeros made the range
    // binned in log scale on both sides of zero, which took the slot the values' own counts
    // would use, and they came back as -0.05, 0.05, 1.4 and 61 other values.
    let mut rng = ChaCha8Rng::seed_from_u64(52);
    let codes = [-2.25, 0.0, 0.0, 0.0, 1.5];
    let values = (0..2000).map(|_| codes[rng.random_range(0..5)]).collect();
    let table = Table {
        columns: vec![numbers("code", values)],
    };
    let mut exact = 0;
    for seed in 0..20 {
        let (_, transformer, _) = fit(table.clone(), seed);
        let Encoder::Continuous(enc) = &transformer.encoders[0] else {
            panic!()
        };
        exact += usize::from(enc.support == [-2.25, 0.0, 1.5]);
    }
    assert!(
        exact >= 18,
        "sampled on the three codes in {exact} seeds of 20"
    );
}

#[test]
fn a_small_tables_dates_spread_over_a_narrowed_part_stay_in_it() {
    // Seattle's weather: 1,169 days drawn from four years, a temperature and a word. The dates
    // sit in a few bins of their log-scale range and are narrowed to a part about twice their
    // span; measured again over 64 bins there (about 30 rows a bin against a noise std of 25)
    // the few bins that cleared the floor were noise, and a third of the sampled dates fell in
    // the three years past the data. Where the first histogram saw the rows spread over the
    // part, the second takes as many bins as its noise allows.
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let start = 15_340i64; // 2012-01-01 in days since 1970-01-01
    let mut csv = String::from("date,temp,weather\n");
    for _ in 0..1169 {
        let day = start + rand::Rng::random_range(&mut rng, 0..1461i64);
        let date = chrono::DateTime::from_timestamp(day * 86_400, 0)
            .unwrap()
            .date_naive();
        let temp: f64 = 15.0
            + 7.0 * rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, &mut rng);
        let word = ["rain", "sun", "fog"][rand::Rng::random_range(&mut rng, 0..3usize)];
        csv += &format!("{date},{temp:.1},{word}\n");
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let config = "[model]\nembedding_dim = 16\ngenerator_dims = [32]\ndiscriminator_dims = [32]\n\
                  [train]\nepochs = 1\nseed = 3\n[privacy]\nepsilon = 3.0\nwarm_start_epochs = 1\n";
    let text = train_and_sample_with(dir.path(), config, &["--discover"], "4000", "1");
    let last = chrono::NaiveDate::from_ymd_opt(2016, 2, 1).unwrap();
    let first = chrono::NaiveDate::from_ymd_opt(2011, 12, 1).unwrap();
    let dates: Vec<chrono::NaiveDate> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let outside =
        dates.iter().filter(|d| **d > last || **d < first).count() as f64 / dates.len() as f64;
    eprintln!("dates outside 2011-12 .. 2016-01: {outside:.3}");
    assert!(
        outside < 0.05,
        "{outside:.3} of the sampled dates outside the data's span"
    );
}

#[test]
fn correlation_sums_the_noise_would_drown_are_not_reserved() {
    // Four correlated measurements: at 100 rows the plan's noise would swamp the columns'
    // spreads, so every correlation would be released as 0 (penguins' 276 rows): no slot is
    // reserved for one and the ledger says why; at 5,000 rows they are reserved.
    let privacy = PrivacyConfig {
        epsilon: Some(3.0),
        discover: true,
        pair_marginals: true,
        copula: true,
        warm_start_epochs: 1,
        ..PrivacyConfig::default()
    };
    let table = |rows: usize| {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let base: Vec<f64> = (0..rows)
            .map(|_| Normal::new(50.0, 10.0).unwrap().sample(&mut rng))
            .collect();
        let columns = (0..4)
            .map(|k| {
                let v = base
                    .iter()
                    .map(|&b| b + Normal::new(0.0, 5.0).unwrap().sample(&mut rng) + 10.0 * k as f64)
                    .collect();
                numbers(&format!("m{k}"), v)
            })
            .collect();
        Table { columns }
    };
    let (_, _, small) = fit_with(table(100), 1, privacy.clone(), 0.8);
    assert_eq!(small.copula_sums, 0);
    assert!(
        small.copula_noise_skipped > dpsynth::dp::copula::MAX_RHO_NOISE,
        "{}",
        small.copula_noise_skipped
    );
    let (_, _, large) = fit_with(table(5000), 1, privacy, 0.8);
    assert_eq!(large.copula_sums, 7, "three pairs and four spreads");
    assert_eq!(large.copula_noise_skipped, 0.0);
}

/// `train --discover` spends 95% of ε on the measurements at ε 1 and 80% at ε 3
/// (`privacy.low_epsilon_share` in `configs/dp-discover.toml`), a share given with `--set` holds
/// at ε 1 too, and the ledger's total stays the target: read back from the released files.
#[test]
fn the_discovery_preset_gives_the_measurements_more_of_a_small_epsilon() {
    let dir = tempdir();
    let mut csv = String::from("kind,amount\n");
    for i in 0..600 {
        csv.push_str(&format!(
            "{},{}\n",
            ["a", "b", "c"][i % 3],
            10 + (i * 37) % 500
        ));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let spent = |epsilon: &str, extra: &[&str]| -> (f64, f64) {
        let mut args = vec![
            "train",
            "t.csv",
            "--discover",
            "--epsilon",
            epsilon,
            "--epochs",
            "1",
            "--seed",
            "5",
            "--set",
            "privacy.warm_start_epochs=1",
            "--out",
            "m.dpsynth",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let out = dpsynth(dir.path(), &args);
        assert!(out.status.success(), "{}", crate::util::stderr(&out));
        let out = dpsynth(dir.path(), &["inspect", "--json", "m.dpsynth"]);
        assert!(out.status.success(), "{}", crate::util::stderr(&out));
        let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let privacy = &header["privacy"];
        (
            privacy["epsilon_preprocess"].as_f64().unwrap(),
            privacy["epsilon"].as_f64().unwrap(),
        )
    };
    for (epsilon, extra, share) in [
        ("1", &[][..], 0.95),
        ("3", &[][..], 0.8),
        ("2", &[][..], 0.875),
        ("1", &["--set", "privacy.preprocess_share=0.8"][..], 0.8),
    ] {
        let target: f64 = epsilon.parse().unwrap();
        let (preprocess, total) = spent(epsilon, extra);
        assert!(
            (preprocess - share * target).abs() < 1e-3 * target,
            "epsilon {epsilon} {extra:?}: preprocessing alone spent {preprocess}, expected {share} of it"
        );
        assert!(total <= target + 1e-6, "epsilon {epsilon}: total {total}");
    }
}

#[test]
fn a_spike_off_zero_in_a_log_scale_bin_is_an_exact_mode() {
    // Bank marketing's `pdays`: -1 (never called) in 82% of 6,000 rows, 1-871 days otherwise.
    // The range crosses zero with the rows at -1, so it is binned in log scale on both sides,
    // and -1 is alone in its bin: an exact mode there, not a mode of std 2.9 sampled as -3
    // to 0.
    for seed in [1, 2, 3] {
        let mut rng = ChaCha8Rng::seed_from_u64(40 + seed);
        let pdays: Vec<f64> = (0..6000)
            .map(|_| {
                if rng.random::<f64>() < 0.82 {
                    -1.0
                } else {
                    rng.random_range(1..=871) as f64
                }
            })
            .collect();
        let real = pdays.iter().filter(|&&x| x == -1.0).count() as f64 / 6000.0;
        let ages: Vec<f64> = (0..6000)
            .map(|_| rng.random_range(18..=95) as f64)
            .collect();
        let table = Table {
            columns: vec![numbers("pdays", pdays), numbers("age", ages)],
        };
        let (_, transformer, ledger) = fit(table, seed);
        assert!(
            ledger.log_binned.contains(&"pdays".to_string()),
            "{:?}",
            ledger.log_binned
        );
        let Encoder::Continuous(c) = &transformer.encoders[0] else {
            panic!("pdays is continuous")
        };
        let spike = c
            .modes
            .iter()
            .find(|m| m.exact && m.mean == -1.0)
            .unwrap_or_else(|| panic!("no exact mode at -1: {:?}", c.modes));
        assert!(
            (spike.weight - real).abs() < 0.03,
            "weight {} against {real}",
            spike.weight
        );
    }
}

#[test]
fn a_top_code_and_a_lone_code_are_exact_modes_beside_a_continuum() {
    // A house value top-coded at 500,001 (about 5% of 6,000 rows, the California housing
    // table's shape) among values spread from 45,000 up, and hours per week with 99 for
    // "unknown" in 3% of rows beside empty 90s. The house value has too many integers for its
    // points to be counted, so its values are measured as a thresholded histogram; the hours'
    // points are counted, but 99 alone holds neither three quarters of the rows nor a share
    // that snaps. Before, both were spread over a wide mode (500,001 never sampled, 99 in
    // 0.2% of rows, sampled 90-103).
    for seed in [1, 2, 3] {
        let mut rng = ChaCha8Rng::seed_from_u64(80 + seed);
        let spread: LogNormal<f64> = LogNormal::new(12.2, 0.55).unwrap();
        let working: Normal<f64> = Normal::new(40.0, 9.0).unwrap();
        let house: Vec<f64> = (0..6000)
            .map(|_| spread.sample(&mut rng).round().min(500_001.0))
            .collect();
        let hours: Vec<f64> = (0..6000)
            .map(|_| {
                if rng.random::<f64>() < 0.03 {
                    99.0
                } else {
                    working.sample(&mut rng).round().clamp(1.0, 80.0)
                }
            })
            .collect();
        let share = |v: &[f64], x: f64| v.iter().filter(|&&y| y == x).count() as f64 / 6000.0;
        let (top, unknown) = (share(&house, 500_001.0), share(&hours, 99.0));
        let table = Table {
            columns: vec![numbers("house_value", house), numbers("hours", hours)],
        };
        // The shipped preset's share at ε 3 (configs/dp-discover.toml).
        let privacy = PrivacyConfig {
            epsilon: Some(3.0),
            discover: true,
            ..PrivacyConfig::default()
        };
        let (_, transformer, ledger) = fit_with(table, seed, privacy, 0.8);
        assert!(
            ledger.keys_measured.contains(&"house_value".to_string()),
            "seed {seed}: {:?}",
            ledger.keys_measured
        );
        for (j, value, real) in [(0, 500_001.0, top), (1, 99.0, unknown)] {
            let Encoder::Continuous(c) = &transformer.encoders[j] else {
                panic!("column {j} is continuous")
            };
            // An exact mode, or (where the hours' loud points hold 90% of the rows) a point
            // values are put on at its noisy share.
            let exact = c.modes.iter().find(|m| m.exact && m.mean == value);
            let on_support =
                c.support.iter().position(|&x| x == value).map(|i| {
                    c.support_shares[i] - if i == 0 { 0.0 } else { c.support_shares[i - 1] }
                });
            let weight = exact.map(|m| m.weight).or(on_support).unwrap_or_else(|| {
                panic!(
                    "seed {seed}: {value} ({real} of the rows, threshold {}) is neither an \
                     exact mode nor a point: {:?}, support {:?}",
                    ledger.key_threshold, c.modes, c.support
                )
            });
            assert!(
                (weight - real).abs() < 0.015,
                "seed {seed}: {value} weighs {weight} against {real}"
            );
            // The continuum keeps its modes.
            assert!(
                c.modes.iter().filter(|m| !m.exact).count() >= 5,
                "{:?}",
                c.modes
            );
        }
    }
}

#[test]
fn zip_codes_of_a_fixed_width_come_back_with_that_many_digits() {
    // Zip codes written with five digits (`00501` to `99950`) and a state: the range is
    // estimated on a log-scale grid and sampled within the part the rows fill, whose last bin
    // reached past 99,999 (vega's zipcodes: 0.7% of sampled codes had six digits). The form's
    // fixed width ends the sampled part at 99,999.
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut csv = String::from("zip,state\n");
    for _ in 0..3000 {
        // More codes near the top, as the west's are.
        let zip = (99_950.0 * rng.random::<f64>().sqrt()).max(501.0) as u32;
        csv.push_str(&format!("{zip:05},s{}\n", zip / 20_000));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let text = train_and_sample(dir.path(), &small_config(true), "4000", "3");
    let zips: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(zips.len(), 4000);
    let long: Vec<&&str> = zips.iter().filter(|z| z.len() != 5).collect();
    assert!(
        long.is_empty(),
        "{} codes not of five digits: {:?}",
        long.len(),
        &long[..long.len().min(5)]
    );
    // Leading zeros kept where the code is under 10,000.
    assert!(
        zips.iter().any(|z| z.starts_with('0')),
        "no code under 10,000"
    );
}

#[test]
fn a_mixed_sign_amounts_other_sign_keeps_its_rows() {
    // A bank balance: negative in 8% of 6,000 rows (down to tens of thousands), positive and
    // skewed otherwise, at the shipped preset's share. The bank-shaped table of
    // docs/quality.md (stop 57) gave its negative rows, under the noise bin by bin, to the top
    // bin (no negative value sampled, 8% near 32,000); these three seeds pass before that
    // change too (their sides' falling fits pool the whole negative side), so this guards the
    // sampled shares, and `dp::tail`'s test holds that table's counts.
    for seed in [1, 2, 3] {
        let mut rng = ChaCha8Rng::seed_from_u64(60 + seed);
        let lognormal: LogNormal<f64> = LogNormal::new(6.5, 1.5).unwrap();
        let balance: Vec<f64> = (0..6000)
            .map(|_| {
                let x = lognormal.sample(&mut rng).round();
                if rng.random::<f64>() < 0.08 {
                    -x
                } else {
                    x
                }
            })
            .collect();
        let real_negative = balance.iter().filter(|&&x| x < 0.0).count() as f64 / 6000.0;
        let real_high = balance.iter().filter(|&&x| x > 20_000.0).count() as f64 / 6000.0;
        let ages: Vec<f64> = (0..6000)
            .map(|_| rng.random_range(18..=95) as f64)
            .collect();
        let table = Table {
            columns: vec![numbers("balance", balance), numbers("age", ages)],
        };
        // The shipped preset's share at ε 3 (configs/dp-discover.toml).
        let privacy = PrivacyConfig {
            epsilon: Some(3.0),
            discover: true,
            ..PrivacyConfig::default()
        };
        let (_, transformer, ledger) = fit_with(table, seed, privacy, 0.8);
        assert!(ledger.log_binned.contains(&"balance".to_string()));
        let Encoder::Continuous(c) = &transformer.encoders[0] else {
            panic!("balance is continuous")
        };
        // The encoder's share below `x`: each mode's normal mass there (an exact mode's all
        // or nothing), by Abramowitz and Stegun's 7.1.26 (error under 1.5e-7).
        let phi = |z: f64| -> f64 {
            let t = 1.0 / (1.0 + 0.3275911 * z.abs() / 2f64.sqrt());
            let poly = t
                * (0.254829592
                    + t * (-0.284496736
                        + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
            let erfc = poly * (-z * z / 2.0).exp();
            if z >= 0.0 {
                1.0 - erfc / 2.0
            } else {
                erfc / 2.0
            }
        };
        let below = |x: f64| -> f64 {
            let total: f64 = c.modes.iter().map(|m| m.weight).sum();
            c.modes
                .iter()
                .map(|m| {
                    let p = if m.exact || m.std <= 0.0 {
                        f64::from(m.mean < x)
                    } else {
                        phi((x - m.mean) / m.std)
                    };
                    m.weight * p
                })
                .sum::<f64>()
                / total
        };
        let negative = below(0.0);
        let high = 1.0 - below(20_000.0);
        eprintln!("seed {seed}: negative {negative:.3} (real {real_negative:.3}), above 20,000 {high:.3} (real {real_high:.3})");
        assert!(
            (negative - real_negative).abs() < 0.5 * real_negative,
            "negative modes hold {negative}, real {real_negative}: {:?}",
            c.modes
        );
        assert!(
            high < real_high + 0.03,
            "{high} above 20,000, real {real_high}"
        );
    }
}

#[test]
fn a_coded_column_of_more_loud_values_than_modes_keeps_its_heaviest_as_exact_modes() {
    // PSID's schooling: years 0-17 with 99 for unknown, 12 in 38% of 3,885 rows and eight
    // more values over 2.5% each. Its loud values outnumber the exact modes a column may take
    // beside its body, so it was sampled as a mixture over 48 values (KS 0.150); its heaviest
    // values are now exact modes and the rest stays with the body's modes.
    let shares = [
        (12.0, 0.385),
        (14.0, 0.103),
        (16.0, 0.093),
        (13.0, 0.086),
        (17.0, 0.061),
        (99.0, 0.046),
        (11.0, 0.044),
        (15.0, 0.040),
        (10.0, 0.035),
        (9.0, 0.026),
        (8.0, 0.025),
        (7.0, 0.012),
        (5.0, 0.010),
        (6.0, 0.010),
        (3.0, 0.008),
        (4.0, 0.008),
        (2.0, 0.004),
        (0.0, 0.004),
    ];
    for seed in [1, 2, 3] {
        let mut rng = ChaCha8Rng::seed_from_u64(80 + seed);
        let schooling: Vec<f64> = (0..3885)
            .map(|_| {
                let mut u: f64 = rng.random();
                for &(v, p) in &shares {
                    if u < p {
                        return v;
                    }
                    u -= p;
                }
                12.0
            })
            .collect();
        let real12 = schooling.iter().filter(|&&x| x == 12.0).count() as f64 / 3885.0;
        let ages: Vec<f64> = (0..3885)
            .map(|_| rng.random_range(25..=55) as f64)
            .collect();
        let table = Table {
            columns: vec![numbers("educatn", schooling), numbers("age", ages)],
        };
        // At 30% of ε 3 for the measurements (`fit`): its loud values then number more than
        // seven and hold under 90% of the rows. Before, seed 2 sampled no 12 at all.
        let (_, transformer, _) = fit(table, seed);
        let Encoder::Continuous(c) = &transformer.encoders[0] else {
            panic!("schooling is continuous")
        };
        // The released marginal as sampling puts values: the mixture's quantiles, snapped
        // onto the column's points where it has them (exact modes keep their values).
        let draws: Vec<f64> = (0..4000)
            .map(|i| c.snap(c.quantile((i as f64 + 0.5) / 4000.0)))
            .collect();
        let share = |keep: &dyn Fn(f64) -> bool| -> f64 {
            draws.iter().filter(|&&x| keep(x)).count() as f64 / draws.len() as f64
        };
        let twelve = share(&|x| x == 12.0);
        let on_values = share(&|x| shares.iter().any(|&(v, _)| v == x));
        eprintln!(
            "seed {seed}: 12 at {twelve:.3} (real {real12:.3}), on real values {on_values:.3}"
        );
        assert!(
            (twelve - real12).abs() < 0.05,
            "seed {seed}: 12 at {twelve} against {real12}: {:?}",
            c.modes
        );
        assert!(
            on_values > 0.8,
            "seed {seed}: {on_values} on the real values"
        );
    }
}

/// The rows of a sampled CSV `text` of integers, header skipped; `n` of them.
fn integer_rows(text: &str, n: usize) -> Vec<Vec<i64>> {
    let rows: Vec<Vec<i64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), n);
    rows
}

#[test]
fn an_indicator_group_keeps_one_set_per_row_and_independent_flags_stay_apart() {
    // Covertype's shape: four 0/1 columns `area1`..`area4` with exactly one set per row (at
    // 0.4, 0.3, 0.2 and 0.1, leaning on the elevation), written as integers. Each was drawn
    // on its own: a covertype-like table had a single soil type in 44% of sampled rows
    // (docs/quality.md, stop 59). Three flags `flag_a`..`flag_c` set at random in a third of
    // the rows each also have shares summing to 1, but the released pair tables show them set
    // together, so they stay independent columns.
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let mut csv = String::from("elevation,area1,area2,area3,area4,flag_a,flag_b,flag_c\n");
    for _ in 0..4000 {
        let u: f64 = rng.random();
        let area = [0.4, 0.7, 0.9, 1.0].iter().position(|&c| u < c).unwrap();
        let elevation = 2000 + 300 * area as i64 + rng.random_range(0..250);
        let mut row = format!("{elevation}");
        for a in 0..4 {
            row.push_str(if a == area { ",1" } else { ",0" });
        }
        for _ in 0..3 {
            row.push_str(if rng.random::<f64>() < 1.0 / 3.0 {
                ",1"
            } else {
                ",0"
            });
        }
        csv.push_str(&row);
        csv.push('\n');
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let config = format!("{}pair_marginals = true\n", small_config(true));
    let text = train_and_sample(dir.path(), &config, "3000", "3");
    let rows = integer_rows(&text, 3000);
    let not_one = rows
        .iter()
        .filter(|r| r[1..5].iter().sum::<i64>() != 1)
        .count();
    assert_eq!(
        not_one, 0,
        "{not_one} of 3000 rows without exactly one area"
    );
    // Each area near its share (the joint draw is fitted to the released shares).
    for (a, share) in [0.4, 0.3, 0.2, 0.1].iter().enumerate() {
        let got = rows.iter().filter(|r| r[1 + a] == 1).count() as f64 / 3000.0;
        assert!(
            (got - share).abs() < 0.06,
            "area{}: {got} against {share}",
            a + 1
        );
    }
    // The flags are not a group: rows with two or none set, as in the table.
    let flags_not_one = rows
        .iter()
        .filter(|r| r[5..8].iter().sum::<i64>() != 1)
        .count() as f64
        / 3000.0;
    assert!(
        flags_not_one > 0.3,
        "only {flags_not_one} of rows with other than one flag"
    );
    let out = dpsynth(dir.path(), &["inspect", "m.dpsynth"]);
    let inspect = String::from_utf8_lossy(&out.stdout);
    assert!(
        inspect.contains("drawn one per row (names of one stem whose released shares of 1 sum to 1): area1 .. area4 (4 columns)\n"),
        "{inspect}"
    );
}

#[test]
fn indicator_columns_of_a_code_agree_with_the_code() {
    // mdvis' shape: an age group code 1-3 (at 0.6, 0.24, 0.16), the age it is cut from, and
    // its dummies `age1`..`age3`. The dummies were an indicator group drawn from the
    // generator on their own, and the code was then moved towards its released correlation
    // with the age: 15% of sampled rows had a dummy that disagreed with the code. The code
    // determines each dummy in the released tables, so they are drawn from it, and neither
    // is moved afterwards.
    let dir = tempdir();
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let mut csv = String::from(
        "age,agegrp,age1,age2,age3,visits
",
    );
    for _ in 0..4000 {
        let u: f64 = rng.random();
        let group = [0.6, 0.84, 1.0].iter().position(|&c| u < c).unwrap() + 1;
        let age = 10 + 10 * group + rng.random_range(0..10);
        let dummies: Vec<&str> = (1..=3)
            .map(|g| if g == group { "1" } else { "0" })
            .collect();
        let visits = rng.random_range(0..(2 + group));
        csv.push_str(&format!("{age},{group},{},{visits}\n", dummies.join(",")));
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let config = format!(
        "{}[privacy]\nepsilon = 3.0\nwarm_start_epochs = 1\n",
        small_config(false)
    );
    let text = train_and_sample_with(dir.path(), &config, &["--discover"], "3000", "3");
    let rows = integer_rows(&text, 3000);
    let agree = rows
        .iter()
        .filter(|r| {
            let group = r[1] as usize;
            (1..=3).contains(&group) && r[2..5].iter().sum::<i64>() == 1 && r[1 + group] == 1
        })
        .count();
    assert!(
        agree >= 2940,
        "{agree} of 3000 rows with the dummies of their code"
    );
    let out = dpsynth(dir.path(), &["inspect", "m.dpsynth"]);
    assert!(out.status.success());
}

/// A 0/1 flag and a small count read from the rows as integers are continuous columns on exact
/// values: their released mode weights are their values' released shares, which the tree's
/// selection may score their pairs against (sensitivity 2); a skewed amount's mixture modes are
/// a fit, not a release of counts, and get none.
#[test]
fn exact_valued_columns_offer_their_released_shares_to_the_selection() {
    let rows = 8_000;
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let lognormal: LogNormal<f64> = LogNormal::new(4.0, 1.2).unwrap();
    let flag: Vec<Option<i64>> = (0..rows)
        .map(|_| Some(i64::from(rng.random::<f64>() < 0.1)))
        .collect();
    let calls: Vec<Option<i64>> = (0..rows).map(|_| Some(rng.random_range(0..4))).collect();
    let amount: Vec<f64> = (0..rows).map(|_| lognormal.sample(&mut rng)).collect();
    let ones = flag.iter().filter(|f| **f == Some(1)).count() as f64 / rows as f64;
    let table = Table {
        columns: vec![
            Column::new("flag", Values::Int(flag)),
            Column::new("calls", Values::Int(calls)),
            numbers("amount", amount),
        ],
    };
    let (_, transformer, ledger) = fit(table, 3);
    let margins =
        dpsynth::train::released_margins(&transformer, &ledger, &transformer.state_margins());
    let flag = margins[0]
        .as_ref()
        .expect("the 0/1 flag has released shares");
    assert_eq!(flag.shares.len(), 2, "{:?}", flag.shares);
    assert!(
        (flag.shares[1] - ones).abs() < 0.02,
        "{:?} against {ones}",
        flag.shares
    );
    assert_eq!(flag.noise_std, ledger.count_noise_std);
    let calls = margins[1]
        .as_ref()
        .expect("the 0-3 count has released shares");
    assert_eq!(calls.shares.len(), 4, "{:?}", calls.shares);
    assert!(
        calls.shares.iter().all(|s| (s - 0.25).abs() < 0.03),
        "{:?}",
        calls.shares
    );
    assert!(
        margins[2].is_none(),
        "the amount's mixture modes are not released counts"
    );
}

#[test]
fn a_far_code_of_nines_and_zeros_are_exact_modes_beside_an_income() {
    // A census extract's total income (20,000 rows): 9999999 for "not applicable" in 20% of
    // rows, zeros in 24%, a few losses, and a log-normal body. Over log-scale bins the code's
    // rows filled one bin of [8.5e6, 1.0e7) and were sampled anywhere in it, and the body's
    // mixture took the code's variance for every mode (docs/quality.md, stop 66). Now the
    // code and the zeros are exact modes at about their shares, and the body's distribution
    // function stays within 0.05 of the rows'.
    for seed in 1..=4 {
        let mut rng = ChaCha8Rng::seed_from_u64(660 + seed);
        let body: LogNormal<f64> = LogNormal::new(10.4, 0.9).unwrap();
        let income: Vec<f64> = (0..20_000)
            .map(|_| match rng.random::<f64>() {
                u if u < 0.20 => 9_999_999.0,
                u if u < 0.44 => 0.0,
                u if u < 0.445 => -(rng.random_range(1.0f64..5000.0).round()),
                _ => (body.sample(&mut rng) / 10.0).round() * 10.0,
            })
            .collect();
        let age: Vec<f64> = (0..20_000)
            .map(|_| f64::from(rng.random_range(0u8..=95)))
            .collect();
        let share = |x: f64| income.iter().filter(|&&y| y == x).count() as f64 / 20_000.0;
        let (code, zeros) = (share(9_999_999.0), share(0.0));
        let mut sorted: Vec<f64> = income.iter().copied().filter(|&x| x > 0.0).collect();
        sorted.sort_by(f64::total_cmp);
        let table = Table {
            columns: vec![numbers("INCTOT", income), numbers("AGE", age)],
        };
        let privacy = PrivacyConfig {
            epsilon: Some(3.0),
            discover: true,
            ..PrivacyConfig::default()
        };
        let (_, transformer, ledger) = fit_with(table, seed, privacy, 0.8);
        let Encoder::Continuous(c) = &transformer.encoders[0] else {
            panic!("income is continuous")
        };
        for (value, real) in [(9_999_999.0, code), (0.0, zeros)] {
            let weight = c
                .modes
                .iter()
                .find(|m| m.exact && m.mean == value)
                .map(|m| m.weight)
                .unwrap_or_else(|| {
                    panic!(
                        "seed {seed}: {value} ({real} of the rows) is no exact mode: {:?} \
                         (log-scale bins: {:?})",
                        c.modes, ledger.log_binned
                    )
                });
            assert!(
                (weight - real).abs() < 0.02,
                "seed {seed}: {value} weighs {weight} against {real}"
            );
        }
        // The positive incomes below the code, against the mixture's own distribution
        // function there (both as shares of the rows between 0 and the code).
        let (at0, below_code) = (c.cdf(0.5), c.cdf(9_000_000.0));
        let mut worst: f64 = 0.0;
        for (i, &x) in sorted.iter().enumerate().step_by(50) {
            if x >= 9_999_999.0 {
                break;
            }
            let model = (c.cdf(x) - at0) / (below_code - at0);
            let rows = (i + 1) as f64 / sorted.iter().filter(|&&y| y < 9_999_999.0).count() as f64;
            worst = worst.max((model - rows).abs());
        }
        assert!(
            worst < 0.05,
            "seed {seed}: largest gap {worst}: {:?}",
            c.modes
        );
    }
}

#[test]
fn a_code_of_nines_beside_a_score_is_an_exact_mode_and_a_top_mark_stays_on_its_value() {
    // A score of 0-98 (10,000 rows) writing 99 for "unknown" in 1.8% of rows: under the
    // lone-spike share of 2% and in an even bin with 97 and 98, it was spread over 97-101
    // (docs/quality.md, stop 67). Now it is an exact mode near its share, over even bins and
    // over one count per integer alike (the seeds take both). A score whose top mark of 100
    // holds 3% keeps that spike on 100, never on the code of nines beside it.
    for seed in 1..=6 {
        let mut rng = ChaCha8Rng::seed_from_u64(670 + seed);
        let normal: Normal<f64> = Normal::new(60.0, 15.0).unwrap();
        let (mut coded, mut marked) = (Vec::new(), Vec::new());
        for _ in 0..10_000 {
            let x = normal.sample(&mut rng).round();
            coded.push(if rng.random::<f64>() < 0.018 {
                99.0
            } else {
                x.clamp(0.0, 98.0)
            });
            marked.push(if rng.random::<f64>() < 0.03 {
                100.0
            } else {
                x.clamp(0.0, 99.0)
            });
        }
        let age: Vec<f64> = (0..10_000)
            .map(|_| f64::from(rng.random_range(18u8..=90)))
            .collect();
        let share = |v: &[f64], x: f64| v.iter().filter(|&&y| y == x).count() as f64 / 1e4;
        let real = share(&coded, 99.0);
        let table = Table {
            columns: vec![
                numbers("score", coded),
                numbers("marked", marked),
                numbers("age", age),
            ],
        };
        let privacy = PrivacyConfig {
            epsilon: Some(3.0),
            discover: true,
            ..PrivacyConfig::default()
        };
        let (_, transformer, _) = fit_with(table, seed, privacy, 0.8);
        let exact = |c: usize| -> Vec<(f64, f64)> {
            let Encoder::Continuous(e) = &transformer.encoders[c] else {
                panic!("column {c} is continuous")
            };
            e.modes
                .iter()
                .filter(|m| m.exact)
                .map(|m| (m.mean, m.weight))
                .collect()
        };
        let code = exact(0);
        let weight = code
            .iter()
            .find(|m| m.0 == 99.0)
            .unwrap_or_else(|| {
                panic!("seed {seed}: 99 ({real} of rows) is no exact mode: {code:?}")
            })
            .1;
        assert!(
            (weight - real).abs() < 0.01,
            "seed {seed}: 99 weighs {weight} against {real}"
        );
        let mark = exact(1);
        assert!(
            !mark.iter().any(|m| m.0 == 99.0),
            "seed {seed}: the top mark was put on 99: {mark:?}"
        );
    }
}
