//! One CTGAN training step on the host engine ([`crate::model::host`]): the same losses as
//! [`super::step`] (training-by-sampling, PacGAN, WGAN-GP, condition loss, the pair-marginal
//! loss; in DP mode the clipped and noised critic step of [`crate::dp::clip`] on the same
//! private draws), without burn's per-operation costs.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::pairs::PairTarget;
use super::step::{mechanism, noised_update, DpSettings, Secret, StepContext};
use crate::dp::clip::{clipped_sum, host_layers, ClipSettings, PrivateBatch};
use crate::model::host::critic::Grads;
use crate::model::host::generator::Grads as GeneratorGrads;
use crate::model::host::output::{activate, activate_backward, condition_loss, gumbel_in_place};
use crate::model::host::{dropout_mask, Adam, HostCritic, HostGenerator, Mat};
use crate::sampler::Conditions;
use crate::transform::Span;

/// The state of host-engine training: both networks and their optimisers.
#[derive(Debug, Clone, PartialEq)]
pub struct HostNetworks {
    /// The generator.
    pub generator: HostGenerator,
    /// The critic.
    pub critic: HostCritic,
    /// The generator's Adam.
    pub generator_optim: Adam,
    /// The critic's Adam.
    pub critic_optim: Adam,
}

/// The random draws of one pass that burn takes from its device generator: drawn here from
/// `noise`, a fast stream reseeded every step.
fn normal(rows: usize, cols: usize, noise: &mut ChaCha8Rng) -> Mat {
    Mat::from_vec(
        rows,
        cols,
        (0..rows * cols)
            .map(|_| noise.sample::<f32, _>(StandardNormal))
            .collect(),
    )
}

/// Gumbel(0, 1) noise `-ln(-ln U)`, U uniform in (1e-7, 1 - 1e-7) as the burn path draws it:
/// the draws first, then the logarithms over the whole slice ([`gumbel_in_place`]).
fn gumbel(rows: usize, cols: usize, noise: &mut ChaCha8Rng) -> Mat {
    let mut values: Vec<f32> = (0..rows * cols)
        .map(|_| noise.random_range(1e-7f32..1.0 - 1e-7))
        .collect();
    gumbel_in_place(&mut values);
    Mat::from_vec(rows, cols, values)
}

/// Inverted dropout masks `[n, width]` per hidden layer (empty when `rate` is 0).
fn dropout_masks(critic: &HostCritic, n: usize, rate: f64, noise: &mut ChaCha8Rng) -> Vec<Mat> {
    if rate <= 0.0 {
        return Vec::new();
    }
    critic
        .biases
        .iter()
        .map(|b| Mat::from_vec(n, b.len(), dropout_mask(noise, n * b.len(), 1.0 - rate)))
        .collect()
}

fn one_hot(ctx: &StepContext, conds: &Conditions) -> Mat {
    Mat::from_vec(
        conds.columns.len(),
        ctx.conditions.dim(),
        ctx.conditions.one_hot(conds),
    )
}

/// Generator input `[rows, embedding + condition]`: standard normal z beside the condition.
fn generator_input(ctx: &StepContext, cond: Option<&Mat>, noise: &mut ChaCha8Rng) -> Mat {
    let z = normal(ctx.batch, ctx.embedding_dim, noise);
    match cond {
        Some(c) => z.hcat(c),
        None => z,
    }
}

