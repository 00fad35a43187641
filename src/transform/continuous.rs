//! CTGAN's mode-specific normalisation of a continuous column: a value becomes a scalar in
//! [-1, 1] (its offset from a mixture mode in units of four standard deviations) plus a one-hot
//! choice of the mode, drawn from the mode's posterior probability. Missing values get a
//! two-slot indicator.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::gmm::{fit_modes, mode_probabilities, MixtureSettings, Mode};
use crate::read::Values;

/// A fitted continuous encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinuousEncoder {
    /// Kept mixture modes (empty for a constant column).
    pub modes: Vec<Mode>,
    /// Smallest value seen; decoded values are clipped to [min, max].
    pub min: f64,
    /// Largest value seen.
    pub max: f64,
    /// Whether the column had missing values (adds a [present, missing] span).
    pub has_null: bool,
    /// Share of missing values seen (reported by `inspect`).
    pub null_rate: f64,
    /// The only values decoded values may take, sorted; a decoded value becomes the nearest
    /// one. Set in DP mode for an integer column of a short estimated range (each integer
    /// its own histogram bin) whose loud integers hold nearly all its rows: the integers whose
    /// noisy count cleared three noise deviations, so that a 0/1 flag modelled as a
    /// continuous integer is not sampled as 2 or 3. Empty: any value in `[min, max]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub support: Vec<f64>,
    /// The share of sampled values each [`ContinuousEncoder::support`] value takes, as
    /// cumulative shares in support order (the last is 1). When set, a decoded value is put on
    /// the support by quantiles instead of by nearness: its place in the mixture's
    /// distribution ([`cdf`](Self::cdf)) picks the support value whose cumulative share
    /// holds it, so each value is sampled at its share and the order of values is kept. With
    /// nearness, a value's share was the mixture's mass around it: a coded score's value next
    /// to a gap took the gap's mass as well. Empty: the nearest value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub support_shares: Vec<f64>,
    /// Set in DP mode for a column of an estimated range: the part of the range its noisy
    /// counts put the rows in (`dp::preprocess`). Training rows keep the whole range; sampled
    /// values stay in the part. None: sampled values are clipped to `[min, max]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim: Option<Trim>,
}

/// The part of a continuous column's range its values are sampled in
/// ([`ContinuousEncoder::trim`]), with the widths of its outer histogram bins: a decoded value
/// beyond the part is folded back into that bin (`hi - (x - hi) mod above`, and the mirror
/// below), so that the generator's overshoot is spread over the last bin rather than piled
/// onto the bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trim {
    /// Lowest value sampled.
    pub lo: f64,
    /// Highest value sampled.
    pub hi: f64,
    /// Width of the part's first bin.
    pub below: f64,
    /// Width of the part's last bin.
    pub above: f64,
}

/// Cells of [`QuantileTable`]'s grid over a column's range.
const QUANTILE_CELLS: usize = 256;

/// [`ContinuousEncoder::quantile`] for many draws from one mixture (the surrogate rows map
/// every drawn normal score through it: 60 columns x 20,000 rows took 40 s as bisection). The
/// cdf is tabulated once at `QUANTILE_CELLS + 1` points of `[min, max]`; a draw finds its cell
/// by binary search, then a false-position search (Illinois, with a bisection step whenever
/// the bracket fails to halve) finishes it in a few cdf evaluations instead of bisection's
/// 61. A cell holding an atom is bisected, as `quantile` does, so an atom keeps every `u`
/// inside its jump. Agrees with `quantile` to 1e-9 of the range (tested).
pub struct QuantileTable<'a> {
    enc: &'a ContinuousEncoder,
    xs: Vec<f64>,
    cdfs: Vec<f64>,
}

