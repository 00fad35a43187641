//! DP preprocessing: the transformer (categories, bounds, storage types, mixture modes,
//! frequencies) fitted from noisy histograms instead of the rows.
//!
//! - Public, never charged: the schema, the row count, what `[privacy.columns]` states
//!   (categories, bounds, `integer`/`decimals`, `type = "bool" | "date" | "datetime"`).
//! - Bounds and storage type of a continuous column without public `min`/`max`: a noisy
//!   log-scale histogram and a noisy decimal-places histogram (`bounds.rs`).
//! - Every column: a noisy histogram (discrete: categories plus "other" and null; continuous:
//!   equal-width bins between the bounds, the two bounds exactly, and null). Categories not in
//!   a public list are discovered by keeping only those whose noisy count clears the
//!   threshold `τ`, set so that a category held by one row is released with probability at
//!   most `δ_threshold` (summed over the discovering columns). A float column without bounds
//!   whose second bounds slot is not taken by a narrowing, log-scale bins or its grain's
//!   points measures its own values in it the same way (coded values off any lattice), and
//!   `δ_threshold` is split over those columns and the discovering ones before any row is
//!   read.
//! - One row adds one to one cell of every count vector, so each has L2 sensitivity 1. They
//!   share the plan's budget by weights `wᵢ` with `Σ wᵢ = 1` and get noise std `z / √wᵢ`:
//!   together one Gaussian mechanism of cost `α / (2 z²)`, the accountant's charge
//!   (`budget_weights`). Discovering columns share `privacy.discovery_share`, the bounds and
//!   places histograms `privacy.bounds_share` (more on a small or wide table: `bounds_share`),
//!   and the other histograms and the two-way marginal tables of `marginals.rs`
//!   (`privacy.pair_marginals`) split the rest equally;
//!   with every domain public that is `z √(k + P)` on every count, as before.
//! - Everything after the noise (thresholds, the "other" and null slots, mixture fits,
//!   frequencies, types) is post-processing. Values outside the bounds are clipped before
//!   training sees them.
//!
//! Files: this one plans the budget and runs each column's fit. Rows are read only in
//! `discrete.rs`, `continuous.rs` and `step.rs`'s `step_histogram` (counts, before noise), and
//! noise is added only through `Noise::add`, from `discrete.rs` and `continuous.rs`; the
//! rules applied to the noisy counts afterwards live in `body.rs` (where a column's values
//! sit), `points.rs` (values that sit on a few points) and `step.rs` (a date's step).

mod body;
mod continuous;
mod discrete;
mod points;
mod step;

use serde::{Deserialize, Serialize};

use super::bounds;
use super::noise::{normal_upper_quantile, DpRng};
use crate::config::{PairSelection, PrivacyConfig, StorageType, TransformConfig};
use crate::error::{Error, Result};
use crate::read::{Table, Values};
use crate::schema::{ColumnKind, Schema};
use crate::transform::gmm::MixtureSettings;
use crate::transform::{mixture_settings, DataTransformer};

/// Serde's default for a weight older files lack.
fn one() -> f64 {
    1.0
}

