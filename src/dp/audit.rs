//! An empirical lower bound on ε from one training run (Steinke, Nasr & Jagielski 2023,
//! "Privacy Auditing with One (1) Training Run", arXiv 2305.08846).
//!
//! `m` canaries are each included by an independent fair coin; the run trains once; every
//! canary gets a score from what an observer may see; the observer guesses "in" for the
//! highest scores and "out" for the lowest. If the run is (ε, δ)-DP with respect to each
//! canary, the number of correct guesses `v` out of `r` is stochastically dominated by
//! Binomial(r, e^ε / (1 + e^ε)), up to a δ term (the paper's Theorem 5.2):
//!
//! `P[v correct or more] ≤ P[Binomial(r, p_ε) ≥ v] + 2 m δ · max_{1≤i≤v} P[v − i ≤ Binomial(r, p_ε) < v] / i`.
//!
//! The audited lower bound ε̂ is the largest ε this p-value rejects at the chosen level. The
//! guesses are made for a fixed family of guess counts decided before any score is seen, and
//! the level is split among them (Bonferroni), so reporting the best of the family is valid.
//!
//! **Gradient canaries (white-box).** The strongest observer of DP-SGD sees every noisy
//! gradient sum: the accountant composes exactly those outputs, so the guarantee covers them.
//! A gradient canary is a unit whose gradient is `K·C` along its own coordinate (a "Dirac"
//! canary, one coordinate per canary, appended to the critic's gradient and touched by no
//! real row). Each step the included canaries are Poisson-sampled with the run's rate `q`, clipped by
//! the same clip function as the real units, summed and noised by the same noise function as
//! the critic's gradient ([`super::clip`]); the observer reads its coordinate of every noisy sum
//! and scores the canary with the Neyman–Pearson log-likelihood ratio of the subsampled
//! Gaussian, `Σ_t ln(1 − q + q · exp((x_t / C − 1/2) / σ²))`. This audits the sampling rate,
//! the clipping, the noise scale and the accountant's ε on the real training loop; the ghost
//! norms of real units are checked separately against one-row-at-a-time autodiff.
//!
//! The audit-only [`AuditSwitches`] turn the noise or the clipping off, so that a test can show
//! the audit fails a broken mechanism. They exist only on canaries, which only `dpsynth audit`
//! attaches; such a run writes no generator file.

use super::noise::DpRng;

/// Which parts of the mechanism an audit run keeps. Both on is the real mechanism; turning
/// one off is for showing that the audit catches a broken run, never for a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSwitches {
    /// Gaussian noise on the critic's gradient sums.
    pub noise: bool,
    /// Per-unit clipping to norm C.
    pub clipping: bool,
}

impl AuditSwitches {
    /// The real mechanism: noise and clipping on.
    pub const REAL: AuditSwitches = AuditSwitches {
        noise: true,
        clipping: true,
    };
}

/// Unclipped norm of a gradient canary, in units of C: far above C, so that clipping decides
/// its effect.
pub const CANARY_NORM_FACTOR: f64 = 1000.0;

/// Gradient canaries riding on a DP run's critic steps, and their scores so far.
pub struct GradientCanaries {
    /// The secret coin of each canary: whether it is in the run.
    included: Vec<bool>,
    /// Indices of the included canaries.
    members: Vec<usize>,
    /// Log-likelihood-ratio score of each canary so far.
    scores: Vec<f64>,
    switches: AuditSwitches,
}

impl GradientCanaries {
    /// `m` canaries, each included by a fair coin from the secret stream.
    pub fn new(m: usize, switches: AuditSwitches, rng: &mut DpRng) -> Self {
        let included: Vec<bool> = (0..m).map(|_| rng.coin(0.5)).collect();
        let members = (0..m).filter(|&i| included[i]).collect();
        GradientCanaries {
            included,
            members,
            scores: vec![0.0; m],
            switches,
        }
    }

    /// How many canaries (coordinates) there are.
    pub fn len(&self) -> usize {
        self.included.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.included.is_empty()
    }

    /// What the run keeps of the mechanism.
    pub fn switches(&self) -> AuditSwitches {
        self.switches
    }

