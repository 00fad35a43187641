//! The HTML report: one self-contained page (inline SVG from plotters, no network) with the
//! scores, real-vs-synthetic distributions per column, the two association heatmaps side by
//! side, the utility table and the privacy section.

use std::collections::HashMap;
use std::fmt::Write;

use plotters::prelude::*;

use super::fidelity::{association_matrix, AssociationMatrix};
use super::{shape_of, EvaluationReport, Shape};
use crate::read::{Table, Values};

const REAL: RGBColor = RGBColor(31, 119, 180);
const SYNTHETIC: RGBColor = RGBColor(255, 127, 14);

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Side-by-side bars (categorical: the 12 most frequent real values) or overlaid histograms
/// (numerical: 24 bins over the real range) of one column.
fn column_chart(name: &str, real: &Values, synthetic: &Values) -> String {
    let (labels, real_share, synth_share): (Vec<String>, Vec<f64>, Vec<f64>) = match shape_of(real)
    {
        Shape::Categorical => {
            let freq = |v: &Values| {
                let mut m: HashMap<String, f64> = HashMap::new();
                let n = v.non_null_count().max(1) as f64;
                for i in 0..v.len() {
                    if let Some(k) = v.key(i) {
                        *m.entry(k).or_default() += 1.0 / n;
                    }
                }
                m
            };
            let (fr, fs) = (freq(real), freq(synthetic));
            let mut keys: Vec<(&String, &f64)> = fr.iter().collect();
            keys.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
            let keys: Vec<String> = keys.into_iter().take(12).map(|(k, _)| k.clone()).collect();
            let r = keys.iter().map(|k| fr[k]).collect();
            let s = keys
                .iter()
                .map(|k| fs.get(k).copied().unwrap_or(0.0))
                .collect();
            (keys, r, s)
        }
        Shape::Numerical => {
            let xs = |v: &Values| (0..v.len()).filter_map(|i| v.number(i)).collect::<Vec<_>>();
            let (xr, xsyn) = (xs(real), xs(synthetic));
            let lo = xr.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let bins = 24;
            let width = if hi > lo {
                (hi - lo) / bins as f64
            } else {
                1.0
            };
            let hist = |x: &[f64]| {
                let mut h = vec![0.0; bins];
                for v in x {
                    let b = (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
                    h[b] += 1.0 / x.len().max(1) as f64;
                }
                h
            };
            let labels = (0..bins)
                .map(|b| format!("{:.3}", lo + (b as f64 + 0.5) * width))
                .collect();
            (labels, hist(&xr), hist(&xsyn))
        }
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (420, 260)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let top = real_share
            .iter()
            .chain(&synth_share)
            .copied()
            .fold(0.0, f64::max)
            .max(1e-9)
            * 1.1;
        let n = labels.len().max(1);
        let chart = ChartBuilder::on(&root)
            .caption(name, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..n as f64, 0f64..top);
        if let Ok(mut chart) = chart {
            let labels_for_axis = labels.clone();
            let _ = chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n.min(6))
                .x_label_formatter(&move |x| {
                    let i = x.floor() as usize;
                    labels_for_axis
                        .get(i)
                        .map(|l| l.chars().take(10).collect())
                        .unwrap_or_default()
                })
                .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
                .draw();
            let bars = |shares: &[f64], shift: f64, color: RGBColor| {
                shares
                    .iter()
                    .enumerate()
                    .map(move |(i, &h)| {
                        let x0 = i as f64 + shift;
                        Rectangle::new([(x0, 0.0), (x0 + 0.42, h)], color.mix(0.8).filled())
                    })
                    .collect::<Vec<_>>()
            };
            let _ = chart.draw_series(bars(&real_share, 0.08, REAL));
            let _ = chart.draw_series(bars(&synth_share, 0.5, SYNTHETIC));
        }
        let _ = root.present();
    }
    svg
}

/// A heatmap of an association matrix (|Pearson r| or Cramér's V, 0 white to 1 dark).
fn heatmap(title: &str, m: &AssociationMatrix) -> String {
    let k = m.names.len();
    let cell = (360 / k.max(1)).clamp(8, 40) as i32;
    let size = (cell * k as i32 + 140, cell * k as i32 + 60);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (size.0 as u32, size.1 as u32)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let _ = root.draw(&Text::new(title.to_string(), (10, 8), ("sans-serif", 16)));
        for (i, name) in m.names.iter().enumerate() {
            let y = 40 + cell * i as i32;
            let short: String = name.chars().take(16).collect();
            let _ = root.draw(&Text::new(short, (4, y + cell / 3), ("sans-serif", 11)));
            for j in 0..k {
                let v = m.values[i][j].unwrap_or(0.0).clamp(0.0, 1.0);
                let shade = (255.0 * (1.0 - v)) as u8;
                let x = 130 + cell * j as i32;
                let _ = root.draw(&Rectangle::new(
                    [(x, y), (x + cell - 1, y + cell - 1)],
                    RGBColor(shade, shade, 255).filled(),
                ));
            }
        }
        let _ = root.present();
    }
    svg
}

fn fmt(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{v:.3}"))
}

