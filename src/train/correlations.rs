//! The generator's correlation loss in DP mode (`privacy.correlation_weight`): the mean
//! absolute difference between the Pearson correlations of the continuous columns in the
//! generator's batch and those of the surrogate rows (the tree model of the noisy pair tables
//! with its copula, `train::surrogate`). The target is drawn from released measurements only:
//! post-processing, no row is read and nothing is charged.
//!
//! Beside every continuous pair, each continuous column is paired with the states of each
//! discrete column (the state's indicator; states the surrogate gives under
//! [`MIN_STATE_SHARE`] of its rows are left out): the surrogate keeps a continuous column's
//! mean per category through its mode tables, and without this the noisy critic could turn a
//! relation around (churn's day minutes were lower among churners in one release, higher in
//! the real rows). Each column pair weighs the same: a discrete column's states share its
//! weight. Pairs of two states are the pair loss's business and are left out here.
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

use crate::model::host::linalg::matmul;
use crate::model::host::{Mat, Op};
use crate::transform::continuous::{normal_quantile, ContinuousEncoder};
use crate::transform::{DataTransformer, Encoder, SparseRows};

/// Correlations of weighted columns with a variance below this are taken as 0.
const MIN_VARIANCE: f64 = 1e-12;

/// States the surrogate rows hold less often than this are left out of the loss: in a batch
/// they are a handful of rows, and their correlation is noise.
pub const MIN_STATE_SHARE: f64 = 0.02;

/// One variable of the loss: a continuous column's value or a discrete state's indicator.
#[derive(Clone, Debug)]
enum Variable {
    /// A continuous column: the scalar at `offset`, its mode weights after it.
    Continuous {
        /// The column (the transformer's column index).
        column: usize,
        /// Index of the scalar in the generator output; the mode entries follow it.
        offset: usize,
        /// Each mode's mean.
        means: Vec<f64>,
        /// Each mode's `4 σ` (0 for an exact mode): how far the scalar moves the value.
        reach: Vec<f64>,
        /// The column's encoder: its released mixture gives the value's normal score.
        encoder: ContinuousEncoder,
    },
    /// One state of discrete column `column`: its one-hot entry at `index`.
    State {
        /// Index of the entry in the generator output.
        index: usize,
        /// The discrete column (the transformer's column index).
        column: usize,
    },
}

/// The surrogate's correlations, laid out for the loss.
#[derive(Clone, Debug)]
pub struct CorrelationTarget {
    variables: Vec<Variable>,
    /// `[v, v]` row-major: the target correlations (1 on the diagonal).
    target: Vec<f64>,
    /// `[v, v]` row-major, symmetric, 0 on the diagonal and between two states: each pair's
    /// share of the loss (the shares of the upper triangle add up to 1).
    share: Vec<f64>,
    weight: f64,
}