/// What preprocessing released and what it took as public, for the ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PreprocessLedger {
    /// Noise multiplier of the joint histograms (std / L2 sensitivity); `None`: no histogram
    /// was measured (every column's metadata public, frequencies uniform).
    pub noise_multiplier: Option<f64>,
    /// Standard deviation of the noise on every count of the one-way histograms (of columns
    /// that are not discovering; and of the pair tables where `pair_noise_std` is 0).
    pub count_noise_std: f64,
    /// Standard deviation of the noise on every count of the pair tables and on every
    /// correlation and shift sum (`count_noise_std` times √`privacy.margin_weight`); 0 in
    /// files written before the two were told apart ([`PreprocessLedger::pair_std`]).
    #[serde(default)]
    pub pair_noise_std: f64,
    /// Number of histograms measured (bounds round plus main round).
    pub histograms: usize,
    /// Threshold a noisy count must clear for a discovered category or a bounds bin.
    pub threshold: f64,
    /// Columns whose categories were discovered under DP.
    pub discovered_categories: Vec<String>,
    /// Columns whose bounds were estimated under DP.
    pub estimated_bounds: Vec<String>,
    /// Columns whose categories were public (config lists, booleans).
    pub public_categories: Vec<String>,
    /// Columns whose bounds were public (config).
    pub public_bounds: Vec<String>,
    /// Bins of each continuous column's histogram (`privacy.bins`, fewer on a small table:
    /// `histogram_bins`; an integer column of at most `privacy.bins` integers keeps that
    /// many; 0 in files written before it was recorded).
    #[serde(default)]
    pub continuous_bins: usize,
    /// The bins asked for (`privacy.bins`), against which `continuous_bins` is reported as
    /// fewer; 0 in files written before it was recorded.
    #[serde(default)]
    pub configured_bins: usize,
    /// Two-way marginal tables measured in the same Gaussian mechanism (`privacy.pair_marginals`;
    /// 0 without them): they raise the L2 sensitivity, and so every count's noise, to
    /// `z √(histograms + pair_tables)` (`marginals.rs`).
    #[serde(default)]
    pub pair_tables: usize,
    /// Noise std on each count of a discovering column's histogram (`privacy.discovery_share`
    /// split among those columns); 0 when none discovers.
    #[serde(default)]
    pub discovery_noise_std: f64,
    /// Noise std on each count of the bounds and decimal-places histograms
    /// (`privacy.bounds_share`, raised on small or wide tables: `BOUNDS_FIND_SHARE`); 0 when
    /// every bound is public.
    #[serde(default)]
    pub bounds_noise_std: f64,
    /// Storage types decided under DP from the decimal-places histogram ("Age: integer").
    #[serde(default)]
    pub typed_under_dp: Vec<String>,
    /// Discovering columns that keep an "other" slot, with the noisy estimate of the rows
    /// whose categories did not clear the threshold and were folded into it.
    #[serde(default)]
    pub folded: Vec<(String, f64)>,
    /// Words of a public yes/no pair (`discrete::PARTNER_WORDS`) released beside their
    /// partner at three deviations, below the threshold: "column: word, word".
    #[serde(default)]
    pub partnered: Vec<String>,
    /// Columns without public bounds whose log-scale histogram had no bin clear the noise
    /// (too few rows for the noise, or values spread over many magnitudes): sampled as
    /// missing.
    #[serde(default)]
    pub no_range: Vec<String>,
    /// Columns whose storage type (boolean, date, datetime) the file decided without public
    /// `type` metadata (only with `privacy.discover`): not covered by the guarantee.
    #[serde(default)]
    pub types_from_rows: Vec<String>,
    /// Columns whose values sat in a small part of their estimated range, measured again over
    /// that part with the bounds share (`NARROW_SPAN`); their bounds are the narrowed ones.
    #[serde(default)]
    pub narrowed_bounds: Vec<String>,
    /// Bins of a narrowed part's second histogram where fewer than `continuous_bins`
    /// (`narrowed_bins` in continuous.rs: the bounds share's noise allows no more); 0 where
    /// none was cut or in files written before it was recorded. A part of a few hundred
    /// integers is counted per integer instead.
    #[serde(default)]
    pub narrowed_bins: usize,
    /// Continuous columns with public metadata whose noisy null count is nearly every row
    /// (`continuous::MOSTLY_MISSING`): their cells are read alone as that metadata says
    /// (numbers for bounds, dates or booleans for a `type`), and cells of another form are
    /// missing, so the terminal says which key may be wrong.
    #[serde(default)]
    pub mostly_missing: Vec<String>,
    /// Columns whose rows sat mostly in the first of their even bins (a count or an amount
    /// spread over decades), measured again over bins even in log scale with the slot a
    /// narrowing would use (`log_scale_edges`).
    #[serde(default)]
    pub log_binned: Vec<String>,
    /// Columns of an estimated range sampled within the part of it their noisy counts put the
    /// rows in (`loud_part`), plus a bin each side: values the generator puts beyond it are
    /// folded into its outer bins. Training rows keep the whole range.
    #[serde(default)]
    pub trimmed_bounds: Vec<String>,
    /// Columns whose values sit mostly on a few points of their grain (an income of seven
    /// bracket middles, ages coded 17.5, 22, 27, ...), found by a histogram over every point of
    /// the loud part with the slot a narrowing would use (`loud_points`): each such point is
    /// an exact mode (the rest of the rows stay with the body's modes), or, for many points
    /// holding 90% of the rows, sampled values snap onto them.
    #[serde(default)]
    pub on_points: Vec<String>,
    /// Columns whose point histogram was measured (in the slot a narrowing would use),
    /// whether or not its points held the rows.
    #[serde(default)]
    pub points_measured: Vec<String>,
    /// Columns whose own values were measured, in the slot a narrowing would use, by a
    /// thresholded histogram (a value held by one row is released with probability at most
    /// its share of `δ_threshold`): coded floats off any lattice, and spikes (a top code) of
    /// integer columns too wide for their points to be counted (`fit_private_transformer`,
    /// where the slot is still free).
    #[serde(default)]
    pub keys_measured: Vec<String>,
    /// The threshold of that histogram (0: none measured).
    #[serde(default)]
    pub key_threshold: f64,
    /// Slots for normal-score correlation sums reserved in the same mechanism
    /// (`privacy.copula`; `dp::copula`): each has sensitivity 1, like a count.
    #[serde(default)]
    pub copula_sums: usize,
    /// Where `privacy.copula` asked for correlation sums but the plan left them out: the
    /// noise a released correlation would have had (`dp::copula::rho_noise`), over
    /// `dp::copula::MAX_RHO_NOISE`; 0 otherwise.
    #[serde(default)]
    pub copula_noise_skipped: f64,
    /// Slots for the per-state score sums of discrete-continuous edges reserved in the same
    /// mechanism (`privacy.copula`; `dp::copula::measure_shifts`): each edge's vector has
    /// sensitivity 1, like a count table.
    #[serde(default)]
    pub shift_slots: usize,
    /// Pairs chosen after the tree (`privacy.extra_pairs`), part of `selection_rounds` and
    /// `pair_tables`.
    #[serde(default)]
    pub extra_pairs: usize,
    /// Pairs measured because a column of the pair is a named target (`privacy.targets`),
    /// part of `pair_tables`, beside the tree over the other columns.
    #[serde(default)]
    pub target_pairs: usize,
    /// The named targets (`privacy.targets`: config, public), in schema order.
    #[serde(default)]
    pub targets: Vec<String>,
    /// The one-way histograms' weight against a pair table's in the mechanism
    /// (`privacy.margin_weight`, or the one chosen where it is unset); 1 in older files.
    #[serde(default = "one")]
    pub margin_weight: f64,
    /// Whether the target was taken from its column's name (`privacy.target_from_name`)
    /// rather than named.
    #[serde(default)]
    pub targets_from_name: bool,
    /// Rounds of the tree's pair selection (`privacy.pair_selection`; 0: every pair).
    #[serde(default)]
    pub selection_rounds: usize,
    /// ε of each selection round's exponential mechanism.
    #[serde(default)]
    pub selection_epsilon: f64,
    /// Every pair's noise std per count over √rows, had every pair been measured (public:
    /// from the plan); what `privacy.pair_selection = "auto"` decides on.
    #[serde(default)]
    pub all_pairs_noise_ratio: f64,
    /// The pairs a tree selection measured (`marginals::select_tree`: an output of the
    /// exponential mechanism, and the pairs of the named `targets`, so public), as column
    /// names; empty when every pair is measured.
    #[serde(default)]
    pub selected_pairs: Vec<(String, String)>,
}

