//! A one-dimensional variational Gaussian mixture with a Dirichlet-process prior on the weights:
//! scikit-learn's `BayesianGaussianMixture(weight_concentration_prior_type="dirichlet_process",
//! weight_concentration_prior=1e-3, n_components=10)` as used by CTGAN's mode-specific
//! normalisation (rdt's `ClusterBasedNormalizer`), restricted to one feature.
//!
//! The fit takes weighted points so that it runs on distinct values with their counts (fast on
//! integer-like columns) and, in DP mode, on a noisy histogram's bin centres.
//!
//! Reference: Bishop, *Pattern Recognition and Machine Learning*, ch. 10.2; Blei & Jordan 2006
//! for the stick-breaking weights; scikit-learn `mixture/_bayesian_mixture.py` for the priors.

use serde::{Deserialize, Serialize};

/// One fitted mixture component, in the data's own units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mode {
    /// Mixture weight (normalised over the kept modes).
    pub weight: f64,
    /// Posterior mean.
    pub mean: f64,
    /// Standard deviation (posterior covariance under the Wishart mean).
    pub std: f64,
    /// An atom: a single value held by many rows (a zero-inflated amount, a clipped bound).
    /// It decodes to `mean` exactly; its tiny `std` only makes it win the posterior for that
    /// value and lose it for every other.
    #[serde(default)]
    pub exact: bool,
}

/// Fitted variational posterior: everything needed to compute responsibilities.
#[derive(Debug, Clone)]
struct Posterior {
    /// Stick-breaking Beta parameters (a_k, b_k).
    conc_a: Vec<f64>,
    conc_b: Vec<f64>,
    mean_precision: Vec<f64>,
    means: Vec<f64>,
    dof: Vec<f64>,
    /// Variance of each component (covariance / dof already applied).
    covariances: Vec<f64>,
}

/// Settings of the mixture fit.
#[derive(Debug, Clone, Copy)]
pub struct MixtureSettings {
    /// Most components.
    pub max_modes: usize,
    /// Components with a weight below this are dropped.
    pub weight_threshold: f64,
    /// Variational iterations.
    pub iterations: usize,
}

const WEIGHT_CONCENTRATION_PRIOR: f64 = 1e-3;
const MEAN_PRECISION_PRIOR: f64 = 1.0;
const DOF_PRIOR: f64 = 1.0;
const REG_COVAR: f64 = 1e-6;
const TOLERANCE: f64 = 1e-3;

/// Fits the mixture to `points` with non-negative `weights` and returns the kept modes,
/// sorted by the order of the components, with weights renormalised to sum to one.
///
/// Returns a single mode when the data has (near) zero spread.
pub fn fit_modes(points: &[f64], weights: &[f64], settings: MixtureSettings) -> Vec<Mode> {
    assert_eq!(points.len(), weights.len());
    let total: f64 = weights.iter().sum();
    if points.is_empty() || total <= 0.0 {
        return vec![Mode {
            weight: 1.0,
            mean: 0.0,
            std: 1.0,
            exact: false,
        }];
    }
    let mean = points.iter().zip(weights).map(|(x, w)| x * w).sum::<f64>() / total;
    let var = points
        .iter()
        .zip(weights)
        .map(|(x, w)| w * (x - mean).powi(2))
        .sum::<f64>()
        / total;
    if var <= 1e-12 * (1.0 + mean * mean) {
        return vec![Mode {
            weight: 1.0,
            mean,
            std: (var.sqrt()).max(1e-3 * (1.0 + mean.abs())),
            exact: false,
        }];
    }
    let k = settings.max_modes.max(1);
    let mut resp = kmeans_responsibilities(points, weights, k);
    let mut post = m_step(points, weights, &resp, k, mean, var);
    let mut previous_bound = f64::NEG_INFINITY;
    for _ in 0..settings.iterations {
        let bound = e_step(points, &post, &mut resp);
        post = m_step(points, weights, &resp, k, mean, var);
        // The mean log-normaliser moves little once converged; scikit-learn tests the ELBO, this
        // is its dominant term.
        let bound = bound / total;
        if (bound - previous_bound).abs() < TOLERANCE {
            break;
        }
        previous_bound = bound;
    }
    let weights = stick_breaking_weights(&post);
    let mut modes: Vec<Mode> = (0..k)
        .filter(|&j| weights[j] > settings.weight_threshold)
        .map(|j| Mode {
            weight: weights[j],
            mean: post.means[j],
            std: post.covariances[j].sqrt(),
            exact: false,
        })
        .collect();
    if modes.is_empty() {
        modes.push(Mode {
            weight: 1.0,
            mean,
            std: var.sqrt(),
            exact: false,
        });
    }
    let kept: f64 = modes.iter().map(|m| m.weight).sum();
    for m in &mut modes {
        m.weight /= kept;
    }
    modes
}

