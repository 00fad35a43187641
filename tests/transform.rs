//! The transformer on real data: exact inverse for discrete columns, tolerance for continuous
//! ones, nulls preserved.

use dpsynth::config::{DataConfig, RunConfig, TransformConfig};
use dpsynth::read::{read_table, Values};
use dpsynth::schema::{ColumnKind, Schema};
use dpsynth::transform::{DataTransformer, Encoder};
use rand::SeedableRng;

use crate::util::credit;

#[test]
fn credit_round_trip() {
    let mut table = credit();
    let schema = Schema::infer(&mut table, &RunConfig::default()).unwrap();
    let kinds: Vec<(&str, ColumnKind)> = schema
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.kind))
        .collect();
    assert!(kinds.contains(&("Home", ColumnKind::Discrete)));
    assert!(kinds.contains(&("Income", ColumnKind::Continuous)));
    assert!(kinds.contains(&("Seniority", ColumnKind::Continuous)));

    // How long fitting takes is measured by `cargo bench --profile dev --bench pipeline --
    // fit_adult`, not asserted here.
    let transformer = DataTransformer::fit(&table, &schema, &TransformConfig::default()).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let encoded = transformer.transform(&table, &mut rng);
    assert_eq!(encoded.dim, transformer.output_dim());
    let dense = encoded.rows.to_dense();
    let back = transformer.inverse(&dense, encoded.n_rows, &mut rng);

    // The rows are stored sparse: per row one entry per discrete column and, per continuous
    // column, its scalar, its mode and its null flag when it has nulls. A gathered batch is
    // the same as those rows of the dense table, and every one-hot span holds one 1.
    let mut per_row = 0;
    for e in &transformer.encoders {
        per_row += match e {
            Encoder::Discrete(_) => 1,
            Encoder::Continuous(c) => 2 + usize::from(c.has_null),
        };
    }
    assert_eq!(encoded.rows.per_row, per_row);
    assert_eq!(encoded.rows.index.len(), table.n_rows() * per_row);
    assert!(
        per_row * 2 < encoded.dim,
        "sparse rows are smaller than dense ones"
    );
    let picks = [3u32, 0, 4000, 17, 3];
    let batch = encoded.rows.gather(&picks);
    for (k, &r) in picks.iter().enumerate() {
        let d = encoded.dim;
        assert_eq!(
            &batch[k * d..(k + 1) * d],
            &dense[r as usize * d..(r as usize + 1) * d]
        );
    }
    for span in transformer.spans() {
        if span.activation == dpsynth::transform::Activation::Softmax {
            for r in 0..encoded.n_rows {
                let ones = dense[r * encoded.dim + span.offset..][..span.width]
                    .iter()
                    .filter(|&&x| x == 1.0)
                    .count();
                assert_eq!(ones, 1, "row {r}: a one-hot span holds one 1");
            }
        }
    }

    for (orig, round) in table.columns.iter().zip(&back.columns) {
        assert_eq!(orig.name, round.name);
        assert_eq!(
            orig.values.value_type(),
            round.values.value_type(),
            "{}",
            orig.name
        );
        for i in 0..orig.values.len() {
            assert_eq!(
                orig.values.is_null(i),
                round.values.is_null(i),
                "{} row {i}",
                orig.name
            );
            match (&orig.values, &round.values) {
                (Values::Text(a), Values::Text(b)) => assert_eq!(a[i], b[i]),
                (Values::Int(a), Values::Int(b)) if a[i].is_some() => {
                    let (x, y) = (a[i].unwrap() as f64, b[i].unwrap() as f64);
                    // Round trip through a float scalar: within one unit.
                    assert!(
                        (x - y).abs() <= 1.0 + 1e-3 * x.abs(),
                        "{} row {i}: {x} vs {y}",
                        orig.name
                    );
                }
                (Values::Float(a), Values::Float(b)) if a[i].is_some() => {
                    let (x, y) = (a[i].unwrap(), b[i].unwrap());
                    assert!(
                        (x - y).abs() <= 1e-3 * (1.0 + x.abs()),
                        "{} row {i}: {x} vs {y}",
                        orig.name
                    );
                }
                _ => {}
            }
        }
    }
    // Missing values exist in this table and survive the round trip (checked above per cell).
    let nulls: usize = table
        .columns
        .iter()
        .map(|c| c.values.len() - c.values.non_null_count())
        .sum();
    assert!(nulls > 0);
}