impl PreprocessLedger {
    /// The noise std on every pair-table count: `pair_noise_std`, or `count_noise_std` in a
    /// file written when both were the same.
    pub fn pair_std(&self) -> f64 {
        if self.pair_noise_std > 0.0 {
            self.pair_noise_std
        } else {
            self.count_noise_std
        }
    }
}

/// Makes each column with public metadata take the kind that metadata implies (`categories`:
/// discrete; `min`/`max`: continuous), so that no kind is inferred from the rows. A
/// `[columns.NAME] kind` that contradicts the metadata is an error naming both keys.
pub fn force_public_kinds(config: &mut crate::config::RunConfig) -> Result<()> {
    use crate::config::ColumnKindSetting;
    let crate::config::RunConfig {
        privacy, columns, ..
    } = config;
    for (name, public) in &privacy.columns {
        let implied = match (public.categories.is_some(), public.min.is_some() || public.max.is_some()) {
            (true, false) => ColumnKindSetting::Discrete,
            (false, true) => ColumnKindSetting::Continuous,
            (true, true) => {
                return Err(Error::config(
                    "privacy.columns",
                    format!("key 'privacy.columns.{name}' gives both `categories` and `min`/`max`; keep `categories` for a discrete column or the bounds for a continuous one"),
                ))
            }
            (false, false) => continue,
        };
        let entry = columns.entry(name.clone()).or_default();
        match entry.kind {
            Some(kind) if kind != implied => {
                return Err(Error::config(
                    "columns",
                    format!("key 'columns.{name}.kind' says {kind:?} but 'privacy.columns.{name}' describes a {implied:?} column; make them agree"),
                ))
            }
            _ => entry.kind = Some(implied),
        }
    }
    Ok(())
}

/// The schema with every storage type fixed by public facts instead of the rows (one row
/// holding "3.5" or a word would otherwise change a column's type, and so the released file):
/// a continuous column is `Int` when its metadata says `integer = true`, else `Float` (dates
/// and timestamps keep their calendar type, and a timestamp whose type came from the rows under
/// `privacy.discover` its text form as read, as does a number column's text form); a
/// discrete column with a public list is `Text` (which holds the listed categories and the
/// "other" label alike), or `Bool` when read as booleans.
pub fn public_schema(mut schema: Schema, privacy: &PrivacyConfig) -> Schema {
    use crate::read::ValueType;
    for column in &mut schema.columns {
        let public = privacy.columns.get(&column.name);
        column.value_type = match (column.kind, &column.value_type) {
            (ColumnKind::Continuous, ValueType::Date | ValueType::Datetime { .. }) => {
                column.value_type.clone()
            }
            (ColumnKind::Continuous, _) if public.is_some_and(|p| p.integer) => ValueType::Int,
            (ColumnKind::Continuous, _) => ValueType::Float,
            (ColumnKind::Discrete, ValueType::Bool) => ValueType::Bool,
            (ColumnKind::Discrete, other) => match public.and_then(|p| p.categories.as_ref()) {
                // Text holds every listed category and the "other" label alike.
                Some(_) => ValueType::Text,
                None => other.clone(),
            },
        };
        // Decimal places, a datetime's text form, its resolution and its calendar step,
        // learned from the rows, are private; only the metadata may set the first two (the
        // estimates under DP set the decimals and steps of columns without public bounds).
        column.decimals = match column.value_type {
            ValueType::Float => public.and_then(|p| p.decimals),
            _ => None,
        };
        // A lattice only where the metadata declares it (the estimates under DP look for one
        // in columns without public bounds).
        column.lattice = match column.kind {
            ColumnKind::Continuous => public
                .and_then(|p| p.lattice)
                .and_then(|v| crate::lattice::Lattice::try_from(v).ok()),
            ColumnKind::Discrete => None,
        };
        column.resolution = None;
        column.calendar = None;
        // A number's text form (`$1,234.50`, `00501`) and a boolean's words (`TRUE`) are read
        // from the rows: they stay only on a column whose whole type came from the rows under
        // discovery (listed in the ledger as not covered); a column with public bounds is
        // written as plain numbers, one declared `type = "bool"` in the words of its
        // `format`, else as `true`/`false`.
        let guessed = match column.kind {
            _ if column.value_type == ValueType::Bool => public.and_then(|p| p.storage).is_none(),
            ColumnKind::Continuous => public.and_then(|p| p.min.zip(p.max)).is_none(),
            ColumnKind::Discrete => public.and_then(|p| p.categories.as_ref()).is_none(),
        };
        if !(privacy.discover && guessed) {
            column.form = None;
        }
        // A declared boolean's words, when its metadata gives them (`format = "TRUE/FALSE"`).
        if column.value_type == ValueType::Bool {
            if let Some((true_word, false_word)) = public.and_then(|p| p.bool_words()) {
                column.form = Some(crate::read::form::CellForm::Bool(
                    crate::read::form::BoolWords {
                        true_word,
                        false_word,
                    },
                ));
            }
        }
        if let ValueType::Datetime { format, .. } = &mut column.value_type {
            // With discovery, a timestamp column without a declared type took that type from
            // the rows (the ledger lists it as not covered); its text form goes with it.
            let from_rows = privacy.discover && public.and_then(|p| p.storage).is_none();
            *format = match public.and_then(|p| p.format.clone()) {
                Some(declared) => Some(declared),
                None if from_rows => format.take(),
                None => None,
            };
        }
    }
    schema
}

