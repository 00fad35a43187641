//! The fast per-unit clipped critic gradient (ghost norms, explicit backward) against the same
//! gradient computed one unit at a time with burn's plain autodiff (real term, paired fake term
//! and gradient penalty), on every backend; and the sensitivity bound: one row, however
//! extreme, moves the clipped sum by at most C. The host engine's matrices run the same
//! checks.

use burn::module::Param;
use burn::tensor::{Device, Distribution, Tensor};
use dpsynth::dp::clip::{
    clipped_gradient_sum, clipped_sum, host_layers, ClipSettings, ClippedSum, PrivateBatch,
};
use dpsynth::model::discriminator::gradient_penalty;
use dpsynth::model::host::{HostCritic, Mat};
use dpsynth::model::{to_host, Discriminator, DiscriminatorConfig};

const LAMBDA: f64 = 10.0;
const SLOPE: f64 = 0.2;

fn critic(device: &Device) -> Discriminator {
    device.seed(5);
    DiscriminatorConfig {
        row_dim: 6,
        pac: 1,
        hidden: vec![9, 7],
        leaky_slope: SLOPE,
        dropout: 0.5,
    }
    .init(device)
}

struct Rows {
    real: Tensor<2>,
    weights: Tensor<2>,
    fake: Tensor<2>,
    interpolated: Tensor<2>,
    /// Masks per segment: real, fake, interpolated.
    masks: [Vec<Tensor<2>>; 3],
}

fn rows(critic: &Discriminator, n: usize, device: &Device) -> Rows {
    let real = Tensor::<2>::random([n, 6], Distribution::Normal(0.0, 1.0), device);
    let fake = Tensor::<2>::random([n, 6], Distribution::Normal(0.5, 1.0), device);
    let alpha = Tensor::<2>::random([n, 1], Distribution::Default, device);
    let interpolated = real.clone() * alpha.clone() + fake.clone() * alpha.neg().add_scalar(1.0);
    let weights = Tensor::<2>::random([n, 1], Distribution::Uniform(0.5, 2.0), device);
    let masks = [n, n, n].map(|m| critic.dropout_masks(m, 0.5, device));
    Rows {
        real,
        weights,
        fake,
        interpolated,
        masks,
    }
}

fn batch(r: &Rows) -> PrivateBatch {
    let layers = r.masks[0].len();
    PrivateBatch {
        real: r.real.clone(),
        real_weights: r.weights.clone(),
        fake: r.fake.clone(),
        interpolated: r.interpolated.clone(),
        masks: (0..layers)
            .map(|l| Tensor::cat(r.masks.iter().map(|m| m[l].clone()).collect(), 0))
            .collect(),
    }
}

/// Every parameter's gradient of `loss`, flattened in the order weights, bias per layer.
fn flat_grads(critic: &Discriminator, loss: Tensor<1>) -> Vec<f64> {
    let grads = loss.backward();
    let mut out = Vec::new();
    for layer in critic.hidden.iter().chain(std::iter::once(&critic.output)) {
        let params: [&Param<Tensor<2>>; 1] = [&layer.weight];
        for p in params {
            out.extend(
                to_host(p.val().grad(&grads).unwrap())
                    .iter()
                    .map(|&x| x as f64),
            );
        }
        let bias = layer.bias.as_ref().unwrap();
        out.extend(
            to_host(bias.val().grad(&grads).unwrap())
                .iter()
                .map(|&x| x as f64),
        );
    }
    out
}

fn flat_fast(sum: &ClippedSum) -> Vec<f64> {
    let mut out = Vec::new();
    for (w, b) in sum.weights.iter().zip(&sum.biases) {
        out.extend(to_host(w.clone()).iter().map(|&x| x as f64));
        out.extend(to_host(b.clone()).iter().map(|&x| x as f64));
    }
    out
}

fn row(t: &Tensor<2>, i: usize) -> Tensor<2> {
    let [_, w] = t.dims();
    t.clone().slice([i..i + 1, 0..w])
}

/// One unit at a time with autodiff: clip each unit's whole gradient and sum.
fn reference(critic: &Discriminator, r: &Rows, c: f64) -> (Vec<f64>, Vec<f64>) {
    let [n, _] = r.real.dims();
    let weights = to_host(r.weights.clone());
    let mut total: Option<Vec<f64>> = None;
    let mut norms = Vec::new();
    for (i, &weight) in weights.iter().enumerate().take(n) {
        let input = Tensor::cat(
            vec![row(&r.real, i), row(&r.fake, i), row(&r.interpolated, i)],
            0,
        );
        let masks: Vec<Tensor<2>> = (0..r.masks[0].len())
            .map(|l| Tensor::cat((0..3).map(|s| row(&r.masks[s][l], i)).collect(), 0))
            .collect();
        let pass = critic.forward(input, SLOPE, &masks);
        let score = |k: usize| pass.scores.clone().slice([k..k + 1, 0..1]).reshape([1]);
        let grad_in = critic.input_gradient(&pass, 2..3);
        let loss =
            score(1) - score(0).mul_scalar(weight as f64) + gradient_penalty(grad_in, LAMBDA);
        let g = flat_grads(critic, loss);
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        norms.push(norm);
        let f = (c / norm).min(1.0);
        match &mut total {
            None => total = Some(g.iter().map(|x| x * f).collect()),
            Some(t) => t.iter_mut().zip(g).for_each(|(t, x)| *t += x * f),
        }
    }
    (total.unwrap(), norms)
}

