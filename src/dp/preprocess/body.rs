//! Where a continuous column's body lies under DP: the loud part of its noisy histogram, a
//! second histogram over a narrow part, log-scale and signed edges, the integers it sits on.
//! Post-processing of noisy counts.

use crate::dp::bounds;
use crate::transform::continuous::codes_of_nines;

/// A continuous column whose values sit in at most this share of its estimated range gets a
/// second histogram over that part (`narrowed`).
pub const NARROW_SPAN: f64 = 0.125;

/// Most integers a narrowed integer column's part may span for its second histogram to count
/// each integer (the bins being their sums) rather than 64 even bins.
pub const NARROW_POINTS_MAX: f64 = 256.0;

/// Most integers a narrowed integer column's part may span for its second histogram to count
/// each integer where the first histogram saw its rows in fewer than three bins of the part (a
/// year's few values, not a spread): restaurant inspections' years (2000-2019, 27,178 rows)
/// were narrowed to [1908, 2178] in one seed of twelve and in the smoke run, where the range
/// came out a grid bin wider; they were then binned 4.2 years a bin and sampled over 1991-2027
/// (9.6% outside). Counted one by one, the noise of the empty integers summed into a bin stays
/// under the floor, which grows with it (`fewer_point_bins`).
pub const NARROW_POINTS_FEW_MAX: f64 = 1024.0;

/// Largest share of rows a narrowed range may leave outside, by the noisy estimate.
pub const NARROW_OUTSIDE: f64 = 0.01;

/// Deviations of the outside estimate's noise a column's loud part may leave out beyond
/// [`NARROW_OUTSIDE`] and still be sampled in (`continuous::fit`): at one, pure noise failed
/// about one part in six (docs/quality.md, stop 43).
pub const PART_OUTSIDE_DEVIATIONS: f64 = 2.0;

/// Parts of fewer bins than this, clear of both bounds, get two noise deviations of slack
/// on the rows they leave outside (`narrowed`). It was 2: a date column of four years (3,000
/// rows) sits in three bins of its [1985, 2124] log-scale range and was narrowed in only some
/// runs, so its dates were sampled over 140 years.
pub const NARROW_SLACK_BINS: usize = 4;

/// The part of `range` that a column's values sit in, when it is at most [`NARROW_SPAN`] of it
/// ([`loud_part`] over even bins) and holds all but [`NARROW_OUTSIDE`] of the `present` rows
/// by the noisy counts (`rows` is the public row count, `present` the rows the column's bins
/// were sized for: fewer where many are missing), with two noise deviations of slack for a
/// part of fewer than [`NARROW_SLACK_BINS`] bins clear of both bounds. Post-processing.
pub(super) fn narrowed(
    counts: &[f64],
    std: f64,
    (rows, present): (f64, f64),
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
    // Not for a column whose bins were sized for fewer rows than the table's (most of its
    // rows missing): its few bins make any part a few bins, and movies' running time (62%
    // missing, 32 bins of 17 minutes) was narrowed to [86, 137] with 10% of its rows beyond.
    let allowance = if clear && present >= rows {
        2.0 * part.outside_std
    } else {
        0.0
    };
    // A part clear of both bounds may be one bin of a small table's 8 (the span itself) even
    // where an integer part is rounded outward to whole numbers: without that slack grunfeld's
    // years (1935-1954 on [563, 5623], 220 rows) never narrowed and were sampled over
    // [1195, 3094]. A part at a bound must be narrower than the span, not equal to it up to
    // rounding: one bin of 8 at the lower bound is how a skewed amount looks, and grunfeld's
    // `value` was narrowed to it (12% of its rows beyond) where a noisy estimate said 1%.
    let slack = if clear {
        f64::from(u8::from(integer)) + 1e-9 * (hi - lo)
    } else {
        -1e-9 * (hi - lo)
    };
    let narrow = part.hi - part.lo <= NARROW_SPAN * (hi - lo) + slack
        && part.hi > part.lo
        && part.outside <= NARROW_OUTSIDE * present + allowance;
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
pub(super) fn even_edges((lo, hi): (f64, f64), bins: usize) -> Vec<f64> {
    let width = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|b| lo + b as f64 * width).collect();
    edges[bins] = hi;
    edges
}

