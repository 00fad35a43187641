//! The DP warm start's surrogate rows: drawn from the noisy measurements alone
//! (post-processing, no row is read), so training on them costs no privacy.
//!
//! Columns follow the tree model of the noisy pair tables (`NoisyPairs::sample_states`),
//! optionally raked towards every measured table (`privacy.rake_rounds`). Along a tree edge
//! between two continuous columns with a measured normal-score correlation `ρ`
//! (`privacy.copula`, `dp::copula`), the child's value comes from a Gaussian copula instead of
//! its mode table: its score is `ρ` times the parent's plus independent noise of variance
//! `1 − ρ²`, mapped through the child's released mixture distribution, and its state becomes
//! the mode that value encodes to, so the columns below it see a consistent state.

use rand::{Rng, RngCore};
use rand_distr::{Distribution, Normal, StandardNormal};

use crate::dp::marginals::NoisyPairs;
use crate::transform::continuous::{normal_cdf, normal_quantile};
use crate::transform::{ContinuousEncoder, DataTransformer, EncodedTable, Encoder};

/// `n` surrogate rows: from the tree model of `pairs` (raked for `rake_rounds` passes, linked
/// by its copula), or with every column drawn on its own without pair tables.
pub fn surrogate_rows(
    transformer: &DataTransformer,
    pairs: Option<&NoisyPairs>,
    n: usize,
    rake_rounds: usize,
    rng: &mut impl Rng,
) -> EncodedTable {
    let Some(pairs) = pairs else {
        return transformer.sample_independent(n, rng);
    };
    let k = transformer.encoders.len();
    let margins = transformer.state_margins();
    let mut values: Vec<Option<Vec<Option<f64>>>> = vec![None; k];
    let mut scores: Vec<Option<Vec<f64>>> = vec![None; k];
    let mut link = |parent: usize,
                    child: usize,
                    parent_states: &[u32],
                    child_states: &mut [u32],
                    rng: &mut dyn RngCore| {
        match (&transformer.encoders[parent], &transformer.encoders[child]) {
            (Encoder::Continuous(pe), Encoder::Continuous(ce)) => {
                let Some(rho) = pairs.copula_of(parent, child) else {
                    return;
                };
                if pe.modes.is_empty() || ce.modes.is_empty() {
                    return;
                }
                let parent_scores =
                    scores_of(parent, pe, parent_states, &mut values, &mut scores, rng);
                let rest = (1.0 - rho * rho).max(0.0).sqrt();
                let draws: Vec<f64> = parent_scores
                    .iter()
                    .map(|&gp| {
                        let e: f64 = StandardNormal.sample(&mut *rng);
                        rho * gp + rest * e
                    })
                    .collect();
                (values[child], scores[child]) = values_from_scores(ce, child_states, &draws, rng);
            }
            (Encoder::Discrete(_), Encoder::Continuous(ce)) => {
                // The category shifts the child's score: g = μ_s + σ e.
                let Some((means, spread)) = pairs.score_shift(parent, child) else {
                    return;
                };
                if ce.modes.is_empty() {
                    return;
                }
                let draws: Vec<f64> = parent_states
                    .iter()
                    .map(|&s| {
                        let e: f64 = StandardNormal.sample(&mut *rng);
                        means.get(s as usize).copied().unwrap_or(0.0) + spread * e
                    })
                    .collect();
                (values[child], scores[child]) = values_from_scores(ce, child_states, &draws, rng);
            }
            (Encoder::Continuous(pe), Encoder::Discrete(_)) => {
                // The child's category given the parent's score: p_s N(g; μ_s, σ²), normalised.
                let Some((means, spread)) = pairs.score_shift(child, parent) else {
                    return;
                };
                if pe.modes.is_empty() {
                    return;
                }
                let parent_scores =
                    scores_of(parent, pe, parent_states, &mut values, &mut scores, rng);
                let margin = &margins[child];
                let var = spread * spread;
                for (state, &g) in child_states.iter_mut().zip(parent_scores) {
                    let logs: Vec<f64> = means
                        .iter()
                        .zip(margin)
                        .map(|(m, &p)| p.max(0.0).ln() - (g - m).powi(2) / (2.0 * var))
                        .collect();
                    let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    if !top.is_finite() {
                        continue;
                    }
                    let weights: Vec<f64> = logs.iter().map(|l| (l - top).exp()).collect();
                    *state = crate::transform::weighted_index(&weights, &mut &mut *rng) as u32;
                }
            }
            _ => {}
        }
    };
    let raked = pairs.sample_raked_states(n, &margins, rake_rounds, rng, &mut link);
    let values: Vec<Option<Vec<Option<f64>>>> = values
        .into_iter()
        .map(|v| v.map(|v| raked.chosen.iter().map(|&r| v[r]).collect()))
        .collect();
    transformer.sample_given_values(n, &raked.states, &values, rng)
}

