//! A continuous column's range, storage type, step, body histogram, exact points and mixture
//! under DP: each measurement a noisy histogram through `noise`, everything after it
//! post-processing of those counts.

use std::collections::HashMap;

use super::body::{
    body_bin, code_in_bin, cumulative_shares, even_edges, integer_support, live_bins,
    log_scale_edges, loud_part, narrowed, single_integer_bins, spread_over_integers, Evidence,
    CODE_SPIKE, LOG_SCALE_FINE_GRAINS, NARROW_OUTSIDE, NARROW_POINTS_FEW_MAX, NARROW_POINTS_MAX,
    PART_OUTSIDE_DEVIATIONS, SPREAD_INTEGERS, SPREAD_SPAN, SUPPORT_SHARE, TRIM_SEED,
};
use super::points::{
    clear_quiet, lone_spikes, loud_points, refit_on_points, rest_beyond, spread_rest,
    widen_modes_by_bins, DENSE_POINTS_MAX, DENSE_SHARE, FREE_CANDIDATES, KEYS_SHARE, MAX_SPIKES,
    POINTS_MAX, POINTS_SHARE, POINT_BODY_MODES, SPIKE_SHARE, THREE_SIGMA_TAIL,
};
use super::step::{set_step, step_histogram};
use super::{histogram_bins, normal_upper_quantile, Noise, PreprocessLedger, Shared};
use crate::dp::{bounds, tail};
use crate::lattice;
use crate::read::Column;
use crate::read::Values;
use crate::schema::ColumnSchema;
use crate::transform::continuous::Trim;
use crate::transform::{ContinuousEncoder, Encoder};