/// Checks that every column the file reads as boolean, date or datetime has that storage
/// type in its public metadata (`type`, and a datetime's `zone`), so that no cell decides the
/// released schema. Without it: an error naming the column, or with `privacy.discover` the
/// column's name, to be listed in the ledger as not covered.
fn check_storage_types(table: &Table, privacy: &PrivacyConfig) -> Result<Vec<String>> {
    use crate::read::ValueType;
    let mut from_rows = Vec::new();
    let mut undeclared = Vec::new();
    for column in &table.columns {
        let read = column.values.value_type();
        let (wanted, tz) = match &read {
            ValueType::Bool => (StorageType::Bool, None),
            ValueType::Date => (StorageType::Date, None),
            ValueType::Datetime { tz, .. } => (StorageType::Datetime, tz.clone()),
            _ => {
                if let Some(declared) = privacy.columns.get(&column.name).and_then(|p| p.storage) {
                    return Err(Error::Privacy(format!(
                        "column '{}': [privacy.columns.{}] type = {declared:?} but the file's values could not all be read as that (a cell of another form, or a missing-value marker not in data.null_values?); fix the cells or the metadata",
                        column.name, column.name
                    )));
                }
                continue;
            }
        };
        let public = privacy.columns.get(&column.name);
        match public.and_then(|p| p.storage) {
            Some(declared) if declared == wanted => {
                let zone = public.and_then(|p| p.zone.clone());
                if wanted == StorageType::Datetime && zone != tz {
                    return Err(Error::Privacy(format!(
                        "column '{}': the file's timestamps carry time zone {:?} but [privacy.columns.{}] zone is {:?}; make them agree (a DP run takes the zone from the metadata only)",
                        column.name, tz, column.name, zone
                    )));
                }
            }
            Some(declared) => {
                return Err(Error::Privacy(format!(
                    "column '{}': [privacy.columns.{}] type = {declared:?} but the file's values read as {wanted:?}; fix the cells or the metadata",
                    column.name, column.name
                )))
            }
            None if privacy.discover => from_rows.push(column.name.clone()),
            None => undeclared.push(format!(
                "[privacy.columns.{}]\ntype = \"{}\"",
                crate::schema::toml_key(&column.name),
                format!("{wanted:?}").to_lowercase()
            )),
        }
    }
    if !undeclared.is_empty() {
        return Err(Error::Privacy(format!(
            "in DP mode a column's storage type must be public, and {} column(s) read as booleans, dates or timestamps without a declared `type`.\nTo train on the table as it is, add `--discover` (types, categories and bounds measured under DP and charged; the types are listed as not covered by the guarantee).\nOr add these lines to the config:\n{}",
            undeclared.len(),
            undeclared.join("\n")
        )));
    }
    Ok(from_rows)
}

/// The TOML a user adds to give public metadata for the columns that lack it.
fn missing_metadata_toml(ledger: &PreprocessLedger) -> String {
    let key = |name: &str| {
        if name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            name.to_string()
        } else {
            format!("{name:?}")
        }
    };
    let mut out = Vec::new();
    for name in &ledger.discovered_categories {
        out.push(format!(
            "[privacy.columns.{}]\ncategories = [\"...\", \"...\"]  # every category, spelled as in the file",
            key(name)
        ));
    }
    for name in &ledger.estimated_bounds {
        out.push(format!(
            "[privacy.columns.{}]\nmin = ...  # public lower bound\nmax = ...  # public upper bound",
            key(name)
        ));
    }
    out.join("\n\n")
}

/// What the main round knows about one column before measuring it.
enum Plan {
    Discrete { categories: Option<Vec<String>> },
    Continuous { bounds: Option<(f64, f64)> },
}

/// How preprocessing is to run.
pub struct PreprocessSettings<'a> {
    /// The `[privacy]` table (public metadata, bins, switches).
    pub privacy: &'a PrivacyConfig,
    /// Transformer settings (mixture fit, category cap).
    pub transform: &'a TransformConfig,
    /// The plan's histogram noise multiplier; `None`: measure nothing.
    pub noise_multiplier: Option<f64>,
    /// δ reserved for thresholded discovery.
    pub delta_threshold: f64,
}

/// Fewest equal-width bins a continuous column's histogram gets ([`histogram_bins`]).
pub const MIN_HISTOGRAM_BINS: usize = 8;

/// Bins of each continuous column's histogram: `privacy.bins` (`most`), or the largest power
/// of two at most `rows / std` where that is fewer (at least [`MIN_HISTOGRAM_BINS`]), so that
/// an average bin holds at least one deviation of its noise. With 64 bins a small table's
/// histogram is noise: scikit-learn's diabetes (442 rows, noise std 21.4 per count) averaged
/// 7 rows a bin, and its sampled columns' mean KS distance was 0.25; with 16 bins 0.15
/// (breast_cancer 0.48 -> 0.31, vega's cars 0.23 -> 0.19; docs/quality.md). From the public
/// row count and the plan's noise only; tables of a few thousand rows keep 64.
pub fn histogram_bins(most: usize, rows: f64, std: f64) -> usize {
    if std <= 0.0 || most <= MIN_HISTOGRAM_BINS {
        return most;
    }
    let fit = rows / std;
    let mut bins = MIN_HISTOGRAM_BINS;
    while bins * 2 <= most && (bins * 2) as f64 <= fit {
        bins *= 2;
    }
    if most as f64 <= fit {
        most
    } else {
        bins
    }
}

