//! Training: fits the transformer, encodes the table, runs the GAN, and returns the released
//! generator file (never the critic).

pub mod progress;
pub mod step;

use std::time::Instant;

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::AdamConfig;
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::model::{
    generator_tensors, matrix, to_host, DiscriminatorConfig, GeneratorConfig, NamedTensor,
    SpanLayout,
};
use crate::read::Table;
use crate::sampler::{ConditionSampler, RowsBySlot};
use crate::schema::Schema;
use crate::transform::DataTransformer;
pub use progress::{EpochMetrics, MetricsLog, Progress};
pub use step::StepLosses;
use step::{train_step, Networks, StepContext};

/// The generator shape implied by a config and a fitted transformer.
pub fn generator_config(config: &RunConfig, transformer: &DataTransformer) -> GeneratorConfig {
    let conditions = ConditionSampler::new(&transformer.discrete_encoders());
    GeneratorConfig {
        embedding_dim: config.model.embedding_dim,
        condition_dim: conditions.dim(),
        hidden: config.model.generator_dims.clone(),
        data_dim: transformer.output_dim(),
    }
}

/// What training hands to the export stage: the generator and what is needed to use it.
#[derive(Debug, Clone)]
pub struct TrainedGenerator {
    /// The fitted transformer.
    pub transformer: DataTransformer,
    /// The generator's tensors on the host.
    pub tensors: Vec<NamedTensor>,
    /// Rows trained on.
    pub training_rows: usize,
    /// Epochs run.
    pub epochs_run: usize,
}

/// Where training reports to.
pub struct Reporting<'a> {
    /// Progress display.
    pub progress: &'a Progress,
    /// Optional metrics file.
    pub metrics: Option<&'a mut MetricsLog>,
}

/// A training run in progress: the encoded table on the device, both networks and their
/// optimisers. [`train`] drives it epoch by epoch; benchmarks drive single steps.
pub struct Trainer {
    ctx: StepContext,
    nets: Option<Networks>,
    rng: ChaCha8Rng,
    transformer: DataTransformer,
    steps_per_epoch: usize,
    epochs_done: usize,
}

impl Trainer {
    /// Infers the schema, fits the transformer, encodes the table and initialises the networks
    /// on `device` (a plain device; autodiff is added here).
    pub fn new(mut table: Table, config: &RunConfig, device: &Device) -> Result<Self> {
        let seed = config.train.seed.unwrap_or_else(rand::random);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        device.seed(seed);
        let schema = Schema::infer(&mut table, config)?;
        let n_rows = table.n_rows();
        if n_rows == 0 {
            return Err(Error::Training("the table has no rows".into()));
        }
        let transformer = DataTransformer::fit(&table, &schema, &config.transform)?;
        let encoded = transformer.transform(&table, &mut rng);
        drop(table);
        let discrete = transformer.discrete_encoders();
        let conditions = ConditionSampler::new(&discrete);
        let widths: Vec<usize> = discrete.iter().map(|d| d.width()).collect();
        let rows_by_slot = RowsBySlot::new(&encoded.discrete_slots, &widths);

        let train_device = device.clone().autodiff();
        let gen_config = generator_config(config, &transformer);
        let disc_config = DiscriminatorConfig {
            row_dim: encoded.dim + conditions.dim(),
            pac: config.model.pac,
            hidden: config.model.discriminator_dims.clone(),
            leaky_slope: config.model.leaky_slope,
            dropout: config.model.dropout,
        };
        let t = &config.train;
        let adam = |decay: f64| {
            AdamConfig::new()
                .with_beta_1(t.beta1 as f32)
                .with_beta_2(t.beta2 as f32)
                .with_epsilon(1e-8)
                .with_weight_decay(Some(WeightDecayConfig::new(decay as f32)))
                .init()
        };
        let nets = Networks {
            generator: gen_config.init(&train_device),
            discriminator: disc_config.init(&train_device),
            generator_optim: adam(t.generator_decay),
            discriminator_optim: adam(t.discriminator_decay),
        };
        let ctx = StepContext {
            data: matrix(encoded.data, n_rows, encoded.dim, &train_device),
            n_rows,
            layout: SpanLayout::new(&transformer.spans(), &train_device),
            conditions,
            rows_by_slot,
            batch: t.batch_size,
            pac: config.model.pac,
            embedding_dim: config.model.embedding_dim,
            gp_lambda: t.gp_lambda,
            tau: t.gumbel_tau,
            leaky_slope: config.model.leaky_slope,
            dropout: config.model.dropout,
            log_frequency: t.log_frequency,
            discriminator_steps: t.discriminator_steps,
            generator_lr: t.generator_lr,
            discriminator_lr: t.discriminator_lr,
            device: train_device,
        };
        Ok(Trainer {
            ctx,
            nets: Some(nets),
            rng,
            transformer,
            steps_per_epoch: (n_rows / t.batch_size).max(1),
            epochs_done: 0,
        })
    }

