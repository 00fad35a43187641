//! The RDP accountant against ε values computed by Opacus 1.6.0 (`RDPAccountant`, history
//! `[(sigma, q, steps)]`, `get_privacy_spent(delta)`, `DEFAULT_ALPHAS`): every row of
//! `../shared/dp_reference/epsilon_grid.csv` to 1e-6 relative.

use dpsynth::dp::rdp::{epsilon_from_rdp, sampled_gaussian_rdp, DEFAULT_ORDERS};

#[test]
fn reproduces_opacus_epsilon_grid() {
    let path = crate::util::root().join("../shared/dp_reference/epsilon_grid.csv");
    let text = std::fs::read_to_string(&path).expect("../shared/dp_reference/epsilon_grid.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (cq, cs, cn, cd, ce, ca) = (
        col("q"),
        col("sigma"),
        col("steps"),
        col("delta"),
        col("eps_rdp_opacus"),
        col("best_alpha_opacus"),
    );
    let mut checked = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let num = |i: usize| f[i].parse::<f64>().unwrap();
        let (q, sigma, steps, delta) = (num(cq), num(cs), num(cn), num(cd));
        let rdp: Vec<f64> = DEFAULT_ORDERS
            .iter()
            .map(|&a| steps * sampled_gaussian_rdp(q, sigma, a))
            .collect();
        let (eps, alpha) = epsilon_from_rdp(&DEFAULT_ORDERS, &rdp, delta);
        let want = num(ce);
        assert!(
            ((eps - want) / want).abs() < 1e-6,
            "q={q} sigma={sigma} steps={steps} delta={delta}: {eps} vs opacus {want}"
        );
        assert!(
            (alpha - num(ca)).abs() < 1e-9,
            "best order {alpha} vs {}",
            num(ca)
        );
        checked += 1;
    }
    assert_eq!(checked, 240);
}
