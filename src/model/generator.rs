//! CTGAN's generator: residual blocks `x -> cat[relu(bn(fc(x))), x]` then a linear layer to the
//! encoded row, followed by per-span output activations (tanh for scalars, Gumbel-softmax for
//! one-hot choices while training, softmax when sampling).

use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{log_softmax, relu, softmax};
use burn::tensor::{Device, Tensor};

use crate::transform::{Activation, Span};

/// Shapes of a generator.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// Width of the random input z.
    pub embedding_dim: usize,
    /// Width of the conditional vector appended to z.
    pub condition_dim: usize,
    /// Widths of the residual blocks.
    pub hidden: Vec<usize>,
    /// Width of an encoded row.
    pub data_dim: usize,
}

/// One residual block: `cat[relu(bn(fc(x))), x]`.
#[derive(Module, Debug)]
pub struct Residual {
    /// `[d_in, width]`.
    pub fc: Linear,
    /// Batch normalisation over the block's output features.
    pub bn: BatchNorm,
}

impl Residual {
    /// `[batch, d_in] -> [batch, width + d_in]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let out = relu(self.bn.forward(self.fc.forward(x.clone())));
        Tensor::cat(vec![out, x], 1)
    }

    /// As [`Residual::forward`] outside training, but normalising with the statistics of
    /// this batch (biased variance, as PyTorch's BatchNorm1d in training mode) instead of the
    /// running ones: how SDV ctgan samples.
    pub fn forward_batch_statistics(&self, x: Tensor<2>) -> Tensor<2> {
        let h = self.fc.forward(x.clone());
        let [_, width] = h.dims();
        let mean = h.clone().mean_dim(0);
        let centred = h - mean;
        let var = centred.clone().powi_scalar(2).mean_dim(0);
        let normed = centred / var.add_scalar(self.bn.epsilon).sqrt();
        let gamma = self.bn.gamma.val().reshape([1, width]);
        let beta = self.bn.beta.val().reshape([1, width]);
        Tensor::cat(vec![relu(normed * gamma + beta), x], 1)
    }
}

/// The generator network (no output activation; see [`activate`]).
#[derive(Module, Debug)]
pub struct Generator {
    /// Residual blocks.
    pub blocks: Vec<Residual>,
    /// Final projection to the encoded row.
    pub output: Linear,
}

impl GeneratorConfig {
    /// Width of the generator's input.
    pub fn input_dim(&self) -> usize {
        self.embedding_dim + self.condition_dim
    }

    /// A freshly initialised generator (PyTorch-style uniform init, as CTGAN's `nn.Linear`).
    pub fn init(&self, device: &Device) -> Generator {
        let mut dim = self.input_dim();
        let mut blocks = Vec::with_capacity(self.hidden.len());
        for &width in &self.hidden {
            blocks.push(Residual {
                fc: LinearConfig::new(dim, width).init(device),
                // PyTorch's BatchNorm1d defaults: eps 1e-5, momentum 0.1.
                bn: BatchNormConfig::new(width)
                    .with_epsilon(1e-5)
                    .with_momentum(0.1)
                    .init(device),
            });
            dim += width;
        }
        Generator {
            blocks,
            output: LinearConfig::new(dim, self.data_dim).init(device),
        }
    }
}

impl Generator {
    /// Raw outputs (pre-activation) for input `[batch, embedding + condition]`:
    /// `[batch, data_dim]`.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let mut x = input;
        for block in &self.blocks {
            x = block.forward(x);
        }
        self.output.forward(x)
    }

    /// As [`Generator::forward`], with each BatchNorm using this batch's statistics
    /// ([`Residual::forward_batch_statistics`]).
    pub fn forward_batch_statistics(&self, input: Tensor<2>) -> Tensor<2> {
        let mut x = input;
        for block in &self.blocks {
            x = block.forward_batch_statistics(x);
        }
        self.output.forward(x)
    }

    /// Builds a linear layer from saved weight `[d_in, d_out]` and bias `[d_out]`.
    pub fn linear_from(weight: Tensor<2>, bias: Tensor<1>) -> Linear {
        Linear {
            weight: Param::from_tensor(weight),
            bias: Some(Param::from_tensor(bias)),
        }
    }
}

/// Gumbel-softmax noise for the one-hot spans: training uses CTGAN's temperature; sampling
/// takes the argmax, which draws each span from its softmax whatever the temperature.
#[derive(Debug, Clone)]
pub struct Gumbel {
    /// Temperature (CTGAN: 0.2).
    pub tau: f64,
    /// Uniform noise in (0, 1), `[batch, data_dim]`: one value per output entry.
    pub uniform: Tensor<2>,
}

/// Applies the output activation of every span: `[batch, data_dim] -> [batch, data_dim]`.
pub fn activate(raw: Tensor<2>, spans: &[Span], gumbel: &Gumbel) -> Tensor<2> {
    let [batch, _] = raw.dims();
    let mut parts = Vec::with_capacity(spans.len());
    for span in spans {
        let range = span.offset..span.offset + span.width;
        let logits = raw.clone().slice([0..batch, range.clone()]);
        parts.push(match span.activation {
            Activation::Tanh => logits.tanh(),
            Activation::Softmax => {
                let u = gumbel.uniform.clone().slice([0..batch, range]);
                // Gumbel(0, 1) noise: -log(-log U).
                let noise = u.log().neg().log().neg();
                softmax((logits + noise).div_scalar(gumbel.tau), 1)
            }
        });
    }
    Tensor::cat(parts, 1)
}

/// CTGAN's conditional loss: cross-entropy between each discrete span's logits and the
/// condition's category, only for the column each row is conditioned on, summed and divided by
/// the batch size.
///
/// `condition` is the one-hot conditional vector `[batch, condition_dim]`; since it is zero
/// outside the conditioned column's block, multiplying by it applies the column mask.
pub fn condition_loss(raw: Tensor<2>, spans: &[Span], condition: Tensor<2>) -> Tensor<1> {
    let [batch, _] = raw.dims();
    let parts: Vec<Tensor<2>> = spans
        .iter()
        .filter(|s| s.condition_column.is_some())
        .map(|s| {
            log_softmax(
                raw.clone().slice([0..batch, s.offset..s.offset + s.width]),
                1,
            )
        })
        .collect();
    if parts.is_empty() {
        return Tensor::zeros([1], &raw.device());
    }
    let log_probs = Tensor::cat(parts, 1);
    (log_probs * condition).sum().neg().div_scalar(batch as f64)
}