impl<'a> QuantileTable<'a> {
    fn new(enc: &'a ContinuousEncoder) -> QuantileTable<'a> {
        let xs: Vec<f64> = (0..=QUANTILE_CELLS)
            .map(|i| {
                if i == QUANTILE_CELLS {
                    enc.max
                } else {
                    enc.min + (enc.max - enc.min) * i as f64 / QUANTILE_CELLS as f64
                }
            })
            .collect();
        let cdfs = xs.iter().map(|&x| enc.cdf(x)).collect();
        QuantileTable { enc, xs, cdfs }
    }

    /// The smallest value in `[min, max]` at which the cdf reaches `u`, as
    /// [`ContinuousEncoder::quantile`].
    pub fn quantile(&self, u: f64) -> f64 {
        let enc = self.enc;
        if self.cdfs[0] >= u {
            return enc.min;
        }
        let j = self.cdfs.partition_point(|&c| c < u);
        if j == self.cdfs.len() {
            // Mass beyond `max` (the mixture is not truncated): bisection ends at `max`.
            return enc.quantile(u);
        }
        let (mut lo, mut hi) = (self.xs[j - 1], self.xs[j]);
        if enc
            .modes
            .iter()
            .any(|m| m.exact && m.mean >= lo && m.mean <= hi)
        {
            return bisect(enc, u, lo, hi);
        }
        let tol = (enc.max - enc.min) * 1e-13;
        let (mut flo, mut fhi) = (self.cdfs[j - 1] - u, self.cdfs[j] - u);
        // +1: the last step moved `hi`; -1: it moved `lo`.
        let mut side = 0i8;
        let mut width = hi - lo;
        for step in 0..200 {
            if hi - lo <= tol {
                break;
            }
            let secant = lo - flo * (hi - lo) / (fhi - flo);
            let x = if step % 3 == 2 && hi - lo > 0.5 * width {
                0.5 * (lo + hi)
            } else if secant > lo && secant < hi {
                secant
            } else {
                0.5 * (lo + hi)
            };
            if step % 3 == 2 {
                width = hi - lo;
            }
            let f = enc.cdf(x) - u;
            if f >= 0.0 {
                if f == 0.0 {
                    return x;
                }
                hi = x;
                fhi = f;
                if side == 1 {
                    flo *= 0.5;
                }
                side = 1;
            } else {
                lo = x;
                flo = f;
                if side == -1 {
                    fhi *= 0.5;
                }
                side = -1;
            }
        }
        hi
    }
}

/// Bisection for the smallest `x` in `[lo, hi]` with `cdf(x) ≥ u` (given `cdf(lo) < u`); an
/// atom inside the final interval is where the jump is.
fn bisect(enc: &ContinuousEncoder, u: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if enc.cdf(mid) >= u {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    enc.modes
        .iter()
        .find(|m| m.exact && m.mean >= lo && m.mean <= hi)
        .map_or(hi, |m| m.mean)
}

/// A single value held by at least this share of a column's present values gets its own
/// exact mode when fitting on the rows (non-DP mode): a zero-inflated amount (Adult's
/// capital-gain is 92% zeros) then keeps its zeros exact. The mixture alone fits the spike
/// with a wide mode (its covariance prior: std 49 for capital-gain), and a generated zero came
/// back as a small non-zero amount.
pub const SPIKE_SHARE: f64 = 0.1;

/// A single value held by at least this share of a column's present values, whose nearest
/// other value is [`GAP_SHARE`] of the range away, gets its own exact mode when fitting on the
/// rows (non-DP mode): a code written far from the amounts ("9999999" for not applicable,
/// Adult's 99,999 capital gains, 0.6% of rows, beyond its next value of 41,310) comes back as
/// itself, not as a value near it.
pub const FAR_CODE_SHARE: f64 = 0.005;

/// The codes of nines files write for "unknown" or "not applicable": ±99, ±999, ...,
/// ±(10^15 − 1). A public list: DP preprocessing places spikes on them too.
pub fn codes_of_nines() -> impl Iterator<Item = f64> {
    (2..=15).flat_map(|k| {
        let v = 10f64.powi(k) - 1.0;
        [v, -v]
    })
}

/// Whether `v` is a code of nines ([`codes_of_nines`]).
pub fn is_code_of_nines(v: f64) -> bool {
    codes_of_nines().any(|c| c == v)
}

/// Distinct values on either side whose mean count a code of nines must exceed
/// [`CODE_RATIO`] times to be an exact mode when fitting on the rows ([`FAR_CODE_SHARE`] of
/// them at least).
pub const CODE_WINDOW: usize = 8;

/// How many times the mean count of its [`CODE_WINDOW`] neighbours a code of nines must
/// hold: a score of 0-98 writing 99 for "unknown" in 2% of rows (beside 0.5% at 98) was
/// fitted into the top mode of the score's tail, 95 ± 4.7.
pub const CODE_RATIO: f64 = 4.0;

impl ContinuousEncoder {
    /// Fits the mixture on the distinct present values weighted by their counts; values held
    /// by at least [`SPIKE_SHARE`] of them, or far from every other value and held by at least
    /// [`FAR_CODE_SHARE`], or a code of nines held by as many and standing out from its
    /// neighbours ([`CODE_RATIO`]), become exact modes.
    pub fn fit(values: &Values, settings: MixtureSettings) -> ContinuousEncoder {
        let mut present: Vec<f64> = (0..values.len()).filter_map(|i| values.number(i)).collect();
        let nulls = values.len() - present.len();
        present.sort_by(f64::total_cmp);
        let mut points = Vec::new();
        let mut weights = Vec::new();
        for x in &present {
            if points.last() == Some(x) {
                *weights.last_mut().expect("weights follow points") += 1.0;
            } else {
                points.push(*x);
                weights.push(1.0);
            }
        }
        let (min, max) = (present[0], present[present.len() - 1]);
        let total = present.len() as f64;
        // A value whose nearest other value is a gap of [`GAP_SHARE`] of the range away.
        let far = |i: usize| {
            let left = i.checked_sub(1).map(|j| points[i] - points[j]);
            let right = points.get(i + 1).map(|y| y - points[i]);
            left.into_iter()
                .chain(right)
                .reduce(f64::min)
                .is_some_and(|gap| gap >= GAP_SHARE * (max - min))
        };
        // A code of nines standing out from the distinct values beside it.
        let code = |i: usize| {
            if !is_code_of_nines(points[i]) {
                return false;
            }
            let near = (i.saturating_sub(CODE_WINDOW)..(i + CODE_WINDOW + 1))
                .filter(|&j| j != i && j < points.len());
            let (sum, count) = near.fold((0.0, 0usize), |(s, c), j| (s + weights[j], c + 1));
            weights[i] >= CODE_RATIO * sum / count.max(1) as f64
        };
        let (mut body_points, mut body_weights, mut atoms) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (&x, &w)) in points.iter().zip(&weights).enumerate() {
            let spike =
                w >= SPIKE_SHARE * total || (w >= FAR_CODE_SHARE * total && (far(i) || code(i)));
            if spike && points.len() > 1 {
                atoms.push((x, w));
            } else {
                body_points.push(x);
                body_weights.push(w);
            }
        }
        Self::from_weighted_points(
            &body_points,
            &body_weights,
            &atoms,
            (min, max),
            nulls as f64 / values.len().max(1) as f64,
            nulls > 0,
            settings,
        )
    }

    /// Fits the mixture on `points` with `weights` (distinct values and their counts, or DP
    /// histogram bin centres and noisy counts); decoded values are clipped to `bounds`.
    /// `atoms` are (value, weight) pairs held exactly (DP spike buckets at a bound): each gets
    /// its own exact mode, so a zero-inflated amount keeps its zeros exact instead of smearing
    /// them over the neighbouring bin's width.
    pub fn from_weighted_points(
        points: &[f64],
        weights: &[f64],
        atoms: &[(f64, f64)],
        bounds: (f64, f64),
        null_rate: f64,
        has_null: bool,
        settings: MixtureSettings,
    ) -> ContinuousEncoder {
        let (min, max) = bounds;
        // Points without weight (empty or denoised histogram bins) carry no information, and
        // an uncovered weightless point would give the covering mode a 0/0 mean.
        let (points, weights): (Vec<f64>, Vec<f64>) = points
            .iter()
            .zip(weights)
            .filter(|(_, &w)| w > 0.0)
            .map(|(&x, &w)| (x, w))
            .unzip();
        let mut atoms: Vec<(f64, f64)> = atoms.iter().copied().filter(|&(_, w)| w > 0.0).collect();
        // At most `max_modes` modes in all, atoms included: keep the heaviest atoms that leave
        // room for one body mode, and fold the others back into the body as plain points.
        let (mut points, mut weights) = (points, weights);
        atoms.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (x, w) in atoms.split_off(atoms.len().min(settings.max_modes.saturating_sub(1))) {
            points.push(x);
            weights.push(w);
        }
        let body_modes = settings.max_modes - atoms.len();
        let modes = if min == max || (points.is_empty() && atoms.is_empty()) {
            Vec::new()
        } else {
            let mut modes = if points.is_empty() {
                Vec::new()
            } else {
                gapped_modes(&points, &weights, settings, body_modes)
            };
            let body: f64 = weights.iter().sum();
            let total = body + atoms.iter().map(|(_, w)| w).sum::<f64>();
            for m in &mut modes {
                m.weight *= body / total;
            }
            // Far below any bin width, so the atom's density dominates at its value and
            // vanishes everywhere else.
            let std = 1e-9 * (max - min).abs().max(1.0);
            modes.extend(atoms.iter().map(|&(mean, w)| Mode {
                weight: w / total,
                mean,
                std,
                exact: true,
            }));
            modes
        };
        ContinuousEncoder {
            modes,
            min,
            max,
            has_null,
            null_rate,
            support: Vec::new(),
            support_shares: Vec::new(),
            trim: None,
        }
    }

    /// Width of this column's encoding.
    pub fn width(&self) -> usize {
        let body = if self.modes.is_empty() {
            0
        } else {
            1 + self.modes.len()
        };
        body + if self.has_null { 2 } else { 0 }
    }

    /// The mixture's cumulative distribution at `x`, an atom (exact mode) at `x` counted half
    /// (mid-distribution), so that a spike's rows share one score. 0.5 without modes.
    pub fn cdf(&self, x: f64) -> f64 {
        let total: f64 = self.modes.iter().map(|m| m.weight.max(0.0)).sum();
        if total <= 0.0 {
            return 0.5;
        }
        let mass: f64 = self
            .modes
            .iter()
            .map(|m| {
                let below = if m.exact {
                    match x.total_cmp(&m.mean) {
                        std::cmp::Ordering::Less => 0.0,
                        std::cmp::Ordering::Equal => 0.5,
                        std::cmp::Ordering::Greater => 1.0,
                    }
                } else {
                    normal_cdf((x - m.mean) / m.std.max(1e-12))
                };
                m.weight.max(0.0) * below
            })
            .sum();
        (mass / total).clamp(0.0, 1.0)
    }

    /// The density of the mixture's continuous part at `x` (atoms left out), with the weights
    /// of [`cdf`](Self::cdf): the slope of the cdf between atoms.
    pub fn density(&self, x: f64) -> f64 {
        let total: f64 = self.modes.iter().map(|m| m.weight.max(0.0)).sum();
        if total <= 0.0 {
            return 0.0;
        }
        let mass: f64 = self
            .modes
            .iter()
            .filter(|m| !m.exact)
            .map(|m| {
                let std = m.std.max(1e-12);
                let z = (x - m.mean) / std;
                m.weight.max(0.0) * (-0.5 * z * z).exp()
                    / (std * (2.0 * std::f64::consts::PI).sqrt())
            })
            .sum();
        mass / total
    }

    /// The smallest value in `[min, max]` at which [`cdf`](Self::cdf) reaches `u` (bisection;
    /// an atom's value for every `u` inside its jump).
    pub fn quantile(&self, u: f64) -> f64 {
        if self.cdf(self.min) >= u {
            return self.min;
        }
        bisect(self, u, self.min, self.max)
    }

    /// [`quantile`](Self::quantile) for many draws from this mixture ([`QuantileTable`]).
    pub fn quantile_table(&self) -> QuantileTable<'_> {
        QuantileTable::new(self)
    }

