//! The host engine's hand-written passes against burn's autodiff on the same networks, the
//! same credit_data rows and the same random draws: losses, every parameter gradient,
//! BatchNorm's running statistics, and two Adam updates against burn's Adam.
//!
//! burn-ndarray, not flex: a backend's random generator is shared by every test thread, and
//! tests/dp_training.rs needs flex's to be its own.

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor};
use dpsynth::config::RunConfig;
use dpsynth::dp::marginals::{all_pairs, NoisyPairs};
use dpsynth::model::discriminator::gradient_penalty;
use dpsynth::model::host::output::{activate as host_activate, gumbel_noise};
use dpsynth::model::host::{Adam, AdamSettings, HostCritic, HostGenerator, Mat};
use dpsynth::model::{
    activate, condition_loss, matrix, to_host, DiscriminatorConfig, GeneratorConfig, Gumbel,
};
use dpsynth::sampler::ConditionSampler;
use dpsynth::schema::Schema;
use dpsynth::train::correlations::CorrelationTarget;
use dpsynth::train::host::{critic_gradients, generator_gradients};
use dpsynth::train::pairs::PairTarget;
use dpsynth::transform::{DataTransformer, SparseRows};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

const BATCH: usize = 40;
const PAC: usize = 4;
const SLOPE: f32 = 0.2;
const TAU: f32 = 0.2;
const LAMBDA: f32 = 10.0;

struct Setup {
    transformer: DataTransformer,
    encoded: Mat,
    /// The same rows, sparse.
    sparse: SparseRows,
    cond: Mat,
    gen_config: GeneratorConfig,
    disc_config: DiscriminatorConfig,
    rng: ChaCha8Rng,
}

fn setup() -> Setup {
    let mut table = crate::util::credit();
    let config = RunConfig::default();
    let schema = Schema::infer(&mut table, &config).expect("credit's schema");
    let transformer =
        DataTransformer::fit(&table, &schema, &config.transform).expect("the transformer fits");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let encoded = transformer.transform(&table, &mut rng);
    let conditions = ConditionSampler::new(&transformer.discrete_encoders());
    assert!(conditions.dim() > 0, "credit_data has discrete columns");
    let c = conditions.sample_train(BATCH, true, &mut rng).unwrap();
    let cond = Mat::from_vec(BATCH, conditions.dim(), conditions.one_hot(&c));
    let gen_config = GeneratorConfig {
        embedding_dim: 16,
        condition_dim: conditions.dim(),
        hidden: vec![32, 24],
        data_dim: encoded.dim,
    };
    let disc_config = DiscriminatorConfig {
        row_dim: encoded.dim + conditions.dim(),
        pac: PAC,
        hidden: vec![32, 24],
        leaky_slope: SLOPE as f64,
        dropout: 0.5,
    };
    Setup {
        encoded: Mat::from_vec(encoded.n_rows, encoded.dim, encoded.rows.to_dense()),
        sparse: encoded.rows,
        transformer,
        cond,
        gen_config,
        disc_config,
        rng,
    }
}

fn random_mat(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Mat {
    Mat::from_vec(
        rows,
        cols,
        (0..rows * cols)
            .map(|_| rng.sample::<f32, _>(StandardNormal))
            .collect(),
    )
}

fn masks(rows: usize, widths: &[usize], rng: &mut ChaCha8Rng) -> Vec<Mat> {
    widths
        .iter()
        .map(|&w| {
            Mat::from_vec(
                rows,
                w,
                (0..rows * w)
                    .map(|_| if rng.random_bool(0.5) { 2.0 } else { 0.0 })
                    .collect(),
            )
        })
        .collect()
}

fn tensor(m: &Mat, device: &Device) -> Tensor<2> {
    matrix(m.data.clone(), m.rows, m.cols, device)
}

/// `got` equals `want` to f32 tolerance, relative to the largest entry.
fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-6);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 2e-4 * scale + 1e-6,
            "{what}[{i}]: host {g} vs burn {w} (largest {scale})"
        );
    }
}

#[test]
fn generator_loss_gradients_and_running_statistics_match_burn_autodiff() {
    check_generator_against_burn(false);
}

/// With DP mode's pair-marginal loss (`privacy.pair_marginals`) against random pair tables on
/// every pair of credit's columns, with random row weights.
#[test]
fn generator_gradients_with_the_pair_marginal_loss_match_burn_autodiff() {
    check_generator_against_burn(true);
}

