//! DP preprocessing: the transformer (categories, bounds, mixture modes, frequencies) fitted from
//! noisy histograms instead of the rows.
//!
//! - Public, never charged: the schema, the row count, what `[privacy.columns]` states, and
//!   the two categories of a boolean column.
//! - Round 1, for continuous columns without public bounds: a noisy histogram over a fixed
//!   log-scale grid; the bounds are the outer edges of the bins whose noisy count clears the
//!   threshold.
//! - Round 2, every column: a noisy histogram (discrete: categories plus "other" and null;
//!   continuous: equal-width bins between the bounds plus null). Categories not in a public
//!   list are discovered by keeping only those whose noisy count clears the threshold `τ`,
//!   set so that a category held by one row is released with probability at most
//!   `δ_threshold` (summed over the discovering columns).
//! - One row adds one to one bin of each histogram, so all `k` histograms together are one
//!   Gaussian mechanism with L2 sensitivity `√k`: noise std `σ_h = z √k` for the plan's noise
//!   multiplier `z` keeps its cost at the `α / (2 z²)` the accountant charged.
//! - With `privacy.pair_marginals`, the `P` two-way marginal tables that training measures
//!   after the fit (`marginals.rs`) belong to the same mechanism: the sensitivity is
//!   `√(k + P)` and every count, here and there, gets std `z √(k + P)`.
//! - Everything after the noise (thresholds, trimming, mixture fits, frequencies) is
//!   post-processing. Values outside the bounds are clipped before training sees them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::noise::DpRng;
use crate::config::{PrivacyConfig, TransformConfig};
use crate::error::{Error, Result};
use crate::read::{Table, Values};
use crate::schema::{ColumnKind, Schema};
use crate::transform::{
    mixture_settings, ContinuousEncoder, DataTransformer, DiscreteEncoder, Encoder, Slot,
};

/// What preprocessing released and what it took as public, for the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessLedger {
    /// Noise multiplier of the joint histograms (std / L2 sensitivity); `None`: no histogram
    /// was measured (every column's metadata public, frequencies uniform).
    pub noise_multiplier: Option<f64>,
    /// Standard deviation of the noise on every count.
    pub count_noise_std: f64,
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
    /// Bins of each continuous column's histogram (`privacy.bins`; 0 in files written
    /// before it was recorded).
    #[serde(default)]
    pub continuous_bins: usize,
    /// Two-way marginal tables measured in the same Gaussian mechanism (`privacy.pair_marginals`;
    /// 0 without them): they raise the L2 sensitivity, and so every count's noise, to
    /// `z √(histograms + pair_tables)` (`marginals.rs`).
    #[serde(default)]
    pub pair_tables: usize,
}

