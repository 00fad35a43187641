//! The privacy accountant: one RDP ledger for the whole run (preprocessing histograms and every
//! discriminator step), noise calibration to a target ε before any row is read, and the check
//! that stops training before the target is passed.
//!
//! Budget split, decided before the data is read:
//! - δ: when preprocessing may discover categories, a tenth of δ is reserved for the
//!   probability that thresholding releases a category held by one row; the rest is the δ of
//!   the RDP -> (ε, δ) conversion.
//! - ε: the joint preprocessing histograms are one Gaussian mechanism whose noise multiplier is
//!   chosen so that, alone, it spends `preprocess_share · ε`; the DP-SGD noise multiplier is
//!   then the smallest that keeps the composition (preprocessing + all steps) at or under ε.

use serde::{Deserialize, Serialize};

use super::rdp::{epsilon_from_rdp, sampled_gaussian_rdp, DEFAULT_ORDERS};
use crate::error::{Error, Result};

/// The orders a run's ledger minimises over: Opacus' defaults plus the large orders that
/// Google's accountant adds (and a few between), which small budgets need (a Gaussian
/// mechanism alone cannot get below ε ≈ 0.14 at δ = 1e-6 with orders up to 63).
pub fn run_orders() -> Vec<f64> {
    let mut orders = DEFAULT_ORDERS.to_vec();
    orders.extend([
        80.0, 100.0, 128.0, 160.0, 200.0, 256.0, 320.0, 400.0, 512.0, 640.0, 800.0, 1024.0,
    ]);
    orders
}

/// Generator steps in one DP epoch: `round(rows / batch)`, at least 1. With Poisson sampling
/// an epoch is the number of steps whose expected rows add up to the table's.
pub fn steps_per_epoch(rows: usize, batch: usize) -> u64 {
    ((rows as f64 / batch.max(1) as f64).round() as u64).max(1)
}

/// Epochs a run takes when its critic steps are capped at `max_steps`: `epochs`, or where
/// `epochs` epochs of `critic_steps_per_epoch` would pass the cap, the most whole epochs
/// within it (at least one). The plan, the training loops and `dpsynth privacy` all count
/// epochs with this, so the noise is calibrated for the steps that are taken.
pub fn epochs_within(
    epochs: usize,
    critic_steps_per_epoch: u64,
    max_steps: Option<usize>,
) -> usize {
    match max_steps {
        Some(cap) if epochs as u64 * critic_steps_per_epoch > cap as u64 => {
            ((cap as u64 / critic_steps_per_epoch.max(1)) as usize).clamp(1, epochs)
        }
        _ => epochs,
    }
}

/// Share of δ reserved for thresholded category discovery when discovery may run.
pub const THRESHOLD_DELTA_SHARE: f64 = 0.1;

/// What the user asks for: the run's shape and either a target ε or fixed noise.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    /// Target ε (calibrates the noise); `None` with a fixed `noise_multiplier`.
    pub epsilon: Option<f64>,
    /// Target δ.
    pub delta: f64,
    /// Rows in the private table (public; sets the sampling rate).
    pub rows: usize,
    /// Expected batch size B (q = B / rows).
    pub batch: usize,
    /// Epochs.
    pub epochs: usize,
    /// Discriminator steps per generator step.
    pub discriminator_steps: usize,
    /// Share of ε for preprocessing (0: no noisy histograms; all metadata public). With a
    /// fixed noise multiplier and no target, the histograms get the noise that spends
    /// `share / (1 − share)` of what DP-SGD spends, so they take about this share of the total.
    pub preprocess_share: f64,
    /// Whether preprocessing may discover categories or bounds (thresholding then reserves a
    /// tenth of δ); `false` when every column's domain is public.
    pub discovery: bool,
    /// Fixed DP-SGD noise multiplier instead of calibrating.
    pub noise_multiplier: Option<f64>,
    /// Fixed preprocessing noise multiplier instead of deriving it from the share.
    pub histogram_noise_multiplier: Option<f64>,
}

/// The resolved plan: every number the run's privacy depends on, fixed before training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivacyPlan {
    /// Target ε, when one was given.
    pub target_epsilon: Option<f64>,
    /// Target δ (conversion plus thresholding).
    pub target_delta: f64,
    /// δ of the RDP -> (ε, δ) conversion.
    pub delta_conversion: f64,
    /// δ reserved for thresholded category discovery (0 when preprocessing is off).
    pub delta_threshold: f64,
    /// DP-SGD noise multiplier σ (noise std = σ · C).
    pub noise_multiplier: f64,
    /// Poisson sampling rate q = B / rows.
    pub sample_rate: f64,
    /// Expected batch size B.
    pub batch: usize,
    /// Rows (public).
    pub rows: usize,
    /// Planned discriminator steps: epochs x round(rows / batch) x discriminator steps.
    pub planned_steps: u64,
    /// Noise multiplier of the joint preprocessing histograms (std / L2 sensitivity), if any.
    pub histogram_noise_multiplier: Option<f64>,
}

