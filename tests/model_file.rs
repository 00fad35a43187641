//! The released file: round trip, no critic inside, and clear errors for damaged files.

use std::path::PathBuf;
use std::sync::OnceLock;

use dpsynth::export::{ModelFile, FORMAT_VERSION};

use crate::util::{assert_clean_failure, dpsynth, root, tempdir};

/// A small model trained once through the CLI and shared by the tests of this binary.
pub fn tiny_model() -> PathBuf {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = tempdir();
            let out = dir.path().join("credit.dpsynth");
            let data = root().join("datasets/credit_data.csv");
            let result = dpsynth(
                dir.path(),
                &[
                    "train",
                    data.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                    "--epochs",
                    "2",
                    "--seed",
                    "3",
                    // Plain CTGAN: a two-epoch generator far from its mixtures and shares,
                    // which the calibration tests start from.
                    "--set",
                    "train.pair_weight=0",
                    "--quiet",
                ],
            );
            assert!(result.status.success(), "{}", crate::util::stderr(&result));
            (dir, out)
        })
        .1
        .clone()
}

#[test]
fn holds_only_generator_tensors_and_round_trips() {
    let _serial = crate::util::serial_flex();
    let path = tiny_model();
    let file = ModelFile::read(&path).unwrap();
    assert!(!file.tensors.is_empty());
    for t in &file.tensors {
        assert!(
            t.name.starts_with("generator."),
            "unexpected tensor {}",
            t.name
        );
        assert!(!t.name.contains("discriminator") && !t.name.contains("critic"));
    }
    let bytes = file.to_bytes().unwrap();
    let again = ModelFile::from_bytes(&bytes, &path).unwrap();
    assert_eq!(again, file);
    // The weights are exactly the generator's: nothing else rides along.
    let config = dpsynth::train::generator_config(&file.header.config, &file.header.transformer);
    let generator = config.init(&burn::tensor::Device::flex());
    let expected: usize = dpsynth::model::generator_tensors(&generator)
        .iter()
        .map(|t| t.data.len())
        .sum();
    let stored: usize = file.tensors.iter().map(|t| t.data.len()).sum();
    assert_eq!(stored, expected);
    assert!(
        bytes.len() - stored * 4 < 200_000,
        "header unexpectedly large"
    );
}

#[test]
fn damaged_files_are_refused_by_name() {
    let path = tiny_model();
    let bytes = std::fs::read(&path).unwrap();
    let dir = tempdir();
    let write = |name: &str, data: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    let truncated = write("truncated.dpsynth", &bytes[..bytes.len() / 2]);
    let mut flipped = bytes.clone();
    let at = bytes.len() - 100;
    flipped[at] ^= 0x55;
    let corrupted = write("corrupted.dpsynth", &flipped);
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let newer = write("newer.dpsynth", &newer);
    let garbage = write("garbage.dpsynth", b"name,age\nx,1\n");

    for (p, needle) in [
        (&truncated, "truncated"),
        (&corrupted, "checksum"),
        (&newer, "newer"),
        (&garbage, "not a dpsynth model file"),
    ] {
        let err = ModelFile::read(p).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
        assert!(
            err.contains(p.file_name().unwrap().to_str().unwrap()),
            "{err}"
        );
        let out = dpsynth(
            dir.path(),
            &["sample", p.to_str().unwrap(), "-n", "5", "-o", "x.csv"],
        );
        assert_clean_failure(&out, &[needle]);
        assert!(!dir.path().join("x.csv").exists());
    }
}
