//! The generator's correlation loss in DP mode (`privacy.correlation_weight`): the mean
//! absolute difference between the Pearson correlations of the continuous columns in the
//! generator's batch and those of the surrogate rows (the tree model of the noisy pair tables
//! with its copula, `train::surrogate`). The target is drawn from released measurements only:
//! post-processing, no row is read and nothing is charged.
//!
//! Why: the pair loss (`train::pairs`) compares tables of *states* (categories and mixture
//! modes). Two amounts that move together inside one mode (credit's Amount and Price, churn's
//! minutes and charges) have the same mode table whatever their correlation, so the pair loss
//! cannot hold it, and the noisy critic does not teach it (docs/quality.md, "The GAN loses what
//! the surrogate holds").
//!
//! The generator's value of a continuous column is read from the activated row the critic sees
//! (tanh scalar `s`, Gumbel-softmax mode weights `q`, nearly one-hot), as sampling decodes it:
//! `x = Σ_k q_k (μ_k + 4 σ_k s)`, with `σ_k = 0` for an exact mode. (A first version used the
//! mode logits' softmax instead: two columns' soft values then correlate while their sampled
//! modes, drawn independently, do not; on churn the released minutes-charge correlations fell
//! with a larger weight.) Each row is weighted by how much likelier sampling is than training
//! to ask for its condition (as in the pair loss).

use burn::tensor::{Device, Tensor, TensorData};

use crate::model::host::Mat;
use crate::transform::{DataTransformer, Encoder, SparseRows};

/// Correlations of weighted columns with a variance below this are taken as 0.
const MIN_VARIANCE: f64 = 1e-12;

/// One continuous column's place in the raw generator output and its modes.
#[derive(Clone, Debug)]
struct ContinuousColumn {
    /// Index of the scalar in the raw output; the mode logits follow it.
    offset: usize,
    /// Each mode's mean.
    means: Vec<f64>,
    /// Each mode's `4 σ` (0 for an exact mode): how far the scalar moves the value.
    reach: Vec<f64>,
}

/// The surrogate's correlations between continuous columns, laid out for the loss.
#[derive(Clone, Debug)]
pub struct CorrelationTarget {
    columns: Vec<ContinuousColumn>,
    /// `[c, c]` row-major: the target correlations (1 on the diagonal).
    target: Vec<f64>,
    weight: f64,
}

impl CorrelationTarget {
    /// The target for the continuous columns with modes of `transformer`, from `rows` (encoded
    /// surrogate rows), weighted by `weight`; `None` with fewer than two such columns.
    pub fn from_rows(
        transformer: &DataTransformer,
        rows: &SparseRows,
        weight: f64,
    ) -> Option<Self> {
        let mut columns = Vec::new();
        let mut encoders = Vec::new();
        let mut offset = 0;
        for e in &transformer.encoders {
            match e {
                Encoder::Discrete(d) => offset += d.width(),
                Encoder::Continuous(c) => {
                    if !c.modes.is_empty() {
                        columns.push(ContinuousColumn {
                            offset,
                            means: c.modes.iter().map(|m| m.mean).collect(),
                            reach: c
                                .modes
                                .iter()
                                .map(|m| if m.exact { 0.0 } else { 4.0 * m.std })
                                .collect(),
                        });
                        encoders.push(c);
                    }
                    offset += c.width();
                }
            }
        }
        let c = columns.len();
        if c < 2 {
            return None;
        }
        // Each surrogate row's decoded values (None: missing).
        let dense = rows.to_dense();
        let values: Vec<Vec<Option<f64>>> = columns
            .iter()
            .zip(&encoders)
            .map(|(col, enc)| {
                dense
                    .chunks_exact(rows.dim.max(1))
                    .map(|row| enc.decode_value(&row[col.offset..col.offset + enc.width()]))
                    .collect()
            })
            .collect();
        let mut target = vec![0f64; c * c];
        for i in 0..c {
            target[i * c + i] = 1.0;
            for j in i + 1..c {
                let pairs: Vec<(f64, f64)> = values[i]
                    .iter()
                    .zip(&values[j])
                    .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
                    .collect();
                let r = pearson(&pairs);
                target[i * c + j] = r;
                target[j * c + i] = r;
            }
        }
        Some(CorrelationTarget {
            columns,
            target,
            weight,
        })
    }

