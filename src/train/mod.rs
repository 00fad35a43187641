//! Training: fits the transformer, encodes the table, runs the GAN, and returns the released
//! generator file (never the critic).

pub mod checkpoint;
pub mod correlations;
pub mod engine;
pub mod host;
pub mod pairs;
pub mod progress;
pub mod redraw;
pub mod step;
pub mod links;
pub mod surrogate;
pub mod tree_model;

use std::time::Instant;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::AdamConfig;
use burn::tensor::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::RunConfig;
use crate::dp::audit::{AuditSwitches, GradientCanaries};
use crate::dp::ledger::Notice;
use crate::dp::marginals::{measure_pairs, NoisyPairs, ReleasedMargin};
use crate::dp::preprocess::{fit_private_transformer, PreprocessLedger, PreprocessSettings};
use crate::dp::{Accountant, DpRng, Ledger, PlanRequest, PrivacyPlan, RngState, Spent};
use crate::error::{Error, Result};
use crate::model::subnormals::FlushSubnormals;
use crate::model::{generator_tensors, to_host, DiscriminatorConfig, GeneratorConfig, NamedTensor};
use crate::read::Table;
use crate::sampler::{ConditionSampler, RowsBySlot};
use crate::schema::Schema;
use crate::transform::{DataTransformer, SparseRows};
pub use checkpoint::{Checkpoint, CheckpointHeader, DpState};
use engine::Engine;
use pairs::PairTarget;
pub use progress::{EpochMetrics, MetricsLog, Progress, StepProgress};
pub use step::StepLosses;
use step::{DpSettings, Networks, Secret, StepContext};

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
    /// The privacy ledger; `None` for a run without DP.
    pub ledger: Option<Ledger>,
    /// The noisy two-way marginals of a DP run that measured them (released with the
    /// generator: they are outputs of the charged mechanism, and sampling weighs rows towards
    /// them).
    pub pairs: Option<NoisyPairs>,
    /// A run without DP: the exact tables of the pairs where one column determines the other
    /// ([`links::exact_determined`]), from which sampling draws the determined column.
    pub determined: Option<NoisyPairs>,
}

/// Where training reports to.
pub struct Reporting<'a> {
    /// Progress display.
    pub progress: &'a Progress,
    /// Optional metrics file.
    pub metrics: Option<&'a mut MetricsLog>,
}

/// A training run in progress: the encoded table on the device, both networks and their
/// optimisers. [`train`] drives it epoch by epoch; benchmarks drive single steps; the run
/// layer checkpoints and resumes it.
pub struct Trainer {
    ctx: StepContext,
    /// Without DP: [`TrainedGenerator::determined`].
    determined: Option<NoisyPairs>,
    /// Both networks and their optimisers, on burn or the host engine.
    engine: Engine,
    rng: ChaCha8Rng,
    transformer: DataTransformer,
    config: RunConfig,
    seed: u64,
    steps_per_epoch: usize,
    epochs_done: usize,
    step_in_epoch: usize,
    partial_losses: (f64, f64),
    total_steps: u64,
    dp: Option<DpRun>,
    /// `privacy.anchor_steps`: the warm start's context on the surrogate rows and its stream.
    anchor: Option<(StepContext, ChaCha8Rng)>,
    /// The DP warm start's steps and seconds, when this process ran it.
    warm_start: Option<(usize, f64)>,
}

/// The DP side of a run: its accountant, secure generator and what preprocessing recorded.
struct DpRun {
    accountant: Accountant,
    rng: DpRng,
    steps: u64,
    max_grad_norm: f64,
    preprocessing: PreprocessLedger,
    /// The noisy two-way marginals (`privacy.pair_marginals`), measured once.
    pairs: Option<NoisyPairs>,
    /// `dpsynth audit`'s gradient canaries (never in a run that is released).
    canaries: Option<GradientCanaries>,
}

impl DpRun {
    fn secret(&mut self) -> Secret<'_> {
        Secret {
            rng: &mut self.rng,
            canaries: self.canaries.as_mut(),
        }
    }
}

/// The schema training uses for `table`. In DP mode the schema is public, so nothing about it
/// may come from the rows: a column's kind follows its public metadata (`categories`:
/// discrete, `min`/`max`: continuous) and its storage type is fixed from that metadata too
/// ([`crate::dp::preprocess::public_schema`]); integer columns without metadata are
/// continuous, since how many distinct values one has is private.
pub fn training_schema(table: &mut Table, config: &RunConfig) -> Result<Schema> {
    if config.privacy.enabled() {
        let mut public_only = config.clone();
        public_only.transform.discrete_int_max_distinct = 0;
        crate::dp::preprocess::force_public_kinds(&mut public_only)?;
        let inferred = Schema::infer(table, &public_only)?;
        Ok(crate::dp::preprocess::public_schema(
            inferred,
            &config.privacy,
        ))
    } else {
        Schema::infer(table, config)
    }
}

/// A table read by [`crate::read::read_training_table`] for comparing with sampled rows
/// (scoring, audit canaries): in DP mode its columns with public metadata were read as
/// written, and are typed here as [`training_schema`] types them; otherwise it is left as read.
pub fn type_as_trained(table: &mut Table, config: &RunConfig) -> Result<()> {
    if !config.privacy.read_alone().is_empty() {
        training_schema(table, config)?;
    }
    Ok(())
}

/// In DP mode a batch cannot hold more rows than the table (the sampling rate `B / N` would
/// pass 1), so a config written for larger tables (`configs/dp-discover.toml`, batch 1000) gets
/// the largest multiple of `pac` that fits; `None` when the configured batch already fits, or
/// when not even one `pac` group fits (the accountant's plan then names the problem). The row
/// count is public, so this reads nothing private. `train` prints the change.
fn batch_for_small_table(config: &RunConfig, rows: usize) -> Option<RunConfig> {
    let pac = config.pac();
    if !config.privacy.enabled() || config.train.batch_size <= rows || rows < pac {
        return None;
    }
    let mut fitted = config.clone();
    fitted.train.batch_size = rows / pac * pac;
    Some(fitted)
}

