//! The per-table TOML configuration: every hyper-parameter of a run, with CTGAN's defaults.
//!
//! Every table rejects unknown keys (serde's `deny_unknown_fields`), so a typo is an error that
//! names the key instead of a silently ignored setting. `configs/README.md` documents each field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A whole run: where the table is, how to read and encode it, the networks, training and output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// How to read the input table.
    pub data: DataConfig,
    /// Per-column overrides of the inferred kind, keyed by column name.
    pub columns: BTreeMap<String, ColumnOverride>,
    /// Encoding of columns into the network's space.
    pub transform: TransformConfig,
    /// Generator and discriminator shapes.
    pub model: ModelConfig,
    /// Optimisation settings.
    pub train: TrainConfig,
    /// Where results go.
    pub output: OutputConfig,
    /// Differential privacy (DP mode when `epsilon` or `noise_multiplier` is set).
    pub privacy: PrivacyConfig,
    /// The per-epoch fidelity score of run folders and the choice of the released epoch.
    pub score: ScoreConfig,
    /// The search space of `dpsynth tune`.
    pub tune: TuneConfig,
}

/// The `[score]` table: how a run folder scores each epoch's generator (the SDMetrics-style
/// quality score of a fixed-size sample against real rows) and whether it releases the best
/// epoch instead of the last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreConfig {
    /// Rows sampled for each score; 0 turns scoring off. Default 1000.
    pub rows: usize,
    /// Score every this many epochs (and always at the last). Default 1.
    pub every: usize,
    /// Non-DP mode: share of rows held out of training and scored against (0: score against a
    /// fixed sample of the training rows). Default 0.
    pub holdout_share: f64,
    /// A public table with the same columns to score against instead of the training rows.
    /// The only way to score (and keep the best epoch) in DP mode, since the score of a
    /// private table would read rows that no mechanism charges.
    pub public_table: Option<PathBuf>,
    /// Release the generator of the best-scoring epoch instead of the last one. Needs a
    /// holdout (`holdout_share` > 0) or `public_table`. Default false.
    pub keep_best: bool,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig {
            rows: 1000,
            every: 1,
            holdout_share: 0.0,
            public_table: None,
            keep_best: false,
        }
    }
}

/// The `[tune]` table: what `dpsynth tune` searches over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TuneConfig {
    /// `"random"` (draw each field from its list) or `"grid"` (every combination, in order,
    /// as far as `--trials` and the budget allow). Default "random".
    pub strategy: TuneStrategy,
    /// Share of rows held out of every trial's training and scored against. Default 0.2.
    pub holdout_share: f64,
    /// Seed of the random search and of the split. Default 0.
    pub seed: u64,
    /// Candidate values per config field, keyed by the dotted field name
    /// (e.g. `"train.generator_lr" = [1e-4, 2e-4]`).
    pub space: BTreeMap<String, Vec<toml::Value>>,
}

impl Default for TuneConfig {
    fn default() -> Self {
        TuneConfig {
            strategy: TuneStrategy::Random,
            holdout_share: 0.2,
            seed: 0,
            space: BTreeMap::new(),
        }
    }
}

/// How `tune` walks its search space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TuneStrategy {
    /// Each trial draws every field independently.
    #[default]
    Random,
    /// Every combination, in order.
    Grid,
}

/// How the input table is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Path of the CSV or Parquet table, relative to the working directory. Optional: the
    /// command line may give it instead.
    pub path: Option<PathBuf>,
    /// CSV field delimiter, one ASCII character. Default ","; with the default, a header line
    /// holding no comma but a semicolon, tab or pipe is read with that one.
    pub delimiter: String,
    /// CSV quote character, one ASCII character. Default "\"".
    pub quote: String,
    /// Whether the CSV's first line is a header. Default true.
    pub has_header: bool,
    /// Strings read as missing values in CSV files. Default `["", "NA"]`.
    pub null_values: Vec<String>,
    /// Columns left out as the table is read: an identifier, a name or free text, whose every
    /// value is rare, so that DP can release nothing of it (train warns where discovery folded
    /// nearly every row into "other"). Each must name a column of the table. Default none.
    pub drop: Vec<String>,
    /// The CSV file's text encoding: `"utf-8"` (default; ASCII included), `"latin-1"` or
    /// `"windows-1252"` (as spreadsheets on Windows save CSV). A file that is not UTF-8 read
    /// without it is an error that names this key; another name is an error when the table is
    /// read (`read::encoding`).
    pub encoding: String,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            path: None,
            delimiter: ",".into(),
            quote: "\"".into(),
            has_header: true,
            null_values: vec!["".into(), "NA".into()],
            drop: Vec::new(),
            encoding: "utf-8".into(),
        }
    }
}

/// The kind a column is modelled as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKindSetting {
    /// One-hot encoded categories.
    Discrete,
    /// Mode-specific normalisation with a Gaussian mixture.
    Continuous,
}

/// Per-column settings that override what is inferred from the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ColumnOverride {
    /// Force the column to be discrete or continuous.
    pub kind: Option<ColumnKindSetting>,
}

/// How columns are encoded (CTGAN's transformer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransformConfig {
    /// Most mixture modes per continuous column. Default 10 (CTGAN).
    pub max_modes: usize,
    /// A mode whose mixture weight is below this is dropped. Default 0.005 (CTGAN).
    pub weight_threshold: f64,
    /// Integer columns with at most this many distinct values are discrete. Default 10.
    pub discrete_int_max_distinct: usize,
    /// Most one-hot categories per discrete column; rarer ones share one bucket whose values
    /// are drawn back at their observed frequencies. Keeps memory bounded for ID-like
    /// columns. Default 1000.
    pub max_categories: usize,
    /// Variational-mixture iterations. Default 100 (scikit-learn).
    pub mixture_iterations: usize,
}

impl Default for TransformConfig {
    fn default() -> Self {
        TransformConfig {
            max_modes: 10,
            weight_threshold: 0.005,
            discrete_int_max_distinct: 10,
            max_categories: 1000,
            mixture_iterations: 100,
        }
    }
}

/// Network shapes (CTGAN defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Size of the generator's random input. Default 128.
    pub embedding_dim: usize,
    /// Widths of the generator's residual blocks. Default [256, 256].
    pub generator_dims: Vec<usize>,
    /// Widths of the discriminator's hidden layers. Default [256, 256].
    pub discriminator_dims: Vec<usize>,
    /// PacGAN packing: rows judged together by the discriminator. Default 10 without DP and 1
    /// (the only value allowed) in DP mode; read it through [`RunConfig::pac`].
    pub pac: Option<usize>,
    /// Dropout rate in the discriminator. Default 0.5.
    pub dropout: f64,
    /// Negative slope of the discriminator's LeakyReLU. Default 0.2.
    pub leaky_slope: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            embedding_dim: 128,
            generator_dims: vec![256, 256],
            discriminator_dims: vec![256, 256],
            pac: None,
            dropout: 0.5,
            leaky_slope: 0.2,
        }
    }
}