/// The body bin of a value `x` strictly inside `(lo, hi)`, as the histograms place it: over
/// `edges` when given, else over `bins` even bins of `width` from `lo`.
pub(super) fn body_bin(x: f64, lo: f64, width: f64, bins: usize, edges: Option<&[f64]>) -> usize {
    let bin = match edges {
        Some(e) => e.partition_point(|&edge| edge <= x).max(1) - 1,
        None => ((x - lo) / width) as usize,
    };
    bin.min(bins - 1)
}

/// Per bin over uneven `edges` (bins even in log scale), the one integer it can hold where it
/// holds exactly one strictly between the bounds, placed as [`body_bin`] places a value (a bin
/// holds `[edge, next edge)`); `None` for a bin of none or several. An integer column's rows in
/// such a bin all sit on that integer. Post-processing of public edges.
pub(super) fn single_integer_bins(edges: &[f64]) -> Vec<Option<f64>> {
    let bins = edges.len().saturating_sub(1);
    if bins == 0 {
        return Vec::new();
    }
    let (lo, hi) = (edges[0], edges[bins]);
    (0..bins)
        .map(|b| {
            // The integers k with edges[b] <= k < edges[b + 1], strictly inside (lo, hi).
            let first = edges[b].ceil().max(lo.floor() + 1.0);
            let last = (edges[b + 1].ceil() - 1.0).min(hi.ceil() - 1.0);
            // `+ 0.0` writes a bin holding zero from below as 0, not -0.
            (first == last && first.is_finite()).then_some(first + 0.0)
        })
        .collect()
}

/// How many times the larger of its two neighbours' kept counts a bin must hold for the code
/// in it to take its rows ([`code_in_bin`], `continuous::fit`).
pub const CODE_SPIKE: f64 = 4.0;

/// The code a bin `[lo, hi)` would hold a spike on. Over log-scale edges (`log_scale`): zero
/// where it lies strictly inside (a first bin reaching a little under zero, whose zeros have
/// no bound's count of their own), otherwise its one code of nines (99, 999, ..., and their
/// negatives: how files write "unknown" or "not applicable"; [`codes_of_nines`]); such a bin
/// spans a factor of about 1.2, so it holds one code at most. Over even edges: its one code of
/// nines where the round value beside it (100 beside 99) is not in the bin too, since a
/// score's top mark of 100 would otherwise be put on 99; not zero, whose spike in an even bin
/// may be -1, 0 and 1. A bin holding several codes gives none. Post-processing of public
/// edges.
pub(super) fn code_in_bin(lo: f64, hi: f64, log_scale: bool) -> Option<f64> {
    if log_scale && lo < 0.0 && 0.0 < hi {
        return Some(0.0);
    }
    let mut inside = codes_of_nines().filter(|&v| lo <= v && v < hi);
    match (inside.next(), inside.next()) {
        (Some(v), None) => {
            let round = v + v.signum();
            (log_scale || !(lo <= round && round < hi)).then_some(v)
        }
        _ => None,
    }
}

/// Most integers a range may hold for [`live_bins`] to look for the bins without one.
pub(super) const LIVE_INTEGERS: f64 = 4096.0;

