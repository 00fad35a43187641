//! `dpsynth audit`: the one-run lower bound stays under the claim on the real mechanism and
//! rises far above it when the noise or the clipping is switched off, so the audit can fail.

use burn::tensor::Device;
use dpsynth::config::RunConfig;
use dpsynth::dp::audit::AuditSwitches;
use dpsynth::run::audit::{audit, AuditReport, AuditSettings};
use dpsynth::train::Progress;

use crate::util::{assert_clean_failure, credit, credit_domains, dpsynth, root};

const SMALL: &str = r#"
[model]
embedding_dim = 16
generator_dims = [32]
discriminator_dims = [32]

[train]
epochs = 2
batch_size = 500
seed = 11

[privacy]
epsilon = 1.0
delta = 1e-6
"#;

fn audited(switches: AuditSwitches, row_canaries: usize) -> AuditReport {
    let _serial = crate::util::serial_flex();
    let config = RunConfig::from_toml(&format!("{SMALL}\n{}", credit_domains()), "test").unwrap();
    let settings = AuditSettings {
        gradient_canaries: 2000,
        row_canaries,
        samples: 2000,
        switches,
        ..Default::default()
    };
    audit(
        credit(),
        &config,
        &settings,
        &Device::flex(),
        &Progress::new(2, true),
    )
    .unwrap()
}

#[test]
fn the_real_mechanism_passes_and_a_broken_one_fails() {
    let real = audited(AuditSwitches::REAL, 200);
    let white = real.white_box.as_ref().unwrap();
    assert_eq!(white.canaries, 2000);
    assert!(
        white.epsilon_lower_bound <= 1.0,
        "the white-box bound {} passes the claimed epsilon 1",
        white.epsilon_lower_bound
    );
    let black = real.black_box.as_ref().unwrap();
    assert!(black.canaries > 100, "{black:?}");
    assert!(black.epsilon_lower_bound <= 1.0, "{black:?}");
    assert!(real.verdict().starts_with("pass"), "{}", real.verdict());

    for switches in [
        AuditSwitches {
            noise: false,
            clipping: true,
        },
        AuditSwitches {
            noise: true,
            clipping: false,
        },
    ] {
        let broken = audited(switches, 0);
        let bound = broken.white_box.as_ref().unwrap().epsilon_lower_bound;
        // 2000 canaries cap what one run can show near 5; 3x the claim is "far above".
        assert!(bound > 3.0, "{switches:?}: the audit shows only {bound}");
        assert!(broken.verdict().starts_with("FAIL"), "{}", broken.verdict());
    }
}

#[test]
fn broken_switches_without_dp_are_refused() {
    let out = dpsynth(
        &root(),
        &[
            "audit",
            "datasets/credit_data.csv",
            "--no-noise",
            "--epochs",
            "1",
        ],
    );
    assert_clean_failure(&out, &["--no-noise", "set an epsilon"]);
}
