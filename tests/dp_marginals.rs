//! Noisy two-way marginals (`privacy.pair_marginals`): the exact pair counts agree with a count
//! of the table's own values, one row moves every table by exactly one count (the sensitivity
//! the noise is calibrated to), the noise is the histograms' `z √(k + P)`, the generator's loss
//! reads the same layout, and nothing planted escapes.

use burn::tensor::{Device, Tensor, TensorData};
use dpsynth::config::{RunConfig, TransformConfig};
use dpsynth::dp::marginals::{
    all_pairs, measure_pairs, pair_count, pair_counts, select_tree, NoisyPairs, ReleasedMargin,
};
use dpsynth::dp::DpRng;
use dpsynth::schema::Schema;
use dpsynth::train::pairs::PairTarget;
use dpsynth::train::Trainer;
use dpsynth::transform::{DataTransformer, Encoder, Slot};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::util::credit;

/// The ledger's details as the released `ledger.txt` lists them, one `label: value` per line.
fn ledger_text(ledger: &dpsynth::dp::Ledger) -> String {
    ledger
        .details()
        .into_iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect()
}

/// The credit table's transformer (fitted without DP: these tests check the counting, not the
/// fit) and its encoding.
fn encoded_credit() -> (
    dpsynth::read::Table,
    DataTransformer,
    dpsynth::transform::EncodedTable,
) {
    let mut table = credit();
    let schema = Schema::infer(&mut table, &RunConfig::default()).unwrap();
    let transformer = DataTransformer::fit(&table, &schema, &TransformConfig::default()).unwrap();
    let encoded = transformer.transform(&table, &mut ChaCha8Rng::seed_from_u64(3));
    (table, transformer, encoded)
}

/// A row's state in column `c` read straight from the table's values where that is possible
/// without the encoding: a discrete column's slot, or "null" for a continuous column's missing
/// value. `None` for a present continuous value (its mode is the encoder's draw).
fn state_from_values(
    table: &dpsynth::read::Table,
    transformer: &DataTransformer,
    c: usize,
    row: usize,
) -> Option<usize> {
    let values = &table.columns[c].values;
    match &transformer.encoders[c] {
        Encoder::Discrete(d) => Some(match values.key(row) {
            Some(k) => d
                .slot_of(&k)
                .expect("every credit category has its own slot"),
            None => d.slots.iter().position(|s| *s == Slot::Null).unwrap(),
        }),
        Encoder::Continuous(e) if values.is_null(row) => {
            assert!(e.has_null);
            Some(e.modes.len())
        }
        Encoder::Continuous(_) => None,
    }
}

#[test]
fn pair_counts_agree_with_the_tables_own_values() {
    let (table, transformer, encoded) = encoded_credit();
    let layout = transformer.column_states();
    let k = layout.len();
    let tables = pair_counts(&layout, &encoded.rows);
    assert_eq!(tables.len(), pair_count(k));
    let n = table.n_rows();
    let mut t = 0;
    let mut checked_cells = 0;
    for a in 0..k {
        for (b, states_b) in layout.iter().enumerate().skip(a + 1) {
            let table_ab = &tables[t];
            t += 1;
            assert_eq!(table_ab.iter().sum::<f64>(), n as f64, "pair ({a}, {b})");
            let sb = states_b.count();
            // Count the pairs of states that the values alone decide (categories, and a
            // continuous column's null state) and compare those cells.
            let mut reference = std::collections::HashMap::new();
            for row in 0..n {
                if let (Some(x), Some(y)) = (
                    state_from_values(&table, &transformer, a, row),
                    state_from_values(&table, &transformer, b, row),
                ) {
                    *reference.entry((x, y)).or_insert(0.0) += 1.0;
                }
            }
            for (&(x, y), &count) in &reference {
                assert_eq!(
                    table_ab[x * sb + y],
                    count,
                    "pair ({a}, {b}), states ({x}, {y})"
                );
                checked_cells += 1;
            }
        }
    }
    assert!(checked_cells > 150, "only {checked_cells} cells checked");
}

#[test]
fn one_row_changes_every_pair_table_by_exactly_one_count() {
    let (_, transformer, encoded) = encoded_credit();
    let layout = transformer.column_states();
    // The same encoded table without its last row, the others keeping their mode draws: the
    // per-draw bound that the coupling argument of `dp::marginals` rests on.
    let mut fewer = encoded.rows.clone();
    fewer.n_rows -= 1;
    fewer.index.truncate(fewer.n_rows * fewer.per_row);
    fewer.value.truncate(fewer.n_rows * fewer.per_row);
    let full = pair_counts(&layout, &encoded.rows);
    let less = pair_counts(&layout, &fewer);
    let mut squared = 0.0;
    for (x, y) in full.iter().zip(&less) {
        let diff: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).collect();
        assert_eq!(diff.iter().map(|d| d.abs()).sum::<f64>(), 1.0);
        assert!(diff.iter().all(|&d| d == 0.0 || d == 1.0));
        squared += diff.iter().map(|d| d * d).sum::<f64>();
    }
    // The L2 sensitivity the noise is calibrated to: √P.
    assert_eq!(squared, pair_count(layout.len()) as f64);
}

#[test]
fn noisy_pairs_are_distributions_near_the_truth() {
    let (table, transformer, encoded) = encoded_credit();
    let layout = transformer.column_states();
    let exact = pair_counts(&layout, &encoded.rows);
    let n = table.n_rows() as f64;
    let mut rng = dpsynth::dp::DpRng::from_seed(5);
    let noisy = measure_pairs(&layout, &encoded.rows, None, 5.0, &mut rng);
    for (p, c) in noisy.tables.iter().zip(&exact) {
        assert!(p.iter().all(|&x| x >= 0.0));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let tv: f64 = 0.5 * p.iter().zip(c).map(|(a, b)| (a - b / n).abs()).sum::<f64>();
        // Noise std 5 on counts of 4,454 rows: a few hundredths at most.
        assert!(tv < 0.08, "total variation {tv}");
    }
}

#[test]
fn the_generator_loss_reads_the_layout_the_counts_use() {
    let _serial = crate::util::serial_flex();
    let (_, transformer, encoded) = encoded_credit();
    let layout = transformer.column_states();
    let n = 400;
    let rows: Vec<u32> = (0..n as u32).collect();
    let dense = encoded.rows.gather(&rows);
    let dim = encoded.dim;
    let device = Device::flex();
    // Logits 40 x the encoded rows: the softmax of every span is that row's one-hot state.
    let raw = Tensor::<2>::from_data(
        TensorData::new(
            dense.iter().map(|v| 40.0 * v).collect::<Vec<f32>>(),
            [n, dim],
        ),
        &device,
    );
    let weights = Tensor::<2>::from_data(TensorData::new(vec![1.0 / n as f32; n], [n, 1]), &device);
    // The exact pair counts of rows `from .. from + n`, from a slice of the sparse table.
    let counts_of = |from: usize| {
        let all = &encoded.rows;
        let range = from * all.per_row..(from + n) * all.per_row;
        let mut sub = all.clone();
        sub.n_rows = n;
        sub.index = all.index[range.clone()].to_vec();
        sub.value = all.value[range].to_vec();
        pair_counts(&layout, &sub)
    };
    let as_target = |counts: Vec<Vec<f64>>| NoisyPairs {
        states: layout.iter().map(|l| l.count()).collect(),
        pairs: all_pairs(layout.len()),
        tables: counts
            .into_iter()
            .map(|t| t.into_iter().map(|c| c / n as f64).collect())
            .collect(),
        noise_std: 0.0,
        copula: Vec::new(),
        shifts: Vec::new(),
    };
    let same = counts_of(0);
    let other = counts_of(2000);
    // Against its own rows' tables the loss is (nearly) zero.
    let loss = |target: &NoisyPairs| {
        let t = PairTarget::new(target, layout.clone(), 1.0, &device);
        dpsynth::model::to_host(t.loss(raw.clone(), weights.clone()))[0] as f64
    };
    let own = loss(&as_target(same.clone()));
    assert!(own < 1e-4, "loss against its own tables {own}");
    // Against other rows' tables it is the mean total-variation distance, computed here on the
    // host from the counts alone.
    let expected: f64 = same
        .iter()
        .zip(&other)
        .map(|(a, b)| {
            0.5 * a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs() / n as f64)
                .sum::<f64>()
        })
        .sum::<f64>()
        / same.len() as f64;
    let got = loss(&as_target(other));
    assert!(expected > 0.02, "{expected}");
    assert!(
        (got - expected).abs() < 1e-3 * expected.max(1.0),
        "loss {got} vs mean total variation {expected}"
    );
}

