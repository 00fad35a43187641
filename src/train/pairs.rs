//! The generator's two-way marginal loss in DP mode (`privacy.pair_marginals`): the mean
//! total-variation distance between the pair tables of the generator's output distribution and
//! the noisy tables preprocessing released (`dp::marginals`). It reads no row: post-processing.
//!
//! The generator's table is estimated on its own batch, from each column's state probabilities
//! (the softmax of its logits, which is the distribution that sampling draws the state from), with
//! each row weighted by how much likelier sampling is than training to ask for its condition.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

use super::correlations::CorrelationTarget;
use crate::dp::marginals::NoisyPairs;
use crate::model::host::{Mat, Op};
use crate::transform::ColumnStates;

/// The noisy pair tables laid out for the loss, on the training device.
pub struct PairTarget {
    layout: Vec<ColumnStates>,
    /// `[S, S]` for `S` states in all: the pair tables in their blocks, both triangles.
    target: Tensor<2>,
    /// `[S, S]`: 1 in the measured blocks, 0 elsewhere (a column with itself).
    mask: Tensor<2>,
    /// The same target and mask on the host, row-major `[S, S]`, for the host engine.
    host_target: Vec<f32>,
    host_mask: Vec<f32>,
    /// The measured pairs' blocks, once each, when the host engine computes only those
    /// ([`SPARSE_ADVANTAGE`]); `None`: it computes the whole `[S, S]` joint.
    host_blocks: Option<Vec<Block>>,
    states: usize,
    pairs: usize,
    weight: f64,
    /// The surrogate's correlations of continuous columns (`privacy.correlation_weight`).
    correlations: Option<CorrelationTarget>,
}

/// One measured pair's block of the joint: column `a`'s states `[a0, a0 + sa)` against column
/// `b`'s `[b0, b0 + sb)`, and its target table, row-major `[sa, sb]`.
struct Block {
    a0: usize,
    sa: usize,
    b0: usize,
    sb: usize,
    target: Vec<f32>,
}

/// The host engine computes the measured blocks alone (plain loops) when they hold fewer than
/// `1 / SPARSE_ADVANTAGE` of the `[S, S]` joint's cells (two matrix products, several times
/// faster per cell). A tree of a 150-column table measures about 1% of them.
const SPARSE_ADVANTAGE: usize = 8;

impl PairTarget {
    /// Lays out `noisy` (measured with `layout`) for the loss, weighted by `weight`.
    pub fn new(
        noisy: &NoisyPairs,
        layout: Vec<ColumnStates>,
        weight: f64,
        device: &Device,
    ) -> Self {
        let starts: Vec<usize> = noisy
            .states
            .iter()
            .scan(0, |acc, &s| {
                let start = *acc;
                *acc += s;
                Some(start)
            })
            .collect();
        let total: usize = noisy.states.iter().sum();
        let mut target = vec![0f32; total * total];
        let mut mask = vec![0f32; total * total];
        let mut blocks = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut distinct = true;
        for (&(a, b), table) in noisy.pairs.iter().zip(&noisy.tables) {
            let (sa, sb) = (noisy.states[a], noisy.states[b]);
            // A pair listed twice, or a column with itself, overlaps its own cells: the dense
            // joint (one mask cell per cell) is the reference then.
            distinct &= a != b && seen.insert((a.min(b), a.max(b)));
            blocks.push(Block {
                a0: starts[a],
                sa,
                b0: starts[b],
                sb,
                target: table.iter().map(|&p| p as f32).collect(),
            });
            for i in 0..sa {
                for j in 0..sb {
                    let p = table[i * sb + j] as f32;
                    let (r, c) = (starts[a] + i, starts[b] + j);
                    target[r * total + c] = p;
                    target[c * total + r] = p;
                    mask[r * total + c] = 1.0;
                    mask[c * total + r] = 1.0;
                }
            }
        }
        let block_cells: usize = blocks.iter().map(|b| b.sa * b.sb).sum();
        let host_blocks =
            (distinct && block_cells * SPARSE_ADVANTAGE < total * total).then_some(blocks);
        let upload = |v: Vec<f32>| Tensor::from_data(TensorData::new(v, [total, total]), device);
        PairTarget {
            layout,
            target: upload(target.clone()),
            mask: upload(mask.clone()),
            host_target: target,
            host_mask: mask,
            host_blocks,
            states: total,
            pairs: noisy.pairs.len(),
            weight,
            correlations: None,
        }
    }

    /// This target with the correlation loss of `correlations` beside it.
    pub fn with_correlations(mut self, correlations: Option<CorrelationTarget>) -> Self {
        self.correlations = correlations;
        self
    }

