//! Rényi-DP of the Poisson-subsampled Gaussian mechanism and its conversion to (ε, δ): pure
//! `f64` maths, no tensors, no state.
//!
//! - RDP of the sampled Gaussian at integer and fractional orders: Mironov, Talwar & Zhang,
//!   "Rényi Differential Privacy of the Sampled Gaussian Mechanism" (2019), Sections 3.3 and 3.4;
//!   the same computation as Opacus' `accountants/analysis/rdp.py` (from TF Privacy), which
//!   `../shared/dp_reference/epsilon_grid.csv` pins.
//! - RDP -> (ε, δ): Balle, Barthe, Gaboardi, Hsu & Sato, "Hypothesis Testing Interpretations and
//!   Renyi Differential Privacy" (2020), Theorem 21:
//!   `ε = rdp − (ln δ + ln α)/(α − 1) + ln((α − 1)/α)`, minimised over the orders.
//!
//! ```
//! // Opacus' own doctest value: σ = 1.5, q = 0.04, 2250 steps, δ = 1e-5 -> ε ≈ 7.3291.
//! use dpsynth::dp::rdp::{epsilon_from_rdp, sampled_gaussian_rdp, DEFAULT_ORDERS};
//! let orders = DEFAULT_ORDERS.to_vec();
//! let rdp: Vec<f64> = orders.iter().map(|&a| 2250.0 * sampled_gaussian_rdp(0.04, 1.5, a)).collect();
//! let (eps, _) = epsilon_from_rdp(&orders, &rdp, 1e-5);
//! assert!((eps - 7.32911117143).abs() < 1e-6);
//! ```

/// Opacus' default orders: 1.1, 1.2, ..., 10.9 and 12, 13, ..., 63.
pub const DEFAULT_ORDERS: [f64; 151] = {
    let mut orders = [0.0; 151];
    let mut i = 0;
    while i < 99 {
        orders[i] = 1.0 + (i as f64 + 1.0) / 10.0;
        i += 1;
    }
    while i < 151 {
        orders[i] = (i - 99 + 12) as f64;
        i += 1;
    }
    orders
};

/// `ln(e^a + e^b)` without overflow.
fn log_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// `ln(e^a − e^b)` for `a >= b`.
fn log_sub(a: f64, b: f64) -> f64 {
    if b == f64::NEG_INFINITY {
        return a;
    }
    if a <= b {
        // The terms cancel (or round below): nothing is left.
        return f64::NEG_INFINITY;
    }
    a + (-(b - a).exp()).ln_1p()
}

/// `ln erfc(x)`, accurate far into the tail where `erfc` underflows.
fn log_erfc(x: f64) -> f64 {
    if x < 20.0 {
        libm::erfc(x).ln()
    } else {
        // Asymptotic series: erfc(x) = e^{-x²}/(x√π) (1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶) + 105/(16x⁸)).
        let x2 = x * x;
        let series = 1.0 - 1.0 / (2.0 * x2) + 3.0 / (4.0 * x2 * x2) - 15.0 / (8.0 * x2 * x2 * x2)
            + 105.0 / (16.0 * x2 * x2 * x2 * x2);
        -x2 - x.ln() - 0.5 * std::f64::consts::PI.ln() + series.ln()
    }
}

/// `ln A_α` for integer α (Mironov et al. 2019, Section 3.3).
fn log_a_integer(q: f64, sigma: f64, alpha: u64) -> f64 {
    let mut log_a = f64::NEG_INFINITY;
    let mut log_binom = 0.0; // ln C(α, 0)
    for i in 0..=alpha {
        if i > 0 {
            log_binom += ((alpha - i + 1) as f64).ln() - (i as f64).ln();
        }
        let fi = i as f64;
        let log_coef = log_binom + fi * q.ln() + (alpha as f64 - fi) * (1.0 - q).ln();
        log_a = log_add(log_a, log_coef + (fi * fi - fi) / (2.0 * sigma * sigma));
    }
    log_a
}

/// `ln A_α` for fractional α (Mironov et al. 2019, Section 3.4).
fn log_a_fractional(q: f64, sigma: f64, alpha: f64) -> f64 {
    let (mut log_a0, mut log_a1) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let z0 = sigma * sigma * (1.0 / q - 1.0).ln() + 0.5;
    let mut log_abs_binom = 0.0; // ln |C(α, 0)|
    let mut positive = true;
    let mut i = 0u64;
    loop {
        let fi = i as f64;
        if i > 0 {
            let factor = alpha - (fi - 1.0);
            log_abs_binom += factor.abs().ln() - fi.ln();
            if factor < 0.0 {
                positive = !positive;
            }
        }
        let j = alpha - fi;
        let log_t0 = log_abs_binom + fi * q.ln() + j * (1.0 - q).ln();
        let log_t1 = log_abs_binom + j * q.ln() + fi * (1.0 - q).ln();
        let log_e0 = 0.5f64.ln() + log_erfc((fi - z0) / (2f64.sqrt() * sigma));
        let log_e1 = 0.5f64.ln() + log_erfc((z0 - j) / (2f64.sqrt() * sigma));
        let log_s0 = log_t0 + (fi * fi - fi) / (2.0 * sigma * sigma) + log_e0;
        let log_s1 = log_t1 + (j * j - j) / (2.0 * sigma * sigma) + log_e1;
        if positive {
            log_a0 = log_add(log_a0, log_s0);
            log_a1 = log_add(log_a1, log_s1);
        } else {
            log_a0 = log_sub(log_a0, log_s0);
            log_a1 = log_sub(log_a1, log_s1);
        }
        i += 1;
        if log_s0.max(log_s1) < -30.0 || i > 100_000 {
            break;
        }
    }
    log_add(log_a0, log_a1)
}

/// RDP at order `alpha` of one step of the Gaussian mechanism with noise multiplier `sigma`
/// applied to a Poisson sample with rate `q`.
pub fn sampled_gaussian_rdp(q: f64, sigma: f64, alpha: f64) -> f64 {
    if q == 0.0 {
        return 0.0;
    }
    if sigma == 0.0 || alpha.is_infinite() {
        return f64::INFINITY;
    }
    if q == 1.0 {
        return alpha / (2.0 * sigma * sigma);
    }
    let log_a = if alpha.fract() == 0.0 {
        log_a_integer(q, sigma, alpha as u64)
    } else {
        log_a_fractional(q, sigma, alpha)
    };
    log_a / (alpha - 1.0)
}

/// The smallest ε over the orders for total RDP `rdp[k]` at `orders[k]` and target `delta`
/// (Balle et al. 2020, Theorem 21), and the order that achieves it.
pub fn epsilon_from_rdp(orders: &[f64], rdp: &[f64], delta: f64) -> (f64, f64) {
    let mut best = (f64::INFINITY, f64::NAN);
    for (&a, &r) in orders.iter().zip(rdp) {
        let eps = r - (delta.ln() + a.ln()) / (a - 1.0) + ((a - 1.0) / a).ln();
        if eps < best.0 {
            best = (eps, a);
        }
    }
    (best.0.max(0.0), best.1)
}