/// One critic update; returns its loss.
fn critic_step(
    ctx: &StepContext,
    nets: &mut HostNetworks,
    rng: &mut ChaCha8Rng,
    noise: &mut ChaCha8Rng,
) -> f64 {
    let b = ctx.batch;
    let conds = ctx.conditions.sample_train(b, ctx.log_frequency, rng);
    // Real rows that match shuffled copies of the fake rows' conditions.
    let (real_rows, real_cond) = match &conds {
        Some(c) => {
            let mut perm: Vec<usize> = (0..b).collect();
            perm.shuffle(rng);
            let permuted = Conditions {
                columns: perm.iter().map(|&i| c.columns[i]).collect(),
                slots: perm.iter().map(|&i| c.slots[i]).collect(),
            };
            (
                ctx.rows_by_slot.sample(&permuted, rng),
                Some(one_hot(ctx, &permuted)),
            )
        }
        None => (
            (0..b)
                .map(|_| rng.random_range(0..ctx.n_rows) as u32)
                .collect(),
            None,
        ),
    };
    let fake_cond = conds.as_ref().map(|c| one_hot(ctx, c));
    let (raw, _) = nets
        .generator
        .forward_train(generator_input(ctx, fake_cond.as_ref(), noise));
    let fake = activate(
        &raw,
        &ctx.spans,
        &gumbel(b, raw.cols, noise),
        ctx.tau as f32,
    );
    let real = Mat::from_vec(b, ctx.data.dim, ctx.data.gather(&real_rows));
    let (real, fake) = match (real_cond, fake_cond) {
        (Some(rc), Some(fc)) => (real.hcat(&rc), fake.hcat(&fc)),
        _ => (real, fake),
    };
    let m = b / ctx.pac;
    let alpha: Vec<f32> = (0..m).map(|_| noise.random()).collect();
    let masks = dropout_masks(&nets.critic, 3 * m, ctx.dropout, noise);
    let (loss, grads) = critic_gradients(
        &nets.critic,
        &real,
        &fake,
        ctx.pac,
        &alpha,
        &masks,
        ctx.leaky_slope as f32,
        ctx.gp_lambda as f32,
    );
    let params = nets.critic.params_mut();
    nets.critic_optim.step(ctx.discriminator_lr, params, &grads);
    loss
}

/// The critic's WGAN-GP loss `mean(D(fake)) - mean(D(real)) + penalty` and its parameter
/// gradients, for real and fake rows `[batch, row_dim]` (conditions appended) packed `pac`
/// to a critic input, interpolation weights `alpha` `[batch / pac]` and dropout `masks`
/// `[3 * batch / pac, width]` (rows: real packs, fake packs, interpolated packs).
#[allow(clippy::too_many_arguments)]
pub fn critic_gradients(
    critic: &HostCritic,
    real: &Mat,
    fake: &Mat,
    pac: usize,
    alpha: &[f32],
    masks: &[Mat],
    slope: f32,
    lambda: f32,
) -> (f64, Grads) {
    let m = real.rows / pac;
    let width = real.cols * pac;
    // [real; fake; interpolated] as packs, one critic pass.
    let mut x = Mat::zeros(3 * m, width);
    x.data[..m * width].copy_from_slice(&real.data);
    x.data[m * width..2 * m * width].copy_from_slice(&fake.data);
    for (i, &a) in alpha.iter().enumerate() {
        let row = &mut x.data[(2 * m + i) * width..(2 * m + i + 1) * width];
        let r = &real.data[i * width..(i + 1) * width];
        let f = &fake.data[i * width..(i + 1) * width];
        for ((o, &r), &f) in row.iter_mut().zip(r).zip(f) {
            *o = a * r + (1.0 - a) * f;
        }
    }
    let pass = critic.forward(x, slope, masks);
    let mean = |s: &[f32]| s.iter().map(|&v| v as f64).sum::<f64>() / m as f64;
    let score_loss = mean(&pass.scores[m..2 * m]) - mean(&pass.scores[..m]);
    let mut grads = critic.zero_grads();
    let mut d_scores = vec![-1.0 / m as f32; m];
    d_scores.extend(std::iter::repeat_n(1.0 / m as f32, m));
    critic.backward_scores(&pass, 0..2 * m, &d_scores, Some(&mut grads), false);
    let penalty = critic.penalty(&pass, 2 * m..3 * m, lambda, &mut grads);
    (score_loss + penalty as f64, grads)
}

/// One generator update against the current critic; returns its loss.
fn generator_step(
    ctx: &StepContext,
    nets: &mut HostNetworks,
    rng: &mut ChaCha8Rng,
    noise: &mut ChaCha8Rng,
) -> f64 {
    let b = ctx.batch;
    let conds = ctx.conditions.sample_train(b, ctx.log_frequency, rng);
    let cond = conds.as_ref().map(|c| one_hot(ctx, c));
    let input = generator_input(ctx, cond.as_ref(), noise);
    let gumbel = gumbel(b, ctx.data.dim, noise);
    let masks = dropout_masks(&nets.critic, b / ctx.pac, ctx.dropout, noise);
    let weights = ctx
        .pairs
        .as_ref()
        .map(|_| ctx.sampling_weights(conds.as_ref()));
    let pairs = ctx.pairs.as_ref().zip(weights.as_deref());
    let (loss, grads) = generator_gradients(
        &mut nets.generator,
        &nets.critic,
        &ctx.spans,
        input,
        &gumbel,
        cond.as_ref(),
        &masks,
        ctx.pac,
        ctx.leaky_slope as f32,
        ctx.tau as f32,
        pairs,
    );
    let params = nets.generator.params_mut();
    nets.generator_optim.step(ctx.generator_lr, params, &grads);
    loss
}

