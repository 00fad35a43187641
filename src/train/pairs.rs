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
    states: usize,
    pairs: usize,
    weight: f64,
    /// The surrogate's correlations of continuous columns (`privacy.correlation_weight`).
    correlations: Option<CorrelationTarget>,
}

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
        for (&(a, b), table) in noisy.pairs.iter().zip(&noisy.tables) {
            let (sa, sb) = (noisy.states[a], noisy.states[b]);
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
        let upload = |v: Vec<f32>| Tensor::from_data(TensorData::new(v, [total, total]), device);
        PairTarget {
            layout,
            target: upload(target.clone()),
            mask: upload(mask.clone()),
            host_target: target,
            host_mask: mask,
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
        // joint = (states ⊙ w)ᵀ states [S, S]; G = dL/d joint = scale · sign(joint − T) ⊙ M.
        let mut weighted = states.clone();
        for (r, &w) in weights.iter().enumerate() {
            weighted.row_mut(r).iter_mut().for_each(|x| *x *= w);
        }
        let joint = crate::model::host::linalg::matmul(&weighted, Op::T, &states, Op::N);
        let scale = self.weight / (4.0 * self.pairs.max(1) as f64);
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
            g.data[i] = if diff > 0.0 {
                scale as f32
            } else if diff < 0.0 {
                -(scale as f32)
            } else {
                0.0
            };
        }
        // d states_i = w_i (G + Gᵀ) states_i = 2 w_i G states_i (G is symmetric).
        let mut d_states = crate::model::host::linalg::matmul(&weighted, Op::N, &g, Op::T);
        d_states.data.iter_mut().for_each(|x| *x *= 2.0);
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