/// Which compute device runs training and sampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// wgpu when an adapter is found, else the CPU backend.
    Auto,
    /// burn's wgpu backend (GPU, or Mesa's software Vulkan).
    Wgpu,
    /// The CPU: the host engine ([`crate::model::host`]) for training, DP or not, and sampling.
    Cpu,
    /// burn-ndarray explicitly.
    Ndarray,
    /// burn-flex explicitly.
    Flex,
    /// The same as `cpu` (the name says what runs: the host engine, `crate::model::host`).
    Host,
}

/// Optimisation settings (CTGAN / SDV ctgan 0.12 defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the table. Default 300.
    pub epochs: usize,
    /// Most critic steps (batches read from the table, times `discriminator_steps`) a run
    /// takes: where `epochs` would take more, training stops after the most whole epochs
    /// within the cap (at least one), and the terminal and a DP file's ledger say so. Unset:
    /// no cap. A tall table's epochs are many steps each; at a fixed ε fewer steps get less
    /// noise each (`configs/dp-discover.toml` caps them at 800: docs/quality.md, stop 61).
    pub max_steps: Option<usize>,
    /// Rows per step; must be a multiple of `model.pac`. Default 500.
    pub batch_size: usize,
    /// Generator learning rate. Default 2e-4.
    pub generator_lr: f64,
    /// Discriminator learning rate. Default 2e-4.
    pub discriminator_lr: f64,
    /// Generator weight decay (Adam's L2 term). Default 1e-6.
    pub generator_decay: f64,
    /// Discriminator weight decay. Default 1e-6.
    pub discriminator_decay: f64,
    /// Adam beta1. Default 0.5.
    pub beta1: f64,
    /// Adam beta2. Default 0.9.
    pub beta2: f64,
    /// Discriminator steps per generator step. Default 1.
    pub discriminator_steps: usize,
    /// Generator updates per step, after the critic updates. Default 1. They read no rows
    /// (the generator sees the data only through the critic), so in DP mode they cost no
    /// privacy: the accountant counts critic steps alone.
    pub generator_steps: usize,
    /// Gradient-penalty weight. Default 10.
    pub gp_lambda: f64,
    /// Gumbel-softmax temperature. Default 0.2.
    pub gumbel_tau: f64,
    /// Sample conditions by log-frequency (CTGAN). Default true.
    pub log_frequency: bool,
    /// Seed for everything random; absent means a fresh seed from the OS.
    pub seed: Option<u64>,
    /// Compute device. Default "auto".
    pub device: DeviceChoice,
    /// Threads for the host engine's matrix products. Default 0: follow the cores other
    /// processes leave free, re-measured every 2 s (all of them on an idle machine, one when
    /// a CPU-bound job shares 2 cores). A changing thread count changes float rounding, so a
    /// run is bit-for-bit reproducible from its seed (and a resumed run equal to an
    /// uninterrupted one) only with a fixed count.
    pub threads: usize,
    /// Without DP: weight of the pair-marginal loss towards the table's exact two-way tables
    /// of column states (categories and mixture modes), which a non-DP run may count. Plain
    /// CTGAN draws two continuous columns' modes independently (docs/quality.md, stop 50).
    /// A table of more than `train::MAX_EXACT_PAIR_STATES` states trains without it.
    /// Unset: [`DEFAULT_PAIR_WEIGHT`] without DP ([`TrainConfig::pair_weight`]); 0 trains plain
    /// CTGAN. A DP run never counts the rows' exact tables (`privacy.pair_weight` weighs the
    /// noisy ones there), and a DP config that sets this above 0 is refused.
    pub pair_weight: Option<f64>,
    /// Without DP: weight of the correlation loss towards the table's exact correlations of
    /// continuous columns' normal scores, and of each continuous column with each common
    /// category (`train::correlations`, counted on up to 20,000 of the encoded rows). The
    /// pair tables hold which modes two columns take together, not how their values move
    /// inside one mode. It rides on the exact pair tables: with `train.pair_weight = 0`, or
    /// more than `train::MAX_EXACT_PAIR_STATES` states, it is off too. Unset:
    /// [`DEFAULT_CORRELATION_WEIGHT`] without DP ([`TrainConfig::correlation_weight`]). A DP
    /// config that sets it above 0 is refused (`privacy.correlation_weight` is DP's).
    pub correlation_weight: Option<f64>,
}

/// [`TrainConfig::correlation_weight`]'s default (DP's `configs/dp-discover.toml` uses the
/// same weight towards its surrogate's correlations).
pub const DEFAULT_CORRELATION_WEIGHT: f64 = 10.0;

/// [`TrainConfig::pair_weight`]'s default: Adult without DP, 300 epochs, `--seed 3`, quality
/// 0.923 / shapes 0.951 / pair trends 0.895 / AUC 0.877 at 0 and 0.969 / 0.987 / 0.950 / 0.893
/// at 3 (docs/quality.md, stop 50).
pub const DEFAULT_PAIR_WEIGHT: f64 = 3.0;

impl TrainConfig {
    /// The weight of the exact pair tables' loss in a run without DP.
    pub fn pair_weight(&self) -> f64 {
        self.pair_weight.unwrap_or(DEFAULT_PAIR_WEIGHT)
    }

    /// The weight of the exact correlations' loss in a run without DP.
    pub fn correlation_weight(&self) -> f64 {
        self.correlation_weight
            .unwrap_or(DEFAULT_CORRELATION_WEIGHT)
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 300,
            max_steps: None,
            batch_size: 500,
            generator_lr: 2e-4,
            discriminator_lr: 2e-4,
            generator_decay: 1e-6,
            discriminator_decay: 1e-6,
            beta1: 0.5,
            beta2: 0.9,
            discriminator_steps: 1,
            generator_steps: 1,
            gp_lambda: 10.0,
            gumbel_tau: 0.2,
            log_frequency: true,
            seed: None,
            device: DeviceChoice::Auto,
            threads: 0,
            pair_weight: None,
            correlation_weight: None,
        }
    }
}