impl CorrelationTarget {
    /// The target for the continuous columns with modes of `transformer` and the states of
    /// its discrete columns, from `rows` (encoded surrogate rows), weighted by `weight`;
    /// `None` with no continuous pair and no continuous-discrete pair.
    pub fn from_rows(
        transformer: &DataTransformer,
        rows: &SparseRows,
        weight: f64,
    ) -> Option<Self> {
        let dense = rows.to_dense();
        let n = rows.n_rows.max(1) as f64;
        let dim = rows.dim.max(1);
        let mut variables = Vec::new();
        // Each variable's value in every surrogate row (None: a missing value).
        let mut values: Vec<Vec<Option<f64>>> = Vec::new();
        let mut offset = 0;
        for (column, e) in transformer.encoders.iter().enumerate() {
            match e {
                Encoder::Discrete(d) => {
                    for index in offset..offset + d.width() {
                        let v: Vec<Option<f64>> = dense
                            .chunks_exact(dim)
                            .map(|row| Some(row[index] as f64))
                            .collect();
                        let share = v.iter().map(|x| x.unwrap_or(0.0)).sum::<f64>() / n;
                        if (MIN_STATE_SHARE..=1.0 - MIN_STATE_SHARE).contains(&share) {
                            variables.push(Variable::State { index, column });
                            values.push(v);
                        }
                    }
                    offset += d.width();
                }
                Encoder::Continuous(c) => {
                    if !c.modes.is_empty() {
                        variables.push(Variable::Continuous {
                            column,
                            offset,
                            means: c.modes.iter().map(|m| m.mean).collect(),
                            reach: c
                                .modes
                                .iter()
                                .map(|m| if m.exact { 0.0 } else { 4.0 * m.std })
                                .collect(),
                            encoder: c.clone(),
                        });
                        values.push(
                            dense
                                .chunks_exact(dim)
                                .map(|row| {
                                    let x = c.decode_value(&row[offset..offset + c.width()])?;
                                    Some(normal_score(c, x).0)
                                })
                                .collect(),
                        );
                    }
                    offset += c.width();
                }
            }
        }
        let v = variables.len();
        // Column pairs: a continuous pair weighs 1, a continuous column against a discrete
        // column 1 shared among the discrete column's kept states.
        let mut states_of = std::collections::HashMap::new();
        for var in &variables {
            if let Variable::State { column, .. } = var {
                *states_of.entry(*column).or_insert(0usize) += 1;
            }
        }
        // A variable with a value in every row, centred once, with its sum of squares: its
        // pairs' correlations are one dot product each, the same sums in the same order as
        // [`pearson`] takes them (a 150-column table has tens of thousands of pairs).
        let centred: Vec<Option<Centred>> = values.iter().map(|v| Centred::of(v)).collect();
        let mut target = vec![0f64; v * v];
        let mut share = vec![0f64; v * v];
        for i in 0..v {
            target[i * v + i] = 1.0;
            for j in i + 1..v {
                let w = match (&variables[i], &variables[j]) {
                    (Variable::Continuous { .. }, Variable::Continuous { .. }) => 1.0,
                    (Variable::State { column, .. }, Variable::Continuous { .. })
                    | (Variable::Continuous { .. }, Variable::State { column, .. }) => {
                        1.0 / states_of[column] as f64
                    }
                    (Variable::State { .. }, Variable::State { .. }) => continue,
                };
                let r = match (&centred[i], &centred[j]) {
                    (Some(x), Some(y)) => x.correlation(y),
                    _ => {
                        let pairs: Vec<(f64, f64)> = values[i]
                            .iter()
                            .zip(&values[j])
                            .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
                            .collect();
                        pearson(&pairs)
                    }
                };
                target[i * v + j] = r;
                target[j * v + i] = r;
                share[i * v + j] = w;
                share[j * v + i] = w;
            }
        }
        let total: f64 = share.iter().sum::<f64>() / 2.0;
        if total == 0.0 {
            return None;
        }
        share.iter_mut().for_each(|s| *s /= total);
        Some(CorrelationTarget {
            variables,
            target,
            share,
            weight,
        })
    }

    /// The target correlation of continuous columns `a` and `b` (the transformer's column
    /// indices), if both are covered.
    pub fn target_of(&self, a: usize, b: usize) -> Option<f64> {
        let find = |c: usize| {
            self.variables
                .iter()
                .position(|v| matches!(v, Variable::Continuous { column, .. } if *column == c))
        };
        let (i, j) = (find(a)?, find(b)?);
        Some(self.target[i * self.variables.len() + j])
    }