    /// Number of continuous columns the loss covers.
    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    /// The target correlation of the `i`-th and `j`-th covered columns.
    pub fn target(&self, i: usize, j: usize) -> f64 {
        self.target[i * self.columns.len() + j]
    }

    /// The loss for activated generator rows `fake` `[batch, data_dim]` (the rows the critic
    /// sees: tanh scalars, Gumbel-softmax modes) and row weights `weights` (adding up to 1),
    /// with its gradient added to `d_fake` `[batch, data_dim]`: `weight` x the mean over
    /// column pairs of `|corr − target|`.
    pub fn loss_host(&self, fake: &Mat, weights: &[f32], d_fake: &mut Mat) -> f64 {
        let (b, c) = (fake.rows, self.columns.len());
        let w: Vec<f64> = weights.iter().map(|&w| w as f64).collect();
        // Values x [b, c]: Σ_k q_k (μ_k + 4σ_k s) for mode weights q and scalar s.
        let mut x = vec![0f64; b * c];
        for r in 0..b {
            let row = fake.row(r);
            for (j, col) in self.columns.iter().enumerate() {
                x[r * c + j] = col.value(row);
            }
        }
        // Weighted standardisation: z = (x − m) / sd per column.
        let mut mean = vec![0f64; c];
        let mut sd = vec![0f64; c];
        for j in 0..c {
            mean[j] = (0..b).map(|r| w[r] * x[r * c + j]).sum();
            let var: f64 = (0..b)
                .map(|r| w[r] * (x[r * c + j] - mean[j]).powi(2))
                .sum();
            sd[j] = var.max(MIN_VARIANCE).sqrt();
        }
        let z: Vec<f64> = (0..b * c)
            .map(|i| (x[i] - mean[i % c]) / sd[i % c])
            .collect();
        // corr = zᵀ diag(w) z; G = dL/dcorr (symmetric, off the diagonal).
        let pairs = (c * (c - 1) / 2) as f64;
        let scale = self.weight / pairs;
        let mut loss = 0f64;
        let mut g = vec![0f64; c * c];
        for i in 0..c {
            for j in i + 1..c {
                let corr: f64 = (0..b).map(|r| w[r] * z[r * c + i] * z[r * c + j]).sum();
                let diff = corr - self.target[i * c + j];
                loss += diff.abs();
                let s = if diff > 0.0 {
                    scale
                } else if diff < 0.0 {
                    -scale
                } else {
                    0.0
                };
                g[i * c + j] = s;
                g[j * c + i] = s;
            }
        }
        // dL/dz_r = w_r (z_r G) (each pair appears once in L and twice in the symmetric G).
        let mut dz = vec![0f64; b * c];
        for r in 0..b {
            for j in 0..c {
                let s: f64 = (0..c).map(|i| z[r * c + i] * g[i * c + j]).sum();
                dz[r * c + j] = w[r] * s;
            }
        }
        // Back through the standardisation: dx_r = (dz_r − w_r Σ dz − w_r z_r Σ dz z) / sd.
        for j in 0..c {
            let sum_dz: f64 = (0..b).map(|r| dz[r * c + j]).sum();
            let sum_dzz: f64 = (0..b).map(|r| dz[r * c + j] * z[r * c + j]).sum();
            let col = &self.columns[j];
            for (r, &wr) in w.iter().enumerate() {
                let i = r * c + j;
                let dx = (dz[i] - wr * sum_dz - wr * z[i] * sum_dzz) / sd[j];
                if dx != 0.0 {
                    col.value_backward(fake.row(r), dx, d_fake.row_mut(r));
                }
            }
        }
        loss * scale
    }

