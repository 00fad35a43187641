//! CTGAN's discriminator (critic): `(Linear, LeakyReLU(0.2), Dropout(0.5)) x 2, Linear(1)` over
//! `pac` rows packed side by side, written so that the input gradient needed by the WGAN
//! gradient penalty is itself a forward expression.
//!
//! burn's autodiff has no double backward (burn issue #1942). The critic is piecewise linear, so
//! its input gradient is `∇x D = W1 · diag(s1) · W2 · diag(s2) · w3`, where `s_l` are the
//! LeakyReLU slopes times the dropout masks: constants almost everywhere. Writing it with the
//! masks as detached tensors lets first-order autodiff differentiate the penalty with respect to
//! the weights, with the same result as PyTorch's `create_graph=True`.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Distribution, Tensor};

/// Shapes of a discriminator.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscriminatorConfig {
    /// Width of one (encoded row ++ condition).
    pub row_dim: usize,
    /// Rows packed per critic input (PacGAN).
    pub pac: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// LeakyReLU negative slope.
    pub leaky_slope: f64,
    /// Dropout rate.
    pub dropout: f64,
}

/// The critic.
#[derive(Module, Debug)]
pub struct Discriminator {
    /// Hidden layers.
    pub hidden: Vec<Linear>,
    /// Final `[width, 1]` layer.
    pub output: Linear,
}

/// What a forward pass keeps for the explicit input gradient.
pub struct CriticPass {
    /// Scores `[n, 1]`.
    pub scores: Tensor<2>,
    /// Per hidden layer, `slope(h) * dropout_mask` as a constant `[n, width]`.
    pub local_slopes: Vec<Tensor<2>>,
}

impl DiscriminatorConfig {
    /// Width of the packed critic input.
    pub fn input_dim(&self) -> usize {
        self.row_dim * self.pac
    }

    /// A freshly initialised critic.
    pub fn init(&self, device: &Device) -> Discriminator {
        let mut dim = self.input_dim();
        let mut hidden = Vec::with_capacity(self.hidden.len());
        for &width in &self.hidden {
            hidden.push(LinearConfig::new(dim, width).init(device));
            dim = width;
        }
        Discriminator {
            hidden,
            output: LinearConfig::new(dim, 1).init(device),
        }
    }
}

impl Discriminator {
    /// The width of each hidden layer's output (one dropout mask column per unit).
    pub fn hidden_widths(&self) -> Vec<usize> {
        self.hidden.iter().map(|l| l.weight.dims()[1]).collect()
    }

    /// Fresh inverted-dropout masks for `n` rows: entries are 0 or `1 / (1 - rate)`. Empty
    /// when `rate` is 0 (no dropout).
    pub fn dropout_masks(&self, n: usize, rate: f64, device: &Device) -> Vec<Tensor<2>> {
        if rate <= 0.0 {
            return Vec::new();
        }
        self.hidden
            .iter()
            .map(|layer| {
                let [_, width] = layer.weight.dims();
                Tensor::<2>::random([n, width], Distribution::Bernoulli(1.0 - rate), device)
                    .div_scalar(1.0 - rate)
            })
            .collect()
    }

    /// Forward pass over packed input `[n, pac * row_dim]` with LeakyReLU slope `slope` and
    /// dropout `masks` from [`Discriminator::dropout_masks`] (empty: no dropout).
    pub fn forward(&self, x: Tensor<2>, slope: f64, masks: &[Tensor<2>]) -> CriticPass {
        let mut h = x;
        let mut local_slopes = Vec::with_capacity(self.hidden.len());
        for (i, layer) in self.hidden.iter().enumerate() {
            let pre = layer.forward(h); // [n, width]
                                        // slope(pre): 1 where pre > 0, `slope` elsewhere; a constant for autodiff.
            let positive = pre.clone().detach().greater_elem(0.0).float();
            let mut local = positive.mul_scalar(1.0 - slope).add_scalar(slope);
            if let Some(mask) = masks.get(i) {
                local = local * mask.clone();
            }
            let local = local.detach();
            h = pre * local.clone();
            local_slopes.push(local);
        }
        CriticPass {
            scores: self.output.forward(h),
            local_slopes,
        }
    }

    /// The input gradient of the critic's score for each row of a pass, `[n, input_dim]`,
    /// as a forward expression of the weights (see the module docs). `rows` selects which rows
    /// of the pass (a contiguous range) to differentiate.
    pub fn input_gradient(&self, pass: &CriticPass, rows: std::ops::Range<usize>) -> Tensor<2> {
        // w3ᵀ: [1, width_last]
        let w_out = self.output.weight.val().transpose();
        let mut g: Option<Tensor<2>> = None;
        for (layer, local) in self.hidden.iter().zip(&pass.local_slopes).rev() {
            let [_, width] = local.dims();
            let local = local.clone().slice([rows.clone(), 0..width]);
            let upstream = match g {
                None => local * w_out.clone(), // [m, width] * [1, width]
                Some(g) => g * local,
            };
            // [m, width] x [width, d_in] -> [m, d_in]
            g = Some(upstream.matmul(layer.weight.val().transpose()));
        }
        g.expect("the critic has at least one hidden layer")
    }
}

/// WGAN-GP's penalty `λ · mean_i (‖g_i‖₂ − 1)²` for input gradients `g` `[m, input_dim]`.
/// A tiny constant inside the square root keeps the gradient finite at `g_i = 0`.
pub fn gradient_penalty(input_gradient: Tensor<2>, lambda: f64) -> Tensor<1> {
    let norm = input_gradient
        .powf_scalar(2.0)
        .sum_dim(1)
        .add_scalar(1e-12)
        .sqrt();
    norm.sub_scalar(1.0)
        .powf_scalar(2.0)
        .mean()
        .mul_scalar(lambda)
}