    /// A mode drawn from the posterior of value `x` (as encoding draws it).
    pub fn draw_mode(&self, x: f64, mut rng: &mut dyn rand::RngCore) -> usize {
        let mut probs = vec![0.0; self.modes.len()];
        mode_probabilities(&self.modes, x, &mut probs);
        super::weighted_index(&probs, &mut rng)
    }

    /// Writes row `i`'s encoding into `out` (length `width()`).
    pub fn encode_value(
        &self,
        value: Option<f64>,
        out: &mut [f32],
        probs: &mut [f64],
        rng: &mut impl Rng,
    ) {
        out.fill(0.0);
        let body = if self.modes.is_empty() {
            0
        } else {
            let x = value.unwrap_or(0.5 * (self.min + self.max));
            mode_probabilities(&self.modes, x, probs);
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let mut chosen = self.modes.len() - 1;
            for (k, p) in probs.iter().enumerate() {
                acc += p;
                if u < acc {
                    chosen = k;
                    break;
                }
            }
            let offset = |k: usize| {
                let m = &self.modes[k];
                if m.exact {
                    // Only the atom's own value belongs to it.
                    if x == m.mean {
                        0.0
                    } else {
                        f64::INFINITY
                    }
                } else {
                    (x - m.mean) / (4.0 * m.std)
                }
            };
            if offset(chosen).abs() > 0.99 {
                // The drawn mode cannot represent x (CTGAN would clip it and lose the value):
                // take the mode that is nearest in its own units instead, or, where only
                // exact modes are left (a DP integer column's supported values), the nearest
                // value.
                let distance = |k: usize| (offset(k).abs(), (x - self.modes[k].mean).abs());
                chosen = (0..self.modes.len())
                    .min_by(|&a, &b| {
                        let (a, b) = (distance(a), distance(b));
                        a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1))
                    })
                    .expect("at least one mode");
            }
            out[0] = offset(chosen).clamp(-0.99, 0.99) as f32;
            out[1 + chosen] = 1.0;
            1 + self.modes.len()
        };
        if self.has_null {
            out[body + usize::from(value.is_none())] = 1.0;
        }
    }

    /// Decodes one row's span back to a value (clipped to the range seen).
    pub fn decode_value(&self, span: &[f32]) -> Option<f64> {
        self.decode_value_with(span, |x| x)
    }

    /// [`decode_value`](Self::decode_value) with `free` applied to a value decoded from a
    /// non-exact mode (after folding into the range, before snapping onto a support): the
    /// sampling-time calibration's hook (`transform::calibrate`).
    pub fn decode_value_with(&self, span: &[f32], free: impl FnOnce(f64) -> f64) -> Option<f64> {
        let body = if self.modes.is_empty() {
            0
        } else {
            1 + self.modes.len()
        };
        // A column measured as entirely missing (DP preprocessing found no range for it)
        // decodes to missing whatever the generator says, so no value is invented.
        if self.has_null && (span[body + 1] > span[body] || self.null_rate >= 1.0) {
            return None;
        }
        if self.modes.is_empty() {
            return Some(self.min);
        }
        let mode = argmax(&span[1..body]);
        let m = &self.modes[mode];
        if m.exact {
            return Some(self.snap(m.mean));
        }
        let x = (span[0] as f64).clamp(-1.0, 1.0) * 4.0 * m.std + m.mean;
        Some(self.snap(free(self.fold_into_range(x))))
    }

    /// The value a span decodes to from a non-exact mode, folded into the range and not yet
    /// snapped; `None` for a missing value, an exact mode or a constant column: what the
    /// calibration's pilot collects (`transform::calibrate`).
    pub fn decode_free(&self, span: &[f32]) -> Option<f64> {
        let mut seen = None;
        self.decode_value_with(span, |x| {
            seen = Some(x);
            x
        });
        seen
    }

    /// The range sampled values lie in: the [`ContinuousEncoder::trim`]'s part when there is
    /// one, else `[min, max]`.
    pub fn sampled_range(&self) -> (f64, f64) {
        self.trim.map_or((self.min, self.max), |t| (t.lo, t.hi))
    }

    /// `x` clipped to `[min, max]`, or, with a [`ContinuousEncoder::trim`], folded into the
    /// part's outer bin when beyond it.
    pub fn fold_into_range(&self, x: f64) -> f64 {
        match self.trim {
            Some(t) if x > t.hi && t.above > 0.0 => (t.hi - (x - t.hi) % t.above).max(t.lo),
            Some(t) if x < t.lo && t.below > 0.0 => (t.lo + (t.lo - x) % t.below).min(t.hi),
            Some(t) => x.clamp(t.lo, t.hi),
            None => x.clamp(self.min, self.max),
        }
    }

    /// `x`, or the value of [`ContinuousEncoder::support`] when there is one: by quantiles
    /// where [`ContinuousEncoder::support_shares`] are set, else the nearest.
    pub fn snap(&self, x: f64) -> f64 {
        let s = &self.support;
        if !s.is_empty() && self.support_shares.len() == s.len() {
            let u = self.cdf(x);
            let i = self.support_shares.partition_point(|&c| c < u);
            return s[i.min(s.len() - 1)];
        }
        match s.partition_point(|&v| v < x) {
            _ if s.is_empty() => x,
            0 => s[0],
            i if i == s.len() => s[i - 1],
            i if s[i] - x < x - s[i - 1] => s[i],
            i => s[i - 1],
        }
    }
}

