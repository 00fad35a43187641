//! Drawing rows from a released generator file: random input and conditions from a seeded
//! host RNG (so `--seed` gives the same rows on every backend), the generator in inference mode,
//! Gumbel-max draws for one-hot spans, then the transformer's inverse. A DP file is sampled
//! calibrated ([`GeneratorSampler::calibrated`]): choices at their released shares, values
//! mapped onto the released mixtures, and, where the file holds noisy pair tables, each
//! generated row kept with a probability that follows raking's weight for it towards them
//! (post-processing of the file: no privacy spent). A column that a pair table of the file
//! shows another one determines (the noisy tables of a DP file, the exact ones a file without
//! DP keeps for this) is drawn from that table ([`crate::train::links`]), and a continuous pair
//! whose released normal-score correlation (`dp::copula`) the generator misses is moved to it
//! ([`crate::transform::dependence`]).

use burn::tensor::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::dp::marginals::NoisyPairs;
use crate::error::{Error, Result};
use crate::export::ModelFile;
use crate::model::host::linalg::single_threaded_products;
use crate::model::host::output::{activate_for_sampling, gumbel_noise};
use crate::model::host::{HostGenerator, Mat};
use crate::model::{activate, generator_from_tensors, matrix, to_host, Generator, Gumbel};
use crate::read::Table;
use crate::sampler::{ConditionSampler, Conditions};
use crate::schema::ColumnKind;
use crate::train::generator_config;
use crate::train::links::Links;
use crate::train::redraw::Redraws;
use crate::train::tree_model::{rake_ratios, RakeFactors};
use crate::transform::calibrate::{choice_bias_given, Calibration};
use crate::transform::dependence::{
    missing_undo, Dependence, DependenceTarget, MixedScale, PointScale, Ties,
};
use crate::transform::indicators::IndicatorGroups;
use crate::transform::{ColumnStates, ContinuousEncoder, DataTransformer, Encoder, Span};

/// Rows per independent random stream in [`GeneratorSampler::sample_stream`].
pub const BLOCK_ROWS: usize = 256;

/// Blocks the host engine generates in one call (`SamplingNet::generate`'s tile). Chunks
/// and each thread's run of blocks start on a multiple of it, so a block is always computed
/// in the same matrix product, alone on its thread, whatever the chunking: `--seed` then
/// gives the same rows byte for byte (with the groups following the chunking, the
/// chunking test failed once in a fresh-clone CI run: products of another height or thread
/// count round differently).
pub const TILE_BLOCKS: usize = 4;

/// A `column=value` request resolved against the model's categories.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedCondition {
    /// The condition as typed.
    pub text: String,
    /// Index of the column in the table.
    pub table_column: usize,
    /// Index among discrete columns.
    pub discrete_column: usize,
    /// Slot of the category.
    pub slot: usize,
    /// The category key, byte for byte.
    pub key: String,
}

/// A generator loaded for sampling.
pub struct GeneratorSampler {
    net: SamplingNet,
    transformer: DataTransformer,
    spans: Vec<Span>,
    conditions: ConditionSampler,
    embedding_dim: usize,
    batch_statistics: bool,
    /// Per table column, the map of its continuous values onto the released mixture
    /// ([`GeneratorSampler::calibrated`]); empty: none.
    calibrations: Vec<Option<Calibration>>,
    /// Offsets added to the one-hot spans' logits before each draw, so that every choice is
    /// drawn at its released share ([`GeneratorSampler::calibrated`]); empty: none.
    choice_bias: Vec<f32>,
    /// Per table column, whether its lower and upper bounds are public (`[privacy.columns]`
    /// of the file's config): a calibrated column's extreme values may reach a public bound
    /// ([`Calibration::fit`]).
    public_ends: Vec<(bool, bool)>,
    /// The file's noisy two-way marginals, when it has them.
    pairs: Option<NoisyPairs>,
    /// Rows the file's generator was trained on (public).
    training_rows: usize,
    /// Weights towards those marginals ([`GeneratorSampler::calibrated`]); `None`: every
    /// generated row is kept.
    pair_weights: Option<PairWeights>,
    /// Columns drawn from a released table given the column that determines them (a DP
    /// file's, [`GeneratorSampler::calibrated`]; or a file without DP's exact tables); empty:
    /// none.
    links: Links,
    /// The links of a file without DP's exact tables (`ModelHeader::determined`).
    exact_links: Links,
    /// The links of the released pair tables (`Links::find`), before the indicator groups'
    /// columns are spared; `None` without pair tables.
    noisy_links: Option<Links>,
    /// A file without DP's exact tables and correlations (`ModelHeader::determined`).
    exact: Option<NoisyPairs>,
    /// Continuous pairs whose released correlation sampling sets (`transform::dependence`;
    /// [`GeneratorSampler::calibrated`]); empty: none.
    dependence: Dependence,
    /// Indicator columns drawn one per row (`transform::indicators`); empty: none.
    indicators: IndicatorGroups,
    /// Columns drawn again from their released pair tables given their neighbours, where the
    /// generator misses those tables (`train::redraw`; [`GeneratorSampler::calibrated`]);
    /// empty: none.
    redraws: Redraws,
}

/// How [`GeneratorSampler::calibrated`] weighs a generated row towards the file's pair tables:
/// its columns' states ([`ColumnStates`]), raking's factors for them, and the weight at which a
/// row is always kept (rows below it are kept with probability weight / cap).
struct PairWeights {
    layout: Vec<ColumnStates>,
    factors: RakeFactors,
    cap: f64,
    /// The share of the pilot's rows kept on average (its mean of min(weight, cap) / cap).
    kept_share: f64,
}

impl PairWeights {
    /// The weight of one encoded row, `states` being scratch space (one per column).
    fn weight(&self, row: &[f32], states: &mut [u32]) -> f64 {
        for (s, l) in states.iter_mut().zip(&self.layout) {
            *s = l.state(row) as u32;
        }
        self.factors.weight(states)
    }

    /// Which of `n` encoded rows (`dim` wide) are kept: row `r` when `u · cap < weight`, one
    /// uniform `u` per row from `rng`, in order.
    fn keep(&self, encoded: &[f32], n: usize, dim: usize, rng: &mut impl Rng) -> Vec<bool> {
        let mut states = vec![0u32; self.layout.len()];
        (0..n)
            .map(|r| {
                let w = self.weight(&encoded[r * dim..(r + 1) * dim], &mut states);
                rng.random::<f64>() * self.cap < w
            })
            .collect()
    }

    /// The rows of `encoded` (`n` rows, `dim` wide) that [`keep`](Self::keep) keeps, in order.
    fn kept_rows(&self, encoded: &[f32], n: usize, dim: usize, rng: &mut impl Rng) -> Vec<f32> {
        let keep = self.keep(encoded, n, dim, rng);
        (0..n)
            .filter(|&r| keep[r])
            .flat_map(|r| encoded[r * dim..(r + 1) * dim].iter().copied())
            .collect()
    }
}

/// Whether a continuous column's mode choice is drawn at its released shares
/// ([`GeneratorSampler::calibrated`]): where its exact modes hold at least half its weight.
fn modes_drawn_at_shares(c: &ContinuousEncoder) -> bool {
    let exact: f64 = c.modes.iter().filter(|m| m.exact).map(|m| m.weight).sum();
    let all: f64 = c.modes.iter().map(|m| m.weight).sum();
    exact > 0.0 && exact >= 0.5 * all
}