/// The `[privacy]` table: the (ε, δ) target and what the accountant may treat as public.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Target ε for the whole run (preprocessing and DP-SGD). Setting it turns DP mode on.
    pub epsilon: Option<f64>,
    /// Target δ; must be below 1 / rows. Default 1e-6.
    pub delta: f64,
    /// Per-row clipping norm C of the discriminator's gradient. Default 1.0.
    pub max_grad_norm: f64,
    /// Share of ε spent on the noisy histograms of preprocessing. Default 0.1.
    pub preprocess_share: f64,
    /// Share of ε spent on preprocessing at a target ε of 1 and below, where DP-SGD's part
    /// is too noisy to teach the generator much; from ε 1 to 3 the share moves linearly from
    /// this to `preprocess_share`, which holds from ε 3 up ([`Self::preprocess_share_at`]).
    /// Default none: `preprocess_share` at every ε. `configs/dp-discover.toml` sets 0.95
    /// (docs/quality.md, stop 56: quality +0.04 at ε 1 on four tables, eight runs of eight).
    pub low_epsilon_share: Option<f64>,
    /// A fixed DP-SGD noise multiplier σ instead of one calibrated to `epsilon`.
    pub noise_multiplier: Option<f64>,
    /// A fixed noise multiplier for the joint preprocessing histograms instead of one derived
    /// from `preprocess_share` (needed when `noise_multiplier` is set without `epsilon`).
    pub histogram_noise_multiplier: Option<f64>,
    /// Whether categories and bounds missing from `[privacy.columns]` may be discovered from
    /// the data under DP (charged to the ledger). `false`: such columns are an error that
    /// lists the TOML lines to add. Default false: DP mode asks for public domains unless
    /// discovery is asked for.
    pub discover: bool,
    /// Share of preprocessing's budget for the histograms of discrete columns whose
    /// categories are discovered (split equally among them; more budget finds rarer
    /// categories). At least their share under equal weights. Default 0.3.
    pub discovery_share: f64,
    /// Share of preprocessing's budget for estimating the bounds and the storage type
    /// (integer or decimal places) of continuous columns without public `min`/`max` (three
    /// small histograms each). Default 0.1; a small or wide table takes more, up to 0.4, where
    /// 0.1 leaves too much noise for a half-decade holding a quarter of the rows to be found
    /// (`dp::preprocess::BOUNDS_FIND_SHARE`).
    pub bounds_share: f64,
    /// Equal-width bins of a continuous column's histogram between its bounds, at most: a
    /// small table whose noise would leave an average bin under one deviation gets fewer (a
    /// power of two, at least 8; `dp::preprocess::histogram_bins`). Default 64.
    pub bins: usize,
    /// The text that rare categories come back as (they share one "other" slot). Default
    /// "other".
    pub other_label: String,
    /// DP mode: epochs of ordinary (non-private) GAN training, before DP-SGD starts, on rows
    /// drawn independently from the noisy marginals that preprocessing measured. They read no
    /// row (post-processing of the noisy histograms), so they cost no privacy; they give the
    /// generator the columns' shapes, leaving the private steps the joint structure.
    /// Default 0.
    pub warm_start_epochs: usize,
    /// DP mode with a warm start: non-private steps on the warm start's surrogate rows after
    /// every DP step (post-processing, free), so that the tree model of the noisy marginals
    /// keeps anchoring the generator while the noisy critic trains (a resumed run rebuilds the
    /// same surrogate rows). Default 0; `configs/dp-discover.toml` uses 2 (docs/quality.md).
    pub anchor_steps: usize,
    /// DP mode with a warm start and pair tables: passes of raking that reweight the tree
    /// model's surrogate rows towards every measured pair table, not only the tree's
    /// (post-processing, free; `NoisyPairs::rake`). Default 0 (the tree model alone).
    pub rake_rounds: usize,
    /// DP mode: also measure every two-way marginal (each pair of columns: categories, or a
    /// continuous column's mixture modes and null) in preprocessing's Gaussian mechanism, and
    /// train the generator to match them besides the critic. They cost no extra ε (the
    /// histograms' noise multiplier stays), but every count's noise grows by
    /// `√((k + P) / k)` for `k` columns and `P = k(k−1)/2` pairs, so give preprocessing a
    /// larger `preprocess_share`. Default false.
    pub pair_marginals: bool,
    /// DP mode with pair marginals and a warm start: also measure the correlation of the
    /// normal scores of continuous pairs on the tree model's edges (noisy sums in
    /// preprocessing's mechanism, `2c − 1` slots for `c` continuous columns; `dp::copula`), so
    /// that the surrogate rows keep how an amount moves with a price. Default false.
    pub copula: bool,
    /// With `copula`: also measure, for up to one discrete-continuous edge of the tree per
    /// discrete column, each category's noisy sum of the continuous column's normal scores
    /// (one slot each in preprocessing's mechanism; `dp::copula::measure_shifts`), so that the
    /// surrogate rows keep how a category shifts an amount when the mixture has too few modes
    /// to show it. Default false.
    pub category_shifts: bool,
    /// Which two-way marginals `pair_marginals` measures: `"all"` (every pair), `"tree"` (a
    /// maximum spanning tree of `k − 1` pairs chosen under DP, MST-style, with
    /// `selection_share` of preprocessing's budget), or `"auto"` (all pairs up to 120 of them,
    /// i.e. 16 columns; a tree for wider tables, where all pairs drown every count in noise;
    /// with `targets` named, also a tree where every pair's noise is large against the rows:
    /// [`PairSelection::tree_for`]). Default "auto".
    pub pair_selection: PairSelection,
    /// Columns the released rows will be used to predict (names; public, like the schema).
    /// Every pair with a target column is measured, whatever `pair_selection` chooses, and a
    /// tree is chosen over the other columns only, so a classifier trained on the synthetic
    /// rows keeps the target's dependence on every column. With `auto`, naming a target also
    /// lets a table whose every pair would be noisy (9-16 columns, every pair's noise std per
    /// count above [`PairSelection::AUTO_NOISE_RATIO`] √rows) measure that tree and the
    /// target's pairs instead of every pair. `--target NAME` on the command line. Default none.
    pub targets: Vec<String>,
    /// With no `targets` named: take as the target the column whose name says it is the one
    /// to predict ([`TARGET_NAMES`], case and punctuation ignored; the first name of that
    /// list a column has), as if it were named, on tables of at most 16 columns (where `auto`
    /// then measures a tree and its pairs if every pair would be noisy; above, its pairs beside
    /// the tree cost more than they gave: docs/quality.md, stop 64). The name is schema
    /// (public), so the choice costs no privacy; the ledger and the terminal say it was taken
    /// from the name. Default true; false measures without a target unless one is named.
    pub target_from_name: bool,
    /// With a tree of pairs: this many more pairs chosen after the tree, each by one more round
    /// of the exponential mechanism among the pairs not yet chosen, and measured with the tree's
    /// (dependences the tree leaves out; the surrogate's raking uses them). Default 0.
    pub extra_pairs: usize,
    /// Share of preprocessing's budget for choosing the tree's pairs (exponential mechanism,
    /// one round per pair). Default 0.1.
    pub selection_share: f64,
    /// Weight of each one-way histogram against each pair table in preprocessing's joint
    /// Gaussian mechanism (the budget is split so that the weights add up to the same charge):
    /// above 1, the one-way shapes get less noise and the pair tables a little more. Positive.
    /// Unset (the default): [`AUTO_MARGIN_WEIGHT`] where the pair tables measured would be
    /// cheap at equal weights (noise std per count at most
    /// [`PairSelection::AUTO_NOISE_RATIO`] √rows), 1 (equal weights) where they are noisy, so
    /// that a target's few noisy tables at ε 1 keep their share (docs/quality.md, stop 64).
    pub margin_weight: Option<f64>,
    /// Weight of the two-way marginal loss (mean total-variation distance over the pairs) in
    /// the generator's loss; positive. Default 1.0.
    pub pair_weight: f64,
    /// Weight of the correlation loss (`train::correlations`: the mean absolute difference
    /// between the generator's correlations of continuous columns and those of the surrogate
    /// rows drawn from the noisy pair tables; post-processing, free). 0 (the default) turns it
    /// off; it needs `pair_marginals`.
    pub correlation_weight: f64,
    /// Public metadata per column, keyed by column name: not protected, not charged.
    pub columns: BTreeMap<String, PublicColumn>,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            epsilon: None,
            delta: 1e-6,
            max_grad_norm: 1.0,
            preprocess_share: 0.1,
            low_epsilon_share: None,
            noise_multiplier: None,
            histogram_noise_multiplier: None,
            discover: false,
            discovery_share: 0.3,
            bounds_share: 0.1,
            bins: 64,
            other_label: "other".into(),
            warm_start_epochs: 0,
            anchor_steps: 0,
            rake_rounds: 0,
            pair_marginals: false,
            copula: false,
            category_shifts: false,
            pair_selection: PairSelection::Auto,
            targets: Vec::new(),
            target_from_name: true,
            selection_share: 0.1,
            extra_pairs: 0,
            margin_weight: None,
            pair_weight: 1.0,
            correlation_weight: 0.0,
            columns: BTreeMap::new(),
        }
    }
}

