//! A short training run on real data learns something: the sampled table has the input's
//! schema, only known categories, and discrete marginals closer to the real ones than an
//! untrained generator's.

use burn::tensor::Device;
use dpsynth::config::RunConfig;
use dpsynth::export::ModelFile;
use dpsynth::model::generator_tensors;
use dpsynth::sample::GeneratorSampler;
use dpsynth::train::{generator_config, train, Progress, Reporting};
use rand::SeedableRng;

use crate::util::{credit, keys, total_variation};

fn short_config() -> RunConfig {
    let mut config = RunConfig::default();
    config.train.epochs = 8;
    config.train.seed = Some(11);
    config
}

/// `train` with a quiet progress line and no metrics file.
fn train_quietly(
    table: dpsynth::read::Table,
    config: &RunConfig,
    device: &Device,
) -> dpsynth::train::TrainedGenerator {
    let progress = Progress::new(config.train.epochs, true);
    train(
        table,
        config,
        device,
        Reporting {
            progress: &progress,
            metrics: None,
        },
    )
    .unwrap()
}

#[test]
fn short_run_beats_untrained_generator() {
    let real = credit();
    let config = short_config();
    let device = Device::ndarray();
    let trained = train_quietly(real.clone(), &config, &device);
    let gen_config = generator_config(&config, &trained.transformer);
    let mut untrained = trained.clone();
    untrained.tensors = generator_tensors(&gen_config.init(&device));

    let path = std::path::Path::new("memory");
    let n = real.n_rows();
    let sample = |t: dpsynth::train::TrainedGenerator| {
        let file = ModelFile::from_training(t, &config);
        let sampler = GeneratorSampler::new(&file, &device, path).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        sampler.sample_table(n, None, 1, &mut rng).unwrap()
    };
    let good = sample(trained.clone());
    let bad = sample(untrained);

    // Same schema: names, order, types.
    for (r, s) in real.columns.iter().zip(&good.columns) {
        assert_eq!(r.name, s.name);
        assert_eq!(r.values.value_type(), s.values.value_type());
    }
    let discrete = trained.transformer.schema.discrete_names();
    assert!(discrete.len() >= 5);
    let mut tv_good = 0.0;
    let mut tv_bad = 0.0;
    for name in &discrete {
        let real_keys = keys(&real, name);
        let known: std::collections::HashSet<_> = real_keys.iter().cloned().collect();
        let synth = keys(&good, name);
        assert!(
            synth.iter().all(|k| known.contains(k)),
            "unknown category in {name}"
        );
        tv_good += total_variation(&real_keys, &synth);
        tv_bad += total_variation(&real_keys, &keys(&bad, name));
    }
    tv_good /= discrete.len() as f64;
    tv_bad /= discrete.len() as f64;
    assert!(
        tv_good < 0.8 * tv_bad,
        "trained TV {tv_good:.3} is not clearly below untrained TV {tv_bad:.3}"
    );
}

/// Pearson correlation of the first two comma-separated columns of a CSV's rows.
fn first_pair_correlation(csv: &str) -> f64 {
    let pts: Vec<(f64, f64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let mut cells = l.split(',').map(|c| c.parse::<f64>().unwrap());
            (cells.next().unwrap(), cells.next().unwrap())
        })
        .collect();
    crate::util::pearson(&pts)
}

