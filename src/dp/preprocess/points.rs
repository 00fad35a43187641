//! A continuous column whose rows sit on a few values under DP: its loud points (multiples of
//! its grain, or float keys) become exact modes, the rest of each bin stays for the body's
//! modes. Post-processing of noisy counts.

use super::body::body_bin;
use super::normal_upper_quantile;
use crate::dp::bounds;
use crate::transform::continuous::is_code_of_nines;
use crate::transform::gmm::MixtureSettings;
use crate::transform::ContinuousEncoder;

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

/// Share of the present rows inside the bounds a column's released values must hold
/// for them all to become exact modes (`keys_measured`): such values are codes (a log of a few
/// family sizes, a disease score of 31 values), and where they hold half the rows the rest,
/// off any code the threshold released, is lost to a continuum either way.
pub const KEYS_SHARE: f64 = 0.5;

/// Share of the present rows inside the bounds a released value (`keys_measured`) must hold
/// to be an exact mode where the released values together hold under [`KEYS_SHARE`]: a
/// spike beside a continuum. Any released value is real (its count cleared the threshold);
/// at 2% of the rows, one spread over its bin moves the column's KS distance by about that.
pub const SPIKE_SHARE: f64 = 0.02;

/// Share of the present rows inside the bounds a lone point on a code of nines (99, 999,
/// ...: `transform::continuous::codes_of_nines`) must hold to be an exact mode
/// ([`lone_spikes`]), in place of [`SPIKE_SHARE`]: a score of 0-98 writing 99 for "unknown" in 1.8% of 10,000 rows had it
/// spread over 97-101. The other tests (four times its neighbours, above the noise) stay.
pub const CODE_SHARE: f64 = 0.005;

/// Most spikes (`SPIKE_SHARE`) a column keeps as exact modes, so that the body's mixture
/// keeps most of its modes for the continuum.
pub const MAX_SPIKES: usize = 3;

/// Body modes left beside the exact modes of a column's loud points: with more points than
/// `max_modes` less this, only a column whose points hold [`SUPPORT_SHARE`](super::body::SUPPORT_SHARE) of its rows is
/// put on them (snapped), its mixture unchanged.
pub const POINT_BODY_MODES: usize = 3;

/// The points of a column's grain (`grain`, written with `places` decimals) whose noisy count
/// (`points[j]` for the `j`-th point from `first`, noise std `std`) clears
/// [`bounds::STRONG`] deviations, with those counts. Post-processing.
pub(super) fn loud_points(
    points: &[f64],
    first: f64,
    grain: f64,
    places: u32,
    std: f64,
) -> Vec<(f64, f64)> {
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
pub(super) fn spread_rest(rest: f64, counts: &[f64], std: f64) -> Vec<f64> {
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

/// Each even body bin's noisy count less the counts of the points `(value, count)` inside
/// the range that fall in it (at least 0), and how many such points each bin holds: what is
/// left for a column's body modes once its points are exact modes.
pub(super) fn rest_beyond(
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

/// Points on either side of a loud point whose mean noisy count it must exceed
/// [`SPIKE_RATIO`] times to stand alone (`lone_spikes`).
pub const SPIKE_WINDOW: usize = 8;

/// How many times the mean count of its [`SPIKE_WINDOW`] neighbours on either side a loud
/// point must hold to stand alone: hours per week's 99 for "unknown" (3% of rows, beside
/// empty 90s), not its 40 among 38s and 45s.
pub const SPIKE_RATIO: f64 = 4.0;

/// The points `(value, count)` chosen of a column's grain (`points[j]`: the noisy count of the
/// `j`-th point from `first`, spaced `g`) that stand alone: each holds [`SPIKE_SHARE`] of
/// `inside` rows ([`CODE_SHARE`] on a code of nines) and [`SPIKE_RATIO`] times the mean
/// count of its [`SPIKE_WINDOW`] neighbours on either side, and exceeds that mean by more than pure noise (std `std` per
/// count) would at any of the `k` points but one time in [`THREE_SIGMA_TAIL`]⁻¹; the
/// heaviest [`MAX_SPIKES`], in the order of their values. Without the last test one of
/// churn's account lengths (1-243, about 40 rows each) came out as a spike holding 4% of the
/// rows one run in three. Post-processing of the noisy counts.
pub(super) fn lone_spikes(
    chosen: &[(f64, f64)],
    points: &[f64],
    (first, g): (f64, f64),
    inside: f64,
    std: f64,
) -> Vec<(f64, f64)> {
    let k = points.len();
    let level = normal_upper_quantile(THREE_SIGMA_TAIL / k.max(1) as f64);
    let share = |value: f64| {
        if is_code_of_nines(value) {
            CODE_SHARE
        } else {
            SPIKE_SHARE
        }
    };
    let mut spikes: Vec<(f64, f64)> = chosen
        .iter()
        .copied()
        .filter(|&(value, count)| {
            let j = ((value / g).round() - first).clamp(0.0, k as f64 - 1.0) as usize;
            let near: Vec<f64> = (j.saturating_sub(SPIKE_WINDOW)..(j + SPIKE_WINDOW + 1).min(k))
                .filter(|&i| i != j)
                .map(|i| points[i])
                .collect();
            let m = near.len().max(1) as f64;
            let mean = near.iter().sum::<f64>() / m;
            !near.is_empty()
                && count >= share(value) * inside
                && count >= SPIKE_RATIO * mean
                && count - mean > level * std * (1.0 + 1.0 / m).sqrt()
        })
        .collect();
    spikes.sort_by(|a, b| b.1.total_cmp(&a.1));
    spikes.truncate(MAX_SPIKES);
    spikes.sort_by(|a, b| a.0.total_cmp(&b.0));
    spikes
}

/// `rest` where it clears three deviations of its noise (variance `var`), else 0.
pub(super) fn clear_quiet(rest: f64, var: f64) -> f64 {
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

/// Refits `encoder`'s modes with each of `chosen` (value, noisy count) and each of `atoms` (a
/// bound's spike) an exact mode, and body modes over the bins' middles `centres` for each
/// bin's `rest` (its count beyond its chosen points): a column whose rows sit on a few points.
/// Where no bin has a rest, values are sampled on the points alone. Post-processing.
#[allow(clippy::too_many_arguments)]
pub(super) fn refit_on_points(
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
pub(super) fn widen_modes_by_bins(
    encoder: &mut ContinuousEncoder,
    width: f64,
    edges: Option<&[f64]>,
) {
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