#[test]
fn pair_marginals_share_the_histograms_mechanism() {
    let _serial = crate::util::serial_flex();
    let domains = RunConfig::from_toml(&crate::util::credit_domains(), "credit-dp.toml").unwrap();
    let mut config = RunConfig::from_toml(
        "[model]\nembedding_dim = 8\ngenerator_dims = [16]\ndiscriminator_dims = [16]\n[train]\nepochs = 1\nbatch_size = 500\n",
        "test",
    )
    .unwrap();
    config.train.seed = Some(9);
    config.privacy.epsilon = Some(1.0);
    // The shipped configs' share: at the default the copula's sums would be left out as
    // drowned (a released correlation's noise over dp::copula::MAX_RHO_NOISE).
    config.privacy.preprocess_share = 0.8;
    config.privacy.columns = domains.privacy.columns;
    let plain = Trainer::new(credit(), &config, &Device::flex())
        .unwrap()
        .finish();
    config.privacy.pair_marginals = true;
    let mut trainer = Trainer::new(credit(), &config, &Device::flex()).unwrap();
    trainer.epoch().unwrap();
    let with_pairs = trainer.finish();
    let (a, b) = (plain.ledger.unwrap(), with_pairs.ledger.unwrap());
    // The plan (and so the charge) is the same...
    assert_eq!(a.plan, b.plan);
    let k = 14;
    let p = pair_count(k);
    assert_eq!(b.preprocessing.pair_tables, p);
    // ...and the noise on every count grows from z √k to z √(k + P).
    let z = b.plan.histogram_noise_multiplier.unwrap();
    assert!((a.preprocessing.count_noise_std - z * (k as f64).sqrt()).abs() < 1e-9);
    assert!((b.preprocessing.count_noise_std - z * ((k + p) as f64).sqrt()).abs() < 1e-9);
    let shown = ledger_text(&b);
    assert!(
        shown.contains("91 two-way marginal tables in the same mechanism (L2 sensitivity √105)"),
        "{shown}"
    );
    // The copula's sums (8 pairs and 9 spreads for credit's 9 continuous columns) join the
    // same mechanism: the charge stays, the noise grows to z √(k + P + 17).
    config.privacy.copula = true;
    config.privacy.warm_start_epochs = 1;
    let with_copula = Trainer::new(credit(), &config, &Device::flex())
        .unwrap()
        .finish();
    let c = with_copula.ledger.unwrap();
    assert_eq!(c.plan, a.plan);
    assert_eq!(c.preprocessing.copula_sums, 17);
    // With privacy.category_shifts, one more slot per discrete column (5) for the
    // per-category score sums of discrete-continuous edges: z √(k + P + 17 + 5).
    assert_eq!(c.preprocessing.shift_slots, 0);
    config.privacy.category_shifts = true;
    let c = Trainer::new(credit(), &config, &Device::flex())
        .unwrap()
        .finish()
        .ledger
        .unwrap();
    assert_eq!(c.preprocessing.shift_slots, 5);
    assert!((c.preprocessing.count_noise_std - z * ((k + p + 17 + 5) as f64).sqrt()).abs() < 1e-9);
    let shown = ledger_text(&c);
    assert!(
        shown.contains("(L2 sensitivity √127), with 17 slots for normal-score correlation sums of continuous pairs and 5 for per-category normal-score sums"),
        "{shown}"
    );
    assert!(shown.contains("linked by a Gaussian copula"), "{shown}");
    // One-way histograms weighted 4 to a table: the same plan and charge, the one-way counts'
    // noise z √((4k + P + 22) / 4), the tables' z √(4k + P + 22).
    config.privacy.margin_weight = Some(4.0);
    let d = Trainer::new(credit(), &config, &Device::flex())
        .unwrap()
        .finish()
        .ledger
        .unwrap();
    assert_eq!(d.plan, a.plan);
    assert_eq!(d.epsilon, c.epsilon);
    let units = (4 * k + p + 17 + 5) as f64;
    let pre = &d.preprocessing;
    assert!((pre.count_noise_std - z * (units / 4.0).sqrt()).abs() < 1e-9);
    assert!((pre.pair_std() - z * units.sqrt()).abs() < 1e-9);
    let shown = ledger_text(&d);
    assert!(
        shown.contains(&format!("; {:.2} on pair tables", pre.pair_std())),
        "{shown}"
    );
}

#[test]
fn pair_marginals_without_a_measurement_budget_are_refused() {
    let _serial = crate::util::serial_flex();
    let domains = RunConfig::from_toml(&crate::util::credit_domains(), "credit-dp.toml").unwrap();
    let mut config = RunConfig::default();
    config.train.epochs = 1;
    config.privacy.epsilon = Some(1.0);
    config.privacy.preprocess_share = 0.0;
    config.privacy.pair_marginals = true;
    config.privacy.columns = domains.privacy.columns;
    let err = Trainer::new(credit(), &config, &Device::flex())
        .err()
        .expect("no budget, no pair tables");
    assert!(err.to_string().contains("privacy.pair_marginals"), "{err}");
    // A zero weight would measure the tables for nothing (and add noise to every count).
    let err = RunConfig::from_toml(
        "[privacy]\nepsilon = 1.0\npair_marginals = true\npair_weight = 0.0\n",
        "zero.toml",
    )
    .expect_err("a zero pair weight is refused");
    assert!(err.to_string().contains("privacy.pair_weight"), "{err}");
}

/// `count` text columns of `rows` rows: x1 follows x0 and x3 follows x2 on 90% of rows, the
/// rest take one of three values independently of everything.
fn copied_pairs_table(count: usize, rows: usize) -> dpsynth::read::Table {
    let mut rng = DpRng::from_seed(11);
    let mut columns: Vec<Vec<Option<String>>> = Vec::new();
    for c in 0..count {
        let values = (0..rows)
            .map(|i| {
                let copy = (c == 1 || c == 3) && rng.index(10) > 0;
                let v = if copy {
                    columns[c - 1][i].clone().unwrap()
                } else {
                    format!("v{}", rng.index(3))
                };
                Some(v)
            })
            .collect();
        columns.push(values);
    }
    dpsynth::read::Table {
        columns: columns
            .into_iter()
            .enumerate()
            .map(|(c, v)| dpsynth::read::Column {
                name: format!("x{c}"),
                values: dpsynth::read::Values::Text(v),
                form: None,
            })
            .collect(),
    }
}

/// A small DP config with pair marginals and discovery at `epsilon`.
fn pairs_config(epsilon: f64) -> RunConfig {
    RunConfig::from_toml(
        &format!("[model]\nembedding_dim = 8\ngenerator_dims = [16]\ndiscriminator_dims = [16]\n[train]\nepochs = 1\nbatch_size = 500\nseed = 2\n[privacy]\nepsilon = {epsilon:?}\ndiscover = true\npreprocess_share = 0.3\npair_marginals = true\n"),
        "test",
    )
    .unwrap()
}

#[test]
fn a_wide_table_measures_a_tree_of_pairs_chosen_under_dp() {
    let _serial = crate::util::serial_flex();
    // 17 text columns (136 pairs: `auto` picks a tree): x1 follows x0 and x3 follows x2 on 90%
    // of rows, the rest are independent. The tree must hold both dependent pairs.
    let table = copied_pairs_table(17, 3000);
    let mut config = pairs_config(3.0);
    let trainer = Trainer::new(table.clone(), &config, &Device::flex()).unwrap();
    let checkpoint = trainer.checkpoint().unwrap();
    let dp = checkpoint.header.dp.as_ref().unwrap();
    let pairs = dp.pairs.as_ref().unwrap();
    assert_eq!(pairs.pairs.len(), 16, "a spanning tree of 17 columns");
    assert!(pairs.pairs.contains(&(0, 1)), "{:?}", pairs.pairs);
    assert!(pairs.pairs.contains(&(2, 3)), "{:?}", pairs.pairs);
    let ledger = &dp.preprocessing;
    assert_eq!((ledger.selection_rounds, ledger.pair_tables), (16, 16));
    assert!(ledger.selection_epsilon > 0.0);
    // The plan's charge does not change: the selection is part of preprocessing's budget.
    let text = ledger_text(&trainer.finish().ledger.unwrap());
    assert!(
        text.contains("a tree chosen by 16 exponential-mechanism rounds"),
        "{text}"
    );
    // The chosen pairs are an output of the mechanism and the ledger names them.
    assert!(
        text.contains("pairs chosen under DP: x0 & x1, ") && text.contains(", x2 & x3, "),
        "{text}"
    );
    // Three extra pairs: three more rounds at the same epsilon each, three more tables.
    config.privacy.extra_pairs = 3;
    let trainer = Trainer::new(table, &config, &Device::flex()).unwrap();
    let checkpoint = trainer.checkpoint().unwrap();
    let dp = checkpoint.header.dp.as_ref().unwrap();
    let pairs = &dp.pairs.as_ref().unwrap().pairs;
    assert_eq!(pairs.len(), 19, "{pairs:?}");
    assert!(
        pairs.contains(&(0, 1)) && pairs.contains(&(2, 3)),
        "{pairs:?}"
    );
    let mut distinct = pairs.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 19, "a pair chosen twice: {pairs:?}");
    let ledger = &dp.preprocessing;
    assert_eq!((ledger.selection_rounds, ledger.pair_tables), (19, 19));
    let text = ledger_text(&trainer.finish().ledger.unwrap());
    assert!(
        text.contains("19 two-way marginal tables in the same mechanism, a tree and 3 more pairs chosen by 19 exponential-mechanism rounds"),
        "{text}"
    );
}

/// Whether `pairs` join all of `columns` into one tree (as many pairs as columns less one,
/// each joining two parts).
fn spans(columns: &[usize], pairs: &[(usize, usize)]) -> bool {
    let mut part: std::collections::BTreeMap<usize, usize> =
        columns.iter().map(|&c| (c, c)).collect();
    for &(a, b) in pairs {
        let (pa, pb) = (part[&a], part[&b]);
        if pa == pb {
            return false;
        }
        for p in part.values_mut() {
            if *p == pb {
                *p = pa;
            }
        }
    }
    pairs.len() + 1 == columns.len()
}

#[test]
fn a_named_targets_pairs_are_all_measured_beside_a_tree_of_the_others() {
    let _serial = crate::util::serial_flex();
    // The 17-column table with x5 (independent of everything) named as the target: a tree
    // chooses at most one of its pairs, the target measures all 16 of them, and the tree over
    // the other 16 columns still holds both dependent pairs.
    let table = copied_pairs_table(17, 3000);
    let mut config = pairs_config(3.0);
    config.privacy.targets = vec!["x5".into()];
    let trainer = Trainer::new(table.clone(), &config, &Device::flex()).unwrap();
    let checkpoint = trainer.checkpoint().unwrap();
    let dp = checkpoint.header.dp.as_ref().unwrap();
    let pairs = &dp.pairs.as_ref().unwrap().pairs;
    assert_eq!(pairs.len(), 31, "{pairs:?}");
    let rest: Vec<(usize, usize)> = pairs
        .iter()
        .copied()
        .filter(|&(a, b)| a != 5 && b != 5)
        .collect();
    assert!((0..17)
        .filter(|&c| c != 5)
        .all(|c| pairs.contains(&(c.min(5), c.max(5)))));
    let others: Vec<usize> = (0..17).filter(|&c| c != 5).collect();
    assert!(spans(&others, &rest), "{rest:?}");
    assert!(rest.contains(&(0, 1)) && rest.contains(&(2, 3)), "{rest:?}");
    let ledger = &dp.preprocessing;
    assert_eq!(
        (
            ledger.selection_rounds,
            ledger.target_pairs,
            ledger.pair_tables
        ),
        (15, 16, 31)
    );
    let text = ledger_text(&trainer.finish().ledger.unwrap());
    assert!(
        text.contains("31 two-way marginal tables in the same mechanism, 16 pairs of the target x5 and a tree chosen by 15 exponential-mechanism rounds"),
        "{text}"
    );
    // The chosen pairs listed are the mechanism's; the target's are not among them.
    let chosen = text
        .lines()
        .find(|l| l.starts_with("pairs chosen under DP: "))
        .unwrap();
    assert!(
        !chosen.contains("x5 &") && !chosen.contains("& x5"),
        "{chosen}"
    );

    // A target that is not a column is refused by name, with the table's columns.
    config.privacy.targets = vec!["x17".into()];
    let err = Trainer::new(table, &config, &Device::flex())
        .err()
        .expect("no column x17");
    let err = err.to_string();
    assert!(
        err.contains("privacy.targets") && err.contains("'x17'") && err.contains("x0, x1"),
        "{err}"
    );
}