impl PrivacyConfig {
    /// Whether the run is differentially private.
    pub fn enabled(&self) -> bool {
        self.epsilon.is_some() || self.noise_multiplier.is_some()
    }

    /// The share of ε preprocessing spends at the target `epsilon`: `low_epsilon_share` at
    /// ε 1 and below, `preprocess_share` from ε 3 up, linear in ε between them; without
    /// `low_epsilon_share` or a target ε, `preprocess_share`. Public: it reads the config only.
    pub fn preprocess_share_at(&self, epsilon: Option<f64>) -> f64 {
        match (self.low_epsilon_share, epsilon) {
            (Some(low), Some(eps)) => {
                let t = ((eps - 1.0) / 2.0).clamp(0.0, 1.0);
                low + t * (self.preprocess_share - low)
            }
            _ => self.preprocess_share,
        }
    }

    /// The columns a DP run reads cell by cell from their public metadata instead of from
    /// what the rows hold ([`crate::read::read_table_as_written`]): those with public
    /// `categories` (kept as the text of their cells), bounds (each cell read as a number on
    /// its own) or a declared `type` (each cell read as a boolean, date or timestamp on its
    /// own). A timestamp column with a `zone` is left to the reader, which turns offsets into
    /// that zone. Empty without DP.
    pub fn read_alone(&self) -> Vec<String> {
        if !self.enabled() {
            return Vec::new();
        }
        self.columns
            .iter()
            .filter(|(_, p)| {
                let zoned = p.storage == Some(StorageType::Datetime) && p.zone.is_some();
                let public_kind = p.categories.is_some() || p.min.is_some() || p.max.is_some();
                !zoned && (public_kind || p.storage.is_some())
            })
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// Most decimal places a float column is written with when rounded (learned or given).
pub const MAX_DECIMALS: u32 = 15;

/// Public facts about one column, written by the data owner (not read from the rows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublicColumn {
    /// The full list of categories of a discrete column; values outside it become "other".
    pub categories: Option<Vec<String>>,
    /// Lower bound of a continuous column (dates: days since 1970-01-01).
    pub min: Option<f64>,
    /// Upper bound of a continuous column.
    pub max: Option<f64>,
    /// Whether a continuous column holds whole numbers (written back rounded). In DP mode the
    /// storage type is public too, so it is taken from here, not from the rows. Default false.
    pub integer: bool,
    /// Decimal places of a continuous float column's sampled values (e.g. 2 for amounts in
    /// cents). Without it they are written in full: in DP mode the places are not learned
    /// from the rows.
    pub decimals: Option<u32>,
    /// The lattice a continuous column's values lie on when it is coarser than its decimal
    /// places: 1 or 5 times a power of ten from 0.00001 to 10,000 (`500` for amounts in steps
    /// of 500, `0.5` for halves). Sampled values are rounded onto it. In DP mode a column
    /// without public bounds has it estimated when this key is absent; with bounds only this
    /// key sets it.
    pub lattice: Option<f64>,
    /// Text form of a datetime column in CSV output, as a chrono pattern (e.g.
    /// `"%Y-%m-%dT%H:%M:%SZ"`), or a boolean column's two words, true first (`"TRUE/FALSE"`,
    /// `"Yes/No"`). Without DP it is learned from the file; in DP mode only this key sets it
    /// for a column of a declared type (without it: ISO 8601 with microseconds, and
    /// `true`/`false`).
    pub format: Option<String>,
    /// The column's storage type when the file alone would decide it: `"bool"`, `"date"` or
    /// `"datetime"`. In DP mode a column read as one of these needs it (or discovery, which
    /// then lists the column's type as not covered), so that one odd cell cannot change the
    /// released schema.
    #[serde(rename = "type")]
    pub storage: Option<StorageType>,
    /// A datetime column's time zone (IANA name, e.g. "Europe/Paris"); without it a DP run
    /// expects timestamps without zone.
    pub zone: Option<String>,
    /// Whether the column may hold missing values: its nulls then always keep their own slot.
    /// Default false: a null slot exists only if the noisy null count clears three noise
    /// deviations (post-processing), so that columns without nulls do not learn to emit them.
    pub nullable: bool,
}

impl PublicColumn {
    /// The words of a boolean column's `format` (`"TRUE/FALSE"`: true's word, then false's);
    /// `None` without a format or when it is not two different words around one `/`.
    pub fn bool_words(&self) -> Option<(String, String)> {
        let (t, f) = self.format.as_deref()?.split_once('/')?;
        let (t, f) = (t.trim(), f.trim());
        (!t.is_empty() && !f.is_empty() && t != f && !f.contains('/'))
            .then(|| (t.to_string(), f.to_string()))
    }
}

/// Which two-way marginals are measured (`privacy.pair_selection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairSelection {
    /// All pairs up to 120 of them, else a tree; with targets named, also a tree where every
    /// pair's noise is large against the rows ([`PairSelection::tree_for`]).
    Auto,
    /// Every pair of columns.
    All,
    /// `k − 1` pairs forming a maximum spanning tree, chosen under DP (over the columns that
    /// are not targets, with every target's pairs beside it).
    Tree,
}

/// The one-way histograms' weight against a pair table's where `privacy.margin_weight` is
/// unset and the pair tables are cheap ([`PrivacyConfig::margin_weight`]). Over 18 runs at ε 3
/// on tables nobody tuned for it raised quality by 0.010 on average with the AUC level
/// (docs/quality.md, stops 63-64); at ε 1 a named target lost AUC with it.
pub const AUTO_MARGIN_WEIGHT: f64 = 4.0;