    /// The loss for activated generator rows `fake` `[batch, data_dim]` (the rows the critic
    /// sees: tanh scalars, Gumbel-softmax one-hots) and row weights `weights` (adding up to
    /// 1), with its gradient added to `d_fake` `[batch, data_dim]`: `weight` x the
    /// share-weighted sum over pairs of `|corr − target|`.
    pub fn loss_host(&self, fake: &Mat, weights: &[f32], d_fake: &mut Mat) -> f64 {
        let (b, c) = (fake.rows, self.variables.len());
        let w: Vec<f64> = weights.iter().map(|&w| w as f64).collect();
        // x [b, c]: each variable's score (a continuous value's normal score, a state's entry)
        // and its slope in the value.
        let mut x = vec![0f64; b * c];
        let mut slope = vec![0f64; b * c];
        for r in 0..b {
            let row = fake.row(r);
            for (j, var) in self.variables.iter().enumerate() {
                (x[r * c + j], slope[r * c + j]) = var.score(var.value(row));
            }
        }
        // Weighted standardisation: z = (x − m) / sd per variable.
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
        // corr = zᵀ diag(w) z [c, c] and dL/dz = diag(w) z G as matrix products (f32: they
        // are the loss's cost on wide tables); G = dL/dcorr, symmetric, 0 where a pair has no
        // share.
        let z32 = Mat::from_vec(b, c, z.iter().map(|&v| v as f32).collect());
        let mut zw = z32.clone();
        for (r, &wr) in weights.iter().enumerate() {
            zw.row_mut(r).iter_mut().for_each(|v| *v *= wr);
        }
        let corr = matmul(&zw, Op::T, &z32, Op::N);
        let mut loss = 0f64;
        let mut g = Mat::zeros(c, c);
        for i in 0..c {
            for j in i + 1..c {
                let share = self.share[i * c + j];
                if share == 0.0 {
                    continue;
                }
                let diff = corr.data[i * c + j] as f64 - self.target[i * c + j];
                loss += share * diff.abs();
                let s = (self.weight * share * diff.signum() * f64::from(diff != 0.0)) as f32;
                g.data[i * c + j] = s;
                g.data[j * c + i] = s;
            }
        }
        // dL/dz_r = w_r (z_r G) (each pair appears once in L and twice in the symmetric G).
        let dz: Vec<f64> = matmul(&zw, Op::N, &g, Op::N)
            .data
            .iter()
            .map(|&v| v as f64)
            .collect();
        // Back through the standardisation: dx_r = (dz_r − w_r Σ dz − w_r z_r Σ dz z) / sd.
        for j in 0..c {
            let sum_dz: f64 = (0..b).map(|r| dz[r * c + j]).sum();
            let sum_dzz: f64 = (0..b).map(|r| dz[r * c + j] * z[r * c + j]).sum();
            let var = &self.variables[j];
            for (r, &wr) in w.iter().enumerate() {
                let i = r * c + j;
                let dx = (dz[i] - wr * sum_dz - wr * z[i] * sum_dzz) / sd[j] * slope[i];
                if dx != 0.0 {
                    var.value_backward(fake.row(r), dx, d_fake.row_mut(r));
                }
            }
        }
        loss * self.weight
    }

    /// The burn engine's [`CorrelationTarget::loss_host`] (autodiff): the same value for
    /// activated generator rows `fake` `[batch, data_dim]` and row weights `weights`
    /// `[batch, 1]`.
    pub fn loss(&self, fake: Tensor<2>, weights: Tensor<2>) -> Tensor<1> {
        let [batch, _] = fake.dims();
        let device = fake.device();
        let c = self.variables.len();
        let column = |v: &[f64], device: &Device| {
            let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            let k = v.len();
            Tensor::<2>::from_data(TensorData::new(v, [k, 1]), device)
        };
        let square = |v: &[f64]| {
            let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Tensor::<2>::from_data(TensorData::new(v, [c, c]), &device)
        };
        // x [batch, c]: q · μ + s (q · 4σ) per continuous column, the entry per state.
        let parts: Vec<Tensor<2>> = self
            .variables
            .iter()
            .map(|var| match var {
                Variable::Continuous {
                    offset,
                    means,
                    reach,
                    ..
                } => {
                    let k = means.len();
                    let q = fake.clone().slice([0..batch, offset + 1..offset + 1 + k]);
                    let s = fake.clone().slice([0..batch, *offset..offset + 1]);
                    q.clone().matmul(column(means, &device)) + s * q.matmul(column(reach, &device))
                }
                Variable::State { index, .. } => fake.clone().slice([0..batch, *index..index + 1]),
            })
            .collect();
        let values = Tensor::cat(parts, 1);
        // Scores, linearised at the batch's values: x = v k + (s(v0) − v0 k) with the slope k
        // and the score s(v0) computed on the host (constants), so that autodiff carries k. The
        // host reads v0 from the rows as the host engine does (in f64): a zero-inflated
        // column's score jumps at its atom, and both engines must put a value on one side.
        let rows = crate::model::to_host(fake.clone());
        let width = rows.len() / batch.max(1);
        let (mut slopes, mut offsets) = (vec![0f32; batch * c], vec![0f32; batch * c]);
        for (r, row) in rows.chunks_exact(width.max(1)).enumerate() {
            for (j, var) in self.variables.iter().enumerate() {
                let v = var.value(row);
                let (score, slope) = var.score(v);
                slopes[r * c + j] = slope as f32;
                offsets[r * c + j] = (score - v * slope) as f32;
            }
        }
        let constant =
            |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [batch, c]), &device);
        let x = values * constant(slopes) + constant(offsets);
        let mean = (x.clone() * weights.clone()).sum_dim(0); // [1, c]
        let centred = x - mean;
        let var = (centred.clone().powf_scalar(2.0) * weights.clone()).sum_dim(0);
        let z = centred / var.clamp_min(MIN_VARIANCE as f32).sqrt();
        let corr = (z.clone() * weights).transpose().matmul(z); // [c, c]
                                                                // Both triangles hold every pair: half the full sum.
        ((corr - square(&self.target)).abs() * square(&self.share))
            .sum()
            .mul_scalar(self.weight / 2.0)
    }
}

