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
//!
//! The arithmetic is written once over [`Matrix`], which burn tensors and the host engine's
//! matrices implement; the per-unit norms and clip factors are computed on the host in `f64`
//! from per-row dot products read back in one transfer.

use burn::tensor::Tensor;

use super::matrix::Matrix;
use crate::model::host::{HostCritic, Mat};
use crate::model::Discriminator;

/// Rows of one DP critic step, all on the same (non-autodiff) device.
pub struct PrivateBatch<M = Tensor<2>> {
    /// Real rows with their conditions, `[n, d]` (Poisson-sampled).
    pub real: M,
    /// Loss weight of each real row, `[n, 1]` (matches the condition distributions).
    pub real_weights: M,
    /// Fake rows with their conditions, `[n, d]`: fake row `i` is paired with real row `i`
    /// (drawn, with replacement, from a pool whose size does not depend on `n`).
    pub fake: M,
    /// Interpolates, `[n, d]`: row `i` mixes real row `i` with fake row `i`.
    pub interpolated: M,
    /// Per hidden layer, the dropout mask over the rows `[real; fake; interpolated]`
    /// (`[3n, width]`); empty without dropout.
    pub masks: Vec<M>,
}

/// One linear layer of the critic, as constants.
pub struct CriticLayer<M = Tensor<2>> {
    /// Weight `[d_in, d_out]`.
    pub weight: M,
    /// Bias `[1, d_out]`, when the layer has one.
    pub bias: Option<M>,
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
pub struct ClippedSum<M = Tensor<2>> {
    /// Per linear layer (hidden layers, then the output layer): weight gradient `[d_in, d_out]`.
    pub weights: Vec<M>,
    /// Per linear layer: bias gradient `[1, d_out]` (zero for a layer without bias).
    pub biases: Vec<M>,
    /// Each unit's unclipped gradient norm (empty when no row was sampled).
    pub row_norms: Vec<f64>,
    /// The summed loss `Σ_i (D(f_i) − w_i D(x_i) + λ (‖∇D(x̂_i)‖ − 1)²)`.
    pub loss: f64,
}

/// `min(1, C / norm)`: the factor that clips a gradient of norm `norm` to at most C (also
/// clips `dpsynth audit`'s gradient canaries).
pub fn clip_factor(norm: f64, max_grad_norm: f64) -> f64 {
    (max_grad_norm / (norm + 1e-12)).min(1.0)
}

/// The weights and biases of a burn critic's linear layers (hidden, then output).
pub fn burn_layers(critic: &Discriminator) -> Vec<CriticLayer> {
    let all = critic.hidden.iter().chain(std::iter::once(&critic.output));
    all.map(|l| CriticLayer {
        weight: l.weight.val().inner(),
        bias: l.bias.as_ref().map(|p| p.val().inner().unsqueeze_dim(0)),
    })
    .collect()
}

/// The weights and biases of a host critic's linear layers (hidden, then output).
pub fn host_layers(critic: &HostCritic) -> Vec<CriticLayer<Mat>> {
    let bias = |b: &[f32]| Some(Mat::from_vec(1, b.len(), b.to_vec()));
    critic
        .weights
        .iter()
        .zip(&critic.biases)
        .map(|(w, b)| CriticLayer {
            weight: w.clone(),
            bias: bias(b),
        })
        .chain(std::iter::once(CriticLayer {
            weight: critic.out_weight.clone(),
            bias: bias(&critic.out_bias),
        }))
        .collect()
}

/// [`clipped_sum`] for a burn critic.
pub fn clipped_gradient_sum(
    critic: &Discriminator,
    batch: &PrivateBatch,
    settings: ClipSettings,
) -> ClippedSum {
    clipped_sum(&burn_layers(critic), batch, settings)
}

fn row_dot<M: Matrix>(a: &M, b: &M) -> M {
    a.row_dots(b)
}

/// The clipped gradient sum of the critic loss over the units of `batch` (see the module
/// docs), for the critic whose linear layers are `layers`. The caller adds noise and divides
/// by the expected batch size. With no unit (an empty Poisson sample) it is zero.
pub fn clipped_sum<M: Matrix>(
    layers: &[CriticLayer<M>],
    batch: &PrivateBatch<M>,
    settings: ClipSettings,
) -> ClippedSum<M> {
    let [n, _] = batch.real.dims();
    let k_layers = layers.len();
    let like = &batch.real;
    let zeros = |rows: usize, cols: usize| like.upload(vec![0.0; rows * cols], rows, cols);
    if n == 0 {
        return ClippedSum {
            weights: layers
                .iter()
                .map(|l| {
                    let [d_in, d_out] = l.weight.dims();
                    zeros(d_in, d_out)
                })
                .collect(),
            biases: layers
                .iter()
                .map(|l| zeros(1, l.weight.dims()[1]))
                .collect(),
            row_norms: Vec::new(),
            loss: 0.0,
        };
    }
    let ones = like.upload(vec![1.0; n], n, 1);
    let (real, fake, interp) = (0..n, n..2 * n, 2 * n..3 * n);

    // Forward over [real; fake; interpolated]: the input of each layer and the hidden slopes.
    // layer_inputs[k] = a_k [3n, d_k]; slopes[k] = s_k [3n, d_{k+1}].
    let input = M::cat_rows(&[
        batch.real.clone(),
        batch.fake.clone(),
        batch.interpolated.clone(),
    ]);
    let mut layer_inputs = vec![input];
    let mut slopes = Vec::with_capacity(k_layers - 1);
    for (k, layer) in layers.iter().enumerate() {
        let a = layer_inputs.last().expect("the input is there");
        let mut z = a.product(false, &layer.weight, false);
        if let Some(bias) = &layer.bias {
            z = z.add(bias);
        }
        if k + 1 == k_layers {
            layer_inputs.push(z); // the scores [3n, 1]
            break;
        }
        let mut s = z.leaky_slopes(settings.leaky_slope);
        if let Some(mask) = batch.masks.get(k) {
            s = s.mul(mask);
        }
        layer_inputs.push(z.mul(&s));
        slopes.push(s);
    }
    let scores = layer_inputs.pop().expect("scores were pushed");

    // Gradient of the loss at each layer's output for the scored rows [real; fake]:
    // −w_i for real rows, 1 for fake rows, then back through the constant slopes.
    let d_scores = M::cat_rows(&[batch.real_weights.clone().scale(-1.0), ones.clone()]);
    let mut output_grads = vec![d_scores]; // built from the last layer down
    for k in (0..k_layers - 1).rev() {
        let upstream = output_grads.last().expect("seeded with the scores");
        let g = upstream
            .product(false, &layers[k + 1].weight, true)
            .mul_rows(&slopes[k], 0..2 * n);
        output_grads.push(g);
    }
    output_grads.reverse(); // output_grads[k]: [2n, d_{k+1}]

    // The hidden slopes at the interpolates, used by both chains below, are s_k's rows
    // 2n..3n (`interp`).
    // Input-gradient chain of the interpolates: u_k is the input of layer k's transposed use,
    // v_k = u_k W_kᵀ its output; u_{k−1} = v_k ⊙ s_{k−1}.
    let mut uses = vec![ones.clone()]; // u_{K−1}
    let mut v = ones.product(false, &layers[k_layers - 1].weight, true);
    for k in (0..k_layers - 1).rev() {
        let u = v.mul_rows(&slopes[k], interp.clone());
        v = u.product(false, &layers[k].weight, true);
        uses.push(u);
    }
    uses.reverse(); // uses[k] = u_k
    let input_gradient = v; // v_0 = ∇D(x̂) [n, d_0]

    // One transfer: ‖v_0‖ per unit, for the penalty's gradient.
    let norms: Vec<f64> = row_dot(&input_gradient, &input_gradient)
        .download()
        .iter()
        .map(|&x| (x as f64 + 1e-12).sqrt())
        .collect();
    let gaps: Vec<f64> = norms.iter().map(|g| g - 1.0).collect();
    // q_k: gradient of the penalty at v_k. q_0 = 2λ (‖v_0‖ − 1) v_0 / ‖v_0‖, and
    // q_k = (q_{k−1} W_{k−1}) ⊙ s_{k−1}.
    let coefficients = gaps
        .iter()
        .zip(&norms)
        .map(|(gap, norm)| (2.0 * settings.gp_lambda * gap / norm) as f32)
        .collect();
    let mut penalty_grads = vec![input_gradient.mul(&like.upload(coefficients, n, 1))];
    for k in 1..k_layers {
        let q = penalty_grads[k - 1]
            .product(false, &layers[k - 1].weight, false)
            .mul_rows(&slopes[k - 1], interp.clone());
        penalty_grads.push(q);
    }

    // Per-row dot products for each unit's squared gradient norm (three uses per weight, with
    // cross terms), with the scores and weights for the loss: read back in one transfer.
    // Layer k's uses, each unit's row i of: x = a_k (real rows), f = a_k (fake rows),
    // p, r = the output gradients of those rows, q = the penalty gradient, u = its use.
    let mut columns = vec![
        scores.rows(real.clone()),
        scores.rows(fake.clone()),
        batch.real_weights.clone(),
    ];
    let all = 0..n;
    for k in 0..k_layers {
        let (a, g) = (&layer_inputs[k], &output_grads[k]);
        let (q, u) = (&penalty_grads[k], &uses[k]);
        let (p, r) = (0..n, n..2 * n); // rows of g
        columns.extend([
            a.row_dots_between(real.clone(), a, real.clone()), // x·x
            g.row_dots_between(p.clone(), g, p.clone()),       // p·p
            a.row_dots_between(fake.clone(), a, fake.clone()), // f·f
            g.row_dots_between(r.clone(), g, r.clone()),       // r·r
            row_dot(q, q),
            row_dot(u, u),
            a.row_dots_between(real.clone(), a, fake.clone()), // x·f
            g.row_dots_between(p.clone(), g, r.clone()),       // p·r
            a.row_dots_between(real.clone(), q, all.clone()),  // x·q
            g.row_dots_between(p.clone(), u, all.clone()),     // p·u
            a.row_dots_between(fake.clone(), q, all.clone()),  // f·q
            g.row_dots_between(r.clone(), u, all.clone()),     // r·u
        ]);
    }
    let width = columns.len();
    let dots = M::cat_cols(&columns).download(); // [n, width]
    let mut row_norms = Vec::with_capacity(n);
    let mut loss = 0.0;
    for i in 0..n {
        let row: Vec<f64> = dots[i * width..(i + 1) * width]
            .iter()
            .map(|&x| x as f64)
            .collect();
        loss += row[1] - row[2] * row[0] + settings.gp_lambda * gaps[i] * gaps[i];
        let mut norm2 = 0.0;
        let mut at = 3;
        for layer in layers {
            let d = &row[at..at + 12];
            norm2 += d[0] * d[1]
                + d[2] * d[3]
                + d[4] * d[5]
                + 2.0 * (d[6] * d[7] + d[8] * d[9] + d[10] * d[11]);
            if layer.bias.is_some() {
                // The bias sees both forward uses: ‖p + r‖² = p·p + r·r + 2 p·r.
                norm2 += d[1] + d[3] + 2.0 * d[7];
            }
            at += 12;
        }
        // The cross terms can round the sum a hair below zero.
        row_norms.push(norm2.max(0.0).sqrt());
    }
    let factors: Vec<f32> = row_norms
        .iter()
        .map(|&g| clip_factor(g, settings.max_grad_norm) as f32)
        .collect();
    let factors = like.upload(factors, n, 1); // [n, 1]

    // Clipped sums: [X; F]ᵀ diag([c; c]) [P; R] + Qᵀ diag(c) U per layer.
    let scored_factors = M::cat_rows(&[factors.clone(), factors.clone()]);
    let mut weight_grads = Vec::with_capacity(k_layers);
    let mut bias_grads = Vec::with_capacity(k_layers);
    let layer_terms = output_grads
        .into_iter()
        .zip(uses)
        .zip(&penalty_grads)
        .zip(layer_inputs);
    for (((output_grad, used), penalty_grad), input) in layer_terms {
        let p = output_grad.mul(&scored_factors);
        let x = input.first_rows(2 * n); // [real; fake]
        let penalty_part = penalty_grad.product(true, &used.mul(&factors), false);
        weight_grads.push(x.product(true, &p, false).add(&penalty_part));
        bias_grads.push(p.column_sums());
    }
    ClippedSum {
        weights: weight_grads,
        biases: bias_grads,
        row_norms,
        loss,
    }
}

/// The DP-SGD gradient: the clipped sum plus N(0, σ²C²) on every coordinate, divided by the
/// expected batch size `b` (dividing by the realised size would leak it). Returns weight and
/// bias gradients per layer (`[d_in, d_out]` and `[1, d_out]`), on the sum's device. The noise
/// is drawn for every weight matrix, then for every bias, in layer order.
pub fn noisy_gradient<M: Matrix>(
    sum: ClippedSum<M>,
    noise_multiplier: f64,
    max_grad_norm: f64,
    expected_batch: usize,
    rng: &mut super::noise::DpRng,
) -> (Vec<M>, Vec<M>) {
    let std = noise_multiplier * max_grad_norm;
    let scale = 1.0 / expected_batch as f64;
    let mut noised = |g: M| {
        let [rows, cols] = g.dims();
        let noise: Vec<f32> = rng
            .gaussian(rows * cols, std)
            .into_iter()
            .map(|x| x as f32)
            .collect();
        let noise = g.upload(noise, rows, cols);
        g.add(&noise).scale(scale)
    };
    let weights = sum.weights.into_iter().map(&mut noised).collect();
    let biases = sum.biases.into_iter().map(&mut noised).collect();
    (weights, biases)
}
