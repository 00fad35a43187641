//! CTGAN's generator on the host, forward and backward written out: residual blocks
//! `x -> [relu(bn(x W + b)) | x]`, then `x W_out + b_out`. BatchNorm trains as burn's does:
//! batch mean and biased variance, and running statistics updated with both (momentum 0.1).

use super::linalg::{gemm_into, matmul, Mat, Op};

/// One residual block's parameters and running statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct HostBlock {
    /// `[d_in, width]`.
    pub weight: Mat,
    /// `[width]`.
    pub bias: Vec<f32>,
    /// BatchNorm scale `[width]`.
    pub gamma: Vec<f32>,
    /// BatchNorm shift `[width]`.
    pub beta: Vec<f32>,
    /// Running mean `[width]`.
    pub running_mean: Vec<f32>,
    /// Running (biased) variance `[width]`.
    pub running_var: Vec<f32>,
}

/// The generator.
#[derive(Debug, Clone, PartialEq)]
pub struct HostGenerator {
    /// Residual blocks.
    pub blocks: Vec<HostBlock>,
    /// `[d_last, data_dim]`.
    pub out_weight: Mat,
    /// `[data_dim]`.
    pub out_bias: Vec<f32>,
}

/// BatchNorm's epsilon and momentum (PyTorch's defaults, as the burn generator uses).
pub const BN_EPSILON: f32 = 1e-5;
/// See [`BN_EPSILON`].
pub const BN_MOMENTUM: f32 = 0.1;

/// What a training forward pass keeps for the backward pass.
pub struct GeneratorCache {
    /// Input of every block, then the final layer's input.
    inputs: Vec<Mat>,
    /// Per block: normalised pre-activations `[batch, width]`.
    normalised: Vec<Mat>,
    /// Per block: `1 / sqrt(var + eps)` `[width]`.
    inv_std: Vec<Vec<f32>>,
    /// Per block: BatchNorm outputs (before ReLU) `[batch, width]`.
    bn_out: Vec<Mat>,
}

/// Gradients of every generator parameter, in the order of [`HostGenerator::params_mut`].
pub type Grads = Vec<Vec<f32>>;

fn add_bias(m: &mut Mat, bias: &[f32]) {
    for r in 0..m.rows {
        for (x, b) in m.row_mut(r).iter_mut().zip(bias) {
            *x += b;
        }
    }
}

/// Column means and biased variances of `h` `[batch, width]`: BatchNorm's batch statistics.
fn column_statistics(h: &Mat) -> (Vec<f32>, Vec<f32>) {
    let batch = h.rows as f32;
    let mean: Vec<f32> = h.column_sums().iter().map(|s| s / batch).collect();
    let mut var = vec![0f32; h.cols];
    for r in 0..h.rows {
        for ((v, &x), &m) in var.iter_mut().zip(h.row(r)).zip(&mean) {
            *v += (x - m) * (x - m);
        }
    }
    var.iter_mut().for_each(|v| *v /= batch);
    (mean, var)
}

