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
/// Each entry takes `b` bits of the stream (`64 / b` per 64-bit word, lowest bits first) and
/// is kept when they fall below `round(keep · 2^b)`. `b` is the fewest of 1, 2, 4, 8 bits
/// that represent `keep` exactly (one bit for CTGAN's 0.5), else 16 (`keep` rounded to a
/// multiple of 2⁻¹⁶). The masks of a DP critic step are hundreds of thousands of entries:
/// with 16 bits for 0.5, drawing and splitting the stream was 8% of a DP epoch.
pub fn dropout_mask(rng: &mut impl RngCore, n: usize, keep: f64) -> Vec<f32> {
    match mask_bits(keep) {
        1 => mask_with::<1>(rng, n, keep),
        2 => mask_with::<2>(rng, n, keep),
        4 => mask_with::<4>(rng, n, keep),
        8 => mask_with::<8>(rng, n, keep),
        _ => mask_with::<16>(rng, n, keep),
    }
}

/// Bits per mask entry for keep probability `keep` (see [`dropout_mask`]).
fn mask_bits(keep: f64) -> u32 {
    [1u32, 2, 4, 8]
        .into_iter()
        .find(|&b| {
            let scaled = keep * f64::from(1u32 << b);
            scaled == scaled.round()
        })
        .unwrap_or(16)
}

/// [`dropout_mask`] with `B` bits per entry.
fn mask_with<const B: u32>(rng: &mut impl RngCore, n: usize, keep: f64) -> Vec<f32> {
    let levels = 1u64 << B;
    let threshold = (keep * levels as f64).round().clamp(0.0, levels as f64) as u64;
    let scale = (1.0 / keep) as f32;
    let lanes = (64 / B) as usize;
    let entry = |word: u64, lane: usize| {
        if (word >> (B as usize * lane)) & (levels - 1) < threshold {
            scale
        } else {
            0.0
        }
    };
    // Whole words into fixed chunks (no per-entry length checks, so the lanes vectorise),
    // then the unused lanes of the last word are dropped.
    let mut out = vec![0.0f32; n];
    let mut chunks = out.chunks_exact_mut(lanes);
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
    fn dropout_mask_lanes_are_the_words_few_bits_at_a_time() {
        // With b bits per entry, entry (64/b)w + l is kept when bits bl..bl+b of the stream's
        // w-th 64-bit word are below keep * 2^b; the last word's unused lanes are dropped.
        for (keep, bits) in [(0.5, 1u32), (0.75, 2), (0.6875, 4), (0.7, 16)] {
            let lanes = (64 / bits) as usize;
            for n in [0, 1, 5, 64, 1003] {
                let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(n as u64);
                let mut b = a.clone();
                let mask = dropout_mask(&mut a, n, keep);
                let words: Vec<u64> = (0..n.div_ceil(lanes)).map(|_| b.next_u64()).collect();
                let threshold = (keep * f64::from(1u32 << bits)).round() as u64;
                let scale = (1.0 / keep) as f32;
                for (i, &m) in mask.iter().enumerate() {
                    let field =
                        (words[i / lanes] >> (bits as usize * (i % lanes))) & ((1u64 << bits) - 1);
                    let want = if field < threshold { scale } else { 0.0 };
                    assert_eq!(m, want, "entry {i} of {n} at keep {keep}");
                }
                assert_eq!(
                    a.next_u64(),
                    b.next_u64(),
                    "the same stream position after {n} at keep {keep}"
                );
            }
        }
    }

    #[test]
    fn dropout_masks_keep_the_asked_share_with_the_inverted_scale() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        for (keep, n) in [
            (0.5, 200_001),
            (0.75, 100_003),
            (0.7, 100_003),
            (0.9, 50_002),
        ] {
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
