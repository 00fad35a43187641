//! One CTGAN training step: `discriminator_steps` critic updates, then `generator_steps`
//! generator updates.
//!
//! The critic update is written as "loss -> gradients -> optimiser" with the gradients taken
//! per parameter, so that DP-SGD can replace the middle stage (per-row clipping and noise)
//! without touching the rest.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::Rng;

use super::pairs::PairTarget;
use crate::dp::audit::GradientCanaries;
use crate::dp::clip::{
    clipped_gradient_sum, noisy_gradient, ClipSettings, ClippedSum, PrivateBatch,
};
use crate::dp::matrix::Matrix;
use crate::dp::units::{draw_units, UnitDraws, UnitShape};
use crate::dp::DpRng;
use crate::model::discriminator::gradient_penalty;
use crate::model::{activate, condition_loss, Discriminator, Generator, Gumbel};
use crate::sampler::{ConditionSampler, RowsBySlot};
use crate::transform::{Span, SparseRows};

/// Everything a step needs that does not change between steps.
pub struct StepContext {
    /// Encoded real rows, kept sparse on the host; each step makes its batch dense.
    pub data: SparseRows,
    /// Number of real rows.
    pub n_rows: usize,
    /// Output spans of an encoded row.
    pub spans: Vec<Span>,
    /// Conditional-vector sampler.
    pub conditions: ConditionSampler,
    /// Real rows grouped by category, for training-by-sampling (non-DP mode).
    pub rows_by_slot: RowsBySlot,
    /// DP mode's settings; `None` without DP.
    pub dp: Option<DpSettings>,
    /// Batch size (a multiple of `pac`).
    pub batch: usize,
    /// PacGAN packing.
    pub pac: usize,
    /// Width of the generator's random input.
    pub embedding_dim: usize,
    /// Gradient-penalty weight.
    pub gp_lambda: f64,
    /// Gumbel temperature.
    pub tau: f64,
    /// LeakyReLU slope in the critic.
    pub leaky_slope: f64,
    /// Dropout in the critic.
    pub dropout: f64,
    /// Log-frequency conditioning.
    pub log_frequency: bool,
    /// Critic updates per step.
    pub discriminator_steps: usize,
    /// Generator updates per step, after the critic's.
    pub generator_steps: usize,
    /// Learning rates.
    pub generator_lr: f64,
    /// Learning rate of the critic.
    pub discriminator_lr: f64,
    /// The training (autodiff) device.
    pub device: Device,
    /// DP mode with `privacy.pair_marginals`: the noisy two-way marginals the generator also
    /// learns to match.
    pub pairs: Option<PairTarget>,
}

/// What a DP critic step needs besides the shared context.
pub struct DpSettings {
    /// Each row's slot in every discrete column (`[column][row]`): real rows' own conditions.
    pub row_slots: Vec<Vec<u32>>,
    /// Poisson sampling rate q.
    pub sample_rate: f64,
    /// Noise multiplier σ.
    pub noise_multiplier: f64,
    /// Clipping norm C.
    pub max_grad_norm: f64,
}

/// The secret side of a DP step: the OS-seeded stream and, in an audit run only, the gradient
/// canaries that ride on the critic's noisy sums.
pub struct Secret<'a> {
    /// The stream every private draw comes from.
    pub rng: &'a mut DpRng,
    /// `dpsynth audit`'s canaries; `None` in every run that may be released.
    pub canaries: Option<&'a mut GradientCanaries>,
}

impl Secret<'_> {
    /// A shorter borrow of the same secret side, for one critic update.
    pub fn reborrow(&mut self) -> Secret<'_> {
        Secret {
            rng: &mut *self.rng,
            canaries: self.canaries.as_deref_mut(),
        }
    }
}

/// The mutable state of training.
pub struct Networks {
    /// The generator.
    pub generator: Generator,
    /// The critic.
    pub discriminator: Discriminator,
    /// Generator optimiser.
    pub generator_optim: ModuleOptimizer,
    /// Critic optimiser.
    pub discriminator_optim: ModuleOptimizer,
}

/// Losses of one step, still on the device (reading them back would sync every step).
pub struct StepLosses {
    /// Generator loss `[1]`.
    pub generator: Tensor<1>,
    /// Critic loss (with penalty) `[1]`.
    pub discriminator: Tensor<1>,
}

/// A batch of conditions: one-hot on the device plus the host-side choice.
struct ConditionBatch {
    one_hot: Option<Tensor<2>>,
    conditions: Option<crate::sampler::Conditions>,
}

