//! Calibration of a generator's continuous values onto the released mixture: a sampling-time
//! map `x -> G⁻¹(F(x))`, where `F` is the distribution of the generator's decoded values (from
//! a pilot sample of the released generator) and `G` the column's released mixture. Each
//! column's values then follow the mixture while their order, and so each pair's ranks, stays
//! the generator's.
//!
//! Post-processing of released parts only (the generator and the mixture): it reads no row
//! and costs no privacy. Only a value decoded from a non-exact mode is mapped, onto the
//! mixture's non-exact modes over the range values are sampled in; an exact mode's value stays
//! as it is.
//!
//! The choices (a discrete column's category, the exact value of a column of codes, present or
//! missing) are calibrated too ([`choice_bias`]): an offset per slot added to the generator's logits
//! before the Gumbel-max draw, fitted on the pilot so that each slot is drawn at its released
//! share. An offset reweights every row's chances of a slot by one factor, so which rows are
//! likelier to take it stays the generator's.

use rand::Rng;

use super::continuous::ContinuousEncoder;

/// Probabilities at which the two distributions are tabulated (evenly spaced, ends included).
pub const CALIBRATION_POINTS: usize = 513;

/// Fewest pilot values a column needs for a map (fewer: left uncalibrated).
pub const CALIBRATION_MIN_VALUES: usize = 200;

/// A monotone map of a generator's decoded values onto a mixture (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The generator's values at the probabilities `i / (CALIBRATION_POINTS - 1)`, ascending.
    from: Vec<f64>,
    /// The mixture's values at the same probabilities, ascending.
    to: Vec<f64>,
    /// The mixture's free modes over the sampled range, for the two end cells ([`Self::map`]).
    part: ContinuousEncoder,
    /// The mixture's cdf at the sampled range's ends `(lo, hi)`.
    cdf_ends: (f64, f64),
    /// Half a pilot value's probability: how far in from 0 and 1 a value is mapped at an
    /// estimated bound ([`p_range`]).
    half_step: f64,
    /// Whether the lower and upper end cells are straight lines to a public bound rather than
    /// the mixture's own quantiles.
    public_ends: (bool, bool),
}

impl Calibration {
    /// The map for encoder `enc` from `generated`, the pilot's values decoded from non-exact
    /// modes (before any snapping onto points). `None` when there are fewer than
    /// [`CALIBRATION_MIN_VALUES`] of them or the encoder has no non-exact mode.
    ///
    /// `public_ends`: whether the column's lower and upper bounds are public. The end cell at
    /// a public bound stays a straight line to it, so the most extreme values may reach the
    /// documented domain's end (Adult's `education-num` 1, 0.15% of the rows: without it the
    /// sampled minimum was 2 and SDMetrics' pair trends, which bins each table over its own
    /// range, fell from 0.888 to 0.843). At an estimated bound (a noisy bin edge, often well
    /// beyond the rows) the end cell follows the mixture ([`Self::map`]).
    pub fn fit(
        enc: &ContinuousEncoder,
        mut generated: Vec<f64>,
        public_ends: (bool, bool),
    ) -> Option<Calibration> {
        generated.retain(|x| x.is_finite());
        if generated.len() < CALIBRATION_MIN_VALUES {
            return None;
        }
        let mut part = enc.clone();
        part.modes.retain(|m| !m.exact && m.weight > 0.0);
        if part.modes.is_empty() {
            return None;
        }
        let (lo, hi) = enc.sampled_range();
        if hi <= lo {
            return None;
        }
        (part.min, part.max) = (lo, hi);
        part.support.clear();
        part.support_shares.clear();
        generated.sort_by(f64::total_cmp);
        let last = (CALIBRATION_POINTS - 1) as f64;
        let at = |p: f64| {
            let pos = p * (generated.len() - 1) as f64;
            let i = pos.floor() as usize;
            let j = (i + 1).min(generated.len() - 1);
            generated[i] + (generated[j] - generated[i]) * (pos - i as f64)
        };
        let from: Vec<f64> = (0..CALIBRATION_POINTS)
            .map(|i| at(i as f64 / last))
            .collect();
        // The mixture truncated to [lo, hi]: its probability p sits at cdf(lo) + p (cdf(hi) -
        // cdf(lo)).
        let (c_lo, c_hi) = (part.cdf(lo), part.cdf(hi));
        if c_hi - c_lo <= 1e-12 {
            return None;
        }
        let half_step = 0.5 / generated.len() as f64;
        let p_range = p_range(half_step, public_ends);
        let mut to: Vec<f64> = {
            let table = part.quantile_table();
            (0..CALIBRATION_POINTS)
                .map(|i| {
                    let p = (i as f64 / last).clamp(p_range.0, p_range.1);
                    table.quantile(c_lo + p * (c_hi - c_lo)).clamp(lo, hi)
                })
                .collect()
        };
        for i in 1..to.len() {
            to[i] = to[i].max(to[i - 1]);
        }
        Some(Calibration {
            from,
            to,
            part,
            cdf_ends: (c_lo, c_hi),
            half_step,
            public_ends,
        })
    }