/// A gap between neighbouring values at least this share of the span of the values around it
/// splits them into groups fitted apart ([`gapped_modes`]).
pub const GAP_SHARE: f64 = 0.5;

/// Fewest values a group must hold to be split by a gap ([`gapped_modes`]): a small DP table's
/// few kept bins (8 a column at 234 rows) beside a far bin of noise were split and fitted with
/// tighter modes, and mpg's mean KS rose 0.261 -> 0.289 over five seeds (docs/quality.md, stop
/// 66).
pub const GAP_MIN_POINTS: usize = 8;

/// At most `limit` modes on `points`, fitted apart on each group of values that a gap of at
/// least [`GAP_SHARE`] of their span separates (split again inside each group while modes are
/// left), each group's modes weighted by its share.
///
/// The mixture's covariance prior is the variance of all the points it fits. A code far from
/// the body (an income of 9,999,999 for "unknown" in 3% of rows beside incomes of 2,000 to
/// 360,000) makes that variance so large that every mode of the body took a deviation of about
/// 60,000: the nine body modes came out alike (means 41,000-54,000), and incomes were sampled
/// with a median of 67,000 against 38,000 (KS 0.31, docs/quality.md, stop 66). Fitted apart,
/// the body's prior is its own variance. A group gets modes in proportion to its weight, one
/// at least.
fn gapped_modes(
    points: &[f64],
    weights: &[f64],
    settings: MixtureSettings,
    limit: usize,
) -> Vec<Mode> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a].total_cmp(&points[b]));
    let sorted: Vec<(f64, f64)> = order.iter().map(|&i| (points[i], weights[i])).collect();
    // Groups as index ranges of `sorted`, split at their widest gap while it is wide enough and
    // there are modes for one more group.
    let mut groups = vec![(0, sorted.len())];
    while groups.len() < limit {
        let split = groups
            .iter()
            .enumerate()
            .filter(|(_, &(a, z))| z - a >= GAP_MIN_POINTS)
            .filter_map(|(g, &(a, z))| {
                let span = sorted[z - 1].0 - sorted[a].0;
                let (at, gap) = (a + 1..z)
                    .map(|i| (i, sorted[i].0 - sorted[i - 1].0))
                    .max_by(|x, y| x.1.total_cmp(&y.1))?;
                (span > 0.0 && gap >= GAP_SHARE * span).then_some((g, at))
            })
            .next();
        let Some((g, at)) = split else { break };
        let (a, z) = groups[g];
        groups.splice(g..=g, [(a, at), (at, z)]);
    }
    if groups.len() == 1 {
        return covering_modes(points, weights, settings, limit);
    }
    let total: f64 = weights.iter().sum();
    let share = |&(a, z): &(usize, usize)| sorted[a..z].iter().map(|p| p.1).sum::<f64>() / total;
    // Modes per group: in proportion to weight, at least one, `limit` in all.
    let mut counts: Vec<usize> = groups
        .iter()
        .map(|g| ((limit as f64 * share(g)).round() as usize).max(1))
        .collect();
    while counts.iter().sum::<usize>() > limit {
        let most = (0..counts.len())
            .max_by_key(|&g| counts[g])
            .expect("groups");
        counts[most] -= 1;
    }
    let mut modes = Vec::new();
    for (g, &k) in groups.iter().zip(&counts) {
        let (xs, ws): (Vec<f64>, Vec<f64>) = sorted[g.0..g.1].iter().copied().unzip();
        let w = share(g);
        modes.extend(
            covering_modes(&xs, &ws, settings, k)
                .into_iter()
                .map(|mut m| {
                    m.weight *= w;
                    m
                }),
        );
    }
    modes
}

