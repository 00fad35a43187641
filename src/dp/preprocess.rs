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

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::bounds;
use super::noise::DpRng;
use super::tail;
use crate::config::{PrivacyConfig, StorageType, TransformConfig};
use crate::error::{Error, Result};
use crate::lattice;
use crate::read::{Table, Values};
use crate::schema::{ColumnKind, Schema};
use crate::transform::continuous::Trim;
use crate::transform::gmm::MixtureSettings;
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
    /// Float columns whose own values were measured, in the slot a narrowing would use, by a
    /// thresholded histogram (a value held by one row is released with probability at most
    /// its share of `δ_threshold`): coded values off any lattice (`fit_private_transformer`,
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
    /// Slots for the per-state score sums of discrete-continuous edges reserved in the same
    /// mechanism (`privacy.copula`; `dp::copula::measure_shifts`): each edge's vector has
    /// sensitivity 1, like a count table.
    #[serde(default)]
    pub shift_slots: usize,
    /// Pairs chosen after the tree (`privacy.extra_pairs`), part of `selection_rounds` and
    /// `pair_tables`.
    #[serde(default)]
    pub extra_pairs: usize,
    /// Rounds of the tree's pair selection (`privacy.pair_selection`; 0: every pair).
    #[serde(default)]
    pub selection_rounds: usize,
    /// ε of each selection round's exponential mechanism.
    #[serde(default)]
    pub selection_epsilon: f64,
    /// The pairs a tree selection chose (`marginals::select_tree`: an output of the
    /// exponential mechanism, so public), as column names; empty when every pair is measured.
    #[serde(default)]
    pub selected_pairs: Vec<(String, String)>,
}

/// A continuous column whose values sit in at most this share of its estimated range gets a
/// second histogram over that part (`narrowed`).
pub const NARROW_SPAN: f64 = 0.125;

/// The part of `range` that a column's values sit in, when it is at most [`NARROW_SPAN`] of it
/// ([`loud_part`] over even bins) and holds all but [`NARROW_OUTSIDE`] of the rows by the
/// noisy counts (`rows` is the public row count), with two noise deviations of slack for a
/// part of fewer than [`NARROW_SLACK_BINS`] bins clear of both bounds. Post-processing.
fn narrowed(
    counts: &[f64],
    std: f64,
    rows: f64,
    range: (f64, f64),
    integer: bool,
) -> Option<(f64, f64)> {
    let bins = counts.len().checked_sub(3)?;
    let (lo, hi) = range;
    let part = loud_part(
        counts,
        std,
        rows,
        &even_edges(range, bins),
        integer,
        bounds::STRONG,
        false,
    )?;
    // A spread-out column whose bins each sit near the noise must not be narrowed to its few
    // loud bins. Where the part is a few bins ([`NARROW_SLACK_BINS`]) clear of both bounds (a
    // year, a date or a timestamp in the middle of its log-scale range), two deviations of the
    // estimate's noise are allowed on top: without them a 3,000-row table's timestamps, all in
    // one bin of a 160-year range, failed to narrow two runs in seven on noise alone. A part at
    // a bound is how a heavy tail looks (its thin tail spread over the rest), so there the 1%
    // stands alone: with the allowance a log-normal amount (sigma 3) was narrowed so that 7%
    // of its rows were clipped.
    let clear =
        part.first > 0 && part.last + 1 < bins && part.last - part.first < NARROW_SLACK_BINS;
    let allowance = if clear { 2.0 * part.outside_std } else { 0.0 };
    let narrow = part.hi - part.lo <= NARROW_SPAN * (hi - lo)
        && part.hi > part.lo
        && part.outside <= NARROW_OUTSIDE * rows + allowance;
    narrow.then_some((part.lo, part.hi))
}

/// Deviations a bin's noisy count must clear to seed the part of an estimated range that a
/// column is sampled in (`loud_part`): the narrowing's [`bounds::STRONG`]. Seeds at three
/// deviations kept Chile's income brackets beyond a gap (125,000 and 200,000), but a pure-noise
/// bin clears three 0.13% of the time, and over 50 empty bins per side and 8 columns some
/// column of most tables had its part opened to a far bin: the sampled values of six public
/// tables reached up to 3.5 ranges beyond the real one (docs/quality.md).
pub const TRIM_SEED: f64 = bounds::STRONG;

/// `bins + 1` even edges from `lo` to `hi`.
fn even_edges((lo, hi): (f64, f64), bins: usize) -> Vec<f64> {
    let width = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|b| lo + b as f64 * width).collect();
    edges[bins] = hi;
    edges
}

/// The body bin of a value `x` strictly inside `(lo, hi)`, as the histograms place it: over
/// `edges` when given, else over `bins` even bins of `width` from `lo`.
fn body_bin(x: f64, lo: f64, width: f64, bins: usize, edges: Option<&[f64]>) -> usize {
    let bin = match edges {
        Some(e) => e.partition_point(|&edge| edge <= x).max(1) - 1,
        None => ((x - lo) / width) as usize,
    };
    bin.min(bins - 1)
}

/// Most integers a range may hold for [`live_bins`] to look for the bins without one.
const LIVE_INTEGERS: f64 = 4096.0;

/// Which bins over `edges` can hold a row: for an integer column of a short range (at most
/// [`LIVE_INTEGERS`] integers), the bins an integer strictly between the bounds falls in
/// (values at a bound have their own counts), placed as the histogram places a value: by
/// division for even edges ([`even_edges`]), by the edges otherwise; every bin for other
/// columns. The storage type is public or was decided under DP: post-processing.
fn live_bins(edges: &[f64], integer: bool) -> Vec<bool> {
    let bins = edges.len().saturating_sub(1);
    let (lo, hi) = (edges[0], edges[bins]);
    if !integer || !(hi - lo).is_finite() || hi - lo > LIVE_INTEGERS || bins == 0 {
        return vec![true; bins];
    }
    let even = edges == even_edges((lo, hi), bins).as_slice();
    let width = (hi - lo) / bins as f64;
    let mut live = vec![false; bins];
    let mut k = lo.floor() + 1.0;
    while k < hi {
        live[body_bin(k, lo, width, bins, (!even).then_some(edges))] = true;
        k += 1.0;
    }
    live
}

/// The bins of a histogram its rows sit in ([`loud_part`]).
#[derive(Debug, Clone, PartialEq)]
struct LoudPart {
    /// First and last body bin of the part.
    first: usize,
    last: usize,
    /// Runs of bins `(first, last)` at the part's ends that joined it together (a thin tail,
    /// each bin below the noise, whose sum clears [`BLOCK_DEVIATIONS`]): their noisy sum is
    /// what the mixture sees there, spread over the run's bins that can hold a value.
    blocks: Vec<(usize, usize)>,
    /// The part's bounds (a bin edge, or the range's bound when its spike is loud; whole
    /// numbers for an integer column).
    lo: f64,
    hi: f64,
    /// The rows outside the part, estimated from the public row count minus the noisy counts
    /// inside it, at the bounds and null, and that estimate's noise std.
    outside: f64,
    outside_std: f64,
}

/// The part of a histogram over `edges` that a column's values sit in. `counts` is the noisy
/// histogram `[bins..., at lo, at hi, null]` with noise std `std` and `rows` the public row
/// count. As for the bounds (`bounds.rs`), the body bins above `seed` deviations (the outermost
/// of them) span the part and it grows over neighbours above [`bounds::WEAK`] deviations (an
/// isolated bin of noise cannot widen it), and a bound whose spike clears `seed` stays. With
/// `runs` (the part a column is sampled in), it then grows over thin runs of bins as well
/// ([`grow_by_blocks`]); not for the narrowing, whose part must stay a few bins (a run of noise
/// beside a year's one bin would stop its second histogram). Rounded outward to whole numbers
/// for an integer column. Post-processing.
fn loud_part(
    counts: &[f64],
    std: f64,
    rows: f64,
    edges: &[f64],
    integer: bool,
    seed: f64,
    runs: bool,
) -> Option<LoudPart> {
    let bins = counts.len().checked_sub(3)?;
    if edges.len() != bins + 1 {
        return None;
    }
    let (lo, hi) = (edges[0], edges[bins]);
    let body = &counts[..bins];
    // An integer column's bins narrower than one integer hold no row unless they hold an
    // integer: the others are pure noise, skipped here. The part grows over the next bin
    // that holds one, and its noise is summed over those bins only. Without this a rating of
    // 1-6 on [1, 7] (64 bins, 10 of 11 empty) lost its 6s (9% of the rows, below the seed
    // level and seven empty bins from the 5s), and the 1% check, its noise summed over 46
    // bins, let them go.
    let live = live_bins(edges, integer);
    let strong = |i: usize| live[i] && body[i] > seed * std;
    let weak_count = |c: f64| c > bounds::WEAK * std;
    let weak = |i: usize| weak_count(body[i]);
    let first = (0..bins).find(|&i| strong(i))?;
    let last = (0..bins).rev().find(|&i| strong(i))?;
    let (first, last) = bounds::grow((first, last), bins, |i| live[i], weak);
    let (first, last, blocks) = if runs {
        grow_by_blocks((first, last), body, &live, std)
    } else {
        (first, last, Vec::new())
    };
    let mut new_lo = edges[first];
    let mut new_hi = edges[last + 1].min(hi);
    // A bound's spike joins the part when loud, or when the part has grown to the bin next
    // to it and the spike clears the neighbours' level (a rating's 1s at the lower bound,
    // 3% of the rows, were left out of the mixture).
    let reached_lo = !(0..first).any(|i| live[i]);
    let reached_hi = !(last + 1..bins).any(|i| live[i]);
    if counts[bins] > seed * std || (reached_lo && weak_count(counts[bins])) {
        new_lo = lo;
    }
    if counts[bins + 1] > seed * std || (reached_hi && weak_count(counts[bins + 1])) {
        new_hi = hi;
    }
    if integer {
        (new_lo, new_hi) = (new_lo.floor().max(lo), new_hi.ceil().min(hi));
    }
    let inside_bins = (first..=last).filter(|&i| live[i]);
    let inside: f64 =
        inside_bins.clone().map(|i| body[i]).sum::<f64>() + counts[bins..].iter().sum::<f64>();
    let terms = (inside_bins.count() + counts.len() - bins) as f64;
    Some(LoudPart {
        first,
        last,
        blocks,
        lo: new_lo,
        hi: new_hi,
        outside: rows - inside,
        outside_std: std * terms.sqrt(),
    })
}

/// Deviations of its summed noise (`std · √k` over `k` bins) a run of bins next to a loud part
/// must clear to join it ([`grow_by_blocks`]). A pure-noise run clears 2.5 deviations 0.6% of
/// the time, and four run lengths are tried at each end.
pub const BLOCK_DEVIATIONS: f64 = 2.5;

/// Run lengths (in bins that can hold a value) tried beyond each end of a loud part.
const BLOCK_LENGTHS: [usize; 4] = [2, 4, 8, 16];

/// The span `(first, last)` grown outward over runs of 2, 4, 8 or 16 neighbouring live bins
/// whose noisy counts sum above [`BLOCK_DEVIATIONS`] deviations of the sum's noise, shortest
/// first, as long as one does; with the runs that joined. A skewed amount's tail is spread
/// thin: credit_data's loan amounts above 1,710 (6% of 3,563 rows) sit in bins of 13, 50, 32
/// and 58 rows under noise of std 28, none of them two deviations, so the part stopped at the
/// 94th percentile and every larger loan was sampled at 1,620-1,710 (KS 0.11, the amount-price
/// correlation 0.51 against 0.72); the four bins' sum is 2.7 deviations of its noise.
/// Post-processing of the same counts.
fn grow_by_blocks(
    (mut first, mut last): (usize, usize),
    body: &[f64],
    live: &[bool],
    std: f64,
) -> (usize, usize, Vec<(usize, usize)>) {
    let bins = body.len();
    let mut blocks = Vec::new();
    let clears = |run: &[usize]| {
        let sum: f64 = run.iter().map(|&b| body[b]).sum();
        sum > BLOCK_DEVIATIONS * std * (run.len() as f64).sqrt()
    };
    loop {
        let below: Vec<usize> = (0..first).rev().filter(|&b| live[b]).collect();
        let above: Vec<usize> = (last + 1..bins).filter(|&b| live[b]).collect();
        let joined_below = BLOCK_LENGTHS
            .iter()
            .filter(|&&k| k <= below.len())
            .find(|&&k| clears(&below[..k]))
            .map(|&k| below[k - 1]);
        let joined_above = BLOCK_LENGTHS
            .iter()
            .filter(|&&k| k <= above.len())
            .find(|&&k| clears(&above[..k]))
            .map(|&k| above[k - 1]);
        if let Some(b) = joined_below {
            blocks.push((b, first - 1));
            first = b;
        }
        if let Some(b) = joined_above {
            blocks.push((last + 1, b));
            last = b;
        }
        if joined_below.is_none() && joined_above.is_none() {
            return (first, last, blocks);
        }
    }
}

