//! The generator's two-way marginal loss in DP mode (`privacy.pair_marginals`): the mean
//! total-variation distance between the pair tables of the generator's output distribution and
//! the noisy tables preprocessing released (`dp::marginals`). It reads no row: post-processing.
//!
//! The generator's table is estimated on its own batch, from each column's state probabilities
//! (the softmax of its logits, which is the distribution that sampling draws the state from), with
//! each row weighted by how much likelier sampling is than training to ask for its condition.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

use crate::dp::marginals::NoisyPairs;
use crate::transform::ColumnStates;

/// The noisy pair tables laid out for the loss, on the training device.
pub struct PairTarget {
    layout: Vec<ColumnStates>,
    /// `[S, S]` for `S` states in all: the pair tables in their blocks, both triangles.
    target: Tensor<2>,
    /// `[S, S]`: 1 in the measured blocks, 0 elsewhere (a column with itself).
    mask: Tensor<2>,
    pairs: usize,
    weight: f64,
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
            target: upload(target),
            mask: upload(mask),
            pairs: noisy.pairs.len(),
            weight,
        }
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
}