impl StepContext {
    fn conditions(&self, rows: usize, rng: &mut impl Rng) -> ConditionBatch {
        match self.conditions.sample_train(rows, self.log_frequency, rng) {
            None => ConditionBatch {
                one_hot: None,
                conditions: None,
            },
            Some(c) => ConditionBatch {
                one_hot: Some(upload(
                    self.conditions.one_hot(&c),
                    rows,
                    self.conditions.dim(),
                    &self.device,
                )),
                conditions: Some(c),
            },
        }
    }

    fn generator_input(&self, rows: usize, cond: &ConditionBatch) -> Tensor<2> {
        let z = Tensor::<2>::random(
            [rows, self.embedding_dim],
            Distribution::Normal(0.0, 1.0),
            &self.device,
        );
        match &cond.one_hot {
            Some(c) => Tensor::cat(vec![z, c.clone()], 1),
            None => z,
        }
    }

    fn gumbel(&self, rows: usize, width: usize) -> Gumbel {
        Gumbel {
            tau: self.tau,
            uniform: Tensor::random(
                [rows, width],
                Distribution::Uniform(1e-7, 1.0 - 1e-7),
                &self.device,
            ),
        }
    }

    /// The generator as the critic step uses it: fake rows are constants there, so a view
    /// without gradient tracking spares building (and leaking) an autodiff graph.
    fn fake_rows_generator(&self, nets: &Networks) -> Generator {
        nets.generator.clone().no_grad()
    }

    /// Row weights adding up to 1 that turn a batch drawn with training's conditions
    /// (`conditions`; `None` without discrete columns) into one drawn with sampling's (the true
    /// frequencies).
    pub(super) fn sampling_weights(
        &self,
        conditions: Option<&crate::sampler::Conditions>,
    ) -> Vec<f32> {
        let mut w = match conditions {
            Some(c) if self.log_frequency => c
                .columns
                .iter()
                .zip(&c.slots)
                .map(|(&column, &slot)| {
                    let train = self.conditions.probability(column, slot, true);
                    let sample = self.conditions.probability(column, slot, false);
                    if train > 0.0 {
                        sample / train
                    } else {
                        0.0
                    }
                })
                .collect(),
            _ => vec![1.0; self.batch],
        };
        let total: f64 = w.iter().sum();
        if total > 0.0 {
            w.iter_mut().for_each(|x| *x /= total);
        } else {
            let uniform = 1.0 / w.len().max(1) as f64;
            w.fill(uniform);
        }
        w.into_iter().map(|x| x as f32).collect()
    }

    /// Packs `[batch, row_dim]` into `[batch / pac, pac * row_dim]`.
    fn pack(&self, rows: Tensor<2>) -> Tensor<2> {
        let [b, d] = rows.dims();
        rows.reshape([b / self.pac, self.pac * d])
    }
}

/// The noise multiplier and clipping norm of a DP critic step: the plan's, unless an audit run
/// switched noise or clipping off (never a run that is released).
pub(super) fn mechanism(dp: &DpSettings, canaries: Option<&GradientCanaries>) -> (f64, f64) {
    let switches = canaries.map_or(crate::dp::audit::AuditSwitches::REAL, |c| c.switches());
    let noise_multiplier = if switches.noise {
        dp.noise_multiplier
    } else {
        0.0
    };
    let clip_norm = if switches.clipping {
        dp.max_grad_norm
    } else {
        f64::INFINITY
    };
    (noise_multiplier, clip_norm)
}

impl StepContext {
    /// Every private draw of one DP critic step (rows, partners, condition columns, weights,
    /// interpolation weights, dropout masks for a critic of `hidden_widths`), from the secret
    /// stream: src/dp/units.rs. The same for both engines.
    pub(super) fn draw_private_units(
        &self,
        dp: &DpSettings,
        hidden_widths: &[usize],
        dp_rng: &mut DpRng,
    ) -> UnitDraws {
        draw_units(
            &UnitShape {
                n_rows: self.n_rows,
                sample_rate: dp.sample_rate,
                pool: self.batch,
                conditions: &self.conditions,
                row_slots: &dp.row_slots,
                log_frequency: self.log_frequency,
                dropout: self.dropout,
                hidden_widths,
            },
            dp_rng,
        )
    }
}