/// Generator steps in one epoch on `rows` rows with batches of `batch`: in DP mode the
/// accountant's `round(rows / batch)`, otherwise the whole batches in the table.
fn steps_per_epoch(dp: bool, rows: usize, batch: usize) -> usize {
    if dp {
        crate::dp::accountant::steps_per_epoch(rows, batch) as usize
    } else {
        (rows / batch.max(1)).max(1)
    }
}

/// Epochs a run of `config` takes on `rows` rows: `train.epochs`, or fewer where
/// `train.max_steps` caps the critic steps (`dp::accountant::epochs_within`). `config` is the
/// one training uses (its batch fitted to a small table). The row count is public, so this
/// reads nothing private; the DP plan calibrates its noise for these epochs.
pub fn planned_epochs(config: &RunConfig, rows: usize) -> usize {
    let t = &config.train;
    let per_epoch =
        steps_per_epoch(config.privacy.enabled(), rows, t.batch_size) * t.discriminator_steps;
    crate::dp::accountant::epochs_within(t.epochs, per_epoch as u64, t.max_steps)
}

/// The released shares of every column whose states are released points, with the noise std
/// on the counts they were drawn from, for the tree's selection (`dp::marginals::select_tree`
/// scores such a column's pairs against them at sensitivity 2, half the table-margin score's):
/// a category column, or a continuous column whose modes are all exact values (codes, small
/// counts, 0/1 flags), whose mode weights are its values' released shares. `None` for a
/// mixture column (its modes' weights are a fit, not a release of its states' counts).
/// `shares` is `transformer.state_margins()`. Public: outputs of the charged one-way release.
/// The noise std is the one-way counts'; an integer column narrowed and counted again, or a
/// column whose values were measured in the bounds slot, had the bounds share's larger noise,
/// so its chance offset is a little low there (utility only: the selection's sensitivity does
/// not depend on it).
pub fn released_margins(
    transformer: &DataTransformer,
    preprocessing: &PreprocessLedger,
    shares: &[Vec<f64>],
) -> Vec<Option<ReleasedMargin>> {
    shares
        .iter()
        .zip(&transformer.encoders)
        .zip(&transformer.schema.columns)
        .map(|((shares, encoder), column)| {
            let noise_std = if preprocessing.discovered_categories.contains(&column.name) {
                preprocessing.discovery_noise_std
            } else {
                preprocessing.count_noise_std
            };
            let on_points = match encoder {
                crate::transform::Encoder::Discrete(_) => true,
                crate::transform::Encoder::Continuous(c) => {
                    c.modes.len() >= 2 && c.modes.iter().all(|m| m.exact)
                }
            };
            on_points.then(|| ReleasedMargin {
                shares: shares.clone(),
                noise_std,
            })
        })
        .collect()
}