/// Mixed into a seed for the streams [`crate::train::links`] draws from (the pilot's and each block's).
const LINKS_SEED: u64 = 0x6c69_6e6b_7300_0001;

/// Raking passes over the pilot when weighing rows towards the file's pair tables (as the
/// surrogate rows of `configs/dp-discover.toml`, `privacy.rake_rounds`).
const PAIR_RAKE_ROUNDS: usize = 1;

/// Quantile of the pilot's weights at which a row is always kept ([`PairWeights`]): the rows
/// above it are kept less often than raking would keep them (the one-way factors are then
/// refitted), and the share of generated rows kept is the pilot's mean capped weight over the
/// cap. At 0.99 it kept 13-36% of the rows on credit, hdma, baseball and flchain (credit's
/// 200,000 rows: 9.4 s against 1.5 s unweighed); at 0.95, 30-45%, with the same figures
/// within the classifier's spread (docs/quality.md, stop 48).
const PAIR_CAP_QUANTILE: f64 = 0.95;

/// Share of the pilot's kept rows holding both columns of a released continuous pair in which
/// both take values on their scales (not an exact point of a calibrated column) for sampling
/// to set its correlation ([`GeneratorSampler::calibrated`]): the released `ρ` scores every
/// row, and where many are points the free values' correlation is another quantity. Missing
/// values are left out of the share, and the released `ρ` is corrected for them.
const DEPENDENCE_FREE_SHARE: f64 = 0.9;

/// Fewest exact points a column on points needs for sampling to move it with a released
/// continuous pair ([`GeneratorSampler::calibrated`]; `transform::dependence::PointScale`).
const POINTS_MIN: usize = 3;

/// Least distance between the generator's correlation of a pair and its target for sampling
/// to set it: about three of the pilot's own sampling deviations (a file without DP's exact
/// correlations have no noise).
const DEPENDENCE_TOLERANCE_MIN: f64 = 0.02;

/// Noise deviations of a released correlation by which the generator's own must miss it
/// before sampling sets the pair.
const DEPENDENCE_DEVIATIONS: f64 = 2.0;

/// Mixed into the pilot's seed for the draws among tied values when fitting the pairs
/// sampling sets.
const DEPENDENCE_SEED: u64 = 0x6465_7065_6e64_0001;

/// Passes that scale the one-way factors so that the capped weights keep each column's
/// released shares ([`GeneratorSampler::calibrated`]).
const PAIR_MARGIN_PASSES: usize = 4;

/// Whether sampling maps continuous columns onto the released mixtures
/// ([`GeneratorSampler::calibrated`]; `dpsynth sample --calibrate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Calibrate {
    /// For a DP file: its mixtures are the noisy marginals, which on small tables hold the
    /// columns' shapes better than a generator trained by few noisy steps (docs/quality.md).
    /// For a file without DP: only its exact correlations of continuous pairs are set
    /// ([`GeneratorSampler::with_exact_dependence`]).
    #[default]
    Auto,
    /// Always.
    On,
    /// Never: the generator's own values.
    Off,
    /// Always, but every generated row is kept: the one-way shares and values only, not the
    /// pair tables' weights.
    Margins,
}

impl Calibrate {
    /// Whether it applies to `model`.
    pub fn applies(self, model: &ModelFile) -> bool {
        match self {
            Calibrate::Auto => matches!(model.header.privacy, crate::export::PrivacySection::Dp(_)),
            Calibrate::On | Calibrate::Margins => true,
            Calibrate::Off => false,
        }
    }
}

/// Rows of the pilot sample a calibration is fitted on ([`GeneratorSampler::calibrated`]).
pub const PILOT_ROWS: usize = 20_480;

/// Seed of the pilot sample: fixed, so that a file's calibration, and `--seed`'s rows, do not
/// depend on anything but the file.
const PILOT_SEED: u64 = 0x5EED_CA1B;

/// The released generator on the engine that samples with it. The sampler draws every random
/// input on the host (so `--seed` gives the same rows on every engine) and asks this type only
/// for encoded rows.
enum SamplingNet {
    /// burn's generator on its device.
    Burn(Generator, Device),
    /// The host engine's copy ([`crate::model::host`]).
    Host(HostGenerator),
}

impl SamplingNet {
    /// Encoded rows `[n, dim]` (row-major) from generator inputs `input` `[n, width]` and
    /// Gumbel uniforms `uniform` `[n, dim]`: the generator in inference mode, then the output
    /// activations with Gumbel-max draws for the one-hot spans (CTGAN's sampling; the
    /// temperature does not change the argmax), each indicator group's members then drawn
    /// together (`transform::indicators`). With `batch_statistics`, BatchNorm normalises
    /// each block of [`BLOCK_ROWS`] rows with the block's own statistics.
    fn generate(
        &self,
        (spans, indicators): (&[Span], &IndicatorGroups),
        (n, width, dim): (usize, usize, usize),
        input: Vec<f32>,
        uniform: Vec<f32>,
        batch_statistics: bool,
        bias: &[f32],
    ) -> Vec<f32> {
        match self {
            SamplingNet::Burn(generator, device) => {
                let mut raw = burn_raw(generator, device, (n, width), input, batch_statistics);
                if !bias.is_empty() {
                    raw = raw + matrix(bias.to_vec(), 1, dim, device).repeat_dim(0, n);
                }
                // The indicator groups draw from the raw outputs (offsets added above).
                let host =
                    (!indicators.is_empty()).then(|| (to_host(raw.clone()), uniform.clone()));
                let gumbel = Gumbel {
                    tau: 1.0,
                    uniform: matrix(uniform, n, dim, device),
                };
                let mut out = to_host(activate(raw, spans, &gumbel));
                if let Some((raw, uniform)) = host {
                    indicators.draw(&raw, &uniform, &[], &mut out, dim);
                }
                out
            }
            SamplingNet::Host(generator) => {
                let mut out = Vec::with_capacity(n * dim);
                host_tiles(generator, width, &input, batch_statistics, |rows, raw| {
                    let base = out.len();
                    out.resize(base + rows.len() * dim, 0.0);
                    let uniform = &uniform[rows.start * dim..rows.end * dim];
                    activate_for_sampling(&raw, spans, uniform, bias, &mut out[base..]);
                    indicators.draw(&raw.data, uniform, bias, &mut out[base..], dim);
                });
                out
            }
        }
    }

    /// The generator's raw outputs `[n, dim]` (row-major, before the output activations) for
    /// inputs `input` `[n, width]`: what [`choice_bias`] is fitted on.
    fn raw(
        &self,
        (n, width, dim): (usize, usize, usize),
        input: Vec<f32>,
        batch_statistics: bool,
    ) -> Vec<f32> {
        match self {
            SamplingNet::Burn(generator, device) => to_host(burn_raw(
                generator,
                device,
                (n, width),
                input,
                batch_statistics,
            )),
            SamplingNet::Host(generator) => {
                let mut out = Vec::with_capacity(n * dim);
                host_tiles(generator, width, &input, batch_statistics, |_, raw| {
                    out.extend_from_slice(&raw.data)
                });
                out
            }
        }
    }

