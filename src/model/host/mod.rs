//! The host engine: both networks on plain `f32` buffers, with forward and backward passes
//! written out and matrix products from the `gemm` crate called directly.
//!
//! burn runs every elementwise operation as its own pass with its own allocation and records
//! it for autodiff; on this project's CPUs that bookkeeping costs as much as the arithmetic
//! (docs/performance.md). The networks here are the same as [`crate::model::Generator`] and
//! [`crate::model::Discriminator`], start from their initial weights, and are converted back
//! to them (through [`NamedTensor`]s) for release; `tests/host_engine.rs` checks every
//! gradient against burn's autodiff.

pub mod adam;
pub mod cores;
pub mod critic;
pub mod generator;
pub mod linalg;
pub mod output;

pub use adam::{Adam, AdamSettings};
pub use critic::HostCritic;
pub use generator::{HostBlock, HostGenerator};
pub use linalg::{matmul_library, Mat, Op};

use super::{to_host, Discriminator, Generator, NamedTensor};
use burn::nn::Linear;
use rand::RngCore;

/// `n` inverted-dropout mask entries from `rng`: `1 / keep` with probability `keep`, else 0.
/// Each entry takes 16 bits of the stream (four per 64-bit word) and is kept when they fall
/// below `round(keep · 2¹⁶)`, so `keep` is rounded to a multiple of 2⁻¹⁶ (0.5 is exact). A
/// quarter of the stream that one 64-bit draw per entry takes: the masks of a DP critic step
/// are hundreds of thousands of entries.
pub fn dropout_mask(rng: &mut impl RngCore, n: usize, keep: f64) -> Vec<f32> {
    let threshold = (keep * 65536.0).round().clamp(0.0, 65536.0) as u32;
    let scale = (1.0 / keep) as f32;
    let entry = |word: u64, lane: usize| {
        let bits = ((word >> (16 * lane)) & 0xffff) as u32;
        if bits < threshold {
            scale
        } else {
            0.0
        }
    };
    // Whole words into fixed chunks of four (no per-entry length checks, so the lanes
    // vectorise), then the unused lanes of the last word are dropped.
    let mut out = vec![0.0f32; n];
    let mut chunks = out.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let word = rng.next_u64();
        for (lane, o) in chunk.iter_mut().enumerate() {
            *o = entry(word, lane);
        }
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let word = rng.next_u64();
        for (lane, o) in rest.iter_mut().enumerate() {
            *o = entry(word, lane);
        }
    }
    out
}

fn linear_parts(layer: &Linear) -> (Mat, Vec<f32>) {
    let [d_in, d_out] = layer.weight.dims();
    let weight = Mat::from_vec(d_in, d_out, to_host(layer.weight.val()));
    let bias = layer
        .bias
        .as_ref()
        .map_or_else(|| vec![0.0; d_out], |b| to_host(b.val()));
    (weight, bias)
}

impl HostGenerator {
    /// The host copy of a burn generator (weights and running statistics).
    pub fn from_burn(g: &Generator) -> HostGenerator {
        let blocks = g
            .blocks
            .iter()
            .map(|b| {
                let (weight, bias) = linear_parts(&b.fc);
                HostBlock {
                    weight,
                    bias,
                    gamma: to_host(b.bn.gamma.val()),
                    beta: to_host(b.bn.beta.val()),
                    running_mean: to_host(b.bn.running_mean.value_sync()),
                    running_var: to_host(b.bn.running_var.value_sync()),
                }
            })
            .collect();
        let (out_weight, out_bias) = linear_parts(&g.output);
        HostGenerator {
            blocks,
            out_weight,
            out_bias,
        }
    }

    /// The generator's tensors under the names a released file uses (as
    /// [`crate::model::generator_tensors`] writes them).
    pub fn named_tensors(&self) -> Vec<NamedTensor> {
        let t = |name: String, shape: Vec<usize>, data: &[f32]| NamedTensor {
            name,
            shape,
            data: data.to_vec(),
        };
        let mut out = Vec::new();
        for (i, b) in self.blocks.iter().enumerate() {
            let w = &b.weight;
            out.push(t(
                format!("generator.blocks.{i}.fc.weight"),
                vec![w.rows, w.cols],
                &w.data,
            ));
        }
        let w = &self.out_weight;
        out.push(t(
            "generator.output.weight".into(),
            vec![w.rows, w.cols],
            &w.data,
        ));
        for (i, b) in self.blocks.iter().enumerate() {
            let p = format!("generator.blocks.{i}");
            let n = b.bias.len();
            out.push(t(format!("{p}.fc.bias"), vec![n], &b.bias));
            out.push(t(format!("{p}.bn.gamma"), vec![n], &b.gamma));
            out.push(t(format!("{p}.bn.beta"), vec![n], &b.beta));
            out.push(t(format!("{p}.bn.running_mean"), vec![n], &b.running_mean));
            out.push(t(format!("{p}.bn.running_var"), vec![n], &b.running_var));
        }
        out.push(t(
            "generator.output.bias".into(),
            vec![self.out_bias.len()],
            &self.out_bias,
        ));
        out
    }
}

impl HostCritic {
    /// The host copy of a burn critic.
    pub fn from_burn(d: &Discriminator) -> HostCritic {
        let (weights, biases) = d.hidden.iter().map(linear_parts).unzip();
        let (out_weight, out_bias) = linear_parts(&d.output);
        HostCritic {
            weights,
            biases,
            out_weight,
            out_bias,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dropout_mask;
    use rand::{RngCore, SeedableRng};

    #[test]
    fn dropout_mask_lanes_are_the_words_sixteen_bits_at_a_time() {
        // Entry 4w + l is kept when bits 16l..16l+16 of the stream's w-th 64-bit word are
        // below keep * 2^16; the last word's unused lanes are dropped.
        for n in [0, 1, 5, 8, 1003] {
            let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(n as u64);
            let mut b = a.clone();
            let mask = dropout_mask(&mut a, n, 0.5);
            let words: Vec<u64> = (0..n.div_ceil(4)).map(|_| b.next_u64()).collect();
            for (i, &m) in mask.iter().enumerate() {
                let bits = (words[i / 4] >> (16 * (i % 4))) & 0xffff;
                assert_eq!(m, if bits < 32768 { 2.0 } else { 0.0 }, "entry {i} of {n}");
            }
            assert_eq!(
                a.next_u64(),
                b.next_u64(),
                "the same stream position after {n}"
            );
        }
    }

    #[test]
    fn dropout_masks_keep_the_asked_share_with_the_inverted_scale() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        for (keep, n) in [(0.5, 200_001), (0.7, 100_003), (0.9, 50_002)] {
            let mask = dropout_mask(&mut rng, n, keep);
            assert_eq!(mask.len(), n);
            let kept = mask.iter().filter(|&&x| x != 0.0).count() as f64;
            assert!(mask
                .iter()
                .all(|&x| x == 0.0 || (x - (1.0 / keep) as f32).abs() < 1e-6));
            // Binomial: 5 standard deviations.
            let sd = (n as f64 * keep * (1.0 - keep)).sqrt();
            assert!(
                (kept - n as f64 * keep).abs() < 5.0 * sd,
                "kept {kept} of {n} at keep {keep}"
            );
        }
    }
}