/// Most integers a narrowed integer column's range may hold for its bins to be spread over
/// its integers and its sampled values kept to the supported ones.
pub const SPREAD_INTEGERS: f64 = 1024.0;

/// Widest stretch (in integers) of loud bins for a narrowed integer column to be spread over
/// its integers and kept to them: a year column of a few values, not one of sixty.
pub const SPREAD_SPAN: f64 = 16.0;

/// Each bin's weight (bins `width` wide from `lo`) spread evenly over the integers inside it:
/// the points and weights a mixture is fitted on. A bin without an integer keeps its middle.
fn spread_over_integers(lo: f64, width: f64, body: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut points, mut weights) = (Vec::new(), Vec::new());
    for (b, &w) in body.iter().enumerate() {
        let (from, to) = (lo + b as f64 * width, lo + (b + 1) as f64 * width);
        let mut k = from.ceil();
        let first = points.len();
        while k < to || (b + 1 == body.len() && k <= to) {
            points.push(k);
            k += 1.0;
        }
        if points.len() == first {
            points.push((from + to) / 2.0);
        }
        let share = w / (points.len() - first) as f64;
        weights.extend(std::iter::repeat_n(share, points.len() - first));
    }
    (points, weights)
}

/// The integers of `[lo, hi]` the noisy counts give evidence for. `counts` holds the noisy
/// counts of the bins of the column's part and those exactly at each bound (zero outside the
/// part), with noise std `std`. The integers above [`bounds::STRONG`] deviations span a core
/// (above three where none is that loud); it grows over neighbours above three deviations,
/// then by one neighbour above two ([`bounds::WEAK`]), and keeps every integer in it above
/// two. A rating's 1s or 6s (3% of 2,800 rows, near three deviations) were sampled as 2s or
/// 5s in one run of four per column when three deviations alone decided; pure noise clears
/// three 0.13% of the time and two 2.3%, so an integer far from the core needs a chain of
/// such counts (a 1-6 rating's support reached 8 over noise counts of 28 and 35, std 10.9,
/// when any integer above three counted), and a 0/1 flag's 3 stays out. With `anywhere` (the
/// column has no loud part that holds its rows: values beyond a gap, as Fair's years of
/// education 12, 14, 16, 17, 18 and 20 of 601 rows) every integer above three deviations
/// seeds the core.
/// Meant for a range of fewer integers than bins, where each integer has a bin of its own, so
/// an integer without weight is one the noisy counts give no evidence for (a 0/1 flag's 2 and
/// 3 in its log-scale range [0, 5]). Post-processing of the noisy histogram.
fn integer_support(range: (f64, f64), counts: &Evidence, std: f64, anywhere: bool) -> Vec<f64> {
    let (lo, hi) = range;
    let (first, last) = (lo.ceil(), hi.floor());
    let above = |k: f64, level: f64| counts.weight(range, k) > level * std;
    let (quiet, loud) = (|k| above(k, bounds::WEAK), |k| above(k, 3.0));
    let integers = || (0..).map(|i| first + i as f64).take_while(|&k| k <= last);
    let seeds: Vec<f64> = integers().filter(|&k| above(k, bounds::STRONG)).collect();
    let seeds = if seeds.is_empty() || anywhere {
        integers().filter(|&k| loud(k)).collect()
    } else {
        seeds
    };
    let (Some(&a), Some(&z)) = (seeds.first(), seeds.last()) else {
        return Vec::new();
    };
    let (mut a, mut z) = (a, z);
    while a - 1.0 >= first && loud(a - 1.0) {
        a -= 1.0;
    }
    if a - 1.0 >= first && quiet(a - 1.0) {
        a -= 1.0;
    }
    while z + 1.0 <= last && loud(z + 1.0) {
        z += 1.0;
    }
    if z + 1.0 <= last && quiet(z + 1.0) {
        z += 1.0;
    }
    integers()
        .filter(|&k| k >= a && k <= z && quiet(k))
        .collect()
}

/// A short integer column's noisy histogram counts for [`integer_support`]: the bins between
/// the bounds and the counts exactly at each bound.
struct Evidence {
    body: Vec<f64>,
    at_lo: f64,
    at_hi: f64,
}

impl Evidence {
    /// The count of the bin (or bound) integer `k` falls in.
    fn weight(&self, range: (f64, f64), k: f64) -> f64 {
        match self.place(range, k) {
            Place::Lo => self.at_lo,
            Place::Hi => self.at_hi,
            Place::Bin(b) => self.body[b],
        }
    }

    /// Where integer `k`'s count is: at a bound, or in a bin.
    fn place(&self, (lo, hi): (f64, f64), k: f64) -> Place {
        let width = (hi - lo) / self.body.len() as f64;
        match k {
            _ if k == lo => Place::Lo,
            _ if k == hi => Place::Hi,
            _ => Place::Bin(body_bin(k, lo, width, self.body.len(), None)),
        }
    }

    /// The share of rows of each of `support` (sorted integers) as cumulative shares: each
    /// count (clipped at zero) split evenly over the supported integers that share its bin.
    fn cumulative_shares(&self, range: (f64, f64), support: &[f64]) -> Vec<f64> {
        let slots: Vec<Place> = support.iter().map(|&k| self.place(range, k)).collect();
        let weighted: Vec<(f64, f64)> = support
            .iter()
            .zip(&slots)
            .map(|(&k, slot)| {
                let sharing = slots.iter().filter(|s| *s == slot).count() as f64;
                (k, self.weight(range, k).max(0.0) / sharing)
            })
            .collect();
        cumulative_shares(&weighted)
    }
}

/// Where a short integer column's integer has its count ([`Evidence::place`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    Lo,
    Hi,
    Bin(usize),
}

/// Edges of bins even in log scale over `range`, for a column whose noisy histogram over even
/// bins (`counts`: `[bins..., at lo, at hi, null]`, noise std `std`) holds more than half of
/// its body in the first bin, clearly above the noise, and spans at least
/// [`LOG_SCALE_DECADES`] decades: `bins + 1` edges from `lo` to `hi`, geometric from `lo`
/// (from `hi` / 10^5 after a first bin `[0, hi / 10^5]` when `lo` is 0). `None` otherwise, or
/// for a range below zero. Post-processing.
fn log_scale_edges(counts: &[f64], std: f64, range: (f64, f64)) -> Option<Vec<f64>> {
    let bins = counts.len().checked_sub(3)?;
    let (lo, hi) = range;
    let body: f64 = counts[..bins].iter().map(|&c| c.max(0.0)).sum();
    if lo < 0.0 && hi > 0.0 {
        return symmetric_log_edges(counts, std, range, body);
    }
    let first = counts[0];
    let start = if lo > 0.0 { lo } else { hi * 1e-5 };
    let heavy = lo >= 0.0
        && hi / start >= 10f64.powf(LOG_SCALE_DECADES)
        && first > bounds::STRONG * std
        && first > 0.5 * body;
    if !heavy || bins < 2 {
        return None;
    }
    let mut edges = Vec::with_capacity(bins + 1);
    if lo > 0.0 {
        edges.extend((0..=bins).map(|i| lo * (hi / lo).powf(i as f64 / bins as f64)));
    } else {
        edges.push(lo);
        let steps = (bins - 1) as f64;
        edges.extend((0..bins).map(|i| start * (hi / start).powf(i as f64 / steps)));
    }
    edges[bins] = hi;
    Some(edges)
}

/// Edges even in log scale on both sides of zero, for a range across zero whose even bin
/// holding zero holds more than [`SIGNED_LOG_SHARE`] of the body, clearly above the noise (a
/// profit of -25.8 to 21 with 80% of its rows within 1 of zero, on [-56, 56]: bins of 1.75
/// merged them, and a bin across zero blurs the sign): a core bin `[-c, c]` with `c` = 10^-5
/// of the larger bound (at most half the smaller), and the other bins split between the sides
/// by their decades, geometric from each bound down to `c`. `None` otherwise.
/// Post-processing.
fn symmetric_log_edges(
    counts: &[f64],
    std: f64,
    (lo, hi): (f64, f64),
    body: f64,
) -> Option<Vec<f64>> {
    let bins = counts.len().checked_sub(3)?;
    if bins < 4 {
        return None;
    }
    let width = (hi - lo) / bins as f64;
    let zero = counts[body_bin(0.0, lo, width, bins, None)];
    let sides = lo.abs().min(hi) / lo.abs().max(hi);
    if zero <= bounds::STRONG * std || zero <= SIGNED_LOG_SHARE * body || sides < SIGNED_LOG_SIDES {
        return None;
    }
    // Below both bounds (a range of [-5, 562,341] has its core at [-2.5, 2.5]).
    let c = (lo.abs().max(hi) * 1e-5).min(0.5 * lo.abs().min(hi));
    let (below, above) = ((-lo / c).ln().max(0.0), (hi / c).ln().max(0.0));
    let n_neg = (((bins - 1) as f64 * below / (below + above)).round() as usize).clamp(1, bins - 2);
    let n_pos = bins - 1 - n_neg;
    let mut edges: Vec<f64> = (0..=n_neg)
        .map(|i| lo * (c / -lo).powf(i as f64 / n_neg as f64))
        .collect();
    edges.extend((0..=n_pos).map(|j| c * (hi / c).powf(j as f64 / n_pos as f64)));
    edges[0] = lo;
    edges[bins] = hi;
    Some(edges)
}

/// Share of the body the even bin holding zero must hold for a range across zero to be
/// binned in log scale on both sides ([`symmetric_log_edges`]): a spread column centred on
/// zero (a change of N(0, 1) on [-5.6, 5.6]) holds 7% there, Forbes2000's profits 40-65%.
pub const SIGNED_LOG_SHARE: f64 = 0.25;

/// The smaller side of a range across zero, as a share of the larger, below which it is not
/// binned in log scale on both sides ([`symmetric_log_edges`]): a zero-inflated code whose
/// support grew over a bin of noise just below zero (MedExp's `lc` on [-5.6e-8, 17.8]) lost
/// its zeros' spike at the bound and the slot its four codes were measured in.
pub const SIGNED_LOG_SIDES: f64 = 1e-3;

/// Decades a column's range must span for [`log_scale_edges`] to bin it in log scale.
pub const LOG_SCALE_DECADES: f64 = 3.0;

/// Share of a short integer column's noisy count its supported integers must hold for the
/// column to be sampled on them alone (`integer_support`).
pub const SUPPORT_SHARE: f64 = 0.9;

/// Most points (multiples of a column's grain in its loud part) a point histogram is
/// measured over (`loud_points`): a point of pure noise clears [`bounds::STRONG`]
/// deviations 3.4e-6 of the time, so about one column in eighteen at this size gains one
/// point, at the weight of its noisy count. (At 4,096, Chile's town sizes on a lattice of
/// 50 over [1,779, 264,543] were out of reach in one run of two.)
pub const POINTS_MAX: f64 = 16384.0;

/// Share of the present rows a column's loud points must hold for them to become exact
/// modes, the rest of the rows staying with the body's modes (`loud_points`). At half, a
/// spread-out score of 28 integers (nlschools' `GS`, 2,287 rows) had seven loud points
/// holding 53% and its other third of rows squeezed into three body modes: three of its
/// values were lost.
pub const POINTS_SHARE: f64 = 0.75;

/// Share of the present rows inside the bounds a float column's released values must hold
/// for them to become exact modes (`keys_measured`): such values are codes (a log of a few
/// family sizes, a disease score of 31 values), and where they hold half the rows the rest,
/// off any code the threshold released, is lost to a continuum either way.
pub const KEYS_SHARE: f64 = 0.5;

/// Body modes left beside the exact modes of a column's loud points: with more points than
/// `max_modes` less this, only a column whose points hold [`SUPPORT_SHARE`] of its rows is
/// put on them (snapped), its mixture unchanged.
pub const POINT_BODY_MODES: usize = 3;

/// The points of a column's grain (`grain`, written with `places` decimals) whose noisy count
/// (`points[j]` for the `j`-th point from `first`, noise std `std`) clears
/// [`bounds::STRONG`] deviations, with those counts. Post-processing.
fn loud_points(points: &[f64], first: f64, grain: f64, places: u32, std: f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > bounds::STRONG * std)
        .map(|(j, &c)| {
            (
                crate::schema::round_to((first + j as f64) * grain, places),
                c,
            )
        })
        .collect()
}