#[test]
fn without_dp_the_exact_pair_tables_and_correlations_teach_two_continuous_columns_to_move_together()
{
    // y = 2x + noise (real r 0.995). Plain CTGAN tiles each unimodal column with ten narrow
    // modes and draws the two columns' modes independently: r about 0 (docs/quality.md,
    // stop 50). With `train.pair_weight` the generator also matches the exact two-way tables
    // of modes, and the sampled rows move together; with `train.correlation_weight` (the
    // default beside them) it also matches the columns' correlation inside the modes.
    let dir = crate::util::tempdir();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let mut csv = String::from("x,y\n");
    for _ in 0..2_000 {
        let x: f64 = 100.0
            + 20.0 * rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, &mut rng);
        let e: f64 = rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, &mut rng);
        csv += &format!("{x:.2},{:.2}\n", 2.0 * x + 2.0 * e);
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let correlation = |pair_weight: &str, correlation_weight: &str| {
        let model = format!("m{pair_weight}-{correlation_weight}.dpsynth");
        let weight = format!("train.pair_weight={pair_weight}");
        let correlations = format!("train.correlation_weight={correlation_weight}");
        let args = [
            "train",
            "t.csv",
            "--epochs",
            "60",
            "--seed",
            "1",
            "--out",
            &model,
            "--quiet",
            "--set",
            &weight,
            "--set",
            &correlations,
            "--set",
            "train.threads=1",
            "--set",
            "train.batch_size=200",
        ];
        let out = crate::util::dpsynth(dir.path(), &args);
        assert!(out.status.success(), "{}", crate::util::stderr(&out));
        // The generator's own rows: sampling would otherwise set the file's exact
        // correlation (checked below).
        let args = [
            "sample",
            &model,
            "-n",
            "2000",
            "-o",
            "s.csv",
            "--seed",
            "1",
            "--quiet",
            "--calibrate",
            "off",
        ];
        let out = crate::util::dpsynth(dir.path(), &args);
        assert!(out.status.success(), "{}", crate::util::stderr(&out));
        first_pair_correlation(&std::fs::read_to_string(dir.path().join("s.csv")).unwrap())
    };
    let (plain, paired) = (correlation("0", "0"), correlation("3", "0"));
    // Sampled as `dpsynth sample` does by default, the plain model's rows move together too:
    // the file holds the pair's exact correlation (`transform::dependence`).
    let args = [
        "sample",
        "m0-0.dpsynth",
        "-n",
        "2000",
        "-o",
        "d.csv",
        "--seed",
        "1",
        "--quiet",
    ];
    let out = crate::util::dpsynth(dir.path(), &args);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let set = first_pair_correlation(&std::fs::read_to_string(dir.path().join("d.csv")).unwrap());
    assert!(
        set > 0.9,
        "plain CTGAN's rows with the exact correlation set: r {set}"
    );
    assert!(plain.abs() < 0.2, "plain CTGAN's r {plain}");
    assert!(
        paired > 0.3 && paired > plain + 0.2,
        "r {paired} with the pair tables, {plain} without"
    );
    // Measured: 0.31 with the pair tables alone, 0.89 with the correlations beside them.
    let correlated = correlation("3", "10");
    assert!(
        correlated > 0.8 && correlated > paired + 0.2,
        "r {correlated} with the exact correlations, {paired} with the pair tables alone"
    );
}

/// One seeded epoch without DP on `csv` (written as `name` in a fresh folder, returned with
/// its path): the file as written and read back.
fn one_plain_epoch(
    name: &str,
    csv: &str,
    device: &Device,
) -> (tempfile::TempDir, std::path::PathBuf, ModelFile) {
    let dir = crate::util::tempdir();
    let path = dir.path().join(name);
    std::fs::write(&path, csv).unwrap();
    let mut config = RunConfig::default();
    config.train.epochs = 1;
    config.train.seed = Some(3);
    let table = dpsynth::read::read_training_table(&path, &config)
        .unwrap()
        .0;
    let file = ModelFile::from_training(train_quietly(table, &config, device), &config);
    let file = ModelFile::from_bytes(&file.to_bytes().unwrap(), &path).unwrap();
    (dir, path, file)
}

