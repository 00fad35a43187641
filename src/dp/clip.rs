//! Per-row clipped gradients of the critic's loss, without per-row gradients.
//!
//! One DP unit is one real row `i` together with the fake row `f_i` it is paired with and the
//! interpolate `x̂_i` of the two. Its loss is
//! `D(f_i) − w_i · D(x_i) + λ (‖∇D(x̂_i)‖ − 1)²`, and the whole unit is clipped. The fake term
//! needs no clipping for privacy (the generator is post-processing), but clipping it with its
//! real partner keeps the two sides of the WGAN loss balanced: with fake rows outside the
//! units, clipping shrank the real side more than the fake side and the critic's scores
//! drifted steadily (measured on Adult: the generator loss rose from 2 to 90 in 100 epochs).
//! Every term belongs to a clipped unit, so no unclipped term depends on how many rows were
//! sampled. The fake rows come from a pool of exactly B rows generated for the step (a count
//! that does not depend on the data), and each real row draws its partner from the pool
//! uniformly and independently: with the pool and the other draws held fixed, adding or
//! removing one real row adds or removes exactly one unit, whose norm is at most C.
//!
//! The critic is piecewise linear and its slopes (LeakyReLU times dropout) are constants, so
//! both the backward pass of the score and the gradient-penalty chain are written out here as
//! plain matrix products: no autodiff graph, no second backward.
//!
//! Each weight matrix `W_k` is used three times per unit: in the forward passes of the real
//! and of the fake row (inputs `x`, `f`; gradients at the outputs `p`, `r`) and, transposed,
//! in the input-gradient chain of the interpolate (gradient at that use's output `q`, its
//! input `u`). The unit's gradient is `G = x pᵀ + f rᵀ + q uᵀ`, whose squared norm is
//! `Σ_a Σ_b (a_in · b_in)(a_out · b_out)` over the three uses ("ghost" norms with the cross
//! terms, design note). With clip factors `c_i = min(1, C / ‖G_i‖)` the clipped sum is
//! `Xᵀ diag(c) P + Fᵀ diag(c) R + Qᵀ diag(c) U`: three matrix products per layer.

use burn::tensor::{Tensor, TensorData};

use crate::model::Discriminator;

/// Rows of one DP critic step, all on the same (non-autodiff) device.
pub struct PrivateBatch {
    /// Real rows with their conditions, `[n, d]` (Poisson-sampled).
    pub real: Tensor<2>,
    /// Loss weight of each real row, `[n, 1]` (matches the condition distributions).
    pub real_weights: Tensor<2>,
    /// Fake rows with their conditions, `[n, d]`: fake row `i` is paired with real row `i`
    /// (drawn, with replacement, from a pool whose size does not depend on `n`).
    pub fake: Tensor<2>,
    /// Interpolates, `[n, d]`: row `i` mixes real row `i` with fake row `i`.
    pub interpolated: Tensor<2>,
    /// Per hidden layer, the dropout mask over the rows `[real; fake; interpolated]`
    /// (`[3n, width]`); empty without dropout.
    pub masks: Vec<Tensor<2>>,
}

/// The constants of the critic loss and of clipping.
#[derive(Debug, Clone, Copy)]
pub struct ClipSettings {
    /// Per-row clipping norm C.
    pub max_grad_norm: f64,
    /// Gradient-penalty weight λ.
    pub gp_lambda: f64,
    /// LeakyReLU negative slope of the critic.
    pub leaky_slope: f64,
}

/// The sum over units of each unit's clipped gradient; not yet noised or normalised.
pub struct ClippedSum {
    /// Per linear layer (hidden layers, then the output layer): weight gradient `[d_in, d_out]`.
    pub weights: Vec<Tensor<2>>,
    /// Per linear layer: bias gradient `[d_out]`.
    pub biases: Vec<Tensor<1>>,
    /// Each unit's unclipped gradient norm, `[n, 1]` (absent when no row was sampled).
    pub row_norms: Option<Tensor<2>>,
    /// The summed loss `Σ_i (D(f_i) − w_i D(x_i) + λ (‖∇D(x̂_i)‖ − 1)²)`, `[1]`.
    pub loss: Tensor<1>,
}

fn row_dot(a: &Tensor<2>, b: &Tensor<2>) -> Tensor<2> {
    (a.clone() * b.clone()).sum_dim(1)
}

/// `min(1, C / norm)` per row (also clips `dpsynth audit`'s gradient canaries).
pub(crate) fn clip_factors(norms: Tensor<2>, max_grad_norm: f64) -> Tensor<2> {
    norms
        .add_scalar(1e-12)
        .recip()
        .mul_scalar(max_grad_norm)
        .clamp_max(1.0)
}