impl Variable {
    /// The variable's value in an activated row: a continuous column's `Σ_k q_k (μ_k + 4σ_k s)`
    /// (one-hot mode weights `q`, sampling's decode before clipping to the bounds), a state's
    /// one-hot entry.
    fn value(&self, row: &[f32]) -> f64 {
        match self {
            Variable::Continuous {
                offset,
                means,
                reach,
                ..
            } => {
                let s = row[*offset] as f64;
                let q = &row[offset + 1..offset + 1 + means.len()];
                q.iter()
                    .zip(means.iter().zip(reach))
                    .map(|(&q, (m, r))| q as f64 * (m + r * s))
                    .sum()
            }
            Variable::State { index, .. } => row[*index] as f64,
        }
    }

    /// The score the loss correlates for value `v` and its slope `d score / d v`: a
    /// continuous column's normal score ([`normal_score`]), a state's entry itself.
    fn score(&self, v: f64) -> (f64, f64) {
        match self {
            Variable::Continuous { encoder, .. } => normal_score(encoder, v),
            Variable::State { .. } => (v, 1.0),
        }
    }

    /// Adds `dx` times the gradient of [`Variable::value`] to `d_row`.
    fn value_backward(&self, row: &[f32], dx: f64, d_row: &mut [f32]) {
        match self {
            Variable::Continuous {
                offset,
                means,
                reach,
                ..
            } => {
                let s = row[*offset] as f64;
                let q = &row[offset + 1..offset + 1 + means.len()];
                let spread: f64 = q.iter().zip(reach).map(|(&q, r)| q as f64 * r).sum();
                d_row[*offset] += (dx * spread) as f32;
                for (i, (m, r)) in means.iter().zip(reach).enumerate() {
                    d_row[offset + 1 + i] += (dx * (m + r * s)) as f32;
                }
            }
            Variable::State { index, .. } => d_row[*index] += dx as f32,
        }
    }
}

/// Normal scores beyond this are held there (and have slope 0).
const SCORE_LIMIT: f64 = 3.0;

/// The normal score `Φ⁻¹(F(x))` of value `x` in a column with released mixture `F` (`enc`)
/// and its slope `f(x) / φ(score)` (`f` the density of the mixture's continuous part), held
/// within ±[`SCORE_LIMIT`]. Correlating scores rather than values keeps one amount's long tail
/// from deciding a correlation, and it is the scale the copula measures (`dp::copula`).
fn normal_score(enc: &ContinuousEncoder, x: f64) -> (f64, f64) {
    let z = normal_quantile(enc.cdf(x));
    if z.abs() >= SCORE_LIMIT {
        return (z.clamp(-SCORE_LIMIT, SCORE_LIMIT), 0.0);
    }
    let phi = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    (z, enc.density(x) / phi)
}

