//! The critic's explicit input gradient (used by the gradient penalty because burn has no double
//! backward) against central finite differences, and the penalty's weight gradient from
//! first-order autodiff against finite differences in weight space.

use burn::module::Param;
use burn::tensor::{Device, Distribution, Tensor};
use dpsynth::model::discriminator::gradient_penalty;
use dpsynth::model::{matrix, to_host, Discriminator, DiscriminatorConfig};

fn critic(device: &Device) -> (Discriminator, DiscriminatorConfig) {
    let config = DiscriminatorConfig {
        row_dim: 5,
        pac: 2,
        hidden: vec![7, 6],
        leaky_slope: 0.2,
        dropout: 0.5,
    };
    device.seed(3);
    (config.init(device), config)
}

fn score(
    d: &Discriminator,
    x: Vec<f32>,
    n: usize,
    dim: usize,
    masks: &[Tensor<2>],
    device: &Device,
) -> Vec<f32> {
    to_host(d.forward(matrix(x, n, dim, device), 0.2, masks).scores)
}

#[test]
fn input_gradient_matches_finite_differences() {
    let device = Device::ndarray();
    let (d, config) = critic(&device);
    let (n, dim) = (4, config.input_dim());
    let x = Tensor::<2>::random([n, dim], Distribution::Normal(0.0, 1.0), &device);
    let x_host = to_host(x.clone());
    let masks = d.dropout_masks(n, 0.5, &device);
    let pass = d.forward(x, 0.2, &masks);
    let grad = to_host(d.input_gradient(&pass, 0..n));
    let h = 1e-2f32;
    let mut checked = 0;
    for j in 0..dim {
        let mut plus = x_host.clone();
        let mut minus = x_host.clone();
        for r in 0..n {
            plus[r * dim + j] += h;
            minus[r * dim + j] -= h;
        }
        let fp = score(&d, plus, n, dim, &masks, &device);
        let fm = score(&d, minus, n, dim, &masks, &device);
        for r in 0..n {
            let fd = (fp[r] - fm[r]) / (2.0 * h);
            let an = grad[r * dim + j];
            // The critic is piecewise linear: away from a kink the difference is exact up to f32
            // rounding.
            assert!(
                (fd - an).abs() < 2e-3 * (1.0 + an.abs()),
                "row {r} input {j}: fd {fd} vs {an}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, n * dim);
    // With dropout, some hidden units are off: the gradient really depends on the masks.
    let other = d.dropout_masks(n, 0.5, &device);
    let grad2 = to_host(d.input_gradient(
        &d.forward(matrix(x_host, n, dim, &device), 0.2, &other),
        0..n,
    ));
    assert_ne!(grad, grad2);
}

fn penalty_value(d: &Discriminator, x: &Tensor<2>, masks: &[Tensor<2>]) -> f64 {
    let pass = d.forward(x.clone(), 0.2, masks);
    let [n, _] = x.dims();
    to_host(gradient_penalty(d.input_gradient(&pass, 0..n), 10.0))[0] as f64
}

fn with_weight(d: &Discriminator, layer: usize, index: usize, delta: f32) -> Discriminator {
    let mut d = d.clone();
    let w = d.hidden[layer].weight.val();
    let [r, c] = w.dims();
    let device = w.device();
    let mut host = to_host(w);
    host[index] += delta;
    d.hidden[layer].weight = Param::from_tensor(matrix(host, r, c, &device));
    d
}

#[test]
fn penalty_weight_gradient_matches_finite_differences() {
    let plain = Device::ndarray();
    let ad = plain.clone().autodiff();
    let (d, config) = critic(&ad);
    let (n, dim) = (6, config.input_dim());
    let x = Tensor::<2>::random([n, dim], Distribution::Normal(0.0, 1.0), &ad);
    let masks = d.dropout_masks(n, 0.5, &ad);
    let pass = d.forward(x.clone(), 0.2, &masks);
    let penalty = gradient_penalty(d.input_gradient(&pass, 0..n), 10.0);
    let grads = penalty.backward();
    for layer in 0..2 {
        let g = to_host(
            d.hidden[layer]
                .weight
                .val()
                .grad(&grads)
                .expect("weights get a gradient"),
        );
        let mut nonzero = 0;
        for index in [0usize, 3, 8, 13, 20, 27, 33, 40] {
            let h = 5e-3f32;
            let fp = penalty_value(&with_weight(&d, layer, index, h), &x, &masks);
            let fm = penalty_value(&with_weight(&d, layer, index, -h), &x, &masks);
            let fd = (fp - fm) / (2.0 * h as f64);
            let an = g[index] as f64;
            assert!(
                (fd - an).abs() < 5e-3 * (1.0 + an.abs()),
                "layer {layer} weight {index}: fd {fd} vs autodiff {an}"
            );
            if an.abs() > 1e-4 {
                nonzero += 1;
            }
        }
        assert!(
            nonzero > 0,
            "layer {layer}: the penalty must depend on its weights"
        );
    }
}