/// The noised critic gradient of one DP step from its clipped `sum`
/// ([`crate::dp::clip::noisy_gradient`], scaled by 1 / B), on either engine's matrices. In an
/// audit run the canaries' clipped sum joins as one more bias-like block, so that the same
/// noise function noises it, and is observed and taken out again. `mechanism` is
/// [`mechanism`]'s (noise multiplier, clipping norm).
pub(super) fn noised_update<M: Matrix>(
    mut sum: ClippedSum<M>,
    dp: &DpSettings,
    (noise_multiplier, clip_norm): (f64, f64),
    batch: usize,
    canaries: Option<&mut GradientCanaries>,
    dp_rng: &mut DpRng,
) -> (Vec<M>, Vec<M>) {
    if let Some(canaries) = &canaries {
        let block = canary_sum(canaries, dp.sample_rate, clip_norm, dp_rng);
        let like = sum.biases.first().expect("a critic has at least one layer");
        let block = like.upload(block, 1, canaries.len());
        sum.biases.push(block);
    }
    let (weights, mut biases) =
        noisy_gradient(sum, noise_multiplier, dp.max_grad_norm, batch, dp_rng);
    if let Some(canaries) = canaries {
        let observed = biases.pop().expect("the canary block was pushed last");
        let unscaled: Vec<f32> = observed
            .download()
            .iter()
            .map(|x| x * batch as f32)
            .collect();
        canaries.observe(
            &unscaled,
            dp.noise_multiplier,
            dp.sample_rate,
            dp.max_grad_norm,
        );
    }
    (weights, biases)
}

fn upload(data: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(data, [rows, cols]), device)
}

/// One DP-SGD critic update: Poisson-sampled real rows conditioned on their own categories,
/// each paired with a fake row (drawn from a pool of exactly B) into one clipped unit, then
/// Gaussian noise. Returns the critic loss (per expected batch row) on the inner device.
fn dp_critic_step(
    ctx: &StepContext,
    dp: &DpSettings,
    nets: &mut Networks,
    rng: &mut impl Rng,
    secret: Secret,
) -> Tensor<1> {
    let Secret {
        rng: dp_rng,
        canaries,
    } = secret;
    let (noise_multiplier, clip_norm) = mechanism(dp, canaries.as_deref());
    let inner = ctx.device.clone().inner();
    let hidden_widths = nets.discriminator.hidden_widths();
    let draws = ctx.draw_private_units(dp, &hidden_widths, dp_rng);
    let n = draws.rows.len();
    let data_dim = ctx.data.dim;
    let width = data_dim + ctx.conditions.dim();
    // Exactly B fake rows, whatever n is (even 0): the generator's BatchNorm mixes the rows of
    // its batch and updates running statistics that are released, so a batch of n rows (or
    // none when n = 0) would make every unit, and the released file, depend on the private n.
    // Each real row is paired with a fake row drawn uniformly and independently from the B,
    // so adding or removing a real row adds or removes exactly one unit.
    let b = ctx.batch;
    let cond = ctx.conditions(b, rng);
    let raw = ctx
        .fake_rows_generator(nets)
        .forward(ctx.generator_input(b, &cond));
    let mut fake_pool = activate(raw, &ctx.spans, &ctx.gumbel(b, data_dim)).inner();
    if let Some(c) = &cond.one_hot {
        fake_pool = Tensor::cat(vec![fake_pool, c.clone().inner()], 1);
    }
    let batch = if n == 0 {
        // Nothing sampled: the update is noise alone.
        let empty = || Tensor::<2>::zeros([0, width], &inner);
        PrivateBatch {
            real: empty(),
            real_weights: Tensor::<2>::zeros([0, 1], &inner),
            fake: empty(),
            interpolated: empty(),
            masks: Vec::new(),
        }
    } else {
        let fake = fake_pool.select(
            0,
            Tensor::<1, Int>::from_data(TensorData::new(draws.partners, [n]), &inner),
        );
        let mut real = upload(ctx.data.gather(&draws.rows), n, data_dim, &inner);
        if ctx.conditions.columns() > 0 {
            let one_hot = upload(
                ctx.conditions.one_hot(&draws.conditions),
                n,
                ctx.conditions.dim(),
                &inner,
            );
            real = Tensor::cat(vec![real, one_hot], 1);
        }
        let alpha = upload(draws.alpha, n, 1, &inner);
        let interpolated =
            real.clone() * alpha.clone() + fake.clone() * alpha.neg().add_scalar(1.0);
        let masks = draws
            .masks
            .into_iter()
            .zip(&hidden_widths)
            .map(|(mask, &w)| upload(mask, 3 * n, w, &inner))
            .collect();
        PrivateBatch {
            real,
            real_weights: upload(draws.weights, n, 1, &inner),
            fake,
            interpolated,
            masks,
        }
    };
    // Reseed the device generator from the training stream, so that later draws (the next
    // step's noise and Gumbel draws) follow the run's seed alone.
    ctx.device.seed(rng.random());
    let sum = clipped_gradient_sum(
        &nets.discriminator,
        &batch,
        ClipSettings {
            max_grad_norm: clip_norm,
            gp_lambda: ctx.gp_lambda,
            leaky_slope: ctx.leaky_slope,
        },
    );
    let loss = Tensor::<1>::from_floats([(sum.loss / ctx.batch as f64) as f32], &inner);
    let (weight_grads, bias_grads) = noised_update(
        sum,
        dp,
        (noise_multiplier, clip_norm),
        ctx.batch,
        canaries,
        dp_rng,
    );
    let mut grads = GradientsParams::new();
    let critic = &nets.discriminator;
    let layers = critic.hidden.iter().chain(std::iter::once(&critic.output));
    for ((layer, gw), gb) in layers.zip(weight_grads).zip(bias_grads) {
        grads.register(layer.weight.id, gw);
        if let Some(bias) = &layer.bias {
            grads.register(bias.id, gb.squeeze_dim::<1>(0));
        }
    }
    nets.discriminator =
        nets.discriminator_optim
            .step(ctx.discriminator_lr, nets.discriminator.clone(), grads);
    loss
}