/// Most points a column's loud part may hold for its mixture to be fitted on every one of
/// them and its values snapped onto them (`spread_rest`), where its chosen points hold
/// [`DENSE_SHARE`] of the rows.
pub const DENSE_POINTS_MAX: usize = 64;

/// Share of the present rows a column's chosen points must hold for its mixture to be fitted
/// on all its points ([`DENSE_POINTS_MAX`]). A spread score of 48 integers (nlschools' `lang`,
/// 2,287 rows, no point above 4.5 deviations) holds 30-40% and keeps its mixture.
pub const DENSE_SHARE: f64 = 0.5;

/// A bin's `rest` (its noisy count less its chosen points' counts) spread over its other
/// points in proportion to their noisy counts (noise std `std`) less one deviation, so that a
/// point of pure noise takes about 0.08 deviations on average; all of it to the loudest where
/// none clears one deviation. Post-processing.
fn spread_rest(rest: f64, counts: &[f64], std: f64) -> Vec<f64> {
    let soft: Vec<f64> = counts.iter().map(|&c| (c - std).max(0.0)).collect();
    let total: f64 = soft.iter().sum();
    if total > 0.0 {
        return soft.iter().map(|&s| rest * s / total).collect();
    }
    let loudest = (0..counts.len()).max_by(|&i, &j| counts[i].total_cmp(&counts[j]));
    (0..counts.len())
        .map(|i| if Some(i) == loudest { rest } else { 0.0 })
        .collect()
}

/// The cumulative shares of `points` (value, weight; sorted by value, weights clipped at
/// zero), the last exactly 1: [`ContinuousEncoder::support_shares`]. Empty when no weight.
fn cumulative_shares(points: &[(f64, f64)]) -> Vec<f64> {
    let total: f64 = points.iter().map(|p| p.1.max(0.0)).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    let mut sum = 0.0;
    let mut shares: Vec<f64> = points
        .iter()
        .map(|p| {
            sum += p.1.max(0.0);
            sum / total
        })
        .collect();
    if let Some(last) = shares.last_mut() {
        *last = 1.0;
    }
    shares
}

/// Each even body bin's noisy count less the counts of the points `(value, count)` inside
/// the range that fall in it (at least 0), and how many such points each bin holds: what is
/// left for a column's body modes once its points are exact modes.
fn rest_beyond(
    bin_body: &[f64],
    points: &[(f64, f64)],
    (lo, hi): (f64, f64),
    width: f64,
) -> (Vec<f64>, Vec<usize>) {
    let bins = bin_body.len();
    let mut rest = bin_body.to_vec();
    let mut taken = vec![0usize; bins];
    for &(p, c) in points {
        if p > lo && p < hi {
            let b = body_bin(p, lo, width, bins, None);
            rest[b] = (rest[b] - c).max(0.0);
            taken[b] += 1;
        }
    }
    (rest, taken)
}

/// `rest` where it clears three deviations of its noise (variance `var`), else 0.
fn clear_quiet(rest: f64, var: f64) -> f64 {
    if rest <= 3.0 * var.sqrt() {
        0.0
    } else {
        rest
    }
}

/// The chance that pure noise clears three deviations, `P(N(0, 1) > 3)`: the chance a bin's
/// candidate points may add a point of noise (`loud_points`' confirmed points).
pub const THREE_SIGMA_TAIL: f64 = 0.001_349_898;

/// Points a bin may hold for its confirmed points to need only three deviations
/// ([`THREE_SIGMA_TAIL`]); a bin of more needs more, in proportion.
pub const FREE_CANDIDATES: f64 = 8.0;

/// Most integers a narrowed integer column's part may span for its second histogram to count
/// each integer (the bins being their sums) rather than 64 even bins.
pub const NARROW_POINTS_MAX: f64 = 256.0;

/// Largest share of rows a narrowed range may leave outside, by the noisy estimate.
pub const NARROW_OUTSIDE: f64 = 0.01;

/// Parts of fewer bins than this, clear of both bounds, get two noise deviations of slack
/// on the rows they leave outside (`narrowed`). It was 2: a date column of four years (3,000
/// rows) sits in three bins of its [1985, 2124] log-scale range and was narrowed in only some
/// runs, so its dates were sampled over 140 years.
pub const NARROW_SLACK_BINS: usize = 4;