fn rows(t: &Tensor<2>, range: std::ops::Range<usize>) -> Tensor<2> {
    let [_, w] = t.dims();
    t.clone().slice([range, 0..w])
}

/// The weights and biases of the critic's linear layers (hidden, then output), as constants.
fn layers(critic: &Discriminator) -> (Vec<Tensor<2>>, Vec<Option<Tensor<1>>>) {
    let all = critic.hidden.iter().chain(std::iter::once(&critic.output));
    all.map(|l| {
        (
            l.weight.val().inner(),
            l.bias.as_ref().map(|p| p.val().inner()),
        )
    })
    .unzip()
}

/// The clipped gradient sum of the critic loss over the units of `batch` (see the module
/// docs). Works on the critic's current weights as constants; the caller adds noise and
/// divides by the expected batch size. With no unit (an empty Poisson sample) it is zero.
pub fn clipped_gradient_sum(
    critic: &Discriminator,
    batch: &PrivateBatch,
    settings: ClipSettings,
) -> ClippedSum {
    let [n, _] = batch.real.dims();
    let device = batch.real.device();
    let (weights, biases) = layers(critic);
    let k_layers = weights.len();
    if n == 0 {
        return ClippedSum {
            weights: weights.iter().map(|w| w.zeros_like()).collect(),
            biases: weights
                .iter()
                .map(|w| Tensor::<1>::zeros([w.dims()[1]], &device))
                .collect(),
            row_norms: None,
            loss: Tensor::<1>::zeros([1], &device),
        };
    }
    let (real, fake, interp) = (0..n, n..2 * n, 2 * n..3 * n);

    // Forward over [real; fake; interpolated]: the input of each layer and the hidden slopes.
    let input = Tensor::cat(
        vec![
            batch.real.clone(),
            batch.fake.clone(),
            batch.interpolated.clone(),
        ],
        0,
    );
    let mut layer_inputs = vec![input]; // a_k: input of layer k
    let mut slopes = Vec::with_capacity(k_layers - 1); // s_k: after hidden layer k
    for k in 0..k_layers {
        let a = layer_inputs.last().expect("the input is there");
        let mut z = a.clone().matmul(weights[k].clone());
        if let Some(bias) = &biases[k] {
            z = z + bias.clone().unsqueeze_dim(0);
        }
        if k + 1 == k_layers {
            layer_inputs.push(z); // the scores
            break;
        }
        let positive = z.clone().greater_elem(0.0).float();
        let mut s = positive
            .mul_scalar(1.0 - settings.leaky_slope)
            .add_scalar(settings.leaky_slope);
        if let Some(mask) = batch.masks.get(k) {
            s = s * mask.clone();
        }
        layer_inputs.push(z * s.clone());
        slopes.push(s);
    }
    let scores = layer_inputs.pop().expect("scores were pushed");

    // Gradient of the loss at each layer's output for the scored rows [real; fake]:
    // −w_i for real rows, 1 for fake rows, then back through the constant slopes.
    let d_scores = Tensor::cat(
        vec![
            batch.real_weights.clone().neg(),
            Tensor::<2>::ones([n, 1], &device),
        ],
        0,
    );
    let mut output_grads = vec![d_scores]; // built from the last layer down
    for k in (0..k_layers - 1).rev() {
        let upstream = output_grads.last().expect("seeded with the scores");
        let g = upstream.clone().matmul(weights[k + 1].clone().transpose())
            * rows(&slopes[k], 0..2 * n);
        output_grads.push(g);
    }
    output_grads.reverse(); // output_grads[k]: [2n, d_{k+1}]

    // Input-gradient chain of the interpolates: u_k is the input of layer k's transposed use,
    // v_k = u_k W_kᵀ its output; u_{k−1} = v_k ⊙ s_{k−1}.
    let mut uses = vec![Tensor::<2>::ones([n, 1], &device)]; // u_{K−1}
    let mut v = uses[0]
        .clone()
        .matmul(weights[k_layers - 1].clone().transpose());
    for k in (0..k_layers - 1).rev() {
        let u = v * rows(&slopes[k], interp.clone());
        v = u.clone().matmul(weights[k].clone().transpose());
        uses.push(u);
    }
    uses.reverse(); // uses[k] = u_k
    let input_gradient = v; // [n, d_0]
    let norm = input_gradient
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .add_scalar(1e-12)
        .sqrt(); // [n, 1]
    let gap = norm.clone().sub_scalar(1.0);
    let loss = rows(&scores, fake.clone()).sum()
        - (rows(&scores, real.clone()) * batch.real_weights.clone()).sum()
        + gap
            .clone()
            .powf_scalar(2.0)
            .sum()
            .mul_scalar(settings.gp_lambda);
    // q_k: gradient of the penalty at v_k. q_0 = 2λ (‖v_0‖ − 1) v_0 / ‖v_0‖, and
    // q_k = (q_{k−1} W_{k−1}) ⊙ s_{k−1}.
    let mut penalty_grads =
        vec![input_gradient * (gap.mul_scalar(2.0 * settings.gp_lambda) / norm)];
    for k in 1..k_layers {
        let q = penalty_grads[k - 1].clone().matmul(weights[k - 1].clone())
            * rows(&slopes[k - 1], interp.clone());
        penalty_grads.push(q);
    }

    // Squared norm of each unit's whole gradient: three uses per weight, with cross terms.
    let mut norm2 = Tensor::<2>::zeros([n, 1], &device);
    for k in 0..k_layers {
        let (x, f) = (
            rows(&layer_inputs[k], real.clone()),
            rows(&layer_inputs[k], fake.clone()),
        );
        let (p, r) = (
            rows(&output_grads[k], 0..n),
            rows(&output_grads[k], n..2 * n),
        );
        let (q, u) = (&penalty_grads[k], &uses[k]);
        let cross = row_dot(&x, &f) * row_dot(&p, &r)
            + row_dot(&x, q) * row_dot(&p, u)
            + row_dot(&f, q) * row_dot(&r, u);
        norm2 = norm2
            + row_dot(&x, &x) * row_dot(&p, &p)
            + row_dot(&f, &f) * row_dot(&r, &r)
            + row_dot(q, q) * row_dot(u, u)
            + cross.mul_scalar(2.0);
        if biases[k].is_some() {
            let pr = p + r; // the bias sees both forward uses
            norm2 = norm2 + row_dot(&pr, &pr);
        }
    }
    // The cross terms can round the sum a hair below zero.
    let row_norms = norm2.clamp_min(0.0).sqrt();
    let factors = clip_factors(row_norms.clone(), settings.max_grad_norm); // [n, 1]

    // Clipped sums: [X; F]ᵀ diag([c; c]) [P; R] + Qᵀ diag(c) U per layer.
    let scored_factors = Tensor::cat(vec![factors.clone(), factors.clone()], 0);
    let mut weight_grads = Vec::with_capacity(k_layers);
    let mut bias_grads = Vec::with_capacity(k_layers);
    for k in 0..k_layers {
        let p = output_grads[k].clone() * scored_factors.clone();
        let x = rows(&layer_inputs[k], 0..2 * n);
        let gw = x.transpose().matmul(p.clone())
            + penalty_grads[k]
                .clone()
                .transpose()
                .matmul(uses[k].clone() * factors.clone());
        weight_grads.push(gw);
        bias_grads.push(p.sum_dim(0).squeeze_dim(0));
    }
    ClippedSum {
        weights: weight_grads,
        biases: bias_grads,
        row_norms: Some(row_norms),
        loss,
    }
}