/// The generator's loss `-mean(D(fake)) + condition loss` and its parameter gradients (the
/// critic stays fixed), for generator `input` `[batch, embedding + condition]`, Gumbel noise
/// `[batch, data_dim]`, the condition one-hots `[batch, condition_dim]`, the critic's
/// dropout `masks` `[batch / pac, width]` and, in DP mode with `privacy.pair_marginals`, the
/// pair target with the batch's sampling weights `[batch]` (its loss joins the generator's).
/// The forward pass updates BatchNorm's running statistics.
#[allow(clippy::too_many_arguments)]
pub fn generator_gradients(
    generator: &mut HostGenerator,
    critic: &HostCritic,
    spans: &[Span],
    input: Mat,
    gumbel: &Mat,
    cond: Option<&Mat>,
    masks: &[Mat],
    pac: usize,
    slope: f32,
    tau: f32,
    pairs: Option<(&PairTarget, &[f32])>,
) -> (f64, GeneratorGrads) {
    let (raw, cache) = generator.forward_train(input);
    let (b, data_dim) = (raw.rows, raw.cols);
    let fake = activate(&raw, spans, gumbel, tau);
    let row_width = data_dim + cond.map_or(0, |c| c.cols);
    let packed = match cond {
        Some(c) => fake.hcat(c),
        None => fake.clone(),
    };
    let m = b / pac;
    let pass = critic.forward(packed.reshape(m, row_width * pac), slope, masks);
    let mut loss = -pass.scores.iter().map(|&v| v as f64).sum::<f64>() / m as f64;
    let d_scores = vec![-1.0 / m as f32; m];
    let d_input = critic
        .backward_scores(&pass, 0..m, &d_scores, None, true)
        .expect("the input gradient was asked for")
        .reshape(b, row_width);
    let mut d_fake = Mat::zeros(b, data_dim);
    for r in 0..b {
        d_fake
            .row_mut(r)
            .copy_from_slice(&d_input.row(r)[..data_dim]);
    }
    if let Some((target, weights)) = pairs {
        loss += target.correlation_loss_host(&fake, weights, &mut d_fake);
    }
    let mut d_raw = activate_backward(&fake, &d_fake, spans, tau);
    if let Some(c) = cond {
        loss += condition_loss(&raw, spans, c, &mut d_raw) as f64;
    }
    if let Some((target, weights)) = pairs {
        loss += target.loss_host(&raw, weights, &mut d_raw);
    }
    (loss, generator.backward(&cache, &d_raw))
}