/// The device generator's seed for generator step `step`: reseeding every step makes a run
/// resumable at any step (burn's device generators cannot be saved).
fn step_seed(seed: u64, step: u64) -> u64 {
    let mut z = seed ^ step.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream that encodes the table (mode choices), apart from training's, so that a resumed
/// run encodes the same rows.
const ENCODING_STREAM: u64 = 0x656e_636f_6465;

/// The stream of the DP warm start (its surrogate rows and its steps).
const WARM_START_STREAM: u64 = 0x7761_726d;

/// Most column states (categories, mixture modes and null slots over all columns) for which a
/// run without DP learns the exact pair tables (`train.pair_weight`): the loss's products grow
/// with their square, 500 x 400 x 400 about 12% of an Adult step.
pub const MAX_EXACT_PAIR_STATES: usize = 400;
/// The stream of the surrogate rows the correlation loss takes its target from.
const CORRELATION_STREAM: u64 = 0x636f_7272;
/// Surrogate rows drawn for the correlation loss's target (they are free; at 20,000 rows a
/// correlation's sampling error is below 0.01).
const CORRELATION_ROWS: usize = 20_000;

/// Fewest surrogate rows per warm-start epoch.
const WARM_START_ROWS: usize = 20_000;
/// Most surrogate rows per warm-start epoch: the surrogate holds no more than the noisy
/// measurements it is drawn from, so a 300,000-row table's warm start need not be 15 times
/// Adult's (it took minutes with nothing on the terminal).
const WARM_START_MAX_ROWS: usize = 50_000;

/// Where [`Trainer::assemble`] starts: fresh (telling the progress, if any, how the DP warm
/// start goes) or from a checkpoint.
#[derive(Clone, Copy)]
enum Start<'a> {
    Fresh(Option<&'a Progress>),
    Resumed(&'a Checkpoint),
}

/// Surrogate rows per warm-start epoch for a table of `rows` rows.
fn warm_start_rows(rows: usize) -> usize {
    rows.clamp(WARM_START_ROWS, WARM_START_MAX_ROWS)
}

/// Fewest rows per warm-start (and anchor) step where a small table cut the batch to its rows.
const WARM_START_MIN_BATCH: usize = 500;

/// Rows per warm-start and anchor step: the run's batch, or, where a table smaller than the
/// configured batch cut it to its `rows` (`batch_for_small_table`) below
/// [`WARM_START_MIN_BATCH`], that many (a multiple of `pac`). The surrogate rows are not so
/// few: a 3-row table's warm start ran 199,980 steps of 3 rows (100 s, BatchNorm over 3 rows).
fn warm_start_batch(batch: usize, rows: usize, pac: usize) -> usize {
    let cut_to_table = batch + pac > rows;
    if cut_to_table && batch < WARM_START_MIN_BATCH {
        (WARM_START_MIN_BATCH / pac * pac).max(batch)
    } else {
        batch
    }
}

impl Trainer {
    /// Infers the schema, fits the transformer, encodes the table and initialises the networks
    /// on `device` (a plain device; autodiff is added here).
    pub fn new(table: Table, config: &RunConfig, device: &Device) -> Result<Self> {
        Self::with_progress(table, config, device, None)
    }

    /// [`Trainer::new`], telling `progress` how the DP warm start goes (it runs here, before
    /// the first epoch, and takes minutes on a large table).
    pub fn with_progress(
        mut table: Table,
        config: &RunConfig,
        device: &Device,
        progress: Option<&Progress>,
    ) -> Result<Self> {
        let fitted;
        let config = match batch_for_small_table(config, table.n_rows()) {
            Some(c) => {
                fitted = c;
                &fitted
            }
            None => config,
        };
        let seed = config.train.seed.unwrap_or_else(rand::random);
        let privacy = &config.privacy;
        let schema = training_schema(&mut table, config)?;
        let n_rows = table.n_rows();
        if n_rows == 0 {
            return Err(Error::Training("the table has no rows".into()));
        }
        let t = &config.train;
        let (transformer, dp) = if privacy.enabled() {
            let plan = PrivacyPlan::new(&PlanRequest {
                epsilon: privacy.epsilon,
                delta: privacy.delta,
                rows: n_rows,
                batch: t.batch_size,
                epochs: planned_epochs(config, n_rows),
                discriminator_steps: t.discriminator_steps,
                preprocess_share: privacy.preprocess_share_at(privacy.epsilon),
                noise_multiplier: privacy.noise_multiplier,
                histogram_noise_multiplier: privacy.histogram_noise_multiplier,
                discovery: privacy.discover,
            })?;
            let mut dp_rng = match config.train.seed {
                Some(seed) => DpRng::from_seed(seed),
                None => DpRng::from_os(),
            };
            let (transformer, preprocessing) = fit_private_transformer(
                &mut table,
                &schema,
                &PreprocessSettings {
                    privacy,
                    transform: &config.transform,
                    noise_multiplier: plan.histogram_noise_multiplier,
                    delta_threshold: plan.delta_threshold,
                },
                &mut dp_rng,
            )?;
            let run = DpRun {
                accountant: Accountant::new(plan),
                rng: dp_rng,
                steps: 0,
                max_grad_norm: privacy.max_grad_norm,
                preprocessing,
                pairs: None,
                canaries: None,
            };
            (transformer, Some(run))
        } else {
            (
                DataTransformer::fit(&table, &schema, &config.transform)?,
                None,
            )
        };
        Self::assemble(
            table,
            transformer,
            dp,
            seed,
            config,
            device,
            Start::Fresh(progress),
        )
    }

    /// Continues the run `checkpoint` was taken from, on `table` (the same table: its schema
    /// and row count are checked). Nothing is refitted and no privacy is spent again.
    pub fn resume(mut table: Table, checkpoint: &Checkpoint, device: &Device) -> Result<Self> {
        let h = &checkpoint.header;
        let schema = training_schema(&mut table, &h.config)?;
        // Names and kinds: in DP mode preprocessing may have decided a storage type (an
        // integer column) that the schema inferred again here does not know.
        let shape = |s: &Schema| -> Vec<(String, crate::schema::ColumnKind)> {
            s.columns.iter().map(|c| (c.name.clone(), c.kind)).collect()
        };
        let same = if h.dp.is_some() {
            shape(&schema) == shape(&h.transformer.schema)
        } else {
            schema == h.transformer.schema
        };
        if !same || table.n_rows() != h.rows {
            return Err(Error::Training(format!(
                "the table is not the one this run started on ({} rows and {} columns now, {} rows and {} columns then); resume with the original data",
                table.n_rows(),
                table.columns.len(),
                h.rows,
                h.transformer.schema.columns.len()
            )));
        }
        if h.dp.is_some() {
            h.transformer.clamp_to_bounds(&mut table);
        }
        let dp = h.dp.as_ref().map(|d| DpRun {
            accountant: Accountant::new(d.plan.clone()),
            rng: DpRng::from_state(&d.rng),
            steps: d.steps,
            max_grad_norm: d.max_grad_norm,
            preprocessing: d.preprocessing.clone(),
            pairs: d.pairs.clone(),
            canaries: None,
        });
        Self::assemble(
            table,
            h.transformer.clone(),
            dp,
            h.seed,
            &h.config,
            device,
            Start::Resumed(checkpoint),
        )
    }

    /// Encodes the table and builds the networks, fresh or from a checkpoint.
    fn assemble(
        table: Table,
        transformer: DataTransformer,
        mut dp: Option<DpRun>,
        seed: u64,
        config: &RunConfig,
        device: &Device,
        start: Start<'_>,
    ) -> Result<Self> {
        let (checkpoint, progress) = match start {
            Start::Fresh(progress) => (None, progress),
            Start::Resumed(checkpoint) => (Some(checkpoint), None),
        };
        let t = &config.train;
        let n_rows = table.n_rows();
        device.seed(seed);
        let encoded = transformer.transform(
            &table,
            &mut ChaCha8Rng::seed_from_u64(seed ^ ENCODING_STREAM),
        );
        drop(table);
        let dp_mode = dp.is_some();
        let discrete = transformer.discrete_encoders();
        let conditions = ConditionSampler::new(&discrete);
        let widths: Vec<usize> = discrete.iter().map(|d| d.width()).collect();
        let rows_by_slot = if dp_mode {
            RowsBySlot::new(&[], &[])
        } else {
            RowsBySlot::new(&encoded.discrete_slots, &widths)
        };
        if let Some(run) = dp.as_mut() {
            let wanted = run.preprocessing.pair_tables > 0;
            if wanted && run.pairs.is_none() {
                if checkpoint.is_some() {
                    return Err(Error::Training(
                        "this checkpoint has no two-way marginals although its run measured them; it cannot be resumed without spending privacy twice".into(),
                    ));
                }
                // Part of preprocessing's joint Gaussian mechanism: the same noise std
                // (`dp::marginals`), charged with the histograms.
                let layout = transformer.column_states();
                // A tree of pairs is chosen under DP first (its rounds are in the same budget).
                let chosen = (run.preprocessing.selection_rounds > 0).then(|| {
                    let shares = transformer.state_margins();
                    let released_margins =
                        released_margins(&transformer, &run.preprocessing, &shares);
                    let targets: Vec<usize> = transformer
                        .schema
                        .columns
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| run.preprocessing.targets.contains(&c.name))
                        .map(|(i, _)| i)
                        .collect();
                    crate::dp::marginals::select_tree(
                        &layout,
                        &encoded.rows,
                        run.preprocessing.selection_epsilon,
                        run.preprocessing.extra_pairs,
                        &released_margins,
                        &shares,
                        &targets,
                        &mut run.rng,
                    )
                });
                if let Some(chosen) = &chosen {
                    // The noise std was set for the planned number of tables: measuring more
                    // would spend more than the ledger says.
                    if chosen.len() > run.preprocessing.pair_tables {
                        return Err(Error::Privacy(format!(
                            "the pair selection chose {} tables where the plan charged {}; nothing was measured",
                            chosen.len(),
                            run.preprocessing.pair_tables
                        )));
                    }
                    let name = |c: usize| transformer.schema.columns[c].name.clone();
                    run.preprocessing.selected_pairs =
                        chosen.iter().map(|&(a, b)| (name(a), name(b))).collect();
                }
                let mut pairs = measure_pairs(
                    &layout,
                    &encoded.rows,
                    chosen,
                    run.preprocessing.pair_std(),
                    &mut run.rng,
                );
                // Which columns have normal scores (continuous, with modes), and the scores.
                let continuous = |c: usize| match &transformer.encoders[c] {
                    crate::transform::Encoder::Continuous(e) => !e.modes.is_empty(),
                    crate::transform::Encoder::Discrete(_) => false,
                };
                let score = surrogate::normal_scorer(&transformer);
                // How continuous pairs on the tree the surrogate rows follow (chosen from the
                // noisy tables: post-processing) move together, in the same mechanism.
                let sums = run.preprocessing.copula_sums;
                if sums > 0 {
                    let edges: Vec<(usize, usize)> = pairs
                        .tree_pairs()
                        .into_iter()
                        .filter(|&(a, b)| continuous(a) && continuous(b))
                        .collect();
                    pairs.copula = crate::dp::copula::measure_copula(
                        &encoded.rows,
                        &edges,
                        sums / 2,
                        &score,
                        run.preprocessing.pair_std(),
                        &mut run.rng,
                    );
                }
                // How a category shifts a continuous neighbour on the tree (chosen from the
                // noisy tables: post-processing), in the same mechanism: one slot per edge,
                // each discrete column's first edge before any second one.
                let slots = run.preprocessing.shift_slots;
                if slots > 0 {
                    let discrete = |c: usize| {
                        matches!(
                            transformer.encoders[c],
                            crate::transform::Encoder::Discrete(_)
                        )
                    };
                    let mixed: Vec<(usize, usize)> = pairs
                        .tree_pairs()
                        .into_iter()
                        .filter_map(|(a, b)| match (discrete(a), discrete(b)) {
                            (true, false) if continuous(b) => Some((a, b)),
                            (false, true) if continuous(a) => Some((b, a)),
                            _ => None,
                        })
                        .collect();
                    let mut covered = std::collections::HashSet::new();
                    let (first, rest): (Vec<_>, Vec<_>) =
                        mixed.iter().partition(|&&(d, _)| covered.insert(d));
                    let edges: Vec<(usize, usize)> = first.into_iter().chain(rest).collect();
                    let counts: Vec<usize> = layout.iter().map(|l| l.count()).collect();
                    let state = |d: usize, row: &[f32]| layout[d].state(row);
                    pairs.shifts = crate::dp::copula::measure_shifts(
                        &encoded.rows,
                        &edges,
                        slots,
                        &counts,
                        &state,
                        &score,
                        run.preprocessing.pair_std(),
                        &mut run.rng,
                    );
                }
                run.pairs = Some(pairs);
            }
        }
        let dp_settings = dp.as_mut().map(|run| {
            let plan = run.accountant.plan();
            DpSettings {
                row_slots: encoded.discrete_slots.clone(),
                sample_rate: plan.sample_rate,
                noise_multiplier: plan.noise_multiplier,
                max_grad_norm: run.max_grad_norm,
            }
        });

        let train_device = device.clone().autodiff();
        let gen_config = generator_config(config, &transformer);
        let disc_config = DiscriminatorConfig {
            row_dim: encoded.dim + conditions.dim(),
            pac: config.pac(),
            hidden: config.model.discriminator_dims.clone(),
            leaky_slope: config.model.leaky_slope,
            dropout: config.model.dropout,
        };
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
        // burn initialises parameters lazily, and a `no_grad()` view taken before the first
        // use would turn off gradients for the original too: materialise every parameter now.
        let _ = generator_tensors(&nets.generator);
        let critic = &nets.discriminator;
        for layer in critic.hidden.iter().chain(std::iter::once(&critic.output)) {
            let _ = to_host(layer.weight.val());
            if let Some(bias) = &layer.bias {
                let _ = to_host(bias.val());
            }
        }
        // The correlation loss's target: the correlations of continuous columns in rows drawn
        // from the noisy pair tables (post-processing, no privacy spent).
        let correlations = dp
            .as_ref()
            .and_then(|run| run.pairs.as_ref())
            .filter(|_| config.privacy.correlation_weight > 0.0)
            .and_then(|noisy| {
                let rows = surrogate::surrogate_rows(
                    &transformer,
                    Some(noisy),
                    CORRELATION_ROWS,
                    config.privacy.rake_rounds,
                    &mut ChaCha8Rng::seed_from_u64(seed ^ CORRELATION_STREAM),
                );
                correlations::CorrelationTarget::from_rows(
                    &transformer,
                    &rows.rows,
                    config.privacy.correlation_weight,
                )
            });
        // Without DP, the table's exact two-way tables of column states for the pair loss
        // (`train.pair_weight`; a non-DP run may count its rows, nothing is noised or charged:
        // `measure_pairs` at noise 0 leaves the counts as they are). Plain CTGAN draws two
        // continuous columns' modes independently. The loss compares a [states, states] table
        // per batch, so a table with more states than MAX_EXACT_PAIR_STATES (a column of
        // thousands of categories) trains without it.
        let layout = transformer.column_states();
        let states: usize = layout.iter().map(|l| l.count()).sum();
        let exact_pairs = (!dp_mode && t.pair_weight() > 0.0 && states <= MAX_EXACT_PAIR_STATES)
            .then(|| {
                measure_pairs(
                    &layout,
                    &encoded.rows,
                    None,
                    0.0,
                    &mut DpRng::from_seed(seed),
                )
            });
        // Without DP, the correlation loss (`train.correlation_weight`) targets the table's
        // own correlations, counted on up to CORRELATION_ROWS of its encoded rows, drawn
        // without replacement. It rides on the exact pair tables' target.
        let correlations = correlations.or_else(|| {
            let weight = t.correlation_weight();
            (exact_pairs.is_some() && weight > 0.0)
                .then(|| {
                    let mut rows: Vec<u32> = (0..encoded.rows.n_rows as u32).collect();
                    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ CORRELATION_STREAM);
                    rows.shuffle(&mut rng);
                    rows.truncate(CORRELATION_ROWS);
                    correlations::CorrelationTarget::from_rows(
                        &transformer,
                        &encoded.rows.subset(&rows),
                        weight,
                    )
                })
                .flatten()
        });
        let pair_target = |device: &Device| {
            let dp_pairs = dp.as_ref().and_then(|run| run.pairs.as_ref());
            let weight = if dp_pairs.is_some() {
                config.privacy.pair_weight
            } else {
                t.pair_weight()
            };
            dp_pairs.or(exact_pairs.as_ref()).map(|noisy| {
                PairTarget::new(noisy, layout.clone(), weight, device)
                    .with_correlations(correlations.clone())
            })
        };
        let context = |data: SparseRows,
                       conditions: ConditionSampler,
                       rows_by_slot: RowsBySlot,
                       dp: Option<DpSettings>,
                       pairs: Option<PairTarget>| StepContext {
            data,
            n_rows,
            spans: transformer.spans(),
            conditions,
            rows_by_slot,
            dp,
            batch: t.batch_size,
            pac: config.pac(),
            embedding_dim: config.model.embedding_dim,
            gp_lambda: t.gp_lambda,
            tau: t.gumbel_tau,
            leaky_slope: config.model.leaky_slope,
            dropout: config.model.dropout,
            log_frequency: t.log_frequency,
            discriminator_steps: t.discriminator_steps,
            generator_steps: t.generator_steps,
            generator_lr: t.generator_lr,
            discriminator_lr: t.discriminator_lr,
            device: train_device.clone(),
            pairs,
        };
        let host_engine = crate::device::uses_host_engine(config.train.device);
        if let Some(c) = checkpoint {
            if c.header.host_engine != host_engine {
                return Err(Error::Training(format!(
                    "this checkpoint was written by the {} engine; resume it with the same device (train.device = {:?} in the run's config)",
                    if c.header.host_engine { "host" } else { "burn" },
                    config.train.device
                )));
            }
        }
        let mut engine = Engine::start(nets, host_engine, t, checkpoint)?;
        let mut anchor = None;
        let mut warm_start_run = None;
        let warm_start = config.privacy.warm_start_epochs > 0;
        if dp_mode && warm_start && (checkpoint.is_none() || config.privacy.anchor_steps > 0) {
            // Rows drawn from the noisy marginals only: post-processing, no privacy spent. With
            // pair tables, the columns follow a tree model of them (MST's way of sampling);
            // otherwise each column is drawn on its own.
            let mut warm_rng = ChaCha8Rng::seed_from_u64(seed ^ WARM_START_STREAM);
            // Surrogate rows are free, so a small table still gets a real warm start: at
            // least WARM_START_ROWS rows per epoch, one generator update per critic update
            // (the DP phase's extra generator updates only stretch its few private steps).
            let warm_rows = warm_start_rows(n_rows);
            let surrogate = surrogate::surrogate_rows(
                &transformer,
                dp.as_ref().and_then(|run| run.pairs.as_ref()),
                warm_rows,
                config.privacy.rake_rounds,
                &mut warm_rng,
            );
            let mut warm = context(
                surrogate.rows,
                conditions.clone(),
                RowsBySlot::new(&surrogate.discrete_slots, &widths),
                None,
                pair_target(&train_device),
            );
            warm.n_rows = warm_rows;
            warm.batch = warm_start_batch(t.batch_size, n_rows, config.pac());
            warm.generator_steps = 1;
            warm.discriminator_steps = 1;
            // A resumed run rebuilds the same surrogate rows for its anchor steps (their stream
            // restarts: the rows are free, so this changes nothing the guarantee rests on), but
            // its networks come from the checkpoint.
            if checkpoint.is_none() {
                let started = std::time::Instant::now();
                let steps = config.privacy.warm_start_epochs * (warm_rows / warm.batch).max(1);
                let note = |msg: &str| {
                    if let Some(p) = progress {
                        p.note(msg)
                    }
                };
                note(&format!(
                    "warm start: {steps} non-private steps on {warm_rows} rows drawn from the noisy measurements (no privacy spent)"
                ));
                for step in 0..steps {
                    let noise_seed = step_seed(seed ^ WARM_START_STREAM, step as u64);
                    let _flush = FlushSubnormals::new();
                    engine.train_step(&warm, &mut warm_rng, None, noise_seed);
                    let quarter = steps.div_ceil(4);
                    if (step + 1) % quarter == 0 && step + 1 < steps {
                        let spent = started.elapsed().as_secs_f64();
                        let left = spent * (steps - step - 1) as f64 / (step + 1) as f64;
                        note(&format!(
                            "warm start: step {}/{steps}, about {left:.0} s left",
                            step + 1
                        ));
                    }
                }
                warm_start_run = Some((steps, started.elapsed().as_secs_f64()));
            }
            if config.privacy.anchor_steps > 0 {
                anchor = Some((warm, warm_rng));
            }
        }
        let pairs = pair_target(&train_device);
        // Without DP, the exact tables of the pairs where one column determines the other
        // (a non-DP run may count its rows); a DP run never counts them.
        let determined = if dp_mode {
            None
        } else {
            // And the exact correlations of a forest of continuous pairs, for sampling to
            // set (a DP file's released ones play that part).
            let correlations = links::exact_correlations(&transformer, &encoded.rows);
            let found = links::exact_determined(&transformer, &encoded.rows);
            match (found, correlations.is_empty()) {
                (found, true) => found,
                (Some(found), false) => Some(NoisyPairs {
                    copula: correlations,
                    ..found
                }),
                (None, false) => Some(NoisyPairs {
                    states: transformer
                        .column_states()
                        .iter()
                        .map(crate::transform::ColumnStates::count)
                        .collect(),
                    pairs: Vec::new(),
                    tables: Vec::new(),
                    noise_std: 0.0,
                    copula: correlations,
                    shifts: Vec::new(),
                }),
            }
        };
        let ctx = context(encoded.rows, conditions, rows_by_slot, dp_settings, pairs);
        let h = checkpoint.map(|c| &c.header);
        Ok(Trainer {
            ctx,
            determined,
            engine,
            rng: h.map_or_else(|| ChaCha8Rng::seed_from_u64(seed), |h| h.rng.chacha8()),
            transformer,
            config: config.clone(),
            seed,
            // DP mode: the accountant counts round(rows / batch) steps per epoch.
            steps_per_epoch: steps_per_epoch(dp.is_some(), n_rows, t.batch_size),
            epochs_done: h.map_or(0, |h| h.epochs_done),
            step_in_epoch: h.map_or(0, |h| h.step_in_epoch),
            partial_losses: h.map_or((0.0, 0.0), |h| h.partial_losses),
            total_steps: h.map_or(0, |h| h.total_steps),
            dp,
            anchor,
            warm_start: warm_start_run,
        })
    }

    /// Everything needed to continue this run bit for bit (not for release: it holds the
    /// critic and the DP noise generator's state).
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        Ok(Checkpoint {
            header: CheckpointHeader {
                kind: "dpsynth training checkpoint: holds the critic, optimiser state and the DP noise generator's state; NOT FOR RELEASE (resume it with `dpsynth train --resume`)".into(),
                written_by: format!("dpsynth {}", env!("CARGO_PKG_VERSION")),
                config: self.config.clone(),
                transformer: self.transformer.clone(),
                rows: self.ctx.n_rows,
                seed: self.seed,
                epochs_done: self.epochs_done,
                step_in_epoch: self.step_in_epoch,
                partial_losses: self.partial_losses,
                total_steps: self.total_steps,
                rng: RngState::of_chacha8(&self.rng, false),
                dp: self.dp.as_ref().map(|run| DpState {
                    plan: run.accountant.plan().clone(),
                    steps: run.steps,
                    max_grad_norm: run.max_grad_norm,
                    preprocessing: run.preprocessing.clone(),
                    pairs: run.pairs.clone(),
                    rng: run.rng.state(),
                }),
                sections: Vec::new(),
                host_engine: self.engine.is_host(),
            },
            sections: self.engine.checkpoint_sections()?,
        })
    }

    /// Completed epochs.
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// The run's resolved config.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// Whether another epoch fits in the privacy budget (always true without DP).
    pub fn budget_allows_epoch(&self) -> bool {
        match &self.dp {
            None => true,
            Some(run) => run
                .accountant
                .allows(run.steps + (self.steps_per_epoch * self.ctx.discriminator_steps) as u64),
        }
    }

    /// Attaches `m` gradient canaries to a DP run for `dpsynth audit` (each included by a coin
    /// from the secret stream), with the audit-only `switches`. A run with canaries is an audit
    /// run: its caller must not release it. Refused without DP.
    pub fn attach_canaries(&mut self, m: usize, switches: AuditSwitches) -> Result<()> {
        let run = self.dp.as_mut().ok_or_else(|| {
            Error::Training("gradient canaries need a DP run (set [privacy] epsilon)".into())
        })?;
        run.canaries = Some(GradientCanaries::new(m, switches, &mut run.rng));
        Ok(())
    }

    /// The gradient canaries of an audit run, with their scores so far.
    pub fn canaries(&self) -> Option<&GradientCanaries> {
        self.dp.as_ref().and_then(|run| run.canaries.as_ref())
    }

    /// What DP preprocessing lost that the user should see at train time
    /// ([`crate::dp::ledger::terminal_warnings`]); empty without DP.
    pub fn preprocessing_warnings(&self) -> Vec<Notice> {
        self.dp.as_ref().map_or_else(Vec::new, |run| {
            crate::dp::ledger::terminal_warnings(&run.preprocessing, self.ctx.n_rows as f64)
        })
    }

    /// The privacy spent so far; `None` without DP.
    pub fn spent(&self) -> Option<Spent> {
        self.dp.as_ref().map(|run| run.accountant.spent(run.steps))
    }

    /// One training step; returns its losses, still on the device. In DP mode a step that
    /// would pass the target ε is refused with an error.
    pub fn step(&mut self) -> Result<StepLosses> {
        if let Some(run) = &self.dp {
            let next = run.steps + self.ctx.discriminator_steps as u64;
            if !run.accountant.allows(next) {
                return Err(Error::Privacy(format!(
                    "one more step would pass the target epsilon (spent {:.4} after {} steps)",
                    run.accountant.spent(run.steps).epsilon,
                    run.steps
                )));
            }
        }
        let noise_seed = step_seed(self.seed, self.total_steps);
        self.total_steps += 1;
        let secret = self.dp.as_mut().map(DpRun::secret);
        // Subnormal floats cost a microcode assist each; the steps flush them to zero
        // (`model::subnormals`), the accountant above and below runs in IEEE mode.
        let flush = FlushSubnormals::new();
        let losses = self
            .engine
            .train_step(&self.ctx, &mut self.rng, secret, noise_seed);
        if let Some((warm, warm_rng)) = &mut self.anchor {
            // Anchor steps on the surrogate rows: post-processing, no secret side.
            for i in 0..self.config.privacy.anchor_steps {
                let anchor_seed = step_seed(noise_seed ^ WARM_START_STREAM, i as u64);
                self.engine.train_step(warm, warm_rng, None, anchor_seed);
            }
        }
        drop(flush);
        if let Some(run) = &mut self.dp {
            run.steps += self.ctx.discriminator_steps as u64;
        }
        Ok(losses)
    }

    /// One critic update alone (benchmarks compare DP and non-DP updates with it); in DP mode it
    /// is charged to the ledger like any other step. Returns the critic loss on the device.
    pub fn discriminator_step(&mut self) -> Result<Tensor<1>> {
        if let Some(run) = &self.dp {
            if !run.accountant.allows(run.steps + 1) {
                return Err(Error::Privacy(
                    "one more critic step would pass the target epsilon".into(),
                ));
            }
        }
        let noise_seed = step_seed(self.seed, self.total_steps);
        self.total_steps += 1;
        let secret = self.dp.as_mut().map(DpRun::secret);
        let flush = FlushSubnormals::new();
        let loss = self
            .engine
            .discriminator_step(&self.ctx, &mut self.rng, secret, noise_seed);
        drop(flush);
        if let Some(run) = &mut self.dp {
            run.steps += 1;
        }
        Ok(loss)
    }

    /// One epoch; reads the mean losses back to the host once, at its end.
    pub fn epoch(&mut self) -> Result<EpochMetrics> {
        Ok(self
            .epoch_until(&|| false, None)?
            .expect("an epoch that is never asked to stop finishes"))
    }

    /// Runs the rest of the current epoch, asking `stop` before every step. Returns the
    /// epoch's metrics, or `None` when `stop` said yes first (the position in the epoch is
    /// kept, so a checkpoint taken now resumes mid-epoch).
    /// `progress`, when given, hears of every step ([`Progress::step`]).
    pub fn epoch_until(
        &mut self,
        stop: &dyn Fn() -> bool,
        progress: Option<&Progress>,
    ) -> Result<Option<EpochMetrics>> {
        let epoch_start = Instant::now();
        let first = self.step_in_epoch;
        let mut sum_g: Option<Tensor<1>> = None;
        let mut sum_d: Option<Tensor<1>> = None;
        let mut stopped = false;
        while self.step_in_epoch < self.steps_per_epoch {
            if stop() {
                stopped = true;
                break;
            }
            let losses = self.step()?;
            self.step_in_epoch += 1;
            if let Some(progress) = progress {
                progress.step(&progress::StepProgress {
                    epoch: self.epochs_done + 1,
                    epochs: self.epochs(),
                    step: self.step_in_epoch,
                    steps: self.steps_per_epoch,
                    rows: (self.step_in_epoch - first) * self.ctx.batch,
                    elapsed: epoch_start.elapsed(),
                    steps_timed: self.step_in_epoch - first,
                });
            }
            sum_g = Some(match sum_g {
                None => losses.generator,
                Some(s) => s + losses.generator,
            });
            sum_d = Some(match sum_d {
                None => losses.discriminator,
                Some(s) => s + losses.discriminator,
            });
        }
        let host = |t: Option<Tensor<1>>| t.map_or(0.0, |t| to_host(t)[0] as f64);
        self.partial_losses.0 += host(sum_g);
        self.partial_losses.1 += host(sum_d);
        if stopped {
            return Ok(None);
        }
        self.epochs_done += 1;
        let per = self.steps_per_epoch as f64;
        let (g, d) = (self.partial_losses.0 / per, self.partial_losses.1 / per);
        self.partial_losses = (0.0, 0.0);
        self.step_in_epoch = 0;
        if !g.is_finite() || !d.is_finite() {
            return Err(Error::Training(format!(
                "the losses became NaN or infinite in epoch {}; lower the learning rates in [train]",
                self.epochs_done
            )));
        }
        let seconds = epoch_start.elapsed().as_secs_f64();
        Ok(Some(EpochMetrics {
            epoch: self.epochs_done,
            generator_loss: g,
            discriminator_loss: d,
            seconds,
            rows_per_second: ((self.steps_per_epoch - first) * self.ctx.batch) as f64 / seconds,
            epsilon: self.spent().map(|s| s.epsilon),
            score: None,
        }))
    }

    /// The generator as it stands, ready for export; training can go on afterwards.
    pub fn released(&self) -> TrainedGenerator {
        let ledger = self.dp.as_ref().map(|run| {
            Ledger::new(
                &run.accountant,
                run.steps,
                run.max_grad_norm,
                run.preprocessing.clone(),
                run.rng.is_seeded(),
            )
        });
        let ledger = ledger.map(|mut ledger| {
            let warm = self.config.privacy.warm_start_epochs;
            if warm > 0 {
                let rows = warm_start_rows(self.ctx.n_rows);
                let rounds = self.config.privacy.rake_rounds;
                let pairs = self.dp.as_ref().and_then(|run| run.pairs.as_ref());
                let how = if let Some(pairs) = pairs {
                    let raked = if rounds > 0 {
                        format!(", raked towards every measured table in {rounds} passes")
                    } else {
                        String::new()
                    };
                    let linked = if pairs.copula.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", {} continuous pairs linked by a Gaussian copula of their noisy normal-score correlations",
                            pairs.copula.len()
                        )
                    } + &if pairs.shifts.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", {} discrete-continuous pairs by each category's noisy mean normal score",
                            pairs.shifts.len()
                        )
                    };
                    format!("drawn from a tree model of the noisy two-way marginals{raked}{linked}")
                } else {
                    "whose columns were drawn independently from the noisy marginals".to_string()
                };
                ledger.warm_start = Some(format!(
                    "{warm} epochs of non-private training on {rows} rows {how} (post-processing of the preprocessing measurements: no privacy spent)"
                ));
            }
            ledger.epochs_cut = self.epochs_cut();
            ledger
        });
        TrainedGenerator {
            ledger,
            pairs: self.dp.as_ref().and_then(|run| run.pairs.clone()),
            determined: if self.dp.is_none() {
                self.determined.clone()
            } else {
                None
            },
            tensors: self.engine.generator_tensors(),
            training_rows: self.ctx.n_rows,
            epochs_run: self.epochs_done,
            transformer: self.transformer.clone(),
        }
    }

    /// Epochs this run trains: `train.epochs`, or fewer where `train.max_steps` cuts them
    /// ([`planned_epochs`]).
    pub fn epochs(&self) -> usize {
        planned_epochs(&self.config, self.ctx.n_rows)
    }

    /// What `train.max_steps` cut, in words; `None` when the run trains every configured epoch.
    fn epochs_cut(&self) -> Option<String> {
        let (configured, epochs) = (self.config.train.epochs, self.epochs());
        (epochs < configured).then(|| {
            let per = self.steps_per_epoch * self.ctx.discriminator_steps;
            format!(
                "train.max_steps = {} cut the configured {configured} epochs to {epochs} ({per} critic steps each, {} in all); raise it (--set train.max_steps=N) to train more",
                self.config.train.max_steps.unwrap_or(0),
                per * epochs
            )
        })
    }

    /// What to tell the user where training differs from `config` as written: a DP batch
    /// fitted to a small table (`batch_for_small_table`), epochs cut by `train.max_steps`.
    pub fn fit_notes(&self, config: &RunConfig) -> Vec<String> {
        let mut notes = Vec::new();
        if self.ctx.batch != config.train.batch_size {
            notes.push(format!(
                "train.batch_size = {} is more than the table's {} rows: training with batches of {}; set train.batch_size to choose another",
                config.train.batch_size, self.ctx.n_rows, self.ctx.batch
            ));
        }
        notes.extend(self.epochs_cut());
        notes
    }

    /// Ends training: the generator goes to the host, the critic is dropped.
    pub fn finish(self) -> TrainedGenerator {
        self.released()
    }
}