#[test]
fn a_column_named_as_a_target_is_taken_as_the_target_unless_turned_off() {
    let _serial = crate::util::serial_flex();
    // 12 columns on 1,500 rows at epsilon 0.5 (every pair noisy), x7 called `Is_Fraud`: with
    // no target named, its name makes it the target: its 11 pairs beside a tree of the other
    // 11 columns (10 rounds) instead of all 66 pairs; the ledger and the terminal say so.
    // `privacy.target_from_name = false` measures every pair; above 16 columns (a tree
    // anyway) the name adds nothing.
    let mut table = copied_pairs_table(12, 1500);
    table.columns[7].name = "Is_Fraud".into();
    let mut config = pairs_config(0.5);
    let trainer = Trainer::new(table.clone(), &config, &Device::flex()).unwrap();
    let note = trainer.preprocessing_warnings().iter().any(|n| {
        n.text()
            .contains("'Is_Fraud' is taken as the target from its name")
    });
    assert!(note);
    let checkpoint = trainer.checkpoint().unwrap();
    let ledger = &checkpoint.header.dp.as_ref().unwrap().preprocessing;
    assert_eq!(ledger.targets, vec!["Is_Fraud".to_string()]);
    assert!(ledger.targets_from_name);
    assert_eq!(
        (
            ledger.selection_rounds,
            ledger.target_pairs,
            ledger.pair_tables
        ),
        (10, 11, 21)
    );
    let text = ledger_text(&trainer.finish().ledger.unwrap());
    assert!(
        text.contains("11 pairs of the target Is_Fraud (taken from its name: privacy.target_from_name) and a tree chosen by 10"),
        "{text}"
    );
    config.privacy.target_from_name = false;
    let trainer = Trainer::new(table, &config, &Device::flex()).unwrap();
    let checkpoint = trainer.checkpoint().unwrap();
    let ledger = &checkpoint.header.dp.as_ref().unwrap().preprocessing;
    assert!(ledger.targets.is_empty() && !ledger.targets_from_name);
    assert_eq!((ledger.target_pairs, ledger.pair_tables), (0, 66));
    // 17 columns: a tree of all 17, the name or not.
    let mut wide = copied_pairs_table(17, 3000);
    wide.columns[5].name = "Is_Fraud".into();
    let trainer = Trainer::new(wide, &pairs_config(3.0), &Device::flex()).unwrap();
    assert!(!trainer
        .preprocessing_warnings()
        .iter()
        .any(|n| n.text().contains("taken as the target")));
    let checkpoint = trainer.checkpoint().unwrap();
    let ledger = &checkpoint.header.dp.as_ref().unwrap().preprocessing;
    assert!(ledger.targets.is_empty() && !ledger.targets_from_name);
    assert_eq!((ledger.target_pairs, ledger.pair_tables), (0, 16));
}

#[test]
fn auto_measures_a_tree_and_the_targets_pairs_only_where_every_pair_is_noisy() {
    let _serial = crate::util::serial_flex();
    // 12 columns (66 pairs) on 1,500 rows. At epsilon 0.5 every pair's noise std per count is
    // far above 0.6 √rows: with x7 named, a tree over the other 11 columns (10 rounds) and x7's
    // 11 pairs; without a target, every pair (the target cannot be guessed). At epsilon 20
    // every pair is cheap: every pair, target or not.
    let table = copied_pairs_table(12, 1500);
    let mut config = pairs_config(0.5);
    let ledger_of = |config: &RunConfig| {
        let trainer = Trainer::new(table.clone(), config, &Device::flex()).unwrap();
        let checkpoint = trainer.checkpoint().unwrap();
        let dp = checkpoint.header.dp.as_ref().unwrap();
        let ledger = dp.preprocessing.clone();
        assert_eq!(dp.pairs.as_ref().unwrap().pairs.len(), ledger.pair_tables);
        let hint = trainer
            .preprocessing_warnings()
            .iter()
            .any(|n| n.text().contains("--target COLUMN"));
        (ledger, hint)
    };
    let (plain, hint) = ledger_of(&config);
    assert!(
        plain.all_pairs_noise_ratio > 0.6,
        "{}",
        plain.all_pairs_noise_ratio
    );
    assert_eq!((plain.selection_rounds, plain.pair_tables), (0, 66));
    assert!(hint, "the terminal names the flag that would help");
    config.privacy.targets = vec!["x7".into()];
    let (targeted, hint) = ledger_of(&config);
    assert!(!hint);
    assert_eq!(
        (
            targeted.selection_rounds,
            targeted.target_pairs,
            targeted.pair_tables
        ),
        (10, 11, 21)
    );
    // Fewer tables in the same mechanism: less noise on every count.
    assert!(
        targeted.count_noise_std < 0.75 * plain.count_noise_std,
        "{} against {}",
        targeted.count_noise_std,
        plain.count_noise_std
    );
    let mut cheap = pairs_config(20.0);
    cheap.privacy.targets = vec!["x7".into()];
    let (cheap, hint) = ledger_of(&cheap);
    assert!(!hint);
    assert!(
        cheap.all_pairs_noise_ratio < 0.6,
        "{}",
        cheap.all_pairs_noise_ratio
    );
    assert_eq!((cheap.selection_rounds, cheap.pair_tables), (0, 66));
}

/// A table of text columns `names` with `values`, its fitted transformer (default settings)
/// and its rows encoded with a fixed seed.
fn encoded_text_columns(
    names: &[&str],
    values: Vec<Vec<Option<String>>>,
) -> (DataTransformer, dpsynth::transform::EncodedTable) {
    encoded_columns(
        names,
        values
            .into_iter()
            .map(dpsynth::read::Values::Text)
            .collect(),
    )
}

/// [`encoded_text_columns`] for columns of any type.
fn encoded_columns(
    names: &[&str],
    values: Vec<dpsynth::read::Values>,
) -> (DataTransformer, dpsynth::transform::EncodedTable) {
    let mut table = dpsynth::read::Table {
        columns: names
            .iter()
            .zip(values)
            .map(|(name, values)| dpsynth::read::Column {
                name: name.to_string(),
                values,
                form: None,
            })
            .collect(),
    };
    let schema = Schema::infer(&mut table, &RunConfig::default()).unwrap();
    let transformer = DataTransformer::fit(&table, &schema, &TransformConfig::default()).unwrap();
    let encoded = transformer.transform(&table, &mut ChaCha8Rng::seed_from_u64(3));
    (transformer, encoded)
}

#[test]
fn a_wide_columns_chance_dependence_does_not_crowd_out_a_real_one() {
    // 3,000 rows: a yes/no target `y` (15% yes) that moves a yes/no plan `x` (38% against 30%),
    // and a 51-state column independent of both. By chance the state's tables are further
    // from independent than the real pair's, so a tree of the raw scores measures the two
    // state tables and never `x & y`; with the size offset the real pair is chosen.
    let rows = 3000;
    let mut rng = DpRng::from_seed(6);
    let mut state = Vec::new();
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..rows {
        let yes = rng.index(100) < 15;
        let plan = rng.index(100) < if yes { 38 } else { 30 };
        state.push(Some(format!("s{}", rng.index(51))));
        x.push(Some(if plan { "yes" } else { "no" }.to_string()));
        y.push(Some(if yes { "yes" } else { "no" }.to_string()));
    }
    let (transformer, encoded) = encoded_text_columns(&["state", "x", "y"], vec![state, x, y]);
    let layout = transformer.column_states();
    let counts = pair_counts(&layout, &encoded.rows);
    let states: Vec<usize> = layout.iter().map(|l| l.count()).collect();
    let raw: Vec<f64> = all_pairs(3)
        .iter()
        .zip(&counts)
        .map(|(&(_, b), t)| dpsynth::dp::marginals::dependence_score(t, states[b]))
        .collect();
    // (state, x), (state, y), (x, y): the real pair scores below both chance ones.
    assert!(raw[2] < raw[0] && raw[2] < raw[1], "{raw:?}");
    for seed in 0..5 {
        let mut rng = DpRng::from_seed(seed);
        let tree = select_tree(
            &layout,
            &encoded.rows,
            1.0,
            0,
            &[],
            &transformer.state_margins(),
            &[],
            &mut rng,
        );
        assert_eq!(tree.len(), 2);
        assert!(tree.contains(&(1, 2)), "seed {seed}: {tree:?}");
    }
}

#[test]
fn released_margins_choose_a_targets_real_pairs_more_often() {
    // 3,000 rows: a yes/no target `y` (15% yes) that moves two yes/no plans `x1`, `x2` (30%
    // against 40% and 45%), and three columns independent of everything (a 5-value code and
    // two yes/no flags). At a small round ε the table-margin score (sensitivity 4) often
    // joins the target by chance edges; against the released margins (sensitivity 2) the
    // target's two real pairs are chosen more often.
    let rows = 3000;
    let mut rng = DpRng::from_seed(11);
    let names = ["y", "x1", "x2", "code", "f1", "f2"];
    let mut values: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    let word = |b: bool| Some(if b { "yes" } else { "no" }.to_string());
    for _ in 0..rows {
        let yes = rng.index(100) < 15;
        values[0].push(word(yes));
        values[1].push(word(rng.index(100) < if yes { 40 } else { 30 }));
        values[2].push(word(rng.index(100) < if yes { 45 } else { 30 }));
        values[3].push(Some(format!("c{}", rng.index(5))));
        values[4].push(word(rng.index(100) < 50));
        values[5].push(word(rng.index(100) < 20));
    }
    let (transformer, encoded) = encoded_text_columns(&names, values);
    let layout = transformer.column_states();
    // A release of each column's counts with noise std 10, as preprocessing's histograms.
    let noise_std = 10.0;
    let mut noise = DpRng::from_seed(12);
    let released: Vec<Option<ReleasedMargin>> = transformer
        .state_margins()
        .into_iter()
        .map(|exact| {
            let noisy: Vec<f64> = exact
                .iter()
                .zip(noise.gaussian(exact.len(), noise_std))
                .map(|(p, e)| (p * rows as f64 + e).max(0.0))
                .collect();
            let total: f64 = noisy.iter().sum();
            let shares = noisy.iter().map(|v| v / total).collect();
            Some(ReleasedMargin { shares, noise_std })
        })
        .collect();
    let real_pairs_chosen = |released: &[Option<ReleasedMargin>]| -> usize {
        (0..100)
            .map(|seed| {
                let mut rng = DpRng::from_seed(100 + seed);
                let tree = select_tree(
                    &layout,
                    &encoded.rows,
                    0.1,
                    0,
                    released,
                    &transformer.state_margins(),
                    &[],
                    &mut rng,
                );
                assert_eq!(tree.len(), names.len() - 1);
                tree.iter().filter(|&&p| p == (0, 1) || p == (0, 2)).count()
            })
            .sum()
    };
    let (table_margins, released_margins) = (real_pairs_chosen(&[]), real_pairs_chosen(&released));
    assert!(
        released_margins >= table_margins + 20,
        "the target's two real pairs chosen {released_margins} times of 200 against released margins, {table_margins} against the table's"
    );
}