fn assert_close(fast: &[f64], slow: &[f64], what: &str) {
    assert_eq!(fast.len(), slow.len());
    let scale = slow.iter().map(|x| x.abs()).fold(0.0, f64::max);
    for (i, (a, b)) in fast.iter().zip(slow).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * scale + 1e-5,
            "{what}[{i}]: fast {a} vs one-row-at-a-time {b} (scale {scale})"
        );
    }
}

fn check_against_reference(device: &Device, clip_norms: &[f64]) {
    let autodiff = device.clone().autodiff();
    let critic = critic(&autodiff);
    let r = rows(&critic, 8, &device.clone());
    // Clip hard enough that some rows are clipped and some are not.
    for &c in clip_norms {
        let ad_rows = Rows {
            real: r.real.clone().autodiff(),
            weights: r.weights.clone().autodiff(),
            fake: r.fake.clone().autodiff(),
            interpolated: r.interpolated.clone().autodiff(),
            masks: r
                .masks
                .clone()
                .map(|m| m.into_iter().map(|t| t.autodiff()).collect()),
        };
        let (slow, slow_norms) = reference(&critic, &ad_rows, c);
        let sum = clipped_gradient_sum(
            &critic,
            &batch(&r),
            ClipSettings {
                max_grad_norm: c,
                gp_lambda: LAMBDA,
                leaky_slope: SLOPE,
            },
        );
        assert_close(&sum.row_norms, &slow_norms, "per-row norm");
        if c == 0.5 {
            assert!(slow_norms.iter().any(|&x| x > c), "no row was clipped");
        }
        assert_close(&flat_fast(&sum), &slow, &format!("clipped sum at C = {c}"));
        // The same arithmetic on the host engine's matrices, from the same critic and rows.
        let host = clipped_sum(
            &host_layers(&HostCritic::from_burn(&critic)),
            &host_batch(&batch(&r)),
            ClipSettings {
                max_grad_norm: c,
                gp_lambda: LAMBDA,
                leaky_slope: SLOPE,
            },
        );
        assert_close(&host.row_norms, &slow_norms, "host per-row norm");
        assert_close(
            &flat_host(&host),
            &slow,
            &format!("host clipped sum at C = {c}"),
        );
        assert!(
            (host.loss - sum.loss).abs() <= 1e-4 * sum.loss.abs().max(1.0),
            "host loss {} vs burn loss {}",
            host.loss,
            sum.loss
        );
    }
}

/// A burn batch copied to the host engine's matrices.
fn host_batch(b: &PrivateBatch) -> PrivateBatch<Mat> {
    let m = |t: &Tensor<2>| {
        let [rows, cols] = t.dims();
        Mat::from_vec(rows, cols, to_host(t.clone()))
    };
    PrivateBatch {
        real: m(&b.real),
        real_weights: m(&b.real_weights),
        fake: m(&b.fake),
        interpolated: m(&b.interpolated),
        masks: b.masks.iter().map(m).collect(),
    }
}

fn flat_host(sum: &ClippedSum<Mat>) -> Vec<f64> {
    let mut out = Vec::new();
    for (w, b) in sum.weights.iter().zip(&sum.biases) {
        out.extend(w.data.iter().map(|&x| x as f64));
        out.extend(b.data.iter().map(|&x| x as f64));
    }
    out
}

#[test]
fn fast_clipped_sum_matches_one_row_at_a_time_on_flex() {
    let _serial = crate::util::serial_flex();
    check_against_reference(&Device::flex(), &[0.5, 5.0, 1e6]);
}

#[test]
fn fast_clipped_sum_matches_one_row_at_a_time_on_ndarray() {
    check_against_reference(&Device::ndarray(), &[0.5, 5.0, 1e6]);
}