    /// Blocks of [`BLOCK_ROWS`] rows generated in one call: burn takes the whole run in one
    /// batch (a GPU wants large ones); the host engine a few blocks at a time, so memory stays
    /// bounded by the tile, not the chunk (the encoded rows and their Gumbel draws are `dim`
    /// floats per row each). Each block draws from its own stream either way, so the rows are
    /// the same.
    fn blocks_per_call(&self, blocks: usize) -> usize {
        match self {
            SamplingNet::Burn(..) => blocks.max(1),
            SamplingNet::Host(_) => TILE_BLOCKS,
        }
    }
}

/// burn's raw outputs for `input` `[n, width]`; with `batch_statistics`, BatchNorm
/// normalises each block of [`BLOCK_ROWS`] rows with the block's own statistics.
fn burn_raw(
    generator: &Generator,
    device: &Device,
    (n, width): (usize, usize),
    input: Vec<f32>,
    batch_statistics: bool,
) -> Tensor<2> {
    if batch_statistics {
        let blocks: Vec<Tensor<2>> = input
            .chunks(BLOCK_ROWS * width)
            .map(|block| {
                let rows = block.len() / width;
                generator.forward_batch_statistics(matrix(block.to_vec(), rows, width, device))
            })
            .collect();
        Tensor::cat(blocks, 0)
    } else {
        generator.forward(matrix(input, n, width, device))
    }
}

/// The host generator's raw outputs for `input` (rows of `width`), a tile of
/// [`host_tile`] rows at a time: `each` gets the tile's row range and its raw outputs
/// `[rows, dim]`, in order.
fn host_tiles(
    generator: &HostGenerator,
    width: usize,
    input: &[f32],
    batch_statistics: bool,
    mut each: impl FnMut(std::ops::Range<usize>, Mat),
) {
    let n = input.len() / width;
    let tile = host_tile(batch_statistics);
    for start in (0..n).step_by(tile) {
        let end = (start + tile).min(n);
        let x = Mat::from_vec(
            end - start,
            width,
            input[start * width..end * width].to_vec(),
        );
        each(start..end, generator.forward_inference(x, batch_statistics));
    }
}

/// Rows the host engine runs through the generator at once: tiles of a few blocks keep every
/// intermediate matrix in cache; with batch statistics a tile is one block, whose statistics
/// BatchNorm uses.
fn host_tile(batch_statistics: bool) -> usize {
    if batch_statistics {
        BLOCK_ROWS
    } else {
        4 * BLOCK_ROWS
    }
}

/// Which statistics the generator's BatchNorm layers normalise with when sampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BatchNormMode {
    /// The running statistics saved with the generator: a row does not depend on the other
    /// rows generated with it (the default).
    #[default]
    Running,
    /// The statistics of each block of 256 generated rows, as SDV ctgan samples (in batches).
    Batch,
}

/// Per column of `model`'s table, whether its lower and upper bounds are public (given in the
/// file's `[privacy.columns]`).
fn public_ends(model: &ModelFile) -> Vec<(bool, bool)> {
    let public = &model.header.config.privacy.columns;
    model
        .header
        .transformer
        .schema
        .columns
        .iter()
        .map(|c| {
            public
                .get(&c.name)
                .map_or((false, false), |p| (p.min.is_some(), p.max.is_some()))
        })
        .collect()
}

/// Sigmas of a released pair table's noise above which a cell shows two indicators set in the
/// same rows.
const OVERLAP_DEVIATIONS: f64 = 3.0;

/// The indicator groups of a file's columns (`transform::indicators`), less any group two of
/// whose members a released pair table shows set together in more rows than
/// [`OVERLAP_DEVIATIONS`] of its noise (a file's `pairs`, trained on `rows` rows), and less
/// any group that one column determines member by member in the released tables (`Links`:
/// mdvis' `age1` .. `age3` beside their `agegrp`), whose members are drawn from that column's
/// rows of the tables instead, so that they agree with it; none without pair tables.
pub fn indicator_groups(
    transformer: &DataTransformer,
    pairs: Option<&NoisyPairs>,
    rows: usize,
) -> IndicatorGroups {
    let links = pairs.map(|p| Links::find(p, transformer, rows));
    indicator_groups_given(transformer, pairs, rows, links.as_ref())
}

/// [`indicator_groups`] with the links of `pairs` found already (`Links::find`).
fn indicator_groups_given(
    transformer: &DataTransformer,
    pairs: Option<&NoisyPairs>,
    rows: usize,
    links: Option<&Links>,
) -> IndicatorGroups {
    // Without released pair tables nothing would show independent flags set together, so
    // no group is taken (a file without DP models 0/1 columns as categories anyway).
    let Some(pairs) = pairs else {
        return IndicatorGroups::default();
    };
    // Each share's noise taken at the pair tables' (at least the one-way tables').
    let groups = IndicatorGroups::find(transformer, pairs.noise_std / rows.max(1) as f64);
    let groups = groups.without_overlaps(|(a, one_a), (b, one_b)| {
        pairs
            .pairs
            .iter()
            .position(|&p| p == (a, b))
            .is_some_and(|t| {
                let count = pairs.tables[t][one_a * pairs.states[b] + one_b] * rows as f64;
                count > OVERLAP_DEVIATIONS * pairs.noise_std
            })
    });
    if groups.is_empty() {
        return groups;
    }
    let Some(links) = links else {
        return IndicatorGroups::default();
    };
    let parent_of = |c: usize| links.links.iter().find(|l| l.child == c).map(|l| l.parent);
    groups.without_groups(|members| {
        let parents: Vec<Option<usize>> = members.iter().map(|&c| parent_of(c)).collect();
        parents[0].is_some_and(|p| !members.contains(&p))
            && parents.iter().all(|&q| q == parents[0])
    })
}

impl GeneratorSampler {
    /// Loads the generator from a model file onto `device`.
    pub fn new(model: &ModelFile, device: &Device, path: &std::path::Path) -> Result<Self> {
        let transformer = model.header.transformer.clone();
        let config = generator_config(&model.header.config, &transformer);
        let pairs = model.header.pairs.as_ref();
        let rows = model.header.training_rows;
        // The released tables' links, found once: the indicator groups and the calibration
        // read them.
        let noisy_links = pairs.map(|p| Links::find(p, &transformer, rows));
        let indicators = indicator_groups_given(&transformer, pairs, rows, noisy_links.as_ref());
        // A file without DP holds the exact tables of its determined columns.
        let exact_links = model
            .header
            .determined
            .as_ref()
            .map_or_else(Links::default, |d| {
                Links::find(d, &transformer, model.header.training_rows)
                    .sparing(|c| indicators.holds(c))
            });
        let generator = generator_from_tensors(&config, &model.tensors, device)
            .map_err(|m| Error::model_file(path, m))?;
        Ok(GeneratorSampler {
            net: SamplingNet::Burn(generator, device.clone()),
            spans: transformer.spans(),
            conditions: ConditionSampler::new(&transformer.discrete_encoders()),
            transformer,
            embedding_dim: config.embedding_dim,
            batch_statistics: false,
            calibrations: Vec::new(),
            choice_bias: Vec::new(),
            public_ends: public_ends(model),
            pairs: model.header.pairs.clone(),
            training_rows: model.header.training_rows,
            pair_weights: None,
            links: exact_links.clone(),
            exact_links,
            noisy_links,
            exact: model.header.determined.clone(),
            dependence: Dependence::default(),
            indicators,
            redraws: Redraws::default(),
        })
    }