/// Column names that say a column is the one the rows will be used to predict
/// (`privacy.target_from_name`), lower case without punctuation, in the order they are
/// preferred where a table has several (Titanic's `survived` before its passenger `class`).
/// `y` only where no column is named `x` (coordinates).
pub const TARGET_NAMES: &[&str] = &[
    "target",
    "label",
    "churn",
    "churned",
    "exited",
    "attrition",
    "fraud",
    "isfraud",
    "survived",
    "diagnosis",
    "default",
    "defaulted",
    "outcome",
    "response",
    "class",
    "y",
];

/// The column of `names` that [`TARGET_NAMES`] takes as a table's target, if any.
pub fn target_by_name<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    let plain = |n: &str| -> String {
        n.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let has_x = names.clone().any(|n| plain(n) == "x");
    TARGET_NAMES
        .iter()
        .filter(|&&t| !(t == "y" && has_x))
        .find_map(|&t| names.clone().find(|&n| plain(n) == t))
}

impl PairSelection {
    /// Most pairs (16 columns) for which `auto` may measure every pair.
    pub const AUTO_ALL_PAIRS_MAX: usize = 120;

    /// Fewest columns for which `auto` with a named target may measure a tree and the
    /// target's pairs rather than every pair: from 9 columns on, the `2k − 3` tables are at
    /// most 45% of the `k(k − 1)/2` pairs.
    pub const AUTO_TREE_COLUMNS: usize = 9;

    /// Every pair's noise std per count over √rows above which `auto` with a named target
    /// measures a tree and the target's pairs (docs/quality.md, stop 62: at 0.71-1.40 on six
    /// tables at ε 1 a tree scored 0.031 more quality than every pair but lost AUC where the
    /// target kept one or two of its pairs; at 0.40-0.59 every pair and a tree were level).
    pub const AUTO_NOISE_RATIO: f64 = 0.6;

    /// Whether `columns` columns, `targets` of them named targets, get a tree (over the
    /// columns that are not targets, with every target's pairs) rather than every pair.
    /// `noise_ratio` is every pair's noise std per count over √rows. `auto`: a tree beyond
    /// [`Self::AUTO_ALL_PAIRS_MAX`] pairs; below, only with a target, from
    /// [`Self::AUTO_TREE_COLUMNS`] columns, where `noise_ratio` passes
    /// [`Self::AUTO_NOISE_RATIO`]. Public: the schema, the config, the plan and the row count.
    pub fn tree_for(self, columns: usize, targets: usize, noise_ratio: f64) -> bool {
        match self {
            PairSelection::All => false,
            PairSelection::Tree => true,
            PairSelection::Auto => {
                columns * columns.saturating_sub(1) / 2 > Self::AUTO_ALL_PAIRS_MAX
                    || (targets > 0
                        && columns >= Self::AUTO_TREE_COLUMNS
                        && noise_ratio > Self::AUTO_NOISE_RATIO)
            }
        }
    }
}

/// A storage type given as public metadata (`[privacy.columns.NAME] type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageType {
    /// true/false (discrete, two public categories).
    Bool,
    /// Calendar dates (continuous; bounds in days since 1970-01-01).
    Date,
    /// Timestamps (continuous).
    Datetime,
}

/// Where results go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// The released generator file. Default: the table's name with `.dpsynth` under `models/`.
    pub model: Option<PathBuf>,
    /// Per-epoch metrics (JSON lines). Default: the model path with `.metrics.jsonl`.
    pub metrics: Option<PathBuf>,
}

/// The settings measured on tables without public metadata (`configs/dp-discover.toml`),
/// built into the binary so that `train --discover` works from any directory.
pub const DISCOVER_PRESET: &str = include_str!("../configs/dp-discover.toml");

/// Lays `top` over `base`: a key in both takes `top`'s value, except that two tables are laid
/// over each other key by key (so a file's `[privacy] epsilon` keeps the preset's other
/// `[privacy]` settings).
fn lay_over(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(below)), toml::Value::Table(above)) => lay_over(below, above),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

impl RunConfig {
    /// The discovery preset ([`DISCOVER_PRESET`]) with the config file at `path`, if any, laid
    /// over it key by key; checked like a file. Errors name the file.
    pub fn discover_preset(path: Option<&Path>) -> Result<Self> {
        let preset = "the built-in discovery preset (configs/dp-discover.toml)";
        let mut root: toml::Table =
            toml::from_str(DISCOVER_PRESET).map_err(|e| Error::config(preset, e.to_string()))?;
        let origin = match path {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| Error::io(path, "reading", e))?;
                let origin = path.display().to_string();
                let file: toml::Table =
                    toml::from_str(&text).map_err(|e| Error::config(&origin, e.to_string()))?;
                // A file that sets its own preprocessing share means it at every ε.
                let sets = |key: &str| {
                    file.get("privacy")
                        .and_then(toml::Value::as_table)
                        .is_some_and(|p| p.contains_key(key))
                };
                if sets("preprocess_share") && !sets("low_epsilon_share") {
                    if let Some(toml::Value::Table(p)) = root.get_mut("privacy") {
                        p.remove("low_epsilon_share");
                    }
                }
                lay_over(&mut root, file);
                format!("{origin} over {preset}")
            }
            None => preset.to_string(),
        };
        let config: RunConfig = toml::Value::Table(root)
            .try_into()
            .map_err(|e: toml::de::Error| Error::config(&origin, e.message().to_string()))?;
        config.validate(&origin)?;
        Ok(config)
    }

    /// Parses a TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let config: RunConfig =
            toml::from_str(text).map_err(|e| Error::config(origin, e.to_string()))?;
        config.validate(origin)?;
        Ok(config)
    }

    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, "reading", e))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// PacGAN packing in effect: the configured value, else 10 (CTGAN) or 1 in DP mode.
    pub fn pac(&self) -> usize {
        self.model
            .pac
            .unwrap_or(if self.privacy.enabled() { 1 } else { 10 })
    }

    /// Checks values that serde cannot: ranges and consistency between fields.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let bad = |key: &str, why: &str| Err(Error::config(origin, format!("key '{key}': {why}")));
        if self.data.delimiter.len() != 1 || !self.data.delimiter.is_ascii() {
            return bad("data.delimiter", "must be exactly one ASCII character");
        }
        if self.data.quote.len() != 1 || !self.data.quote.is_ascii() {
            return bad("data.quote", "must be exactly one ASCII character");
        }
        let m = &self.model;
        if m.pac == Some(0) {
            return bad("model.pac", "must be at least 1");
        }
        self.validate_privacy(origin)?;
        if m.embedding_dim == 0 {
            return bad("model.embedding_dim", "must be at least 1");
        }
        if m.discriminator_dims.is_empty() {
            return bad(
                "model.discriminator_dims",
                "needs at least one hidden layer",
            );
        }
        if m.generator_dims.contains(&0) || m.discriminator_dims.contains(&0) {
            return bad("model.*_dims", "layer widths must be positive");
        }
        if !(0.0..1.0).contains(&m.dropout) {
            return bad("model.dropout", "must be in [0, 1)");
        }
        let t = &self.train;
        if t.epochs == 0 {
            return bad("train.epochs", "must be at least 1");
        }
        if t.max_steps == Some(0) {
            return bad(
                "train.max_steps",
                "must be at least 1 (leave it out for no cap)",
            );
        }
        if t.batch_size == 0 || !t.batch_size.is_multiple_of(self.pac()) {
            return bad(
                "train.batch_size",
                &format!(
                    "{} is not a positive multiple of model.pac = {}",
                    t.batch_size,
                    self.pac()
                ),
            );
        }
        if t.discriminator_steps == 0 {
            return bad("train.discriminator_steps", "must be at least 1");
        }
        if t.generator_steps == 0 {
            return bad("train.generator_steps", "must be at least 1");
        }
        for (key, v) in [
            ("train.generator_lr", t.generator_lr),
            ("train.discriminator_lr", t.discriminator_lr),
            ("train.gumbel_tau", t.gumbel_tau),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(key, "must be a positive number");
            }
        }
        for (key, weight, what, dp_key) in [
            (
                "train.pair_weight",
                t.pair_weight,
                "pair tables",
                "privacy.pair_weight",
            ),
            (
                "train.correlation_weight",
                t.correlation_weight,
                "correlations",
                "privacy.correlation_weight",
            ),
        ] {
            if weight.is_some_and(|w| !(w.is_finite() && w >= 0.0)) {
                return bad(key, "must be a number of at least 0");
            }
            if weight.is_some_and(|w| w > 0.0) && self.privacy.enabled() {
                return bad(
                    key,
                    &format!("counts the rows' exact {what}, which only a run without DP may do; in DP mode the noisy measurements' weight is {dp_key}"),
                );
            }
        }
        if !(0.0..1.0).contains(&t.beta1) || !(0.0..1.0).contains(&t.beta2) {
            return bad("train.beta1/beta2", "must be in [0, 1)");
        }
        self.validate_score(origin)?;
        let tr = &self.transform;
        if tr.max_modes == 0 {
            return bad("transform.max_modes", "must be at least 1");
        }
        if tr.max_categories < 2 {
            return bad("transform.max_categories", "must be at least 2");
        }
        Ok(())
    }
}