/// The normal scores of continuous column `column` (encoder `enc`) in its drawn states
/// `states`: drawn once, as values within their states, and kept in `values` and `scores`.
fn scores_of<'a>(
    column: usize,
    enc: &ContinuousEncoder,
    states: &[u32],
    values: &mut [Option<Vec<Option<f64>>>],
    scores: &'a mut [Option<Vec<f64>>],
    rng: &mut dyn RngCore,
) -> &'a [f64] {
    if scores[column].is_none() {
        let xs: Vec<Option<f64>> = states
            .iter()
            .map(|&s| value_in_state(enc, s as usize, &mut *rng))
            .collect();
        scores[column] = Some(
            xs.iter()
                .map(|x| x.map_or(0.0, |x| normal_quantile(enc.cdf(x))))
                .collect(),
        );
        values[column] = Some(xs);
    }
    scores[column].as_deref().expect("set above")
}

/// A continuous child's values from its drawn normal scores `draws` (`x = F⁻¹(Φ(g))`), its
/// states becoming the modes those values encode to; a row in the null state stays null.
/// Returns the values and the scores, as the link keeps them.
fn values_from_scores(
    enc: &ContinuousEncoder,
    states: &mut [u32],
    draws: &[f64],
    rng: &mut dyn RngCore,
) -> (Option<Vec<Option<f64>>>, Option<Vec<f64>>) {
    let mut xs = Vec::with_capacity(states.len());
    let mut gs = Vec::with_capacity(states.len());
    let table = enc.quantile_table();
    for (state, &g) in states.iter_mut().zip(draws) {
        if enc.has_null && *state as usize >= enc.modes.len() {
            xs.push(None);
            gs.push(0.0);
            continue;
        }
        let x = table.quantile(normal_cdf(g));
        *state = enc.draw_mode(x, &mut *rng) as u32;
        xs.push(Some(x));
        gs.push(g);
    }
    (Some(xs), Some(gs))
}

/// A value of continuous column `enc` in state `state` (a mode, or the null state): the mode's
/// mean for an exact mode, else a draw from its normal within the column's bounds.
fn value_in_state(enc: &ContinuousEncoder, state: usize, rng: &mut dyn RngCore) -> Option<f64> {
    if enc.has_null && state >= enc.modes.len() {
        return None;
    }
    let m = &enc.modes[state.min(enc.modes.len() - 1)];
    let x = if m.exact {
        m.mean
    } else {
        Normal::new(m.mean, m.std).map_or(m.mean, |d| d.sample(&mut *rng))
    };
    Some(x.clamp(enc.min, enc.max))
}

/// The normal score `Φ⁻¹(F(x))` of a continuous column's value in a dense encoded row (`F` the
/// column's released mixture), as `score(column, row)`: `None` for a missing value, a discrete
/// column or one without modes. What `dp::copula` sums. The columns' offsets in the row are
/// computed once here, not per row.
pub fn normal_scorer(transformer: &DataTransformer) -> impl Fn(usize, &[f32]) -> Option<f64> + '_ {
    let offsets: Vec<usize> = transformer
        .encoders
        .iter()
        .scan(0, |offset, e| {
            let start = *offset;
            *offset += match e {
                Encoder::Discrete(d) => d.width(),
                Encoder::Continuous(c) => c.width(),
            };
            Some(start)
        })
        .collect();
    move |column: usize, row: &[f32]| {
        let Encoder::Continuous(c) = &transformer.encoders[column] else {
            return None;
        };
        if c.modes.is_empty() {
            return None;
        }
        let offset = offsets[column];
        let x = c.decode_value(&row[offset..offset + c.width()])?;
        Some(normal_quantile(c.cdf(x)))
    }
}