#[test]
fn many_categories_are_bounded() {
    // 500 categories of 10 rows each, then 7,000 categories of one row: with room for 1,000
    // slots, the 500 frequent ones and the first 499 singletons keep their own slot and the
    // remaining 6,501 singletons share the last one.
    let mut values: Vec<Option<String>> = (0..5000)
        .map(|i| Some(format!("common{}", i % 500)))
        .collect();
    values.extend((0..7000).map(|j| Some(format!("rare{j}"))));
    let enc = dpsynth::transform::DiscreteEncoder::fit(&Values::Text(values.clone()), 1000);
    assert_eq!(enc.width(), 1000);
    let slots = enc.encode(&Values::Text(values.clone()));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let decoded = enc.decode(&slots, &mut rng);
    let kept: std::collections::HashSet<&str> = values[..5000]
        .iter()
        .chain(&values[5000..5499])
        .map(|v| v.as_deref().unwrap())
        .collect();
    assert_eq!(kept.len(), 999);
    let pooled: std::collections::HashSet<&str> = values[5499..]
        .iter()
        .map(|v| v.as_deref().unwrap())
        .collect();
    let mut pooled_seen = std::collections::HashSet::new();
    for (orig, back) in values.iter().zip(&decoded) {
        let (orig, back) = (orig.as_deref().unwrap(), back.as_deref().expect("no nulls"));
        if kept.contains(orig) {
            assert_eq!(orig, back, "a category with its own slot decodes to itself");
        } else {
            // A pooled category comes back as one of the pooled ones (a real value of the
            // column, never a placeholder and never a category that has its own slot).
            assert!(pooled.contains(back), "{orig} decoded to {back}");
            pooled_seen.insert(back);
        }
    }
    // The shared slot spreads over its categories rather than always naming one.
    assert!(
        pooled_seen.len() > 1000,
        "only {} pooled values seen",
        pooled_seen.len()
    );
}

#[test]
fn continuous_columns_never_exceed_the_mode_limit() {
    // Adult's age once got an 11th mode: the mixture kept 10 and a covering mode for the
    // values beyond their reach was added on top.
    let adult = read_table(
        &crate::util::root().join("../shared/datasets/adult.csv"),
        &DataConfig::default(),
    )
    .unwrap();
    for (mut table, limits) in [(adult, vec![10, 3, 1]), (credit(), vec![10, 2])] {
        let schema = Schema::infer(&mut table, &RunConfig::default()).unwrap();
        for max_modes in limits {
            let settings = TransformConfig {
                max_modes,
                ..TransformConfig::default()
            };
            let transformer = DataTransformer::fit(&table, &schema, &settings).unwrap();
            let mut continuous = 0;
            for (column, encoder) in schema.columns.iter().zip(&transformer.encoders) {
                if let Encoder::Continuous(c) = encoder {
                    continuous += 1;
                    assert!(
                        (1..=max_modes).contains(&c.modes.len()),
                        "{}: {} modes with max_modes = {max_modes}",
                        column.name,
                        c.modes.len()
                    );
                    // Every value stays representable: it decodes back within 1% of the range.
                    let values = &table.column(&column.name).unwrap().values;
                    let mut span = vec![0f32; c.width()];
                    let mut probs = vec![0f64; c.modes.len()];
                    let range = c.max - c.min;
                    for i in 0..values.len() {
                        let x = values.number(i);
                        c.encode_value(x, &mut span, &mut probs, &mut rng_for(i));
                        if let (Some(x), Some(y)) = (x, c.decode_value(&span)) {
                            assert!(
                                (x - y).abs() <= 0.01 * range + 1e-9,
                                "{} row {i}: {x} came back as {y} with {max_modes} modes",
                                column.name
                            );
                        }
                    }
                }
            }
            assert!(continuous >= 5);
        }
    }
}

fn rng_for(i: usize) -> rand_chacha::ChaCha8Rng {
    rand_chacha::ChaCha8Rng::seed_from_u64(i as u64)
}

#[test]
fn blank_lines_are_not_rows() {
    let dir = crate::util::tempdir();
    let path = dir.path().join("blank.csv");
    let mut text = String::from("a,b\n");
    for i in 0..30 {
        text.push_str(&format!("{i},x{}\n", i % 3));
        if i == 9 {
            text.push('\n');
        }
    }
    text.push_str("\n\n");
    std::fs::write(&path, text).unwrap();
    let table = dpsynth::read::read_table(&path, &dpsynth::config::DataConfig::default()).unwrap();
    assert_eq!(table.n_rows(), 30);
    assert!(table
        .columns
        .iter()
        .all(|c| c.values.non_null_count() == 30));
}

#[test]
fn a_one_column_table_keeps_its_missing_values() {
    // pandas writes a missing value of a one-column table as `""`; such rows are data, and
    // only the file's trailing blank lines are not.
    let dir = crate::util::tempdir();
    let path = dir.path().join("series.csv");
    let mut text = String::from("co2\n");
    for i in 0..40 {
        if i % 8 == 3 {
            text.push_str("\"\"\n");
        } else {
            text.push_str(&format!("{}.5\n", 300 + i));
        }
    }
    text.push_str("\n\n");
    std::fs::write(&path, text).unwrap();
    let table = dpsynth::read::read_table(&path, &dpsynth::config::DataConfig::default()).unwrap();
    assert_eq!(table.n_rows(), 40);
    assert_eq!(table.columns[0].values.non_null_count(), 35);
}