    /// The correlation loss ([`CorrelationTarget::loss`]) of activated generator rows `fake`
    /// `[batch, data_dim]` with row weights `weights` `[batch, 1]`, when there is one.
    pub fn correlation_loss(&self, fake: Tensor<2>, weights: Tensor<2>) -> Option<Tensor<1>> {
        self.correlations.as_ref().map(|c| c.loss(fake, weights))
    }

    /// The host engine's [`PairTarget::correlation_loss`], its gradient added to `d_fake`
    /// (0 without a correlation target).
    pub fn correlation_loss_host(&self, fake: &Mat, weights: &[f32], d_fake: &mut Mat) -> f64 {
        self.correlations
            .as_ref()
            .map_or(0.0, |c| c.loss_host(fake, weights, d_fake))
    }

    /// Each column's state probabilities, side by side: `[batch, data_dim] -> [batch, S]`.
    pub fn state_probabilities(&self, raw: Tensor<2>) -> Tensor<2> {
        let [batch, _] = raw.dims();
        let parts: Vec<Tensor<2>> = self
            .layout
            .iter()
            .map(|l| {
                let body = || {
                    softmax(
                        raw.clone().slice([0..batch, l.offset..l.offset + l.width]),
                        1,
                    )
                };
                match (l.width, l.null) {
                    (0, None) => Tensor::ones([batch, 1], &raw.device()),
                    (_, None) => body(),
                    (_, Some(n)) => {
                        // The null span is [not null, null]: its "null" entry is `n`.
                        let null = softmax(raw.clone().slice([0..batch, n - 1..n + 1]), 1);
                        let present = null.clone().slice([0..batch, 0..1]);
                        let absent = null.slice([0..batch, 1..2]);
                        Tensor::cat(vec![body() * present, absent], 1)
                    }
                }
            })
            .collect();
        Tensor::cat(parts, 1)
    }

    /// The weighted loss for raw generator output `raw` `[batch, data_dim]` and row weights
    /// `weights` `[batch, 1]` that add up to 1: `weight` x the mean over pairs of the
    /// total-variation distance between the batch's pair tables and the target's.
    pub fn loss(&self, raw: Tensor<2>, weights: Tensor<2>) -> Tensor<1> {
        let states = self.state_probabilities(raw);
        // [S, batch] x [batch, S]: the batch's joint state distribution for every pair.
        let joint = (states.clone() * weights).transpose().matmul(states);
        let distance = ((joint - self.target.clone()) * self.mask.clone())
            .abs()
            .sum();
        // Both triangles hold every pair, and TV is half the L1 distance.
        distance.mul_scalar(self.weight / (4.0 * self.pairs.max(1) as f64))
    }

    /// The host engine's [`PairTarget::loss`]: the same value for raw generator output `raw`
    /// `[batch, data_dim]` and row weights `weights` (adding up to 1), with its gradient added
    /// to `d_raw` `[batch, data_dim]`. `|x|`'s gradient at 0 is taken as 0, as burn takes it.
    pub fn loss_host(&self, raw: &Mat, weights: &[f32], d_raw: &mut Mat) -> f64 {
        let batch = raw.rows;
        let s = self.states;
        // Each column's state probabilities, side by side: [batch, S].
        let mut states = Mat::zeros(batch, s);
        for r in 0..batch {
            let row = raw.row(r);
            let out = states.row_mut(r);
            let mut at = 0;
            for l in &self.layout {
                match (l.width, l.null) {
                    (0, None) => {
                        out[at] = 1.0;
                        at += 1;
                    }
                    (w, null) => {
                        softmax_into(&row[l.offset..l.offset + w], &mut out[at..at + w]);
                        at += w;
                        if let Some(n) = null {
                            let mut pn = [0f32; 2];
                            softmax_into(&row[n - 1..n + 1], &mut pn);
                            out[at - w..at].iter_mut().for_each(|p| *p *= pn[0]);
                            out[at] = pn[1];
                            at += 1;
                        }
                    }
                }
            }
        }
        let scale = self.weight / (4.0 * self.pairs.max(1) as f64);
        let (distance, d_states) = match &self.host_blocks {
            Some(blocks) => blocks_loss(blocks, &states, weights, scale as f32),
            None => self.dense_loss(&states, weights, scale as f32),
        };
        // Back through each column's softmaxes into the raw output.
        for r in 0..batch {
            let (p, dp) = (states.row(r), d_states.row(r));
            let d_row = d_raw.row_mut(r);
            let row = raw.row(r);
            let mut at = 0;
            for l in &self.layout {
                match (l.width, l.null) {
                    (0, None) => at += 1,
                    (w, None) => {
                        softmax_backward(&p[at..at + w], &dp[at..at + w], &mut d_row[l.offset..]);
                        at += w;
                    }
                    (w, Some(n)) => {
                        let mut pn = [0f32; 2];
                        softmax_into(&row[n - 1..n + 1], &mut pn);
                        // states = [body · present, absent].
                        let mut body = vec![0f32; w];
                        softmax_into(&row[l.offset..l.offset + w], &mut body);
                        let d_body: Vec<f32> = dp[at..at + w].iter().map(|d| d * pn[0]).collect();
                        let d_present: f32 =
                            dp[at..at + w].iter().zip(&body).map(|(d, b)| d * b).sum();
                        softmax_backward(&body, &d_body, &mut d_row[l.offset..]);
                        softmax_backward(&pn, &[d_present, dp[at + w]], &mut d_row[n - 1..]);
                        at += w + 1;
                    }
                }
            }
        }
        distance * scale
    }