impl RunConfig {
    fn validate_score(&self, origin: &str) -> Result<()> {
        let bad =
            |key: &str, why: String| Err(Error::config(origin, format!("key '{key}': {why}")));
        let s = &self.score;
        if s.every == 0 {
            return bad("score.every", "must be at least 1".into());
        }
        if !(0.0..0.9).contains(&s.holdout_share) {
            return bad("score.holdout_share", "must be in [0, 0.9)".into());
        }
        if !(0.0..0.9).contains(&self.tune.holdout_share) || self.tune.holdout_share == 0.0 {
            return bad("tune.holdout_share", "must be in (0, 0.9)".into());
        }
        if s.keep_best && s.rows == 0 {
            return bad("score.keep_best", "needs score.rows > 0".into());
        }
        if self.privacy.enabled() {
            if s.holdout_share > 0.0 {
                return bad(
                    "score.holdout_share",
                    "DP mode cannot score against held-out private rows: no mechanism charges that read; set score.public_table to a public table with the same columns, or remove the key".into(),
                );
            }
            if s.keep_best && s.public_table.is_none() {
                return bad(
                    "score.keep_best",
                    "in DP mode, choosing an epoch by its score on private rows would spend privacy that no mechanism charges; set score.public_table to a public table with the same columns (selection on it is free), or release the last epoch (remove the key)".into(),
                );
            }
        } else if s.keep_best && s.holdout_share == 0.0 && s.public_table.is_none() {
            return bad(
                "score.keep_best",
                "choosing the best epoch on the rows it was trained on rewards copying them; set score.holdout_share (e.g. 0.2) or score.public_table".into(),
            );
        }
        Ok(())
    }

    /// Whether each epoch gets a fidelity score: DP mode only scores against a public table.
    pub fn scores_epochs(&self) -> bool {
        self.score.rows > 0 && (!self.privacy.enabled() || self.score.public_table.is_some())
    }