/// Kolmogorov-Smirnov distance between the present values of two samples.
fn ks_distance(a: &Values, b: &Values) -> f64 {
    let present = |v: &Values| (0..v.len()).filter_map(|i| v.number(i)).collect::<Vec<_>>();
    dpsynth::evaluate::fidelity::ks_statistic(&present(a), &present(b))
}

#[test]
fn independent_rows_follow_the_fitted_marginals() {
    // The DP warm start trains on rows drawn from the marginals that DP preprocessing fitted
    // (credit_data with credit-dp.toml's public domains, and histogram noise 1e-3: nearly
    // exact counts); decoded, they must reproduce each column's distribution.
    let mut table = credit();
    let mut config =
        RunConfig::from_toml(&crate::util::credit_domains(), "credit domains").unwrap();
    config.transform.discrete_int_max_distinct = 0;
    dpsynth::dp::preprocess::force_public_kinds(&mut config).unwrap();
    let schema = dpsynth::dp::preprocess::public_schema(
        Schema::infer(&mut table, &config).unwrap(),
        &config.privacy,
    );
    let (transformer, _) = dpsynth::dp::preprocess::fit_private_transformer(
        &mut table,
        &schema,
        &dpsynth::dp::preprocess::PreprocessSettings {
            privacy: &config.privacy,
            transform: &config.transform,
            noise_multiplier: Some(1e-3),
            delta_threshold: 0.0,
        },
        &mut dpsynth::dp::DpRng::from_seed(5),
    )
    .unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let drawn = transformer.sample_independent(20_000, &mut rng);
    assert_eq!(drawn.dim, transformer.output_dim());
    let back = transformer.inverse(&drawn.rows.to_dense(), drawn.n_rows, &mut rng);
    for (column, encoder) in schema.columns.iter().zip(&transformer.encoders) {
        let real = &table.column(&column.name).unwrap().values;
        let fake = &back.column(&column.name).unwrap().values;
        let nulls = |v: &Values| (v.len() - v.non_null_count()) as f64 / v.len() as f64;
        assert!(
            (nulls(real) - nulls(fake)).abs() < 0.02,
            "{}: missing share {} vs {}",
            column.name,
            nulls(real),
            nulls(fake)
        );
        // Categories are drawn from their own counts (TV at most 0.006 here); continuous
        // values from the Gaussian mixture, which smooths spiky columns: Expenses (27% of rows
        // at exactly 35, more at 45, 60, 75) KS 0.253, Assets 0.165, Price 0.118, Time (loan
        // terms of 12, 24, 36... months) 0.098, the other five 0.011-0.091. A wrong offset,
        // mode or weight gives 0.5 and more.
        let (distance, bound) = match encoder {
            Encoder::Discrete(_) => (
                crate::util::total_variation(
                    &crate::util::keys(&table, &column.name),
                    &crate::util::keys(&back, &column.name),
                ),
                0.03,
            ),
            Encoder::Continuous(_) => (ks_distance(real, fake), 0.3),
        };
        assert!(distance < bound, "{}: distance {distance:.3}", column.name);
    }
}

/// A value held by a tenth of a column's rows gets an exact mode: Adult's capital-gain is 92%
/// zeros, and every zero must decode to exactly 0 whatever the generator's scalar (the
/// mixture alone fitted the spike with a std of 49, so zeros came back as small amounts).
#[test]
fn heavy_spikes_get_exact_modes_on_adult() {
    let path = crate::util::root().join("../shared/datasets/adult.csv");
    let mut table = read_table(&path, &DataConfig::default()).expect("Adult reads");
    let schema = Schema::infer(&mut table, &RunConfig::default()).unwrap();
    let transformer = DataTransformer::fit(&table, &schema, &TransformConfig::default()).unwrap();
    let column = |name: &str| {
        let i = schema.columns.iter().position(|c| c.name == name).unwrap();
        match &transformer.encoders[i] {
            Encoder::Continuous(c) => c.clone(),
            Encoder::Discrete(_) => panic!("{name} is continuous"),
        }
    };
    let gain = column("capital-gain");
    let zero = gain
        .modes
        .iter()
        .position(|m| m.exact && m.mean == 0.0)
        .expect("an exact mode at 0");
    assert!(
        (gain.modes[zero].weight - 0.9167).abs() < 0.001,
        "{}",
        gain.modes[zero].weight
    );
    assert!(gain.modes.len() <= TransformConfig::default().max_modes);
    for scalar in [-0.9f32, 0.0, 0.37, 0.99] {
        let mut span = vec![0f32; gain.width()];
        span[0] = scalar;
        span[1 + zero] = 1.0;
        assert_eq!(gain.decode_value(&span), Some(0.0));
    }
    // A column without a spike keeps the plain mixture.
    assert!(column("fnlwgt").modes.iter().all(|m| !m.exact));
}
