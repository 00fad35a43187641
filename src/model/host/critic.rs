//! CTGAN's critic on the host: `(Linear, LeakyReLU, Dropout) x L, Linear(1)` over packed rows,
//! with the WGAN-GP penalty's weight gradients written out (see
//! [`crate::model::discriminator`] for why the input gradient is itself a forward expression).

use super::linalg::{gemm_into, matmul, Mat, Op};

/// The critic's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCritic {
    /// Hidden layers' weights `[d_in, width]`.
    pub weights: Vec<Mat>,
    /// Hidden layers' biases `[width]`.
    pub biases: Vec<Vec<f32>>,
    /// Output weight `[width_L, 1]`.
    pub out_weight: Mat,
    /// Output bias `[1]`.
    pub out_bias: Vec<f32>,
}

/// What a forward pass keeps.
pub struct CriticPass {
    /// Scores `[n]`.
    pub scores: Vec<f32>,
    /// Layer inputs: the packed input, then every hidden layer's output.
    pub inputs: Vec<Mat>,
    /// Per hidden layer: `slope(pre) * dropout_mask` `[n, width]`.
    pub local: Vec<Mat>,
}

/// Gradients in the order of [`HostCritic::params_mut`].
pub type Grads = Vec<Vec<f32>>;

impl HostCritic {
    /// Every trainable parameter in a fixed order: per hidden layer weight and bias, then the
    /// output weight and bias.
    pub fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut out: Vec<&mut [f32]> = Vec::new();
        for (w, b) in self.weights.iter_mut().zip(&mut self.biases) {
            out.push(&mut w.data);
            out.push(b);
        }
        out.push(&mut self.out_weight.data);
        out.push(&mut self.out_bias);
        out
    }

    /// Zero gradients shaped like the parameters.
    pub fn zero_grads(&self) -> Grads {
        let mut out = Vec::new();
        for (w, b) in self.weights.iter().zip(&self.biases) {
            out.push(vec![0.0; w.data.len()]);
            out.push(vec![0.0; b.len()]);
        }
        out.push(vec![0.0; self.out_weight.data.len()]);
        out.push(vec![0.0; 1]);
        out
    }

    /// Forward pass over packed rows `x` `[n, pac * row_dim]`. `masks` holds one inverted
    /// dropout mask `[n, width]` per hidden layer, or is empty (no dropout).
    pub fn forward(&self, x: Mat, slope: f32, masks: &[Mat]) -> CriticPass {
        let mut inputs = vec![x];
        let mut local = Vec::with_capacity(self.weights.len());
        for (i, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            let mut h = matmul(inputs.last().expect("an input"), Op::N, w, Op::N);
            // Zipped slices, no zero fill: the local slopes are written as they are found.
            let (rows, width) = (h.rows, b.len());
            let mut l = Vec::with_capacity(rows * width);
            for r in 0..rows {
                let hr = &mut h.row_mut(r)[..width];
                let slopes = hr.iter_mut().zip(b).map(|(h, b)| {
                    let pre = *h + b;
                    (h, pre, if pre > 0.0 { 1.0 } else { slope })
                });
                match masks.get(i) {
                    Some(m) => l.extend(slopes.zip(m.row(r)).map(|((h, pre, s), m)| {
                        let s = s * m;
                        *h = pre * s;
                        s
                    })),
                    None => l.extend(slopes.map(|(h, pre, s)| {
                        *h = pre * s;
                        s
                    })),
                }
            }
            inputs.push(h);
            local.push(Mat::from_vec(rows, width, l));
        }
        let last = inputs.last().expect("an input");
        let scores = matmul(last, Op::N, &self.out_weight, Op::N)
            .data
            .iter()
            .map(|s| s + self.out_bias[0])
            .collect();
        CriticPass {
            scores,
            inputs,
            local,
        }
    }

    /// For `sum_i d_scores[i] * score_i` over rows `rows` of `pass`: adds the parameter
    /// gradients to `grads` when given (a frozen critic passes `None`), and returns the
    /// gradient with respect to those rows' input when `want_input` is set.
    pub fn backward_scores(
        &self,
        pass: &CriticPass,
        rows: std::ops::Range<usize>,
        d_scores: &[f32],
        mut grads: Option<&mut Grads>,
        want_input: bool,
    ) -> Option<Mat> {
        let layers = self.weights.len();
        let n = rows.len();
        if let Some(grads) = grads.as_deref_mut() {
            let last = pass.inputs[layers].rows(rows.clone());
            let ds = Mat::from_vec(n, 1, d_scores.to_vec());
            gemm_into(
                &mut mat_of(&mut grads[2 * layers], self.out_weight.rows, 1),
                &last,
                Op::T,
                &ds,
                Op::N,
                true,
            );
            grads[2 * layers + 1][0] += d_scores.iter().sum::<f32>();
        }
        // d h_L = ds w_out^T.
        let w_out = &self.out_weight.data;
        let mut dh = Mat::zeros(n, w_out.len());
        for (r, &ds) in d_scores.iter().enumerate() {
            for (g, w) in dh.row_mut(r).iter_mut().zip(w_out) {
                *g = ds * w;
            }
        }
        for l in (0..layers).rev() {
            let local = &pass.local[l];
            let width = local.cols;
            for r in 0..n {
                let lr = local.row(rows.start + r);
                for (g, s) in dh.row_mut(r).iter_mut().zip(lr) {
                    *g *= s;
                }
            }
            if let Some(grads) = grads.as_deref_mut() {
                let input = pass.inputs[l].rows(rows.clone());
                let (wg, rest) = grads[2 * l..].split_at_mut(1);
                gemm_into(
                    &mut mat_of(&mut wg[0], input.cols, width),
                    &input,
                    Op::T,
                    &dh,
                    Op::N,
                    true,
                );
                for (b, s) in rest[0].iter_mut().zip(dh.column_sums()) {
                    *b += s;
                }
            }
            if l > 0 || want_input {
                dh = matmul(&dh, Op::N, &self.weights[l], Op::T);
            }
        }
        want_input.then_some(dh)
    }

    /// WGAN-GP on rows `rows` of `pass`: `lambda * mean_i (|g_i| - 1)^2` with `g_i` the input
    /// gradient of row i's score. Adds the penalty's parameter gradients to `grads` and
    /// returns its value.
    pub fn penalty(
        &self,
        pass: &CriticPass,
        rows: std::ops::Range<usize>,
        lambda: f32,
        grads: &mut Grads,
    ) -> f32 {
        let layers = self.weights.len();
        let n = rows.len();
        if n == 0 {
            return 0.0;
        }
        let local: Vec<Mat> = pass.local.iter().map(|l| l.rows(rows.clone())).collect();
        // u_L = local_L * w_out^T; u_{l-1} = (u_l W_l^T) * local_{l-1}; g = u_1 W_1^T.
        let mut u: Vec<Mat> = vec![Mat::zeros(0, 0); layers];
        let mut top = local[layers - 1].clone();
        for r in 0..n {
            for (x, w) in top.row_mut(r).iter_mut().zip(&self.out_weight.data) {
                *x *= w;
            }
        }
        u[layers - 1] = top;
        for l in (1..layers).rev() {
            let mut v = matmul(&u[l], Op::N, &self.weights[l], Op::T);
            for (x, s) in v.data.iter_mut().zip(&local[l - 1].data) {
                *x *= s;
            }
            u[l - 1] = v;
        }
        let g = matmul(&u[0], Op::N, &self.weights[0], Op::T); // [n, d_in]
        let mut value = 0f32;
        let mut dg = g;
        for r in 0..n {
            let row = dg.row_mut(r);
            let norm = (row.iter().map(|x| x * x).sum::<f32>() + 1e-12).sqrt();
            value += (norm - 1.0) * (norm - 1.0);
            let scale = 2.0 * lambda / n as f32 * (norm - 1.0) / norm;
            row.iter_mut().for_each(|x| *x *= scale);
        }
        // dW_1 += dg^T u_1; dU_1 = dg W_1; then dV_l = dU_l * local_l,
        // dW_{l+1} += dV_l^T u_{l+1}, dU_{l+1} = dV_l W_{l+1}; d w_out = colsum(dU_L * local_L).
        let d_in = self.weights[0].rows;
        gemm_into(
            &mut mat_of(&mut grads[0], d_in, self.weights[0].cols),
            &dg,
            Op::T,
            &u[0],
            Op::N,
            true,
        );
        let mut du = matmul(&dg, Op::N, &self.weights[0], Op::N);
        for l in 0..layers {
            for (x, s) in du.data.iter_mut().zip(&local[l].data) {
                *x *= s;
            }
            if l + 1 == layers {
                for (o, s) in grads[2 * layers].iter_mut().zip(du.column_sums()) {
                    *o += s;
                }
            } else {
                let w = &self.weights[l + 1];
                gemm_into(
                    &mut mat_of(&mut grads[2 * (l + 1)], w.rows, w.cols),
                    &du,
                    Op::T,
                    &u[l + 1],
                    Op::N,
                    true,
                );
                du = matmul(&du, Op::N, w, Op::N);
            }
        }
        lambda * value / n as f32
    }
}

/// A gradient buffer viewed as a matrix for an accumulating product, written back on drop.
struct MatView<'a> {
    target: &'a mut Vec<f32>,
    mat: Mat,
}

impl std::ops::Deref for MatView<'_> {
    type Target = Mat;
    fn deref(&self) -> &Mat {
        &self.mat
    }
}

impl std::ops::DerefMut for MatView<'_> {
    fn deref_mut(&mut self) -> &mut Mat {
        &mut self.mat
    }
}

impl Drop for MatView<'_> {
    fn drop(&mut self) {
        std::mem::swap(self.target, &mut self.mat.data);
    }
}

fn mat_of(target: &mut Vec<f32>, rows: usize, cols: usize) -> MatView<'_> {
    let data = std::mem::take(target);
    MatView {
        mat: Mat::from_vec(rows, cols, data),
        target,
    }
}