    fn validate_privacy(&self, origin: &str) -> Result<()> {
        let bad =
            |key: &str, why: String| Err(Error::config(origin, format!("key '{key}': {why}")));
        let p = &self.privacy;
        if let Some(eps) = p.epsilon {
            if !(eps.is_finite() && eps > 0.0) {
                return bad("privacy.epsilon", format!("{eps} is not a positive number"));
            }
        }
        if !(p.delta > 0.0 && p.delta < 1.0) {
            return bad(
                "privacy.delta",
                format!("{} must be in (0, 1), and below 1 / rows", p.delta),
            );
        }
        if !(p.max_grad_norm.is_finite() && p.max_grad_norm > 0.0) {
            return bad("privacy.max_grad_norm", "must be a positive number".into());
        }
        if !(0.0..1.0).contains(&p.preprocess_share) {
            return bad("privacy.preprocess_share", "must be in [0, 1)".into());
        }
        if let Some(low) = p.low_epsilon_share {
            if !(0.0..1.0).contains(&low) {
                return bad("privacy.low_epsilon_share", "must be in [0, 1)".into());
            }
        }
        for (key, share) in [
            ("privacy.discovery_share", p.discovery_share),
            ("privacy.bounds_share", p.bounds_share),
        ] {
            if !(share > 0.0 && share < 1.0) {
                return bad(key, "must be in (0, 1)".into());
            }
        }
        if !(p.selection_share > 0.0 && p.selection_share < 0.5) {
            return bad("privacy.selection_share", "must be in (0, 0.5)".into());
        }
        if p.discovery_share + p.bounds_share >= 0.9 {
            return bad(
                "privacy.discovery_share",
                "privacy.discovery_share + privacy.bounds_share must stay below 0.9 (the rest measures the histograms and pairs)".into(),
            );
        }
        if !(p.correlation_weight.is_finite() && p.correlation_weight >= 0.0) {
            return bad(
                "privacy.correlation_weight",
                format!(
                    "{} must be 0 (off) or a positive number",
                    p.correlation_weight
                ),
            );
        }
        if let Some(m) = p.margin_weight.filter(|m| !(m.is_finite() && *m > 0.0)) {
            return bad(
                "privacy.margin_weight",
                format!("{m} must be a positive number (1: equal weights; unset: chosen from the noise)"),
            );
        }
        if !p.targets.is_empty() && p.enabled() && !p.pair_marginals {
            return bad(
                "privacy.targets",
                "a target only changes which pair tables are measured: set privacy.pair_marginals = true (as configs/dp-discover.toml and --discover do), or drop the target".into(),
            );
        }
        if let Some(empty) = p.targets.iter().find(|t| t.trim().is_empty()) {
            return bad("privacy.targets", format!("'{empty}' is not a column name"));
        }
        if p.category_shifts && !p.copula {
            return bad(
                "privacy.category_shifts",
                "needs privacy.copula = true (the shifts are part of the warm start's copula); set both, or drop privacy.category_shifts".into(),
            );
        }
        if p.correlation_weight > 0.0 && !p.pair_marginals {
            return bad(
                "privacy.correlation_weight",
                "needs privacy.pair_marginals = true: its target is drawn from the noisy pair tables; set both, or set privacy.correlation_weight = 0".into(),
            );
        }
        if !(p.pair_weight.is_finite() && p.pair_weight > 0.0) {
            return bad(
                "privacy.pair_weight",
                format!(
                    "{} must be a positive number (to train without the two-way marginals, set privacy.pair_marginals = false: measuring them unused would only add noise to every count)",
                    p.pair_weight
                ),
            );
        }
        for (key, v) in [
            ("privacy.noise_multiplier", p.noise_multiplier),
            (
                "privacy.histogram_noise_multiplier",
                p.histogram_noise_multiplier,
            ),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return bad(key, format!("{v} is not a positive number"));
                }
            }
        }
        if p.bins < 2 {
            return bad("privacy.bins", "must be at least 2".into());
        }
        for (name, c) in &p.columns {
            if c.decimals.is_some_and(|d| d > MAX_DECIMALS) {
                return bad(
                    &format!("privacy.columns.{name}.decimals"),
                    format!("must be at most {}", MAX_DECIMALS),
                );
            }
            if let Some(v) = c.lattice {
                let key = format!("privacy.columns.{name}.lattice");
                let lattice = match crate::lattice::Lattice::try_from(v) {
                    Ok(l) => l,
                    Err(why) => return bad(&key, why),
                };
                let places = if c.integer { Some(0) } else { c.decimals };
                if places.is_some_and(|d| lattice.places() > d) {
                    return bad(
                        &key,
                        format!(
                            "is {v}, which needs {} decimal places, but the column is declared with {}",
                            lattice.places(),
                            places.unwrap_or(0)
                        ),
                    );
                }
            }
            if let (Some(lo), Some(hi)) = (c.min, c.max) {
                if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                    return bad(
                        &format!("privacy.columns.{name}"),
                        format!("min = {lo} must be below max = {hi}"),
                    );
                }
            } else if c.min.is_some() != c.max.is_some() {
                return bad(
                    &format!("privacy.columns.{name}"),
                    "give both min and max, or neither".into(),
                );
            }
            if c.storage == Some(StorageType::Bool)
                && c.format.is_some()
                && c.bool_words().is_none()
            {
                return bad(
                    &format!("privacy.columns.{name}.format"),
                    format!(
                        "is {:?}; a boolean column's format is its two words, true first, around one `/` (e.g. \"TRUE/FALSE\" or \"Yes/No\")",
                        c.format.as_deref().unwrap_or_default()
                    ),
                );
            }
            if let Some(cats) = &c.categories {
                if cats.is_empty() {
                    return bad(
                        &format!("privacy.columns.{name}.categories"),
                        "is empty; list every category or remove the key".into(),
                    );
                }
                let mut seen = std::collections::HashSet::new();
                if let Some(dup) = cats.iter().find(|c| !seen.insert(c.as_str())) {
                    return bad(
                        &format!("privacy.columns.{name}.categories"),
                        format!("lists {dup:?} more than once; list each category once"),
                    );
                }
            }
        }
        if p.enabled() {
            if let Some(pac) = self.model.pac.filter(|&pac| pac > 1) {
                return bad(
                    "model.pac",
                    format!(
                        "is {pac}, but DP mode needs pac = 1: one clipped unit must be one row (remove the key or set it to 1)"
                    ),
                );
            }
        }
        Ok(())
    }
}

/// Changes to a config: dotted field name (`train.discriminator_lr`) and value.
pub type Overrides = Vec<(String, toml::Value)>;

/// `a = 1, b = 2`.
pub fn describe_overrides(overrides: &Overrides) -> String {
    overrides
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `key=value` (as `dpsynth train --set` takes it): the value is read as a TOML value
/// (`3`, `1e-4`, `true`, `[128, 128]`, `"text"`), or taken as text when it is not one.
pub fn parse_override(text: &str) -> std::result::Result<(String, toml::Value), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not KEY=VALUE (e.g. train.discriminator_lr=1e-4)"))?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!(
            "'{key}' is not a dotted config key (e.g. model.discriminator_dims)"
        ));
    }
    let value = value.trim();
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    Ok((key.to_string(), parsed))
}