    /// The canaries sampled this step: each included canary with probability `q`, by the
    /// same Poisson sampler as the rows.
    pub fn sample(&self, q: f64, rng: &mut DpRng) -> Vec<usize> {
        rng.poisson_sample(self.members.len(), q)
            .into_iter()
            .map(|i| self.members[i as usize])
            .collect()
    }

    /// Reads one step's noisy sum on the canary coordinates (`noisy[i]`: canary `i`'s
    /// coordinate of clipped sum plus noise, before dividing by the batch size) into the
    /// scores. `sigma`, `q` and `max_grad_norm` are the run's planned values: what an observer
    /// who knows the mechanism would assume.
    pub fn observe(&mut self, noisy: &[f32], sigma: f64, q: f64, max_grad_norm: f64) {
        let (log_miss, log_hit) = ((-q).ln_1p(), q.ln());
        for (score, &x) in self.scores.iter_mut().zip(noisy) {
            let a = (x as f64 / max_grad_norm - 0.5) / (sigma * sigma);
            *score += log_add_exp(log_miss, log_hit + a);
        }
    }

    /// The scores and coins, for [`lower_bound`].
    pub fn outcome(&self) -> (&[f64], &[bool]) {
        (&self.scores, &self.included)
    }
}

fn log_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// `ln k!` for `k = 0..=n`.
fn log_factorials(n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n + 1);
    let mut acc = 0.0;
    out.push(0.0);
    for k in 1..=n {
        acc += (k as f64).ln();
        out.push(acc);
    }
    out
}

/// The p-value of `v` or more correct guesses out of `r` among `m` canaries under the null
/// hypothesis that the run is (ε, δ)-DP (the module docs' bound).
pub fn p_value(m: usize, r: usize, v: usize, epsilon: f64, delta: f64) -> f64 {
    assert!(v <= r && r <= m, "need v <= r <= m");
    let p = 1.0 / (1.0 + (-epsilon).exp());
    let lf = log_factorials(r);
    let pmf = |k: usize| -> f64 {
        if p >= 1.0 {
            return if k == r { 1.0 } else { 0.0 };
        }
        (lf[r] - lf[k] - lf[r - k] + k as f64 * p.ln() + (r - k) as f64 * (-p).ln_1p()).exp()
    };
    let beta: f64 = (v..=r).map(pmf).sum();
    let mut alpha: f64 = 0.0;
    let mut below = 0.0;
    for i in 1..=v {
        below += pmf(v - i);
        alpha = alpha.max(below / i as f64);
    }
    (beta + alpha * 2.0 * m as f64 * delta).min(1.0)
}

