//! A column's tail beyond its loud part, read from noisy bin counts as a shape that falls away
//! from the part (post-processing of counts already charged; no row is read here).
//!
//! Where the part a column is sampled in leaves out more than its 1% check allows (a skewed
//! amount whose top tenth is spread thin over dozens of bins), the bins beyond it used to keep
//! every noisy count above two deviations. Among 40 bins of pure noise one clears that about
//! six times in ten, and it became a mode of its own: credit_data's `Price` (real 99th
//! percentile 3,548, nothing above 11,140) was sampled at 8,000-14,000 in 2.7% of rows, and
//! SDMetrics' Pearson correlation of `Amount` and `Price` fell from 0.61 to 0.23 (real 0.72).
//!
//! Here the counts beyond the part are fitted by a non-increasing step function moving away
//! from it (isotonic regression, pool-adjacent-violators), clamped at zero: a lone noisy bin
//! is pooled with the quiet bins between it and the part. The fit gives the tails' shape; the
//! rows they hold are the rows the part leaves out (the public row count less the part's
//! noisy counts, the estimate its 1% check failed on), so a long thin tail whose bins are each
//! below the noise keeps its mass (what the fit does not hold is spread evenly over the bins
//! the fit reaches). The tail ends at the first block of the fit, beyond the one next to the
//! part, whose rows do not clear [`TAIL_BLOCK`] deviations of its noise: the fit of dozens of
//! bins of pure noise leaves positive blocks far out. A single bin loud enough
//! ([`TAIL_SPIKE`]; a bracket beyond a gap) keeps its count.

use super::noise::normal_upper_quantile;

/// Chance that a side of pure noise has a bin kept as a spike ([`falling_tails`]): a single
/// bin keeps its own count whatever the fit says (a bracket of values beyond a gap, Chile's
/// incomes of 200,000 at about four deviations) where it clears the deviations at which
/// the largest of the side's bins of pure noise does so this often (3.9 for 52 bins).
pub const TAIL_SPIKE: f64 = 0.01;

/// Deviations of its noise (`std √k` over its `k` bins) a block of a tail's falling fit must
/// clear, beyond the block next to the part, for the tail to go on ([`falling_tails`]). The
/// fit of dozens of bins of pure noise leaves positive blocks far from the part: churn's
/// `total_eve_calls` (real 0-170) was sampled over 171-562 in 5% of its rows.
pub const TAIL_BLOCK: f64 = 2.0;

/// Deviations a single bin among `bins` of a tail must clear to keep its own count
/// ([`TAIL_SPIKE`]).
pub fn spike_level(bins: usize) -> f64 {
    normal_upper_quantile(TAIL_SPIKE / bins.max(1) as f64)
}