impl RunConfig {
    /// This config with each dotted field set to its value, checked. Errors name `origin`,
    /// the key and the value (an unknown key is refused like one in a file).
    pub fn with_overrides(&self, origin: &str, overrides: &Overrides) -> Result<RunConfig> {
        let mut root = toml::Value::try_from(self)
            .map_err(|e| Error::config(origin, format!("cannot represent the config: {e}")))?;
        for (key, value) in overrides {
            let bad = |why: String| Error::config(origin, format!("key '{key}' = {value}: {why}"));
            let mut at = &mut root;
            let parts: Vec<&str> = key.split('.').collect();
            for part in &parts[..parts.len() - 1] {
                let table = at
                    .as_table_mut()
                    .ok_or_else(|| bad(format!("'{part}' is not inside a table")))?;
                at = table
                    .entry(part.to_string())
                    .or_insert_with(|| toml::Value::Table(Default::default()));
            }
            at.as_table_mut()
                .ok_or_else(|| bad("its parent is not a table".into()))?
                .insert(parts[parts.len() - 1].to_string(), value.clone());
        }
        let mut changed: RunConfig = root.try_into().map_err(|e: toml::de::Error| {
            Error::config(
                origin,
                format!(
                    "{} (setting {})",
                    e.message(),
                    describe_overrides(overrides)
                ),
            )
        })?;
        // A preprocessing share set on its own is meant at every ε.
        let set = |key: &str| overrides.iter().any(|(k, _)| k == key);
        if set("privacy.preprocess_share") && !set("privacy.low_epsilon_share") {
            changed.privacy.low_epsilon_share = None;
        }
        changed.validate(&format!("{origin} ({})", describe_overrides(overrides)))?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_taken_from_a_name_that_says_so() {
        let pick = |names: &[&'static str]| target_by_name(names.iter().copied());
        assert_eq!(pick(&["state", "day_mins", "churn"]), Some("churn"));
        assert_eq!(pick(&["Time", "V1", "Amount", "Class"]), Some("Class"));
        assert_eq!(pick(&["Is_Fraud", "amount"]), Some("Is_Fraud"));
        // Titanic: the passenger class is a feature, survival the target.
        assert_eq!(pick(&["class", "age", "sex", "survived"]), Some("survived"));
        // Bank marketing's y, but not a y beside an x.
        assert_eq!(pick(&["age", "job", "y"]), Some("y"));
        assert_eq!(pick(&["X", "Y", "colour"]), None);
        // Adult and credit_data: no such name.
        assert_eq!(pick(&["age", "workclass", "income"]), None);
        assert_eq!(pick(&["Status", "Seniority", "Home"]), None);
    }

    #[test]
    fn auto_pair_selection_follows_width_targets_and_noise() {
        use PairSelection::{All, Auto, Tree};
        assert!(!All.tree_for(30, 1, 9.0));
        assert!(Tree.tree_for(5, 0, 0.0));
        // Wider than 16 columns: a tree, target or not, whatever the noise.
        assert!(Auto.tree_for(17, 0, 0.1));
        // 9 to 16 columns: a tree only with a target, and only where every pair is noisy.
        assert!(!Auto.tree_for(14, 0, 5.0));
        assert!(Auto.tree_for(14, 1, 0.7));
        assert!(Auto.tree_for(9, 2, 1.5));
        assert!(!Auto.tree_for(14, 1, PairSelection::AUTO_NOISE_RATIO));
        // Fewer than 9 columns: every pair (a tree and the target's pairs would be most of them).
        assert!(!Auto.tree_for(8, 1, 3.0));
    }

    #[test]
    fn a_target_without_pair_tables_is_refused_by_key() {
        let err = RunConfig::from_toml(
            "[privacy]\nepsilon = 1.0\ntargets = [\"income\"]\n",
            "t.toml",
        )
        .expect_err("a target changes only the pair tables");
        assert!(
            err.to_string().contains("privacy.targets")
                && err.to_string().contains("pair_marginals"),
            "{err}"
        );
        let ok = RunConfig::from_toml(
            "[privacy]\nepsilon = 1.0\npair_marginals = true\ntargets = [\"income\"]\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(ok.privacy.targets, vec!["income".to_string()]);
    }

    #[test]
    fn a_file_laid_over_the_discovery_preset_changes_only_its_keys() {
        let preset = RunConfig::discover_preset(None).unwrap();
        assert!(preset.privacy.discover && preset.privacy.pair_marginals);
        assert_eq!(preset.privacy.epsilon, Some(3.0));
        let path = std::env::temp_dir().join(format!("dpsynth-lay-{}.toml", std::process::id()));
        std::fs::write(&path, "[privacy]\nepsilon = 1.0\n[train]\nepochs = 7\n").unwrap();
        let laid = RunConfig::discover_preset(Some(&path));
        std::fs::remove_file(&path).unwrap();
        let laid = laid.unwrap();
        assert_eq!(laid.privacy.epsilon, Some(1.0));
        assert_eq!(laid.train.epochs, 7);
        // Everything else in those tables is the preset's.
        assert_eq!(laid.train.batch_size, preset.train.batch_size);
        assert_eq!(laid.privacy.anchor_steps, preset.privacy.anchor_steps);
        assert!(laid.privacy.discover && laid.privacy.copula);
    }

    #[test]
    fn the_preprocessing_share_rises_at_low_epsilon_unless_a_share_is_set() {
        let preset = RunConfig::discover_preset(None).unwrap();
        let p = &preset.privacy;
        assert_eq!(p.low_epsilon_share, Some(0.95));
        for (eps, share) in [
            (0.5, 0.95),
            (1.0, 0.95),
            (2.0, 0.875),
            (3.0, 0.8),
            (8.0, 0.8),
        ] {
            let at = p.preprocess_share_at(Some(eps));
            assert!((at - share).abs() < 1e-12, "epsilon {eps}: {at}");
        }
        // A share set on the command line or in a file laid over the preset holds at every ε.
        let set = vec![(
            "privacy.preprocess_share".to_string(),
            toml::Value::Float(0.7),
        )];
        let changed = preset.with_overrides("--set", &set).unwrap();
        assert_eq!(changed.privacy.preprocess_share_at(Some(1.0)), 0.7);
        let path = std::env::temp_dir().join(format!("dpsynth-share-{}.toml", std::process::id()));
        std::fs::write(&path, "[privacy]\npreprocess_share = 0.6\n").unwrap();
        let laid = RunConfig::discover_preset(Some(&path));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(laid.unwrap().privacy.preprocess_share_at(Some(1.0)), 0.6);
        // Without the key (every config but the preset), the share is the same at every ε.
        let plain = RunConfig::from_toml("[privacy]\nepsilon = 1.0\n", "t").unwrap();
        assert_eq!(plain.privacy.preprocess_share_at(Some(1.0)), 0.1);
        let bad = RunConfig::from_toml("[privacy]\nlow_epsilon_share = 1.5\n", "t.toml");
        assert!(bad.unwrap_err().to_string().contains("low_epsilon_share"));
    }

    #[test]
    fn unknown_key_is_named() {
        let err = RunConfig::from_toml("[train]\nepochz = 3\n", "t.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("epochz"), "{msg}");
    }

    #[test]
    fn defaults_are_ctgan() {
        let c = RunConfig::from_toml("", "empty").unwrap();
        assert_eq!(c.train.batch_size, 500);
        assert_eq!(c.pac(), 10);
        assert_eq!(c.model.generator_dims, vec![256, 256]);
        assert_eq!(c.train.epochs, 300);
    }

    #[test]
    fn a_negative_pair_weight_is_named() {
        let err = RunConfig::from_toml("[train]\npair_weight = -1\n", "t.toml").unwrap_err();
        assert!(err.to_string().contains("train.pair_weight"), "{err}");
        assert_eq!(
            RunConfig::from_toml("", "empty")
                .unwrap()
                .train
                .pair_weight(),
            DEFAULT_PAIR_WEIGHT
        );
        // Exact tables are for runs without DP only: a DP config may not ask for them.
        let dp = "[train]\npair_weight = 3\n[privacy]\nepsilon = 3.0\n";
        let err = RunConfig::from_toml(dp, "t.toml").unwrap_err();
        assert!(err.to_string().contains("privacy.pair_weight"), "{err}");
    }

    #[test]
    fn the_exact_correlations_are_refused_in_dp_mode() {
        let err = RunConfig::from_toml("[train]\ncorrelation_weight = -2\n", "t.toml").unwrap_err();
        assert!(
            err.to_string().contains("train.correlation_weight"),
            "{err}"
        );
        let dp = "[train]\ncorrelation_weight = 5\n[privacy]\nepsilon = 3.0\n";
        let err = RunConfig::from_toml(dp, "t.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("train.correlation_weight"), "{msg}");
        assert!(msg.contains("privacy.correlation_weight"), "{msg}");
        // Unset in a DP config: accepted, and the DP run never reads it.
        let dp = "[privacy]\nepsilon = 3.0\n";
        assert!(RunConfig::from_toml(dp, "t.toml").is_ok());
    }

    #[test]
    fn batch_must_be_multiple_of_pac() {
        let err = RunConfig::from_toml("[train]\nbatch_size = 55\n", "t.toml").unwrap_err();
        assert!(err.to_string().contains("train.batch_size"));
    }
}
