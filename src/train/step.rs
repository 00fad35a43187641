//! One CTGAN training step: `discriminator_steps` critic updates, then one generator update.
//!
//! The critic update is written as "loss -> gradients -> optimiser" with the gradients taken
//! per parameter, so that DP-SGD can replace the middle stage (per-row clipping and noise)
//! without touching the rest.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::Rng;

use crate::model::discriminator::gradient_penalty;
use crate::model::{Discriminator, Generator, SpanLayout};
use crate::sampler::{ConditionSampler, RowsBySlot};

/// Everything a step needs that does not change between steps.
pub struct StepContext {
    /// Encoded real rows on the training device, `[n_rows, data_dim]`.
    pub data: Tensor<2>,
    /// Number of real rows.
    pub n_rows: usize,
    /// Output spans of an encoded row, laid out for few-operation activations.
    pub layout: SpanLayout,
    /// Conditional-vector sampler.
    pub conditions: ConditionSampler,
    /// Real rows grouped by category, for training-by-sampling.
    pub rows_by_slot: RowsBySlot,
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
    /// Critic updates per generator update.
    pub discriminator_steps: usize,
    /// Learning rates.
    pub generator_lr: f64,
    /// Learning rate of the critic.
    pub discriminator_lr: f64,
    /// The training (autodiff) device.
    pub device: Device,
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
    fn conditions(&self, rng: &mut impl Rng) -> ConditionBatch {
        match self
            .conditions
            .sample_train(self.batch, self.log_frequency, rng)
        {
            None => ConditionBatch {
                one_hot: None,
                conditions: None,
            },
            Some(c) => ConditionBatch {
                one_hot: Some(upload(
                    self.conditions.one_hot(&c),
                    self.batch,
                    self.conditions.dim(),
                    &self.device,
                )),
                conditions: Some(c),
            },
        }
    }

    fn generator_input(&self, cond: &ConditionBatch) -> Tensor<2> {
        let z = Tensor::<2>::random(
            [self.batch, self.embedding_dim],
            Distribution::Normal(0.0, 1.0),
            &self.device,
        );
        match &cond.one_hot {
            Some(c) => Tensor::cat(vec![z, c.clone()], 1),
            None => z,
        }
    }

    fn gumbel(&self) -> Option<(Tensor<2>, f64)> {
        let uniform = Tensor::random(
            [self.batch, self.layout.noise_width()],
            Distribution::Uniform(1e-7, 1.0 - 1e-7),
            &self.device,
        );
        Some((uniform, self.tau))
    }

    /// Packs `[batch, row_dim]` into `[batch / pac, pac * row_dim]`.
    fn pack(&self, rows: Tensor<2>) -> Tensor<2> {
        let [b, d] = rows.dims();
        rows.reshape([b / self.pac, self.pac * d])
    }
}

fn upload(data: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(data, [rows, cols]), device)
}

/// Runs one training step and returns the networks and the step's losses.
pub fn train_step(
    ctx: &StepContext,
    mut nets: Networks,
    rng: &mut impl Rng,
) -> (Networks, StepLosses) {
    let mut loss_d = None;
    for _ in 0..ctx.discriminator_steps {
        let cond = ctx.conditions(rng);
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
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(
                real_rows.iter().map(|&r| r as i64).collect::<Vec<_>>(),
                [ctx.batch],
            ),
            &ctx.device,
        );
        let real = ctx.data.clone().select(0, index);
        let raw = nets.generator.forward(ctx.generator_input(&cond));
        let fake = ctx.layout.activate(raw, ctx.gumbel()).detach();
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
        let interpolated =
            real.clone() * alpha.clone() + fake.clone() * alpha.neg().add_scalar(1.0);
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
                .step(ctx.discriminator_lr, nets.discriminator, grads);
        loss_d = Some(loss.detach());
    }

    let cond = ctx.conditions(rng);
    let raw = nets.generator.forward(ctx.generator_input(&cond));
    let fake = ctx.layout.activate(raw.clone(), ctx.gumbel());
    let fake = match &cond.one_hot {
        Some(c) => Tensor::cat(vec![fake, c.clone()], 1),
        None => fake,
    };
    // Only the generator's gradients are used from this loss; the critic is not stepped.
    let packed = ctx.pack(fake);
    let [m, _] = packed.dims();
    let masks = nets
        .discriminator
        .dropout_masks(m, ctx.dropout, &ctx.device);
    let scores = nets
        .discriminator
        .forward(packed, ctx.leaky_slope, &masks)
        .scores;
    let mut loss = scores.mean().neg();
    if let Some(c) = &cond.one_hot {
        if let Some(ce) = ctx.layout.condition_loss(raw, c.clone()) {
            loss = loss + ce;
        }
    }
    let grads = GradientsParams::from_grads(loss.backward(), &nets.generator);
    nets.generator = nets
        .generator_optim
        .step(ctx.generator_lr, nets.generator, grads);
    let losses = StepLosses {
        generator: loss.detach(),
        discriminator: loss_d.expect("at least one critic step"),
    };
    (nets, losses)
}