#[test]
fn a_rare_flags_real_pairs_are_chosen_once_the_offset_knows_the_shares() {
    // 20,000 rows: a 1% flag `y` whose rows take code c0 of each of four ten-value columns
    // `x1`-`x4` 60% of the time (10% otherwise), and four ten-value codes `u1`-`u4` independent
    // of everything: the fraud table's shape, a rare class that moves several columns that are
    // otherwise independent. The uniform table's chance offset of a 2 x 10 table (504) is above
    // a flag pair's real distance from independence (about 430), while a 10 x 10 table of two
    // independent codes scores within one deviation (about 150) of its own offset: the tree
    // joins the x's by chance pairs and the flag by one. Offset by what columns with the
    // released shares score by chance, mean and one deviation (about 90 for the flag's pairs),
    // the flag's four pairs are chosen: a star (68 of 80 edges over 20 seeds at a round ε of
    // 0.1, against 22 with the uniform table's offset).
    let rows = 20_000;
    let mut rng = DpRng::from_seed(21);
    let names = ["y", "x1", "x2", "x3", "x4", "u1", "u2", "u3", "u4"];
    let mut values: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    for _ in 0..rows {
        let yes = rng.index(100) < 1;
        values[0].push(Some(if yes { "yes" } else { "no" }.to_string()));
        for (c, column) in values[1..].iter_mut().enumerate() {
            let code = if c < 4 && yes && rng.index(100) < 60 {
                0
            } else {
                rng.index(10)
            };
            column.push(Some(format!("c{code}")));
        }
    }
    let (transformer, encoded) = encoded_text_columns(&names, values);
    let layout = transformer.column_states();
    let shares = transformer.state_margins();
    let star_edges = |shares: &[Vec<f64>]| -> usize {
        (0..20)
            .map(|seed| {
                let mut rng = DpRng::from_seed(300 + seed);
                let tree = select_tree(&layout, &encoded.rows, 0.1, 0, &[], shares, &[], &mut rng);
                assert_eq!(tree.len(), names.len() - 1);
                tree.iter()
                    .filter(|&&(a, b)| a == 0 && (1..=4).contains(&b))
                    .count()
            })
            .sum()
    };
    let (shape_only, with_shares) = (star_edges(&[]), star_edges(&shares));
    assert!(
        with_shares >= 60 && with_shares >= shape_only + 30,
        "the flag's real pairs chosen {with_shares} of 80 times with the shares' offset, {shape_only} with the shape's"
    );
}

#[test]
fn the_warm_start_copula_keeps_how_two_amounts_move_together() {
    // credit's Amount and Price: Pearson correlation 0.72 in the rows. Rows drawn from their
    // exact pair table of mixture modes keep little of it (values are drawn within modes on
    // their own); with the measured normal-score correlation the surrogate keeps it.
    let (table, transformer, encoded) = encoded_credit();
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let (a, b) = (
        names.iter().position(|&n| n == "Amount").unwrap(),
        names.iter().position(|&n| n == "Price").unwrap(),
    );
    let layout = transformer.column_states();
    let mut rng = DpRng::from_seed(1);
    let mut noisy = measure_pairs(&layout, &encoded.rows, Some(vec![(a, b)]), 0.0, &mut rng);
    let correlation = |t: &dpsynth::read::Table| -> f64 {
        let xs: Vec<(f64, f64)> = (0..t.n_rows())
            .filter_map(|i| {
                Some((
                    t.columns[a].values.number(i)?,
                    t.columns[b].values.number(i)?,
                ))
            })
            .collect();
        crate::util::pearson(&xs)
    };
    let real = correlation(&table);
    let drawn = |noisy: &NoisyPairs| -> f64 {
        let n = 20_000;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let rows =
            dpsynth::train::surrogate::surrogate_rows(&transformer, Some(noisy), n, 0, &mut rng);
        correlation(&transformer.inverse(&rows.rows.to_dense(), n, &mut rng))
    };
    let without = drawn(&noisy);
    let score = dpsynth::train::surrogate::normal_scorer(&transformer);
    noisy.copula =
        dpsynth::dp::copula::measure_copula(&encoded.rows, &[(a, b)], 1, &score, 0.0, &mut rng);
    let with = drawn(&noisy);
    eprintln!(
        "real {real:.3}, tree alone {without:.3}, with the copula {with:.3} ({:?})",
        noisy.copula
    );
    assert!((real - 0.72).abs() < 0.02, "{real}");
    assert!(
        (with - real).abs() < 0.1,
        "with the copula {with} vs real {real}"
    );
    assert!(with - without > 0.05, "with {with}, without {without}");
}

#[test]
fn the_warm_start_shift_keeps_how_a_category_moves_an_amount() {
    // credit's Status and Age: bad payers are 35.4 years old on average, good ones 37.7 (pandas
    // on the raw file). With one mixture mode per column (as a coarse DP-fitted mixture can
    // be), the pair table of modes carries nothing of that gap; with the measured per-category
    // score sums (no noise) the surrogate keeps it. (With credit's full mixtures the mode
    // tables already keep most of it: docs/quality.md.)
    let mut table = credit();
    let schema = Schema::infer(&mut table, &RunConfig::default()).unwrap();
    let settings = TransformConfig {
        max_modes: 1,
        ..TransformConfig::default()
    };
    let transformer = DataTransformer::fit(&table, &schema, &settings).unwrap();
    let encoded = transformer.transform(&table, &mut ChaCha8Rng::seed_from_u64(3));
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let (d, b) = (
        names.iter().position(|&n| n == "Status").unwrap(),
        names.iter().position(|&n| n == "Age").unwrap(),
    );
    let layout = transformer.column_states();
    let mut rng = DpRng::from_seed(1);
    let mut noisy = measure_pairs(&layout, &encoded.rows, Some(vec![(d, b)]), 0.0, &mut rng);
    let gap = |t: &dpsynth::read::Table| -> f64 {
        let mut sums = [(0.0, 0.0); 2];
        for i in 0..t.n_rows() {
            let (Some(status), Some(years)) =
                (t.columns[d].values.key(i), t.columns[b].values.number(i))
            else {
                continue;
            };
            let k = usize::from(status == "good");
            sums[k].0 += years;
            sums[k].1 += 1.0;
        }
        sums[1].0 / sums[1].1 - sums[0].0 / sums[0].1
    };
    let real = gap(&table);
    let drawn = |noisy: &NoisyPairs| -> f64 {
        let n = 40_000;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let rows =
            dpsynth::train::surrogate::surrogate_rows(&transformer, Some(noisy), n, 0, &mut rng);
        gap(&transformer.inverse(&rows.rows.to_dense(), n, &mut rng))
    };
    let without = drawn(&noisy);
    let score = dpsynth::train::surrogate::normal_scorer(&transformer);
    let counts: Vec<usize> = layout.iter().map(|l| l.count()).collect();
    let state = |c: usize, row: &[f32]| layout[c].state(row);
    noisy.shifts = dpsynth::dp::copula::measure_shifts(
        &encoded.rows,
        &[(d, b)],
        1,
        &counts,
        &state,
        &score,
        0.0,
        &mut rng,
    );
    let with = drawn(&noisy);
    eprintln!("real gap {real:.2} years, tree alone {without:.2}, with the shift {with:.2}");
    assert!((real - 2.33).abs() < 0.05, "{real}");
    assert!(without.abs() < 0.5, "one mode carries no gap: {without}");
    assert!(
        (with - real).abs() < 0.6,
        "with the shift {with} vs real {real}"
    );
}

/// The released file of a DP run of `config` on the CSV at `path` on burn-flex, as written
/// and read back.
fn released_file(path: &std::path::Path, config: &RunConfig) -> dpsynth::export::ModelFile {
    let table = dpsynth::read::read_training_table(path, config).unwrap().0;
    let trained = Trainer::new(table, config, &Device::flex())
        .unwrap()
        .finish();
    let file = dpsynth::export::ModelFile::from_training(trained, config);
    dpsynth::export::ModelFile::from_bytes(&file.to_bytes().unwrap(), path).unwrap()
}

/// `file`'s sampler on the host engine, calibrated, with the pair tables' weights where
/// `pairs`.
fn host_sampler(
    file: &dpsynth::export::ModelFile,
    pairs: bool,
) -> dpsynth::sample::GeneratorSampler {
    dpsynth::sample::GeneratorSampler::new(file, &Device::flex(), std::path::Path::new("memory"))
        .unwrap()
        .on_host()
        .calibrated_with(pairs)
}

/// The released normal-score correlation of columns `a < b` in `file` (`dp::copula`).
fn released_rho(file: &dpsynth::export::ModelFile, a: usize, b: usize) -> Option<f64> {
    let pairs = file.header.pairs.as_ref()?;
    pairs
        .copula
        .iter()
        .find(|((x, y), _)| (*x, *y) == (a, b))
        .map(|&(_, rho)| rho)
}

/// Sampled columns (missing as `None`) and the continuous pairs sampling set (parent, child).
type SampledColumns = (Vec<Vec<Option<f64>>>, Vec<(usize, usize)>);

/// `rows` rows of the columns `names` (missing as `None`) sampled from `file` on the host,
/// calibrated, with the pair tables' weights where `pairs`; and the continuous pairs sampling
/// set (parent, child).
fn sample_columns(
    file: &dpsynth::export::ModelFile,
    pairs: bool,
    rows: usize,
    names: &[&str],
) -> SampledColumns {
    let sampler = host_sampler(file, pairs);
    let edges = sampler
        .dependence_edges()
        .iter()
        .map(|&(p, c, _, _)| (p, c))
        .collect();
    let table = sampler.sample_stream(1, 0, rows);
    let columns = names
        .iter()
        .map(|name| {
            let c = table.columns.iter().find(|c| c.name == *name).unwrap();
            (0..rows).map(|r| c.values.number(r)).collect()
        })
        .collect();
    (columns, edges)
}