/// `x` with `P(N(0, 1) > x) = p`, by bisection on `erfc`.
pub(crate) fn normal_upper_quantile(p: f64) -> f64 {
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

/// Refits `encoder`'s modes with each of `chosen` (value, noisy count) and each of `atoms` (a
/// bound's spike) an exact mode, and body modes over the bins' middles `centres` for each
/// bin's `rest` (its count beyond its chosen points): a column whose rows sit on a few points.
/// Where no bin has a rest, values are sampled on the points alone. Post-processing.
#[allow(clippy::too_many_arguments)]
fn refit_on_points(
    encoder: &mut ContinuousEncoder,
    centres: &[f64],
    rest: &[f64],
    chosen: &[(f64, f64)],
    atoms: &[(f64, f64)],
    range: (f64, f64),
    width: f64,
    mixture: MixtureSettings,
) {
    let mut exact = chosen.to_vec();
    exact.extend(atoms.iter().filter(|a| !chosen.iter().any(|p| p.0 == a.0)));
    let mut refit = ContinuousEncoder::from_weighted_points(
        centres,
        rest,
        &exact,
        range,
        encoder.null_rate,
        encoder.has_null,
        mixture,
    );
    widen_modes_by_bins(&mut refit, width, None);
    encoder.modes = refit.modes;
    // Every row on the points: sampled on them alone. (A support an earlier rule set is
    // replaced: the modes are new.)
    encoder.support.clear();
    encoder.support_shares.clear();
    if rest.iter().all(|&r| r <= 0.0) {
        encoder.support = exact.iter().filter(|p| p.1 > 0.0).map(|p| p.0).collect();
        encoder.support.sort_by(f64::total_cmp);
    }
}

/// Adds to each non-exact mode of `encoder` the variance of a uniform distribution over the
/// width of the histogram bin its mean falls in (even bins of `width`, or the log bins between
/// `edges`): the mixture was fitted on one point per bin, and a bin's rows are spread over it
/// (the reverse of Sheppard's correction). Post-processing of noisy counts.
fn widen_modes_by_bins(encoder: &mut ContinuousEncoder, width: f64, edges: Option<&[f64]>) {
    for mode in encoder.modes.iter_mut().filter(|m| !m.exact) {
        let bin_width = match edges {
            Some(e) if e.len() >= 2 => {
                let b = e.partition_point(|&x| x <= mode.mean).clamp(1, e.len() - 1);
                e[b] - e[b - 1]
            }
            _ => width,
        };
        if bin_width.is_finite() && bin_width > 0.0 {
            mode.std = (mode.std * mode.std + bin_width * bin_width / 12.0).sqrt();
        }
    }
}

/// A date or timestamp column's histogram of steps, each value counted in its
/// [`crate::read::datetime::step_class`] (first or last of a year or a month, midnight,
/// hour, minute, second, finer), and the column's time unit (`None` for dates). To be noised as one slot
/// of the bounds group, then read by [`set_step`].
fn step_histogram(values: &Values) -> (Vec<f64>, Option<String>) {
    use crate::read::datetime::{step_class, STEP_CLASSES};
    let mut classes = vec![0.0; STEP_CLASSES];
    let unit = match values {
        Values::Date(v) => {
            for &d in v.iter().flatten() {
                classes[step_class(d as i64, None)] += 1.0;
            }
            None
        }
        Values::Datetime {
            values: v, unit, ..
        } => {
            for &x in v.iter().flatten() {
                classes[step_class(x, Some(unit))] += 1.0;
            }
            Some(unit.clone())
        }
        _ => None,
    };
    (classes, unit)
}

/// From a noisy step histogram ([`step_histogram`], noise std `std`) and the public row count
/// `rows`: the coarsest step of [`crate::read::datetime::STEPS`] outside which the counts are
/// few ([`bounds::few_outside`]: 1% of the rows plus three deviations), and inside which they
/// clear three deviations, sets the column's
/// calendar step and the fixed step sampled values are rounded to (post-processing). The
/// ledger lists it among the storage types decided under DP.
fn set_step(
    noisy: &[f64],
    unit: Option<&str>,
    cs: &mut crate::schema::ColumnSchema,
    ledger: &mut PreprocessLedger,
    std: f64,
    rows: f64,
) {
    use crate::read::datetime::STEPS;
    let step = STEPS
        .iter()
        .find(|step| {
            let (inside, outside): (Vec<usize>, Vec<usize>) =
                (0..noisy.len()).partition(|c| step.covers.contains(c));
            let held: f64 = inside.iter().map(|&c| noisy[c]).sum();
            let outside: Vec<f64> = outside.iter().map(|&c| noisy[c]).collect();
            // A step is taken only where its own values clear the noise, so that on a table
            // too small for the noise no step is taken rather than the coarsest one.
            held > 3.0 * std * (inside.len() as f64).sqrt()
                && bounds::few_outside(&outside, std, rows)
        })
        .unwrap_or(&STEPS[STEPS.len() - 1]);
    cs.calendar = step.calendar;
    cs.resolution = step.in_unit(unit);
    ledger
        .typed_under_dp
        .push(format!("{}: {}", super::ledger::shown(&cs.name), step.name));
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
            None => {
                return Err(Error::Privacy(format!(
                    "column '{}' reads as {wanted:?}, and in DP mode its storage type must be public: add\n[privacy.columns.{}]\ntype = \"{}\"\n(or set privacy.discover = true, which lists the type as not covered by the guarantee)",
                    column.name,
                    column.name,
                    format!("{wanted:?}").to_lowercase()
                )))
            }
        }
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
    /// Each other histogram and each two-way marginal table.
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
/// histograms, `tables` other histograms and pair tables and `selection_rounds` rounds of pair
/// selection: the selection takes `selection_share` off the top; of the rest, the bounds group
/// takes [`bounds_share`] (from the plan's noise multiplier `z` and the public row count
/// `rows`), discovery its configured share (at least its share under equal weights), and the
/// tables split what is left equally. With every domain public and no tree this is equal
/// weights, `1 / tables` each.
fn budget_weights(
    privacy: &PrivacyConfig,
    discovering: usize,
    bound_measures: usize,
    tables: usize,
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
    let discovery = if discovering == 0 {
        0.0
    } else if tables == 0 {
        1.0 - bounds
    } else {
        let equal = discovering as f64 / (discovering + tables) as f64;
        privacy.discovery_share.max(equal).min(0.9 - bounds)
    };
    Weights {
        discovery: scale * per(discovery, discovering),
        bounds: scale * per(bounds, bound_measures),
        table: scale * per(1.0 - discovery - bounds, tables),
        selection: per(selection, selection_rounds),
    }
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
        configured_bins: privacy.bins,
        pair_tables: 0,
        discovery_noise_std: 0.0,
        bounds_noise_std: 0.0,
        typed_under_dp: Vec::new(),
        folded: Vec::new(),
        no_range: Vec::new(),
        types_from_rows,
        selection_rounds: 0,
        selection_epsilon: 0.0,
        selected_pairs: Vec::new(),
        narrowed_bounds: Vec::new(),
        log_binned: Vec::new(),
        on_points: Vec::new(),
        points_measured: Vec::new(),
        keys_measured: Vec::new(),
        key_threshold: 0.0,
        trimmed_bounds: Vec::new(),
        copula_sums: 0,
        shift_slots: 0,
        extra_pairs: 0,
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
        ledger.pair_tables = if privacy.pair_selection.tree_for(plans.len()) {
            let k = plans.len();
            let extra = privacy
                .extra_pairs
                .min(super::marginals::pair_count(k) - k.saturating_sub(1));
            ledger.extra_pairs = extra;
            ledger.selection_rounds = k.saturating_sub(1) + extra;
            ledger.selection_rounds
        } else {
            super::marginals::pair_count(plans.len())
        };
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
    let tables =
        plans.len() - discovering + ledger.pair_tables + ledger.copula_sums + ledger.shift_slots;
    let weights = budget_weights(
        privacy,
        discovering,
        bound_measures,
        tables,
        ledger.selection_rounds,
        n_rows,
        settings.noise_multiplier,
    );
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
    let (count_noise_std, discovery_std, bounds_std) = (
        std_of(weights.table),
        std_of(weights.discovery),
        std_of(weights.bounds),
    );
    // Float columns without bounds may have their values measured by a thresholded histogram
    // in their second slot (below, where it is still free): δ_threshold is split over them and the
    // discovering columns alike, decided before any row is read.
    let key_candidates = plans
        .iter()
        .zip(&table.columns)
        .filter(|(plan, col)| {
            matches!(
                (plan, &col.values),
                (Plan::Continuous { bounds: None }, Values::Float(_))
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
    let mut histograms = 0;
    let mut noisy = |counts: &mut [f64], std: f64, rng: &mut DpRng| {
        if measured {
            let noise = rng.gaussian(counts.len(), std);
            for (c, e) in counts.iter_mut().zip(noise) {
                *c += e;
            }
            histograms += 1;
        }
    };
    // A slot for nulls or for values outside the kept categories exists when the metadata
    // says so or its noisy count clears three deviations of its noise (post-processing).
    let clears = |noisy_count: f64, std: f64| measured && noisy_count > 3.0 * std;
    let nullable = |name: &str| privacy.columns.get(name).is_some_and(|p| p.nullable);

    let mixture = mixture_settings(settings.transform);
    let mut encoders = Vec::with_capacity(plans.len());
    for (((plan, column), cs), typed) in plans
        .iter()
        .zip(table.columns.iter_mut())
        .zip(schema.columns.iter_mut())
        .zip(&typed_unbounded)
    {
        let values = &mut column.values;
        let n = values.len();
        let encoder = match plan {
            Plan::Discrete { categories } => {
                let nulls = (0..n).filter(|&i| values.is_null(i)).count() as f64;
                let (mut kept, other, null, std) = match categories {
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
                            noisy(&mut counts, count_noise_std, rng);
                        } else {
                            counts.fill(n_rows / list.len() as f64);
                            counts[list.len()] = 0.0;
                            counts[list.len() + 1] = 0.0;
                        }
                        let kept: Vec<(String, f64)> =
                            list.iter().cloned().zip(counts.iter().copied()).collect();
                        let (other, null) = (counts[list.len()], counts[list.len() + 1]);
                        // A complete list needs no "other" unless the values outside it are
                        // many enough to show above the noise.
                        let other = clears(other, count_noise_std).then_some(other);
                        (kept, other, null, count_noise_std)
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
                        noisy(&mut measured_counts, discovery_std, rng);
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
                        // Everything else, estimated from released numbers and the public N; its
                        // noise is that of every kept count and the null count together.
                        let other = n_rows - kept_total - null.max(0.0);
                        let other_std = discovery_std * ((kept.len() + 1) as f64).sqrt();
                        // A column needs one slot: with no kept value and no null slot, it is
                        // "other" (a column whose every value is missing keeps only its null).
                        let null_slot = nullable(&column.name) || clears(null, discovery_std);
                        let other = (clears(other, other_std) || (kept.is_empty() && !null_slot))
                            .then_some(other.max(0.0));
                        if let Some(rows) = other {
                            ledger.folded.push((column.name.clone(), rows.round()));
                        }
                        (kept, other, null, discovery_std)
                    }
                };
                let mut slots: Vec<Slot> =
                    kept.iter().map(|(k, _)| Slot::Value(k.clone())).collect();
                let mut counts: Vec<f64> = kept.drain(..).map(|(_, c)| c.max(0.0)).collect();
                if let Some(other) = other {
                    slots.push(Slot::Other);
                    counts.push(other.max(0.0));
                }
                // Without a null slot, the few nulls of the column are encoded in the most
                // frequent slot (`DiscreteEncoder::encode`), never as a new category.
                if nullable(&column.name) || clears(null, std) {
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
                // Set when no range could be estimated: the column is then sampled as missing.
                let mut no_range = false;
                let dated = matches!(values, Values::Date(_) | Values::Datetime { .. });
                let (lo, hi) = match bounds {
                    Some(b) => *b,
                    None => {
                        let mut grid = vec![0.0; bounds::GRID_BINS];
                        for i in 0..n {
                            if let Some(x) = values.number(i) {
                                grid[bounds::grid_bin(x)] += 1.0;
                            }
                        }
                        noisy(&mut grid, bounds_std, rng);
                        // The storage type first (its own measurement, in the slot the plan
                        // reserves for every such column): an integer column's grid bins
                        // between 1e-8 and 1 can hold no value, so its bounds skip them.
                        if *typed && !dated {
                            let mut classes = vec![0.0; lattice::CLASSES];
                            for i in 0..n {
                                if let Some(x) = values.number(i) {
                                    classes[lattice::class_of(x)] += 1.0;
                                }
                            }
                            noisy(&mut classes, bounds_std, rng);
                            let public = privacy.columns.get(&column.name);
                            let declared =
                                public.and_then(|p| if p.integer { Some(0) } else { p.decimals });
                            let decimals = match declared {
                                Some(d) => Some(d),
                                None => {
                                    let decimals =
                                        bounds::decimals_from_classes(&classes, bounds_std, n_rows);
                                    if decimals == Some(0) {
                                        cs.value_type = crate::read::ValueType::Int;
                                        cs.decimals = None;
                                    } else {
                                        cs.value_type = crate::read::ValueType::Float;
                                        cs.decimals = decimals;
                                    }
                                    decimals
                                }
                            };
                            // A declared lattice stands; else one is looked for at the
                            // column's places, declared or estimated.
                            let estimated = cs.lattice.is_none();
                            if estimated {
                                cs.lattice = decimals.and_then(|d| {
                                    bounds::lattice_from_classes(&classes, bounds_std, d)
                                });
                            }
                            let on = match cs.lattice {
                                Some(l) if estimated => format!("on a lattice of {}", f64::from(l)),
                                _ => String::new(),
                            };
                            let typed = match (declared, decimals) {
                                (Some(_), _) => String::new(),
                                (None, Some(0)) => "integer".to_string(),
                                (None, Some(d)) => format!("{d} decimal places"),
                                (None, None) => "6 or more decimal places".to_string(),
                            };
                            let said: Vec<String> =
                                [typed, on].into_iter().filter(|t| !t.is_empty()).collect();
                            if !said.is_empty() {
                                ledger.typed_under_dp.push(format!(
                                    "{}: {}",
                                    super::ledger::shown(&column.name),
                                    said.join(" ")
                                ));
                            }
                        }
                        let whole = cs.value_type == crate::read::ValueType::Int;
                        let found = bounds::bounds_from_grid(&grid, bounds_std, whole);
                        no_range = found.is_none();
                        if no_range {
                            // Too few present values for this much noise: no range can be
                            // released, so the column is sampled as missing (a decision on
                            // noisy counts; the ledger says how to give it a range).
                            values.clear();
                            ledger.no_range.push(column.name.clone());
                        }
                        found.unwrap_or((0.0, 1.0))
                    }
                };
                // A date's or timestamp's step (monthly, daily, hourly), with or without public
                // bounds (they say nothing of it: with them, month ends came back on any day),
                // in the slot reserved for it.
                if *typed && !no_range && dated {
                    let (mut classes, unit) = step_histogram(values);
                    noisy(&mut classes, bounds_std, rng);
                    set_step(
                        &classes,
                        unit.as_deref(),
                        cs,
                        &mut ledger,
                        bounds_std,
                        n_rows,
                    );
                }
                let integer = cs.value_type == crate::read::ValueType::Int;
                let (lo, hi) = if integer && hi - lo >= 1.0 {
                    (lo.ceil(), hi.floor())
                } else {
                    (lo, hi)
                };
                values.clamp_numbers(lo, hi);
                // Fewer bins only where the noise swamps 64 of them (`histogram_bins`); the
                // stop-11 rule of rows / (3 noise deviations), which gave credit_data at
                // epsilon 1 eight bins and spread each bin's count over points inside it,
                // made Adult at epsilon 1 worse (docs/quality.md).
                // An integer column of at most `privacy.bins` integers keeps a bin per integer:
                // coded answers (anes96's 1-7 ratings, 944 rows) merged two to a bin at 16
                // bins and lost 7 values.
                let even_bins = histogram_bins(privacy.bins, n_rows, count_noise_std);
                let bins = if integer && hi - lo <= privacy.bins as f64 {
                    privacy.bins
                } else {
                    even_bins
                };
                ledger.continuous_bins = even_bins;
                let width = (hi - lo) / bins as f64;
                // [bins..., exactly lo, exactly hi, null]: values sitting on a bound (a
                // zero-inflated amount, a clipped tail) keep their spike instead of being
                // smeared over the first bin.
                let (at_lo, at_hi, null_bucket) = (bins, bins + 1, bins + 2);
                // Over `edges` (bins + 1 of them) when given, else even bins.
                let histogram_over = |values: &Values, lo: f64, hi: f64, edges: Option<&[f64]>| {
                    let width = (hi - lo) / bins as f64;
                    let mut counts = vec![0.0; bins + 3];
                    for i in 0..n {
                        match values.number(i) {
                            Some(x) if x <= lo => counts[at_lo] += 1.0,
                            Some(x) if x >= hi => counts[at_hi] += 1.0,
                            Some(x) => counts[body_bin(x, lo, width, bins, edges)] += 1.0,
                            None => counts[null_bucket] += 1.0,
                        }
                    }
                    counts
                };
                let histogram =
                    |values: &Values, lo: f64, hi: f64| histogram_over(values, lo, hi, None);
                let mut counts = histogram(values, lo, hi);
                if measured {
                    noisy(&mut counts, count_noise_std, rng);
                } else {
                    counts.fill(n_rows / bins as f64);
                    counts[at_lo] = 0.0;
                    counts[at_hi] = 0.0;
                    counts[null_bucket] = 0.0;
                }
                // Bins whose noisy count is within two noise deviations of zero are mostly
                // noise: dropping them (post-processing) keeps the mixture from spreading mass
                // over empty ranges. The bounds are kept: shrinking them to the bins that
                // clear the noise clipped the tails of small tables (issue 21).
                let mut floor = 2.0 * count_noise_std;
                let (mut lo, mut hi, mut width) = (lo, hi, width);
                let mut edges: Option<Vec<f64>> = None;
                let mut was_narrowed = false;
                // The narrowed part's count per integer (from its lower bound), where measured.
                let mut narrowed_points: Option<(f64, Vec<f64>)> = None;
                // Not an integer column whose bins hold one integer at most: each of its
                // values has a count of its own already, and the second histogram's noise
                // (the bounds share's) is larger. A 2,800-row table's rating on [2, 56] was
                // narrowed to [2, 7] and measured again with noise std 172 against 33: its
                // 3s and 4s (27% of the rows) fell below the floor and were never sampled.
                let resolved = integer && width <= 1.0;
                if let (None, Some((new_lo, new_hi))) = (
                    bounds,
                    narrowed(&counts, count_noise_std, n_rows, (lo, hi), integer)
                        .filter(|_| measured && !resolved),
                ) {
                    // The values sit in a few bins of the estimated range (a year in
                    // [563, 5623], a latitude in [17.8, 177.8]): measure them again over
                    // that part, with the bounds share (its slot is reserved above), so the
                    // mixture sees them at 64 bins' resolution (`narrowed`).
                    (lo, hi) = (new_lo, new_hi);
                    width = (hi - lo) / bins as f64;
                    values.clamp_numbers(lo, hi);
                    if integer && hi - lo >= 1.0 && hi - lo <= NARROW_POINTS_MAX {
                        // An integer column narrowed to a few hundred integers (a year in
                        // [1907, 2066]): one count per integer, and the bins are their sums.
                        // The 64 bins of such a part are 2.5 years wide, and a bin's count
                        // split evenly over its years sampled 1981-1991 for rwm5yr's
                        // 1984-1988; the points below see each year. Each row is in one
                        // point, as in one bin: the same sensitivity in the same slot.
                        let k = (hi - lo) as usize + 1;
                        let mut points = vec![0.0; k];
                        for i in 0..n {
                            if let Some(x) = values.number(i) {
                                points[((x.round() - lo).max(0.0) as usize).min(k - 1)] += 1.0;
                            }
                        }
                        noisy(&mut points, bounds_std, rng);
                        let null = counts[null_bucket];
                        counts = vec![0.0; bins + 3];
                        let mut per_bin = vec![0usize; bins];
                        for (j, &c) in points.iter().enumerate().take(k - 1).skip(1) {
                            let b = body_bin(lo + j as f64, lo, width, bins, None);
                            counts[b] += c;
                            per_bin[b] += 1;
                        }
                        counts[at_lo] = points[0];
                        counts[at_hi] = points[k - 1];
                        counts[null_bucket] = null;
                        let most = per_bin.iter().copied().max().unwrap_or(1).max(1);
                        floor = 2.0 * bounds_std * (most as f64).sqrt();
                        narrowed_points = Some((lo, points));
                    } else {
                        counts = histogram(values, lo, hi);
                        noisy(&mut counts, bounds_std, rng);
                        floor = 2.0 * bounds_std;
                    }
                    was_narrowed = true;
                    ledger.narrowed_bounds.push(column.name.clone());
                } else if let Some(e) = log_scale_edges(&counts, count_noise_std, (lo, hi))
                    .filter(|_| bounds.is_none() && measured)
                {
                    // Most rows sit in the first even bin: a count or an amount spread over
                    // decades (a film's votes, 5 to 157,608 in [1.8, 562,341], sampled with a
                    // median of 1,393 against 30). Measured again over bins even in log scale,
                    // with the slot a narrowing would use (a column gets one or the other).
                    counts = histogram_over(values, lo, hi, Some(&e));
                    noisy(&mut counts, bounds_std, rng);
                    floor = 2.0 * bounds_std;
                    edges = Some(e);
                    ledger.log_binned.push(column.name.clone());
                }
                let null = counts[null_bucket];
                // The loud part of an estimated range (`loud_part`): the range was padded
                // beyond the data (a quarter decade on the log-scale grid), and the generator's
                // modes reached into the padding, so an age of 20-61 was sampled up to 177 in
                // 3% of rows (7% for a 1,858-row table's ages). The mixture's points sit in
                // that part and the column is sampled within it plus a bin (`Trim`); training
                // rows keep the whole range. Post-processing.
                let part = if bounds.is_none() && measured && !no_range {
                    let bin_edges = edges.clone().unwrap_or_else(|| even_edges((lo, hi), bins));
                    // One deviation of the estimate's noise on top of the 1%: a 4,000-row
                    // table's ages (noise 21 per count, a part of 16 bins) failed the 1% alone
                    // in one run of three, and with two deviations the part left out 7% of
                    // Chile's rows (its incomes of 125,000 and 200,000, beyond a gap, each
                    // below the seed level). Where the check fails the column samples as before.
                    loud_part(
                        &counts,
                        floor / 2.0,
                        n_rows,
                        &bin_edges,
                        integer,
                        TRIM_SEED,
                        true,
                    )
                    .filter(|p| p.hi > p.lo && (p.lo > lo || p.hi < hi))
                    .map(|p| (p, bin_edges))
                } else {
                    None
                };
                // A part that leaves out more than the check allows is not sampled in; its
                // tails are then read as falling away from it (`failed`, below).
                let (part, failed) = match part {
                    Some((p, e)) if p.outside <= NARROW_OUTSIDE * n_rows + p.outside_std => {
                        (Some((p, e)), None)
                    }
                    Some((p, _)) => (None, Some(p)),
                    None => (None, None),
                };
                let inside = |b: usize| {
                    part.as_ref()
                        .is_none_or(|(p, _)| p.first <= b && b <= p.last)
                };
                let centres: Vec<f64> = match &edges {
                    // The geometric middle of each bin (half the first edge for a bin at 0,
                    // the middle of a bin across zero).
                    Some(e) => (0..bins)
                        .map(|b| {
                            if e[b] > 0.0 {
                                (e[b] * e[b + 1]).sqrt()
                            } else if e[b + 1] < 0.0 {
                                -(e[b] * e[b + 1]).sqrt()
                            } else if e[b] < 0.0 {
                                0.5 * (e[b] + e[b + 1])
                            } else {
                                e[b + 1] / 2.0
                            }
                        })
                        .collect(),
                    // An integer column of bins at most one integer wide: the integer in each
                    // bin. At the bin's middle (1.31 for the 1s of a count on [0, 56]) the
                    // mode of the 1s had a deviation of 0.02, every 1 was encoded into a far,
                    // wide mode, and the generator sampled 1 in 0.8% of rows against 19%.
                    None if integer && width <= 1.0 => (0..bins)
                        .map(|b| {
                            let (a, z) = (lo + b as f64 * width, lo + (b + 1) as f64 * width);
                            let k = a.ceil();
                            if k < z {
                                k
                            } else {
                                0.5 * (a + z)
                            }
                        })
                        .collect(),
                    None => (0..bins).map(|b| lo + (b as f64 + 0.5) * width).collect(),
                };
                // An integer column's bins without an integer hold only noise (`live_bins`).
                let live = live_bins(
                    edges.as_deref().unwrap_or(&even_edges((lo, hi), bins)),
                    integer,
                );
                let keep = |c: f64| if c > floor { c } else { 0.0 };
                let mut body: Vec<f64> = (0..bins)
                    .map(|b| {
                        if inside(b) && live[b] {
                            keep(counts[b])
                        } else {
                            0.0
                        }
                    })
                    .collect();
                // A thin tail that joined the part as a run (`grow_by_blocks`): each bin is
                // below the floor, the run's sum is not; spread over its live bins.
                for &(a, z) in part.iter().flat_map(|(p, _)| &p.blocks) {
                    let held: Vec<usize> = (a..=z).filter(|&b| live[b]).collect();
                    let sum: f64 = held.iter().map(|&b| counts[b]).sum();
                    for &b in &held {
                        body[b] = sum.max(0.0) / held.len() as f64;
                    }
                }
                // Beyond a part that failed its check, each side's live bins, moving away from
                // the part, take the shape of a falling fit of their noisy counts and hold the
                // rows the part leaves out (`dp::tail`): with every bin above the floor kept, a
                // lone bin of noise among dozens of empty ones became a mode (credit_data's
                // Price sampled at 8,000-14,000 in 2.7% of rows), and a long thin tail kept
                // only its noise. A bound the part does not reach is the farthest point of its
                // side, loud or not at all (below).
                let mut atoms = vec![(lo, keep(counts[at_lo])), (hi, keep(counts[at_hi]))];
                if let Some(p) = &failed {
                    let below: Vec<usize> = (0..p.first).rev().filter(|&b| live[b]).collect();
                    let above: Vec<usize> = (p.last + 1..bins).filter(|&b| live[b]).collect();
                    let noisy =
                        |of: &[usize]| -> Vec<f64> { of.iter().map(|&b| counts[b]).collect() };
                    let fits = tail::falling_tails(
                        [&noisy(&below), &noisy(&above)],
                        floor / 2.0,
                        p.outside,
                    );
                    for (of, fit) in [&below, &above].into_iter().zip(&fits) {
                        for (&b, &w) in of.iter().zip(fit) {
                            body[b] = w;
                        }
                    }
                    // A bound the part does not reach keeps its spike only where it is loud
                    // among its side's bins: an estimated range is widened beyond its rows,
                    // and an exact mode at the bound from a noisy count there was sampled in
                    // 2-7% of rows (Forbes2000's market values at 562, real top 329; Hdma's
                    // `uria` at 56.2, real top 10.6).
                    for (atom, slot, reached, side) in [
                        (0, at_lo, p.lo <= lo, below.len()),
                        (1, at_hi, p.hi >= hi, above.len()),
                    ] {
                        if !reached {
                            let loud = tail::spike_level(side + 1) * floor / 2.0;
                            atoms[atom].1 = if counts[slot] > loud {
                                counts[slot]
                            } else {
                                0.0
                            };
                        }
                    }
                }
                let trim = part.as_ref().map(|(p, e)| {
                    if p.lo > lo {
                        atoms[0].1 = 0.0;
                    }
                    if p.hi < hi {
                        atoms[1].1 = 0.0;
                    }
                    ledger.trimmed_bounds.push(column.name.clone());
                    // One bin of margin beyond the part where the range goes on: a tail
                    // thinner than the noise sits there (without it churn's column shapes
                    // lost 0.006 in five runs), and the generator's overshoot is folded over
                    // that bin and the part's outer one.
                    let width = |b: usize| e[b + 1] - e[b];
                    let (mut t_lo, mut below) = (p.lo, width(p.first));
                    if p.lo > lo && p.first > 0 {
                        t_lo = (p.lo - width(p.first - 1)).max(lo);
                        below += width(p.first - 1);
                    }
                    let (mut t_hi, mut above) = (p.hi, width(p.last));
                    if p.hi < hi && p.last + 1 < bins {
                        t_hi = (p.hi + width(p.last + 1)).min(hi);
                        above += width(p.last + 1);
                    }
                    if integer {
                        (t_lo, t_hi) = (t_lo.floor().max(lo), t_hi.ceil().min(hi));
                    }
                    Trim {
                        lo: t_lo,
                        hi: t_hi,
                        below,
                        above,
                    }
                });
                let range = trim.map_or((lo, hi), |t| (t.lo, t.hi));
                let atoms_weight: f64 = atoms.iter().map(|a| a.1).sum();
                if body.iter().sum::<f64>() <= 0.0 && atoms_weight <= 0.0 {
                    body.fill(1.0);
                }
                // A null indicator when the metadata says nullable, or the noisy null count
                // clears three noise deviations; without one, the column's few nulls are
                // encoded at the middle of its range.
                let has_null = nullable(&column.name) || clears(null, floor / 2.0) || no_range;
                let null_share = if no_range {
                    1.0
                } else if measured && has_null {
                    null.max(0.0) / n_rows
                } else {
                    0.0
                };
                // A narrowed integer column whose bins are wider than one integer (a year of
                // eight values narrowed to [1907, 2066]: 2.5 years a bin): the mixture sees
                // each bin's count spread over the integers in it, not one point at the bin's
                // middle, which sampled four or five of the eight years.
                // Only for a few values (the loud bins span at most SPREAD_SPAN integers): on
                // Ames, spreading a year of 60 values (remodelled 1950-2010) over its bins'
                // integers took its KS distance from 0.18 to 0.39 in one run.
                // Three deviations (the floor is two) make a bin loud: a bin of pure noise
                // clears two about one time in 44, and each such integer would be sampled.
                let strict = |c: f64| if c > 1.5 * floor { c } else { 0.0 };
                let loud = |b: &usize| strict(counts[*b]) > 0.0;
                let loud_span = match ((0..bins).find(loud), (0..bins).rev().find(loud)) {
                    (Some(a), Some(b)) => (b + 1 - a) as f64 * width,
                    _ => f64::INFINITY,
                };
                let narrowed_here =
                    was_narrowed && hi - lo <= SPREAD_INTEGERS && loud_span <= SPREAD_SPAN;
                let spread = integer && narrowed_here && width > 1.0;
                // The bins' own, for the points below (the spread is per integer).
                let (bin_centres, bin_body) = (centres.clone(), body.clone());
                let (centres, body) = if spread {
                    spread_over_integers(lo, width, &body)
                } else {
                    (centres, body)
                };
                let mut encoder = ContinuousEncoder::from_weighted_points(
                    &centres,
                    &body,
                    &atoms,
                    (lo, hi),
                    null_share.min(1.0),
                    has_null,
                    mixture,
                );
                encoder.trim = trim;
                // The mixture saw each bin as one point, so a mode over one loud bin had almost
                // no spread: a value in that bin but off its middle was more than four of the
                // mode's deviations away and was encoded into another, wider mode. A bin's rows
                // are spread over its width: each mode gets the variance of a uniform over the
                // width of the bin at its mean. Not where each bin holds one integer (the
                // points are those integers) or the points are a bin's integers already.
                let one_integer_per_bin = integer && width <= 1.0 && edges.is_none();
                if !(spread || one_integer_per_bin) {
                    widen_modes_by_bins(&mut encoder, width, edges.as_deref());
                }
                // Only where the range was estimated (padded beyond the data): a public range
                // says which integers a column may hold.
                let short = hi - lo < bins as f64 || narrowed_here;
                if integer && short && edges.is_none() && bounds.is_none() {
                    // At a level: the bins of the part, and a bound's spike only where the
                    // range still reaches that bound.
                    let evidence = |level: &dyn Fn(f64) -> f64| Evidence {
                        body: (0..bins)
                            .map(|b| {
                                if inside(b) && live[b] {
                                    level(counts[b])
                                } else {
                                    0.0
                                }
                            })
                            .collect(),
                        at_lo: if range.0 <= lo {
                            level(counts[at_lo])
                        } else {
                            0.0
                        },
                        at_hi: if range.1 >= hi {
                            level(counts[at_hi])
                        } else {
                            0.0
                        },
                    };
                    let loud = evidence(&strict);
                    // Only where those integers hold nearly all the rows (a flag, a rating, a
                    // year): a spread-out column (years at a company, 0 to 40, on 1,176 rows)
                    // has most of its integers below the noise, and snapping it onto the few
                    // loud ones cost attrition 0.026 of column shapes.
                    let held: f64 = loud.body.iter().sum::<f64>() + loud.at_lo + loud.at_hi;
                    // The present rows: the public row count less the noisy null count.
                    let all = n_rows - counts[null_bucket].max(0.0);
                    if held >= SUPPORT_SHARE * all {
                        let support = integer_support(
                            (lo, hi),
                            &evidence(&|c| c),
                            floor / 2.0,
                            part.is_none(),
                        );
                        // A few integers (a rating, a flag, a small count): each its own exact
                        // mode, weighted by its noisy count, as a category's value would be.
                        // The mixture fitted on the bins merged neighbours: bfi's 2s and 3s
                        // of a rating in one mode at 2.48 ± 0.52, and the generator sampled
                        // the 3s for both (the 2s, 6% of the rows, lost).
                        if !support.is_empty() && support.len() < mixture.max_modes {
                            let counts = evidence(&|c| c.max(0.0));
                            let atoms: Vec<(f64, f64)> = support
                                .iter()
                                .map(|&k| (k, counts.weight((lo, hi), k)))
                                .collect();
                            encoder.modes = ContinuousEncoder::from_weighted_points(
                                &[],
                                &[],
                                &atoms,
                                (lo, hi),
                                encoder.null_rate,
                                encoder.has_null,
                                mixture,
                            )
                            .modes;
                        } else if !support.is_empty() {
                            // Many integers (a score of 1-16): the mixture stays, and values
                            // are put on the integers by quantiles at their noisy shares
                            // (`support_shares`), not by nearness.
                            let counts = evidence(&|c| c.max(0.0));
                            encoder.support_shares = counts.cumulative_shares((lo, hi), &support);
                        }
                        encoder.support = support;
                    }
                }
                // Values on a few points of the column's grain (its lattice, else 1 for an
                // integer or its last decimal place) in bins wider than a point: Chile's
                // incomes are seven bracket middles (2,500 to 200,000) that the 64 bins of
                // [0, 213,000] merged, sampled as any multiple of 500; its town sizes and
                // Fair's coded ages (17.5, 22, 27, ...) alike. Where the slot a narrowing or
                // log-scale bins would use is free and the part holds at most POINTS_MAX
                // points, one count per point is measured in it; where a few loud points
                // hold three quarters of the rows each is an exact mode beside the body's
                // modes for the rest, and where many hold 90% sampled values snap onto them.
                let grain = match (cs.lattice, integer, cs.decimals) {
                    (Some(l), _, _) => Some((f64::from(l), l.places())),
                    (None, true, _) => Some((1.0, 0)),
                    (None, false, Some(d)) if d <= 3 => Some((10f64.powi(-(d as i32)), d)),
                    _ => None,
                };
                let slot_free = !was_narrowed && edges.is_none();
                // Whether the grain's points below took the slot.
                let mut points_taken = false;
                // A narrowed integer column's per-integer counts serve as its points (no new
                // measurement) where its grain is one.
                let reuse = narrowed_points
                    .as_ref()
                    .filter(|_| grain.is_some_and(|(g, _)| g == 1.0));
                let wanted =
                    bounds.is_none() && measured && !no_range && (slot_free || reuse.is_some());
                if let Some((g, places)) = grain.filter(|&(g, _)| wanted && width > g) {
                    let (first, last) = ((range.0 / g).ceil(), (range.1 / g).floor());
                    let k = last - first + 1.0;
                    if (2.0..=POINTS_MAX).contains(&k) {
                        let points = if let Some((from, counted)) = reuse {
                            (0..k as usize)
                                .map(|j| {
                                    let at = first + j as f64 - from;
                                    if at >= 0.0 && (at as usize) < counted.len() {
                                        counted[at as usize]
                                    } else {
                                        0.0
                                    }
                                })
                                .collect()
                        } else {
                            let mut points = vec![0.0; k as usize];
                            for i in 0..n {
                                if let Some(x) = values.number(i) {
                                    let j = (x / g).round() - first;
                                    if (0.0..k).contains(&j) {
                                        points[j as usize] += 1.0;
                                    }
                                }
                            }
                            noisy(&mut points, bounds_std, rng);
                            ledger.points_measured.push(column.name.clone());
                            points_taken = true;
                            points
                        };
                        let present = n_rows - counts[null_bucket].max(0.0);
                        let loud = loud_points(&points, first, g, places, bounds_std);
                        let held: f64 = loud.iter().map(|p| p.1).sum();
                        // The most points that become exact modes beside the body's.
                        let most = mixture.max_modes.saturating_sub(POINT_BODY_MODES);
                        // The rest of each bin's count beyond its loud points (a bracket
                        // below the points' noise: Chile's 62,500s) stays for the body's
                        // modes, so it is sampled near its values rather than snapped onto a
                        // far point.
                        let (mut rest, mut taken) = rest_beyond(&bin_body, &loud, (lo, hi), width);
                        // What is left of a bin must clear three deviations of the
                        // difference's noise (the bin's count less its points' counts, the
                        // latter with the bounds share's larger noise): with two deviations
                        // of the bin's noise alone, pure noise left a third of the rest and
                        // got its own modes (Chile's incomes sampled up to 443,000).
                        // The rest of a bin less `points` points' counts, or 0 within three
                        // deviations of that difference's noise.
                        // A narrowed column's bins are the sums of its points: what is left
                        // of a bin is the sum of its other points, with their noise alone.
                        let mut in_bin = vec![0usize; bins];
                        if reuse.is_some() {
                            let mut x = lo + 1.0;
                            while x < hi {
                                in_bin[body_bin(x, lo, width, bins, None)] += 1;
                                x += 1.0;
                            }
                        }
                        let rest_var = |b: usize, taken: usize| -> f64 {
                            if reuse.is_some() {
                                in_bin[b].saturating_sub(taken).max(1) as f64 * bounds_std.powi(2)
                            } else {
                                (floor / 2.0).powi(2) + taken as f64 * bounds_std.powi(2)
                            }
                        };
                        let clear =
                            |r: f64, b: usize, points: usize| clear_quiet(r, rest_var(b, points));
                        for (b, r) in rest.iter_mut().enumerate() {
                            *r = clear(*r, b, taken[b]);
                        }
                        // A bin whose rest is loud holds rows the points' threshold missed
                        // (a 4% bracket at 4.5 deviations of the bounds' noise fails one run
                        // in eight): its loudest points join as exact modes, one at a time
                        // while the bin's rest stays loud, when each clears three deviations
                        // (pure noise: 0.13% per point; the bin's own count, measured apart,
                        // confirms the rows are there). Before the share is checked: a coded
                        // score of 21 values (SES) had 5 points above 4.5 deviations holding
                        // half its rows, and 10 more each confirmed by its bin.
                        // The value of the `j`-th point, and the points of bin `b`.
                        let at = |j: usize| crate::schema::round_to((first + j as f64) * g, places);
                        let points_of = |b: usize| -> std::ops::Range<usize> {
                            let (a, z) = (lo + b as f64 * width, lo + (b + 1) as f64 * width);
                            let from = ((a / g).ceil() - first).max(0.0);
                            let to = ((z / g).ceil() - first).min(k).max(from);
                            from as usize..to as usize
                        };
                        let mut chosen = loud.clone();
                        for b in 0..bins {
                            while rest[b] > 0.0 && chosen.len() < most {
                                let best = points_of(b)
                                    .filter(|&j| !chosen.iter().any(|q| q.0 == at(j)))
                                    .max_by(|&i, &j| points[i].total_cmp(&points[j]));
                                // Three deviations for a bin of up to [`FREE_CANDIDATES`]
                                // points (pure noise clears it in 1% of such bins at most),
                                // more for more, so that the chance stays there (an id
                                // column's bins of 87 points each gained two noise points at
                                // three deviations). A bracket of Chile's incomes (200,000,
                                // 4% of the rows, in a bin of seven multiples of 500) needs
                                // the three.
                                let candidates = points_of(b).len().max(1) as f64;
                                let tail =
                                    THREE_SIGMA_TAIL * (FREE_CANDIDATES / candidates).min(1.0);
                                let level = normal_upper_quantile(tail);
                                let Some(j) = best.filter(|&j| points[j] > level * bounds_std)
                                else {
                                    break;
                                };
                                chosen.push((at(j), points[j]));
                                taken[b] += 1;
                                rest[b] = clear((rest[b] - points[j]).max(0.0), b, taken[b]);
                            }
                        }
                        // Inside the bounds: a spike at a bound is an exact mode already, and
                        // a zero-inflated amount (Adult's capital-loss, 95% zeros) took its
                        // zeros for three quarters of its rows, leaving its other values to
                        // three body modes.
                        let inside_held: f64 = chosen
                            .iter()
                            .filter(|p| p.0 > lo && p.0 < hi)
                            .map(|p| p.1)
                            .sum();
                        let dense = k <= DENSE_POINTS_MAX as f64
                            && inside_held >= DENSE_SHARE * (present - atoms_weight).max(0.0)
                            && inside_held > 0.0;
                        if !chosen.is_empty()
                            && inside_held >= POINTS_SHARE * (present - atoms_weight).max(0.0)
                            && inside_held > 0.0
                            && chosen.len() <= most
                        {
                            // Each chosen point its own exact mode, weighted by its count, and
                            // body modes for the rest.
                            refit_on_points(
                                &mut encoder,
                                &bin_centres,
                                &rest,
                                &chosen,
                                &atoms,
                                (lo, hi),
                                width,
                                mixture,
                            );
                            ledger.on_points.push(column.name.clone());
                        } else if dense {
                            // A few dozen points whose loudest hold half the rows (a coded
                            // score, a class size): the mixture is fitted on the points
                            // themselves, not the bins' middles, and sampled values snap onto
                            // them. The chosen points weigh their counts; each bin's rest is
                            // spread over its other points by their noisy counts
                            // (`spread_rest`). Not an exact mode each: on Adult, hours per
                            // week as 26 exact modes lost 0.056 of pair trends (one run), the
                            // generator choosing among them as among categories.
                            // The rest of each bin beyond its chosen points at two
                            // deviations of the difference's noise, not three: a spread score's
                            // bin of three integers with two chosen lost its third (nlschools'
                            // `lang`: 33s, 62 rows, never sampled).
                            let mut rest = bin_body.clone();
                            let mut taken = vec![0usize; bins];
                            for &(p, c) in chosen.iter().filter(|p| p.0 > lo && p.0 < hi) {
                                let b = body_bin(p, lo, width, bins, None);
                                rest[b] -= c;
                                taken[b] += 1;
                            }
                            for (b, r) in rest.iter_mut().enumerate() {
                                if *r <= bounds::WEAK * rest_var(b, taken[b]).sqrt() {
                                    *r = 0.0;
                                }
                            }
                            let mut exact = chosen.clone();
                            for b in (0..bins).filter(|&b| rest[b] > 0.0) {
                                let open: Vec<usize> = points_of(b)
                                    .filter(|&j| !chosen.iter().any(|q| q.0 == at(j)))
                                    .collect();
                                let counts: Vec<f64> = open.iter().map(|&j| points[j]).collect();
                                let shares = spread_rest(rest[b], &counts, bounds_std);
                                for (&j, w) in open.iter().zip(shares) {
                                    if w > 0.0 {
                                        exact.push((at(j), w));
                                    }
                                }
                            }
                            // The points strictly inside the bounds are the mixture's; a
                            // spike at a bound stays an exact mode (`atoms`).
                            exact.retain(|p| p.0 > lo && p.0 < hi);
                            exact.sort_by(|a, b| a.0.total_cmp(&b.0));
                            let (at, weights): (Vec<f64>, Vec<f64>) = exact.iter().copied().unzip();
                            encoder.modes = ContinuousEncoder::from_weighted_points(
                                &at,
                                &weights,
                                &atoms,
                                (lo, hi),
                                encoder.null_rate,
                                encoder.has_null,
                                mixture,
                            )
                            .modes;
                            // Snapped onto the points above half a deviation: a point of
                            // noise takes its share of a bin's rest (a few rows), but as a
                            // snapping target it would take the mixture's mass around it
                            // (nlschools' 41s and 42s, between its 40s and 43s).
                            exact.retain(|p| p.1 > 0.5 * bounds_std);
                            exact.extend(atoms.iter().filter(|a| a.1 > 0.0));
                            exact.sort_by(|a, b| a.0.total_cmp(&b.0));
                            encoder.support = exact.iter().map(|p| p.0).collect();
                            encoder.support_shares = cumulative_shares(&exact);
                            ledger.on_points.push(column.name.clone());
                        } else if !loud.is_empty() && held >= SUPPORT_SHARE * present {
                            // Many points (a year, an age) holding nearly every row: the
                            // mixture stays, and sampled values snap onto the points.
                            encoder.support = loud.iter().map(|p| p.0).collect();
                            encoder.support_shares = cumulative_shares(&loud);
                            ledger.on_points.push(column.name.clone());
                        }
                    }
                }
                // A float column whose values are a few codes off any lattice (MedExp's log
                // coinsurance: 0, 3.258096, 3.931826 and 4.564348): it has no grain, so the
                // points above never see it, and the mixture spread 60% of its rows over
                // [0, 4.6]. Where the slot is still free, the values themselves are measured
                // in it, thresholded as a category's discovery is (`key_threshold`: a value
                // held by one row is released with probability at most its share of
                // δ_threshold); where the released values hold half the rows inside the
                // bounds (`KEYS_SHARE`), each is an exact mode and the bins' rest stays with
                // the body's modes.
                let keyed = key_threshold > 0.0
                    && bounds.is_none()
                    && !no_range
                    && !integer
                    && slot_free
                    && matches!(values, Values::Float(_))
                    && !points_taken;
                if keyed {
                    let mut found: HashMap<u64, f64> = HashMap::new();
                    for i in 0..n {
                        if let Some(x) = values.number(i).filter(|&x| x > lo && x < hi) {
                            *found.entry(x.to_bits()).or_insert(0.0) += 1.0;
                        }
                    }
                    let mut found: Vec<(f64, f64)> = found
                        .into_iter()
                        .map(|(bits, c)| (f64::from_bits(bits), c))
                        .collect();
                    found.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let (keys, mut key_counts): (Vec<f64>, Vec<f64>) = found.into_iter().unzip();
                    noisy(&mut key_counts, bounds_std, rng);
                    ledger.keys_measured.push(column.name.clone());
                    ledger.key_threshold = key_threshold;
                    let mut chosen: Vec<(f64, f64)> = keys
                        .into_iter()
                        .zip(key_counts)
                        .filter(|&(_, c)| c > key_threshold)
                        .collect();
                    chosen.sort_by(|a, b| b.1.total_cmp(&a.1));
                    chosen.truncate(mixture.max_modes.saturating_sub(POINT_BODY_MODES));
                    let present = n_rows - counts[null_bucket].max(0.0);
                    let held: f64 = chosen.iter().map(|p| p.1).sum();
                    if held > 0.0 && held >= KEYS_SHARE * (present - atoms_weight).max(0.0) {
                        // Each bin's count beyond its chosen values, kept where it clears
                        // three deviations of the difference's noise.
                        let (mut rest, taken) = rest_beyond(&bin_body, &chosen, (lo, hi), width);
                        for (r, &t) in rest.iter_mut().zip(&taken) {
                            let var = (floor / 2.0).powi(2) + t as f64 * bounds_std.powi(2);
                            *r = clear_quiet(*r, var);
                        }
                        chosen.sort_by(|a, b| a.0.total_cmp(&b.0));
                        refit_on_points(
                            &mut encoder,
                            &bin_centres,
                            &rest,
                            &chosen,
                            &atoms,
                            (lo, hi),
                            width,
                            mixture,
                        );
                        ledger.on_points.push(column.name.clone());
                    }
                }
                Encoder::Continuous(encoder)
            }
        };
        encoders.push(encoder);
    }
    ledger.histograms = histograms;
    Ok((DataTransformer { schema, encoders }, ledger))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_tables_histograms_get_fewer_bins() {
        // Adult-sized and credit-sized tables keep the configured 64.
        assert_eq!(histogram_bins(64, 26_048.0, 40.0), 64);
        assert_eq!(histogram_bins(64, 3_563.0, 30.0), 64);
        // diabetes: 442 rows at std 21.4 -> 20.6 rows per deviation -> 16 bins.
        assert_eq!(histogram_bins(64, 442.0, 21.4), 16);
        // A tiny table floors at 8; a configured count below that is kept.
        assert_eq!(histogram_bins(64, 100.0, 40.0), 8);
        assert_eq!(histogram_bins(4, 100.0, 40.0), 4);
        // A configured count that is not a power of two is kept where the rows allow it.
        assert_eq!(histogram_bins(100, 30_000.0, 10.0), 100);
        assert_eq!(histogram_bins(100, 700.0, 10.0), 64);
        // Nothing measured: the configured count.
        assert_eq!(histogram_bins(64, 50.0, 0.0), 64);
    }

    #[test]
    fn small_tables_give_their_bounds_enough_budget_to_be_found() {
        let privacy = PrivacyConfig::default();
        let z = 2.0;
        let sum = |w: &Weights, d: usize, b: usize, t: usize, s: usize| {
            w.discovery * d as f64
                + w.bounds * b as f64
                + w.table * t as f64
                + w.selection * s as f64
        };
        // Adult-sized: 26,048 rows, 6 numeric columns (18 measures), the default share kept.
        let w = budget_weights(&privacy, 9, 18, 40, 14, 26_048.0, Some(z));
        assert!((sum(&w, 9, 18, 40, 14) - 1.0).abs() < 1e-12);
        let scale = 1.0 - privacy.selection_share;
        assert!((w.bounds - scale * privacy.bounds_share / 18.0).abs() < 1e-15);
        // 700 rows, 11 numeric columns (33 measures), no discovery: the bounds take more, and
        // their std lets a half-decade holding a quarter of the rows clear STRONG deviations
        // with the margin to spare.
        let w = budget_weights(&privacy, 0, 33, 66, 0, 700.0, Some(z));
        assert!((sum(&w, 0, 33, 66, 0) - 1.0).abs() < 1e-12);
        let std = z / w.bounds.sqrt();
        let want = 700.0 * BOUNDS_FIND_SHARE / (bounds::STRONG + BOUNDS_FIND_MARGIN);
        assert!((std - want).abs() < 1e-9, "{std} against {want}");
        assert!(w.bounds * 33.0 > privacy.bounds_share);
        // A table too small for any share: capped, the tables keep the rest.
        let w = budget_weights(&privacy, 2, 42, 30, 13, 178.0, Some(z));
        assert!((sum(&w, 2, 42, 30, 13) - 1.0).abs() < 1e-12);
        let scale = 1.0 - privacy.selection_share;
        assert!((w.bounds * 42.0 - scale * BOUNDS_SHARE_MAX).abs() < 1e-12);
        assert!(w.table > 0.0 && w.discovery > 0.0);
        // Nothing measured (every domain public, no noise multiplier): the default share.
        let w = budget_weights(&privacy, 0, 3, 5, 0, 100.0, None);
        assert!((w.bounds * 3.0 - privacy.bounds_share).abs() < 1e-15);
    }

    #[test]
    fn supported_integers_take_their_counts_share_split_over_a_shared_bin() {
        // [0, 8] over 4 bins of 2: the integers 1-7 between the bounds, 0 and 8 at them.
        // Counts: 10 at 0, bins [40, 0, 30, -5], 20 at 8. Supported: 0, 1, 4, 5, 8; 4 and 5
        // share the third bin's 30 (6 in the bin [6, 8) is not supported).
        let evidence = Evidence {
            body: vec![40.0, 0.0, 30.0, -5.0],
            at_lo: 10.0,
            at_hi: 20.0,
        };
        let shares = evidence.cumulative_shares((0.0, 8.0), &[0.0, 1.0, 4.0, 5.0, 8.0]);
        let want = [10.0, 50.0, 65.0, 80.0, 100.0].map(|c| c / 100.0);
        for (s, w) in shares.iter().zip(want) {
            assert!((s - w).abs() < 1e-12, "{shares:?}");
        }
        assert_eq!(shares.len(), 5);
        assert_eq!(*shares.last().unwrap(), 1.0);
    }

    #[test]
    fn a_bins_rest_goes_to_its_points_by_their_noisy_counts() {
        // Two points above one deviation share the rest in proportion to their counts less
        // that deviation; a point below it gets nothing.
        let shares = spread_rest(90.0, &[40.0, 10.0, 70.0], 10.0);
        assert_eq!(shares, vec![30.0, 0.0, 60.0]);
        // None above one deviation: the loudest takes the whole rest (the bin's own count
        // says the rows are there).
        assert_eq!(
            spread_rest(50.0, &[-3.0, 8.0, 2.0], 10.0),
            vec![0.0, 50.0, 0.0]
        );
        // Pure noise over a bin of three points with a loud rest: the expected share of a
        // point holding no row, over many draws, stays near 0.08 deviations' worth of the
        // real point's count (here about 2.5% of the rest).
        let mut rng = DpRng::from_seed(11);
        let (mut empty, draws) = (0.0, 4000);
        for _ in 0..draws {
            let noise = rng.gaussian(3, 30.0);
            let counts = [120.0 + noise[0], noise[1], noise[2]];
            let shares = spread_rest(120.0, &counts, 30.0);
            empty += (shares[1] + shares[2]) / 2.0;
        }
        let per_point = empty / draws as f64 / 120.0;
        assert!((0.005..0.05).contains(&per_point), "{per_point}");
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
    fn a_column_piled_into_its_first_even_bin_is_binned_in_log_scale() {
        // [64 bins, at lo, at hi, null], noise std 10.
        let hist = |first: f64, rest: f64| -> Vec<f64> {
            let mut c = vec![rest; 64];
            c[0] = first;
            c.extend([0.0, 0.0, 0.0]);
            c
        };
        // Votes: 3,000 of 3,200 rows in the first of 64 bins of [1.8, 562,341].
        let edges = log_scale_edges(&hist(3000.0, 3.0), 10.0, (1.8, 562_341.0)).unwrap();
        assert_eq!(edges.len(), 65);
        assert_eq!((edges[0], edges[64]), (1.8, 562_341.0));
        let ratio = edges[1] / edges[0];
        for w in edges.windows(2) {
            assert!((w[1] / w[0] / ratio - 1.0).abs() < 1e-9, "{w:?}");
        }
        // From zero: a first bin [0, hi / 10^5], then geometric.
        let edges = log_scale_edges(&hist(3000.0, 3.0), 10.0, (0.0, 1e6)).unwrap();
        assert_eq!((edges[0], edges[1], edges[64]), (0.0, 10.0, 1e6));
        // Across zero with the rows in the bin holding zero: even in log scale on both sides,
        // a core bin [-c, c] between them (c = 0.056, 10^-5 of 5,623), the
        // sides' bins by their decades. Not where one side is a sliver of the range.
        assert_eq!(
            log_scale_edges(&hist(3000.0, 3.0), 10.0, (-5.0, 562_341.0)),
            None
        );
        let edges = log_scale_edges(&hist(3000.0, 3.0), 10.0, (-50.0, 5_623.0)).unwrap();
        assert_eq!(edges.len(), 65);
        assert_eq!((edges[0], edges[64]), (-50.0, 5_623.0));
        assert!(edges.windows(2).all(|w| w[0] < w[1]), "{edges:?}");
        let core = edges
            .windows(2)
            .position(|w| w[0] < 0.0 && w[1] > 0.0)
            .unwrap();
        assert!((edges[core] + edges[core + 1]).abs() < 1e-12, "{edges:?}");
        assert!((edges[core + 1] - 0.05623).abs() < 1e-9, "{edges:?}");
        assert!(core >= 10, "{core} bins below zero: {edges:?}");
        // Spread evenly (across zero too), too few decades, or a first bin within the noise: no.
        assert_eq!(
            log_scale_edges(&hist(60.0, 50.0), 10.0, (1.8, 562_341.0)),
            None
        );
        assert_eq!(
            log_scale_edges(&hist(60.0, 50.0), 10.0, (-5.0, 562_341.0)),
            None
        );
        assert_eq!(
            log_scale_edges(&hist(3000.0, 3.0), 10.0, (10.0, 5_000.0)),
            None
        );
        assert_eq!(
            log_scale_edges(&hist(40.0, 0.0), 10.0, (1.8, 562_341.0)),
            None
        );
    }

    #[test]
    fn a_thin_tail_joins_the_loud_part_as_a_run_and_pure_noise_rarely_does() {
        // credit_data's loan amounts (3,563 rows) on their estimated range [57, 5623], 64 bins,
        // noise std 28.25: the bulk in bins 0-18 (loud), then the rows above 1,710 in bins of
        // 13, 50, 32 and 58 rows (none two deviations), then a few rows per bin.
        let edges = even_edges((57.0, 5623.0), 64);
        let mut c = vec![0.0; 67];
        c[1..19].fill(185.0);
        for (b, n) in [13.0, 50.0, 32.0, 58.0, 6.0, 8.0, 8.0, 11.0]
            .iter()
            .enumerate()
        {
            c[19 + b] = *n;
        }
        let part = loud_part(&c, 28.25, 3563.0, &edges, true, TRIM_SEED, true).unwrap();
        // The four bins (153 rows, 2.7 deviations of their sum's noise) joined, and then the
        // next four (33 rows) did not.
        assert_eq!((part.first, part.last), (1, 22));
        assert_eq!(part.blocks, [(19, 22)]);
        assert!(part.hi > 2_050.0, "{part:?}");
        // Without the run the part stopped at the bulk's end.
        c[19..23].fill(0.0);
        let bulk = loud_part(&c, 28.25, 3563.0, &edges, true, TRIM_SEED, true).unwrap();
        assert_eq!((bulk.last, bulk.blocks.len()), (18, 0));

        // Pure noise beyond a loud part: 2,000 draws of 64 bins, 40 of them empty beyond.
        let mut rng = crate::dp::noise::DpRng::from_seed(21);
        let mut widened = 0;
        for _ in 0..2000 {
            let mut c: Vec<f64> = rng.gaussian(67, 28.25);
            for x in &mut c[10..24] {
                *x += 400.0;
            }
            let part = loud_part(&c, 28.25, 5600.0, &edges, false, TRIM_SEED, true).unwrap();
            widened += usize::from(!part.blocks.is_empty());
        }
        // Seven tries (run lengths at two ends) at 0.6% each, correlated: about 3% of parts
        // widen (3.3% in 20,000 draws of the same test in numpy).
        assert!(widened < 2000 * 8 / 100, "{widened} of 2000");
    }

    #[test]
    fn the_loud_part_and_a_bracket_beyond_a_gap() {
        // Incomes in brackets on [0, 6400] (bins of 100), noise std 10, 4,000 rows: most rows
        // in bins 2-9, then a gap, then 35 rows (3.5 deviations) at bin 30, pure noise beyond.
        let mut c = vec![0.0; 67];
        c[2..10].fill(495.0);
        c[30] = 35.0;
        c[45] = 2.5; // noise: below every level
        let edges = even_edges((0.0, 6400.0), 64);
        let part = loud_part(&c, 10.0, 4000.0, &edges, true, 3.0, true).unwrap();
        assert_eq!((part.lo, part.hi), (200.0, 3100.0));
        // 4,000 rows less the 3,995 counted inside.
        assert!((part.outside - 5.0).abs() < 1e-9);
        // At the seed level in use the bracket is left out, its rows counted outside (here 1%,
        // which the trim allows; a larger bracket fails its check and the column samples over
        // the whole range).
        let strict = loud_part(&c, 10.0, 4000.0, &edges, true, TRIM_SEED, true).unwrap();
        assert_eq!((strict.lo, strict.hi), (200.0, 1000.0));
        assert!((strict.outside - 40.0).abs() < 1e-9);
        assert!((strict.outside_std - 10.0 * 11f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn an_integer_support_grows_from_its_loud_core_over_quiet_neighbours() {
        // One integer per bin: [0, 8] over 8 bins, so integer k (0 < k < 8) is bin k. Noise
        // std 10: quiet above 20, loud above 30, a seed above 45.
        let evidence = |body: [f64; 8], at_lo: f64| Evidence {
            body: body.to_vec(),
            at_lo,
            at_hi: 0.0,
        };
        let support = |body: [f64; 8], at_lo: f64| {
            integer_support((0.0, 8.0), &evidence(body, at_lo), 10.0, false)
        };
        // A rating 1-6: 2-5 loud, the 1s and the 6s quiet (25 and 28), and noise at 7 quiet
        // too (24): one quiet integer per end, so 7 stays out.
        assert_eq!(
            support([0.0, 25.0, 600.0, 400.0, 500.0, 300.0, 28.0, 24.0], 0.0),
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
        // Noise loud on its own (35) beyond a quiet 6 and 7: not a seed, so not reached.
        assert_eq!(
            support([0.0, 0.0, 600.0, 400.0, 500.0, 300.0, 28.0, 35.0], 0.0)[4..],
            [6.0]
        );
        // A loud neighbour carries the growth on (a thin tail of a count): 6 loud, 7 quiet.
        assert_eq!(
            support([0.0, 0.0, 600.0, 400.0, 500.0, 300.0, 40.0, 24.0], 0.0),
            [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
        );
        // A 0/1 flag: 0 at the lower bound and 1 loud; a quiet noise count at 3 is not next
        // to them (2 is silent), so it stays out.
        assert_eq!(
            support([0.0, 900.0, 0.0, 25.0, 0.0, 0.0, 0.0, 0.0], 2000.0),
            [0.0, 1.0]
        );
        // Inside the core a quiet integer is kept and a silent one is not.
        assert_eq!(
            support([0.0, 900.0, 25.0, 0.0, 700.0, 0.0, 0.0, 0.0], 0.0),
            [1.0, 2.0, 4.0]
        );
        // Where the column has no loud part holding its rows (values beyond a gap), any
        // integer above three deviations seeds: 7 (35) joins beyond the silent 6.
        let anywhere = integer_support(
            (0.0, 8.0),
            &evidence([0.0, 0.0, 600.0, 400.0, 500.0, 300.0, 0.0, 35.0], 0.0),
            10.0,
            true,
        );
        assert_eq!(anywhere, [2.0, 3.0, 4.0, 5.0, 7.0]);
        // Nothing above three deviations: no support; above three but not a seed: its own core.
        assert!(support([0.0, 25.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 0.0).is_empty());
        assert_eq!(
            support([0.0, 35.0, 25.0, 0.0, 0.0, 0.0, 0.0, 0.0], 0.0),
            [1.0, 2.0]
        );
    }

    #[test]
    fn a_rating_keeps_its_quiet_top_value_across_the_empty_bins_between_integers() {
        // bfi's N3 (2,800 rows, ratings 1-6) narrowed to [1, 7]: 64 bins of 0.09375, so only
        // 5 of the body bins hold an integer (2 to 6; 1 and 7 are the bounds' own counts).
        // Noise std 62.9; the 6s (258 rows, 9%) sit below the seed level (283).
        let edges = even_edges((1.0, 7.0), 64);
        let live = live_bins(&edges, true);
        let bin = |k: f64| ((k - 1.0) / 0.09375) as usize;
        let holding: Vec<usize> = (0..64).filter(|&b| live[b]).collect();
        assert_eq!(holding, [2.0, 3.0, 4.0, 5.0, 6.0].map(bin));
        assert!(live_bins(&edges, false).iter().all(|&l| l));
        let mut c = vec![0.0; 67];
        for (k, n) in [
            (2.0, 641.0),
            (3.0, 367.0),
            (4.0, 594.0),
            (5.0, 440.0),
            (6.0, 258.0),
        ] {
            c[bin(k)] = n;
        }
        c[64] = 501.0; // the 1s, at the lower bound
        c[30] = 150.0; // noise in a bin without an integer: ignored
        let part = loud_part(&c, 62.9, 2800.0, &edges, true, TRIM_SEED, true).unwrap();
        assert_eq!((part.first, part.last), (bin(2.0), bin(6.0)));
        assert_eq!((part.lo, part.hi), (1.0, 7.0));
        // Five integer bins and the three spikes: 2,800 less 2,801 counted inside.
        assert!((part.outside + 1.0).abs() < 1e-9);
        assert!((part.outside_std - 62.9 * 8f64.sqrt()).abs() < 1e-9);
        // Counted as a continuous column, every bin is live: the 6s are seven empty bins
        // from the 5s, left out, and the 1% check's noise (46 bins) let them go.
        let blind = loud_part(&c, 62.9, 2800.0, &edges, false, TRIM_SEED, true).unwrap();
        assert_eq!(blind.last, bin(5.0));
        assert!(blind.outside <= NARROW_OUTSIDE * 2800.0 + blind.outside_std);
        // bfi's A3 on its estimated range [1, 17] (bins of 0.25, noise std 24): the 1s (90
        // rows) at the lower bound clear two deviations, not the seed's 4.5: the part, grown
        // to the 2s' bin, takes the bound in.
        let edges = even_edges((1.0, 17.0), 64);
        let bin = |k: f64| ((k - 1.0) / 0.25) as usize;
        let mut c = vec![0.0; 67];
        for (k, n) in [
            (2.0, 172.0),
            (3.0, 207.0),
            (4.0, 564.0),
            (5.0, 986.0),
            (6.0, 755.0),
        ] {
            c[bin(k)] = n;
        }
        c[64] = 90.0;
        let part = loud_part(&c, 24.0, 2800.0, &edges, true, TRIM_SEED, true).unwrap();
        assert_eq!((part.lo, part.hi), (1.0, 7.0));
        c[64] = 40.0; // within two deviations: left out
        let part = loud_part(&c, 24.0, 2800.0, &edges, true, TRIM_SEED, true).unwrap();
        assert_eq!((part.lo, part.hi), (2.0, 7.0));
    }

    #[test]
    fn only_a_column_whose_rows_sit_in_a_few_bins_is_narrowed() {
        // [64 bins, at lo, at hi, null], noise std 10, 4,000 rows over [0, 6400].
        let hist = |body: &dyn Fn(usize) -> f64, lo_spike: f64| -> Vec<f64> {
            let mut c: Vec<f64> = (0..64).map(body).collect();
            c.extend([lo_spike, 0.0, 0.0]);
            c
        };
        // A year: every row in bin 20 -> [2000, 2100].
        let year = hist(&|i| if i == 20 { 4000.0 } else { 0.0 }, 0.0);
        assert_eq!(
            narrowed(&year, 10.0, 4000.0, (0.0, 6400.0), true),
            Some((2000.0, 2100.0))
        );
        // The same year where the noise left the counts inside 70 rows short (1.75%, within
        // two deviations of the four noisy counts' sum): still narrowed.
        let mut noisy_year = hist(&|i| if i == 20 { 3950.0 } else { 0.0 }, -10.0);
        noisy_year[65] = -5.0;
        noisy_year[66] = -5.0;
        assert_eq!(
            narrowed(&noisy_year, 10.0, 4000.0, (0.0, 6400.0), true),
            Some((2000.0, 2100.0))
        );
        // A heavy tail: the bulk in the first bins, 7% of the rows thinly over the rest, and
        // noise std 60: two deviations of the part's noise (360 rows) would cover the 290 rows
        // outside, but the part touches the bound, so no allowance and no narrowing.
        let heavy = hist(&|i| if i < 6 { 620.0 } else { 5.0 }, 0.0);
        assert_eq!(narrowed(&heavy, 60.0, 4000.0, (0.0, 6400.0), false), None);
        // Spread out (a uniform rate: 62 rows per bin) with one loud bin: its few bins above the
        // noise hold a fraction of the rows, so it keeps its range.
        let spread = hist(&|i| if i == 30 { 400.0 } else { 56.0 }, 0.0);
        assert_eq!(narrowed(&spread, 10.0, 4000.0, (0.0, 6400.0), false), None);
        // Zero-inflated: the spike at the lower bound stays inside.
        let vmail = hist(&|i| if (3..5).contains(&i) { 500.0 } else { 0.0 }, 3000.0);
        assert_eq!(
            narrowed(&vmail, 10.0, 4000.0, (0.0, 6400.0), false),
            Some((0.0, 500.0))
        );
        // Capital-gain: a zero spike, loud bins near it and a thin tail of 1.7% of the rows
        // spread below the noise over the rest of the range: narrowing would clip the tail.
        let gains = {
            let mut c: Vec<f64> = (0..64)
                .map(|i| match i {
                    0..=9 => 150.0,
                    10..=59 => 9.0,
                    _ => 0.0,
                })
                .collect();
            c.extend([24_100.0, 0.0, 0.0]);
            c
        };
        assert_eq!(
            narrowed(&gains, 10.0, 26_048.0, (0.0, 100_000.0), true),
            None
        );
        // A lone noise bin far from the rows does not widen the part.
        let noisy = hist(
            &|i| {
                if i == 20 {
                    4000.0
                } else if i == 50 {
                    30.0
                } else {
                    0.0
                }
            },
            0.0,
        );
        assert_eq!(
            narrowed(&noisy, 10.0, 4000.0, (0.0, 6400.0), false),
            Some((2000.0, 2100.0))
        );
    }

    #[test]
    fn upper_quantile_matches_known_values() {
        assert!((normal_upper_quantile(0.025) - 1.959964).abs() < 1e-5);
        assert!((normal_upper_quantile(1e-7) - 5.199338).abs() < 1e-5);
    }
}
