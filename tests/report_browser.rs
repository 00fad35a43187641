//! The evaluation report opens in a real browser: `dpsynth evaluate --report` on the credit
//! table, rendered by headless Chromium (installed by `.ci/run`; Debian package `chromium`),
//! whose DOM dump must hold every section and chart, and whose screenshot must show them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{dpsynth, root, stderr, tempdir};

/// The Chromium binary: `$DPSYNTH_CHROMIUM`, else the first of the usual names on `PATH`.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("DPSYNTH_CHROMIUM") {
        return path.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
        for dir in std::env::split_paths(&path) {
            if dir.join(name).is_file() {
                return dir.join(name);
            }
        }
    }
    panic!(
        "headless Chromium is needed to test the HTML report: install it (Debian: \
         `apt-get install chromium`, as .ci/run does) or point DPSYNTH_CHROMIUM at it"
    );
}

/// Runs headless Chromium on `page` with `args`, killing it after a minute; returns stdout.
fn headless(page: &Path, args: &[&str], profile: &Path) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    // Drain stdout while waiting: a DOM dump larger than the pipe buffer would block it.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium runs") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("headless chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium failed: {status:?}");
    reader
        .join()
        .expect("reader thread")
        .expect("chromium's output is text")
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let dir = tempdir();
    let d = dir.path();
    // An 80/20 split of the bundled credit table (its rows hold no quoted commas).
    let text = std::fs::read_to_string(root().join("datasets/credit_data.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let cut = rows.len() * 4 / 5;
    let write = |name: &str, part: &[&str]| {
        std::fs::write(d.join(name), format!("{header}\n{}\n", part.join("\n"))).unwrap()
    };
    write("train.csv", &rows[..cut]);
    write("holdout.csv", &rows[cut..]);
    std::fs::write(d.join("dp.toml"), crate::util::credit_domains()).unwrap();
    let out = dpsynth(
        d,
        &[
            "train",
            "train.csv",
            "--config",
            "dp.toml",
            "--epsilon",
            "5",
            "--epochs",
            "1",
            "--seed",
            "3",
            "--out",
            "m.dpsynth",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let synthetic = root().join("tests/fixtures/credit_synthetic.csv");
    let out = dpsynth(
        d,
        &[
            "evaluate",
            "--real",
            "train.csv",
            "--synthetic",
            synthetic.to_str().unwrap(),
            "--holdout",
            "holdout.csv",
            "--target",
            "Status",
            "--model",
            "m.dpsynth",
            "--report",
            "report.html",
            "--json",
            "scores.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let scores: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("scores.json")).unwrap()).unwrap();
    let overall = scores["fidelity"]["overall"].as_f64().unwrap();

    let page = d.join("report.html");
    let dom = headless(&page, &["--dump-dom"], &d.join("profile-dom"));
    for id in [
        "fidelity",
        "distributions",
        "associations",
        "utility",
        "privacy",
        "ledger",
    ] {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "the rendered page has no #{id}"
        );
    }
    // One chart per column (14 in credit) and the two association heatmaps.
    assert_eq!(dom.matches("<svg").count(), 14 + 2, "charts in the DOM");
    assert!(
        dom.contains(&format!("{overall:.3}")),
        "overall score shown"
    );
    // The model's ledger, with its seeded-noise warning, sits in the privacy section.
    let privacy = &dom[dom.find("id=\"privacy\"").unwrap()..];
    for needle in [
        "noise multiplier",
        "NOT FOR RELEASE",
        "Membership-inference AUC",
    ] {
        assert!(privacy.contains(needle), "privacy section lacks {needle:?}");
    }

    let shot = d.join("shot.png");
    let (width, height) = (1280u32, 2400u32);
    headless(
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            &format!("--window-size={width},{height}"),
        ],
        &d.join("profile-shot"),
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("a screenshot was written"),
    ));
    let mut reader = decoder.read_info().expect("the screenshot is a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (width, height));
    let channels = info.color_type.samples();
    let pixels = &pixels[..info.buffer_size()];
    // The charts paint real (blue) and synthetic (orange) bars at 80% opacity on white: both
    // colours cover a visible share of the page, which a blank or unstyled page would not.
    let on_white = |rgb: [f64; 3]| rgb.map(|c| 0.8 * c + 0.2 * 255.0);
    let share = |want: [f64; 3]| {
        pixels
            .chunks(channels)
            .filter(|p| (0..3).all(|c| (p[c] as f64 - want[c]).abs() < 20.0))
            .count() as f64
            / (width * height) as f64
    };
    let blue = share(on_white([31.0, 119.0, 180.0]));
    let orange = share(on_white([255.0, 127.0, 14.0]));
    assert!(
        blue > 0.002,
        "real-series blue covers {blue:.4} of the page"
    );
    assert!(
        orange > 0.002,
        "synthetic-series orange covers {orange:.4} of the page"
    );
}