/// At most `limit` modes fitted on `points` that together represent every point: the mixture
/// plus, when some points lie beyond every mode's reach, one covering mode for them
/// ([`cover_all_values`]). When that would exceed `limit`, the mixture is refitted with one
/// mode fewer; with `limit` 1, one mode spans all points.
fn covering_modes(
    points: &[f64],
    weights: &[f64],
    settings: MixtureSettings,
    limit: usize,
) -> Vec<Mode> {
    let fit = |k: usize| {
        let settings = MixtureSettings {
            max_modes: k,
            ..settings
        };
        cover_all_values(fit_modes(points, weights, settings), points, weights)
    };
    let modes = fit(limit);
    if modes.len() <= limit {
        return modes;
    }
    if limit >= 2 {
        let fewer = fit(limit - 1);
        if fewer.len() <= limit {
            return fewer;
        }
    }
    let all: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .collect();
    vec![spanning_mode(&all, 1.0)]
}

/// One mode whose reach (0.99 x 4 standard deviations) spans all `points` (value, weight),
/// with mixture weight `share`.
fn spanning_mode(points: &[(f64, f64)], share: f64) -> Mode {
    let w: f64 = points.iter().map(|(_, w)| w).sum();
    let mean = points.iter().map(|(x, w)| x * w).sum::<f64>() / w;
    let var = points
        .iter()
        .map(|(x, w)| w * (x - mean).powi(2))
        .sum::<f64>()
        / w;
    let reach = points
        .iter()
        .map(|(x, _)| (x - mean).abs())
        .fold(0.0, f64::max);
    Mode {
        weight: share,
        mean,
        std: var.sqrt().max(reach / 3.9).max(1e-3 * (1.0 + mean.abs())),
        exact: false,
    }
}