/// Trains on `table` with `config` on `device` for `config.train.epochs` epochs (fewer where
/// `train.max_steps` cuts them, [`Trainer::epochs`]) and returns the
/// trained generator (the critic is dropped here).
pub fn train(
    table: Table,
    config: &RunConfig,
    device: &Device,
    mut reporting: Reporting,
) -> Result<TrainedGenerator> {
    let started = Instant::now();
    let mut trainer = Trainer::with_progress(table, config, device, Some(reporting.progress))?;
    for note in trainer.fit_notes(config) {
        reporting.progress.note(&note);
    }
    let warm = trainer.warm_start.map_or(0.0, |(_, secs)| secs);
    reporting.progress.note(&format!(
        "fitted the transformer and encoded the table in {:.2} s: {} columns -> {} features",
        started.elapsed().as_secs_f64() - warm,
        trainer.transformer.schema.columns.len(),
        trainer.transformer.output_dim()
    ));
    if let Some((steps, secs)) = trainer.warm_start {
        reporting.progress.note(&format!(
            "warm start: {steps} non-private steps on rows drawn from the noisy measurements in {secs:.2} s (no privacy spent)"
        ));
    }
    if let Some(spent) = trainer.spent() {
        reporting.progress.note(&format!(
            "DP mode: preprocessing spent epsilon {:.3}; training will add noise multiplier {:.4}",
            spent.epsilon_preprocess,
            trainer.ctx.dp.as_ref().map_or(0.0, |d| d.noise_multiplier)
        ));
    }
    // Warnings (a column released as "other" or missing throughout) with --quiet too;
    // notes (a share folded) only where progress is shown.
    for notice in trainer.preprocessing_warnings() {
        match notice {
            Notice::Warning(line) => reporting.progress.warn(&line),
            Notice::Note(line) => reporting.progress.note(&line),
        }
    }
    let epochs = trainer.epochs();
    for _ in 0..epochs {
        if !trainer.budget_allows_epoch() {
            reporting.progress.note(
                "stopping early: another epoch would pass the target epsilon; the generator so far is written",
            );
            break;
        }
        let m = trainer
            .epoch_until(&|| false, Some(reporting.progress))?
            .expect("an epoch that is never asked to stop finishes");
        reporting.progress.epoch(&m, epochs);
        if let Some(log) = reporting.metrics.as_deref_mut() {
            log.write(&m)?;
        }
    }
    Ok(trainer.finish())
}