/// Shares of preprocessing's budget, per measurement. Every measurement is a count vector
/// that one row changes by one in one cell (L2 sensitivity 1); measurement `i` gets noise std
/// `z / √wᵢ` with `Σ wᵢ = 1`, so together they cost RDP `α Σ wᵢ / (2z²) = α / (2z²)`: the
/// one Gaussian mechanism of noise multiplier `z` that the plan charged.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Weights {
    /// Each discovering discrete column's histogram.
    discovery: f64,
    /// Each bounds or decimal-places histogram.
    bounds: f64,
    /// Each other one-way histogram (`privacy.margin_weight` times `table`).
    margin: f64,
    /// Each two-way marginal table, correlation sum and shift slot.
    table: f64,
    /// Each round of the tree's pair selection (`marginals::select_tree`).
    selection: f64,
}

/// Share of the public row count a single half-decade of a column's values must be able to
/// hold and still seed its bounds ([`bounds::STRONG`] deviations of the bounds share's noise,
/// with [`BOUNDS_FIND_MARGIN`] to spare): where `privacy.bounds_share` gives more noise than
/// that (a small or wide table), the bounds group takes more of the budget, up to
/// [`BOUNDS_SHARE_MAX`]. At 10% of the
/// budget, scikit-learn's diabetes table (442 rows, 11 columns) had bounds noise std 36.7 and
/// 7 of its 10 standardised columns found no range (sampled as missing), breast_cancer (569
/// rows, 31 columns) std 65.
pub const BOUNDS_FIND_SHARE: f64 = 0.25;

/// Deviations beyond [`bounds::STRONG`] that such a half-decade clears on average, so that it
/// seeds the bounds in nearly every draw (98%), not half of them: at exactly STRONG,
/// diabetes' `bmi` (28% of its rows in one half-decade) found no range in one run of two.
pub const BOUNDS_FIND_MARGIN: f64 = 2.0;

/// The most of preprocessing's budget (after the selection's) the bounds group takes when
/// [`BOUNDS_FIND_SHARE`] asks for more than `privacy.bounds_share`: without bounds a column
/// has no histogram at all, but the histograms and pairs keep at least as much.
pub const BOUNDS_SHARE_MAX: f64 = 0.4;

/// The bounds group's share of the budget left after the selection's (`scale` of it):
/// `privacy.bounds_share`, or more where its noise std would exceed what lets a half-decade
/// holding [`BOUNDS_FIND_SHARE`] of the `rows` clear [`bounds::STRONG`] deviations with
/// [`BOUNDS_FIND_MARGIN`] to spare, capped at [`BOUNDS_SHARE_MAX`]. Depends only on the plan's noise multiplier `z`, the public row count
/// and the schema (how many `bound_measures`), never on the rows' values.
fn bounds_share(
    privacy: &PrivacyConfig,
    bound_measures: usize,
    rows: f64,
    z: Option<f64>,
    scale: f64,
) -> f64 {
    if bound_measures == 0 {
        return 0.0;
    }
    let needed = match z {
        Some(z) if rows > 0.0 && scale > 0.0 => {
            let target_std = rows * BOUNDS_FIND_SHARE / (bounds::STRONG + BOUNDS_FIND_MARGIN);
            // Each measure's weight is scale * share / measures and its std z / sqrt(weight).
            (z / target_std).powi(2) * bound_measures as f64 / scale
        }
        _ => 0.0,
    };
    privacy
        .bounds_share
        .max(needed.min(BOUNDS_SHARE_MAX.max(privacy.bounds_share)))
}

/// The weights for `discovering` discovering columns, `bound_measures` bounds and places
/// histograms, `margins` other one-way histograms (each `margin_weight` times a table),
/// `tables` pair tables (and correlation and shift slots) and `selection_rounds` rounds of
/// pair selection: the selection takes
/// `selection_share` off the top; of the rest, the bounds group takes [`bounds_share`] (from
/// the plan's noise multiplier `z` and the public row count `rows`), discovery its configured
/// share (at least its share under equal weights), and the histograms and tables split what
/// is left, each one-way histogram `margin_weight` times a table's weight. With every
/// domain public, no tree and a margin weight of 1 this is equal weights, `1 / (margins +
/// tables)` each. The weights add up to 1 over all measurements (the accountant's charge).
fn budget_weights(
    privacy: &PrivacyConfig,
    discovering: usize,
    bound_measures: usize,
    (margins, tables, margin_weight): (usize, usize, f64),
    selection_rounds: usize,
    rows: f64,
    z: Option<f64>,
) -> Weights {
    let per = |share: f64, n: usize| if n == 0 { 0.0 } else { share / n as f64 };
    let selection = if selection_rounds > 0 {
        privacy.selection_share
    } else {
        0.0
    };
    let scale = 1.0 - selection;
    let bounds = bounds_share(privacy, bound_measures, rows, z, scale);
    let measured = margins + tables;
    let discovery = if discovering == 0 {
        0.0
    } else if measured == 0 {
        1.0 - bounds
    } else {
        let equal = discovering as f64 / (discovering + measured) as f64;
        privacy.discovery_share.max(equal).min(0.9 - bounds)
    };
    let units = margin_weight * margins as f64 + tables as f64;
    let table = if units > 0.0 {
        scale * (1.0 - discovery - bounds) / units
    } else {
        0.0
    };
    Weights {
        discovery: scale * per(discovery, discovering),
        bounds: scale * per(bounds, bound_measures),
        margin: margin_weight * table,
        table,
        selection: per(selection, selection_rounds),
    }
}

