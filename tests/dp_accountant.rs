//! The run's noise calibration against the noise multipliers Opacus 1.6.0 picked
//! (`get_noise_multiplier(..., accountant='rdp', epsilon_tolerance=0.01)`,
//! `../shared/dp_reference/sigma_for_target.csv`), and the plan's checks of bad input.

use dpsynth::dp::rdp::{epsilon_from_rdp, sampled_gaussian_rdp, DEFAULT_ORDERS};
use dpsynth::dp::{Accountant, PlanRequest, PrivacyPlan};

fn request(epsilon: f64, q_rows: usize, batch: usize, epochs: usize, delta: f64) -> PlanRequest {
    PlanRequest {
        epsilon: Some(epsilon),
        delta,
        rows: q_rows,
        batch,
        epochs,
        discriminator_steps: 1,
        preprocess_share: 0.0,
        noise_multiplier: None,
        histogram_noise_multiplier: None,
        discovery: false,
    }
}

fn opacus_epsilon(q: f64, sigma: f64, steps: f64, delta: f64) -> f64 {
    let rdp: Vec<f64> = DEFAULT_ORDERS
        .iter()
        .map(|&a| steps * sampled_gaussian_rdp(q, sigma, a))
        .collect();
    epsilon_from_rdp(&DEFAULT_ORDERS, &rdp, delta).0
}

#[test]
fn calibration_agrees_with_opacus_sigma_for_target() {
    let path = crate::util::root().join("../shared/dp_reference/sigma_for_target.csv");
    let text = std::fs::read_to_string(&path).expect("sigma_for_target.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut checked = 0;
    for line in lines {
        let f: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        let (target, q, steps, delta) = (
            f[col("target_eps")],
            f[col("q")],
            f[col("steps")],
            f[col("delta")],
        );
        let (sigma_opacus, eps_opacus, tolerance) = (
            f[col("sigma_rdp_opacus")],
            f[col("eps_rdp_at_sigma_rdp")],
            f[col("epsilon_tolerance")],
        );
        // q = 0.01 as 500 of 50 000 rows: 100 steps per epoch.
        let plan = PrivacyPlan::new(&request(
            target,
            50_000,
            500,
            (steps / 100.0) as usize,
            delta,
        ))
        .unwrap();
        assert_eq!(plan.planned_steps, steps as u64);
        assert!((plan.sample_rate - q).abs() < 1e-12);
        // Our accountant gives Opacus' epsilon at Opacus' sigma (same orders) ...
        let ours_at_theirs = opacus_epsilon(q, sigma_opacus, steps, delta);
        assert!(
            ((ours_at_theirs - eps_opacus) / eps_opacus).abs() < 1e-6,
            "eps at sigma {sigma_opacus}: {ours_at_theirs} vs opacus {eps_opacus}"
        );
        // ... and our bisection finds a sigma that meets the target exactly, never above
        // Opacus' (which stops up to `tolerance` below the target), within its precision.
        let spent = Accountant::new(plan.clone())
            .spent(plan.planned_steps)
            .epsilon;
        assert!(spent <= target * (1.0 + 1e-9), "{spent} > target {target}");
        assert!(
            spent >= target - 1e-4,
            "calibrated too loosely: {spent} vs {target}"
        );
        assert!(
            plan.noise_multiplier <= sigma_opacus + 1e-9,
            "sigma {} above opacus {sigma_opacus}",
            plan.noise_multiplier
        );
        let eps_at_ours = opacus_epsilon(q, plan.noise_multiplier, steps, delta);
        assert!(
            eps_at_ours <= target + 1e-6 && eps_at_ours >= target - tolerance - 1e-6,
            "opacus' orders at our sigma: {eps_at_ours}, target {target} tolerance {tolerance}"
        );
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn preprocessing_and_sgd_compose_to_the_target() {
    let mut req = request(3.0, 32_561, 500, 300, 1e-6);
    req.preprocess_share = 0.1;
    let plan = PrivacyPlan::new(&req).unwrap();
    let spent = Accountant::new(plan.clone()).spent(plan.planned_steps);
    assert!((spent.epsilon - 3.0).abs() < 1e-6, "{spent:?}");
    assert!((spent.epsilon_preprocess - 0.3).abs() < 1e-6, "{spent:?}");
    // Composition costs less than the sum of the parts, more than either part.
    assert!(spent.epsilon < spent.epsilon_sgd + spent.epsilon_preprocess);
    assert!(spent.epsilon > spent.epsilon_sgd);
    assert_eq!(plan.planned_steps, 300 * 65); // round(32,561 / 500) = 65
    assert!((plan.delta_conversion + plan.delta_threshold - 1e-6).abs() < 1e-18);
    // One step beyond the plan passes the target.
    assert!(!Accountant::new(plan.clone()).allows(plan.planned_steps + 1));
}

#[test]
fn bad_privacy_requests_are_refused_with_reasons() {
    let err = |req: PlanRequest| PrivacyPlan::new(&req).unwrap_err().to_string();
    assert!(err(request(0.0, 1000, 100, 1, 1e-6)).contains("epsilon"));
    assert!(err(request(-1.0, 1000, 100, 1, 1e-6)).contains("epsilon"));
    let msg = err(request(1.0, 1000, 100, 1, 1e-3));
    assert!(msg.contains("delta") && msg.contains("1 / rows"), "{msg}");
    assert!(err(request(1.0, 1000, 2000, 1, 1e-6)).contains("batch"));
}

/// `train.max_steps` leaves the most whole epochs within the cap, never fewer than one and
/// never more than asked.
#[test]
fn a_step_cap_leaves_the_most_whole_epochs_within_it() {
    use dpsynth::dp::accountant::epochs_within;
    // Covertype in configs/dp-discover.toml: 40 steps per epoch, 20 epochs, cap 500.
    assert_eq!(epochs_within(20, 40, Some(500)), 12);
    assert_eq!(epochs_within(20, 40, Some(800)), 20);
    assert_eq!(epochs_within(20, 40, Some(799)), 19);
    assert_eq!(epochs_within(20, 40, None), 20);
    // One epoch longer than the cap still trains one epoch.
    assert_eq!(epochs_within(20, 1_000, Some(500)), 1);
    assert_eq!(epochs_within(3, 10, Some(1_000)), 3);
}