/// The DP-SGD gradient: the clipped sum plus N(0, σ²C²) on every coordinate, divided by the
/// expected batch size `b` (dividing by the realised size would leak it). Returns weight and
/// bias gradients per layer, on the sum's device.
pub fn noisy_gradient(
    sum: ClippedSum,
    noise_multiplier: f64,
    max_grad_norm: f64,
    expected_batch: usize,
    rng: &mut super::noise::DpRng,
) -> (Vec<Tensor<2>>, Vec<Tensor<1>>) {
    let std = noise_multiplier * max_grad_norm;
    let scale = 1.0 / expected_batch as f64;
    let weights = sum
        .weights
        .into_iter()
        .map(|g| {
            let dims = g.dims();
            let noise: Vec<f32> = rng
                .gaussian(dims[0] * dims[1], std)
                .into_iter()
                .map(|x| x as f32)
                .collect();
            let noise = Tensor::<2>::from_data(TensorData::new(noise, dims), &g.device());
            (g + noise).mul_scalar(scale)
        })
        .collect();
    let biases = sum
        .biases
        .into_iter()
        .map(|g| {
            let dims = g.dims();
            let noise: Vec<f32> = rng
                .gaussian(dims[0], std)
                .into_iter()
                .map(|x| x as f32)
                .collect();
            let noise = Tensor::<1>::from_data(TensorData::new(noise, dims), &g.device());
            (g + noise).mul_scalar(scale)
        })
        .collect();
    (weights, biases)
}