/// The named targets (`privacy.targets`) in schema order; a name that is not a column is an
/// error naming the key and the table's columns. With none named, the column whose name says
/// it is the target (`privacy.target_from_name`, `config::target_by_name`), if any, on a table
/// whose pairs number at most [`PairSelection::AUTO_ALL_PAIRS_MAX`] (16 columns or fewer): there
/// it turns every noisy pair into a tree and the target's pairs. Above 16 columns its `k − 1`
/// pairs beside the tree doubled the tables of scikit-learn's digits (65 columns) and cost 0.14
/// of AUC (docs/quality.md, stop 64); a target named with `--target` keeps them.
fn target_names(privacy: &PrivacyConfig, schema: &Schema) -> Result<Vec<String>> {
    if let Some(missing) = privacy
        .targets
        .iter()
        .find(|t| !schema.columns.iter().any(|c| &c.name == *t))
    {
        return Err(Error::unknown_column(
            "privacy.targets",
            format!(
                "the target '{missing}' (privacy.targets, --target) is not a column of the table"
            ),
            schema.columns.iter().map(|c| c.name.as_str()),
        ));
    }
    if privacy.targets.is_empty() {
        let guess = privacy.target_from_name
            && super::marginals::pair_count(schema.columns.len())
                <= PairSelection::AUTO_ALL_PAIRS_MAX;
        if !guess {
            return Ok(Vec::new());
        }
        let names = schema.columns.iter().map(|c| c.name.as_str());
        return Ok(crate::config::target_by_name(names)
            .map(|t| vec![t.to_string()])
            .unwrap_or_default());
    }
    Ok(schema
        .columns
        .iter()
        .filter(|c| privacy.targets.contains(&c.name))
        .map(|c| c.name.clone())
        .collect())
}