#[test]
fn one_extreme_row_moves_the_clipped_sum_by_at_most_c() {
    let _serial = crate::util::serial_flex();
    let device = Device::flex();
    let critic = critic(&device.clone().autodiff());
    let base = rows(&critic, 8, &device);
    let extreme = rows(&critic, 1, &device);
    let huge = extreme.real.clone().mul_scalar(1e6);
    // The neighbour: the same units plus one whose real row has enormous values.
    let cat = |a: &Tensor<2>, b: Tensor<2>| Tensor::cat(vec![a.clone(), b], 0);
    let with = Rows {
        real: cat(&base.real, huge.clone()),
        weights: cat(&base.weights, extreme.weights.clone().mul_scalar(50.0)),
        fake: cat(&base.fake, extreme.fake.clone()),
        interpolated: cat(&base.interpolated, huge.mul_scalar(0.5)),
        masks: [0, 1, 2].map(|s| {
            (0..base.masks[s].len())
                .map(|l| cat(&base.masks[s][l], extreme.masks[s][l].clone()))
                .collect()
        }),
    };
    let c = 1.0;
    let settings = ClipSettings {
        max_grad_norm: c,
        gp_lambda: LAMBDA,
        leaky_slope: SLOPE,
    };
    let host = host_layers(&HostCritic::from_burn(&critic));
    let engines: [(&str, Vec<f64>, Vec<f64>); 2] = [
        (
            "burn",
            flat_fast(&clipped_gradient_sum(&critic, &batch(&base), settings)),
            flat_fast(&clipped_gradient_sum(&critic, &batch(&with), settings)),
        ),
        (
            "host",
            flat_host(&clipped_sum(&host, &host_batch(&batch(&base)), settings)),
            flat_host(&clipped_sum(&host, &host_batch(&batch(&with)), settings)),
        ),
    ];
    for (engine, a, b) in engines {
        let diff = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            diff <= c * (1.0 + 1e-4),
            "{engine}: one row moved the sum by {diff} > C = {c}"
        );
        assert!(
            diff > 0.5 * c,
            "{engine}: the extreme row should be clipped to about C, moved {diff}"
        );
    }
}

#[test]
fn fast_clipped_sum_matches_one_row_at_a_time_on_wgpu() {
    assert!(
        dpsynth::device::wgpu_works(),
        "no wgpu adapter: install mesa-vulkan-drivers (as .ci/run does)"
    );
    // Software Vulkan is slow per operation: one clipping norm (some rows clipped) is enough.
    check_against_reference(
        &Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
        &[0.5],
    );
}

/// The privatised gradient: the clipped sum plus N(0, (σC)²) on every weight and bias, divided
/// by the expected batch size B (not the realised one). Checked statistically on a critic wide
/// enough for tight estimates: mean (sum / B) and standard deviation (σC / B) per coordinate.
#[test]
fn noisy_gradient_adds_sigma_c_noise_to_every_parameter_and_divides_by_b() {
    let _serial = crate::util::serial_flex();
    use dpsynth::dp::clip::noisy_gradient;
    let device = Device::flex();
    let wide = DiscriminatorConfig {
        row_dim: 40,
        pac: 1,
        hidden: vec![300, 200],
        leaky_slope: SLOPE,
        dropout: 0.0,
    }
    .init(&device);
    let n = 30;
    let real = Tensor::<2>::random([n, 40], Distribution::Normal(0.0, 1.0), &device);
    let fake = Tensor::<2>::random([n, 40], Distribution::Normal(0.5, 1.0), &device);
    let batch = PrivateBatch {
        interpolated: (real.clone() + fake.clone()).mul_scalar(0.5),
        real,
        real_weights: Tensor::<2>::ones([n, 1], &device),
        fake,
        masks: Vec::new(),
    };
    let settings = ClipSettings {
        max_grad_norm: 0.7,
        gp_lambda: LAMBDA,
        leaky_slope: SLOPE,
    };
    let (sigma, c, b) = (1.9, 0.7, 250usize);
    let sum = clipped_gradient_sum(&wide, &batch, settings);
    let clean: Vec<Vec<f32>> = sum
        .weights
        .iter()
        .map(|w| to_host(w.clone()))
        .chain(sum.biases.iter().map(|b| to_host(b.clone())))
        .collect();
    let mut rng = dpsynth::dp::DpRng::from_seed(11);
    let (weights, biases) = noisy_gradient(sum, sigma, c, b, &mut rng);
    let noisy: Vec<Vec<f32>> = weights
        .into_iter()
        .map(to_host)
        .chain(biases.into_iter().map(to_host))
        .collect();
    assert_eq!(noisy.len(), 6, "3 weight matrices and 3 bias vectors");
    let expected_std = sigma * c / b as f64;
    let mut pooled = Vec::new();
    for (i, (clean, noisy)) in clean.iter().zip(&noisy).enumerate() {
        assert_eq!(clean.len(), noisy.len());
        // residual = noisy - clean / B should be pure noise of std σC / B.
        let resid: Vec<f64> = clean
            .iter()
            .zip(noisy)
            .map(|(&s, &g)| g as f64 - s as f64 / b as f64)
            .collect();
        assert!(
            resid.iter().all(|x| x.abs() > 0.0),
            "block {i}: a coordinate got no noise"
        );
        pooled.extend(resid);
    }
    let m = pooled.len() as f64;
    let mean = pooled.iter().sum::<f64>() / m;
    let std = (pooled.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / m).sqrt();
    // About 73,000 coordinates: the sample std is within 1% of the truth and the mean within
    // 5 standard errors of zero, unless the scale is wrong (e.g. dividing by n = 30).
    assert!(
        (std / expected_std - 1.0).abs() < 0.01,
        "noise std {std:e}, expected {expected_std:e}"
    );
    assert!(
        mean.abs() < 5.0 * expected_std / m.sqrt(),
        "noise mean {mean:e}"
    );
}