/// A variable with a value in every row, less its mean, and its sum of squares: the first
/// pass of [`pearson`] done once for all its pairs.
struct Centred {
    values: Vec<f64>,
    squares: f64,
}

impl Centred {
    /// `values` centred, when every row has one and there are at least two.
    fn of(values: &[Option<f64>]) -> Option<Centred> {
        let x: Vec<f64> = values.iter().copied().collect::<Option<_>>()?;
        if x.len() < 2 {
            return None;
        }
        let n = x.len() as f64;
        let mean = x.iter().fold(0.0, |a, &x| a + x / n);
        let values: Vec<f64> = x.iter().map(|&x| x - mean).collect();
        let squares = values.iter().fold(0.0, |a, &c| a + c * c);
        Some(Centred { values, squares })
    }

    /// [`pearson`] of this variable and `other` (the same rows): the same sums in the same
    /// order, so the same bits.
    fn correlation(&self, other: &Centred) -> f64 {
        let sxy = self
            .values
            .iter()
            .zip(&other.values)
            .fold(0.0, |a, (x, y)| a + x * y);
        if self.squares > 0.0 && other.squares > 0.0 {
            (sxy / (self.squares * other.squares).sqrt()).clamp(-1.0, 1.0)
        } else {
            0.0
        }
    }
}