    /// The fitted transformer.
    pub fn transformer(&self) -> &DataTransformer {
        &self.transformer
    }

    /// Steps in one epoch: rows / batch size, at least one (as CTGAN).
    pub fn steps_per_epoch(&self) -> usize {
        self.steps_per_epoch
    }

    /// One training step; returns its losses, still on the device.
    pub fn step(&mut self) -> StepLosses {
        let nets = self
            .nets
            .take()
            .expect("networks are present between steps");
        let (nets, losses) = train_step(&self.ctx, nets, &mut self.rng);
        self.nets = Some(nets);
        losses
    }

    /// One epoch; reads the mean losses back to the host once, at its end.
    pub fn epoch(&mut self) -> Result<EpochMetrics> {
        let epoch_start = Instant::now();
        let mut sum_g: Option<Tensor<1>> = None;
        let mut sum_d: Option<Tensor<1>> = None;
        for _ in 0..self.steps_per_epoch {
            let losses = self.step();
            sum_g = Some(match sum_g {
                None => losses.generator,
                Some(s) => s + losses.generator,
            });
            sum_d = Some(match sum_d {
                None => losses.discriminator,
                Some(s) => s + losses.discriminator,
            });
        }
        self.epochs_done += 1;
        let per = self.steps_per_epoch as f64;
        let g = to_host(sum_g.expect("at least one step"))[0] as f64 / per;
        let d = to_host(sum_d.expect("at least one step"))[0] as f64 / per;
        if !g.is_finite() || !d.is_finite() {
            return Err(Error::Training(format!(
                "the losses became NaN or infinite in epoch {}; lower the learning rates in [train]",
                self.epochs_done
            )));
        }
        let seconds = epoch_start.elapsed().as_secs_f64();
        Ok(EpochMetrics {
            epoch: self.epochs_done,
            generator_loss: g,
            discriminator_loss: d,
            seconds,
            rows_per_second: (self.steps_per_epoch * self.ctx.batch) as f64 / seconds,
        })
    }

    /// Ends training: the generator goes to the host, the critic is dropped.
    pub fn finish(self) -> TrainedGenerator {
        let nets = self.nets.expect("networks are present between steps");
        TrainedGenerator {
            // `valid()` leaves autodiff and brings BatchNorm's running statistics up to date.
            tensors: generator_tensors(&nets.generator.valid()),
            training_rows: self.ctx.n_rows,
            epochs_run: self.epochs_done,
            transformer: self.transformer,
        }
    }
}

/// Trains on `table` with `config` on `device` for `config.train.epochs` epochs and returns the
/// trained generator (the critic is dropped here).
pub fn train(
    table: Table,
    config: &RunConfig,
    device: &Device,
    mut reporting: Reporting,
) -> Result<TrainedGenerator> {
    let started = Instant::now();
    let mut trainer = Trainer::new(table, config, device)?;
    reporting.progress.note(&format!(
        "fitted the transformer and encoded the table in {:.2} s: {} columns -> {} features",
        started.elapsed().as_secs_f64(),
        trainer.transformer.schema.columns.len(),
        trainer.transformer.output_dim()
    ));
    for _ in 0..config.train.epochs {
        let m = trainer.epoch()?;
        reporting.progress.epoch(&m, config.train.epochs);
        if let Some(log) = reporting.metrics.as_deref_mut() {
            log.write(&m)?;
        }
    }
    Ok(trainer.finish())
}