#[test]
fn sampling_keeps_rows_by_their_weight_towards_the_released_pair_tables() {
    let _serial = crate::util::serial_flex();
    // 3,000 rows where `team` decides `league` exactly (six teams, two per league), `shift` is
    // independent, `runs` a number. One DP epoch of a small model leaves the generator far
    // from that relation; the released pair tables hold it (noise aside), and rows weighed
    // towards them must break it far less often than rows drawn at the one-way shares only.
    let dir = crate::util::tempdir();
    let path = dir.path().join("teams.csv");
    let mut csv = String::from("team,league,shift,runs\n");
    for i in 0..3_000 {
        let team = i % 6;
        let league = ["north", "south", "west"][team / 2];
        csv += &format!("t{team},{league},s{},{}\n", (i * 7) % 3, (i * 13) % 90);
    }
    std::fs::write(&path, csv).unwrap();
    let config = RunConfig::from_toml(
        "[model]\nembedding_dim = 8\ngenerator_dims = [16]\ndiscriminator_dims = [16]\n\
         [train]\nepochs = 1\nbatch_size = 500\nseed = 4\n\
         [privacy]\nepsilon = 3.0\npair_marginals = true\npreprocess_share = 0.5\n\
         [privacy.columns.team]\ncategories = [\"t0\", \"t1\", \"t2\", \"t3\", \"t4\", \"t5\"]\n\
         [privacy.columns.league]\ncategories = [\"north\", \"south\", \"west\"]\n\
         [privacy.columns.shift]\ncategories = [\"s0\", \"s1\", \"s2\"]\n\
         [privacy.columns.runs]\nmin = 0\nmax = 100\ninteger = true\n",
        "test",
    )
    .unwrap();
    let file = released_file(&path, &config);
    // The tables travel in the released file (outputs of the charged mechanism); exact
    // tables never do.
    let pairs = file.header.pairs.as_ref().expect("the noisy pair tables");
    assert!(file.header.determined.is_none());
    assert_eq!(pairs.pairs.len(), 6);
    let mut conditional = Vec::new();
    let mut broken = |pair_weights: bool| -> (f64, Option<(usize, f64)>) {
        let sampler = host_sampler(&file, pair_weights);
        let rows = sampler.sample_stream(1, 0, 6_000);
        let (team, league) = (
            crate::util::keys(&rows, "team"),
            crate::util::keys(&rows, "league"),
        );
        let wrong = team
            .iter()
            .zip(&league)
            .filter(|(t, l)| {
                let t: usize = t.as_deref().unwrap()[1..].parse().unwrap();
                l.as_deref() != Some(["north", "south", "west"][t / 2])
            })
            .count();
        // Rows asked to have team t0 (league north) break it likewise.
        let asked = sampler.resolve_condition("team=t0").unwrap();
        let t0 = sampler
            .sample_table(1_000, Some(&asked), 200, &mut ChaCha8Rng::seed_from_u64(2))
            .unwrap();
        let north = crate::util::keys(&t0, "league")
            .iter()
            .filter(|l| l.as_deref() == Some("north"))
            .count();
        assert_eq!(crate::util::keys(&t0, "team").len(), 1_000);
        conditional.push(1.0 - north as f64 / 1_000.0);
        (wrong as f64 / 6_000.0, sampler.pair_weighting())
    };
    let (margins_only, none) = broken(false);
    let (weighed, weighting) = broken(true);
    assert!(none.is_none());
    let (tables, kept) = weighting.expect("weighed towards the pair tables");
    // The pairs of columns drawn at their shares (`runs` is a number without exact values).
    let discrete = pairs.pairs.iter().filter(|&&(a, b)| a < 3 && b < 3).count();
    assert_eq!(tables, discrete);
    assert!(kept > 0.05 && kept <= 1.0, "kept {kept}");
    eprintln!("relation broken in {margins_only:.3} of rows at the shares, {weighed:.3} weighed");
    assert!(
        margins_only > 0.2,
        "the one-epoch generator broke it in {margins_only}"
    );
    assert!(
        weighed < 0.5 * margins_only,
        "{weighed} against {margins_only}"
    );
    // League is a function of team, so sampling draws it from the released table's row for
    // the generated team (`sample::links`): the relation holds in nearly every row.
    assert!(weighed < 0.02, "{weighed}");
    eprintln!("asked for t0: league not north in {conditional:?}");
    assert!(conditional[1] < 0.5 * conditional[0], "{conditional:?}");
}

/// How many of `seeds` seeds' released tables of `encoded` (noise std `std` per count) give
/// each link, as `(parent, child)` counts.
fn links_over_seeds(
    transformer: &DataTransformer,
    encoded: &dpsynth::transform::EncodedTable,
    std: f64,
    seeds: u64,
) -> std::collections::BTreeMap<(usize, usize), usize> {
    let layout = transformer.column_states();
    let mut found = std::collections::BTreeMap::new();
    for seed in 0..seeds {
        let noisy = measure_pairs(
            &layout,
            &encoded.rows,
            None,
            std,
            &mut DpRng::from_seed(100 + seed),
        );
        let links = dpsynth::train::links::Links::find(&noisy, transformer, encoded.n_rows);
        for l in &links.links {
            *found.entry((l.parent, l.child)).or_insert(0) += 1;
        }
    }
    found
}

/// Column 1 linked from column 0 in at least 9 of 10 draws, and column 2 never linked.
fn column_1_follows_column_0_alone(found: &std::collections::BTreeMap<(usize, usize), usize>) {
    assert!(found.get(&(0, 1)).copied().unwrap_or(0) >= 9, "{found:?}");
    assert!(
        found.keys().all(|&(p, c)| p != 2 && c != 2),
        "the independent column was linked: {found:?}"
    );
}

#[test]
fn a_column_another_determines_is_found_only_where_the_released_table_shows_it() {
    // Birdstrikes' shape: 8,000 rows, 40 airports of uneven size, each in one of 12 states,
    // and a size class independent of both; its tables' noise (std 26.8 per count, ε 3).
    let rows = 8000;
    let mut rng = DpRng::from_seed(8);
    let (mut airport, mut state, mut size) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rows {
        // Airport a gets weight 1 + a % 7: 40 to 280 rows each.
        let mut pick = rng.index(160);
        let mut a = 0;
        while pick > a % 7 {
            pick -= 1 + a % 7;
            a += 1;
        }
        airport.push(Some(format!("a{a}")));
        state.push(Some(format!("s{}", (a * 5) % 12)));
        size.push(Some(["small", "medium", "large"][rng.index(3)].to_string()));
    }
    let (transformer, encoded) =
        encoded_text_columns(&["airport", "state", "size"], vec![airport, state, size]);
    let found = links_over_seeds(&transformer, &encoded, 26.8, 10);
    eprintln!("airports: {found:?}");
    column_1_follows_column_0_alone(&found);
    assert!(!found.contains_key(&(1, 0)), "a state names no airport");

    // Churn's shape: a count of voicemail messages, zero in 70% of 4,000 rows, and the plan,
    // yes exactly where the count is not zero; minutes independent of both. The count's
    // state (its zero or its body's modes) determines the plan.
    let mut rng = DpRng::from_seed(9);
    let (mut messages, mut plan, mut minutes) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..4000 {
        let m = if rng.index(10) < 7 {
            0.0
        } else {
            10.0 + rng.index(40) as f64
        };
        messages.push(Some(m));
        plan.push(Some(if m > 0.0 { "yes" } else { "no" }.to_string()));
        minutes.push(Some(100.0 + rng.index(200) as f64 + 0.5));
    }
    let (transformer, encoded) = encoded_columns(
        &["messages", "plan", "minutes"],
        vec![
            dpsynth::read::Values::Float(messages),
            dpsynth::read::Values::Text(plan),
            dpsynth::read::Values::Float(minutes),
        ],
    );
    let found = links_over_seeds(&transformer, &encoded, 26.8, 10);
    eprintln!("messages: {found:?}");
    column_1_follows_column_0_alone(&found);

    // Penguins' shape: 276 rows, where Gentoo live on Biscoe and Chinstrap on Dream only, but
    // Adelie on all three islands (λ of island given species 0.44), at penguins' noise (std
    // 23.9 per count). The loud cells alone look like a function; the whole table does not.
    let (mut species, mut island) = (Vec::new(), Vec::new());
    for i in 0..276 {
        let (s, isl) = match i % 25 {
            0..=10 => ("Adelie", ["Biscoe", "Dream", "Torgersen"][i % 3]),
            11..=19 => ("Gentoo", "Biscoe"),
            _ => ("Chinstrap", "Dream"),
        };
        species.push(Some(s.to_string()));
        island.push(Some(isl.to_string()));
    }
    let (transformer, encoded) =
        encoded_text_columns(&["species", "island"], vec![species, island]);
    let found = links_over_seeds(&transformer, &encoded, 23.9, 20);
    eprintln!("penguins: {found:?}");
    assert!(
        found.values().sum::<usize>() <= 2,
        "island taken as a function of species: {found:?}"
    );
}