    /// Draws every choice at its released share and maps each continuous column's sampled
    /// values onto the file's released mixture (`transform::calibrate`). A pilot of
    /// [`PILOT_ROWS`] rows from a fixed seed gives the generator's raw outputs: one offset per
    /// one-hot slot (a category, an exact value, present or missing) is fitted so that its Gumbel-max
    /// draws take each slot at the file's share ([`choice_bias`]), and, drawn with those
    /// offsets, the distribution of the generator's decoded values, each later value being sent
    /// to the mixture's value at its probability. A column's values then follow its released
    /// marginal while their order, and each pair's ranks, stay the generator's. Reads only the
    /// file (post-processing: no privacy spent). Call after [`on_host`](Self::on_host) and
    /// [`with_batch_norm`](Self::with_batch_norm), so that the pilot is drawn as the rows are.
    pub fn calibrated(self) -> Self {
        self.calibrated_with(true)
    }

    /// [`calibrated`](Self::calibrated), with the pair tables' weights only where `pairs`.
    pub fn calibrated_with(mut self, pairs: bool) -> Self {
        // The pilot's values are the generator's own, not an earlier calibration's.
        self.calibrations = Vec::new();
        self.choice_bias = Vec::new();
        self.pair_weights = None;
        self.links = self.exact_links.clone();
        self.redraws = Redraws::default();
        self.dependence = Dependence::default();
        let mut rng = ChaCha8Rng::seed_from_u64(PILOT_SEED);
        let (mut input, mut uniform) = (Vec::new(), Vec::new());
        self.draw_inputs(PILOT_ROWS, None, &mut rng, &mut input, &mut uniform);
        let width = self.embedding_dim + self.conditions.dim();
        let dim = self.transformer.output_dim();
        let raw = self
            .net
            .raw((PILOT_ROWS, width, dim), input, self.batch_statistics);
        // The choices first: each one-hot span drawn at its released shares.
        let gumbel: Vec<f32> = uniform.iter().map(|&u| gumbel_noise(u)).collect();
        let (spans, given) = self.choice_targets();
        self.choice_bias = choice_bias_given(&raw, &gumbel, dim, &spans, &given);
        // The indicator groups' members drawn together at their released shares.
        self.indicators
            .fit_shares(&raw, &uniform, &mut self.choice_bias, dim);
        // Then the continuous values, decoded from the pilot drawn with those offsets.
        let mut encoded = vec![0.0; PILOT_ROWS * dim];
        let raw = Mat::from_vec(PILOT_ROWS, dim, raw);
        activate_for_sampling(&raw, &self.spans, &uniform, &self.choice_bias, &mut encoded);
        self.indicators
            .draw(&raw.data, &uniform, &self.choice_bias, &mut encoded, dim);
        // Then the pair tables: determined columns drawn from them, and the pilot's rows raked
        // towards them give each cell's factor; the values are calibrated on the pilot rows
        // that weighing keeps.
        if pairs {
            if let Some(noisy) = &self.noisy_links {
                self.links = noisy.clone().sparing(|c| self.indicators.holds(c));
            }
        }
        let mut link_rng = ChaCha8Rng::seed_from_u64(PILOT_SEED ^ LINKS_SEED);
        self.links
            .apply(&mut encoded, PILOT_ROWS, dim, &mut link_rng);
        if pairs {
            if let Some(noisy) = &self.pairs {
                // Columns whose released tables the generator misses, drawn again from them
                // (the pilot's rows too), leaving links' and indicator groups' columns alone.
                let links = &self.links;
                let indicators = &self.indicators;
                let linked = |c: usize| indicators.holds(c) || links.involves(c);
                self.redraws = Redraws::fit(
                    noisy,
                    &self.transformer,
                    self.training_rows,
                    &mut encoded,
                    PILOT_ROWS,
                    dim,
                    &self.states_drawn_at_shares(),
                    &self.public_ends,
                    linked,
                    &mut link_rng,
                );
            }
            self.pair_weights = self.pair_weights(&encoded, dim);
        }
        let kept = match &self.pair_weights {
            Some(w) => w.keep(&encoded, PILOT_ROWS, dim, &mut rng),
            None => vec![true; PILOT_ROWS],
        };
        let mut offset = 0;
        let mut calibrations = Vec::with_capacity(self.transformer.encoders.len());
        for (i, enc) in self.transformer.encoders.iter().enumerate() {
            let width = match enc {
                Encoder::Discrete(d) => d.width(),
                Encoder::Continuous(c) => c.width(),
            };
            let public_ends = self.public_ends.get(i).copied().unwrap_or_default();
            calibrations.push(match enc {
                Encoder::Continuous(c) => {
                    let free: Vec<f64> = (0..PILOT_ROWS)
                        .filter(|&r| kept[r])
                        .filter_map(|r| {
                            c.decode_free(&encoded[r * dim + offset..r * dim + offset + width])
                        })
                        .collect();
                    Calibration::fit(c, free, public_ends)
                }
                Encoder::Discrete(_) => None,
            });
            offset += width;
        }
        self.calibrations = calibrations;
        if pairs {
            self.dependence = self.dependence(&encoded, dim, &kept);
        }
        self
    }