/// `x` with `P(N(0, 1) > x) = p`, by bisection on `erfc`.
fn normal_upper_quantile(p: f64) -> f64 {
    let tail = |x: f64| 0.5 * libm::erfc(x / std::f64::consts::SQRT_2);
    let (mut lo, mut hi) = (-40.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// The log-scale grid of round 1: bin 0 holds |x| < 1e-4; then half-decades 1e-4 .. 1e19 on
/// each side of zero.
const GRID_LOW_EXP: f64 = -4.0;
const GRID_STEPS: usize = 46; // half-decades from 1e-4 to 1e19

fn grid_bin(x: f64) -> usize {
    let mag = x.abs();
    if mag < 10f64.powf(GRID_LOW_EXP) {
        return GRID_STEPS;
    }
    let step = (((mag.log10() - GRID_LOW_EXP) * 2.0).floor() as usize).min(GRID_STEPS - 1);
    if x < 0.0 {
        GRID_STEPS - 1 - step
    } else {
        GRID_STEPS + 1 + step
    }
}

fn grid_edges(bin: usize) -> (f64, f64) {
    let edge = |step: usize| 10f64.powf(GRID_LOW_EXP + step as f64 / 2.0);
    if bin == GRID_STEPS {
        (-edge(0), edge(0))
    } else if bin < GRID_STEPS {
        let step = GRID_STEPS - 1 - bin;
        (-edge(step + 1), -edge(step))
    } else {
        let step = bin - GRID_STEPS - 1;
        (edge(step), edge(step + 1))
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
/// and timestamps keep their calendar type); a discrete column with a public list is `Text`
/// (which holds the listed categories and the "other" label alike), or `Bool` when read as
/// booleans.
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
        // Decimal places, a datetime's text form and its resolution, learned from the rows,
        // are private; only the metadata may set the first two.
        column.decimals = match column.value_type {
            ValueType::Float => public.and_then(|p| p.decimals),
            _ => None,
        };
        column.resolution = None;
        if let ValueType::Datetime { format, .. } = &mut column.value_type {
            *format = public.and_then(|p| p.format.clone());
        }
    }
    schema
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

/// Fits the transformer from noisy histograms of `table` and clips the table's continuous
/// columns to the released bounds. Errors name the columns that need public metadata when
/// discovery is off or unaffordable.
pub fn fit_private_transformer(
    table: &mut Table,
    schema: &Schema,
    settings: &PreprocessSettings,
    rng: &mut DpRng,
) -> Result<(DataTransformer, PreprocessLedger)> {
    let privacy = settings.privacy;
    let n_rows = table.n_rows() as f64;
    for (name, public) in &privacy.columns {
        let Some(cs) = schema.columns.iter().find(|c| &c.name == name) else {
            let known: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::config(
                "privacy.columns",
                format!(
                    "key 'privacy.columns.{name}' names a column that is not in the table; its columns are: {}",
                    known.join(", ")
                ),
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
        histograms: 0,
        threshold: 0.0,
        discovered_categories: Vec::new(),
        estimated_bounds: Vec::new(),
        public_categories: Vec::new(),
        public_bounds: Vec::new(),
        continuous_bins: 0,
        pair_tables: 0,
    };
    let plans: Vec<Plan> = schema
        .columns
        .iter()
        .zip(&table.columns)
        .map(|(cs, col)| {
            let public = privacy.columns.get(&cs.name);
            match cs.kind {
                ColumnKind::Discrete => {
                    let categories = match (&col.values, public.and_then(|p| p.categories.clone()))
                    {
                        (_, Some(list)) => Some(list),
                        (Values::Bool(_), None) => Some(vec!["false".into(), "true".into()]),
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
            "{why}; {} column(s) have none: {}.\nAdd these lines to the config, with values taken from documentation, not from the rows:\n{}\n(or set privacy.discover = true to discover them under DP, charged to the budget)",
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
        ledger.pair_tables = super::marginals::pair_count(plans.len());
    }
    // One row adds one to one bin of every histogram (the bounds round, the main round) and
    // to one cell of every pair table measured later (`marginals.rs`).
    let count_noise_std = match settings.noise_multiplier {
        Some(z) => {
            z * ((ledger.estimated_bounds.len() + plans.len() + ledger.pair_tables) as f64).sqrt()
        }
        None => 0.0,
    };
    let discovering = ledger.discovered_categories.len().max(1) as f64;
    let threshold = match settings.noise_multiplier {
        // Every domain is public: nothing is thresholded.
        _ if nothing_to_discover => 0.0,
        Some(_) if settings.delta_threshold > 0.0 => {
            1.0 + count_noise_std * normal_upper_quantile(settings.delta_threshold / discovering)
        }
        Some(_) => {
            return Err(Error::Privacy(
                "no delta is reserved for thresholding; this plan cannot discover metadata".into(),
            ))
        }
        None => 0.0,
    };
    ledger.count_noise_std = count_noise_std;
    ledger.threshold = threshold;
    let measured = settings.noise_multiplier.is_some();
    let mut noisy = |counts: &mut [f64], rng: &mut DpRng| {
        if measured {
            let noise = rng.gaussian(counts.len(), count_noise_std);
            for (c, e) in counts.iter_mut().zip(noise) {
                *c += e;
            }
            ledger.histograms += 1;
        }
    };

    // Whether a column keeps a null slot: public `nullable`, or a noisy null count that clears
    // three noise deviations (post-processing of the released histogram).
    let keeps_null = |name: &str, noisy_nulls: f64| {
        privacy.columns.get(name).is_some_and(|p| p.nullable)
            || (measured && noisy_nulls > threshold.max(3.0 * count_noise_std))
    };
    let mixture = mixture_settings(settings.transform);
    let mut encoders = Vec::with_capacity(plans.len());
    for (plan, column) in plans.iter().zip(table.columns.iter_mut()) {
        let values = &mut column.values;
        let n = values.len();
        let encoder = match plan {
            Plan::Discrete { categories } => {
                let nulls = (0..n).filter(|&i| values.is_null(i)).count() as f64;
                let (mut kept, other) = match categories {
                    Some(list) => {
                        let index: HashMap<&str, usize> = list
                            .iter()
                            .enumerate()
                            .map(|(i, k)| (k.as_str(), i))
                            .collect();
                        // [categories..., other, null]
                        let mut counts = vec![0.0; list.len() + 2];
                        counts[list.len() + 1] = nulls;
                        for i in 0..n {
                            if let Some(k) = values.key(i) {
                                let slot = index.get(k.as_str()).copied().unwrap_or(list.len());
                                counts[slot] += 1.0;
                            }
                        }
                        if measured {
                            noisy(&mut counts, rng);
                        } else {
                            counts.fill(n_rows / (list.len() + 1) as f64);
                            counts[list.len() + 1] = 0.0;
                        }
                        let kept: Vec<(String, f64)> =
                            list.iter().cloned().zip(counts.iter().copied()).collect();
                        let other = counts[list.len()];
                        let null = counts[list.len() + 1];
                        (kept, (other, null))
                    }
                    None => {
                        let mut counts: HashMap<String, f64> = HashMap::new();
                        for i in 0..n {
                            if let Some(k) = values.key(i) {
                                *counts.entry(k).or_insert(0.0) += 1.0;
                            }
                        }
                        let mut keys: Vec<String> = counts.keys().cloned().collect();
                        keys.sort();
                        let mut measured_counts: Vec<f64> =
                            keys.iter().map(|k| counts[k]).collect();
                        measured_counts.push(nulls);
                        noisy(&mut measured_counts, rng);
                        let null = measured_counts.pop().expect("the null bucket is last");
                        // Only keys whose noisy count clears τ are released.
                        let mut kept: Vec<(String, f64)> = keys
                            .into_iter()
                            .zip(measured_counts)
                            .filter(|(_, c)| *c > threshold)
                            .collect();
                        kept.sort_by(|a, b| b.1.total_cmp(&a.1));
                        kept.truncate(settings.transform.max_categories.saturating_sub(1).max(1));
                        let kept_total: f64 = kept.iter().map(|(_, c)| c).sum();
                        // Everything else, estimated from released numbers and the public N.
                        let other = (n_rows - kept_total - null.max(0.0)).max(0.0);
                        (kept, (other, null))
                    }
                };
                let (other, null) = other;
                let mut slots: Vec<Slot> =
                    kept.iter().map(|(k, _)| Slot::Value(k.clone())).collect();
                let mut counts: Vec<f64> = kept.drain(..).map(|(_, c)| c.max(0.0)).collect();
                slots.push(Slot::Other);
                counts.push(other.max(0.0));
                // A null slot when the metadata says nullable, or the noisy null count clears
                // three noise deviations (post-processing); without one, the few nulls of the
                // column are encoded in the "other" slot, never as a listed category.
                if keeps_null(&column.name, null) {
                    slots.push(Slot::Null);
                    counts.push(if measured { null.max(0.0) } else { 0.0 });
                }
                Encoder::Discrete(DiscreteEncoder {
                    slots,
                    counts,
                    other_values: Vec::new(),
                    other_label: Some(privacy.other_label.clone()),
                })
            }
            Plan::Continuous { bounds } => {
                let (lo, hi) = match bounds {
                    Some(b) => *b,
                    None => {
                        let mut grid = vec![0.0; 2 * GRID_STEPS + 1];
                        for i in 0..n {
                            if let Some(x) = values.number(i) {
                                grid[grid_bin(x)] += 1.0;
                            }
                        }
                        noisy(&mut grid, rng);
                        let kept: Vec<usize> =
                            (0..grid.len()).filter(|&b| grid[b] > threshold).collect();
                        match (kept.first(), kept.last()) {
                            (Some(&first), Some(&last)) => (grid_edges(first).0, grid_edges(last).1),
                            _ => {
                                return Err(Error::Privacy(format!(
                                    "column '{}': too few rows to estimate its range under DP (no bin cleared the threshold {threshold:.1}); give [privacy.columns.{}] min and max",
                                    column.name, column.name
                                )))
                            }
                        }
                    }
                };
                values.clamp_numbers(lo, hi);
                // Fewer bins when the noise is large (rows / (3 noise deviations), so that
                // credit_data at epsilon 1 got 8) and spreading each bin's count over points
                // inside it were tried and made Adult at epsilon 1 worse (docs/quality.md).
                let bins = privacy.bins;
                ledger.continuous_bins = bins;
                let width = (hi - lo) / bins as f64;
                // [bins..., exactly lo, exactly hi, null]: values sitting on a bound (a
                // zero-inflated amount, a clipped tail) keep their spike instead of being
                // smeared over the first bin.
                let (at_lo, at_hi, null_bucket) = (bins, bins + 1, bins + 2);
                let mut counts = vec![0.0; bins + 3];
                for i in 0..n {
                    match values.number(i) {
                        Some(x) if x <= lo => counts[at_lo] += 1.0,
                        Some(x) if x >= hi => counts[at_hi] += 1.0,
                        Some(x) => counts[(((x - lo) / width) as usize).min(bins - 1)] += 1.0,
                        None => counts[null_bucket] += 1.0,
                    }
                }
                if measured {
                    noisy(&mut counts, rng);
                } else {
                    counts.fill(n_rows / bins as f64);
                    counts[at_lo] = 0.0;
                    counts[at_hi] = 0.0;
                    counts[null_bucket] = 0.0;
                }
                let null = counts[null_bucket];
                let mut body: Vec<f64> = counts[..bins].iter().map(|c| c.max(0.0)).collect();
                let (spike_lo, spike_hi) = (counts[at_lo].max(0.0), counts[at_hi].max(0.0));
                // Discovered bounds shrink to the outermost bins that clear τ (post-processing).
                let (mut first, mut last) = (0, bins - 1);
                if bounds.is_none() {
                    if let Some(f) = body.iter().position(|&c| c > threshold) {
                        first = f;
                        last = body.iter().rposition(|&c| c > threshold).unwrap_or(f);
                    }
                }
                let (new_lo, new_hi) = (lo + first as f64 * width, lo + (last + 1) as f64 * width);
                let centres: Vec<f64> = (first..=last)
                    .map(|b| new_lo + (b - first) as f64 * width + 0.5 * width)
                    .collect();
                body = body[first..=last].to_vec();
                let mut atoms = Vec::new();
                if first == 0 {
                    atoms.push((lo, spike_lo));
                }
                if last == bins - 1 {
                    atoms.push((hi, spike_hi));
                }
                let (lo, hi) = (new_lo, new_hi);
                values.clamp_numbers(lo, hi);
                // Bins whose noisy count is within two noise deviations of zero are mostly
                // noise: dropping them (post-processing) keeps the mixture from spreading mass
                // over empty ranges.
                let floor = 2.0 * count_noise_std;
                let kept: Vec<f64> = body
                    .iter()
                    .map(|&c| if c > floor { c } else { 0.0 })
                    .collect();
                for atom in &mut atoms {
                    if atom.1 <= floor {
                        atom.1 = 0.0;
                    }
                }
                let atoms_weight: f64 = atoms.iter().map(|a| a.1).sum();
                if kept.iter().sum::<f64>() > 0.0 || atoms_weight > 0.0 {
                    body = kept;
                } else if body.iter().sum::<f64>() <= 0.0 {
                    body.fill(1.0);
                }
                // A null indicator when the metadata says nullable, or the noisy null count
                // clears three noise deviations; without one, the column's few nulls are
                // encoded at the middle of its range.
                let has_null = keeps_null(&column.name, null);
                let null_share = if measured && has_null {
                    null.max(0.0) / n_rows
                } else {
                    0.0
                };
                Encoder::Continuous(ContinuousEncoder::from_weighted_points(
                    &centres,
                    &body,
                    &atoms,
                    (lo, hi),
                    null_share.min(1.0),
                    has_null,
                    mixture,
                ))
            }
        };
        encoders.push(encoder);
    }
    Ok((
        DataTransformer {
            schema: schema.clone(),
            encoders,
        },
        ledger,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_bins_contain_their_values() {
        for x in [
            -3.2e9, -250.0, -1.0, -1e-5, 0.0, 3e-5, 0.5, 17.0, 90.0, 1.7e18,
        ] {
            let (lo, hi) = grid_edges(grid_bin(x));
            assert!(lo <= x && x <= hi, "{x} not in [{lo}, {hi}]");
        }
    }

    #[test]
    fn weightless_bins_do_not_poison_the_mixture() {
        // Denoised histograms leave bins with zero weight far from the data.
        let settings = crate::transform::mixture_settings(&TransformConfig::default());
        let points = [0.0, 1.0, 2.0, 50.0, 99.0, 100.0];
        let weights = [900.0, 30.0, 0.0, 0.0, 0.0, 12.0];
        let enc = ContinuousEncoder::from_weighted_points(
            &points,
            &weights,
            &[],
            (0.0, 100.0),
            0.0,
            false,
            settings,
        );
        assert!(!enc.modes.is_empty());
        for m in &enc.modes {
            assert!(
                m.mean.is_finite() && m.std.is_finite() && m.weight.is_finite(),
                "{m:?}"
            );
        }
    }

    #[test]
    fn upper_quantile_matches_known_values() {
        assert!((normal_upper_quantile(0.025) - 1.959964).abs() < 1e-5);
        assert!((normal_upper_quantile(1e-7) - 5.199338).abs() < 1e-5);
    }
}