/// The correlation loss's target read from credit's own encoded rows gives the normal-score
/// correlations pandas and scipy compute on the raw file (`norm.ppf(rank / (n + 1))` per
/// column, then `corrcoef`: Amount-Price 0.719, Seniority-Age 0.455, Time-Amount 0.487; the
/// Pearson correlations of the values are 0.725, 0.506, 0.431): the scores it correlates
/// follow each column's fitted mixture, not the ranks, so they agree to 0.02.
#[test]
fn correlation_target_from_encoded_rows_matches_rank_normal_scores_of_the_raw_file() {
    let s = setup();
    let target = CorrelationTarget::from_rows(&s.transformer, &s.sparse, 1.0).expect("a target");
    let column = |name: &str| {
        s.transformer
            .schema
            .columns
            .iter()
            .position(|c| c.name == name)
            .expect("credit's column")
    };
    for (a, b, want) in [
        ("Amount", "Price", 0.719),
        ("Seniority", "Age", 0.455),
        ("Time", "Amount", 0.487),
    ] {
        let got = target
            .target_of(column(a), column(b))
            .expect("both continuous");
        assert!(
            (got - want).abs() < 0.02,
            "{a}-{b}: {got:.3} from the encoded rows, scipy {want}"
        );
    }
}

/// A random pair target on every pair of the transformer's columns (tables summing to 1).
fn random_pairs(transformer: &DataTransformer, rng: &mut ChaCha8Rng) -> NoisyPairs {
    let layout = transformer.column_states();
    let states: Vec<usize> = layout.iter().map(|l| l.count()).collect();
    let pairs = all_pairs(states.len());
    let tables = pairs
        .iter()
        .map(|&(a, b)| {
            let t: Vec<f64> = (0..states[a] * states[b])
                .map(|_| rng.random::<f64>())
                .collect();
            let total: f64 = t.iter().sum();
            t.into_iter().map(|x| x / total).collect()
        })
        .collect();
    NoisyPairs {
        states,
        pairs,
        tables,
        noise_std: 1.0,
        copula: Vec::new(),
        shifts: Vec::new(),
    }
}

fn check_generator_against_burn(with_pairs: bool) {
    let mut s = setup();
    let device = Device::ndarray().autodiff();
    device.seed(5);
    let generator = s.gen_config.init(&device);
    let critic = s.disc_config.init(&device);
    let mut host_gen = HostGenerator::from_burn(&generator);
    let host_critic = HostCritic::from_burn(&critic);

    let z = random_mat(BATCH, s.gen_config.embedding_dim, &mut s.rng);
    let input = z.hcat(&s.cond);
    let data_dim = s.encoded.cols;
    let uniform = Mat::from_vec(
        BATCH,
        data_dim,
        (0..BATCH * data_dim)
            .map(|_| s.rng.random_range(1e-7f32..1.0 - 1e-7))
            .collect(),
    );
    let gumbel = Mat::from_vec(
        BATCH,
        data_dim,
        uniform.data.iter().map(|&u| gumbel_noise(u)).collect(),
    );
    let m = BATCH / PAC;
    let masks = masks(m, &s.disc_config.hidden, &mut s.rng);

    // burn: forward with autodiff, the frozen critic, the condition loss.
    let spans = s.transformer.spans();
    let raw = generator.forward(tensor(&input, &device));
    let fake = activate(
        raw.clone(),
        &spans,
        &Gumbel {
            tau: TAU as f64,
            uniform: tensor(&uniform, &device),
        },
    );
    let packed = Tensor::cat(vec![fake.clone(), tensor(&s.cond, &device)], 1)
        .reshape([m, s.disc_config.input_dim()]);
    let burn_masks: Vec<Tensor<2>> = masks.iter().map(|k| tensor(k, &device)).collect();
    let scores = critic
        .clone()
        .no_grad()
        .forward(packed, SLOPE as f64, &burn_masks)
        .scores;
    let mut loss =
        scores.mean().neg() + condition_loss(raw.clone(), &spans, tensor(&s.cond, &device));
    let target = with_pairs.then(|| {
        let noisy = random_pairs(&s.transformer, &mut s.rng);
        // The correlation loss too, with the real rows' correlations as its target.
        let correlations = CorrelationTarget::from_rows(&s.transformer, &s.sparse, 0.5);
        assert!(correlations.is_some(), "credit has continuous columns");
        PairTarget::new(&noisy, s.transformer.column_states(), 0.7, &device)
            .with_correlations(correlations)
    });
    let row_weights: Vec<f32> = {
        let w: Vec<f32> = (0..BATCH)
            .map(|_| s.rng.random_range(0.2f32..2.0))
            .collect();
        let total: f32 = w.iter().sum();
        w.into_iter().map(|x| x / total).collect()
    };
    if let Some(target) = &target {
        let weights = matrix(row_weights.clone(), BATCH, 1, &device);
        let pair_loss = target.loss(raw, weights.clone());
        assert!(
            to_host(pair_loss.clone())[0] > 0.01,
            "the pair loss is not trivial"
        );
        let correlation_loss = target
            .correlation_loss(fake, weights)
            .expect("a correlation target");
        assert!(
            to_host(correlation_loss.clone())[0] > 0.01,
            "the correlation loss is not trivial"
        );
        loss = loss + pair_loss + correlation_loss;
    }
    let want_loss = to_host(loss.clone())[0];
    let grads = loss.backward();

    let (got_loss, got) = generator_gradients(
        &mut host_gen,
        &host_critic,
        &spans,
        input,
        &gumbel,
        Some(&s.cond),
        &masks,
        PAC,
        SLOPE,
        TAU,
        target.as_ref().map(|t| (t, row_weights.as_slice())),
    );
    assert!(
        (got_loss as f32 - want_loss).abs() < 1e-4 * (1.0 + want_loss.abs()),
        "loss: host {got_loss} vs burn {want_loss}"
    );
    let grad = |t: Tensor<2>| to_host(t.grad(&grads).expect("a gradient"));
    let grad1 = |t: Tensor<1>| to_host(t.grad(&grads).expect("a gradient"));
    let mut i = 0;
    for (b, block) in generator.blocks.iter().enumerate() {
        assert_close(
            &format!("block {b} weight"),
            &got[i],
            &grad(block.fc.weight.val()),
        );
        let bias = block.fc.bias.as_ref().unwrap().val();
        // A bias before BatchNorm cancels out: both gradients are (nearly) zero.
        assert!(got[i + 1].iter().all(|x| x.abs() < 1e-4));
        assert!(grad1(bias).iter().all(|x| x.abs() < 1e-4));
        assert_close(
            &format!("block {b} gamma"),
            &got[i + 2],
            &grad1(block.bn.gamma.val()),
        );
        assert_close(
            &format!("block {b} beta"),
            &got[i + 3],
            &grad1(block.bn.beta.val()),
        );
        assert_close(
            &format!("block {b} running mean"),
            &host_gen.blocks[b].running_mean,
            &to_host(block.bn.running_mean.value_sync()),
        );
        assert_close(
            &format!("block {b} running variance"),
            &host_gen.blocks[b].running_var,
            &to_host(block.bn.running_var.value_sync()),
        );
        i += 4;
    }
    assert_close(
        "output weight",
        &got[i],
        &grad(generator.output.weight.val()),
    );
    assert_close(
        "output bias",
        &got[i + 1],
        &grad1(generator.output.bias.as_ref().unwrap().val()),
    );
    // The gradients are not trivially zero.
    assert!(got[i].iter().any(|x| x.abs() > 1e-4));
}