/// One DP-SGD critic update on the host engine: the same private draws
/// ([`crate::dp::units`]), clipped sum and noise ([`crate::dp::clip`]) as the burn engine's
/// step, on host matrices. Returns the critic loss per expected batch row.
fn dp_critic_step(
    ctx: &StepContext,
    dp: &DpSettings,
    nets: &mut HostNetworks,
    rng: &mut ChaCha8Rng,
    noise: &mut ChaCha8Rng,
    secret: Secret,
) -> f64 {
    let Secret {
        rng: dp_rng,
        canaries,
    } = secret;
    let (noise_multiplier, clip_norm) = mechanism(dp, canaries.as_deref());
    let hidden_widths: Vec<usize> = nets.critic.biases.iter().map(Vec::len).collect();
    let draws = ctx.draw_private_units(dp, &hidden_widths, dp_rng);
    let n = draws.rows.len();
    // Exactly B fake rows whatever n is (see step.rs: the generator's BatchNorm mixes the rows
    // of its batch and its running statistics are released).
    let b = ctx.batch;
    let conds = ctx.conditions.sample_train(b, ctx.log_frequency, rng);
    let fake_cond = conds.as_ref().map(|c| one_hot(ctx, c));
    let (raw, _) = nets
        .generator
        .forward_train(generator_input(ctx, fake_cond.as_ref(), noise));
    let mut pool = activate(
        &raw,
        &ctx.spans,
        &gumbel(b, raw.cols, noise),
        ctx.tau as f32,
    );
    if let Some(c) = &fake_cond {
        pool = pool.hcat(c);
    }
    let width = pool.cols;
    let batch = if n == 0 {
        // Nothing sampled: the update is noise alone.
        PrivateBatch {
            real: Mat::zeros(0, width),
            real_weights: Mat::zeros(0, 1),
            fake: Mat::zeros(0, width),
            interpolated: Mat::zeros(0, width),
            masks: Vec::new(),
        }
    } else {
        let mut fake = Mat::zeros(n, width);
        for (i, &p) in draws.partners.iter().enumerate() {
            fake.row_mut(i).copy_from_slice(pool.row(p as usize));
        }
        let mut real = Mat::from_vec(n, ctx.data.dim, ctx.data.gather(&draws.rows));
        if ctx.conditions.columns() > 0 {
            real = real.hcat(&one_hot(ctx, &draws.conditions));
        }
        let mut interpolated = Mat::zeros(n, width);
        for (i, &a) in draws.alpha.iter().enumerate() {
            let (r, f) = (real.row(i), fake.row(i));
            for ((o, &r), &f) in interpolated.row_mut(i).iter_mut().zip(r).zip(f) {
                *o = a * r + (1.0 - a) * f;
            }
        }
        let masks = draws
            .masks
            .into_iter()
            .zip(&hidden_widths)
            .map(|(mask, &w)| Mat::from_vec(3 * n, w, mask))
            .collect();
        PrivateBatch {
            real,
            real_weights: Mat::from_vec(n, 1, draws.weights),
            fake,
            interpolated,
            masks,
        }
    };
    let sum = clipped_sum(
        &host_layers(&nets.critic),
        &batch,
        ClipSettings {
            max_grad_norm: clip_norm,
            gp_lambda: ctx.gp_lambda,
            leaky_slope: ctx.leaky_slope,
        },
    );
    let loss = sum.loss / b as f64;
    let (weights, biases) =
        noised_update(sum, dp, (noise_multiplier, clip_norm), b, canaries, dp_rng);
    // In the order of HostCritic::params_mut: per layer its weight, then its bias.
    let grads: Grads = weights
        .into_iter()
        .zip(biases)
        .flat_map(|(w, b)| [w.data, b.data])
        .collect();
    let params = nets.critic.params_mut();
    nets.critic_optim.step(ctx.discriminator_lr, params, &grads);
    loss
}

/// One critic update, with DP when `ctx.dp` is set (then `secret` is required). Returns its
/// loss.
pub fn discriminator_step(
    ctx: &StepContext,
    nets: &mut HostNetworks,
    rng: &mut ChaCha8Rng,
    noise: &mut ChaCha8Rng,
    secret: Option<Secret>,
) -> f64 {
    match &ctx.dp {
        Some(dp) => dp_critic_step(
            ctx,
            dp,
            nets,
            rng,
            noise,
            secret.expect("DP mode needs its secure generator"),
        ),
        None => critic_step(ctx, nets, rng, noise),
    }
}

/// One training step (`discriminator_steps` critic updates, then `generator_steps` generator
/// updates) on the step context's table. `rng` is the training stream
/// (conditions, real rows); `noise` the step's stream for the networks' random inputs;
/// `secret` the DP side, required in DP mode. Returns the last (generator, critic) losses.
pub fn train_step(
    ctx: &StepContext,
    nets: &mut HostNetworks,
    rng: &mut ChaCha8Rng,
    noise: &mut ChaCha8Rng,
    mut secret: Option<Secret>,
) -> (f64, f64) {
    let mut loss_d = 0.0;
    for _ in 0..ctx.discriminator_steps {
        let secret = secret.as_mut().map(Secret::reborrow);
        loss_d = discriminator_step(ctx, nets, rng, noise, secret);
    }
    let mut loss_g = 0.0;
    for _ in 0..ctx.generator_steps {
        loss_g = generator_step(ctx, nets, rng, noise);
    }
    (loss_g, loss_d)
}