/// Responsibilities of each kept mode for value `x` (scikit-learn's `predict_proba` restricted
/// to the kept modes and renormalised): a Gaussian with the mode's mean and std, weighted.
pub fn mode_probabilities(modes: &[Mode], x: f64, out: &mut [f64]) {
    let mut max = f64::NEG_INFINITY;
    for (o, m) in out.iter_mut().zip(modes) {
        let z = (x - m.mean) / m.std;
        *o = m.weight.ln() - m.std.ln() - 0.5 * z * z;
        max = max.max(*o);
    }
    let mut sum = 0.0;
    for o in out.iter_mut() {
        // Unlike rdt we add no 1e-6 floor: the floor occasionally assigns a value to a far mode,
        // where its offset is clipped at ±0.99 and the value cannot be recovered.
        *o = (*o - max).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

/// Hard assignments from a few rounds of weighted 1-D k-means, initialised at quantiles.
fn kmeans_responsibilities(points: &[f64], weights: &[f64], k: usize) -> Vec<f64> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a].total_cmp(&points[b]));
    let total: f64 = weights.iter().sum();
    let mut centres = Vec::with_capacity(k);
    let mut acc = 0.0;
    let mut next = 0;
    for &i in &order {
        acc += weights[i];
        while next < k && acc >= total * (next as f64 + 0.5) / k as f64 {
            centres.push(points[i]);
            next += 1;
        }
    }
    while centres.len() < k {
        centres.push(points[order[order.len() - 1]]);
    }
    let mut assign = vec![0usize; points.len()];
    for _ in 0..20 {
        for (i, &x) in points.iter().enumerate() {
            let mut best = 0;
            for j in 1..k {
                if (x - centres[j]).abs() < (x - centres[best]).abs() {
                    best = j;
                }
            }
            assign[i] = best;
        }
        let mut sums = vec![0.0; k];
        let mut counts = vec![0.0; k];
        for (i, &x) in points.iter().enumerate() {
            sums[assign[i]] += weights[i] * x;
            counts[assign[i]] += weights[i];
        }
        for j in 0..k {
            if counts[j] > 0.0 {
                centres[j] = sums[j] / counts[j];
            }
        }
    }
    let mut resp = vec![0.0; points.len() * k];
    for (i, &a) in assign.iter().enumerate() {
        resp[i * k + a] = 1.0;
    }
    resp
}

/// Variational M-step: posterior parameters from weighted responsibilities (`resp` is n x k).
fn m_step(
    points: &[f64],
    weights: &[f64],
    resp: &[f64],
    k: usize,
    data_mean: f64,
    data_var: f64,
) -> Posterior {
    let mut nk = vec![10.0 * f64::EPSILON; k];
    let mut xk = vec![0.0; k];
    for (i, (&x, &w)) in points.iter().zip(weights).enumerate() {
        for j in 0..k {
            let r = resp[i * k + j] * w;
            nk[j] += r;
            xk[j] += r * x;
        }
    }
    for j in 0..k {
        xk[j] /= nk[j];
    }
    let mut sk = vec![0.0; k];
    for (i, (&x, &w)) in points.iter().zip(weights).enumerate() {
        for j in 0..k {
            sk[j] += resp[i * k + j] * w * (x - xk[j]).powi(2);
        }
    }
    for j in 0..k {
        sk[j] = sk[j] / nk[j] + REG_COVAR;
    }
    let mut conc_a = vec![0.0; k];
    let mut conc_b = vec![0.0; k];
    let mut tail = 0.0;
    for j in (0..k).rev() {
        conc_a[j] = 1.0 + nk[j];
        conc_b[j] = WEIGHT_CONCENTRATION_PRIOR + tail;
        tail += nk[j];
    }
    let mean_precision: Vec<f64> = nk.iter().map(|n| MEAN_PRECISION_PRIOR + n).collect();
    let means: Vec<f64> = (0..k)
        .map(|j| (MEAN_PRECISION_PRIOR * data_mean + nk[j] * xk[j]) / mean_precision[j])
        .collect();
    let dof: Vec<f64> = nk.iter().map(|n| DOF_PRIOR + n).collect();
    let covariances: Vec<f64> = (0..k)
        .map(|j| {
            let diff = xk[j] - data_mean;
            (data_var
                + nk[j] * sk[j]
                + nk[j] * MEAN_PRECISION_PRIOR / mean_precision[j] * diff * diff)
                / dof[j]
        })
        .collect();
    Posterior {
        conc_a,
        conc_b,
        mean_precision,
        means,
        dof,
        covariances,
    }
}