#[test]
fn critic_loss_gradients_and_adam_updates_match_burn() {
    let mut s = setup();
    let device = Device::ndarray().autodiff();
    device.seed(6);
    let critic = s.disc_config.init(&device);
    let host_critic = HostCritic::from_burn(&critic);
    // Real rows from the table, fake rows from a generator's activated output.
    let data_dim = s.encoded.cols;
    let real = s.encoded.rows(100..100 + BATCH).hcat(&s.cond);
    let gumbel = random_mat(BATCH, data_dim, &mut s.rng);
    let raw = random_mat(BATCH, data_dim, &mut s.rng);
    let fake = host_activate(&raw, &s.transformer.spans(), &gumbel, TAU).hcat(&s.cond);
    let m = BATCH / PAC;
    let alpha: Vec<f32> = (0..m).map(|_| s.rng.random()).collect();
    let masks = masks(3 * m, &s.disc_config.hidden, &mut s.rng);

    let width = s.disc_config.input_dim();
    let real_t = tensor(&real, &device).reshape([m, width]);
    let fake_t = tensor(&fake, &device).reshape([m, width]);
    let alpha_t = matrix(alpha.clone(), m, 1, &device);
    let interpolated =
        real_t.clone() * alpha_t.clone() + fake_t.clone() * alpha_t.neg().add_scalar(1.0);
    let burn_masks: Vec<Tensor<2>> = masks.iter().map(|k| tensor(k, &device)).collect();
    let pass = critic.forward(
        Tensor::cat(vec![real_t, fake_t, interpolated], 0),
        SLOPE as f64,
        &burn_masks,
    );
    let y_real = pass.scores.clone().slice([0..m, 0..1]);
    let y_fake = pass.scores.clone().slice([m..2 * m, 0..1]);
    let penalty = gradient_penalty(critic.input_gradient(&pass, 2 * m..3 * m), LAMBDA as f64);
    let loss = y_fake.mean() - y_real.mean() + penalty;
    let want_loss = to_host(loss.clone())[0];
    let grads = loss.backward();

    let (got_loss, got) = critic_gradients(
        &host_critic,
        &real,
        &fake,
        PAC,
        &alpha,
        &masks,
        SLOPE,
        LAMBDA,
    );
    assert!(
        (got_loss as f32 - want_loss).abs() < 1e-4 * (1.0 + want_loss.abs()),
        "loss: host {got_loss} vs burn {want_loss}"
    );
    let layers = critic.hidden.iter().chain(std::iter::once(&critic.output));
    for (l, layer) in layers.enumerate() {
        let w = to_host(layer.weight.val().grad(&grads).expect("a gradient"));
        let b = to_host(
            layer
                .bias
                .as_ref()
                .unwrap()
                .val()
                .grad(&grads)
                .expect("a gradient"),
        );
        assert_close(&format!("layer {l} weight"), &got[2 * l], &w);
        assert_close(&format!("layer {l} bias"), &got[2 * l + 1], &b);
        assert!(got[2 * l].iter().any(|x| x.abs() > 1e-5));
    }

    // Two Adam updates with the same gradients, with a weight decay large enough to matter.
    let (lr, decay) = (2e-3, 0.1);
    let mut optim = AdamConfig::new()
        .with_beta_1(0.5)
        .with_beta_2(0.9)
        .with_epsilon(1e-8)
        .with_weight_decay(Some(WeightDecayConfig::new(decay as f32)))
        .init();
    // The gradients as burn's optimiser takes them (the host's, equal to burn's as checked).
    let inner = device.clone().inner();
    let params = || {
        let mut p = GradientsParams::new();
        let layers = critic.hidden.iter().chain(std::iter::once(&critic.output));
        for (l, layer) in layers.enumerate() {
            let [r, c] = layer.weight.dims();
            p.register(layer.weight.id, matrix(got[2 * l].clone(), r, c, &inner));
            let bias = layer.bias.as_ref().unwrap();
            p.register(
                bias.id,
                Tensor::<1>::from_floats(got[2 * l + 1].as_slice(), &inner),
            );
        }
        p
    };
    drop(grads);
    let mut updated = optim.step(lr, critic.clone(), params());
    updated = optim.step(lr, updated, params());
    let mut host = host_critic.clone();
    let lengths: Vec<usize> = host.params_mut().iter().map(|p| p.len()).collect();
    let mut adam = Adam::new(
        AdamSettings {
            beta1: 0.5,
            beta2: 0.9,
            epsilon: 1e-8,
            weight_decay: decay as f32,
        },
        &lengths,
    );
    for _ in 0..2 {
        let params = host.params_mut();
        adam.step(lr, params, &got);
    }
    let after = HostCritic::from_burn(&updated.valid());
    for (l, (w, b)) in after.weights.iter().zip(&after.biases).enumerate() {
        assert_close(
            &format!("updated layer {l} weight"),
            &host.weights[l].data,
            &w.data,
        );
        assert_close(&format!("updated layer {l} bias"), &host.biases[l], b);
    }
    assert_close(
        "updated output weight",
        &host.out_weight.data,
        &after.out_weight.data,
    );
    assert_ne!(
        host.weights[0], host_critic.weights[0],
        "Adam moved the weights"
    );
}