/// The encoder of the continuous column `column` (its schema `cs` gains what was decided
/// under DP: storage type, decimal places, lattice, step), within the public `bounds` or
/// bounds estimated under DP; `typed`: its storage type or step is measured too.
#[allow(clippy::too_many_arguments)]
pub(super) fn fit(
    shared: &Shared,
    noise: &mut Noise,
    ledger: &mut PreprocessLedger,
    column: &mut Column,
    cs: &mut ColumnSchema,
    bounds: &Option<(f64, f64)>,
    typed: &bool,
) -> Encoder {
    let Shared {
        privacy,
        n_rows,
        count_noise_std,
        bounds_std,
        key_threshold,
        mixture,
        measured,
        ..
    } = *shared;
    // Set when no range could be estimated: the column is then sampled as missing.
    let mut no_range = false;
    // The rows the body histogram's bins are sized for: the public row count, or where the
    // range is estimated and its grid shows many rows missing, the grid's noisy count of
    // present rows (`estimate_range`).
    let mut present = n_rows;
    let dated = matches!(column.values, Values::Date(_) | Values::Datetime { .. });
    let (lo, hi) = match bounds {
        Some(b) => *b,
        None => {
            let found = estimate_range(shared, noise, ledger, column, cs, *typed && !dated).map(
                |(range, rows)| {
                    present = rows;
                    range
                },
            );
            no_range = found.is_none();
            if no_range {
                // Too few present values for this much noise: no range can be
                // released, so the column is sampled as missing (a decision on
                // noisy counts; the ledger says how to give it a range).
                column.values.clear();
                ledger.no_range.push(column.name.clone());
            }
            found.unwrap_or((0.0, 1.0))
        }
    };
    let values = &mut column.values;
    let n = values.len();
    // A date's or timestamp's step (monthly, daily, hourly), with or without public
    // bounds (they say nothing of it: with them, month ends came back on any day),
    // in the slot reserved for it.
    if *typed && !no_range && dated {
        let (mut classes, unit) = step_histogram(values);
        noise.add(&mut classes, bounds_std);
        set_step(&classes, unit.as_deref(), cs, ledger, bounds_std, n_rows);
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
    let even_bins = histogram_bins(privacy.bins, present, count_noise_std);
    let mut bins = if integer && hi - lo <= privacy.bins as f64 {
        privacy.bins
    } else {
        even_bins
    };
    ledger.continuous_bins = even_bins;
    let width = (hi - lo) / bins as f64;
    // [bins..., exactly lo, exactly hi, null]: values sitting on a bound (a
    // zero-inflated amount, a clipped tail) keep their spike instead of being
    // smeared over the first bin.
    let (mut at_lo, mut at_hi, mut null_bucket) = (bins, bins + 1, bins + 2);
    let mut counts = histogram_over(values, (lo, hi), bins, None);
    if measured {
        noise.add(&mut counts, count_noise_std);
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
    // The noise std of the null count: the first histogram's, unless the log-scale bins
    // measure the column again (a narrowing keeps the first histogram's null count).
    let mut null_std = count_noise_std;
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
        narrowed(
            &counts,
            count_noise_std,
            (n_rows, present),
            (lo, hi),
            integer,
        )
        .filter(|_| measured && !resolved),
    ) {
        // The values sit in a few bins of the estimated range (a year in
        // [563, 5623], a latitude in [17.8, 177.8]): measure them again over
        // that part, with the bounds share (its slot is reserved above), so the
        // mixture sees them at 64 bins' resolution (`narrowed`).
        // How many of the first histogram's bins over the part clear its floor: rows
        // spread over several (a date's four years in a 1,169-row table) rather than in
        // a sliver of one (a latitude). Post-processing of the first histogram.
        let spread = (0..bins)
            .filter(|&b| {
                let (b_lo, b_hi) = (lo + b as f64 * width, lo + (b + 1) as f64 * width);
                b_hi > new_lo && b_lo < new_hi && counts[b] > floor
            })
            .count()
            >= SPREAD_BINS;
        (lo, hi) = (new_lo, new_hi);
        width = (hi - lo) / bins as f64;
        values.clamp_numbers(lo, hi);
        let most_points = if spread {
            NARROW_POINTS_MAX
        } else {
            NARROW_POINTS_FEW_MAX
        };
        if integer && hi - lo >= 1.0 && hi - lo <= most_points {
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
            noise.add(&mut points, bounds_std);
            let null = counts[null_bucket];
            // The bins are sums of the integers in them, each with the noise of those
            // counts. Where the bins above the floor hold under three quarters of the
            // present rows (a column spread thin over its integers), the bins are halved
            // until they do (`fewer_point_bins`): with 64, churn's `account_length`
            // (1-243, 4,000 rows) narrowed to [6, 200] had three or four integers a bin
            // at std 90, a
            // floor of 180 rows above its peak of about 120; two bins of noise passed,
            // and every value was sampled in 107-117 (KS 0.59, one run of three). A
            // year's few loud integers hold the rows at 64 bins and keep them.
            let binned = fewer_point_bins(&points, (lo, hi), bins, bounds_std, n_rows - null);
            if binned.sums.len() < bins {
                bins = binned.sums.len();
                ledger.narrowed_bins = bins;
                (at_lo, at_hi, null_bucket) = (bins, bins + 1, bins + 2);
                width = (hi - lo) / bins as f64;
            }
            floor = 2.0 * bounds_std * (binned.most as f64).sqrt();
            counts = binned.sums;
            counts.extend([points[0], points[k - 1], null]);
            narrowed_points = Some((lo, points));
        } else {
            // Measured with the bounds share's noise, which on a wide table is far
            // larger than the first histogram's: a 150-column table's numbers
            // (3,000 rows, noise std 115) held at most 83 rows in each of 64 bins
            // of their part, below the floor of 230, so the few bins kept were
            // noise and the mixture put each column on one or two spikes (a
            // normal of std 4.5 released as one mode of std 0.19). The part holds
            // nearly all the rows, so its bins are as many as its noise allows
            // (`narrowed_bins`), from the public row count and the plan's noise.
            // Only where the noise would swamp even 16 bins: with 16 (Ames, 74
            // columns) a part whose rows sit in a sliver of it lost its resolution
            // (the latitude, 0.08 degrees of a 2.5-degree part, sampled three times
            // too wide: KS 0.17 -> 0.64), and measuring 64 bins and pooling them
            // adds the noise of every pooled bin (the 150-column table's mean KS
            // 0.087 with 8 bins measured, 0.170 with 64 pooled).
            let null = counts[null_bucket];
            let first = bins;
            // Where the first histogram already saw the rows spread over the part, as
            // many bins as the noise allows here too: at 64, a 1,169-row table's dates
            // (four years on a part of six and a half, std 24.8 per count against about
            // 30 rows a bin) kept a few bins of noise and were sampled into three
            // years past the data (KS 0.32).
            let fewer = narrowed_bins(first, present, bounds_std);
            if fewer <= super::MIN_HISTOGRAM_BINS || spread {
                bins = fewer;
            }
            if bins < first {
                ledger.narrowed_bins = bins;
            }
            (at_lo, at_hi, null_bucket) = (bins, bins + 1, bins + 2);
            width = (hi - lo) / bins as f64;
            counts = histogram_over(values, (lo, hi), bins, None);
            noise.add(&mut counts, bounds_std);
            counts[null_bucket] = null;
            floor = 2.0 * bounds_std;
        }
        was_narrowed = true;
        ledger.narrowed_bounds.push(column.name.clone());
    } else if let Some(e) = log_scale_edges(
        &counts,
        count_noise_std,
        (lo, hi),
        grain_of(cs, integer).is_none_or(|(grain, _)| width / grain >= LOG_SCALE_FINE_GRAINS),
    )
    .filter(|_| bounds.is_none() && measured && !few_signed_points(cs, integer, (lo, hi)))
    {
        // Most rows sit in the first even bin: a count or an amount spread over
        // decades (a film's votes, 5 to 157,608 in [1.8, 562,341], sampled with a
        // median of 1,393 against 30). Measured again over bins even in log scale,
        // with the slot a narrowing would use (a column gets one or the other).
        counts = histogram_over(values, (lo, hi), bins, Some(&e));
        noise.add(&mut counts, bounds_std);
        floor = 2.0 * bounds_std;
        null_std = bounds_std;
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
        // Two deviations of the estimate's noise on top of the 1%: a 4,000-row
        // table's ages (noise 21 per count, a part of 16 bins) failed the 1% alone
        // in one run of three, and with one deviation pure noise failed about one
        // part in six: churn's failed columns took falling tails over their whole
        // widened range (account_length, real 1-243, sampled up to 556 in 6% of
        // rows). Two deviations once left out 7% of Chile's rows (incomes beyond a
        // gap); in stop 43's sweep Chile's incomes were out of reach by 2.9% with
        // either check (docs/quality.md). Where the check fails the column samples as
        // before.
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
    // Over log-scale bins on both sides of zero, a part on one sign whose other sign's bins
    // together clear `tail::TAIL_BLOCK` deviations of their sum's noise leaves out a
    // population, whatever the check says: a balance negative in 8% of 6,000 rows, its part
    // over the positive ones estimated to leave out 207 rows (real 480) within the check's
    // noise, was sampled without a negative value. Post-processing.
    // Over bins even in log scale on both sides of zero, which side of a part (below, above)
    // lies across zero from it and holds the other sign's rows.
    let signed = edges.is_some() && lo < 0.0 && hi > 0.0;
    let across_zero = |p: &super::body::LoudPart| [signed && p.lo >= 0.0, signed && p.hi <= 0.0];
    let other_sign_loud = |p: &super::body::LoudPart, e: &[f64]| -> bool {
        let [below, above] = across_zero(p);
        let other: Vec<usize> = (0..bins)
            .filter(|&b| (below && e[b + 1] <= 0.0) || (above && e[b] >= 0.0))
            .collect();
        let sum: f64 = other.iter().map(|&b| counts[b]).sum();
        sum > tail::TAIL_BLOCK * (floor / 2.0) * (other.len() as f64).sqrt()
    };
    // A part that leaves out more than the check allows is not sampled in; its
    // tails are then read as falling away from it (`failed`, below).
    let (part, failed) = match part {
        Some((p, e))
            if p.outside <= NARROW_OUTSIDE * present + PART_OUTSIDE_DEVIATIONS * p.outside_std
                && !other_sign_loud(&p, &e) =>
        {
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
        let noisy = |of: &[usize]| -> Vec<f64> { of.iter().map(|&b| counts[b]).collect() };
        // The side across zero from the part holds the other sign's rows: a population of its
        // own, not a tail (`dp::tail`).
        let fits = tail::tails_beside_clusters(
            [&noisy(&below), &noisy(&above)],
            floor / 2.0,
            p.outside,
            across_zero(p),
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
    // An integer column over log-scale bins: a bin too narrow to hold more than one integer
    // holds its rows on that integer, so a loud one holding a spike is an exact mode there.
    // Bank marketing's `pdays`, -1 (never called) in 82% of 6,000 rows and 1-871 otherwise,
    // had its -1s in the bin [-1.12, -0.86] of a range [-5, 1778], which the mixture fitted as
    // one mode of std 2.9 with the noise of its neighbours: sampled as -3 to 0 (-1 in 15% of
    // rows, KS 0.45).
    if integer {
        if let Some(e) = &edges {
            for (b, k) in single_integer_bins(e).into_iter().enumerate() {
                if let Some(k) = k.filter(|_| body[b] >= SINGLE_INTEGER_SHARE * present) {
                    atoms.push((k, body[b]));
                    body[b] = 0.0;
                }
            }
        }
        // A loud bin standing out from its neighbours that holds a code (zero, or a code of
        // nines): its rows above theirs are that code. A census extract's total income writes
        // 9999999 for "not applicable" (children) in 20% of its rows, beside incomes up to
        // about 1.5 million and zeros in 24%; over log-scale bins the code's rows filled the
        // bin [8.5e6, 1.0e7) and were sampled anywhere in it, and where the lower bound came
        // out at -17 the zeros filled the first bin, [-17, 178) (docs/quality.md, stop 66).
        // Even bins too: a score of 0-98 with 99 for "unknown" in 1.8% of the rows had it
        // spread over its bin, [96.8, 99.5) (stop 67). A public rule on the public edges,
        // applied to kept counts: post-processing.
        let e = edges.clone().unwrap_or_else(|| even_edges((lo, hi), bins));
        for b in 0..bins {
            let Some(code) = code_in_bin(e[b], e[b + 1], edges.is_some()) else {
                continue;
            };
            let side = |c: Option<usize>| c.map_or(0.0, |c| body[c]);
            let beside = side(b.checked_sub(1)).max(side((b + 1 < bins).then_some(b + 1)));
            if body[b] > 1.5 * floor && body[b] >= CODE_SPIKE * beside {
                atoms.push((code, body[b] - beside));
                body[b] = beside;
            }
        }
    }
    let range = trim.map_or((lo, hi), |t| (t.lo, t.hi));
    let atoms_weight: f64 = atoms.iter().map(|a| a.1).sum();
    if body.iter().sum::<f64>() <= 0.0 && atoms_weight <= 0.0 {
        body.fill(1.0);
    }
    // A null indicator when the metadata says nullable, or the noisy null count
    // clears three deviations of its own noise; without one, the column's few nulls
    // are encoded at the middle of its range. Not the floor's noise: a narrowed
    // column's floor is the second histogram's (the bounds share, 13.2 per count
    // for penguins' year against 22.2 for its null count), and a year without a
    // missing cell came back 18.6% missing from a null count of 2.3 deviations.
    let has_null = shared.nullable(&column.name) || shared.clears(null, null_std) || no_range;
    let null_share = if no_range {
        1.0
    } else if measured && has_null {
        null.max(0.0) / n_rows
    } else {
        0.0
    };
    // Within two deviations of the share, so that a column missing throughout is named on a
    // small table too (400 rows: std 40 put a whole column under 90% one run in six).
    let mostly_missing = null >= MOSTLY_MISSING * n_rows - 2.0 * count_noise_std;
    if !no_range && measured && mostly_missing && privacy.columns.contains_key(&column.name) {
        ledger.mostly_missing.push(column.name.clone());
    }
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
    let narrowed_here = was_narrowed && hi - lo <= SPREAD_INTEGERS && loud_span <= SPREAD_SPAN;
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
            let present = n_rows - counts[null_bucket];
            let support = integer_support(
                (lo, hi),
                &evidence(&|c| c),
                floor / 2.0,
                part.is_none(),
                present,
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
    let grain = grain_of(cs, integer);
    let slot_free = !was_narrowed && edges.is_none();
    // Whether the grain's points below took the slot.
    let mut points_taken = false;
    // A narrowed integer column's per-integer counts serve as its points (no new
    // measurement) where its grain is one.
    let reuse = narrowed_points
        .as_ref()
        .filter(|_| grain.is_some_and(|(g, _)| g == 1.0));
    let wanted = bounds.is_none() && measured && !no_range && (slot_free || reuse.is_some());
    let released = Released {
        lo,
        hi,
        width,
        bins,
        floor,
        counts: &counts,
        null_bucket,
        bin_centres: &bin_centres,
        bin_body: &bin_body,
        atoms: &atoms,
        atoms_weight,
    };
    if let Some(grain) = grain.filter(|&(g, _)| wanted && width > g) {
        points_taken = on_grain_points(
            shared,
            noise,
            ledger,
            &column.name,
            values,
            &mut encoder,
            &released,
            grain,
            range,
            reuse,
        );
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
    // An integer column of more integers than the points above may count (a house
    // value top-coded at 500,001 in 4.5% of rows, spread over its bin of 27,500 and
    // up: KS 0.03) has its values measured the same way; there a few loud values
    // are spikes beside a continuum (`on_keys`). A shorter one keeps its bins of
    // single integers, or its points.
    let keyed = key_threshold > 0.0
        && bounds.is_none()
        && !no_range
        && (!integer || range.1 - range.0 >= POINTS_MAX)
        && slot_free
        && matches!(values, Values::Float(_) | Values::Int(_))
        && !points_taken;
    if keyed {
        on_keys(
            shared,
            noise,
            ledger,
            &column.name,
            values,
            &mut encoder,
            &released,
        );
    }
    // A code of a fixed width (zip codes written `00501`: the schema's text form) has no
    // value of more digits, so its sampled part ends at the largest the form writes (the
    // zipcodes table's part reached 102,831: 0.7% of its sampled codes had six digits).
    // Values beyond fold back into the last bin's width below it.
    let most = cs
        .form
        .as_ref()
        .and_then(|f| f.number())
        .and_then(|f| f.most());
    if let Some(most) = most.filter(|&m| m > encoder.min) {
        let t = encoder.trim.get_or_insert(Trim {
            lo: encoder.min,
            hi: encoder.max,
            below: 0.0,
            above: 0.0,
        });
        if t.hi > most {
            t.hi = most;
            t.lo = t.lo.min(most);
            t.above = if t.above > 0.0 { t.above } else { width }.min(most - t.lo);
        }
    }
    Encoder::Continuous(encoder)
}

/// First-histogram bins over a narrowed part whose counts must clear the floor for the rows
/// to count as spread over the part (its second histogram then takes no more bins than its
/// noise allows: [`narrowed_bins`]).
const SPREAD_BINS: usize = 3;

/// Share of the present rows a log-scale bin holding a single integer must hold for the bin to
/// become an exact mode at that integer (`fit`): a spike, not the few rows of a count's 1s,
/// which the body's modes keep (atoms take modes from the body).
const SINGLE_INTEGER_SHARE: f64 = 0.05;

/// Bins of a narrowed part's second histogram (measured with `std`, the bounds share's
/// noise): at most `most`, and no more than leave an average bin two deviations of its noise
/// (the floor below which a bin is dropped), a power of two down to
/// [`MIN_HISTOGRAM_BINS`](super::MIN_HISTOGRAM_BINS). A part holds nearly all the rows but
/// they are not even over it (a normal's middle bins hold about twice the average), so the
/// peak clears the floor by about two. [`super::histogram_bins`]'s one deviation left the
/// 150-column table's bins at the floor.
fn narrowed_bins(most: usize, rows: f64, std: f64) -> usize {
    super::histogram_bins(most, rows, 2.0 * std)
}

/// A narrowed integer part's per-integer counts summed into even bins ([`PointBins::new`]).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PointBins {
    /// The bins' sums.
    pub(super) sums: Vec<f64>,
    /// The most integers any bin holds.
    pub(super) most: usize,
}

impl PointBins {
    /// `points` (one count per integer from `lo`; the first and last are the bounds' own)
    /// summed into `bins` even bins of `(lo, hi)`.
    pub(super) fn new(points: &[f64], (lo, hi): (f64, f64), bins: usize) -> PointBins {
        let width = (hi - lo) / bins as f64;
        let mut sums = vec![0.0; bins];
        let mut per_bin = vec![0usize; bins];
        for (j, &c) in points.iter().enumerate().take(points.len() - 1).skip(1) {
            let b = body_bin(lo + j as f64, lo, width, bins, None);
            sums[b] += c;
            per_bin[b] += 1;
        }
        let most = per_bin.into_iter().max().unwrap_or(1).max(1);
        PointBins { sums, most }
    }

    /// The rows in the bins whose sums clear the floor, two deviations of a bin's summed noise
    /// (`std` per integer, over the most integers a bin holds).
    pub(super) fn held(&self, std: f64) -> f64 {
        let floor = 2.0 * std * (self.most as f64).sqrt();
        self.sums.iter().filter(|&&c| c > floor).sum()
    }
}

/// Share of the present rows the bins above the floor must hold for a narrowed integer part's
/// per-integer counts to keep that many bins ([`fewer_point_bins`]).
pub(super) const POINT_BINS_HELD: f64 = 0.75;

/// A narrowed integer part's per-integer counts (noise std `std` each) summed into `most`
/// bins, halved while the bins above the floor ([`PointBins::held`]) hold under
/// [`POINT_BINS_HELD`] of the `present` rows (noisy: the row count less the noisy null
/// count), down to [`MIN_HISTOGRAM_BINS`](super::MIN_HISTOGRAM_BINS). Post-processing of the
/// same counts.
pub(super) fn fewer_point_bins(
    points: &[f64],
    range: (f64, f64),
    most: usize,
    std: f64,
    present: f64,
) -> PointBins {
    let mut binned = PointBins::new(points, range, most);
    while binned.sums.len() > super::MIN_HISTOGRAM_BINS
        && binned.held(std) < POINT_BINS_HELD * present
    {
        binned = PointBins::new(points, range, binned.sums.len() / 2);
    }
    binned
}

/// A continuous column's counts over `bins` bins of `(lo, hi)` (even, or over `edges`:
/// `bins + 1` of them), then the rows exactly at `lo`, exactly at `hi`, and missing:
/// `[bins..., at lo, at hi, null]`. Values sitting on a bound (a zero-inflated amount, a
/// clipped tail) keep their spike instead of being smeared over the first bin.
fn histogram_over(
    values: &Values,
    (lo, hi): (f64, f64),
    bins: usize,
    edges: Option<&[f64]>,
) -> Vec<f64> {
    let width = (hi - lo) / bins as f64;
    let (at_lo, at_hi, null_bucket) = (bins, bins + 1, bins + 2);
    let mut counts = vec![0.0; bins + 3];
    for i in 0..values.len() {
        match values.number(i) {
            Some(x) if x <= lo => counts[at_lo] += 1.0,
            Some(x) if x >= hi => counts[at_hi] += 1.0,
            Some(x) => counts[body_bin(x, lo, width, bins, edges)] += 1.0,
            None => counts[null_bucket] += 1.0,
        }
    }
    counts
}

/// Most points of its grain a range across zero may hold for the column to keep the slot for
/// counting them (`on_grain_points`) rather than bins even in log scale on both sides of zero.
const SIGNED_POINTS_MAX: f64 = 256.0;

/// Whether a column's range crosses zero and holds at most [`SIGNED_POINTS_MAX`] points of its
/// grain (its lattice, an integer, or up to three decimal places): a few coded values of both
/// signs (-2.25, 0 and 1.5 on a lattice of 0.05) were binned in log scale around zero, which
/// took the slot their points would have been counted in, and came back as -0.05, 0.05 and
/// 1.4. From what was decided under DP (the storage type) and the range.
fn few_signed_points(cs: &ColumnSchema, integer: bool, (lo, hi): (f64, f64)) -> bool {
    grain_of(cs, integer)
        .is_some_and(|(grain, _)| lo < 0.0 && hi > 0.0 && (hi - lo) / grain <= SIGNED_POINTS_MAX)
}

/// A column's grain and the decimal places it is written with, as decided under DP: its
/// lattice, one for an integer column, or up to three decimal places; `None` otherwise.
fn grain_of(cs: &ColumnSchema, integer: bool) -> Option<(f64, u32)> {
    match (cs.lattice, integer, cs.decimals) {
        (Some(l), _, _) => Some((f64::from(l), l.places())),
        (None, true, _) => Some((1.0, 0)),
        (None, false, Some(d)) if d <= 3 => Some((10f64.powi(-(d as i32)), d)),
        _ => None,
    }
}

/// The range of a column without public bounds, from its noisy log-scale grid
/// (`bounds::bounds_from_grid`), and the rows its body histogram's bins are sized for
/// ([`present_rows`]); `None` when nothing clears the noise. Where `typed`, its storage type
/// is measured first ([`measure_type`]): an integer column's grid bins between 1e-8 and 1 can
/// hold no value, so its bounds skip them.
fn estimate_range(
    shared: &Shared,
    noise: &mut Noise,
    ledger: &mut PreprocessLedger,
    column: &Column,
    cs: &mut ColumnSchema,
    typed: bool,
) -> Option<((f64, f64), f64)> {
    let values = &column.values;
    let mut grid = vec![0.0; bounds::GRID_BINS];
    for i in 0..values.len() {
        if let Some(x) = values.number(i) {
            grid[bounds::grid_bin(x)] += 1.0;
        }
    }
    noise.add(&mut grid, shared.bounds_std);
    if typed {
        measure_type(shared, noise, ledger, column, cs);
    }
    let whole = cs.value_type == crate::read::ValueType::Int;
    let range = bounds::bounds_from_grid(&grid, shared.bounds_std, whole, shared.estimated_columns);
    // The grid reaches 1.8e19, past what an integer column can hold (i64): values of 1e300
    // typed as integers were written as 9223372036854775807. An integer column's range stops
    // at the largest values i64 holds.
    let range = match range {
        Some((lo, hi)) if whole => Some((lo.max(-I64_LIMIT), hi.min(I64_LIMIT))),
        range => range,
    }?;
    Some((range, present_rows(&grid, shared.bounds_std, shared.n_rows)))
}

/// The rows a column's body histogram is sized for (`histogram_bins`), from its noisy grid
/// (noise std `std` per bin) and the public row count `rows`: the grid's noisy count of
/// present rows (every bin: values the range will clip are present too), one deviation of
/// that sum's noise added, where it is three deviations below `rows`; `rows` otherwise.
/// Sized for every row, a column missing in most of them got 64 bins that its present rows
/// could not fill: vega's movies' DVD sales (458 present rows of 2,561, std 29.5 per count)
/// held about 7 rows a bin, every bin was under the noise floor, and its samples' median was
/// 81 million against 20 million. Post-processing of the grid.
fn present_rows(grid: &[f64], std: f64, rows: f64) -> f64 {
    let sum: f64 = grid.iter().sum();
    let sum_std = std * (grid.len() as f64).sqrt();
    if sum < rows - 3.0 * sum_std {
        (sum + sum_std).clamp(1.0, rows)
    } else {
        rows
    }
}

/// The largest magnitude an integer column's estimated range may take: the largest `f64`
/// below `i64::MAX` (2^63 - 1024), so that every sampled value converts without saturating.
const I64_LIMIT: f64 = 9_223_372_036_854_774_784.0;

/// Share of the rows a continuous column with public metadata must be missing in (its noisy
/// null count, less two deviations of its noise) to be named on the terminal
/// (`PreprocessLedger::mostly_missing`): its cells are likely of another form than the
/// metadata says.
const MOSTLY_MISSING: f64 = 0.9;

/// A number column's storage type (integer, or its decimal places) and lattice, from a noisy
/// histogram of the places each value needs, in the slot the plan reserves for every such
/// column; declared `integer`/`decimals` stand. `cs` takes what was decided, the ledger says
/// it.
fn measure_type(
    shared: &Shared,
    noise: &mut Noise,
    ledger: &mut PreprocessLedger,
    column: &Column,
    cs: &mut ColumnSchema,
) {
    let Shared {
        privacy,
        n_rows,
        bounds_std,
        ..
    } = *shared;
    let values = &column.values;
    let n = values.len();
    let mut classes = vec![0.0; lattice::CLASSES];
    for i in 0..n {
        if let Some(x) = values.number(i) {
            classes[lattice::class_of(x)] += 1.0;
        }
    }
    noise.add(&mut classes, bounds_std);
    let public = privacy.columns.get(&column.name);
    let declared = public.and_then(|p| if p.integer { Some(0) } else { p.decimals });
    let decimals = match declared {
        Some(d) => Some(d),
        None => {
            let decimals = bounds::decimals_from_classes(&classes, bounds_std, n_rows);
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
        cs.lattice = decimals.and_then(|d| bounds::lattice_from_classes(&classes, bounds_std, d));
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
    let said: Vec<String> = [typed, on].into_iter().filter(|t| !t.is_empty()).collect();
    if !said.is_empty() {
        ledger.typed_under_dp.push(format!(
            "{}: {}",
            crate::schema::shown(&column.name),
            said.join(" ")
        ));
    }
}

/// What a column's body histogram released, for the points and keys that refine its mixture:
/// the (possibly narrowed) range and its even bins, the noisy counts (`counts`: the bins, then
/// exactly `lo`, exactly `hi` and null at `null_bucket`), the floor below which a bin is noise,
/// the bins' middles and kept counts, and the spikes at the bounds (`atoms`, their total
/// `atoms_weight`).
struct Released<'c> {
    lo: f64,
    hi: f64,
    width: f64,
    bins: usize,
    floor: f64,
    counts: &'c [f64],
    null_bucket: usize,
    bin_centres: &'c [f64],
    bin_body: &'c [f64],
    atoms: &'c [(f64, f64)],
    atoms_weight: f64,
}

/// Values on a few points of the column's grain `(grain, places)` inside `range`: one noisy
/// count per point is measured in the column's free second slot (or a narrowing's per-integer
/// counts are reused, `reuse`), and where loud points hold most rows `encoder` is refitted on
/// them (exact modes, a mixture over dense points, or snapping targets). Returns whether a new
/// measurement took the slot.
#[allow(clippy::too_many_arguments)]
fn on_grain_points(
    shared: &Shared,
    noise: &mut Noise,
    ledger: &mut PreprocessLedger,
    name: &str,
    values: &Values,
    encoder: &mut ContinuousEncoder,
    released: &Released,
    (g, places): (f64, u32),
    range: (f64, f64),
    reuse: Option<&(f64, Vec<f64>)>,
) -> bool {
    let Shared {
        n_rows,
        bounds_std,
        mixture,
        ..
    } = *shared;
    let Released {
        lo,
        hi,
        width,
        bins,
        floor,
        counts,
        null_bucket,
        bin_centres,
        bin_body,
        atoms,
        atoms_weight,
    } = *released;
    let n = values.len();
    let mut points_taken = false;
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
            noise.add(&mut points, bounds_std);
            ledger.points_measured.push(name.to_string());
            points_taken = true;
            points
        };
        let present = n_rows - counts[null_bucket].max(0.0);
        let mut loud = loud_points(&points, first, g, places, bounds_std);
        // The most points that become exact modes beside the body's.
        let most = mixture.max_modes.saturating_sub(POINT_BODY_MODES);
        // More loud points than exact modes may take, short of the share that snaps values
        // onto them all: where the heaviest `most` hold `POINTS_SHARE` of the rows, they alone
        // are the points, and the others' rows stay with the body's modes. PSID's schooling
        // (12 in 38% of 3,885 rows, seven more values over 4% each, 99 for unknown) had eight
        // loud points holding 88%, one too many for exact modes and under the 90% for
        // snapping, and was sampled as a mixture over 48 values (KS 0.150).
        let all_held: f64 = loud.iter().map(|p| p.1).sum();
        if loud.len() > most && all_held < SUPPORT_SHARE * present {
            let mut top = loud.clone();
            top.sort_by(|a, b| b.1.total_cmp(&a.1));
            top.truncate(most);
            let top_held: f64 = top
                .iter()
                .filter(|p| p.0 > lo && p.0 < hi)
                .map(|p| p.1)
                .sum();
            if top_held >= POINTS_SHARE * (present - atoms_weight).max(0.0) {
                top.sort_by(|a, b| a.0.total_cmp(&b.0));
                loud = top;
            }
        }
        let held: f64 = loud.iter().map(|p| p.1).sum();
        // The rest of each bin's count beyond its loud points (a bracket
        // below the points' noise: Chile's 62,500s) stays for the body's
        // modes, so it is sampled near its values rather than snapped onto a
        // far point.
        let (mut rest, mut taken) = rest_beyond(bin_body, &loud, (lo, hi), width);
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
        let clear = |r: f64, b: usize, points: usize| clear_quiet(r, rest_var(b, points));
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
        // The loudest point of bin `b` not in `chosen`, where it clears three
        // deviations for a bin of up to [`FREE_CANDIDATES`] points (pure noise
        // clears it in 1% of such bins at most), more for more, so that the
        // chance stays there (an id column's bins of 87 points each gained two
        // noise points at three deviations). A bracket of Chile's incomes
        // (200,000, 4% of the rows, in a bin of seven multiples of 500) needs
        // the three.
        let confirmed = |b: usize, chosen: &[(f64, f64)]| -> Option<usize> {
            let best = points_of(b)
                .filter(|&j| !chosen.iter().any(|q| q.0 == at(j)))
                .max_by(|&i, &j| points[i].total_cmp(&points[j]));
            let candidates = points_of(b).len().max(1) as f64;
            let tail = THREE_SIGMA_TAIL * (FREE_CANDIDATES / candidates).min(1.0);
            let level = normal_upper_quantile(tail);
            best.filter(|&j| points[j] > level * bounds_std)
        };
        let mut chosen = loud.clone();
        for b in 0..bins {
            while rest[b] > 0.0 && chosen.len() < most {
                let Some(j) = confirmed(b, &chosen) else {
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
                encoder,
                bin_centres,
                &rest,
                &chosen,
                atoms,
                (lo, hi),
                width,
                mixture,
            );
            ledger.on_points.push(name.to_string());
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
            let (mut rest, taken) = rest_beyond(bin_body, &chosen, (lo, hi), width);
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
                atoms,
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
            ledger.on_points.push(name.to_string());
        } else if !loud.is_empty() && held >= SUPPORT_SHARE * present {
            // Many points (a year, an age) holding nearly every row: the
            // mixture stays, and sampled values snap onto the points.
            encoder.support = loud.iter().map(|p| p.0).collect();
            encoder.support_shares = cumulative_shares(&loud);
            ledger.on_points.push(name.to_string());
        } else if encoder.support.is_empty() {
            // A spread column with a code standing alone (hours per week with 99
            // for "unknown" in 3% of rows beside empty 90s): the mixture fitted
            // it as a wide mode over its bin and the bins around it (sampled
            // 90-103). Each lone spike inside the bounds is an exact mode, and
            // the body's modes keep the rest of the rows. Not where an earlier
            // rule put the values on their integers at their noisy shares (a
            // short integer column): its spikes are on them already.
            let inside = (present - atoms_weight).max(0.0);
            // Among the points chosen above (loud, or confirmed by their bin),
            // and the loudest of each bin whose rest is still loud (the chosen
            // stop at `most`, and a spike's bin may come after).
            let mut candidates = chosen.clone();
            for b in (0..bins).filter(|&b| rest[b] > 0.0) {
                if let Some(j) = confirmed(b, &candidates) {
                    candidates.push((at(j), points[j]));
                }
            }
            let mut spikes = lone_spikes(&candidates, &points, (first, g), inside, bounds_std);
            // A code its bin put an exact mode on already (`code_in_bin`, whose bin's count
            // here is what is left beside it) keeps that mode.
            spikes.retain(|p| p.0 > lo && p.0 < hi && !atoms.iter().any(|a| a.0 == p.0));
            cap_by_bins(&mut spikes, bin_body, lo, width);
            if !spikes.is_empty() {
                // Only a spike's own bin gives up its rows: the others keep their
                // counts (cleared of quiet rests, Ames' lot frontage kept three body
                // modes, and its 60s came back at three times their share).
                let (mut rest, taken) = rest_beyond(bin_body, &spikes, (lo, hi), width);
                for (b, r) in rest.iter_mut().enumerate().filter(|(b, _)| taken[*b] > 0) {
                    *r = clear(*r, b, taken[b]);
                }
                refit_on_points(
                    encoder,
                    bin_centres,
                    &rest,
                    &spikes,
                    atoms,
                    (lo, hi),
                    width,
                    mixture,
                );
                ledger.on_points.push(name.to_string());
            }
        }
    }
    points_taken
}

/// Each spike's `(value, count)` count at most its even bin's count in `bin_body` (bins of
/// `width` from `lo`); a spike whose bin holds nothing is dropped. The bin's count is measured
/// apart with the table's smaller noise: Ames' lot frontage of 60 (220 of 2,344 rows) had a
/// point count of 402 at the bounds share's std 68, and was sampled at 16%. Post-processing.
fn cap_by_bins(spikes: &mut Vec<(f64, f64)>, bin_body: &[f64], lo: f64, width: f64) {
    for (value, count) in spikes.iter_mut() {
        let b = body_bin(*value, lo, width, bin_body.len(), None);
        *count = count.min(bin_body[b]);
    }
    spikes.retain(|p| p.1 > 0.0);
}

/// A column's own values inside the bounds, measured in its free second slot as a
/// thresholded histogram (`key_threshold`); where the released values hold
/// [`KEYS_SHARE`] of the rows inside the bounds, each is an exact mode of `encoder` and
/// each bin's rest stays with the body's modes. Short of that share, the released values
/// that hold [`SPIKE_SHARE`] of those rows each (at most [`MAX_SPIKES`]: a top code, a
/// sentinel) are exact modes alone.
fn on_keys(
    shared: &Shared,
    noise: &mut Noise,
    ledger: &mut PreprocessLedger,
    name: &str,
    values: &Values,
    encoder: &mut ContinuousEncoder,
    released: &Released,
) {
    let Shared {
        n_rows,
        bounds_std,
        key_threshold,
        mixture,
        ..
    } = *shared;
    let Released {
        lo,
        hi,
        width,
        floor,
        counts,
        null_bucket,
        bin_centres,
        bin_body,
        atoms,
        atoms_weight,
        ..
    } = *released;
    let n = values.len();
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
    noise.add(&mut key_counts, bounds_std);
    ledger.keys_measured.push(name.to_string());
    ledger.key_threshold = key_threshold;
    let mut chosen: Vec<(f64, f64)> = keys
        .into_iter()
        .zip(key_counts)
        .filter(|&(_, c)| c > key_threshold)
        .collect();
    chosen.sort_by(|a, b| b.1.total_cmp(&a.1));
    chosen.truncate(mixture.max_modes.saturating_sub(POINT_BODY_MODES));
    let present = n_rows - counts[null_bucket].max(0.0);
    let inside = (present - atoms_weight).max(0.0);
    let spikes = chosen.iter().map(|p| p.1).sum::<f64>() < KEYS_SHARE * inside;
    if spikes {
        // Spikes beside a continuum: a top code (a house value at 500,001 in 4.5% of
        // rows), a sentinel (999), a popular round amount.
        chosen.retain(|p| p.1 >= SPIKE_SHARE * inside);
        chosen.truncate(MAX_SPIKES);
        cap_by_bins(&mut chosen, bin_body, lo, width);
    }
    if !chosen.is_empty() {
        // Each bin's count beyond its chosen values, kept where it clears
        // three deviations of the difference's noise; beside spikes, only their
        // own bins give up rows (the continuum keeps its counts).
        let (mut rest, taken) = rest_beyond(bin_body, &chosen, (lo, hi), width);
        for (r, &t) in rest.iter_mut().zip(&taken) {
            if spikes && t == 0 {
                continue;
            }
            let var = (floor / 2.0).powi(2) + t as f64 * bounds_std.powi(2);
            *r = clear_quiet(*r, var);
        }
        chosen.sort_by(|a, b| a.0.total_cmp(&b.0));
        refit_on_points(
            encoder,
            bin_centres,
            &rest,
            &chosen,
            atoms,
            (lo, hi),
            width,
            mixture,
        );
        ledger.on_points.push(name.to_string());
    }
}