    /// The burn engine's [`CorrelationTarget::loss_host`] (autodiff): the same value for
    /// activated generator rows `fake` `[batch, data_dim]` and row weights `weights`
    /// `[batch, 1]`.
    pub fn loss(&self, fake: Tensor<2>, weights: Tensor<2>) -> Tensor<1> {
        let [batch, _] = fake.dims();
        let device = fake.device();
        let c = self.columns.len();
        let column = |v: &[f64], device: &Device| {
            let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            let k = v.len();
            Tensor::<2>::from_data(TensorData::new(v, [k, 1]), device)
        };
        // x [batch, c]: q · μ + s (q · 4σ) per column.
        let parts: Vec<Tensor<2>> = self
            .columns
            .iter()
            .map(|col| {
                let k = col.means.len();
                let q = fake
                    .clone()
                    .slice([0..batch, col.offset + 1..col.offset + 1 + k]);
                let s = fake.clone().slice([0..batch, col.offset..col.offset + 1]);
                q.clone().matmul(column(&col.means, &device))
                    + s * q.matmul(column(&col.reach, &device))
            })
            .collect();
        let x = Tensor::cat(parts, 1);
        let mean = (x.clone() * weights.clone()).sum_dim(0); // [1, c]
        let centred = x - mean;
        let var = (centred.clone().powf_scalar(2.0) * weights.clone()).sum_dim(0);
        let z = centred / var.clamp_min(MIN_VARIANCE as f32).sqrt();
        let corr = (z.clone() * weights).transpose().matmul(z); // [c, c]
        let target: Vec<f32> = self.target.iter().map(|&x| x as f32).collect();
        let target = Tensor::<2>::from_data(TensorData::new(target, [c, c]), &device);
        // The diagonal is 1 in both: only the off-diagonal entries count, each pair twice.
        let pairs = (c * (c - 1) / 2) as f64;
        (corr - target)
            .abs()
            .sum()
            .mul_scalar(self.weight / (2.0 * pairs))
    }
}

impl ContinuousColumn {
    /// The value an activated row encodes: `Σ_k q_k (μ_k + 4σ_k s)` (with one-hot mode weights
    /// `q`, sampling's decode before clipping to the bounds).
    fn value(&self, row: &[f32]) -> f64 {
        let s = row[self.offset] as f64;
        let q = &row[self.offset + 1..self.offset + 1 + self.means.len()];
        q.iter()
            .zip(self.means.iter().zip(&self.reach))
            .map(|(&q, (m, r))| q as f64 * (m + r * s))
            .sum()
    }

    /// Adds `dx` times the gradient of [`ContinuousColumn::value`] to `d_row`.
    fn value_backward(&self, row: &[f32], dx: f64, d_row: &mut [f32]) {
        let s = row[self.offset] as f64;
        let k = self.means.len();
        let q = &row[self.offset + 1..self.offset + 1 + k];
        let reach: f64 = q.iter().zip(&self.reach).map(|(&q, r)| q as f64 * r).sum();
        d_row[self.offset] += (dx * reach) as f32;
        for (i, (m, r)) in self.means.iter().zip(&self.reach).enumerate() {
            d_row[self.offset + 1 + i] += (dx * (m + r * s)) as f32;
        }
    }
}