/// Fits the transformer from noisy histograms of `table` and clips the table's continuous
/// columns to the released bounds. Returns the schema with the storage types decided under
/// DP (integer columns, decimal places) too. Errors name the columns that need public
/// metadata when discovery is off or unaffordable.
pub fn fit_private_transformer(
    table: &mut Table,
    schema: &Schema,
    settings: &PreprocessSettings,
    rng: &mut DpRng,
) -> Result<(DataTransformer, PreprocessLedger)> {
    let privacy = settings.privacy;
    let n_rows = table.n_rows() as f64;
    let mut schema = schema.clone();
    let types_from_rows = check_storage_types(table, privacy)?;
    for (name, public) in &privacy.columns {
        let Some(cs) = schema.columns.iter().find(|c| &c.name == name) else {
            return Err(Error::unknown_column(
                "privacy.columns",
                format!("key 'privacy.columns.{name}' names a column that is not in the table"),
                schema.columns.iter().map(|c| c.name.as_str()),
            ));
        };
        let wrong = match cs.kind {
            ColumnKind::Discrete => public.min.is_some().then_some("min/max"),
            ColumnKind::Continuous => public.categories.is_some().then_some("categories"),
        };
        if let Some(key) = wrong {
            return Err(Error::config(
                "privacy.columns",
                format!(
                    "key 'privacy.columns.{name}.{key}' does not fit a {:?} column; remove it or change [columns.{name}] kind",
                    cs.kind
                ),
            ));
        }
    }

    let mut ledger = PreprocessLedger {
        noise_multiplier: settings.noise_multiplier,
        count_noise_std: 0.0,
        pair_noise_std: 0.0,
        histograms: 0,
        threshold: 0.0,
        discovered_categories: Vec::new(),
        estimated_bounds: Vec::new(),
        public_categories: Vec::new(),
        public_bounds: Vec::new(),
        continuous_bins: 0,
        configured_bins: privacy.bins,
        pair_tables: 0,
        discovery_noise_std: 0.0,
        bounds_noise_std: 0.0,
        typed_under_dp: Vec::new(),
        folded: Vec::new(),
        partnered: Vec::new(),
        no_range: Vec::new(),
        types_from_rows,
        selection_rounds: 0,
        selection_epsilon: 0.0,
        selected_pairs: Vec::new(),
        narrowed_bounds: Vec::new(),
        narrowed_bins: 0,
        log_binned: Vec::new(),
        mostly_missing: Vec::new(),
        on_points: Vec::new(),
        points_measured: Vec::new(),
        keys_measured: Vec::new(),
        key_threshold: 0.0,
        trimmed_bounds: Vec::new(),
        copula_sums: 0,
        copula_noise_skipped: 0.0,
        shift_slots: 0,
        extra_pairs: 0,
        target_pairs: 0,
        targets: Vec::new(),
        targets_from_name: false,
        margin_weight: 1.0,
        all_pairs_noise_ratio: 0.0,
    };
    let plans: Vec<Plan> = schema
        .columns
        .iter()
        .zip(&table.columns)
        .map(|(cs, col)| {
            let public = privacy.columns.get(&cs.name);
            match cs.kind {
                ColumnKind::Discrete => {
                    let declared_bool = public.and_then(|p| p.storage) == Some(StorageType::Bool);
                    let categories = match (&col.values, public.and_then(|p| p.categories.clone()))
                    {
                        (_, Some(list)) => Some(list),
                        (Values::Bool(_), None) if declared_bool => {
                            Some(vec!["false".into(), "true".into()])
                        }
                        _ => None,
                    };
                    match categories {
                        Some(_) => ledger.public_categories.push(cs.name.clone()),
                        None => ledger.discovered_categories.push(cs.name.clone()),
                    }
                    Plan::Discrete { categories }
                }
                ColumnKind::Continuous => {
                    let bounds = public.and_then(|p| p.min.zip(p.max));
                    match bounds {
                        Some(_) => ledger.public_bounds.push(cs.name.clone()),
                        None => ledger.estimated_bounds.push(cs.name.clone()),
                    }
                    Plan::Continuous { bounds }
                }
            }
        })
        .collect();

    let needs: Vec<&str> = ledger
        .discovered_categories
        .iter()
        .chain(&ledger.estimated_bounds)
        .map(String::as_str)
        .collect();
    let nothing_to_discover = needs.is_empty();
    if !nothing_to_discover && (!privacy.discover || settings.noise_multiplier.is_none()) {
        let why = if !privacy.discover {
            "DP mode needs public metadata for every column (privacy.discover = false)"
        } else {
            "no budget is set aside for preprocessing (privacy.preprocess_share = 0), so every column needs public metadata"
        };
        return Err(Error::Privacy(format!(
            "{why}; {} column(s) have none: {}.\nTo train on the table as it is, add `--discover`: it measures them under DP, charged to the budget, with the settings measured on tables without metadata (configs/dp-discover.toml, built in; `--set privacy.discover=true` does the discovery alone, with this config's other settings).\nOr add these lines to the config, with values taken from documentation, not from the rows:\n{}\n(or add `--discover`, as above)",
            needs.len(),
            needs.join(", "),
            missing_metadata_toml(&ledger)
        )));
    }

    if privacy.pair_marginals {
        if settings.noise_multiplier.is_none() {
            return Err(Error::config(
                "privacy.pair_marginals",
                "two-way marginals need a measurement budget: set privacy.preprocess_share above 0 (or privacy.histogram_noise_multiplier)",
            ));
        }
        ledger.targets = target_names(privacy, &schema)?;
        ledger.targets_from_name = privacy.targets.is_empty() && !ledger.targets.is_empty();
    }
    if privacy.pair_marginals && privacy.copula && privacy.warm_start_epochs > 0 {
        let continuous = plans
            .iter()
            .filter(|p| matches!(p, Plan::Continuous { .. }))
            .count();
        ledger.copula_sums = super::copula::reserved_sums(continuous);
        if privacy.category_shifts {
            ledger.shift_slots =
                super::copula::reserved_shift_slots(plans.len() - continuous, continuous);
        }
    }
    // Which continuous columns also get their decimal places (numbers without bounds) or
    // their step (dates and timestamps, with or without public bounds: monthly, daily,
    // hourly, ...) measured.
    let typed_unbounded: Vec<bool> = plans
        .iter()
        .zip(&table.columns)
        .map(|(plan, col)| {
            matches!(
                (plan, &col.values),
                (
                    Plan::Continuous { .. },
                    Values::Date(_) | Values::Datetime { .. }
                ) | (
                    Plan::Continuous { bounds: None },
                    Values::Float(_) | Values::Int(_)
                )
            )
        })
        .collect();
    let discovering = ledger.discovered_categories.len();
    // Per column without bounds: its log-scale grid and, when its values turn out to sit in a
    // small part of the range, a second histogram over that part (`NARROW_SPAN`).
    let bound_measures =
        2 * ledger.estimated_bounds.len() + typed_unbounded.iter().filter(|&&b| b).count();
    // Which pairs are measured (`PairSelection::tree_for`), from the noise every pair would
    // get against the rows' own sampling error. Public: the plan's noise multiplier, the
    // schema, the config and the row count.
    if privacy.pair_marginals {
        let k = plans.len();
        let all_pairs = super::marginals::pair_count(k);
        // A table of one column has no pair (and no pair weight to divide by): ratio 0.
        let all_pairs_noise = settings.noise_multiplier.filter(|_| all_pairs > 0);
        let all_pairs_noise = all_pairs_noise.map_or(0.0, |z| {
            let tables = all_pairs + ledger.copula_sums + ledger.shift_slots;
            let w = budget_weights(
                privacy,
                discovering,
                bound_measures,
                (
                    k - discovering,
                    tables,
                    privacy.margin_weight.unwrap_or(1.0),
                ),
                0,
                n_rows,
                Some(z),
            );
            z / w.table.sqrt()
        });
        ledger.all_pairs_noise_ratio = all_pairs_noise / n_rows.max(1.0).sqrt();
        let t = ledger.targets.len();
        ledger.pair_tables = if privacy
            .pair_selection
            .tree_for(k, t, ledger.all_pairs_noise_ratio)
        {
            // A tree over the k − t other columns, extra pairs among them, and every pair
            // with a target.
            let others = k - t;
            let tree = others.saturating_sub(1);
            let extra = privacy
                .extra_pairs
                .min(super::marginals::pair_count(others) - tree);
            ledger.extra_pairs = extra;
            ledger.selection_rounds = tree + extra;
            ledger.target_pairs = all_pairs - super::marginals::pair_count(others);
            ledger.selection_rounds + ledger.target_pairs
        } else {
            all_pairs
        };
    }
    // The one-way histograms' weight: `privacy.margin_weight`, or where unset
    // `AUTO_MARGIN_WEIGHT` when the pair tables measured would be cheap at equal weights (noise
    // std per count at most `AUTO_NOISE_RATIO` √rows), 1 where they are noisy. Public: the
    // plan's noise multiplier, the schema, the config and the row count.
    let weight_for = |margin_weight: f64, copula_sums: usize| {
        let tables = ledger.pair_tables + copula_sums + ledger.shift_slots;
        budget_weights(
            privacy,
            discovering,
            bound_measures,
            (plans.len() - discovering, tables, margin_weight),
            ledger.selection_rounds,
            n_rows,
            settings.noise_multiplier,
        )
    };
    let margin_weight = privacy.margin_weight.unwrap_or_else(|| {
        let cheap = settings.noise_multiplier.is_some_and(|z| {
            let w = weight_for(1.0, ledger.copula_sums);
            w.table > 0.0
                && z / w.table.sqrt() <= PairSelection::AUTO_NOISE_RATIO * n_rows.max(1.0).sqrt()
        });
        if cheap && ledger.pair_tables > 0 {
            crate::config::AUTO_MARGIN_WEIGHT
        } else {
            1.0
        }
    });
    ledger.margin_weight = margin_weight;
    let weights_with = |copula_sums: usize| weight_for(margin_weight, copula_sums);
    let mut weights = weights_with(ledger.copula_sums);
    // Correlation sums that the plan's noise would drown (a few hundred rows: penguins'
    // released every ρ as 0, its spreads under three deviations) are not reserved, and their
    // share goes to the histograms and tables. Public: the plan's noise and the row count.
    if let (Some(z), true) = (settings.noise_multiplier, ledger.copula_sums > 0) {
        let noise = super::copula::rho_noise(z / weights.table.sqrt(), n_rows);
        if noise > super::copula::MAX_RHO_NOISE {
            ledger.copula_sums = 0;
            ledger.copula_noise_skipped = noise;
            weights = weights_with(0);
        }
    }
    // A selection round of weight w is the exponential mechanism at ε = 2√w / z, whose RDP
    // α ε²/8 equals a Gaussian measurement's α w / (2z²) (`marginals.rs`).
    ledger.selection_epsilon = match settings.noise_multiplier {
        Some(z) if weights.selection > 0.0 => 2.0 * weights.selection.sqrt() / z,
        _ => 0.0,
    };
    let std_of = |w: f64| match settings.noise_multiplier {
        Some(z) if w > 0.0 => z / w.sqrt(),
        _ => 0.0,
    };
    ledger.pair_noise_std = std_of(weights.table);
    let (count_noise_std, discovery_std, bounds_std) = (
        std_of(weights.margin),
        std_of(weights.discovery),
        std_of(weights.bounds),
    );
    // Float and integer columns without bounds may have their values measured by a
    // thresholded histogram in their second slot (below, where it is still free): δ_threshold
    // is split over them and the discovering columns alike, decided before any row is read.
    let key_candidates = plans
        .iter()
        .zip(&table.columns)
        .filter(|(plan, col)| {
            matches!(
                (plan, &col.values),
                (
                    Plan::Continuous { bounds: None },
                    Values::Float(_) | Values::Int(_)
                )
            )
        })
        .count();
    let delta_each = settings.delta_threshold / (discovering + key_candidates).max(1) as f64;
    let threshold = match settings.noise_multiplier {
        _ if discovering == 0 => 0.0,
        Some(_) if settings.delta_threshold > 0.0 => {
            1.0 + discovery_std * normal_upper_quantile(delta_each)
        }
        Some(_) => {
            return Err(Error::Privacy(
                "no delta is reserved for thresholding; this plan cannot discover metadata".into(),
            ))
        }
        None => 0.0,
    };
    ledger.count_noise_std = count_noise_std;
    ledger.discovery_noise_std = discovery_std;
    ledger.bounds_noise_std = bounds_std;
    ledger.threshold = threshold;
    let key_threshold = match settings.noise_multiplier {
        Some(_) if key_candidates > 0 && settings.delta_threshold > 0.0 => {
            1.0 + bounds_std * normal_upper_quantile(delta_each)
        }
        _ => 0.0,
    };
    let measured = settings.noise_multiplier.is_some();
    let mut noise = Noise {
        rng,
        measured,
        histograms: 0,
    };
    let shared = Shared {
        privacy,
        settings,
        n_rows,
        count_noise_std,
        discovery_std,
        bounds_std,
        estimated_columns: ledger.estimated_bounds.len(),
        threshold,
        key_threshold,
        mixture: mixture_settings(settings.transform),
        measured,
    };
    let mut encoders = Vec::with_capacity(plans.len());
    for (((plan, column), cs), typed) in plans
        .iter()
        .zip(table.columns.iter_mut())
        .zip(schema.columns.iter_mut())
        .zip(&typed_unbounded)
    {
        encoders.push(match plan {
            Plan::Discrete { categories } => {
                discrete::fit(&shared, &mut noise, &mut ledger, column, categories)
            }
            Plan::Continuous { bounds } => {
                continuous::fit(&shared, &mut noise, &mut ledger, column, cs, bounds, typed)
            }
        });
    }
    ledger.histograms = noise.histograms;
    Ok((DataTransformer { schema, encoders }, ledger))
}