/// The non-increasing least-squares fit of `counts` (pool-adjacent-violators), as blocks of
/// `(sum, length)`: each entry's fitted value is its block's mean, and the blocks' sums are
/// the inputs' sums.
pub fn non_increasing_fit(counts: &[f64]) -> Vec<(f64, usize)> {
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(counts.len());
    for &c in counts {
        blocks.push((c, 1));
        while blocks.len() > 1 {
            let (s, k) = blocks[blocks.len() - 1];
            let (ps, pk) = blocks[blocks.len() - 2];
            if ps / pk as f64 >= s / k as f64 {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = (ps + s, pk + k);
        }
    }
    blocks
}

/// The weights of a part's two tails, each side's bins ordered moving away from the part
/// (`sides`: their noisy counts, noise std `std`), holding `mass` rows between them (the
/// rows the part leaves out, estimated from the public row count less its noisy counts).
/// Each side's non-increasing fit, clamped at zero and ended at its first quiet block beyond
/// the one next to the part ([`TAIL_BLOCK`]), gives the shape; where the fits hold more than
/// `mass` they are scaled down to it, and where they hold less the rest is spread evenly over
/// the bins each side's fit reaches, shared by the sides as their fits are (where both fits
/// are empty, over the nearest quarter of each side's bins, shared by bins): scaling a fit up
/// would pile the rest onto whatever block noise left standing. A bin loud enough
/// ([`TAIL_SPIKE`]) keeps at least its own count.
pub fn falling_tails(sides: [&[f64]; 2], std: f64, mass: f64) -> [Vec<f64>; 2] {
    tails_beside_clusters(sides, std, mass, [false, false])
}

/// [`falling_tails`], where a side marked in `clusters` may hold a population of its own
/// rather than a tail falling from the part: the other sign of a column binned in log scale on
/// both sides of zero (a balance negative in a tenth of its rows, the part holding the
/// positive ones). Where such a side's noisy counts hold clearly more rows than its fit
/// ([`loud_sides`]), it takes its share of the rest where its counts have it
/// ([`spread_by_blocks`]). Not for a side of one sign: on vega's movies the votes' tail above
/// a part of [563, 62,008] (real 12% of rows, falling to 519,541) was spread evenly up to
/// 562,341 by its blocks of noise, 6% of the rows sampled near 460,000 (real 0.3% above
/// 300,000).
pub fn tails_beside_clusters(
    sides: [&[f64]; 2],
    std: f64,
    mass: f64,
    clusters: [bool; 2],
) -> [Vec<f64>; 2] {
    // The fit's blocks moving away from the part; the first (next to the part) always counts,
    // and the tail ends at the first later block whose rows do not clear [`TAIL_BLOCK`]
    // deviations of its noise (`std √k`).
    let shape = |counts: &[f64]| -> Vec<f64> {
        let mut ended = false;
        let mut fit = Vec::with_capacity(counts.len());
        for (i, (sum, k)) in non_increasing_fit(counts).into_iter().enumerate() {
            ended |= i > 0 && sum <= TAIL_BLOCK * std * (k as f64).sqrt();
            let level = if ended {
                0.0
            } else {
                (sum / k as f64).max(0.0)
            };
            fit.extend(std::iter::repeat_n(level, k));
        }
        fit
    };
    let mut fits = sides.map(shape);
    let held = [0, 1].map(|s| fits[s].iter().sum::<f64>());
    let total = held[0] + held[1];
    let mass = mass.max(0.0);
    // How many bins from the part a side's fit reaches (its last positive bin).
    let reach = |fit: &[f64]| fit.iter().rposition(|&w| w > 0.0).map_or(0, |i| i + 1);
    if total >= mass {
        let scale = if total > 0.0 { mass / total } else { 0.0 };
        fits.iter_mut().flatten().for_each(|w| *w *= scale);
    } else if let Some(weights) = loud_sides(sides, std, held, clusters) {
        // A side whose noisy counts hold clearly more rows than its fit (a cluster of values
        // beyond a gap, not a tail falling from the part) takes its share of the rest where
        // its counts have it, block by block ([`spread_by_blocks`]); a quiet side takes its
        // share as below, over the bins its fit reaches.
        let all = weights[0] + weights[1];
        for (s, fit) in fits.iter_mut().enumerate() {
            let rest = (mass - total) * weights[s] / all;
            if held[s] < weights[s] {
                spread_by_blocks(fit, sides[s], rest);
            } else {
                let reach = reach(fit);
                let each = rest / reach.max(1) as f64;
                fit.iter_mut().take(reach).for_each(|w| *w += each);
            }
        }
    } else {
        // The rest goes over the bins each side's fit reaches, shared as the fits hold rows;
        // where neither holds any, over the nearest quarter of each side's bins, shared by
        // bins: a falling tail's rows sit near its part.
        let near = |fit: &[f64]| fit.len().div_ceil(4);
        let spans: [usize; 2] = if total > 0.0 {
            [reach(&fits[0]), reach(&fits[1])]
        } else {
            [near(&fits[0]), near(&fits[1])]
        };
        let bins = (spans[0] + spans[1]).max(1) as f64;
        for (s, fit) in fits.iter_mut().enumerate() {
            let share = if total > 0.0 {
                held[s] / total
            } else {
                spans[s] as f64 / bins
            };
            let each = (mass - total) * share / spans[s].max(1) as f64;
            fit.iter_mut().take(spans[s]).for_each(|w| *w += each);
        }
    }
    for (fit, counts) in fits.iter_mut().zip(sides) {
        let level = spike_level(counts.len());
        for (w, &c) in fit.iter_mut().zip(counts) {
            if c > level * std {
                *w = w.max(c);
            }
        }
    }
    fits
}

/// Where a side marked in `clusters` has noisy counts (`sides`, noise std `std` each) holding
/// more rows beyond its fit (`held`) than [`TAIL_BLOCK`] deviations of their sum's noise, the
/// weights the rest left out is shared by: such a side's rows beyond its fit, a quiet side's
/// fit. `None` where neither side is loud. A bank balance negative in 8% of 6,000 rows, spread over 30 log-scale bins
/// at about 16 rows each (noise std 24.8), fitted only its first bin next to the part (20
/// rows) against the other side's 42 of pure noise, so 68% of the rest went to the top bin:
/// a mode at 32,000 holding 8% of the rows (real 1% above 20,000), and no negative value.
fn loud_sides(
    sides: [&[f64]; 2],
    std: f64,
    held: [f64; 2],
    clusters: [bool; 2],
) -> Option<[f64; 2]> {
    let beyond = [0, 1].map(|s| (sides[s].iter().sum::<f64>() - held[s]).max(0.0));
    let loud = [0, 1]
        .map(|s| clusters[s] && beyond[s] > TAIL_BLOCK * std * (sides[s].len() as f64).sqrt());
    (loud[0] || loud[1]).then(|| [0, 1].map(|s| if loud[s] { beyond[s] } else { held[s] }))
}

/// Adds `rest` rows to `fit` where `counts` hold more than it: the side's bins in blocks of
/// about √k of its `k` bins, each block's share its residual sum (counts less fit), clamped
/// at zero, spread evenly over the block. The blocks pool the noise of single bins (a cluster
/// of 16 rows a bin under noise of 24.8 sums to about 100 rows in a block of seven).
fn spread_by_blocks(fit: &mut [f64], counts: &[f64], rest: f64) {
    let k = fit.len().min(counts.len());
    if k == 0 {
        return;
    }
    let size = (k as f64).sqrt().ceil() as usize;
    let sums: Vec<f64> = (0..k)
        .step_by(size)
        .map(|a| {
            (a..(a + size).min(k))
                .map(|b| counts[b] - fit[b])
                .sum::<f64>()
                .max(0.0)
        })
        .collect();
    let all: f64 = sums.iter().sum();
    if all <= 0.0 {
        return;
    }
    for (i, sum) in sums.into_iter().enumerate() {
        let (a, z) = (i * size, ((i + 1) * size).min(k));
        let each = rest * sum / all / (z - a) as f64;
        fit[a..z].iter_mut().for_each(|w| *w += each);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dp::DpRng;

    fn expand(blocks: &[(f64, usize)]) -> Vec<f64> {
        blocks
            .iter()
            .flat_map(|&(s, k)| std::iter::repeat_n(s / k as f64, k))
            .collect()
    }

    #[test]
    fn the_fit_matches_scikit_learns_isotonic_regression() {
        // sklearn.isotonic.IsotonicRegression(increasing=False).fit_transform(range(10), y)
        // (scikit-learn 1.7) gave these values.
        let y = [40.0, 55.0, 12.0, -20.0, 30.0, -5.0, 61.0, -10.0, 3.0, -28.0];
        let reference = [47.5, 47.5, 15.6, 15.6, 15.6, 15.6, 15.6, -3.5, -3.5, -28.0];
        let fit = expand(&non_increasing_fit(&y));
        for (a, b) in fit.iter().zip(reference) {
            assert!((a - b).abs() < 1e-9, "{fit:?}");
        }
        // A block's sum is its inputs' sum.
        assert!((fit.iter().sum::<f64>() - y.iter().sum::<f64>()).abs() < 1e-9);
    }

    #[test]
    fn a_lone_noisy_bin_is_pooled_and_the_tails_hold_the_rows_left_out() {
        // The counts above with std 28: the lone 61 (sixth bin on) is pooled with the quiet
        // bins before it (their mean 15.6), and the two sides hold the 150 rows left out in
        // the proportions of their fits.
        let above = [40.0, 55.0, 12.0, -20.0, 30.0, -5.0, 61.0, -10.0, 3.0, -28.0];
        let below = [20.0, -3.0, -8.0];
        let [b, a] = falling_tails([&below, &above], 28.0, 150.0);
        let total: f64 = a.iter().chain(&b).sum();
        assert!((total - 150.0).abs() < 1e-9, "{total}");
        assert!((a[6] - a[2]).abs() < 1e-9 && a[6] < a[0], "{a:?}");
        assert!(a.windows(2).all(|w| w[0] >= w[1]) && b.windows(2).all(|w| w[0] >= w[1]));
        // A bracket beyond a gap (130 rows, 4.6 deviations among five bins) keeps its count.
        let [_, a] = falling_tails([&[], &[3.0, -12.0, 5.0, 130.0, 2.0]], 28.0, 10.0);
        assert_eq!(a[3], 130.0);
        // Nothing left out: no tail.
        let [_, a] = falling_tails([&[], &above], 28.0, -40.0);
        assert!(a.iter().all(|&w| w == 0.0), "{a:?}");
    }

    #[test]
    fn a_cluster_beyond_a_gap_takes_the_rows_its_counts_hold() {
        // A bank balance of 6,000 rows (seeded run, noise std 24.8): the part holds the
        // positive amounts from 18 up; below it 41 log-scale bins (moving away from the part:
        // 18 down to 0, then -0.6 down to -17,782), where the real rows are 523, 470 of them
        // in the 20 farthest bins (the negative balances), and above it 2 bins holding 37 real
        // rows. 650 rows are left out (the part's check). These are the run's noisy counts.
        let mut below = vec![
            29.0, 13.0, -2.0, 17.0, -17.0, 7.0, 6.0, 47.0, 17.0, 36.0, 49.0, 12.0, 45.0, 102.0,
            10.0, -5.0, -6.0, -45.0, 1.0, 29.0, -46.0, 16.0, -9.0, -14.0, 11.0, 34.0, 14.0, -18.0,
            -14.0, 35.0, 21.0, 16.0, 11.0, 1.0, -12.0, 10.0, 8.0, -18.0, 22.0, 9.0, 20.0,
        ];
        below.reverse();
        let above = [42.0, 1.0];
        let [b, a] = tails_beside_clusters([&below, &above], 24.8, 650.0, [true, false]);
        let (sb, sa): (f64, f64) = (b.iter().sum(), a.iter().sum());
        assert!((sb + sa - 650.0).abs() < 1e-6 + 102.0, "{sb} + {sa}");
        // Most rows below (real 523 of 560), and most of those far out (real 470 of 523);
        // the fit alone held 20 rows in the first bin below and 42 above, and shared the rest
        // 32% / 68%.
        assert!(sb > 0.8 * (sa + sb), "below {sb}, above {sa}");
        let far: f64 = b[21..].iter().sum();
        assert!(far > 0.6 * sb, "far {far} of {sb}");
        // Unmarked, the side is a falling tail: the rest goes next to the part as before.
        let [b, _] = falling_tails([&below, &above], 24.8, 650.0);
        assert!(
            b[21..].iter().sum::<f64>() < 0.5 * b.iter().sum::<f64>(),
            "{b:?}"
        );
        // A side of pure noise next to it keeps the old sharing (a quiet side, by its fit).
        let [_, w] = tails_beside_clusters([&[], &[42.0, 1.0, -5.0]], 24.8, 100.0, [true; 2]);
        assert!((w.iter().sum::<f64>() - 100.0).abs() < 1e-9, "{w:?}");
        assert!(w[0] >= w[1] && w[1] >= w[2], "{w:?}");
    }

    #[test]
    fn a_tail_of_pure_noise_holds_its_rows_near_the_part() {
        // 45 bins of pure noise (std 21) beyond a part that left 60 rows unexplained (a
        // 4,000-row table's check, churn's calls): the rows stay in the nearer half of the
        // bins, where the fit of noise used to leave positive blocks far out.
        let mut rng = DpRng::from_seed(5);
        let runs = 400;
        let mut far = 0.0;
        for _ in 0..runs {
            let noisy = rng.gaussian(45, 21.0);
            let [_, w] = falling_tails([&[], &noisy], 21.0, 60.0);
            // At least the rows left out (a bin loud enough as a spike keeps its count).
            let sum: f64 = w.iter().sum();
            assert!(sum > 60.0 - 1e-6, "{sum}");
            far += w[22..].iter().sum::<f64>() / sum;
        }
        let far = far / runs as f64;
        assert!(far < 0.1, "share beyond the 22nd bin {far:.3}");
    }

    #[test]
    fn a_long_thin_tail_keeps_its_mass_near_where_it_is() {
        // 12% of 1,729 rows (BudgetItaly's food shares above 3.3) over 52 bins, falling,
        // under noise of std 20: no bin and no pooled block clears two deviations, so a
        // threshold on the fit dropped the whole tail; the rows left out (estimated with
        // noise of std 77) keep it, and most of it in the first half of the bins, as in the
        // real tail. A lone spike of noise far out (two deviations) is never a mode.
        let real: Vec<f64> = (0..52).map(|b| 16.0 * 0.93f64.powi(b)).collect();
        let truth: f64 = real.iter().sum();
        let first_half: f64 = real[..26].iter().sum::<f64>() / truth;
        let mut rng = DpRng::from_seed(3);
        let runs = 400;
        let (mut near, mut far_peak) = (0.0, 0.0f64);
        for _ in 0..runs {
            let mut noisy: Vec<f64> = real
                .iter()
                .zip(rng.gaussian(52, 20.0))
                .map(|(r, e)| r + e)
                .collect();
            noisy[45] = noisy[45].max(40.0);
            let mass = truth + rng.gaussian(1, 77.0)[0];
            let [_, w] = falling_tails([&[], &noisy], 20.0, mass);
            let sum: f64 = w.iter().sum();
            if sum > 0.0 {
                near += w[..26].iter().sum::<f64>() / sum;
            }
            far_peak = far_peak.max(w[45] / mass.max(1.0));
        }
        let near = near / runs as f64;
        assert!(
            (near - first_half).abs() < 0.15,
            "share in the first half {near:.2}, real {first_half:.2}"
        );
        assert!(far_peak < 0.05, "a far bin held {far_peak:.3} of the tail");
    }
}