/// The clipped sum of one step's sampled gradient canaries over their coordinates, `[m]`:
/// each sampled canary's gradient has norm `CANARY_NORM_FACTOR · C` along its own coordinate
/// and is clipped by the same function as the real units.
pub(super) fn canary_sum(
    canaries: &GradientCanaries,
    q: f64,
    clip_norm: f64,
    dp_rng: &mut DpRng,
) -> Vec<f32> {
    let sampled = canaries.sample(q, dp_rng);
    let mut sum = vec![0f32; canaries.len()];
    let unclipped = crate::dp::audit::CANARY_NORM_FACTOR
        * if clip_norm.is_finite() {
            clip_norm
        } else {
            1.0
        };
    let clipped = unclipped * crate::dp::clip::clip_factor(unclipped, clip_norm);
    for &i in &sampled {
        sum[i] += clipped as f32;
    }
    sum
}

/// One critic update without DP: training-by-sampling real rows, PacGAN packing, the WGAN-GP
/// loss through autodiff. Returns the critic loss.
fn critic_step(ctx: &StepContext, nets: &mut Networks, rng: &mut impl Rng) -> Tensor<1> {
    let cond = ctx.conditions(ctx.batch, rng);
    // Real rows that match shuffled copies of the fake rows' conditions (training-by-sampling).
    let (real_rows, real_cond) = match &cond.conditions {
        Some(c) => {
            let mut perm: Vec<usize> = (0..ctx.batch).collect();
            perm.shuffle(rng);
            let permuted = crate::sampler::Conditions {
                columns: perm.iter().map(|&i| c.columns[i]).collect(),
                slots: perm.iter().map(|&i| c.slots[i]).collect(),
            };
            let rows = ctx.rows_by_slot.sample(&permuted, rng);
            let one_hot = upload(
                ctx.conditions.one_hot(&permuted),
                ctx.batch,
                ctx.conditions.dim(),
                &ctx.device,
            );
            (rows, Some(one_hot))
        }
        None => (
            (0..ctx.batch)
                .map(|_| rng.random_range(0..ctx.n_rows) as u32)
                .collect(),
            None,
        ),
    };
    let real = upload(
        ctx.data.gather(&real_rows),
        ctx.batch,
        ctx.data.dim,
        &ctx.device,
    );
    let raw = ctx
        .fake_rows_generator(nets)
        .forward(ctx.generator_input(ctx.batch, &cond));
    let [_, data_dim] = raw.dims();
    let fake = activate(raw, &ctx.spans, &ctx.gumbel(ctx.batch, data_dim)).detach();
    let (real, fake) = match (real_cond, cond.one_hot) {
        (Some(rc), Some(fc)) => (
            Tensor::cat(vec![real, rc], 1),
            Tensor::cat(vec![fake, fc], 1),
        ),
        _ => (real, fake),
    };
    let real = ctx.pack(real);
    let fake = ctx.pack(fake);
    let [m, _] = real.dims();
    let alpha = Tensor::<2>::random([m, 1], Distribution::Default, &ctx.device);
    let interpolated = real.clone() * alpha.clone() + fake.clone() * alpha.neg().add_scalar(1.0);
    // One critic pass over [real; fake; interpolated]: fewer, larger matrix products.
    let masks = nets
        .discriminator
        .dropout_masks(3 * m, ctx.dropout, &ctx.device);
    let pass = nets.discriminator.forward(
        Tensor::cat(vec![real, fake, interpolated], 0),
        ctx.leaky_slope,
        &masks,
    );
    let y_real = pass.scores.clone().slice([0..m, 0..1]);
    let y_fake = pass.scores.clone().slice([m..2 * m, 0..1]);
    let grad = nets.discriminator.input_gradient(&pass, 2 * m..3 * m);
    let penalty = gradient_penalty(grad, ctx.gp_lambda);
    let loss = y_fake.mean() - y_real.mean() + penalty;
    let grads = GradientsParams::from_grads(loss.backward(), &nets.discriminator);
    nets.discriminator =
        nets.discriminator_optim
            .step(ctx.discriminator_lr, nets.discriminator.clone(), grads);
    loss.detach()
}