/// A model's privacy section as shown in the report: its one-line summary and the ledger's
/// labelled lines (empty for a non-DP model).
pub type ModelPrivacy = (String, Vec<(&'static str, String)>);

/// Renders the whole report as one HTML page; `ledger` is the privacy of the model the
/// synthetic rows came from, when known.
pub fn render(
    report: &EvaluationReport,
    real: &Table,
    synthetic: &Table,
    ledger: Option<&ModelPrivacy>,
) -> String {
    let f = &report.fidelity;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>dpsynth evaluation</title><style>\
body{{font-family:sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse;margin:8px 0}}\
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}th{{background:#f4f4f4}}\
.grid{{display:flex;flex-wrap:wrap;gap:8px}}.score{{font-size:28px;font-weight:bold}}\
.legend span{{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}}</style></head><body>\
<h1>dpsynth evaluation</h1>\
<p id=\"not-private\" style=\"border:2px solid #b00;padding:8px;background:#fff4f4\"><b>Private: do not share this report.</b> \
It is computed from the real rows (their categories, ranges, correlations and distances) and is not covered \
by any differential-privacy guarantee, even when the model it evaluates is. Only the generator file and its ledger may be shared.</p>\
<p>{} real rows, {} synthetic rows{}.</p>",
        report.rows.real,
        report.rows.synthetic,
        report.rows.holdout.map_or(String::new(), |n| format!(", {n} holdout rows"))
    );
    let _ = write!(
        h,
        "<section id=\"fidelity\"><h2>Fidelity</h2><p>SDMetrics' QualityReport definitions.</p>\
<table><tr><th>overall</th><th>column shapes</th><th>column pair trends</th></tr>\
<tr><td class=\"score\">{:.3}</td><td class=\"score\">{:.3}</td><td class=\"score\">{:.3}</td></tr></table>\
<table><tr><th>column</th><th>metric</th><th>score</th><th>missing (real)</th><th>missing (synthetic)</th></tr>",
        f.overall, f.column_shapes, f.column_pair_trends
    );
    for (s, m) in f.shapes.iter().zip(&f.missing) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.1}%</td><td>{:.1}%</td></tr>",
            escape(&s.column),
            s.metric,
            s.score,
            100.0 * m.real,
            100.0 * m.synthetic
        );
    }
    h.push_str("</table></section>");
    let _ = write!(
        h,
        "<section id=\"distributions\"><h2>Distributions</h2><p class=\"legend\"><span style=\"background:rgb(31,119,180)\"></span>real<span style=\"background:rgb(255,127,14)\"></span>synthetic</p><div class=\"grid\">"
    );
    for (r, s) in real.columns.iter().zip(&synthetic.columns) {
        let _ = write!(
            h,
            "<div class=\"chart\">{}</div>",
            column_chart(&r.name, &r.values, &s.values)
        );
    }
    h.push_str("</div></section>");
    let _ = write!(
        h,
        "<section id=\"associations\"><h2>Associations</h2><p>|Pearson r| between numerical columns, Cramér's V otherwise (numerical columns binned).</p><div class=\"grid\"><div class=\"chart\">{}</div><div class=\"chart\">{}</div></div></section>",
        heatmap("real", &association_matrix(real)),
        heatmap("synthetic", &association_matrix(synthetic))
    );
    if let Some(u) = &report.utility {
        let _ = write!(
            h,
            "<section id=\"utility\"><h2>Utility</h2><p>Target <b>{}</b>; {} tested on the holdout.</p>\
<table><tr><th>trained on</th><th>accuracy</th><th>macro-F1</th><th>ROC-AUC</th><th>R²</th></tr>\
<tr><td>synthetic</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\
<tr><td>real</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table></section>",
            escape(&u.target),
            u.model,
            fmt(u.synthetic.accuracy),
            fmt(u.synthetic.macro_f1),
            fmt(u.synthetic.roc_auc),
            fmt(u.synthetic.r2),
            fmt(u.real.accuracy),
            fmt(u.real.macro_f1),
            fmt(u.real.roc_auc),
            fmt(u.real.r2)
        );
    }
    if report.privacy.is_some() || ledger.is_some() {
        h.push_str("<section id=\"privacy\"><h2>Privacy</h2>");
        if let Some(p) = &report.privacy {
            let _ = write!(
                h,
                "<table><tr><th></th><th>to training rows</th><th>to holdout rows</th></tr>\
<tr><td>distance to closest record, median</td><td>{:.3}</td><td>{:.3}</td></tr>\
<tr><td>distance to closest record, 5th percentile</td><td>{:.3}</td><td>{:.3}</td></tr></table>\
<p>Synthetic rows closer to training than to holdout: {:.1}% (50% expected). Exact copies of training rows: {:.2}%. Membership-inference AUC: {:.3} (0.5 = chance). {} rows per side.</p>",
                p.dcr_train_median,
                p.dcr_holdout_median,
                p.dcr_train_p5,
                p.dcr_holdout_p5,
                100.0 * p.closer_to_train_share,
                100.0 * p.exact_copies,
                p.membership_auc,
                p.rows_compared
            );
        }
        if let Some((summary, details)) = ledger {
            let _ = write!(
                h,
                "<div id=\"ledger\"><h3>The model's privacy ledger</h3><p>{}</p>",
                escape(summary)
            );
            if !details.is_empty() {
                h.push_str("<table class=\"ledger\">");
                for (label, line) in details {
                    let _ = write!(
                        h,
                        "<tr><th>{}</th><td style=\"text-align:left\">{}</td></tr>",
                        escape(label),
                        escape(line)
                    );
                }
                h.push_str("</table>");
            }
            h.push_str("</div>");
        }
        h.push_str("</section>");
    }
    h.push_str("</body></html>\n");
    h
}