    /// The mixture's value at probability `p` of its part over the sampled range.
    fn mixture_at(&self, p: f64) -> f64 {
        let (c_lo, c_hi) = self.cdf_ends;
        let (lo, hi) = (self.part.min, self.part.max);
        self.part.quantile(c_lo + p * (c_hi - c_lo)).clamp(lo, hi)
    }

    /// `x`'s image: its probability under the generator's distribution (linear between the
    /// tabulated points; a value tied over several points takes a uniform draw among their
    /// probabilities, so a pile of equal values is spread, not kept as one), then the
    /// mixture's value at that probability. Values beyond the pilot's go to the pilot's
    /// extreme probabilities (half a value in from 0 and 1), not to an estimated range's ends.
    ///
    /// Inside an end cell (the pilot's lowest or highest 1/512) at an estimated bound the
    /// mixture's own quantile is computed rather than interpolated: the range's end may lie
    /// far beyond the mixture's mass (a 0/1 flag's modes on a range estimated as [-2, 3]), and
    /// a straight line from it spread that cell's rows over values the mixture almost never
    /// takes (a flag sampled as -1). At a public bound the cell stays a straight line.
    pub fn map(&self, x: f64, rng: &mut impl Rng) -> f64 {
        self.value_at(self.prob(x, rng))
    }

    /// `x`'s probability under the generator's distribution, the first half of
    /// [`map`](Self::map): linear between the tabulated points, a uniform draw among the
    /// probabilities of the points a tied value spans.
    pub fn prob(&self, x: f64, rng: &mut impl Rng) -> f64 {
        table_prob(&self.from, x, rng)
    }

    /// The mixture's value at probability `p`, the second half of [`map`](Self::map) (`p`
    /// is first kept half a pilot value in from 0 and 1 at an estimated bound).
    pub fn value_at(&self, p: f64) -> f64 {
        let n = self.from.len();
        let last = (n - 1) as f64;
        let (least, most) = p_range(self.half_step, self.public_ends);
        let p = p.clamp(least, most);
        let pos = p * last;
        if (pos < 1.0 && !self.public_ends.0) || (pos > last - 1.0 && !self.public_ends.1) {
            return self.mixture_at(p);
        }
        let i = (pos.floor() as usize).min(n - 1);
        let j = (i + 1).min(n - 1);
        self.to[i] + (self.to[j] - self.to[i]) * (pos - i as f64)
    }
}

/// The probability of `x` under the distribution tabulated by `table` (values at evenly spaced
/// probabilities, ascending): linear between the tabulated points, a uniform draw among the
/// probabilities of the points a tied value spans ([`Calibration::prob`]).
pub fn table_prob(table: &[f64], x: f64, rng: &mut impl Rng) -> f64 {
    let n = table.len();
    let last = (n - 1) as f64;
    let first_at = table.partition_point(|&v| v < x);
    let past = table.partition_point(|&v| v <= x);
    if past > first_at + 1 {
        // Tied over points first_at..past-1.
        let u: f64 = rng.random();
        (first_at as f64 + u * (past - 1 - first_at) as f64) / last
    } else if first_at == 0 {
        0.0
    } else if first_at == n {
        1.0
    } else {
        let (a, b) = (table[first_at - 1], table[first_at]);
        let t = if b > a { (x - a) / (b - a) } else { 0.5 };
        ((first_at - 1) as f64 + t) / last
    }
}

/// The least and the most probability a value is mapped at: `half_step` in from 0 and 1, or
/// 0 and 1 at a public bound.
fn p_range(half_step: f64, public_ends: (bool, bool)) -> (f64, f64) {
    (
        if public_ends.0 { 0.0 } else { half_step },
        if public_ends.1 { 1.0 } else { 1.0 - half_step },
    )
}

