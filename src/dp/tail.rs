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
    if total >= mass {
        let scale = if total > 0.0 { mass / total } else { 0.0 };
        fits.iter_mut().flatten().for_each(|w| *w *= scale);
    } else {
        // The rest goes over the bins each side's fit reaches, shared as the fits hold rows;
        // where neither holds any, over the nearest quarter of each side's bins, shared by
        // bins: a falling tail's rows sit near its part.
        let reach = |fit: &[f64]| fit.iter().rposition(|&w| w > 0.0).map_or(0, |i| i + 1);
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