/// What every column's fit reads: the config, the row count, and the noise and thresholds
/// the plan fixed before any row was read.
pub(super) struct Shared<'a> {
    privacy: &'a PrivacyConfig,
    settings: &'a PreprocessSettings<'a>,
    n_rows: f64,
    count_noise_std: f64,
    discovery_std: f64,
    bounds_std: f64,
    /// Columns whose bounds are estimated: a lone seed's level is set for the whole table
    /// (`bounds::lone_level`).
    estimated_columns: usize,
    threshold: f64,
    key_threshold: f64,
    mixture: MixtureSettings,
    measured: bool,
}

impl Shared<'_> {
    /// A slot for nulls or for values outside the kept categories exists when the metadata
    /// says so or its noisy count clears three deviations of its noise (post-processing).
    fn clears(&self, noisy_count: f64, std: f64) -> bool {
        self.measured && noisy_count > 3.0 * std
    }

    /// Whether `[privacy.columns]` declares the column nullable.
    fn nullable(&self, name: &str) -> bool {
        self.privacy.columns.get(name).is_some_and(|p| p.nullable)
    }
}

/// The Gaussian noise of the preprocessing mechanism: each histogram measured through it
/// gets noise of its weight's std from the DP stream, and is counted for the ledger.
pub(super) struct Noise<'r> {
    rng: &'r mut DpRng,
    measured: bool,
    histograms: usize,
}

impl Noise<'_> {
    /// Adds noise of std `std` to each count (nothing when no budget measures anything).
    fn add(&mut self, counts: &mut [f64], std: f64) {
        if self.measured {
            let noise = self.rng.gaussian(counts.len(), std);
            for (c, e) in counts.iter_mut().zip(noise) {
                *c += e;
            }
            self.histograms += 1;
        }
    }
}

#[cfg(test)]
mod tests;