    /// The whole joint `[S, S]` of the state probabilities `states` `[batch, S]` with row
    /// weights `weights`, as two matrix products: the summed `|joint − T|` over the measured
    /// cells (both triangles) and its gradient in `states` for a loss of `scale` x that sum.
    fn dense_loss(&self, states: &Mat, weights: &[f32], scale: f32) -> (f64, Mat) {
        let s = self.states;
        // joint = (states ⊙ w)ᵀ states [S, S]; G = dL/d joint = scale · sign(joint − T) ⊙ M.
        let mut weighted = states.clone();
        for (r, &w) in weights.iter().enumerate() {
            weighted.row_mut(r).iter_mut().for_each(|x| *x *= w);
        }
        let joint = crate::model::host::linalg::matmul(&weighted, Op::T, states, Op::N);
        let mut distance = 0f64;
        let mut g = Mat::zeros(s, s);
        for (i, ((j, t), m)) in joint
            .data
            .iter()
            .zip(&self.host_target)
            .zip(&self.host_mask)
            .enumerate()
        {
            let diff = (j - t) * m;
            distance += diff.abs() as f64;
            g.data[i] = sign(diff) * scale;
        }
        // d states_i = w_i (G + Gᵀ) states_i = 2 w_i G states_i (G is symmetric).
        let mut d_states = crate::model::host::linalg::matmul(&weighted, Op::N, &g, Op::T);
        d_states.data.iter_mut().for_each(|x| *x *= 2.0);
        (distance, d_states)
    }
}

/// [`PairTarget::dense_loss`] computed on the measured blocks alone: each block's joint is
/// `Σ_r w_r p_a(r) p_b(r)ᵀ` `[sa, sb]`, and it stands for both triangles (its mirror is its
/// transpose), so it counts twice in the sum and in the gradient.
fn blocks_loss(blocks: &[Block], states: &Mat, weights: &[f32], scale: f32) -> (f64, Mat) {
    let mut distance = 0f64;
    let mut d_states = Mat::zeros(states.rows, states.cols);
    let mut joint = Vec::new();
    for block in blocks {
        let (a0, sa, b0, sb) = (block.a0, block.sa, block.b0, block.sb);
        joint.clear();
        joint.resize(sa * sb, 0f32);
        for (r, &w) in weights.iter().enumerate() {
            let row = states.row(r);
            let pb = &row[b0..b0 + sb];
            for (i, &pa) in row[a0..a0 + sa].iter().enumerate() {
                let x = w * pa;
                for (cell, &p) in joint[i * sb..(i + 1) * sb].iter_mut().zip(pb) {
                    *cell += x * p;
                }
            }
        }
        // G's block, signs scaled; the joint's buffer is reused for it.
        for (cell, &t) in joint.iter_mut().zip(&block.target) {
            let diff = *cell - t;
            distance += 2.0 * diff.abs() as f64;
            *cell = sign(diff) * scale;
        }
        let g = &joint;
        // d p_a(r) += 2 w_r G p_b(r); d p_b(r) += 2 w_r Gᵀ p_a(r).
        for (r, &w) in weights.iter().enumerate() {
            let row = states.row(r);
            let (pa, pb) = (&row[a0..a0 + sa], &row[b0..b0 + sb]);
            let d = d_states.row_mut(r);
            for i in 0..sa {
                let gi = &g[i * sb..(i + 1) * sb];
                d[a0 + i] += 2.0 * w * gi.iter().zip(pb).map(|(g, p)| g * p).sum::<f32>();
                for (dj, &gij) in d[b0..b0 + sb].iter_mut().zip(gi) {
                    *dj += 2.0 * w * gij * pa[i];
                }
            }
        }
    }
    (distance, d_states)
}