/// Adds one mode for the values that no kept mode can represent (more than 0.99 x 4 standard
/// deviations from every mean). CTGAN drops light modes and then clips such values onto a far
/// mode, so a rare but real value (13 rows of `Time = 72` in the credit table) never comes back;
/// the extra mode keeps them, at their observed weight.
fn cover_all_values(mut modes: Vec<Mode>, points: &[f64], weights: &[f64]) -> Vec<Mode> {
    let covered = |x: f64| {
        modes
            .iter()
            .any(|m| ((x - m.mean) / (4.0 * m.std)).abs() <= 0.99)
    };
    let uncovered: Vec<(f64, f64)> = points
        .iter()
        .zip(weights)
        .filter(|(x, _)| !covered(**x))
        .map(|(x, w)| (*x, *w))
        .collect();
    if uncovered.is_empty() {
        return modes;
    }
    let total: f64 = weights.iter().sum();
    let share = uncovered.iter().map(|(_, w)| w).sum::<f64>() / total;
    for m in &mut modes {
        m.weight *= 1.0 - share;
    }
    modes.push(spanning_mode(&uncovered, share));
    modes
}

/// Index of the largest value (first on ties).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// The standard normal distribution function.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// The standard normal quantile of `p` (`p` held within `[1e-9, 1 − 1e-9]`): Abramowitz and
/// Stegun's rational approximation 26.2.23 (error below 4.5e-4), then two Newton steps on
/// [`normal_cdf`] (error below 1e-9). The correlation loss calls it for every generated value.
pub fn normal_quantile(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    let tail = p.min(1.0 - p);
    let t = (-2.0 * tail.ln()).sqrt();
    let approx = t
        - (2.515517 + 0.802853 * t + 0.010328 * t * t)
            / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
    let mut z = if p < 0.5 { -approx } else { approx };
    for _ in 0..2 {
        let density = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        z -= (normal_cdf(z) - p) / density.max(1e-300);
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_put_on_the_support_at_their_shares_and_in_order() {
        // One wide mode, N(0, 1), and three support values taking 20%, 50% and 30% of the
        // sampled values. The mixture's quantiles, decoded through snap, land on them at
        // those shares, and a larger value never lands on a smaller support value.
        let mut enc = ContinuousEncoder {
            modes: vec![Mode {
                weight: 1.0,
                mean: 0.0,
                std: 1.0,
                exact: false,
            }],
            min: -5.0,
            max: 5.0,
            has_null: false,
            null_rate: 0.0,
            support: vec![-1.0, 0.0, 2.0],
            support_shares: vec![0.2, 0.7, 1.0],
            trim: None,
        };
        let draws = 10_000;
        let xs: Vec<f64> = (0..draws)
            .map(|i| enc.quantile((i as f64 + 0.5) / draws as f64))
            .collect();
        let snapped: Vec<f64> = xs.iter().map(|&x| enc.snap(x)).collect();
        let share = |v: f64| snapped.iter().filter(|&&s| s == v).count() as f64 / draws as f64;
        for (v, want) in [(-1.0, 0.2), (0.0, 0.5), (2.0, 0.3)] {
            assert!((share(v) - want).abs() < 0.002, "{v}: {}", share(v));
        }
        assert!(snapped.windows(2).all(|w| w[0] <= w[1]));
        // Without shares, the nearest value: 0 takes the mass in (-0.5, 1), about 53%.
        enc.support_shares.clear();
        let near = xs.iter().filter(|&&x| enc.snap(x) == 0.0).count() as f64 / draws as f64;
        assert!(
            (near - (normal_cdf(1.0) - normal_cdf(-0.5))).abs() < 0.002,
            "{near}"
        );
    }

    #[test]
    fn values_beyond_a_trimmed_range_fold_into_its_outer_bins() {
        let mut enc = ContinuousEncoder::from_weighted_points(
            &[20.0, 40.0, 60.0],
            &[1.0, 1.0, 1.0],
            &[],
            (6.0, 177.0),
            0.0,
            false,
            MixtureSettings {
                max_modes: 3,
                weight_threshold: 0.005,
                iterations: 50,
            },
        );
        assert_eq!(enc.fold_into_range(200.0), 177.0);
        assert_eq!(enc.fold_into_range(10.0), 10.0);
        enc.trim = Some(Trim {
            lo: 18.0,
            hi: 64.0,
            below: 2.5,
            above: 2.0,
        });
        // 6.5 beyond 64 in bins of 2: 0.5 into the last bin.
        assert!((enc.fold_into_range(70.5) - 63.5).abs() < 1e-12);
        assert!((enc.fold_into_range(177.0) - (64.0 - 113.0 % 2.0)).abs() < 1e-12);
        assert!((enc.fold_into_range(14.0) - 19.5).abs() < 1e-12);
        assert_eq!(enc.fold_into_range(30.0), 30.0);
        for x in [-1e9, -3.0, 17.99, 64.01, 1e9] {
            let y = enc.fold_into_range(x);
            assert!(
                (18.0..=20.5).contains(&y) || (62.0..=64.0).contains(&y),
                "{x} -> {y}"
            );
        }
    }
    use rand::SeedableRng;

    #[test]
    fn normal_quantile_inverts_the_distribution_function() {
        // Known quantiles (any table of the normal distribution) and the round trip.
        for (p, z) in [
            (0.975, 1.959964),
            (0.5, 0.0),
            (0.01, -2.326348),
            (1e-6, -4.753424),
        ] {
            assert!(
                (normal_quantile(p) - z).abs() < 1e-5,
                "{p}: {}",
                normal_quantile(p)
            );
        }
        for i in 1..1000 {
            let p = i as f64 / 1000.0;
            assert!((normal_cdf(normal_quantile(p)) - p).abs() < 1e-12, "{p}");
        }
    }

    #[test]
    fn normal_scores_match_published_values_and_quantiles_invert_the_cdf() {
        assert!((normal_cdf(1.959964) - 0.975).abs() < 1e-6);
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        // A zero spike (40% of rows) and a normal body around 100.
        let enc = ContinuousEncoder {
            modes: vec![
                Mode {
                    weight: 0.4,
                    mean: 0.0,
                    std: 1e-6,
                    exact: true,
                },
                Mode {
                    weight: 0.6,
                    mean: 100.0,
                    std: 10.0,
                    exact: false,
                },
            ],
            min: 0.0,
            max: 200.0,
            has_null: false,
            null_rate: 0.0,
            support: Vec::new(),
            support_shares: Vec::new(),
            trim: None,
        };
        // The spike's rows share the middle of its jump; the body is a scaled normal.
        assert!((enc.cdf(0.0) - 0.2).abs() < 1e-9);
        assert!((enc.cdf(100.0) - 0.7).abs() < 1e-9);
        assert!((enc.cdf(119.6) - (0.4 + 0.6 * normal_cdf(1.96))).abs() < 1e-9);
        // Any u inside the jump maps to the spike; above it, the body's quantile.
        assert_eq!(enc.quantile(0.1), 0.0);
        assert_eq!(enc.quantile(0.39), 0.0);
        for x in [80.0, 100.0, 125.0] {
            assert!((enc.quantile(enc.cdf(x)) - x).abs() < 1e-6, "{x}");
        }
    }

    #[test]
    fn the_quantile_table_agrees_with_bisection() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        for case in 0..200 {
            let (min, max) = if case % 2 == 0 {
                (0.0, 10f64.powi(rng.random_range(0..7)))
            } else {
                (-5.0e5, 2.0e6)
            };
            let span = max - min;
            let modes: Vec<Mode> = (0..rng.random_range(1..10))
                .map(|k| Mode {
                    weight: rng.random_range(0.01..1.0),
                    mean: min + span * rng.random_range(-0.1..1.1),
                    // Wide, narrow (a thousandth of a grid cell) and exact modes.
                    std: span * [0.3, 0.02, 1e-5][k % 3],
                    exact: k % 4 == 3,
                })
                .collect();
            let enc = ContinuousEncoder {
                modes,
                min,
                max,
                has_null: false,
                null_rate: 0.0,
                support: Vec::new(),
                support_shares: Vec::new(),
                trim: None,
            };
            let table = enc.quantile_table();
            for i in 0..300 {
                let u = (i as f64 + rng.random::<f64>()) / 300.0;
                let (fast, slow) = (table.quantile(u), enc.quantile(u));
                assert!(
                    (fast - slow).abs() <= 1e-9 * span,
                    "case {case}, u {u}: {fast} vs {slow} ({:?})",
                    enc.modes
                );
            }
        }
    }

    #[test]
    fn atoms_round_trip_exactly_and_take_only_their_value() {
        let settings = MixtureSettings {
            max_modes: 5,
            weight_threshold: 0.005,
            iterations: 100,
        };
        // A zero-inflated amount: 900 rows at exactly 0, the rest spread over (0, 100].
        let points: Vec<f64> = (1..=10).map(|b| 10.0 * b as f64 - 5.0).collect();
        let weights = vec![10.0; 10];
        let enc = ContinuousEncoder::from_weighted_points(
            &points,
            &weights,
            &[(0.0, 900.0)],
            (0.0, 100.0),
            0.0,
            false,
            settings,
        );
        let atom = enc
            .modes
            .iter()
            .position(|m| m.exact)
            .expect("an atom mode");
        assert!((enc.modes[atom].weight - 0.9).abs() < 1e-12);
        assert!((enc.modes.iter().map(|m| m.weight).sum::<f64>() - 1.0).abs() < 1e-12);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut out = vec![0.0f32; enc.width()];
        let mut probs = vec![0.0; enc.modes.len()];
        enc.encode_value(Some(0.0), &mut out, &mut probs, &mut rng);
        assert_eq!(out[1 + atom], 1.0, "0 goes to the atom");
        // Whatever scalar the generator emits beside the atom's one-hot, it decodes to 0.
        for scalar in [-1.0, -0.3, 0.0, 0.7, 1.0] {
            out[0] = scalar;
            assert_eq!(enc.decode_value(&out), Some(0.0));
        }
        // A value near but not at the atom never lands on it.
        for x in [0.001, 0.5, 3.0] {
            enc.encode_value(Some(x), &mut out, &mut probs, &mut rng);
            assert_eq!(out[1 + atom], 0.0, "{x} taken by the atom");
            let back = enc.decode_value(&out).unwrap();
            assert!((back - x).abs() < 1e-3 * 100.0, "{x} -> {back}");
        }
    }

    #[test]
    fn a_far_code_leaves_the_body_its_own_modes() {
        // Incomes log-normal around 36,000 (9,700 rows) and 9,999,999 for "unknown" in 3%:
        // fitted together, the mixture's covariance prior (the variance of every value, the
        // code's included) gave each body mode a deviation of about 60,000 and the mixture's
        // median was far above the rows'. Fitted apart (the values with their counts, as a DP
        // histogram's bin centres come), the mixture's distribution function is within 0.03
        // of the rows' everywhere (largest gap over every distinct value). Fitted on the rows,
        // the code is an exact mode besides.
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(66);
        let normal = Normal::new(10.5f64, 0.7).unwrap();
        let mut rows: Vec<f64> = (0..9_700)
            .map(|_| normal.sample(&mut rng).exp().round())
            .collect();
        rows.extend(std::iter::repeat_n(9_999_999.0, 300));
        rows.sort_by(f64::total_cmp);
        let settings = MixtureSettings {
            max_modes: 10,
            weight_threshold: 0.005,
            iterations: 100,
        };
        let (mut points, mut weights) = (Vec::new(), Vec::new());
        for &x in &rows {
            if points.last() == Some(&x) {
                *weights.last_mut().unwrap() += 1.0;
            } else {
                points.push(x);
                weights.push(1.0);
            }
        }
        let bounds = (rows[0], rows[rows.len() - 1]);
        let apart = ContinuousEncoder::from_weighted_points(
            &points,
            &weights,
            &[],
            bounds,
            0.0,
            false,
            settings,
        );
        let on_rows = ContinuousEncoder::fit(
            &Values::Float(rows.iter().map(|&x| Some(x)).collect()),
            settings,
        );
        let n = rows.len() as f64;
        for enc in [&apart, &on_rows] {
            let mut worst: f64 = 0.0;
            for (i, &x) in rows.iter().enumerate() {
                if i + 1 < rows.len() && rows[i + 1] == x {
                    continue;
                }
                worst = worst.max((enc.cdf(x) - (i + 1) as f64 / n).abs());
            }
            assert!(worst < 0.03, "largest gap {worst}: {:?}", enc.modes);
            let median = enc.quantile(0.5);
            assert!((median / 36_300.0 - 1.0).abs() < 0.1, "median {median}");
            // The code keeps its rows: 3% of the mixture beyond the body.
            let far = 1.0 - enc.cdf(1_000_000.0);
            assert!((far - 0.03).abs() < 0.005, "{far}");
        }
        let code = on_rows
            .modes
            .iter()
            .find(|m| m.exact && m.mean == 9_999_999.0);
        assert!(
            code.is_some_and(|m| (m.weight - 0.03).abs() < 1e-9),
            "{:?}",
            on_rows.modes
        );
    }

    #[test]
    fn a_code_of_nines_beside_a_score_is_an_exact_mode_on_the_rows() {
        // A score of 0-98 (rounded normal, 10,000 rows) with 99 for "unknown" in 2%: the
        // code is next to the score's values, so neither the far-value rule nor the 10% spike
        // share took it, and the mixture put it in its top mode (95 ± 4.7). Now it is an
        // exact mode at its share; a 98 as common (a clipped tail) is not, and 99 as a plain
        // score among its neighbours is not either.
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(67);
        let normal = Normal::new(60.0f64, 15.0).unwrap();
        let score: Vec<f64> = (0..9_800)
            .map(|_| normal.sample(&mut rng).round().clamp(0.0, 98.0))
            .collect();
        let settings = MixtureSettings {
            max_modes: 10,
            weight_threshold: 0.005,
            iterations: 100,
        };
        let exact = |rows: &[f64]| -> Vec<(f64, f64)> {
            ContinuousEncoder::fit(
                &Values::Float(rows.iter().map(|&x| Some(x)).collect()),
                settings,
            )
            .modes
            .iter()
            .filter(|m| m.exact)
            .map(|m| (m.mean, m.weight))
            .collect()
        };
        let mut coded = score.clone();
        coded.extend(std::iter::repeat_n(99.0, 200));
        let modes = exact(&coded);
        assert_eq!(modes.len(), 1, "{modes:?}");
        assert_eq!(modes[0].0, 99.0);
        assert!((modes[0].1 - 0.02).abs() < 1e-9, "{modes:?}");
        // The same rows with 200 more at 98 (not a code), or with the score running to 120
        // (99 among its neighbours): no exact mode.
        let mut clipped = score.clone();
        clipped.extend(std::iter::repeat_n(98.0, 200));
        assert!(exact(&clipped).is_empty());
        let wide: Vec<f64> = (0..10_000)
            .map(|_| normal.sample(&mut rng).round().clamp(0.0, 120.0) + 40.0)
            .collect();
        assert!(exact(&wide).is_empty());
    }

    #[test]
    fn a_value_between_exact_modes_goes_to_the_nearest() {
        // A DP rating modelled as its supported integers 1-5, each an exact mode; a training
        // row's 6 (left out of the support) and 2.4 go to the nearest value's mode, not to
        // the first one.
        let settings = MixtureSettings {
            max_modes: 10,
            weight_threshold: 0.005,
            iterations: 100,
        };
        let atoms: Vec<(f64, f64)> = (1..=5).map(|k| (k as f64, 100.0)).collect();
        let enc = ContinuousEncoder::from_weighted_points(
            &[],
            &[],
            &atoms,
            (1.0, 17.0),
            0.0,
            false,
            settings,
        );
        assert_eq!(enc.modes.len(), 5);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut out = vec![0.0f32; enc.width()];
        let mut probs = vec![0.0; enc.modes.len()];
        for (x, to) in [(6.0, 5.0), (2.4, 2.0), (3.0, 3.0), (0.2, 1.0)] {
            enc.encode_value(Some(x), &mut out, &mut probs, &mut rng);
            assert_eq!(enc.decode_value(&out), Some(to), "{x}");
        }
    }
}