/// Which bins over `edges` can hold a row: for an integer column of a short range (at most
/// [`LIVE_INTEGERS`] integers), the bins an integer strictly between the bounds falls in
/// (values at a bound have their own counts), placed as the histogram places a value: by
/// division for even edges ([`even_edges`]), by the edges otherwise; every bin for other
/// columns. The storage type is public or was decided under DP: post-processing.
pub(super) fn live_bins(edges: &[f64], integer: bool) -> Vec<bool> {
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
pub(super) struct LoudPart {
    /// First and last body bin of the part.
    pub(super) first: usize,
    pub(super) last: usize,
    /// Runs of bins `(first, last)` at the part's ends that joined it together (a thin tail,
    /// each bin below the noise, whose sum clears [`BLOCK_DEVIATIONS`]): their noisy sum is
    /// what the mixture sees there, spread over the run's bins that can hold a value.
    pub(super) blocks: Vec<(usize, usize)>,
    /// The part's bounds (a bin edge, or the range's bound when its spike is loud; whole
    /// numbers for an integer column).
    pub(super) lo: f64,
    pub(super) hi: f64,
    /// The rows outside the part, estimated from the public row count minus the noisy counts
    /// inside it, at the bounds and null, and that estimate's noise std.
    pub(super) outside: f64,
    pub(super) outside_std: f64,
}

/// The part of a histogram over `edges` that a column's values sit in. `counts` is the noisy
/// histogram `[bins..., at lo, at hi, null]` with noise std `std` and `rows` the public row
/// count. As for the bounds (`bounds.rs`), the body bins above `seed` deviations (the outermost
/// of them) span the part and it grows over neighbours above [`bounds::WEAK`] deviations (an
/// isolated bin of noise cannot widen it), and a bound whose spike clears `seed` stays. With
/// `runs` (the part a column is sampled in), it then grows over thin runs of bins as well
/// ([`grow_by_blocks`]); not for the narrowing, whose part must stay a few bins (a run of noise
/// beside a year's one bin would stop its second histogram). With `runs`, a loud spike at one
/// bound of a short integer range seeds the part where no body bin is loud, if the part grown
/// from it passes the sampled part's check. Rounded outward to whole numbers for an integer
/// column. Post-processing.
pub(super) fn loud_part(
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
    // Where no body bin is loud but a bound's spike is (with `runs`: the part a column is
    // sampled in), the part starts at the live bin beside that bound and grows from there.
    // sklearn's digits (1,438 rows, 65 columns of grey levels 0-16, noise std 41 per count):
    // the zeros (27%) sat at the lower bound of an estimated [0, 56] and no bin of 1.75
    // grey levels held 4.5 deviations, so no part was found and the columns were sampled
    // over noise bins up to 56 (up to 31% of a column's rows above 16). Such a part is kept
    // only where it passes the check the sampled part must pass (it holds all but
    // [`NARROW_OUTSIDE`] of the rows, with [`PART_OUTSIDE_DEVIATIONS`] of slack): a spike
    // beside a gap (rows far from the bound) leaves the column as before. Only for an integer
    // column of a short range ([`SPIKE_SEED_INTEGERS`]): credit_data's `Debt` (82% zeros, the
    // rest spread thin up to 30,000) got a part of [0, 2501] that passed the check with 4.5%
    // of its rows beyond it.
    let loud_at = [counts[bins] > seed * std, counts[bins + 1] > seed * std];
    let live_beside = [
        (0..bins).find(|&i| live[i]),
        (0..bins).rev().find(|&i| live[i]),
    ];
    let strong_span = (0..bins)
        .find(|&i| strong(i))
        .zip((0..bins).rev().find(|&i| strong(i)));
    let by_spike_allowed = runs && integer && hi - lo <= SPIKE_SEED_INTEGERS;
    let (span, by_spike) = match (strong_span, loud_at, live_beside) {
        (Some(span), _, _) => (span, false),
        (None, [true, false], [Some(b), _]) if by_spike_allowed => ((b, b), true),
        (None, [false, true], [_, Some(b)]) if by_spike_allowed => ((b, b), true),
        _ => return None,
    };
    let (first, last) = bounds::grow(span, bins, |i| live[i], weak);
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
    let part = LoudPart {
        first,
        last,
        blocks,
        lo: new_lo,
        hi: new_hi,
        outside: rows - inside,
        outside_std: std * terms.sqrt(),
    };
    if by_spike && part.outside > NARROW_OUTSIDE * rows + PART_OUTSIDE_DEVIATIONS * part.outside_std
    {
        return None;
    }
    Some(part)
}

/// Most integers an integer column's range may span for a loud spike at one bound to seed
/// the part it is sampled in where no bin is loud ([`loud_part`]): a grey level, a score or a
/// small count, whose estimated range is padded up to 3.5 times its values, not an amount
/// whose thin tail the check cannot tell from noise.
pub const SPIKE_SEED_INTEGERS: f64 = 256.0;

/// Deviations of its summed noise (`std · √k` over `k` bins) a run of bins next to a loud part
/// must clear to join it ([`grow_by_blocks`]). A pure-noise run clears 2.5 deviations 0.6% of
/// the time, and four run lengths are tried at each end.
pub const BLOCK_DEVIATIONS: f64 = 2.5;

/// Run lengths (in bins that can hold a value) tried beyond each end of a loud part.
pub(super) const BLOCK_LENGTHS: [usize; 4] = [2, 4, 8, 16];

/// The span `(first, last)` grown outward over runs of 2, 4, 8 or 16 neighbouring live bins
/// whose noisy counts sum above [`BLOCK_DEVIATIONS`] deviations of the sum's noise, shortest
/// first, as long as one does; with the runs that joined. A skewed amount's tail is spread
/// thin: credit_data's loan amounts above 1,710 (6% of 3,563 rows) sit in bins of 13, 50, 32
/// and 58 rows under noise of std 28, none of them two deviations, so the part stopped at the
/// 94th percentile and every larger loan was sampled at 1,620-1,710 (KS 0.11, the amount-price
/// correlation 0.51 against 0.72); the four bins' sum is 2.7 deviations of its noise.
/// Post-processing of the same counts.
pub(super) fn grow_by_blocks(
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
pub(super) fn spread_over_integers(lo: f64, width: f64, body: &[f64]) -> (Vec<f64>, Vec<f64>) {
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
/// seeds the core. A quiet neighbour joins only where its count and the rows the core leaves
/// out (`present`, the rows with a value, less the core's counts) together say so: the two
/// estimates of its rows weighted by the inverse of their noise's variance must clear two
/// deviations of that combined estimate. A wide table of 1/2 answers (57 columns, std 34
/// per count) had one pure-noise 3 clear two deviations and be sampled in 2.7% of its rows;
/// with nothing left out it is now weighed down to 1.7 deviations, while a rating's 1s at
/// 3% of its rows, near three deviations, are also what the core leaves out and stay in.
/// Meant for a range of fewer integers than bins, where each integer has a bin of its own, so
/// an integer without weight is one the noisy counts give no evidence for (a 0/1 flag's 2 and
/// 3 in its log-scale range [0, 5]). Post-processing of the noisy histogram.
pub(super) fn integer_support(
    range: (f64, f64),
    counts: &Evidence,
    std: f64,
    anywhere: bool,
    present: f64,
) -> Vec<f64> {
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
    while z + 1.0 <= last && loud(z + 1.0) {
        z += 1.0;
    }
    // The rows the core leaves out, and its noise: one count per place the core's integers
    // fall in, and the null count that `present` is less of.
    let mut places: Vec<Place> = Vec::new();
    for k in integers().filter(|&k| k >= a && k <= z) {
        let place = counts.place(range, k);
        if !places.contains(&place) {
            places.push(place);
        }
    }
    let core: f64 = places.iter().map(|&p| counts.at(p)).sum();
    let left_out = (present - core, std * (places.len() as f64 + 1.0).sqrt());
    let joins = |k: f64| {
        let (c, l) = (counts.weight(range, k), left_out);
        let (wc, wl) = (1.0 / (std * std), 1.0 / (l.1 * l.1));
        (c * wc + l.0 * wl) / (wc + wl) > bounds::WEAK / (wc + wl).sqrt()
    };
    let (next_a, next_z) = (a - 1.0, z + 1.0);
    if next_a >= first && quiet(next_a) && joins(next_a) {
        a = next_a;
    }
    if next_z <= last && quiet(next_z) && joins(next_z) {
        z = next_z;
    }
    integers()
        .filter(|&k| k >= a && k <= z && quiet(k))
        .collect()
}

/// A short integer column's noisy histogram counts for [`integer_support`]: the bins between
/// the bounds and the counts exactly at each bound.
pub(super) struct Evidence {
    pub(super) body: Vec<f64>,
    pub(super) at_lo: f64,
    pub(super) at_hi: f64,
}

impl Evidence {
    /// The count of the bin (or bound) integer `k` falls in.
    pub(super) fn weight(&self, range: (f64, f64), k: f64) -> f64 {
        self.at(self.place(range, k))
    }

    /// The count at `place`.
    pub(super) fn at(&self, place: Place) -> f64 {
        match place {
            Place::Lo => self.at_lo,
            Place::Hi => self.at_hi,
            Place::Bin(b) => self.body[b],
        }
    }

    /// Where integer `k`'s count is: at a bound, or in a bin.
    pub(super) fn place(&self, (lo, hi): (f64, f64), k: f64) -> Place {
        let width = (hi - lo) / self.body.len() as f64;
        match k {
            _ if k == lo => Place::Lo,
            _ if k == hi => Place::Hi,
            _ => Place::Bin(body_bin(k, lo, width, self.body.len(), None)),
        }
    }

    /// The share of rows of each of `support` (sorted integers) as cumulative shares: each
    /// count (clipped at zero) split evenly over the supported integers that share its bin.
    pub(super) fn cumulative_shares(&self, range: (f64, f64), support: &[f64]) -> Vec<f64> {
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
pub(super) enum Place {
    Lo,
    Hi,
    Bin(usize),
}

/// Edges of bins even in log scale over `range`, for a column whose noisy histogram over even
/// bins (`counts`: `[bins..., at lo, at hi, null]`, noise std `std`) holds more than half of
/// its body in the first bin, clearly above the noise, and spans at least
/// [`LOG_SCALE_DECADES`] decades: `bins + 1` edges from `lo` to `hi`, geometric from `lo`
/// (from `hi` / 10^5 after a first bin `[lo, hi / 10^5]` when `lo` is 0 or a little under
/// it), or on both sides of zero ([`symmetric_log_edges`]). `None` otherwise, or for a range
/// below zero. Post-processing.
pub(super) fn log_scale_edges(
    counts: &[f64],
    std: f64,
    range: (f64, f64),
    fine: bool,
) -> Option<Vec<f64>> {
    let bins = counts.len().checked_sub(3)?;
    let (lo, hi) = range;
    let body: f64 = counts[..bins].iter().map(|&c| c.max(0.0)).sum();
    if lo < 0.0 && hi > 0.0 {
        if let Some(edges) = symmetric_log_edges(counts, std, range, body) {
            return Some(edges);
        }
    }
    let first = counts[0];
    let start = if lo > 0.0 { lo } else { hi * 1e-5 };
    // A lower bound a little under zero, within the first bin's width of it (its negative side
    // too small for edges on both sides of zero): the first bin reaches down to it. A census
    // income's bound came out at -17 beside an upper bound of 1.8e7 (noise in the bounds'
    // grid), and without log-scale bins the whole body, 79% of the rows, sat in the first even
    // bin of 278,000 (docs/quality.md, stop 66).
    if lo < 0.0 && -lo >= start {
        return None;
    }
    // Where the first bin is `fine` (it spans many of the column's grains), a third of the
    // body's rows there is enough, counted as the plain sum of the noisy counts (unbiased:
    // counts clipped at zero add about 0.4 deviations for every empty bin): ggplot2's film
    // budgets (5,215 present rows of 58,788, 1,000 to 200 million, 25% under 250,000) held
    // 44% of them in the first of 64 bins of [563, 1.8e8], and were sampled as if even
    // within it (25% under 1.5 million; KS 0.307).
    let rows: f64 = counts[..bins].iter().sum();
    let heavy = hi / start >= 10f64.powf(LOG_SCALE_DECADES)
        && first > bounds::STRONG * std
        && (first > 0.5 * body || (fine && first > LOG_SCALE_FINE_SHARE * rows));
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
pub(super) fn symmetric_log_edges(
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

/// Share of a column's body its first even bin must hold for [`log_scale_edges`] to bin it
/// in log scale where that bin spans at least [`LOG_SCALE_FINE_GRAINS`] of the column's
/// grains (more than half where it spans fewer). Not for small counts: PatentsHGH's patent
/// counts (1,730 rows; 0-515, median 5, a first bin of 0-8) went to log-scale bins at this
/// share, and the loud part then kept their bottom integers only (`logr` sampled in [0, 4],
/// KS 0.109 -> 0.520): an even bin of a few integers resolves them already.
pub const LOG_SCALE_FINE_SHARE: f64 = 0.3;

/// Grains (integers, lattice steps, the last decimal place) a column's first even bin must
/// span for [`LOG_SCALE_FINE_SHARE`] to apply; a column of unknown grain spans any number.
pub const LOG_SCALE_FINE_GRAINS: f64 = 100.0;

/// Decades a column's range must span for [`log_scale_edges`] to bin it in log scale.
pub const LOG_SCALE_DECADES: f64 = 3.0;

/// Share of a short integer column's noisy count its supported integers must hold for the
/// column to be sampled on them alone (`integer_support`).
pub const SUPPORT_SHARE: f64 = 0.9;

/// The cumulative shares of `points` (value, weight; sorted by value, weights clipped at
/// zero), the last exactly 1: [`ContinuousEncoder::support_shares`]. Empty when no weight.
pub(super) fn cumulative_shares(points: &[(f64, f64)]) -> Vec<f64> {
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