/// One RDP ledger: preprocessing plus `steps` sampled-Gaussian steps, at fixed orders.
#[derive(Debug, Clone)]
pub struct Accountant {
    plan: PrivacyPlan,
    orders: Vec<f64>,
    preprocess_rdp: Vec<f64>,
    step_rdp: Vec<f64>,
}

/// ε of a ledger, split by mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spent {
    /// ε of everything composed.
    pub epsilon: f64,
    /// The RDP order that gave it.
    pub order: f64,
    /// ε of the DP-SGD steps alone.
    pub epsilon_sgd: f64,
    /// ε of preprocessing alone (0 without it).
    pub epsilon_preprocess: f64,
}

fn gaussian_rdp(noise_multiplier: f64, orders: &[f64]) -> Vec<f64> {
    orders
        .iter()
        .map(|a| a / (2.0 * noise_multiplier * noise_multiplier))
        .collect()
}

fn epsilon_of(orders: &[f64], rdp: &[f64], delta: f64) -> f64 {
    epsilon_from_rdp(orders, rdp, delta).0
}

/// The smallest `x` in `(0, hi]` with `ok(x)`, for `ok` monotone (false then true), to
/// relative precision 1e-9; `hi` doubles until it is ok.
fn smallest_ok(mut ok: impl FnMut(f64) -> bool, what: &str) -> Result<f64> {
    let mut hi = 1.0;
    while !ok(hi) {
        hi *= 2.0;
        if hi > 1e6 {
            return Err(Error::Privacy(format!(
                "no {what} up to 1e6 reaches the target; raise epsilon or lower the number of steps"
            )));
        }
    }
    let mut lo = 0.0;
    while hi - lo > 1e-9 * hi {
        let mid = 0.5 * (lo + hi);
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

impl PrivacyPlan {
    /// Resolves a request into a plan, calibrating noise where a target ε is given.
    pub fn new(req: &PlanRequest) -> Result<PrivacyPlan> {
        if req.rows == 0 {
            return Err(Error::Privacy("the table has no rows".into()));
        }
        if let Some(eps) = req.epsilon {
            if !(eps.is_finite() && eps > 0.0) {
                return Err(Error::Privacy(format!(
                    "epsilon = {eps}: it must be a positive number"
                )));
            }
        }
        if !(req.delta > 0.0 && req.delta < 1.0 / req.rows as f64) {
            return Err(Error::Privacy(format!(
                "delta = {} must be positive and below 1 / rows = {:.3e} (a larger delta allows releasing a whole row); use e.g. delta = {:.0e}",
                req.delta,
                1.0 / req.rows as f64,
                10f64.powf((1.0 / req.rows as f64).log10().floor() - 1.0)
            )));
        }
        if req.batch == 0 || req.batch > req.rows {
            return Err(Error::Privacy(format!(
                "batch size {} must be between 1 and the number of rows ({})",
                req.batch, req.rows
            )));
        }
        if req.epsilon.is_none() && req.noise_multiplier.is_none() {
            return Err(Error::Privacy(
                "give a target epsilon or a fixed noise multiplier".into(),
            ));
        }
        if !(0.0..1.0).contains(&req.preprocess_share) {
            return Err(Error::Privacy(format!(
                "preprocess_share = {}: it must be at least 0 and below 1",
                req.preprocess_share
            )));
        }
        let preprocess = req.preprocess_share > 0.0 || req.histogram_noise_multiplier.is_some();
        let delta_threshold = if preprocess && req.discovery {
            req.delta * THRESHOLD_DELTA_SHARE
        } else {
            0.0
        };
        let delta_conversion = req.delta - delta_threshold;
        let orders = run_orders();
        let planned_steps = req.epochs as u64
            * steps_per_epoch(req.rows, req.batch)
            * req.discriminator_steps as u64;
        let sample_rate = req.batch as f64 / req.rows as f64;
        // The ε the histograms alone may spend: their share of the target, or (fixed σ, no
        // target) share / (1 − share) of what DP-SGD spends.
        let histogram_target = |eps: Option<f64>| match eps {
            Some(eps) => req.preprocess_share * eps,
            None => {
                let sigma = req.noise_multiplier.expect("checked above");
                let sgd: Vec<f64> = orders
                    .iter()
                    .map(|&a| planned_steps as f64 * sampled_gaussian_rdp(sample_rate, sigma, a))
                    .collect();
                req.preprocess_share / (1.0 - req.preprocess_share)
                    * epsilon_of(&orders, &sgd, delta_conversion)
            }
        };
        let histogram_noise_multiplier = match req.histogram_noise_multiplier {
            Some(z) => Some(z),
            None if !preprocess => None,
            None => {
                let target = histogram_target(req.epsilon);
                Some(smallest_ok(
                    |z| epsilon_of(&orders, &gaussian_rdp(z, &orders), delta_conversion) <= target,
                    "histogram noise multiplier",
                )?)
            }
        };
        let preprocess_rdp = histogram_noise_multiplier
            .map(|z| gaussian_rdp(z, &orders))
            .unwrap_or_else(|| vec![0.0; orders.len()]);
        let noise_multiplier = match (req.noise_multiplier, req.epsilon) {
            (Some(s), _) => s,
            (None, Some(eps)) => {
                let ep = epsilon_of(&orders, &preprocess_rdp, delta_conversion);
                if ep >= eps {
                    return Err(Error::Privacy(format!(
                        "preprocessing alone spends epsilon {ep:.4} of the target {eps}; lower privacy.preprocess_share"
                    )));
                }
                smallest_ok(
                    |sigma| {
                        let rdp: Vec<f64> = orders
                            .iter()
                            .zip(&preprocess_rdp)
                            .map(|(&a, &p)| {
                                p + planned_steps as f64
                                    * sampled_gaussian_rdp(sample_rate, sigma, a)
                            })
                            .collect();
                        epsilon_of(&orders, &rdp, delta_conversion) <= eps
                    },
                    "noise multiplier",
                )?
            }
            (None, None) => unreachable!("checked above"),
        };
        let plan = PrivacyPlan {
            target_epsilon: req.epsilon,
            target_delta: req.delta,
            delta_conversion,
            delta_threshold,
            noise_multiplier,
            sample_rate,
            batch: req.batch,
            rows: req.rows,
            planned_steps,
            histogram_noise_multiplier,
        };
        if let Some(target) = req.epsilon {
            let spent = Accountant::new(plan.clone()).spent(planned_steps);
            if spent.epsilon > target {
                return Err(Error::Privacy(format!(
                    "the fixed noise spends epsilon {:.4} over {} steps, more than the target {target}; raise the noise multiplier or train fewer epochs",
                    spent.epsilon, planned_steps
                )));
            }
        }
        Ok(plan)
    }
}

impl Accountant {
    /// A ledger for `plan` with preprocessing recorded (if the plan has it) and no steps yet.
    pub fn new(plan: PrivacyPlan) -> Accountant {
        let orders = run_orders();
        let preprocess_rdp = plan
            .histogram_noise_multiplier
            .map(|z| gaussian_rdp(z, &orders))
            .unwrap_or_else(|| vec![0.0; orders.len()]);
        let step_rdp = orders
            .iter()
            .map(|&a| sampled_gaussian_rdp(plan.sample_rate, plan.noise_multiplier, a))
            .collect();
        Accountant {
            plan,
            orders,
            preprocess_rdp,
            step_rdp,
        }
    }

    /// The plan this ledger follows.
    pub fn plan(&self) -> &PrivacyPlan {
        &self.plan
    }

    /// The RDP orders used.
    pub fn orders(&self) -> &[f64] {
        &self.orders
    }

    /// ε after preprocessing and `steps` discriminator steps.
    pub fn spent(&self, steps: u64) -> Spent {
        let n = steps as f64;
        let total: Vec<f64> = self
            .preprocess_rdp
            .iter()
            .zip(&self.step_rdp)
            .map(|(p, s)| p + n * s)
            .collect();
        let sgd: Vec<f64> = self.step_rdp.iter().map(|s| n * s).collect();
        let delta = self.plan.delta_conversion;
        let (epsilon, order) = epsilon_from_rdp(&self.orders, &total, delta);
        let epsilon_preprocess = if self.plan.histogram_noise_multiplier.is_some() {
            epsilon_of(&self.orders, &self.preprocess_rdp, delta)
        } else {
            0.0
        };
        Spent {
            epsilon,
            order,
            epsilon_sgd: if steps == 0 {
                0.0
            } else {
                epsilon_of(&self.orders, &sgd, delta)
            },
            epsilon_preprocess,
        }
    }

    /// Whether `steps` steps stay within the target ε (always true without a target).
    pub fn allows(&self, steps: u64) -> bool {
        match self.plan.target_epsilon {
            None => true,
            Some(target) => self.spent(steps).epsilon <= target,
        }
    }
}