#[test]
fn without_dp_a_column_another_determines_is_drawn_from_the_exact_table() {
    // 3,000 rows: 30 airports of uneven size, each in one of 7 states, and a size class
    // independent of both. A run without DP counts the exact pair tables, keeps the one where
    // the airport determines the state, and sampling draws the state from it.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let state_of = |a: usize| (a * 3) % 7;
    let mut csv = String::from("airport,state,size\n");
    for _ in 0..3_000 {
        let a = (rand::Rng::random::<f64>(&mut rng).powi(2) * 30.0) as usize;
        let size = ["small", "medium", "large"][rand::Rng::random_range(&mut rng, 0..3)];
        csv += &format!("a{a},s{},{size}\n", state_of(a));
    }
    let device = Device::flex();
    let (_dir, path, file) = one_plain_epoch("airports.csv", &csv, &device);
    let exact = file
        .header
        .determined
        .as_ref()
        .expect("the determined pair");
    assert_eq!(exact.pairs, vec![(0, 1)], "only airport and state");
    assert_eq!(exact.noise_std, 0.0);
    let broken = |file: &ModelFile| {
        let sampler = GeneratorSampler::new(file, &device, &path)
            .unwrap()
            .on_host();
        let rows = sampler.sample_stream(1, 0, 3_000);
        let (airport, state) = (keys(&rows, "airport"), keys(&rows, "state"));
        airport
            .iter()
            .zip(&state)
            .filter(|(a, s)| {
                let a: usize = a.as_deref().unwrap()[1..].parse().unwrap();
                s.as_deref() != Some(format!("s{}", state_of(a)).as_str())
            })
            .count() as f64
            / 3_000.0
    };
    let with = broken(&file);
    let mut plain = file.clone();
    plain.header.determined = None;
    let without = broken(&plain);
    eprintln!("state not the airport's in {without:.3} of rows plain, {with:.3} drawn");
    assert!(
        without > 0.3,
        "the one-epoch generator kept the map: {without}"
    );
    assert_eq!(with, 0.0);
}

#[test]
fn without_dp_a_continuous_pair_is_sampled_at_its_exact_correlation() {
    // Churn's minutes and charge (r 1.00) beside an independent count of calls, 3,000 rows. A
    // run without DP holds the exact normal-score correlations of a forest of continuous
    // pairs, and sampling sets them (`transform::dependence`), leaving calls alone.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
    let mut csv = String::from("minutes,charge,calls\n");
    for _ in 0..3_000 {
        let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng);
        let minutes = (180.0 + 50.0 * z).clamp(0.0, 350.0);
        let calls = rand::Rng::random_range(&mut rng, 40..160);
        csv += &format!("{minutes:.1},{:.2},{calls}\n", minutes * 0.17);
    }
    let device = Device::flex();
    let (_dir, path, file) = one_plain_epoch("calls.csv", &csv, &device);
    let exact = file
        .header
        .determined
        .as_ref()
        .expect("the exact correlations");
    let forest: Vec<(usize, usize)> = exact.copula.iter().map(|&(p, _)| p).collect();
    assert_eq!(forest.len(), 2, "a forest over three columns: {forest:?}");
    let minutes_charge = exact.copula.iter().find(|(p, _)| *p == (0, 1)).unwrap().1;
    assert!(minutes_charge > 0.95, "{minutes_charge}");
    let r = |set: bool| -> (f64, f64) {
        let mut sampler = GeneratorSampler::new(&file, &device, &path)
            .unwrap()
            .on_host();
        if set {
            sampler = sampler.with_exact_dependence();
        }
        let rows = sampler.sample_stream(1, 0, 6_000);
        let column = |name: &str| -> Vec<f64> {
            let c = rows.columns.iter().find(|c| c.name == name).unwrap();
            (0..6_000).map(|i| c.values.number(i).unwrap()).collect()
        };
        let (m, c, k) = (column("minutes"), column("charge"), column("calls"));
        let pair = |a: &[f64], b: &[f64]| {
            crate::util::pearson(&a.iter().copied().zip(b.iter().copied()).collect::<Vec<_>>())
        };
        (pair(&m, &c), pair(&m, &k))
    };
    let (plain, _) = r(false);
    let (set, calls) = r(true);
    eprintln!("minutes-charge r {plain:.3} plain, {set:.3} set; calls {calls:.3}");
    assert!(plain < 0.8, "the one-epoch generator gave r {plain}");
    assert!(set > 0.9, "r {set}");
    assert!(calls.abs() < 0.1, "calls moved with minutes: {calls}");
}