/// Pearson correlation of `pairs` (0 when either side is constant or there are fewer than 2).
fn pearson(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    if pairs.len() < 2 {
        return 0.0;
    }
    let (ma, mb) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / n, b + y / n));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        return 0.0;
    }
    (sab / (saa * sbb).sqrt()).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Three columns: two modes, one mode, and an exact mode beside a wide one.
    fn target(rho: f64) -> CorrelationTarget {
        let columns = vec![
            ContinuousColumn {
                offset: 0,
                means: vec![-1.0, 2.0],
                reach: vec![0.5, 1.5],
            },
            ContinuousColumn {
                offset: 3,
                means: vec![10.0],
                reach: vec![4.0],
            },
            ContinuousColumn {
                offset: 5,
                means: vec![0.0, 50.0],
                reach: vec![0.0, 20.0],
            },
        ];
        let mut target = vec![rho; 9];
        for i in 0..3 {
            target[i * 3 + i] = 1.0;
        }
        target[2] = -0.3;
        target[6] = -0.3;
        CorrelationTarget {
            columns,
            target,
            weight: 0.7,
        }
    }

    fn random_rows(rows: usize, rng: &mut ChaCha8Rng) -> Mat {
        let mut raw = Mat::zeros(rows, 8);
        raw.data
            .iter_mut()
            .for_each(|x| *x = rng.random_range(-1.5..1.5));
        raw
    }

    fn weights(rows: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
        let w: Vec<f32> = (0..rows).map(|_| rng.random_range(0.2..1.0)).collect();
        let total: f32 = w.iter().sum();
        w.into_iter().map(|x| x / total).collect()
    }

    #[test]
    fn host_gradient_matches_central_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let t = target(0.4);
        let raw = random_rows(12, &mut rng);
        let w = weights(12, &mut rng);
        let mut grad = Mat::zeros(12, 8);
        t.loss_host(&raw, &w, &mut grad);
        let h = 1e-3f32;
        let mut checked = 0;
        for i in 0..raw.data.len() {
            let (mut up, mut down) = (raw.clone(), raw.clone());
            up.data[i] += h;
            down.data[i] -= h;
            let mut scratch = Mat::zeros(12, 8);
            let lu = t.loss_host(&up, &w, &mut scratch);
            let ld = t.loss_host(&down, &w, &mut scratch);
            let numeric = (lu - ld) / (2.0 * h as f64);
            let analytic = grad.data[i] as f64;
            // |corr − target| has kinks; a step that crosses one is not a test of the gradient.
            let l0 = t.loss_host(&raw, &w, &mut scratch);
            if (lu + ld - 2.0 * l0).abs() > 1e-6 {
                continue;
            }
            assert!(
                (numeric - analytic).abs() <= 2e-3 * (1.0 + analytic.abs()),
                "entry {i}: finite difference {numeric}, analytic {analytic}"
            );
            checked += 1;
        }
        // 96 entries; a kink is crossed by few of them.
        assert!(checked > 60, "only {checked} entries checked");
        assert!(grad.data.iter().any(|&g| g != 0.0));
    }

    #[test]
    fn host_and_burn_losses_agree() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let t = target(-0.2);
        let raw = random_rows(40, &mut rng);
        let w = weights(40, &mut rng);
        let mut grad = Mat::zeros(40, 8);
        let host = t.loss_host(&raw, &w, &mut grad);
        let device = Device::flex();
        let raw_t = Tensor::<2>::from_data(TensorData::new(raw.data.clone(), [40, 8]), &device);
        let w_t = Tensor::<2>::from_data(TensorData::new(w.clone(), [40, 1]), &device);
        let burn: f32 = t.loss(raw_t, w_t).into_scalar();
        assert!(
            (host - burn as f64).abs() < 1e-4,
            "host {host} vs burn {burn}"
        );
    }

    #[test]
    fn descending_the_loss_moves_the_batch_correlation_to_the_target() {
        // A batch whose first two columns are independent learns their target 0.8 by gradient
        // steps on the raw output alone.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let t = target(0.8);
        let mut raw = random_rows(200, &mut rng);
        let w = vec![1.0 / 200.0; 200];
        let mut first = None;
        let mut last = 0.0;
        for _ in 0..300 {
            let mut grad = Mat::zeros(200, 8);
            last = t.loss_host(&raw, &w, &mut grad);
            first.get_or_insert(last);
            for (x, g) in raw.data.iter_mut().zip(&grad.data) {
                *x -= 20.0 * g;
            }
        }
        let first = first.expect("ran");
        assert!(last < 0.25 * first, "loss {first} -> {last}");
    }

    #[test]
    fn pearson_of_a_line_and_of_a_constant() {
        let line: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, -2.0 * i as f64 + 1.0)).collect();
        assert!((pearson(&line) + 1.0).abs() < 1e-12);
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0)).collect();
        assert_eq!(pearson(&flat), 0.0);
    }
}