/// Host and burn samplers loaded from the same released file draw the same rows from the same
/// seed. Tolerance: a continuous value may differ by float rounding (1e-3 relative to the
/// column's spread, after the mixture decoding); a row may land on the other side of a
/// category or mixture-mode boundary when two Gumbel-perturbed scores tie to float rounding,
/// and at most 0.5% of the rows of any column may do so.
#[test]
fn host_and_burn_samplers_draw_the_same_rows_from_one_file() {
    use dpsynth::export::ModelFile;
    use dpsynth::sample::GeneratorSampler;
    let path = crate::model_file::tiny_model();
    let model = ModelFile::read(&path).unwrap();
    let device = Device::ndarray();
    let burn = GeneratorSampler::new(&model, &device, &path).unwrap();
    let host = GeneratorSampler::new(&model, &device, &path)
        .unwrap()
        .on_host();
    assert!(host.is_on_host() && !burn.is_on_host());
    let n = 4000;
    let (a, b) = (burn.sample_stream(9, 0, n), host.sample_stream(9, 0, n));
    assert_eq!(a.columns.len(), b.columns.len());
    for (ca, cb) in a.columns.iter().zip(&b.columns) {
        let numbers: Vec<f64> = (0..n).filter_map(|r| ca.values.number(r)).collect();
        let spread = numbers.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            - numbers.iter().cloned().fold(f64::INFINITY, f64::min);
        let differing = (0..n)
            .filter(|&r| match (ca.values.number(r), cb.values.number(r)) {
                (Some(x), Some(y)) => (x - y).abs() > 1e-3 * spread.max(1.0),
                _ => ca.values.key(r) != cb.values.key(r),
            })
            .count();
        assert!(
            differing * 200 <= n,
            "column {}: {differing} of {n} rows differ between the host and burn samplers",
            ca.name
        );
    }
}