    /// A file without DP (not calibrated): sets its exact correlations of continuous pairs
    /// (`ModelHeader::determined`'s, `train::links::exact_correlations`) the way
    /// [`calibrated`](Self::calibrated) sets a DP file's released ones, fitted on a pilot of
    /// [`PILOT_ROWS`] rows; nothing else changes. A file without them is left as it is.
    pub fn with_exact_dependence(mut self) -> Self {
        if self.pairs.is_some() || self.exact.as_ref().is_none_or(|e| e.copula.is_empty()) {
            return self;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(PILOT_SEED);
        let (mut input, mut uniform) = (Vec::new(), Vec::new());
        self.draw_inputs(PILOT_ROWS, None, &mut rng, &mut input, &mut uniform);
        let mut encoded = self.generate(PILOT_ROWS, input, uniform, &[]);
        let dim = self.transformer.output_dim();
        let mut link_rng = ChaCha8Rng::seed_from_u64(PILOT_SEED ^ LINKS_SEED);
        self.links
            .apply(&mut encoded, PILOT_ROWS, dim, &mut link_rng);
        self.dependence = self.dependence(&encoded, dim, &vec![true; PILOT_ROWS]);
        self
    }

    /// The continuous pairs whose released normal-score correlation (`dp::copula`) sampling
    /// sets (or a file without DP's exact ones), fitted on the pilot's kept rows (`encoded`,
    /// `dim` wide; `kept`): an edge where both columns take values on their scale (a
    /// calibrated column's free values, or the pilot's own values: [`PointScale`]) together
    /// in at least [`DEPENDENCE_FREE_SHARE`] of the rows holding both (the released `ρ`
    /// corrected for the missing values it scored 0), and the generator's correlation is
    /// more than [`DEPENDENCE_DEVIATIONS`] of the release's noise (and
    /// [`DEPENDENCE_TOLERANCE_MIN`]) from the target.
    fn dependence(&self, encoded: &[f32], dim: usize, kept: &[bool]) -> Dependence {
        // A DP file's released correlations, or a file without DP's exact ones.
        let Some(noisy) = self.pairs.as_ref().or(self.exact.as_ref()) else {
            return Dependence::default();
        };
        let exact = self.pairs.is_none();
        if noisy.copula.is_empty() {
            return Dependence::default();
        }
        // How far a sum's noise moves a released ρ.
        let rows = self.training_rows.max(1) as f64;
        let rho_noise = crate::dp::copula::rho_noise(noisy.noise_std, rows);
        // A pair whose spreads did not clear the noise was released as exactly 0
        // (`dp::copula::measure_copula`): unknown, not independent, so it is not set.
        let mut targets: Vec<DependenceTarget> = noisy
            .copula
            .iter()
            .filter(|&&(_, rho)| rho != 0.0)
            // An indicator group's columns are drawn together (`transform::indicators`), and
            // in a DP file a link's parent and child from the released table
            // (`train::links`): moving one of them afterwards would undo that (mdvis'
            // `agegrp`, moved with `age`, then disagreed with the `age1` .. `age3` drawn
            // from it in 15% of rows).
            .filter(|&&((a, b), _)| {
                let drawn =
                    |c: usize| self.indicators.holds(c) || (!exact && self.links.involves(c));
                !drawn(a) && !drawn(b)
            })
            .map(|&((a, b), rho)| DependenceTarget {
                parent: a,
                child: b,
                rho,
                tolerance: (DEPENDENCE_DEVIATIONS * rho_noise).max(DEPENDENCE_TOLERANCE_MIN),
                rows_needed: 0,
            })
            .collect();
        let kept_rows: Vec<usize> = (0..kept.len()).filter(|&r| kept[r]).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(PILOT_SEED ^ DEPENDENCE_SEED);
        let columns = self.transformer.encoders.len();
        let mut probs: Vec<Option<Vec<Option<f64>>>> = vec![None; columns];
        let mut points: Vec<Option<PointScale>> = vec![None; columns];
        // Per column, its exact points' shares on its probability scale (none: no ties).
        let mut ties: Vec<Ties> = vec![Vec::new(); columns];
        // Per calibrated column with many exact points on an edge, its mixed scale.
        let mut mixed: Vec<Option<MixedScale>> = vec![None; columns];
        // Per continuous column on an edge, which kept rows hold a value (not missing).
        let mut present: Vec<Option<Vec<bool>>> = vec![None; columns];
        let mut offset = 0;
        for (k, enc) in self.transformer.encoders.iter().enumerate() {
            let width = match enc {
                Encoder::Discrete(d) => d.width(),
                Encoder::Continuous(c) => c.width(),
            };
            let on_edge = targets.iter().any(|t| t.parent == k || t.child == k);
            let span = |r: usize| &encoded[r * dim + offset..r * dim + offset + width];
            // Each kept row's value (points and free values; missing: `None`), decoded once.
            let values: Vec<Option<f64>> = match (enc, on_edge) {
                (Encoder::Continuous(c), true) => {
                    kept_rows.iter().map(|&r| c.decode_value(span(r))).collect()
                }
                _ => Vec::new(),
            };
            if !values.is_empty() {
                present[k] = Some(values.iter().map(Option::is_some).collect());
            }
            match (enc, self.calibrations.get(k), on_edge) {
                (Encoder::Continuous(c), Some(Some(cal)), true) => {
                    // Each kept row's free value, or its exact point.
                    let decoded: Vec<(Option<f64>, Option<f64>)> = kept_rows
                        .iter()
                        .zip(&values)
                        .map(|(&r, &value)| (c.decode_free(span(r)), value))
                        .collect();
                    let on_points: Vec<f64> = decoded
                        .iter()
                        .filter_map(|&(free, value)| if free.is_none() { value } else { None })
                        .collect();
                    let free_rows = decoded.iter().filter(|d| d.0.is_some()).count();
                    // Points in more than the share the 90% rule leaves (a spending's zeros):
                    // the column takes part through its mixed scale, points and all.
                    let many = on_points.len() as f64
                        > (1.0 - DEPENDENCE_FREE_SHARE) * (free_rows + on_points.len()) as f64;
                    let scale = many
                        .then(|| MixedScale::fit(on_points, free_rows, |u| cal.value_at(u)))
                        .flatten();
                    match scale {
                        None => {
                            probs[k] = Some(
                                decoded
                                    .iter()
                                    .map(|d| d.0.map(|x| cal.prob(x, &mut rng)))
                                    .collect(),
                            );
                        }
                        Some(scale) => {
                            let drawn: Vec<Option<f64>> = decoded
                                .iter()
                                .map(|&(free, value)| match (free, value) {
                                    (Some(x), _) => {
                                        let u = cal.prob(x, &mut rng);
                                        Some(scale.prob_free(u, cal.value_at(u)))
                                    }
                                    (None, Some(v)) => scale.prob_point(v, &mut rng),
                                    (None, None) => None,
                                })
                                .collect();
                            ties[k] = scale.ties();
                            probs[k] = Some(drawn);
                            mixed[k] = Some(scale);
                        }
                    }
                }
                // Without a calibration, a column's probabilities come from the pilot's own
                // values: a column all on exact points (a count, a code), or any column of a
                // file without DP (not calibrated), its exact points among its values. A flag
                // of two points is left to the pair tables its rows are weighed towards (a
                // target's yes/no moved after weighing undoes them).
                (Encoder::Continuous(c), _, true)
                    if exact
                        || (c.modes.len() >= POINTS_MIN && c.modes.iter().all(|m| m.exact)) =>
                {
                    let on_points = c.modes.len() >= POINTS_MIN && c.modes.iter().all(|m| m.exact);
                    let present: Vec<f64> = values.iter().flatten().copied().collect();
                    let scale = if on_points {
                        PointScale::fit(present)
                    } else {
                        PointScale::fit_free(present)
                    };
                    if let Some(scale) = scale {
                        let drawn: Vec<Option<f64>> = values
                            .iter()
                            .map(|x| x.map(|x| scale.prob(x, &mut rng)))
                            .collect();
                        ties[k] = scale.ties();
                        probs[k] = Some(drawn);
                        points[k] = Some(scale);
                    }
                }
                _ => {}
            }
            offset += width;
        }
        for t in &mut targets {
            // A missing value scores 0 in a released ρ (`dp::copula`): ρ = S_ab / √(S_aa S_bb)
            // with S_ab summed over the rows holding both values and each spread over the rows
            // holding its own, so the rows holding both correlate by ρ √(S_aa S_bb) over
            // √(S_aa' S_bb'), the spreads summed over those rows only. The pilot's clipped
            // scores give that factor, and the edge is set on the rows holding both values.
            let mut both = kept_rows.len();
            if let (Some(pa), Some(pb)) = (&present[t.parent], &present[t.child]) {
                both = pa.iter().zip(pb).filter(|&(&a, &b)| a && b).count();
                if both > 0 && both < kept_rows.len() {
                    if let (Some(Some(ua)), Some(Some(ub))) =
                        (probs.get(t.parent), probs.get(t.child))
                    {
                        let undo = missing_undo(ua, ub, crate::dp::copula::SCORE_CLIP);
                        let max = crate::dp::copula::MAX_RHO;
                        t.rho = (t.rho * undo).clamp(-max, max);
                        t.tolerance *= undo;
                    }
                }
            }
            t.rows_needed = (DEPENDENCE_FREE_SHARE * both as f64).ceil() as usize;
        }
        let mut dependence =
            Dependence::fit(&targets, &mut probs, &ties, crate::dp::copula::SCORE_CLIP);
        // Only the scales of columns in a set edge are kept.
        for (k, p) in points.iter_mut().enumerate() {
            if !dependence.involves(k) {
                *p = None;
            }
        }
        if points.iter().any(Option::is_some) {
            dependence.points = points;
        }
        for (k, m) in mixed.iter_mut().enumerate() {
            if !dependence.involves(k) {
                *m = None;
            }
        }
        if mixed.iter().any(Option::is_some) {
            dependence.mixed = mixed;
        }
        dependence
    }

    /// The continuous pairs sampling moves to their released correlation
    /// ([`calibrated`](Self::calibrated)), parent first, with the weights of the child's own
    /// score and its parent's.
    pub fn dependence_edges(&self) -> Vec<(usize, usize, f64, f64)> {
        self.dependence
            .edges
            .iter()
            .map(|e| (e.parent, e.child, e.own, e.from_parent))
            .collect()
    }

    /// Raking factors of the pilot's `encoded` rows (`dim` wide) towards the file's pair
    /// tables and one-way margins, and the weight at which a row is always kept; `None` for a
    /// file without pair tables.
    fn pair_weights(&self, encoded: &[f32], dim: usize) -> Option<PairWeights> {
        let pairs = self.pairs.as_ref()?;
        let layout = self.transformer.column_states();
        if pairs.states.len() != layout.len() {
            return None;
        }
        // Only columns whose states are drawn at the file's shares (a category, or an exact
        // value of a coded column: `choice_targets`): a continuous column's soft modes are the
        // generator's own use of its outputs (its values are mapped onto the mixture
        // afterwards), and raking them towards the tables' modes weighed most rows near zero.
        let chosen = self.states_drawn_at_shares();
        let states: Vec<Option<Vec<u32>>> = layout
            .iter()
            .zip(&chosen)
            .map(|(l, &chosen)| {
                chosen.then(|| {
                    (0..PILOT_ROWS)
                        .map(|r| l.state(&encoded[r * dim..(r + 1) * dim]) as u32)
                        .collect()
                })
            })
            .collect();
        let margins = self.transformer.state_margins();
        // A cell's weight moves only where the generator's share and the table's differ by
        // more than the table's noise (std over the training rows).
        let pseudo = pairs.noise_std / self.training_rows.max(1) as f64;
        let factors = pairs.rake_factors(&states, &margins, PAIR_RAKE_ROUNDS, pseudo);
        let mut weights = PairWeights {
            layout,
            factors,
            cap: f64::INFINITY,
            kept_share: 1.0,
        };
        let mut scratch = vec![0u32; weights.layout.len()];
        let mut pilot: Vec<f64> = (0..PILOT_ROWS)
            .map(|r| weights.weight(&encoded[r * dim..(r + 1) * dim], &mut scratch))
            .collect();
        let mut sorted = pilot.clone();
        sorted.sort_by(f64::total_cmp);
        weights.cap = sorted[((PILOT_ROWS - 1) as f64 * PAIR_CAP_QUANTILE) as usize];
        if !(weights.cap.is_finite() && weights.cap > 0.0) {
            return None;
        }
        // Rows are kept with probability min(weight, cap) / cap: the capped weights of the
        // rare rows above the cap left their states short (hdma's `deny`, 12% yes: TV 0.004
        // before weighing, 0.024 after). A few passes scale each column's one-way factors
        // until the capped weights give its released shares again.
        for _ in 0..PAIR_MARGIN_PASSES {
            for (c, target) in margins.iter().enumerate() {
                let Some(column) = &states[c] else { continue };
                if target.is_empty() {
                    continue;
                }
                let mut mass = vec![0.0; target.len()];
                for (r, &s) in column.iter().enumerate() {
                    mass[(s as usize).min(target.len() - 1)] += pilot[r].min(weights.cap);
                }
                let ratio = rake_ratios(target, &mass, 0.0);
                weights.factors.scale_margin(c, &ratio);
                for (r, &s) in column.iter().enumerate() {
                    pilot[r] *= ratio[(s as usize).min(target.len() - 1)];
                }
            }
        }
        weights.kept_share = pilot.iter().map(|w| w.min(weights.cap)).sum::<f64>()
            / (PILOT_ROWS as f64 * weights.cap);
        Some(weights)
    }

    /// Per column, whether sampling draws its states at the file's shares: a discrete column,
    /// or a continuous one whose exact modes hold at least half its weight (as
    /// [`choice_targets`](Self::choice_targets)).
    fn states_drawn_at_shares(&self) -> Vec<bool> {
        self.transformer
            .encoders
            .iter()
            .map(|enc| match enc {
                Encoder::Discrete(_) => true,
                Encoder::Continuous(c) => modes_drawn_at_shares(c),
            })
            .collect()
    }

    /// Each one-hot span's offset in the encoded row and the shares the released file gives
    /// its slots: a discrete column's category counts, the mode weights of a continuous column
    /// whose exact modes hold at least half its weight, and a continuous column's present and
    /// missing shares; beside them, for each span, the offset of the present-or-missing span
    /// its shares hold among the present rows of (a nullable continuous column's modes).
    #[allow(clippy::type_complexity)]
    fn choice_targets(&self) -> (Vec<(usize, Vec<f64>)>, Vec<Option<usize>>) {
        let mut targets = Vec::new();
        let mut given = Vec::new();
        let mut offset = 0;
        for enc in &self.transformer.encoders {
            match enc {
                Encoder::Discrete(d) => {
                    targets.push((offset, d.counts.clone()));
                    given.push(None);
                    offset += d.width();
                }
                Encoder::Continuous(c) => {
                    // Modes only where the exact ones hold at least half the column's weight
                    // (codes, flags, a few coded values beside a small body): a row moved to
                    // another mode of a continuous column would leave the values it shares
                    // with other columns behind (churn's charges, proportional to minutes, lost
                    // pair trends), where the value map below keeps each column's order. A
                    // coded rate with a small body (hdma's `uria`: seven exact values, 92% of
                    // the weight) was drawn by one generator at 3% on its 39% value.
                    let present = c.has_null.then(|| offset + c.width() - 2);
                    if modes_drawn_at_shares(c) {
                        targets.push((offset + 1, c.modes.iter().map(|m| m.weight).collect()));
                        given.push(present);
                    }
                    if let Some(at) = present {
                        targets.push((at, vec![1.0 - c.null_rate, c.null_rate]));
                        given.push(None);
                    }
                    offset += c.width();
                }
            }
        }
        (targets, given)
    }

    /// Whether [`calibrated`](Self::calibrated) weighs rows towards the file's pair tables:
    /// how many tables it rakes towards, and the share of generated rows it keeps.
    pub fn pair_weighting(&self) -> Option<(usize, f64)> {
        self.pair_weights
            .as_ref()
            .map(|w| (w.factors.pair_tables(), w.kept_share))
    }

    /// The columns sampling draws from a pair table given the column that determines them (a
    /// DP file's after [`calibrated`](Self::calibrated); a file without DP's from the start).
    pub fn links(&self) -> &Links {
        &self.links
    }

    /// The columns sampling draws again from their released pair tables given their
    /// neighbours (`train::redraw`; after [`calibrated`](Self::calibrated)).
    pub fn redraws(&self) -> &Redraws {
        &self.redraws
    }

    /// How many continuous columns [`calibrated`](Self::calibrated) maps.
    pub fn calibrated_columns(&self) -> usize {
        self.calibrations.iter().flatten().count()
    }

    /// Samples on the host engine ([`crate::model::host`]) instead of burn: the same rows up
    /// to float rounding, at several times the speed on a CPU.
    pub fn on_host(mut self) -> Self {
        if let SamplingNet::Burn(generator, _) = &self.net {
            self.net = SamplingNet::Host(HostGenerator::from_burn(generator));
        }
        self
    }

    /// Whether sampling runs on the host engine.
    pub fn is_on_host(&self) -> bool {
        matches!(self.net, SamplingNet::Host(_))
    }

    /// Sets which statistics BatchNorm uses ([`BatchNormMode`]).
    pub fn with_batch_norm(mut self, mode: BatchNormMode) -> Self {
        self.batch_statistics = mode == BatchNormMode::Batch;
        self
    }

    /// Resolves `column=value`. The value must be a kept category of a discrete column; an
    /// exact match wins, else a unique match ignoring surrounding spaces.
    pub fn resolve_condition(&self, text: &str) -> Result<ResolvedCondition> {
        let err = |m: String| Error::Condition {
            condition: text.to_string(),
            message: m,
        };
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| err("expected the form column=value".into()))?;
        let schema = &self.transformer.schema;
        let table_column = schema
            .columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                err(format!(
                    "no column '{name}'; columns: {}",
                    schema
                        .columns
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        if schema.columns[table_column].kind != ColumnKind::Discrete {
            return Err(err(format!(
                "column '{name}' is continuous; only discrete columns can be conditioned on: {}",
                schema.discrete_names().join(", ")
            )));
        }
        let discrete_column = schema.columns[..table_column]
            .iter()
            .filter(|c| c.kind == ColumnKind::Discrete)
            .count();
        let encoder = self.transformer.discrete_encoders()[discrete_column];
        let keys: Vec<&str> = encoder
            .slots
            .iter()
            .filter_map(|s| match s {
                crate::transform::Slot::Value(k) => Some(k.as_str()),
                _ => None,
            })
            .collect();
        // A number column written in a text form (`004`, `$5.00`) is keyed by the number:
        // the value is read in that form, and the known values are shown in it.
        let form = schema.columns[table_column].form.as_ref();
        let in_form = form.and_then(|f| f.key(value));
        let slot_and_key = encoder
            .slot_of(value)
            .map(|s| (s, value.to_string()))
            .or_else(|| {
                let key = in_form.as_deref()?;
                encoder.slot_of(key).map(|s| (s, key.to_string()))
            })
            .or_else(|| {
                let trimmed: Vec<&&str> =
                    keys.iter().filter(|k| k.trim() == value.trim()).collect();
                match trimmed.as_slice() {
                    [k] => encoder.slot_of(k).map(|s| (s, k.to_string())),
                    _ => None,
                }
            });
        let (slot, key) = slot_and_key.ok_or_else(|| {
            let written =
                |k: &str| -> String { form.and_then(|f| f.write_key(k)).unwrap_or(k.to_string()) };
            let shown: Vec<String> = keys
                .iter()
                .take(20)
                .map(|k| format!("{:?}", written(k)))
                .collect();
            err(format!(
                "'{value}' is not a known category of '{name}' (known: {}{})",
                shown.join(", "),
                if keys.len() > 20 { ", ..." } else { "" }
            ))
        })?;
        Ok(ResolvedCondition {
            text: text.to_string(),
            table_column,
            discrete_column,
            slot,
            key,
        })
    }

    /// Host-side randomness for `n` rows: generator input `[n, embedding + condition]` and
    /// Gumbel uniforms `[n, output_dim]`.
    fn draw_inputs(
        &self,
        n: usize,
        condition: Option<&ResolvedCondition>,
        rng: &mut impl Rng,
        input: &mut Vec<f32>,
        uniform: &mut Vec<f32>,
    ) {
        let emb = self.embedding_dim;
        let cdim = self.conditions.dim();
        let conds: Option<Conditions> = match condition {
            Some(c) => Some(self.conditions.fixed(n, c.discrete_column, c.slot)),
            None => self.conditions.sample_original(n, rng),
        };
        let one_hot = conds.map(|c| self.conditions.one_hot(&c));
        for r in 0..n {
            input.extend(
                (0..emb)
                    .map(|_| <StandardNormal as Distribution<f32>>::sample(&StandardNormal, rng)),
            );
            if let Some(o) = &one_hot {
                input.extend_from_slice(&o[r * cdim..(r + 1) * cdim]);
            }
        }
        let dim = self.transformer.output_dim();
        uniform.extend((0..n * dim).map(|_| rng.random_range(1e-7f32..1.0 - 1e-7)));
    }

    /// Runs the generator on host inputs: `n` encoded rows, row-major, with the choice offsets
    /// `bias` (empty: none).
    fn generate(&self, n: usize, input: Vec<f32>, uniform: Vec<f32>, bias: &[f32]) -> Vec<f32> {
        let width = self.embedding_dim + self.conditions.dim();
        let dim = self.transformer.output_dim();
        self.net.generate(
            (&self.spans, &self.indicators),
            (n, width, dim),
            input,
            uniform,
            self.batch_statistics,
            bias,
        )
    }

    /// The choice offsets for rows drawn under `condition`: none on the conditioned column's
    /// slots, whose value the condition asks for (an offset fitted on the unconditional shares
    /// would pull those rows away from it, and more would be generated to find matches).
    fn bias_under(&self, condition: Option<&ResolvedCondition>) -> std::borrow::Cow<'_, [f32]> {
        let conditioned = condition.and_then(|c| {
            self.spans
                .iter()
                .find(|s| s.condition_column == Some(c.discrete_column))
        });
        match conditioned {
            Some(span) if !self.choice_bias.is_empty() => {
                let mut bias = self.choice_bias.clone();
                bias[span.offset..span.offset + span.width].fill(0.0);
                std::borrow::Cow::Owned(bias)
            }
            _ => std::borrow::Cow::Borrowed(&self.choice_bias),
        }
    }

    /// Generates `n` encoded rows (row-major, `output_dim` wide).
    pub fn sample_encoded(
        &self,
        n: usize,
        condition: Option<&ResolvedCondition>,
        rng: &mut impl Rng,
    ) -> Vec<f32> {
        let mut input = Vec::new();
        let mut uniform = Vec::new();
        self.draw_inputs(n, condition, rng, &mut input, &mut uniform);
        let mut encoded = self.generate(n, input, uniform, &self.bias_under(condition));
        let dim = self.transformer.output_dim();
        self.links.apply(&mut encoded, n, dim, rng);
        self.redraws.apply(&mut encoded, n, dim, rng);
        encoded
    }

    /// Rows `first_row .. first_row + n` of the unconditional sample stream of `seed`. Each
    /// block of [`BLOCK_ROWS`] rows draws from its own ChaCha stream, so the rows do not depend
    /// on how a caller splits the output into chunks (`first_row` must start a block).
    pub fn sample_stream(&self, seed: u64, first_row: usize, n: usize) -> Table {
        assert_eq!(
            first_row % BLOCK_ROWS,
            0,
            "chunks start on block boundaries"
        );
        if n == 0 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            return self.transformer.inverse(&[], 0, &mut rng);
        }
        let blocks: Vec<(usize, usize)> = (0..n.div_ceil(BLOCK_ROWS))
            .map(|b| {
                (
                    first_row / BLOCK_ROWS + b,
                    BLOCK_ROWS.min(n - b * BLOCK_ROWS),
                )
            })
            .collect();
        // Blocks are independent (each has its own stream), so the chunk is split into one
        // run of blocks per core, generated side by side; the rows are the same either way.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(blocks.len())
            .max(1);
        let mut per_thread = blocks.len().div_ceil(threads);
        if self.is_on_host() {
            per_thread = per_thread.div_ceil(TILE_BLOCKS) * TILE_BLOCKS;
        }
        // Each thread's matrix products then run on that thread alone (with one thread too,
        // so that a block's products do not depend on how many threads a chunk has).
        let _single = self.is_on_host().then(single_threaded_products);
        let parts: Vec<Table> = std::thread::scope(|scope| {
            let handles: Vec<_> = blocks
                .chunks(per_thread)
                .map(|group| scope.spawn(move || self.sample_blocks(seed, group)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a sampling thread panicked"))
                .collect()
        });
        crate::read::concat_tables(parts)
    }

    /// One ChaCha stream per block: stream `index` of `seed`.
    fn block_rngs(seed: u64, blocks: &[(usize, usize)]) -> Vec<ChaCha8Rng> {
        blocks
            .iter()
            .map(|&(index, _)| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(index as u64);
                rng
            })
            .collect()
    }

    /// The rows of `blocks` ((stream index, rows) pairs) of the sample stream of `seed`.
    fn sample_blocks(&self, seed: u64, blocks: &[(usize, usize)]) -> Table {
        let mut rngs = Self::block_rngs(seed, blocks);
        // The determined columns' draws come from streams of their own, so that a file's
        // other draws are the same with or without them.
        let mut link_rngs = Self::block_rngs(seed ^ LINKS_SEED, blocks);
        let tile = self.net.blocks_per_call(blocks.len());
        let mut parts = Vec::with_capacity(blocks.len());
        for ((group, rngs), link_rngs) in blocks
            .chunks(tile)
            .zip(rngs.chunks_mut(tile))
            .zip(link_rngs.chunks_mut(tile))
        {
            let kept = self.generate_kept(group, rngs, link_rngs);
            for ((&(_, rows), rng), encoded) in group.iter().zip(rngs.iter_mut()).zip(kept) {
                parts.push(self.transformer.inverse_calibrated(
                    &encoded,
                    rows,
                    rng,
                    &self.calibrations,
                    &self.dependence,
                ));
            }
        }
        crate::read::concat_tables(parts)
    }

    /// The encoded rows of a group of blocks ((stream index, rows) pairs, one stream each),
    /// generated together. With pair weights ([`calibrated`](Self::calibrated)) each block's
    /// rows are kept by [`PairWeights::keep`] and the block generates again, from its own
    /// stream, until it has its rows; the rows still depend only on the seed and the block.
    fn generate_kept(
        &self,
        group: &[(usize, usize)],
        rngs: &mut [ChaCha8Rng],
        link_rngs: &mut [ChaCha8Rng],
    ) -> Vec<Vec<f32>> {
        let dim = self.transformer.output_dim();
        let mut kept: Vec<Vec<f32>> = group
            .iter()
            .map(|&(_, rows)| Vec::with_capacity(rows * dim))
            .collect();
        // Each pass asks every block short of rows for what it lacks over the pilot's share
        // kept, so most blocks are done in one or two passes.
        let over = self
            .pair_weights
            .as_ref()
            .map_or(1.0, |w| 1.0 / w.kept_share.max(0.05));
        loop {
            let asks: Vec<usize> = group
                .iter()
                .zip(&kept)
                .map(|(&(_, rows), k)| {
                    let lack = rows - k.len() / dim;
                    match (&self.pair_weights, lack) {
                        (_, 0) => 0,
                        (None, lack) => lack,
                        (Some(_), lack) => ((lack as f64 * over).ceil() as usize + 8).max(lack),
                    }
                })
                .collect();
            let n: usize = asks.iter().sum();
            if n == 0 {
                return kept;
            }
            let mut input = Vec::new();
            let mut uniform = Vec::new();
            for (&ask, rng) in asks.iter().zip(rngs.iter_mut()) {
                self.draw_inputs(ask, None, rng, &mut input, &mut uniform);
            }
            let mut encoded = self.generate(n, input, uniform, &self.choice_bias);
            let mut start = 0;
            for ((((&ask, rng), link_rng), k), &(_, rows)) in asks
                .iter()
                .zip(rngs.iter_mut())
                .zip(link_rngs.iter_mut())
                .zip(&mut kept)
                .zip(group)
            {
                let slice = &mut encoded[start * dim..(start + ask) * dim];
                start += ask;
                self.links.apply(slice, ask, dim, link_rng);
                self.redraws.apply(slice, ask, dim, link_rng);
                let slice = &*slice;
                match &self.pair_weights {
                    None => k.extend_from_slice(slice),
                    Some(w) => {
                        k.extend(w.kept_rows(slice, ask, dim, rng));
                        k.truncate(rows * dim);
                    }
                }
            }
        }
    }

    /// Generates `n` rows as a table; with a condition, rows are generated until `n` rows hold
    /// the requested value, giving up after `max_tries_factor * n` generated rows.
    pub fn sample_table(
        &self,
        n: usize,
        condition: Option<&ResolvedCondition>,
        max_tries_factor: usize,
        rng: &mut impl Rng,
    ) -> Result<Table> {
        let Some(cond) = condition else {
            return Ok(self.sample_stream(rng.random(), 0, n));
        };
        let mut kept: Vec<Table> = Vec::new();
        let mut have = 0;
        let mut generated = 0;
        while have < n {
            if generated >= max_tries_factor.max(1) * n {
                return Err(Error::Condition {
                    condition: cond.text.clone(),
                    message: format!(
                        "only {have} of {n} rows matched after generating {generated}; the value is too rare for the generator: ask for fewer rows or drop the condition"
                    ),
                });
            }
            let batch = (n - have).max(256) * 2;
            let mut encoded = self.sample_encoded(batch, Some(cond), rng);
            // Weighed towards the pair tables as unconditional rows are: a row's weight is
            // its share in the tables over the generator's, which holds within the rows that
            // have the asked value too.
            let mut drawn = batch;
            if let Some(w) = &self.pair_weights {
                let dim = self.transformer.output_dim();
                encoded = w.kept_rows(&encoded, batch, dim, rng);
                drawn = encoded.len() / dim.max(1);
            }
            // Counted after weighing: `max_tries_factor` bounds the rows looked at.
            generated += drawn;
            let table = self.transformer.inverse_calibrated(
                &encoded,
                drawn,
                rng,
                &self.calibrations,
                &self.dependence,
            );
            let column = &table.columns[cond.table_column].values;
            let rows: Vec<usize> = (0..drawn)
                .filter(|&r| column.key(r).as_deref() == Some(cond.key.as_str()))
                .take(n - have)
                .collect();
            have += rows.len();
            kept.push(table.take_rows(&rows));
        }
        Ok(crate::read::concat_tables(kept))
    }
}