#[test]
fn a_column_another_determines_is_found_beside_the_parents_other_slot() {
    // Football's shape: 5,200 rows, 60 teams of five leagues (12 each, 40 to 130 rows per
    // team), the league a function of the team, and the 20 smallest teams folded into one
    // "other" slot (max_categories 41), which holds about a fifth of the rows, spread over every
    // league. That slot's row of the table predicts no league (λ of league given team 0.83
    // with it), so λ is read from the named teams only, at football's ε 3 noise (std 12.5).
    let rows = 5200;
    let mut rng = DpRng::from_seed(12);
    let (mut team, mut league) = (Vec::new(), Vec::new());
    // Team t gets weight 40 + t: the largest teams are t 20..60.
    let total: usize = (0..60).map(|t| 40 + t).sum();
    for _ in 0..rows {
        let mut pick = rng.index(total);
        let mut t = 0;
        while pick >= 40 + t {
            pick -= 40 + t;
            t += 1;
        }
        team.push(Some(format!("team{t}")));
        league.push(Some(format!("league{}", t % 5)));
    }
    let mut table = dpsynth::read::Table {
        columns: [("team", team), ("league", league)]
            .into_iter()
            .map(|(name, values)| dpsynth::read::Column {
                name: name.to_string(),
                values: dpsynth::read::Values::Text(values),
                form: None,
            })
            .collect(),
    };
    let schema = Schema::infer(&mut table, &RunConfig::default()).unwrap();
    let config = TransformConfig {
        max_categories: 41,
        ..TransformConfig::default()
    };
    let transformer = DataTransformer::fit(&table, &schema, &config).unwrap();
    let encoded = transformer.transform(&table, &mut ChaCha8Rng::seed_from_u64(3));
    let layout = transformer.column_states();
    assert_eq!(layout[0].count(), 41, "40 named teams and the other slot");
    let found = links_over_seeds(&transformer, &encoded, 12.5, 10);
    eprintln!("teams beside other: {found:?}");
    assert!(found.get(&(0, 1)).copied().unwrap_or(0) >= 9, "{found:?}");
    assert!(!found.contains_key(&(1, 0)), "a league names no team");
    // The other slot's row is not drawn from: sampling keeps the generator's league there.
    // Exact tables (no noise): every named team's rows are set to its league.
    let exact = measure_pairs(&layout, &encoded.rows, None, 0.0, &mut DpRng::from_seed(0));
    let links = dpsynth::train::links::Links::find(&exact, &transformer, rows);
    assert_eq!(links.links.len(), 1);
    let dim = transformer.output_dim();
    let mut activated = vec![0.0f32; dim * 2];
    // Row 0: the other slot (state 40) with league state 0; row 1: a named team, league 0.
    let (team_states, league_states) = (layout[0], layout[1]);
    activated[team_states.offset + 40] = 1.0;
    activated[league_states.offset] = 1.0;
    activated[dim + team_states.offset] = 1.0;
    activated[dim + league_states.offset] = 1.0;
    let (mut kept_for_other, mut named_leagues) = (0, std::collections::BTreeSet::new());
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..200 {
        let mut rows = activated.clone();
        links.apply(&mut rows, 2, dim, &mut rng);
        kept_for_other += usize::from(league_states.state(&rows[..dim]) == 0);
        named_leagues.insert(league_states.state(&rows[dim..]));
    }
    assert_eq!(kept_for_other, 200, "the other slot's league was redrawn");
    // A named team's league is drawn from its row: always the one league it plays in.
    assert_eq!(named_leagues.len(), 1, "{named_leagues:?}");
}

#[test]
fn a_second_team_is_kept_in_the_league_drawn_from_the_first() {
    // Football's matches: 6,000 rows of a home and an away team of the same league (30 teams,
    // five leagues of six). The league is a function of either team; one link draws it from one
    // team, and the generator's other team, drawn apart, may play in another league (stop 57:
    // football's league-home pairs 0.44 with the league drawn from the away team). The second
    // team is a second parent: where it has no loud cell at the drawn league, it is drawn again
    // from the table's column for that league; a consistent row keeps its team.
    let rows = 6000;
    let mut rng = DpRng::from_seed(21);
    let (mut home, mut away, mut league) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rows {
        let h = rng.index(30);
        let a = (h / 6) * 6 + (h % 6 + 1 + rng.index(5)) % 6;
        home.push(Some(format!("team{h}")));
        away.push(Some(format!("team{a}")));
        league.push(Some(format!("league{}", h / 6)));
    }
    let (transformer, encoded) =
        encoded_text_columns(&["home", "away", "league"], vec![home, away, league]);
    let layout = transformer.column_states();
    // The state of a team and of a league, by name.
    let state = |col: usize, name: &str| -> usize {
        let Encoder::Discrete(d) = &transformer.encoders[col] else {
            panic!("discrete")
        };
        d.slots
            .iter()
            .position(|s| matches!(s, Slot::Value(c) if c == name))
            .unwrap()
    };
    let team_league = |col: usize, s: usize| -> usize {
        (0..30)
            .find(|&t| state(col, &format!("team{t}")) == s)
            .map(|t| t / 6)
            .unwrap()
    };
    let league_of = |s: usize| {
        (0..5)
            .find(|&l| state(2, &format!("league{l}")) == s)
            .unwrap()
    };
    // Under the noise of football's ε 3 (std 12.5), in most draws: one link and one second
    // parent, the two teams.
    let mut found = 0;
    for seed in 0..10 {
        let noisy = measure_pairs(
            &layout,
            &encoded.rows,
            None,
            12.5,
            &mut DpRng::from_seed(200 + seed),
        );
        let links = dpsynth::train::links::Links::find(&noisy, &transformer, rows);
        let teams = |p: usize| p == 0 || p == 1;
        found += usize::from(
            links.links.len() == 1
                && links.links[0].child == 2
                && teams(links.links[0].parent)
                && links.co_parents.len() == 1
                && links.co_parents[0].child == 2
                && teams(links.co_parents[0].parent)
                && links.co_parents[0].parent != links.links[0].parent,
        );
    }
    assert!(
        found >= 9,
        "a link and a second parent in {found} of 10 draws"
    );
    // Exact tables: rows of two teams of different leagues come back in one league, and a row
    // whose teams agree keeps both.
    let exact = measure_pairs(&layout, &encoded.rows, None, 0.0, &mut DpRng::from_seed(0));
    let links = dpsynth::train::links::Links::find(&exact, &transformer, rows);
    assert_eq!((links.links.len(), links.co_parents.len()), (1, 1));
    let dim = transformer.output_dim();
    let (h, a, l) = (layout[0], layout[1], layout[2]);
    let mut activated = vec![0.0f32; dim * 2];
    // Row 0: team0 (league 0) at home, team7 (league 1) away. Row 1: team12 and team13.
    activated[h.offset + state(0, "team0")] = 1.0;
    activated[a.offset + state(1, "team7")] = 1.0;
    activated[l.offset] = 1.0;
    activated[dim + h.offset + state(0, "team12")] = 1.0;
    activated[dim + a.offset + state(1, "team13")] = 1.0;
    activated[dim + l.offset] = 1.0;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut redrawn = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let mut out = activated.clone();
        links.apply(&mut out, 2, dim, &mut rng);
        for r in 0..2 {
            let row = &out[r * dim..(r + 1) * dim];
            let (hs, as_, ls) = (h.state(row), a.state(row), l.state(row));
            let lg = league_of(ls);
            assert_eq!(
                team_league(0, hs),
                lg,
                "row {r}: home team out of its league"
            );
            assert_eq!(
                team_league(1, as_),
                lg,
                "row {r}: away team out of its league"
            );
        }
        let second = &out[dim..];
        assert_eq!(
            (h.state(second), a.state(second)),
            (state(0, "team12"), state(1, "team13")),
            "a consistent row lost its teams"
        );
        let first = &out[..dim];
        let co = links.co_parents[0].parent;
        redrawn.insert(layout[co].state(first));
    }
    // The redrawn team is drawn from the league's column, not fixed: several teams.
    assert!(redrawn.len() >= 3, "{redrawn:?}");
}

#[test]
fn an_id_column_determines_nothing() {
    // 300 rows: an id of one row each predicts every other column perfectly (λ 1) and says
    // nothing; counted exactly (a run without DP), it must not become a parent, while the
    // real map beside it (a code and its label) is found.
    let mut rng = DpRng::from_seed(4);
    let (mut id, mut code, mut label, mut noise) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..300 {
        let c = rng.index(4);
        id.push(Some(format!("row{i}")));
        code.push(Some(format!("c{c}")));
        label.push(Some(["north", "south", "east", "west"][c].to_string()));
        noise.push(Some(format!("n{}", rng.index(3))));
    }
    let (transformer, encoded) = encoded_text_columns(
        &["id", "code", "label", "noise"],
        vec![id, code, label, noise],
    );
    let exact = dpsynth::train::links::exact_determined(&transformer, &encoded.rows)
        .expect("the code and its label");
    let links = dpsynth::train::links::Links::find(&exact, &transformer, 300);
    let found: Vec<(usize, usize)> = links.links.iter().map(|l| (l.parent, l.child)).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0] == (1, 2) || found[0] == (2, 1), "{found:?}");
}

#[test]
fn sampling_sets_a_continuous_pairs_released_correlation() {
    let _serial = crate::util::serial_flex();
    // Churn's shape: 3,000 rows where `charge` is `minutes` times a rate (r 1.00), `calls` is
    // independent of both, and a yes/no plan. One DP epoch of a small model draws each
    // continuous column from its own output, so the pair comes back far weaker; the released
    // normal-score correlation (`dp::copula`, in the charged mechanism) holds it, and
    // sampling must move the charge to it while keeping the charge's own distribution and
    // leaving the independent column alone.
    let dir = crate::util::tempdir();
    let path = dir.path().join("calls.csv");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut csv = String::from("plan,minutes,charge,calls\n");
    for _ in 0..3_000 {
        let minutes: f64 = 180.0
            + 50.0 * rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, &mut rng);
        let minutes = minutes.clamp(0.0, 350.0);
        let calls = rand::Rng::random_range(&mut rng, 40..160);
        let plan = if rand::Rng::random_bool(&mut rng, 0.3) {
            "yes"
        } else {
            "no"
        };
        csv += &format!("{plan},{minutes:.1},{:.2},{calls}\n", minutes * 0.17);
    }
    std::fs::write(&path, csv).unwrap();
    let config = RunConfig::from_toml(
        "[model]\nembedding_dim = 8\ngenerator_dims = [16]\ndiscriminator_dims = [16]\n\
         [train]\nepochs = 1\nbatch_size = 500\nseed = 4\n\
         [privacy]\nepsilon = 3.0\npair_marginals = true\npreprocess_share = 0.5\n\
         copula = true\nwarm_start_epochs = 1\n\
         [privacy.columns.plan]\ncategories = [\"no\", \"yes\"]\n\
         [privacy.columns.minutes]\nmin = 0\nmax = 400\n\
         [privacy.columns.charge]\nmin = 0\nmax = 70\n\
         [privacy.columns.calls]\nmin = 0\nmax = 200\ninteger = true\n",
        "test",
    )
    .unwrap();
    let file = released_file(&path, &config);
    let released = released_rho(&file, 1, 2).expect("minutes and charge measured on the tree");
    assert!(released > 0.9, "released {released}");
    let sample = |pairs: bool| {
        let (mut c, edges) = sample_columns(&file, pairs, 6_000, &["minutes", "charge", "calls"]);
        let mut take = || -> Vec<f64> { c.remove(0).into_iter().map(Option::unwrap).collect() };
        (take(), take(), take(), edges)
    };
    let r = |a: &[f64], b: &[f64]| -> f64 {
        let xy: Vec<(f64, f64)> = a.iter().copied().zip(b.iter().copied()).collect();
        crate::util::pearson(&xy)
    };
    let (m0, c0, k0, none) = sample(false);
    let (m1, c1, k1, edges) = sample(true);
    let (before, after) = (r(&m0, &c0), r(&m1, &c1));
    eprintln!(
        "released {released:.3}; minutes-charge r {before:.3} at the margins, {after:.3} set; calls {:.3} / {:.3}",
        r(&m0, &k0),
        r(&m1, &k1)
    );
    assert!(none.is_empty());
    // (An edge from minutes to calls may be set too, towards its released ρ near 0.)
    assert!(edges.contains(&(1, 2)), "{edges:?}");
    assert!(before < 0.8, "the one-epoch generator gave r {before}");
    assert!(after > 0.9, "r {after} against the released {released}");
    assert!(r(&m1, &k1).abs() < 0.1, "calls moved with minutes");
    // The charge keeps its distribution: deciles of the two samples within 1.5% of the range.
    let decile = |v: &[f64], q: f64| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s[(q * (s.len() - 1) as f64) as usize]
    };
    for q in [0.1, 0.25, 0.5, 0.75, 0.9] {
        let (a, b) = (decile(&c0, q), decile(&c1, q));
        assert!((a - b).abs() < 1.5, "charge quantile {q}: {a} against {b}");
    }
}