/// One critic update, with DP when `ctx.dp` is set (then `secret` is required).
pub fn discriminator_step(
    ctx: &StepContext,
    nets: &mut Networks,
    rng: &mut impl Rng,
    secret: Option<Secret>,
) -> Tensor<1> {
    match &ctx.dp {
        Some(dp) => dp_critic_step(
            ctx,
            dp,
            nets,
            rng,
            secret.expect("DP mode needs its secure generator"),
        ),
        None => critic_step(ctx, nets, rng),
    }
}

/// One generator update against the current critic (no rows are read). Returns its loss.
fn generator_step(ctx: &StepContext, nets: &mut Networks, rng: &mut impl Rng) -> Tensor<1> {
    let cond = ctx.conditions(ctx.batch, rng);
    let raw = nets
        .generator
        .forward(ctx.generator_input(ctx.batch, &cond));
    let [_, data_dim] = raw.dims();
    let fake = activate(raw.clone(), &ctx.spans, &ctx.gumbel(ctx.batch, data_dim));
    let weights = ctx.pairs.as_ref().map(|_| {
        let w = ctx.sampling_weights(cond.conditions.as_ref());
        let rows = w.len();
        upload(w, rows, 1, &ctx.device)
    });
    let correlation = ctx
        .pairs
        .as_ref()
        .zip(weights.clone())
        .and_then(|(pairs, w)| pairs.correlation_loss(fake.clone(), w));
    let fake = match &cond.one_hot {
        Some(c) => Tensor::cat(vec![fake, c.clone()], 1),
        None => fake,
    };
    // Only the generator learns from this loss: a frozen view of the critic (same weights, no
    // gradient tracking) spares the weight-gradient products of its backward pass.
    let critic = nets.discriminator.clone().no_grad();
    let packed = ctx.pack(fake);
    let [m, _] = packed.dims();
    let masks = critic.dropout_masks(m, ctx.dropout, &ctx.device);
    let scores = critic.forward(packed, ctx.leaky_slope, &masks).scores;
    let mut loss = scores.mean().neg();
    if let Some(c) = &cond.one_hot {
        loss = loss + condition_loss(raw.clone(), &ctx.spans, c.clone());
    }
    if let Some((pairs, weights)) = ctx.pairs.as_ref().zip(weights) {
        loss = loss + pairs.loss(raw, weights);
    }
    if let Some(correlation) = correlation {
        loss = loss + correlation;
    }
    let grads = GradientsParams::from_grads(loss.backward(), &nets.generator);
    nets.generator = nets
        .generator_optim
        .step(ctx.generator_lr, nets.generator.clone(), grads);
    loss.detach()
}

/// Runs one training step and returns the networks and the step's losses. `secret` is
/// required in DP mode (when `ctx.dp` is set).
pub fn train_step(
    ctx: &StepContext,
    mut nets: Networks,
    rng: &mut impl Rng,
    mut secret: Option<Secret>,
) -> (Networks, StepLosses) {
    let mut loss_d = None;
    for _ in 0..ctx.discriminator_steps {
        loss_d = Some(discriminator_step(
            ctx,
            &mut nets,
            rng,
            secret.as_mut().map(Secret::reborrow),
        ));
    }

    let mut loss_g = None;
    for _ in 0..ctx.generator_steps {
        loss_g = Some(generator_step(ctx, &mut nets, rng));
    }
    let losses = StepLosses {
        generator: loss_g.expect("at least one generator step"),
        discriminator: loss_d.expect("at least one critic step"),
    };
    (nets, losses)
}