impl HostGenerator {
    /// Every trainable parameter in a fixed order: per block weight, bias, gamma, beta; then
    /// the output weight and bias.
    pub fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut out: Vec<&mut [f32]> = Vec::new();
        for b in &mut self.blocks {
            out.push(&mut b.weight.data);
            out.push(&mut b.bias);
            out.push(&mut b.gamma);
            out.push(&mut b.beta);
        }
        out.push(&mut self.out_weight.data);
        out.push(&mut self.out_bias);
        out
    }

    /// Raw outputs `[batch, data_dim]` for input `[batch, embedding + condition]`, with
    /// BatchNorm on this batch's statistics (and the running statistics updated), plus what
    /// [`HostGenerator::backward`] needs.
    pub fn forward_train(&mut self, input: Mat) -> (Mat, GeneratorCache) {
        let batch = input.rows;
        let mut cache = GeneratorCache {
            inputs: Vec::with_capacity(self.blocks.len() + 1),
            normalised: Vec::new(),
            inv_std: Vec::new(),
            bn_out: Vec::new(),
        };
        let mut x = input;
        for block in &mut self.blocks {
            let mut h = matmul(&x, Op::N, &block.weight, Op::N); // [batch, width]
            add_bias(&mut h, &block.bias);
            let width = h.cols;
            let (mean, var) = column_statistics(&h);
            let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + BN_EPSILON).sqrt()).collect();
            for j in 0..width {
                block.running_mean[j] =
                    (1.0 - BN_MOMENTUM) * block.running_mean[j] + BN_MOMENTUM * mean[j];
                block.running_var[j] =
                    (1.0 - BN_MOMENTUM) * block.running_var[j] + BN_MOMENTUM * var[j];
            }
            // Written row by row over zipped slices (no zero fills, no bounds checks).
            let mut normalised = h;
            let mut bn_out = Vec::with_capacity(batch * width);
            let mut next = Vec::with_capacity(batch * (width + x.cols));
            let (gamma, beta) = (&block.gamma[..width], &block.beta[..width]);
            let (mean, inv_std_w) = (&mean[..width], &inv_std[..width]);
            for r in 0..batch {
                let n = normalised.row_mut(r);
                let start = bn_out.len();
                bn_out.extend(
                    n.iter_mut()
                        .zip(mean)
                        .zip(inv_std_w)
                        .zip(gamma.iter().zip(beta))
                        .map(|(((n, m), s), (g, b))| {
                            *n = (*n - m) * s;
                            *n * g + b
                        }),
                );
                next.extend(bn_out[start..].iter().map(|o| o.max(0.0)));
                next.extend_from_slice(x.row(r));
            }
            let next = Mat::from_vec(batch, width + x.cols, next);
            cache.inputs.push(x);
            cache.normalised.push(normalised);
            cache.inv_std.push(inv_std);
            cache.bn_out.push(Mat::from_vec(batch, width, bn_out));
            x = next;
        }
        let mut raw = matmul(&x, Op::N, &self.out_weight, Op::N);
        add_bias(&mut raw, &self.out_bias);
        cache.inputs.push(x);
        (raw, cache)
    }

    /// Raw outputs `[batch, data_dim]` for sampling: BatchNorm normalises with the running
    /// statistics, or, with `batch_statistics`, with those of this batch (not updating them).
    pub fn forward_inference(&self, input: Mat, batch_statistics: bool) -> Mat {
        let batch = input.rows;
        let mut x = input;
        for block in &self.blocks {
            let mut h = matmul(&x, Op::N, &block.weight, Op::N); // [batch, width]
            let width = h.cols;
            let (mean, var) = if batch_statistics {
                add_bias(&mut h, &block.bias);
                column_statistics(&h)
            } else {
                // Fold the bias into the running mean: (h + b - mean).
                let mean = block
                    .running_mean
                    .iter()
                    .zip(&block.bias)
                    .map(|(m, b)| m - b)
                    .collect();
                (mean, block.running_var.clone())
            };
            // y = (h - mean) * scale + beta, scale = gamma / sqrt(var + eps).
            let scale: Vec<f32> = var
                .iter()
                .zip(&block.gamma)
                .map(|(v, g)| g / (v + BN_EPSILON).sqrt())
                .collect();
            // [relu(bn(h)), x] row by row, written once (no zero fill first).
            let mut next = Vec::with_capacity(batch * (width + x.cols));
            for r in 0..batch {
                let hr = h.row(r);
                next.extend(
                    (0..width).map(|j| ((hr[j] - mean[j]) * scale[j] + block.beta[j]).max(0.0)),
                );
                next.extend_from_slice(x.row(r));
            }
            x = Mat::from_vec(batch, width + x.cols, next);
        }
        let mut raw = matmul(&x, Op::N, &self.out_weight, Op::N);
        add_bias(&mut raw, &self.out_bias);
        raw
    }

    /// Parameter gradients for the output gradient `d_raw` `[batch, data_dim]` of the pass
    /// that built `cache`.
    pub fn backward(&self, cache: &GeneratorCache, d_raw: &Mat) -> Grads {
        let batch = d_raw.rows as f32;
        let last = cache.inputs.last().expect("the final layer's input");
        let mut out_grads = vec![matmul(last, Op::T, d_raw, Op::N).data, d_raw.column_sums()];
        // Gradient with respect to the final layer's input [batch, width_L + ... + d0].
        let mut dx = matmul(d_raw, Op::N, &self.out_weight, Op::T);
        let mut block_grads = Vec::with_capacity(self.blocks.len());
        for (i, block) in self.blocks.iter().enumerate().rev() {
            let width = block.bias.len();
            let normalised = &cache.normalised[i];
            let bn_out = &cache.bn_out[i];
            let inv_std = &cache.inv_std[i];
            let rows = dx.rows;
            // Through ReLU into the BatchNorm output.
            let mut dy = Vec::with_capacity(rows * width);
            for r in 0..rows {
                let d = &dx.row(r)[..width];
                dy.extend(
                    d.iter()
                        .zip(bn_out.row(r))
                        .map(|(&d, &o)| if o > 0.0 { d } else { 0.0 }),
                );
            }
            let dy = Mat::from_vec(rows, width, dy);
            let d_beta = dy.column_sums();
            let mut d_gamma = vec![0f32; width];
            for r in 0..rows {
                for ((g, &d), &n) in d_gamma.iter_mut().zip(dy.row(r)).zip(normalised.row(r)) {
                    *g += d * n;
                }
            }
            // d h = inv_std / B * (B dn - sum(dn) - n * sum(dn * n)), dn = dy * gamma;
            // sum(dn) = gamma * d_beta and sum(dn * n) = gamma * d_gamma.
            // Per column: inv_std / B, gamma, gamma * sum(dy) (the same products as before,
            // so every bit of the result is unchanged).
            let columns: Vec<(f32, f32, f32, f32)> = (0..width)
                .map(|j| {
                    let gamma = block.gamma[j];
                    (inv_std[j] / batch, gamma, gamma * d_beta[j], d_gamma[j])
                })
                .collect();
            let mut dh = dy;
            for r in 0..rows {
                let n = normalised.row(r);
                for ((g, &n), &(scale, gamma, g_beta, d_gamma)) in
                    dh.row_mut(r).iter_mut().zip(n).zip(&columns)
                {
                    *g = scale * (batch * *g * gamma - g_beta - n * gamma * d_gamma);
                }
            }
            let input = &cache.inputs[i];
            let d_weight = matmul(input, Op::T, &dh, Op::N).data;
            let d_bias = dh.column_sums();
            block_grads.push(vec![d_weight, d_bias, d_gamma, d_beta]);
            if i == 0 {
                // The first block's input is the noise and the conditions: nothing to train.
                break;
            }
            // The block's input reaches the next layer twice: through the block and through
            // the residual copy (the columns after `width`).
            let mut d_input = Vec::with_capacity(rows * input.cols);
            for r in 0..rows {
                d_input.extend_from_slice(&dx.row(r)[width..]);
            }
            let mut d_input = Mat::from_vec(rows, input.cols, d_input);
            gemm_into(&mut d_input, &dh, Op::N, &block.weight, Op::T, true);
            dx = d_input;
        }
        let mut grads: Grads = block_grads.into_iter().rev().flatten().collect();
        grads.append(&mut out_grads);
        grads
    }
}