#[test]
fn a_continuous_pair_with_missing_values_is_set_on_the_rows_holding_both() {
    let _serial = crate::util::serial_flex();
    // SLID's shape: 3,000 rows where `wage` follows `age` (r about 0.9 where both are there)
    // but is missing in about half the rows, mostly the youngest and oldest. A missing value
    // scores 0 in the released correlation, which is then about half the rows' own: sampling
    // must undo that, set the pair on the rows holding both (far under 90% of them), and
    // leave the age of the rows without a wage where it was.
    let dir = crate::util::tempdir();
    let path = dir.path().join("wages.csv");
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut csv = String::from("sex,wage,age\n");
    for _ in 0..3_000 {
        let age: f64 = 20.0 + rand::Rng::random_range(&mut rng, 0.0..45.0);
        let noise: f64 =
            rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, &mut rng);
        let wage = 5.0 + 0.4 * age + 2.0 * noise;
        let missing_share = if !(28.0..55.0).contains(&age) {
            0.85
        } else {
            0.3
        };
        let sex = if rand::Rng::random_bool(&mut rng, 0.5) {
            "f"
        } else {
            "m"
        };
        if rand::Rng::random_bool(&mut rng, missing_share) {
            csv += &format!("{sex},,{age:.1}\n");
        } else {
            csv += &format!("{sex},{wage:.2},{age:.1}\n");
        }
    }
    std::fs::write(&path, csv).unwrap();
    let config = RunConfig::from_toml(
        "[model]\nembedding_dim = 8\ngenerator_dims = [16]\ndiscriminator_dims = [16]\n\
         [train]\nepochs = 1\nbatch_size = 500\nseed = 4\n\
         [privacy]\nepsilon = 3.0\npair_marginals = true\npreprocess_share = 0.5\n\
         copula = true\nwarm_start_epochs = 1\n\
         [privacy.columns.sex]\ncategories = [\"f\", \"m\"]\n\
         [privacy.columns.wage]\nmin = 0\nmax = 60\nnullable = true\n\
         [privacy.columns.age]\nmin = 15\nmax = 70\n",
        "test",
    )
    .unwrap();
    let file = released_file(&path, &config);
    let released = released_rho(&file, 1, 2).expect("wage and age measured on the tree");
    let sample = |pairs: bool| {
        let (mut c, edges) = sample_columns(&file, pairs, 8_000, &["wage", "age"]);
        let age = c.pop().unwrap();
        (c.pop().unwrap(), age, edges)
    };
    let (w0, a0, none) = sample(false);
    let (w1, a1, edges) = sample(true);
    let both = |w: &[Option<f64>], a: &[Option<f64>]| -> Vec<(f64, f64)> {
        w.iter()
            .zip(a)
            .filter_map(|(w, a)| Some(((*w)?, (*a)?)))
            .collect()
    };
    let (before, after) = (
        crate::util::pearson(&both(&w0, &a0)),
        crate::util::pearson(&both(&w1, &a1)),
    );
    // The mean age of the rows without a wage, and of all rows.
    let mean_age = |w: &[Option<f64>], a: &[Option<f64>], missing: bool| {
        let ages: Vec<f64> = w
            .iter()
            .zip(a)
            .filter(|(w, _)| w.is_none() == missing || !missing)
            .filter_map(|(_, a)| *a)
            .collect();
        ages.iter().sum::<f64>() / ages.len() as f64
    };
    let missing = w1.iter().filter(|w| w.is_none()).count() as f64 / 8_000.0;
    eprintln!(
        "released {released:.3}; wage-age r {before:.3} at the margins, {after:.3} set; \
         missing share {missing:.2}; age of rows without a wage {:.2} / {:.2}, of all {:.2} / {:.2}",
        mean_age(&w0, &a0, true),
        mean_age(&w1, &a1, true),
        mean_age(&w0, &a0, false),
        mean_age(&w1, &a1, false),
    );
    assert!(none.is_empty());
    assert!(
        missing > 0.3,
        "the wage is missing in {missing:.2} of the rows"
    );
    assert!(
        edges.contains(&(1, 2)) || edges.contains(&(2, 1)),
        "{edges:?}"
    );
    assert!(
        released < 0.7,
        "released {released}: the missing rows score 0"
    );
    assert!(before < 0.6, "the one-epoch generator gave r {before}");
    // The released ρ, over the rows holding both: about ρ / √(share holding a wage) where the
    // generator keeps no relation between a missing wage and the age.
    let expected = released / (1.0 - missing).sqrt();
    assert!(
        (after - expected).abs() < 0.1,
        "r {after} against the released {released} ({expected:.3} on the rows holding both)"
    );
    // The age of the rows without a wage, and of all rows, stay where they were.
    assert!((mean_age(&w0, &a0, true) - mean_age(&w1, &a1, true)).abs() < 1.0);
    assert!((mean_age(&w0, &a0, false) - mean_age(&w1, &a1, false)).abs() < 0.5);
}

#[test]
fn a_pair_of_amounts_with_many_zeros_is_set_points_and_all() {
    let _serial = crate::util::serial_flex();
    // Treatment's earnings: two years' earnings, each zero in about 60% of the rows (mostly
    // the same rows), log-normal otherwise and moving together. Discovery puts each zero on an
    // exact point; the released normal-score correlation scores the zeros too, so sampling must
    // take the pair through each column's mixed scale (points and free values), not only the
    // rows free in both, and keep each column's share of zeros.
    let dir = crate::util::tempdir();
    let path = dir.path().join("earnings.csv");
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut csv = String::from("group,earn74,earn75\n");
    let normal = |rng: &mut ChaCha8Rng| {
        rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, rng)
    };
    for i in 0..4_000 {
        let a = normal(&mut rng);
        let b = 0.9 * a + 0.44 * normal(&mut rng);
        let earn = |z: f64| {
            if z < 0.25 {
                0.0
            } else {
                (9.0 + 0.8 * z).exp().round()
            }
        };
        csv += &format!("g{},{},{}\n", i % 3, earn(a), earn(b));
    }
    std::fs::write(&path, csv).unwrap();
    let overlay = dir.path().join("small.toml");
    std::fs::write(
        &overlay,
        "[model]\nembedding_dim = 8\ngenerator_dims = [16]\ndiscriminator_dims = [16]\n\
         [train]\nepochs = 1\nbatch_size = 500\nseed = 4\n\
         [privacy]\nepsilon = 3.0\nwarm_start_epochs = 1\n",
    )
    .unwrap();
    let config = RunConfig::discover_preset(Some(&overlay)).unwrap();
    let file = released_file(&path, &config);
    let released = released_rho(&file, 1, 2).expect("the two years measured on the tree");
    let sample = |pairs: bool| {
        let (c, edges) = sample_columns(&file, pairs, 8_000, &["earn74", "earn75"]);
        let mut c = c
            .into_iter()
            .map(|v| v.into_iter().map(Option::unwrap).collect::<Vec<f64>>());
        (c.next().unwrap(), c.next().unwrap(), edges)
    };
    // Ranks, ties at their mean rank.
    let ranks = |v: &[f64]| -> Vec<f64> {
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < order.len() {
            let run = order[i..]
                .iter()
                .take_while(|&&k| v[k] == v[order[i]])
                .count();
            for &k in &order[i..i + run] {
                r[k] = i as f64 + (run as f64 - 1.0) / 2.0;
            }
            i += run;
        }
        r
    };
    // Normal scores of the mean ranks, as the release scores a value (its mixture's cdf,
    // halfway through a point's share).
    let spearman = |a: &[f64], b: &[f64]| {
        let n = a.len() as f64;
        let z = |r: f64| dpsynth::transform::continuous::normal_quantile((r + 0.5) / n);
        let xy: Vec<(f64, f64)> = ranks(a)
            .into_iter()
            .zip(ranks(b))
            .map(|(x, y)| (z(x), z(y)))
            .collect();
        crate::util::pearson(&xy)
    };
    let zeros = |v: &[f64]| v.iter().filter(|&&x| x == 0.0).count() as f64 / v.len() as f64;
    let (a0, b0, none) = sample(false);
    let (a1, b1, edges) = sample(true);
    let (before, after) = (spearman(&a0, &b0), spearman(&a1, &b1));
    eprintln!(
        "released {released:.3}; normal scores {before:.3} at the margins, {after:.3} set; \
         zeros {:.3} / {:.3} and {:.3} / {:.3}; edges {edges:?}",
        zeros(&a0),
        zeros(&a1),
        zeros(&b0),
        zeros(&b1)
    );
    assert!(none.is_empty());
    assert!(zeros(&a0) > 0.2 && zeros(&b0) > 0.2, "the zeros are points");
    assert!(
        edges.contains(&(1, 2)) || edges.contains(&(2, 1)),
        "{edges:?}"
    );
    assert!(
        after > before + 0.15,
        "normal scores {before:.3} -> {after:.3}"
    );
    assert!(
        (after - released).abs() < 0.05,
        "{after:.3} against {released:.3}"
    );
    // Each column keeps its share of zeros.
    assert!((zeros(&a0) - zeros(&a1)).abs() < 0.02);
    assert!((zeros(&b0) - zeros(&b1)).abs() < 0.02);
}