/// The largest ε that `v` correct guesses out of `r` (among `m` canaries) reject at level
/// `level` (e.g. 0.05 for 95% confidence): the run is not (ε̂, δ)-DP with that confidence.
/// Zero when even ε = 0 is not rejected.
pub fn epsilon_from_guesses(m: usize, r: usize, v: usize, delta: f64, level: f64) -> f64 {
    if r == 0 || p_value(m, r, v, 0.0, delta) >= level {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while p_value(m, r, v, hi, delta) < level {
        lo = hi;
        hi *= 2.0;
        if hi > 1e3 {
            return hi;
        }
    }
    for _ in 0..50 {
        let mid = 0.5 * (lo + hi);
        if p_value(m, r, v, mid, delta) < level {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The outcome of one audit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditBound {
    /// Canaries.
    pub canaries: usize,
    /// Canaries the coins put in the run.
    pub included: usize,
    /// "In" guesses of the best guess set.
    pub guessed_in: usize,
    /// "Out" guesses of the best guess set.
    pub guessed_out: usize,
    /// Correct guesses of the best guess set.
    pub correct: usize,
    /// The lower bound on ε at the stated confidence (over the whole family of guess sets).
    pub epsilon_lower_bound: f64,
    /// Confidence of the bound, e.g. 0.95.
    pub confidence: f64,
}

/// The fixed family of guess sets for `m` canaries: `(in, out)` counts, decided before any
/// score is seen. One-sided sets ("in" only) suit canaries that a run may never sample;
/// two-sided sets suit scores that separate both ways.
pub fn guess_family(m: usize) -> Vec<(usize, usize)> {
    let mut family = Vec::new();
    for share in [0.002, 0.005, 0.01, 0.05, 0.1, 0.25] {
        let k = ((m as f64 * share).round() as usize).max(2);
        if k <= m {
            family.push((k, 0));
            family.push((k / 2, k - k / 2));
        }
    }
    family
}

/// Turns canary scores (higher: more likely in) and their coins into the audited lower bound
/// at `confidence`, for a run claiming δ = `delta`. Ties are broken by `tie_seed`'s shuffle,
/// which is independent of the coins.
pub fn lower_bound(
    scores: &[f64],
    included: &[bool],
    delta: f64,
    confidence: f64,
    tie_seed: u64,
) -> AuditBound {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let m = scores.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(tie_seed));
    // Stable sort after the shuffle: ties stay in shuffled order. NaN scores sort last.
    order.sort_by(|&a, &b| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let family = guess_family(m);
    let level = (1.0 - confidence) / family.len().max(1) as f64;
    let mut best = AuditBound {
        canaries: m,
        included: included.iter().filter(|&&x| x).count(),
        guessed_in: 0,
        guessed_out: 0,
        correct: 0,
        epsilon_lower_bound: 0.0,
        confidence,
    };
    for &(k_in, k_out) in &family {
        if k_in + k_out > m {
            continue;
        }
        let correct = order[..k_in].iter().filter(|&&i| included[i]).count()
            + order[m - k_out..].iter().filter(|&&i| !included[i]).count();
        let eps = epsilon_from_guesses(m, k_in + k_out, correct, delta, level);
        if eps > best.epsilon_lower_bound || best.guessed_in + best.guessed_out == 0 {
            best.guessed_in = k_in;
            best.guessed_out = k_out;
            best.correct = correct;
            best.epsilon_lower_bound = eps;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_correct_guesses_under_pure_dp_match_the_closed_form() {
        // With δ = 0 and v = r: P[Bin(r, p) ≥ r] = p^r = level, so p = level^(1/r) and
        // ε = ln(p / (1 − p)).
        for r in [10usize, 100, 1000] {
            let p = 0.05f64.powf(1.0 / r as f64);
            let expected = (p / (1.0 - p)).ln();
            let got = epsilon_from_guesses(5000, r, r, 0.0, 0.05);
            assert!((got - expected).abs() < 1e-6, "r {r}: {got} vs {expected}");
        }
    }

    #[test]
    fn chance_level_guesses_bound_nothing_and_delta_weakens_the_bound() {
        assert_eq!(epsilon_from_guesses(1000, 100, 50, 1e-5, 0.05), 0.0);
        let pure = epsilon_from_guesses(1000, 200, 180, 0.0, 0.05);
        let with_delta = epsilon_from_guesses(1000, 200, 180, 1e-3, 0.05);
        assert!(pure > 1.0 && with_delta < pure, "{pure} {with_delta}");
    }

    #[test]
    fn p_values_match_scipy_on_the_papers_formula() {
        // Computed with scipy 1.x (binom.sf and binom.pmf) on the formula of Steinke, Nasr &
        // Jagielski (2023), Theorem 5.2: p = sf(v − 1) + 2 m δ max_i Σ_{j≤i} pmf(v − j) / i.
        let cases = [
            ((1000, 200, 180, 1.5, 1e-3), 0.07937133211000755),
            ((5000, 500, 400, 1.0, 1e-5), 0.0021403696004179645),
            ((100, 40, 35, 0.5, 0.0), 0.0004005377287560633),
        ];
        for ((m, r, v, eps, delta), expected) in cases {
            let got = p_value(m, r, v, eps, delta);
            assert!(
                (got - expected).abs() < 1e-9 * expected.max(1e-300) + 1e-15,
                "{m} {r} {v} {eps} {delta}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn p_value_is_the_binomial_tail_without_delta() {
        // P[Bin(4, 1/2) ≥ 3] = 5/16 at ε = 0.
        assert!((p_value(10, 4, 3, 0.0, 0.0) - 5.0 / 16.0).abs() < 1e-12);
    }
}