/// `x`'s sign as `1`, `-1` or `0` (|x|'s gradient at 0 is taken as 0, as burn takes it).
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `out = softmax(logits)`.
fn softmax_into(logits: &[f32], out: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0f32;
    for (o, &x) in out.iter_mut().zip(logits) {
        *o = (x - max).exp();
        total += *o;
    }
    out.iter_mut().for_each(|o| *o /= total);
}

/// Adds softmax's backward pass, `p ⊙ (dp − Σ p dp)`, to the first `p.len()` entries of `out`.
fn softmax_backward(p: &[f32], dp: &[f32], out: &mut [f32]) {
    let inner: f32 = p.iter().zip(dp).map(|(a, b)| a * b).sum();
    for ((o, &pi), &di) in out.iter_mut().zip(p).zip(dp) {
        *o += pi * (di - inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Twelve columns (categories of 2-6 states, one with a null slot, one constant), a tree's
    /// eleven pairs of them with random tables: a few percent of the `[S, S]` cells.
    fn tree_target(rng: &mut ChaCha8Rng) -> (PairTarget, usize) {
        let mut layout = Vec::new();
        let mut offset = 0;
        for c in 0..12 {
            let width = if c == 5 { 0 } else { 2 + c % 5 };
            let null = (c == 3).then(|| offset + width + 1);
            layout.push(ColumnStates {
                offset,
                width,
                null,
            });
            offset += width + if null.is_some() { 2 } else { 0 };
        }
        let states: Vec<usize> = layout.iter().map(ColumnStates::count).collect();
        let pairs: Vec<(usize, usize)> = (1..12).map(|c| (rng.random_range(0..c), c)).collect();
        let tables = pairs
            .iter()
            .map(|&(a, b)| {
                let t: Vec<f64> = (0..states[a] * states[b])
                    .map(|_| rng.random_range(0.0..1.0))
                    .collect();
                let total: f64 = t.iter().sum();
                t.into_iter().map(|x| x / total).collect()
            })
            .collect();
        let noisy = NoisyPairs {
            states,
            pairs,
            tables,
            noise_std: 0.0,
            copula: Vec::new(),
            shifts: Vec::new(),
        };
        let device = Device::flex();
        (PairTarget::new(&noisy, layout, 0.7, &device), offset)
    }

    #[test]
    fn the_measured_blocks_alone_give_the_whole_joints_loss_and_gradient() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let (target, width) = tree_target(&mut rng);
        assert!(target.host_blocks.is_some(), "a tree's blocks are few");
        let batch = 64;
        let raw = Mat::from_vec(
            batch,
            width,
            (0..batch * width)
                .map(|_| rng.random_range(-2.0..2.0))
                .collect(),
        );
        let w: Vec<f32> = (0..batch).map(|_| rng.random_range(0.2..2.0)).collect();
        let total: f32 = w.iter().sum();
        let w: Vec<f32> = w.into_iter().map(|x| x / total).collect();
        let mut sparse_grad = Mat::zeros(batch, width);
        let sparse = target.loss_host(&raw, &w, &mut sparse_grad);
        // The reference: the same target on the whole joint's two matrix products.
        let dense_target = PairTarget {
            host_blocks: None,
            ..target
        };
        let mut dense_grad = Mat::zeros(batch, width);
        let dense = dense_target.loss_host(&raw, &w, &mut dense_grad);
        assert!(sparse > 0.01, "the loss is not trivial: {sparse}");
        assert!(
            (sparse - dense).abs() < 1e-5 * dense,
            "blocks {sparse} vs whole joint {dense}"
        );
        let largest = dense_grad.data.iter().fold(0f32, |m, x| m.max(x.abs()));
        assert!(largest > 1e-4, "the gradient is not trivial");
        for (i, (s, d)) in sparse_grad.data.iter().zip(&dense_grad.data).enumerate() {
            assert!(
                (s - d).abs() <= 1e-4 * largest,
                "gradient entry {i}: blocks {s} vs whole joint {d}"
            );
        }
        // And burn's autodiff of the tensor loss agrees on the value.
        let device = Device::flex();
        let raw_t =
            Tensor::<2>::from_data(TensorData::new(raw.data.clone(), [batch, width]), &device);
        let w_t = Tensor::<2>::from_data(TensorData::new(w.clone(), [batch, 1]), &device);
        let burn: f32 = dense_target.loss(raw_t, w_t).into_scalar();
        assert!(
            (sparse - burn as f64).abs() < 1e-4 * (1.0 + burn.abs() as f64),
            "blocks {sparse} vs burn {burn}"
        );
    }
}