/// A table where a rare flag follows a grade (yes in half the rows of grade D, in 1% of the
/// others) beside an independent column, its exact pair tables, and a generator's rows that
/// miss the flag's dependence (every column drawn on its own at its one-way shares).
fn flag_and_grade() -> (DataTransformer, NoisyPairs, Vec<f32>, Vec<f32>, usize) {
    flag_and_grade_beside(false)
}

/// [`flag_and_grade`], with a fourth column holding one value in every row where `constant`.
fn flag_and_grade_beside(
    constant: bool,
) -> (DataTransformer, NoisyPairs, Vec<f32>, Vec<f32>, usize) {
    use dpsynth::read::{Column, Table, Values};
    use rand::Rng;
    let n = 20_000;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut grade, mut flag, mut other) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let g = rng.random_range(0..4usize);
        let p = if g == 3 { 0.5 } else { 0.01 };
        grade.push(Some(["A", "B", "C", "D"][g].to_string()));
        flag.push(Some(
            if rng.random::<f64>() < p { "yes" } else { "no" }.to_string(),
        ));
        other.push(Some(
            ["x", "y", "z"][rng.random_range(0..3usize)].to_string(),
        ));
    }
    let mut table = Table {
        columns: vec![
            Column::new("grade", Values::Text(grade)),
            Column::new("flag", Values::Text(flag)),
            Column::new("other", Values::Text(other)),
        ],
    };
    if constant {
        table.columns.push(Column::new(
            "country",
            Values::Text(vec![Some("NZ".to_string()); n]),
        ));
    }
    let schema = Schema::infer(&mut table, &RunConfig::default()).unwrap();
    let transformer = DataTransformer::fit(&table, &schema, &TransformConfig::default()).unwrap();
    let encoded = transformer.transform(&table, &mut ChaCha8Rng::seed_from_u64(3));
    let layout = transformer.column_states();
    // Exact tables (noise 0) of every pair.
    let pairs = measure_pairs(&layout, &encoded.rows, None, 0.0, &mut DpRng::from_seed(0));
    let real = encoded.rows.to_dense();
    let independent = transformer
        .sample_independent(n, &mut ChaCha8Rng::seed_from_u64(5))
        .rows
        .to_dense();
    (transformer, pairs, real, independent, n)
}

/// Share of rows with `flag` yes among the rows of each grade, read from encoded rows.
fn flag_share_by_grade(transformer: &DataTransformer, rows: &[f32], n: usize) -> Vec<f64> {
    let layout = transformer.column_states();
    let dim = transformer.output_dim();
    let slot = |c: usize, key: &str| match &transformer.encoders[c] {
        Encoder::Discrete(d) => d.slot_of(key).unwrap(),
        Encoder::Continuous(_) => unreachable!(),
    };
    let yes = slot(1, "yes");
    ["A", "B", "C", "D"]
        .iter()
        .map(|g| {
            let g = slot(0, g);
            let (mut all, mut hits) = (0.0, 0.0);
            for row in rows.chunks_exact(dim).take(n) {
                if layout[0].state(row) == g {
                    all += 1.0;
                    if layout[1].state(row) == yes {
                        hits += 1.0;
                    }
                }
            }
            hits / all
        })
        .collect()
}

/// The columns of `n` encoded `rows` that sampling draws again from `pairs` (every column
/// drawn at its shares, none held), drawn in `rows` too (seeded).
fn redraws_of(
    transformer: &DataTransformer,
    pairs: &NoisyPairs,
    rows: &mut [f32],
    n: usize,
) -> dpsynth::train::redraw::Redraws {
    redraws_holding(transformer, pairs, rows, n, |_| false)
}

/// [`redraws_of`], with `held` naming the columns drawn otherwise (a link's, an indicator
/// group's).
fn redraws_holding(
    transformer: &DataTransformer,
    pairs: &NoisyPairs,
    rows: &mut [f32],
    n: usize,
    held: impl Fn(usize) -> bool,
) -> dpsynth::train::redraw::Redraws {
    let k = transformer.encoders.len();
    dpsynth::train::redraw::Redraws::fit(
        pairs,
        transformer,
        n,
        rows,
        n,
        transformer.output_dim(),
        &vec![true; k],
        &vec![(false, false); k],
        held,
        &mut ChaCha8Rng::seed_from_u64(7),
    )
}

#[test]
fn a_column_with_every_pair_released_is_drawn_again_under_the_noise_floor() {
    // The same rows and exact tables, read as if measured with noise std 800 a count (4% of
    // 20,000 rows): a trial draw brings the pilot's distance down by about 0.02, under twice
    // the claimed noise (0.045 over the flag's two tables, 0.026 over one). Where every pair with the column is released the draw is
    // made anyway (txhousing's city, docs/quality.md, stop 65); where some are not (a tree's
    // column) the floor stands.
    let (transformer, mut pairs, _, independent, n) = flag_and_grade();
    pairs.noise_std = 800.0;
    let fit = |pairs: &NoisyPairs, rows: &mut [f32]| redraws_of(&transformer, pairs, rows, n);
    let mut rows = independent.clone();
    let redraws = fit(&pairs, &mut rows);
    let drawn: Vec<usize> = redraws.redraws.iter().map(|r| r.column).collect();
    assert!(
        drawn == [0] || drawn == [1],
        "{}",
        redraws.describe(&transformer)
    );
    // The flag follows the grade again (0.5 in D, 0.01 elsewhere; 0.13 in every grade
    // before), flattened by the cells' smoothing at this claimed noise (half a count's std).
    let after = flag_share_by_grade(&transformer, &rows, n);
    assert!(
        after[3] > 0.35 && after[..3].iter().all(|&s| s < 0.1),
        "{after:?}"
    );
    // Only the grade-flag table released (a tree of two columns beside a third): each
    // column misses a pair, and at this noise nothing is drawn.
    let keep = pairs.pairs.iter().position(|&p| p == (0, 1)).unwrap();
    let tree = NoisyPairs {
        pairs: vec![(0, 1)],
        tables: vec![pairs.tables[keep].clone()],
        ..pairs.clone()
    };
    let mut rows = independent.clone();
    let redraws = fit(&tree, &mut rows);
    assert!(redraws.is_empty(), "{}", redraws.describe(&transformer));
    assert_eq!(rows, independent);
}

#[test]
fn a_column_reads_held_columns_and_a_constant_does_not_keep_it_under_the_floor() {
    // A constant fourth column has no table worth reading: the flag's pairs with every column
    // of two states are released, so at a claimed noise of 800 a count it is drawn as it is
    // without the constant (the previous test), where "every other column" once counted the
    // constant and kept the floor (ACTG175's `cens`, a named target beside 24 columns, one of
    // them constant: docs/quality.md, stop 67).
    let (transformer, mut pairs, _, independent, n) = flag_and_grade_beside(true);
    assert_eq!(transformer.column_states()[3].count(), 1);
    pairs.noise_std = 800.0;
    let mut rows = independent.clone();
    let redraws = redraws_of(&transformer, &pairs, &mut rows, n);
    let drawn: Vec<usize> = redraws.redraws.iter().map(|r| r.column).collect();
    assert!(
        drawn == [0] || drawn == [1],
        "{}",
        redraws.describe(&transformer)
    );
    // A column drawn otherwise (the grade, as a link's parent) is not drawn again but is
    // read: with exact tables the flag follows the grade again. Not reading it, the flag had
    // only `other` to go on and kept the generator's states.
    pairs.noise_std = 0.0;
    let mut rows = independent.clone();
    let redraws = redraws_holding(&transformer, &pairs, &mut rows, n, |c| c == 0);
    let drawn: Vec<usize> = redraws.redraws.iter().map(|r| r.column).collect();
    assert_eq!(drawn, [1], "{}", redraws.describe(&transformer));
    let after = flag_share_by_grade(&transformer, &rows, n);
    for (g, &s) in after.iter().enumerate() {
        let want = if g == 3 { 0.5 } else { 0.01 };
        assert!((s - want).abs() < 0.03, "grade {g}: {s}: {after:?}");
    }
}

#[test]
fn a_column_the_generator_misses_is_drawn_again_from_its_released_tables() {
    let (transformer, pairs, real, mut independent, n) = flag_and_grade();
    let dim = transformer.output_dim();
    let fit = |rows: &mut [f32]| redraws_of(&transformer, &pairs, rows, n);
    // Rows that hold the tables already (the table's own) keep every column.
    let mut own = real.clone();
    assert!(fit(&mut own).is_empty());
    assert_eq!(own, real);
    // Rows whose flag ignores the grade: the flag (or the grade, from the flag) is drawn
    // again, never `other`, whose tables the independent rows hold.
    let before = flag_share_by_grade(&transformer, &independent, n);
    assert!(
        before.iter().all(|&s| (s - 0.13).abs() < 0.03),
        "{before:?}"
    );
    let redraws = fit(&mut independent);
    let drawn: Vec<usize> = redraws.redraws.iter().map(|r| r.column).collect();
    assert_eq!(drawn.len(), 1, "{}", redraws.describe(&transformer));
    assert!(drawn[0] == 0 || drawn[0] == 1);
    // The flag now follows the grade as in the table that generated the rows (0.5 in D,
    // 0.01 elsewhere), within sampling error.
    let after = flag_share_by_grade(&transformer, &independent, n);
    for (g, &s) in after.iter().enumerate() {
        let want = if g == 3 { 0.5 } else { 0.01 };
        assert!(
            (s - want).abs() < 0.03,
            "grade {g}: {s} against {want}: {after:?}"
        );
    }
    // And the rows drawn at sampling from the same fit do the same.
    let mut fresh = transformer
        .sample_independent(n, &mut ChaCha8Rng::seed_from_u64(9))
        .rows
        .to_dense();
    redraws.apply(&mut fresh, n, dim, &mut ChaCha8Rng::seed_from_u64(13));
    let sampled = flag_share_by_grade(&transformer, &fresh, n);
    for (g, &s) in sampled.iter().enumerate() {
        let want = if g == 3 { 0.5 } else { 0.01 };
        assert!(
            (s - want).abs() < 0.03,
            "grade {g}: {s} against {want}: {sampled:?}"
        );
    }
}