/// Pearson correlation of `pairs` (0 when either side is constant or there are fewer than 2).
fn pearson(pairs: &[(f64, f64)]) -> f64 {
    crate::transform::dependence::correlation(pairs).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Width of the test rows.
    const WIDTH: usize = 10;

    /// Three continuous columns (two modes, one mode, an exact mode beside a wide one) and
    /// two states of a discrete column (entries 8 and 9 of rows 10 wide).
    fn target(rho: f64) -> CorrelationTarget {
        let continuous = |offset, means: Vec<f64>, reach: Vec<f64>| {
            let k = means.len() as f64;
            let modes = means
                .iter()
                .zip(&reach)
                .map(|(&mean, &r)| crate::transform::gmm::Mode {
                    weight: 1.0 / k,
                    mean,
                    std: if r == 0.0 { 1e-3 } else { r / 4.0 },
                    exact: r == 0.0,
                })
                .collect();
            Variable::Continuous {
                column: offset,
                offset,
                means,
                reach,
                encoder: ContinuousEncoder {
                    modes,
                    min: -100.0,
                    max: 200.0,
                    has_null: false,
                    null_rate: 0.0,
                    support: Vec::new(),
                    support_shares: Vec::new(),
                    trim: None,
                },
            }
        };
        let variables = vec![
            continuous(0, vec![-1.0, 2.0], vec![0.5, 1.5]),
            continuous(3, vec![10.0], vec![4.0]),
            continuous(5, vec![0.0, 50.0], vec![0.0, 20.0]),
            Variable::State {
                index: 8,
                column: 3,
            },
            Variable::State {
                index: 9,
                column: 3,
            },
        ];
        let v = variables.len();
        let mut target = vec![0.0; v * v];
        let mut share = vec![0.0; v * v];
        for i in 0..v {
            target[i * v + i] = 1.0;
            for j in i + 1..v {
                let (t, w) = match (i < 3, j < 3) {
                    (true, true) => (if j == 2 { -0.3 } else { rho }, 1.0 / 6.0),
                    (true, false) => (if j == 3 { 0.25 } else { -0.25 }, 0.5 / 6.0),
                    _ => (0.0, 0.0),
                };
                target[i * v + j] = t;
                target[j * v + i] = t;
                share[i * v + j] = w;
                share[j * v + i] = w;
            }
        }
        CorrelationTarget {
            variables,
            target,
            share,
            weight: 0.7,
        }
    }

    fn random_rows(rows: usize, rng: &mut ChaCha8Rng) -> Mat {
        let mut raw = Mat::zeros(rows, WIDTH);
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
        let mut grad = Mat::zeros(12, WIDTH);
        t.loss_host(&raw, &w, &mut grad);
        let h = 1e-3f32;
        let mut checked = 0;
        for i in 0..raw.data.len() {
            let (mut up, mut down) = (raw.clone(), raw.clone());
            up.data[i] += h;
            down.data[i] -= h;
            let mut scratch = Mat::zeros(12, WIDTH);
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
        // 120 entries; a kink is crossed by few of them.
        assert!(checked > 80, "only {checked} entries checked");
        assert!(grad.data.iter().any(|&g| g != 0.0));
    }

    #[test]
    fn host_and_burn_losses_agree() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let t = target(-0.2);
        let raw = random_rows(40, &mut rng);
        let w = weights(40, &mut rng);
        let mut grad = Mat::zeros(40, WIDTH);
        let host = t.loss_host(&raw, &w, &mut grad);
        let device = Device::flex().autodiff();
        let raw_t = Tensor::<2>::from_data(TensorData::new(raw.data.clone(), [40, WIDTH]), &device)
            .require_grad();
        let w_t = Tensor::<2>::from_data(TensorData::new(w.clone(), [40, 1]), &device);
        let loss = t.loss(raw_t.clone(), w_t);
        let burn: f32 = loss.clone().into_scalar();
        assert!(
            (host - burn as f64).abs() < 1e-4,
            "host {host} vs burn {burn}"
        );
        let grads = loss.backward();
        let want = crate::model::to_host(raw_t.grad(&grads).expect("a gradient"));
        let scale = want.iter().fold(0f32, |m, x| m.max(x.abs()));
        for (i, (g, w)) in grad.data.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-4 * scale + 1e-7,
                "entry {i}: host {g} vs burn {w} (largest {scale})"
            );
        }
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
        for _ in 0..600 {
            let mut grad = Mat::zeros(200, WIDTH);
            last = t.loss_host(&raw, &w, &mut grad);
            first.get_or_insert(last);
            for (x, g) in raw.data.iter_mut().zip(&grad.data) {
                *x -= 20.0 * g;
            }
        }
        let first = first.expect("ran");
        assert!(last < 0.4 * first, "loss {first} -> {last}");
    }

    #[test]
    fn centred_columns_give_pearsons_bits() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let column = |rng: &mut ChaCha8Rng, scale: f64| -> Vec<Option<f64>> {
            (0..500)
                .map(|_| Some(rng.random_range(-1.0..1.0) * scale + 3.0))
                .collect()
        };
        let x = column(&mut rng, 1.0);
        let y: Vec<Option<f64>> = x
            .iter()
            .map(|v| Some(v.unwrap() * 0.3 + rng.random_range(-1.0..1.0)))
            .collect();
        let flat = vec![Some(2.5); 500];
        let pairs = |a: &[Option<f64>], b: &[Option<f64>]| -> Vec<(f64, f64)> {
            a.iter()
                .zip(b)
                .map(|(a, b)| (a.unwrap(), b.unwrap()))
                .collect()
        };
        let (cx, cy, cf) = (
            Centred::of(&x).unwrap(),
            Centred::of(&y).unwrap(),
            Centred::of(&flat).unwrap(),
        );
        let r = cx.correlation(&cy);
        assert!(r > 0.2, "{r}");
        assert_eq!(r.to_bits(), pearson(&pairs(&x, &y)).to_bits());
        assert_eq!(cx.correlation(&cf), pearson(&pairs(&x, &flat)));
        // A missing value leaves the pair to `pearson` on the rows holding both.
        let mut gap = x.clone();
        gap[7] = None;
        assert!(Centred::of(&gap).is_none());
    }

    #[test]
    fn pearson_of_a_line_and_of_a_constant() {
        let line: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, -2.0 * i as f64 + 1.0)).collect();
        assert!((pearson(&line) + 1.0).abs() < 1e-12);
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0)).collect();
        assert_eq!(pearson(&flat), 0.0);
    }
}