/// Variational E-step: fills `resp` and returns the summed log normaliser (a convergence proxy).
fn e_step(points: &[f64], post: &Posterior, resp: &mut [f64]) -> f64 {
    let k = post.means.len();
    let mut log_w = vec![0.0; k];
    let mut acc = 0.0;
    #[allow(clippy::needless_range_loop)] // index j addresses four parallel arrays
    for j in 0..k {
        let d_ab = digamma(post.conc_a[j] + post.conc_b[j]);
        log_w[j] = digamma(post.conc_a[j]) - d_ab + acc;
        acc += digamma(post.conc_b[j]) - d_ab;
    }
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    let consts: Vec<f64> = (0..k)
        .map(|j| {
            let prec_chol = 1.0 / post.covariances[j].sqrt();
            let log_det = prec_chol.ln();
            let log_lambda = 2f64.ln() + digamma(0.5 * post.dof[j]);
            log_w[j] + log_det - 0.5 * ln_2pi - 0.5 * post.dof[j].ln()
                + 0.5 * (log_lambda - 1.0 / post.mean_precision[j])
        })
        .collect();
    let mut total = 0.0;
    let mut row = vec![0.0; k];
    for (i, &x) in points.iter().enumerate() {
        let mut max = f64::NEG_INFINITY;
        for j in 0..k {
            let d = x - post.means[j];
            row[j] = consts[j] - 0.5 * d * d / post.covariances[j];
            max = max.max(row[j]);
        }
        let mut sum = 0.0;
        for r in row.iter_mut() {
            *r = (*r - max).exp();
            sum += *r;
        }
        total += max + sum.ln();
        for j in 0..k {
            resp[i * k + j] = row[j] / sum;
        }
    }
    total
}

/// Expected mixture weights under the stick-breaking posterior.
fn stick_breaking_weights(post: &Posterior) -> Vec<f64> {
    let k = post.means.len();
    let mut weights = vec![0.0; k];
    let mut remaining = 1.0;
    #[allow(clippy::needless_range_loop)] // index j addresses three parallel arrays
    for j in 0..k {
        let frac = post.conc_a[j] / (post.conc_a[j] + post.conc_b[j]);
        weights[j] = frac * remaining;
        remaining *= post.conc_b[j] / (post.conc_a[j] + post.conc_b[j]);
    }
    let sum: f64 = weights.iter().sum();
    weights.iter().map(|w| w / sum).collect()
}

/// The digamma function ψ(x) for x > 0: recurrence up to x >= 6, then the asymptotic series.
pub fn digamma(mut x: f64) -> f64 {
    let mut result = 0.0;
    while x < 10.0 {
        result -= 1.0 / x;
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    result + x.ln()
        - 0.5 * inv
        - inv2 * (1.0 / 12.0 - inv2 * (1.0 / 120.0 - inv2 * (1.0 / 252.0 - inv2 * (1.0 / 240.0))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, Normal};

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = -γ, ψ(0.5) = -γ - 2 ln 2 (Abramowitz & Stegun 6.3.2, 6.3.3).
        let gamma = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + gamma).abs() < 1e-12);
        assert!((digamma(0.5) + gamma + 2.0 * 2f64.ln()).abs() < 1e-12);
        assert!((digamma(10.0) - 2.251_752_589_066_721).abs() < 1e-12);
    }

    #[test]
    fn recovers_two_modes() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let a = Normal::new(-5.0, 1.0).unwrap();
        let b = Normal::new(10.0, 2.0).unwrap();
        let points: Vec<f64> = (0..6000)
            .map(|_| {
                if rng.random::<f64>() < 0.3 {
                    a.sample(&mut rng)
                } else {
                    b.sample(&mut rng)
                }
            })
            .collect();
        let weights = vec![1.0; points.len()];
        let settings = MixtureSettings {
            max_modes: 10,
            weight_threshold: 0.005,
            iterations: 100,
        };
        let modes = fit_modes(&points, &weights, settings);
        // Components may split a true mode into pieces; merged on each side of the gap, they
        // must give back each mode's weight, mean and spread (moments of the sub-mixture).
        let side = |left: bool| {
            let part: Vec<&Mode> = modes.iter().filter(|m| (m.mean < 2.5) == left).collect();
            let w: f64 = part.iter().map(|m| m.weight).sum();
            let mean = part.iter().map(|m| m.weight * m.mean).sum::<f64>() / w;
            let second = part
                .iter()
                .map(|m| m.weight * (m.std * m.std + m.mean * m.mean))
                .sum::<f64>()
                / w;
            (w, mean, (second - mean * mean).sqrt())
        };
        let (w, mean, sd) = side(true);
        assert!(
            (w - 0.3).abs() < 0.03 && (mean + 5.0).abs() < 0.2 && (sd - 1.0).abs() < 0.2,
            "{modes:?}"
        );
        let (w, mean, sd) = side(false);
        assert!(
            (w - 0.7).abs() < 0.03 && (mean - 10.0).abs() < 0.2 && (sd - 2.0).abs() < 0.3,
            "{modes:?}"
        );
    }
}
