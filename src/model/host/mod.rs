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