/// Largest offset [`choice_bias`] gives a slot, either way: a released share of zero is never
/// drawn, and a slot the generator never draws is not pushed without end.
pub const CHOICE_BIAS_MAX: f64 = 30.0;

/// Rounds of [`choice_bias`]'s fit at most.
pub const CHOICE_ROUNDS: usize = 40;

/// Per-entry offsets `[dim]` (zero outside `spans`) for the one-hot spans of encoded rows, so
/// that Gumbel-max draws of the pilot's `logits + gumbel` (each `[rows, dim]`, row-major) pick
/// each slot of a span at its target share. `spans` holds each span's offset and its targets
/// (any non-negative weights, normalised here). Fitted span by span, by raising each slot's
/// offset by the log of its target share over its drawn share until every share is within
/// one row per thousand of its target, or [`CHOICE_ROUNDS`] rounds.
pub fn choice_bias(
    logits: &[f32],
    gumbel: &[f32],
    dim: usize,
    spans: &[(usize, Vec<f64>)],
) -> Vec<f32> {
    let given = vec![None; spans.len()];
    choice_bias_given(logits, gumbel, dim, spans, &given)
}

/// [`choice_bias`], where `given[i]` names the offset of a `[present, missing]` span that
/// span `i`'s shares hold among the rows drawn present (a continuous column's modes: its
/// mode weights are shares of its present values). Those spans are fitted last, on the pilot
/// rows whose present-or-missing draw (with its own fitted offsets) is present. Fitted on every
/// row, a column missing in half its rows, whose missing rows are encoded at the mode nearest
/// the middle of its range (msq's `idle`, 0-3 with its 2s there), drew that mode for its
/// missing rows, and the offset that brought the mode to its share over every row took it
/// from the present ones: 2 was sampled in 0.5% of present rows against 17%.
pub fn choice_bias_given(
    logits: &[f32],
    gumbel: &[f32],
    dim: usize,
    spans: &[(usize, Vec<f64>)],
    given: &[Option<usize>],
) -> Vec<f32> {
    let rows = logits.len().checked_div(dim).unwrap_or(0);
    let mut bias = vec![0.0f32; dim];
    if rows == 0 {
        return bias;
    }
    let condition = |i: usize| given.get(i).copied().flatten();
    // The spans without a condition first: a condition's draw uses its fitted offsets.
    let order: Vec<usize> = (0..spans.len())
        .filter(|&i| condition(i).is_none())
        .chain((0..spans.len()).filter(|&i| condition(i).is_some()))
        .collect();
    for i in order {
        let (offset, targets) = (&spans[i].0, &spans[i].1);
        let width = targets.len();
        let total: f64 = targets.iter().map(|t| t.max(0.0)).sum();
        if width < 2 || total <= 0.0 {
            continue;
        }
        let target: Vec<f64> = targets.iter().map(|t| t.max(0.0) / total).collect();
        // The rows the span's shares hold among: those drawn present where it has a
        // condition, every row otherwise.
        let kept: Vec<usize> = match condition(i) {
            Some(present) => (0..rows)
                .filter(|&r| {
                    let at = r * dim + present;
                    let score = |j: usize| logits[at + j] + gumbel[at + j] + bias[present + j];
                    score(0) >= score(1)
                })
                .collect(),
            None => (0..rows).collect(),
        };
        if kept.is_empty() {
            continue;
        }
        let eps = 1.0 / kept.len() as f64;
        let rows = kept.len();
        // [rows, width]: each kept row's Gumbel-perturbed logits of this span.
        let scores: Vec<f32> = kept
            .iter()
            .flat_map(|&r| {
                let at = r * dim + offset;
                (0..width).map(move |j| logits[at + j] + gumbel[at + j])
            })
            .collect();
        let mut b = vec![0.0f64; width];
        for _ in 0..CHOICE_ROUNDS {
            let mut drawn = vec![0usize; width];
            for row in scores.chunks(width) {
                let mut best = 0;
                let mut max = f64::NEG_INFINITY;
                for (j, (&x, &o)) in row.iter().zip(&b).enumerate() {
                    let v = f64::from(x) + o;
                    if v > max {
                        max = v;
                        best = j;
                    }
                }
                drawn[best] += 1;
            }
            let shares: Vec<f64> = drawn.iter().map(|&d| d as f64 / rows as f64).collect();
            if shares
                .iter()
                .zip(&target)
                .all(|(f, t)| (f - t).abs() <= 1e-3)
            {
                break;
            }
            for ((o, f), t) in b.iter_mut().zip(&shares).zip(&target) {
                *o = (*o + ((t + eps) / (f + eps)).ln()).clamp(-CHOICE_BIAS_MAX, CHOICE_BIAS_MAX);
            }
        }
        for (j, (o, t)) in b.iter().zip(&target).enumerate() {
            // A slot released at a share of zero is never drawn.
            bias[offset + j] = if *t > 0.0 { *o } else { -CHOICE_BIAS_MAX } as f32;
        }
    }
    bias
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::gmm::Mode;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    fn encoder(modes: Vec<Mode>, min: f64, max: f64) -> ContinuousEncoder {
        let mut enc = ContinuousEncoder::fit(
            &crate::read::Values::Float(vec![Some(min), Some(max)]),
            crate::transform::mixture_settings(&crate::config::TransformConfig::default()),
        );
        enc.modes = modes;
        (enc.min, enc.max) = (min, max);
        enc
    }

    fn ks(a: &mut [f64], b: &mut [f64]) -> f64 {
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        let (mut i, mut j, mut d) = (0, 0, 0.0f64);
        while i < a.len() && j < b.len() {
            if a[i] <= b[j] {
                i += 1;
            } else {
                j += 1;
            }
            d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
        }
        d
    }

    #[test]
    fn a_collapsed_generator_is_mapped_onto_the_mixture_keeping_its_order() {
        // Mixture: two modes on [0, 100]; the generator put everything near 40 (std 3).
        let modes = vec![
            Mode {
                weight: 0.3,
                mean: 20.0,
                std: 5.0,
                exact: false,
            },
            Mode {
                weight: 0.7,
                mean: 60.0,
                std: 10.0,
                exact: false,
            },
        ];
        let enc = encoder(modes, 0.0, 100.0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let collapsed = Normal::new(40.0, 3.0).unwrap();
        let pilot: Vec<f64> = (0..20_000).map(|_| collapsed.sample(&mut rng)).collect();
        let cal = Calibration::fit(&enc, pilot, (false, false)).unwrap();
        let fresh: Vec<f64> = (0..5_000).map(|_| collapsed.sample(&mut rng)).collect();
        let mut mapped: Vec<f64> = fresh.iter().map(|&x| cal.map(x, &mut rng)).collect();
        // Order kept.
        let mut pairs: Vec<(f64, f64)> = fresh.iter().copied().zip(mapped.clone()).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1 + 1e-12));
        // Distributed as the mixture: against draws from it, by inverse cdf of 5,000 uniforms.
        let table = enc.quantile_table();
        let mut want: Vec<f64> = (0..5_000)
            .map(|_| table.quantile(rng.random::<f64>()))
            .collect();
        let mut raw = fresh.clone();
        let before = ks(&mut raw, &mut want.clone());
        let after = ks(&mut mapped, &mut want);
        assert!(before > 0.3, "{before}");
        assert!(after < 0.04, "{after}");
    }

    #[test]
    fn exact_modes_are_left_out_and_ties_are_spread() {
        // Half the mixture an exact mode at 0 (a zero spike), half a normal at 50; the
        // generator's non-exact values pile on 80 (a clamp) in a quarter of the rows.
        let modes = vec![
            Mode {
                weight: 0.5,
                mean: 0.0,
                std: 0.0,
                exact: true,
            },
            Mode {
                weight: 0.5,
                mean: 50.0,
                std: 8.0,
                exact: false,
            },
        ];
        let enc = encoder(modes, 0.0, 100.0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let pilot: Vec<f64> = (0..8_000)
            .map(|i| {
                if i % 4 == 0 {
                    80.0
                } else {
                    rng.random_range(30.0..70.0)
                }
            })
            .collect();
        let cal = Calibration::fit(&enc, pilot, (false, false)).unwrap();
        // The pile at 80 (the top quarter) spreads over the normal's top quarter, not one value.
        let piled: Vec<f64> = (0..2_000).map(|_| cal.map(80.0, &mut rng)).collect();
        let (lo, hi) = piled
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        assert!(lo > 50.0 && lo < 57.0, "{lo}");
        assert!(hi > 70.0, "{hi}");
        // The map targets the normal part only, not the exact mode's 0: the pilot's 2%
        // point (about 31.1) goes to the normal's 2% point (about 33.6).
        let low = cal.map(31.1, &mut rng);
        assert!((30.0..37.0).contains(&low), "{low}");
    }

    #[test]
    fn the_end_cells_stay_where_the_mixture_has_mass_not_at_the_range_ends() {
        // A 0/1 flag read as a number: two tight modes, on a range estimated as [-2, 3]
        // (hdma's `comdominiom` was sampled once as -1 when the end cells were straight lines
        // from the range's ends).
        let modes = vec![
            Mode {
                weight: 0.7,
                mean: 0.0,
                std: 0.014,
                exact: false,
            },
            Mode {
                weight: 0.3,
                mean: 0.94,
                std: 0.107,
                exact: false,
            },
        ];
        let enc = encoder(modes, -2.0, 3.0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let generator = Normal::new(0.3, 0.4).unwrap();
        let pilot: Vec<f64> = (0..20_480).map(|_| generator.sample(&mut rng)).collect();
        let cal = Calibration::fit(&enc, pilot, (false, false)).unwrap();
        let mut fresh: Vec<f64> = (0..20_000).map(|_| generator.sample(&mut rng)).collect();
        fresh.extend([-50.0, 50.0]);
        let mapped: Vec<f64> = fresh.iter().map(|&x| cal.map(x, &mut rng)).collect();
        let (lo, hi) = mapped
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        // The modes' own extremes: 0 - 4.5 x 0.014 and 0.94 + 5 x 0.107.
        assert!(lo > -0.07, "{lo}");
        assert!(hi < 1.5, "{hi}");
        // Still a map onto the mixture: a tenth of the rows below 0.94 - 0.107 x 1.28 would be
        // far off; the second mode's share is about 0.3.
        let high = mapped.iter().filter(|&&x| x > 0.5).count() as f64 / mapped.len() as f64;
        assert!((high - 0.3).abs() < 0.01, "{high}");
        // At public bounds (a documented domain) the end cells stay straight lines to them:
        // the lowest values reach towards -2 (at the top the mixture's cdf is 1 in float
        // before 3, so its quantile there is the second mode's far tail).
        let pilot: Vec<f64> = (0..20_480).map(|_| generator.sample(&mut rng)).collect();
        let public = Calibration::fit(&enc, pilot, (true, true)).unwrap();
        let mapped: Vec<f64> = fresh.iter().map(|&x| public.map(x, &mut rng)).collect();
        let (lo, hi) = mapped
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        assert!(lo < -1.0 && hi > 1.5, "{lo} {hi}");
    }

    #[test]
    fn too_few_values_or_no_free_mode_leave_a_column_alone() {
        let exact_only = vec![Mode {
            weight: 1.0,
            mean: 3.0,
            std: 0.0,
            exact: true,
        }];
        let enc = encoder(exact_only, 0.0, 10.0);
        assert!(Calibration::fit(&enc, vec![1.0; 1000], (false, false)).is_none());
        let free = vec![Mode {
            weight: 1.0,
            mean: 3.0,
            std: 1.0,
            exact: false,
        }];
        let enc = encoder(free, 0.0, 10.0);
        assert!(
            Calibration::fit(&enc, vec![1.0; CALIBRATION_MIN_VALUES - 1], (false, false)).is_none()
        );
    }

    #[test]
    fn choice_offsets_draw_each_slot_at_its_target_share_keeping_which_rows_are_likelier() {
        // A generator that draws slot 0 of a three-slot span 80% of the time (logits 2, 0, 0
        // before Gumbel noise), with a scalar beside it; targets 20/30/50%.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (rows, dim) = (20_000, 4);
        let mut logits = vec![0.0f32; rows * dim];
        let mut gumbel = vec![0.0f32; rows * dim];
        for r in 0..rows {
            // The row's own lean towards slot 2: rows with a larger lean must stay likelier.
            let lean = (r % 10) as f32 / 5.0;
            logits[r * dim + 1] = 2.0;
            logits[r * dim + 3] = lean;
            for j in 1..dim {
                let u: f32 = rng.random_range(1e-7..1.0 - 1e-7);
                gumbel[r * dim + j] = -(-u.ln()).ln();
            }
        }
        let draw = |bias: &[f32]| -> Vec<usize> {
            (0..rows)
                .map(|r| {
                    (1..dim)
                        .max_by(|&a, &b| {
                            let v = |j: usize| logits[r * dim + j] + gumbel[r * dim + j] + bias[j];
                            v(a).total_cmp(&v(b))
                        })
                        .unwrap()
                        - 1
                })
                .collect()
        };
        let share =
            |d: &[usize], k: usize| d.iter().filter(|&&x| x == k).count() as f64 / d.len() as f64;
        let plain = draw(&[0.0; 4]);
        assert!(share(&plain, 0) > 0.6, "{}", share(&plain, 0));
        let bias = choice_bias(&logits, &gumbel, dim, &[(1, vec![2.0, 3.0, 5.0])]);
        assert_eq!(bias[0], 0.0, "the scalar entry has no offset");
        let fitted = draw(&bias);
        for (k, t) in [0.2, 0.3, 0.5].into_iter().enumerate() {
            assert!(
                (share(&fitted, k) - t).abs() < 0.002,
                "slot {k}: {}",
                share(&fitted, k)
            );
        }
        // Rows leaning to slot 2 still take it more often than rows that do not.
        let of = |lean: usize| {
            let d: Vec<usize> = (0..rows)
                .filter(|r| r % 10 == lean)
                .map(|r| fitted[r])
                .collect();
            share(&d, 2)
        };
        assert!(of(9) > of(0) + 0.3, "{} vs {}", of(9), of(0));
        // A target of zero is never drawn.
        let bias = choice_bias(&logits, &gumbel, dim, &[(1, vec![0.0, 1.0, 1.0])]);
        assert_eq!(share(&draw(&bias), 0), 0.0);
    }

    #[test]
    fn a_nullable_columns_modes_are_drawn_at_their_shares_among_present_rows() {
        // msq's `idle`: a three-mode span at 0..3 (its exact values 0, 1, 2, released at
        // 40/40/20% of the present values) and a [present, missing] span at 3..5, missing in
        // half the rows. The missing rows were encoded at mode 2 (nearest the range's middle),
        // so the generator draws mode 2 for nearly every missing row and at 20% otherwise.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (rows, dim) = (20_000, 5);
        let mut logits = vec![0.0f32; rows * dim];
        let mut gumbel = vec![0.0f32; rows * dim];
        for r in 0..rows {
            let missing = r % 2 == 1;
            let at = r * dim;
            // Present rows: logits giving 40/40/20 before Gumbel noise.
            let modes = if missing {
                [-4.0, -4.0, 4.0]
            } else {
                [0.4f32.ln(), 0.4f32.ln(), 0.2f32.ln()]
            };
            logits[at..at + 3].copy_from_slice(&modes);
            logits[at + 3] = if missing { -4.0 } else { 4.0 };
            logits[at + 4] = if missing { 4.0 } else { -4.0 };
            for j in 0..dim {
                let u: f32 = rng.random_range(1e-7..1.0 - 1e-7);
                gumbel[at + j] = -(-u.ln()).ln();
            }
        }
        let spans = [(0, vec![0.4, 0.4, 0.2]), (3, vec![0.5, 0.5])];
        // Mode 2's share among the rows drawn present, with the offsets given.
        let present_share = |bias: &[f32]| -> f64 {
            let v = |r: usize, j: usize| logits[r * dim + j] + gumbel[r * dim + j] + bias[j];
            let present: Vec<usize> = (0..rows).filter(|&r| v(r, 3) >= v(r, 4)).collect();
            let twos = present
                .iter()
                .filter(|&&r| v(r, 2) > v(r, 0) && v(r, 2) > v(r, 1))
                .count();
            twos as f64 / present.len() as f64
        };
        // Fitted over every row, mode 2 is pushed down to 20% of all rows, which its missing
        // rows take: almost none of the present rows keep it.
        let every = choice_bias(&logits, &gumbel, dim, &spans);
        assert!(present_share(&every) < 0.05, "{}", present_share(&every));
        // Fitted among the present rows, it keeps its 20% there.
        let given = choice_bias_given(&logits, &gumbel, dim, &spans, &[Some(3), None]);
        assert!(
            (present_share(&given) - 0.2).abs() < 0.01,
            "{}",
            present_share(&given)
        );
    }
}
