//! Shared helpers: paths to datasets, a temporary directory per test, and a `dpsynth` command.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dpsynth::config::DataConfig;
use dpsynth::read::{read_table, Table};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled credit table.
pub fn credit() -> Table {
    read_table(
        &root().join("datasets/credit_data.csv"),
        &DataConfig::default(),
    )
    .expect("the bundled credit table reads")
}

/// A fresh temporary directory that lives as long as the returned guard.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Runs the `dpsynth` binary with `args` in `dir`.
pub fn dpsynth(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpsynth"))
        .args(args)
        .current_dir(dir)
        .env("DPSYNTH_FORCE_CPU", "1")
        .output()
        .expect("the dpsynth binary runs")
}

/// Stderr of a finished command, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the command failed cleanly (exit code 1, an `error:` line, no panic) and that its
/// message contains every needle.
pub fn assert_clean_failure(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1, stderr:\n{err}"
    );
    assert!(err.contains("error:"), "no error line:\n{err}");
    assert!(!err.contains("panicked"), "it panicked:\n{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in:\n{err}");
    }
}

/// Total-variation distance between two discrete distributions given as category counts.
pub fn total_variation(a: &[Option<String>], b: &[Option<String>]) -> f64 {
    use std::collections::HashMap;
    let mut pa: HashMap<Option<&str>, f64> = HashMap::new();
    let mut pb: HashMap<Option<&str>, f64> = HashMap::new();
    for v in a {
        *pa.entry(v.as_deref()).or_default() += 1.0 / a.len() as f64;
    }
    for v in b {
        *pb.entry(v.as_deref()).or_default() += 1.0 / b.len() as f64;
    }
    let keys: std::collections::HashSet<_> = pa.keys().chain(pb.keys()).copied().collect();
    0.5 * keys
        .iter()
        .map(|k| (pa.get(k).unwrap_or(&0.0) - pb.get(k).unwrap_or(&0.0)).abs())
        .sum::<f64>()
}

/// A column's values as category keys.
pub fn keys(table: &Table, column: &str) -> Vec<Option<String>> {
    let c = table.column(column).expect("column exists");
    (0..c.values.len()).map(|i| c.values.key(i)).collect()
}

/// The public domains of `configs/credit-dp.toml` (its `[privacy.columns.*]` tables): DP mode
/// refuses columns without them.
pub fn credit_domains() -> String {
    let text = std::fs::read_to_string(root().join("configs/credit-dp.toml")).unwrap();
    let start = text.find("[privacy.columns.").unwrap();
    let end = text.find("[output]").unwrap();
    text[start..end].to_string()
}

/// Serialises the tests that draw from burn-flex's random generator in this process: the
/// generator is one per backend and shared by every test thread, so a test that compares two
/// seeded runs bit for bit (tests/dp_training.rs) fails when another test draws in between.
pub fn serial_flex() -> std::sync::MutexGuard<'static, ()> {
    static FLEX: std::sync::Mutex<()> = std::sync::Mutex::new(());
    FLEX.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Pearson's correlation of the pairs `xy`.
pub fn pearson(xy: &[(f64, f64)]) -> f64 {
    let n = xy.len() as f64;
    let (mx, my) = (
        xy.iter().map(|p| p.0).sum::<f64>() / n,
        xy.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let cov: f64 = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let vx: f64 = xy.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let vy: f64 = xy.iter().map(|p| (p.1 - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}
