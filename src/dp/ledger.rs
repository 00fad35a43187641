//! The privacy ledger written into every DP model file: what was promised, what was spent,
//! by which mechanism, and what was taken as public.

use serde::{Deserialize, Serialize};

use super::accountant::{Accountant, PrivacyPlan};
use super::preprocess::PreprocessLedger;
use super::selection::TuningCharge;
use crate::config::PairSelection;

/// What the guarantee assumes nobody outside the training machine knows: the DP stream and
/// everything drawn from it, and the training checkpoints that hold its position.
pub const SECRETS: &str = "the DP stream (ChaCha20 seeded by the operating system, or --seed, which voids the release) and every draw from it: Poisson row samples, the gradient and histogram noise, each clipped unit's partner row, condition column, interpolation weight and dropout masks, and a charged tuning run's split and choice noise; the training checkpoints (they hold the critic and the stream's position) and the private/ folder of a run";

/// The accountant's record of a finished (or stopped) DP run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// How ε was computed.
    pub accountant: String,
    /// The plan fixed before training (targets, σ, q, planned steps, δ split).
    pub plan: PrivacyPlan,
    /// ε spent by everything composed, at δ = `plan.target_delta`.
    pub epsilon: f64,
    /// ε of the DP-SGD steps alone.
    pub epsilon_sgd: f64,
    /// ε of preprocessing alone.
    pub epsilon_preprocess: f64,
    /// The RDP order that gave `epsilon`.
    pub best_order: f64,
    /// The RDP orders minimised over.
    pub orders: Vec<f64>,
    /// Discriminator steps actually taken.
    pub steps: u64,
    /// Per-row clipping norm C.
    pub max_grad_norm: f64,
    /// What preprocessing measured and what it took as public.
    pub preprocessing: PreprocessLedger,
    /// Facts taken as public for the whole run.
    pub public: Vec<String>,
    /// True when a user seed fixed the DP noise: the guarantee does not hold for anyone who
    /// knows the seed, so the file is not for release.
    pub noise_seeded: bool,
    /// How the released epoch was chosen when it is not the last one (and what that cost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<String>,
    /// Set when this generator won a charged tuning run: the guarantee of the file is then the
    /// tuning run's (`tuning.epsilon`, `tuning.delta`), not this trial's alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuning: Option<TuningCharge>,
    /// Set when DP training started with a warm start (`privacy.warm_start_epochs`): what it
    /// trained on. It reads no row, so it costs nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_start: Option<String>,
    /// Set when `train.max_steps` cut the configured epochs: how many were planned, trained
    /// and why. The plan's noise was calibrated for the steps of the epochs trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs_cut: Option<String>,
}

impl Ledger {
    /// The ledger after `steps` steps of the run `accountant` tracks.
    pub fn new(
        accountant: &Accountant,
        steps: u64,
        max_grad_norm: f64,
        preprocessing: PreprocessLedger,
        noise_seeded: bool,
    ) -> Ledger {
        let spent = accountant.spent(steps);
        let plan = accountant.plan().clone();
        Ledger {
            accountant: "RDP of the Poisson-subsampled Gaussian (Mironov, Talwar & Zhang 2019), converted with Balle et al. 2020, Thm 21".into(),
            public: {
                let mut public = vec![
                    format!("the row count ({}), which sets the sampling rate", plan.rows),
                    "the schema: column names, and each column's kind and storage type from its [privacy.columns] metadata".into(),
                    "the config, including [privacy.columns] metadata".into(),
                ];
                let mut guessed: Vec<&str> = Vec::new();
                for name in preprocessing
                    .discovered_categories
                    .iter()
                    .chain(&preprocessing.estimated_bounds)
                    .chain(&preprocessing.types_from_rows)
                {
                    if !guessed.contains(&name.as_str()) {
                        guessed.push(name);
                    }
                }
                if !guessed.is_empty() {
                    public.push(format!(
                        "NOT COVERED: the kind and storage type (and the text form of timestamps, of numbers such as `$1,234.50` or `00501`, and of booleans such as `TRUE`) of {} (no metadata; inferred from the rows as read, privacy.discover = true)",
                        guessed.iter().map(|g| shown(g)).collect::<Vec<_>>().join(", ")
                    ));
                }
                public
            },
            plan,
            epsilon: spent.epsilon,
            epsilon_sgd: spent.epsilon_sgd,
            epsilon_preprocess: spent.epsilon_preprocess,
            best_order: spent.order,
            orders: accountant.orders().to_vec(),
            steps,
            max_grad_norm,
            preprocessing,
            noise_seeded,
            selection: None,
            tuning: None,
            warm_start: None,
            epochs_cut: None,
        }
    }

    /// One line for `inspect`, `sample` and training's last message.
    pub fn summary(&self) -> String {
        let target = match self.plan.target_epsilon {
            Some(t) => format!(" (target {t})"),
            None => String::new(),
        };
        let mut line = format!(
            "privacy: ({:.3}, {:.0e})-differentially private{target}: epsilon {:.3} from DP-SGD (sigma {:.3}, q {:.4}, {} steps, C {}) and {:.3} from preprocessing; {} rows",
            self.epsilon,
            self.plan.target_delta,
            self.epsilon_sgd,
            self.plan.noise_multiplier,
            self.plan.sample_rate,
            self.steps,
            self.max_grad_norm,
            self.epsilon_preprocess,
            self.plan.rows
        );
        if let Some(t) = &self.tuning {
            line = format!(
                "privacy: ({:.3}, {:.0e})-differentially private as the winner of a charged tuning run: {} trials at epsilon {:.3} each plus a report-noisy-max choice at epsilon {:.3} (basic composition); this trial alone: {}",
                t.epsilon,
                t.delta,
                t.trials,
                t.trial_epsilon,
                t.selection_epsilon,
                line.trim_start_matches("privacy: ")
            );
        }
        if self.noise_seeded {
            line.push_str(". NOT FOR RELEASE: the DP noise was fixed by a seed");
        }
        line
    }

    /// The full ledger as labelled lines, for `inspect` and the evaluation report.
    pub fn details(&self) -> Vec<(&'static str, String)> {
        let p = &self.plan;
        let pre = &self.preprocessing;
        let list = |v: &[String]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.iter().map(|n| shown(n)).collect::<Vec<_>>().join(", ")
            }
        };
        vec![
            (
                "spent",
                format!(
                    "epsilon {:.4} (order {}) at delta {:.1e} = {:.1e} conversion + {:.1e} thresholding; target epsilon {}",
                    self.epsilon,
                    self.best_order,
                    p.target_delta,
                    p.delta_conversion,
                    p.delta_threshold,
                    p.target_epsilon.map_or("none".into(), |e| e.to_string())
                ),
            ),
            (
                "DP-SGD",
                format!(
                    "noise multiplier {:.4}, sample rate {:.5}, {} of {} planned steps, clip norm {}, epsilon alone {:.4}",
                    p.noise_multiplier, p.sample_rate, self.steps, p.planned_steps, self.max_grad_norm, self.epsilon_sgd
                ),
            ),
            (
                "preprocessing",
                match pre.noise_multiplier {
                    Some(z) => format!(
                        "{} noisy histograms ({} bins per continuous column{}){}, noise multiplier {:.3} (std {:.2} per count{}), threshold {:.1}, epsilon alone {:.4}",
                        pre.histograms,
                        pre.continuous_bins,
                        fewer_bins_text(pre),
                        if pre.selection_rounds > 0 {
                            format!(
                                " and {} two-way marginal tables in the same mechanism, {}a tree{} chosen by {} exponential-mechanism rounds at epsilon {:.4} each",
                                pre.pair_tables,
                                match pre.target_pairs {
                                    0 => String::new(),
                                    n => format!(
                                        "{n} pairs of the target{} {}{} and ",
                                        if pre.targets.len() > 1 { "s" } else { "" },
                                        pre.targets.join(", "),
                                        if pre.targets_from_name {
                                            " (taken from its name: privacy.target_from_name)"
                                        } else {
                                            ""
                                        }
                                    ),
                                },
                                match pre.extra_pairs {
                                    0 => String::new(),
                                    more => format!(" and {more} more pairs"),
                                },
                                pre.selection_rounds,
                                pre.selection_epsilon
                            )
                        } else if pre.pair_tables > 0 {
                            format!(
                                " and {} two-way marginal tables in the same mechanism (L2 sensitivity √{})",
                                pre.pair_tables,
                                pre.histograms + pre.pair_tables + pre.copula_sums + pre.shift_slots
                            )
                        } else {
                            String::new()
                        } + &if pre.copula_sums > 0 {
                            format!(
                                ", with {} slots for normal-score correlation sums of continuous pairs",
                                pre.copula_sums
                            )
                        } else if pre.copula_noise_skipped > 0.0 {
                            format!(
                                ", without normal-score correlation sums of continuous pairs (at this noise and row count a released correlation would be within about ±{:.2}: their share went to the histograms and tables)",
                                pre.copula_noise_skipped
                            )
                        } else {
                            String::new()
                        } + &if pre.shift_slots > 0 {
                            format!(
                                " and {} for per-category normal-score sums of discrete-continuous edges",
                                pre.shift_slots
                            )
                        } else {
                            String::new()
                        },
                        z,
                        pre.count_noise_std,
                        {
                            let mut more = String::new();
                            if pre.pair_tables > 0 && (pre.pair_std() - pre.count_noise_std).abs() > 1e-9 {
                                more.push_str(&format!(
                                    "; {:.2} on pair tables, each one-way histogram weighted {} times a pair table (privacy.margin_weight)",
                                    pre.pair_std(),
                                    pre.margin_weight,
                                ));
                            }
                            if pre.discovery_noise_std > 0.0 {
                                more.push_str(&format!("; {:.2} on discovering columns", pre.discovery_noise_std));
                            }
                            if pre.bounds_noise_std > 0.0 {
                                more.push_str(&format!("; {:.2} on bounds and decimal-places histograms", pre.bounds_noise_std));
                            }
                            more
                        },
                        pre.threshold,
                        self.epsilon_preprocess
                    ),
                    None => "none measured (all metadata public, frequencies uniform)".into(),
                },
            ),
            (
                "categories discovered under DP",
                list(&pre.discovered_categories),
            ),
            ("bounds estimated under DP", list(&pre.estimated_bounds)),
            (
                "bounds narrowed by a second histogram",
                list(&pre.narrowed_bounds)
                    + &if pre.narrowed_bins > 0 && !pre.narrowed_bounds.is_empty() {
                        format!(
                            " (each part over {} bins where not counted per integer: the bounds share's noise allows no more)",
                            pre.narrowed_bins
                        )
                    } else {
                        String::new()
                    },
            ),
            (
                "measured again over log-scale bins",
                list(&pre.log_binned),
            ),
            (
                "sampled within the loud part of the range",
                list(&pre.trimmed_bounds),
            ),
            (
                "sampled on the loud points a histogram over each point found",
                list(&pre.on_points),
            ),
            (
                "values measured by a thresholded histogram",
                if pre.keys_measured.is_empty() {
                    "-".into()
                } else {
                    format!(
                        "{} (a value is released when its noisy count clears {:.0} rows)",
                        list(&pre.keys_measured),
                        pre.key_threshold
                    )
                },
            ),
            ("storage types decided under DP", list(&pre.typed_under_dp)),
            (
                "released beside a public partner word (no threshold: every word of dpsynth's yes/no pairs is measured)",
                list(&pre.partnered),
            ),
            (
                "folded into \"other\"",
                if pre.folded.is_empty() {
                    "-".into()
                } else {
                    pre.folded
                        .iter()
                        .map(|(c, rows)| format!("{}: about {rows:.0} rows (noisy estimate) in categories too rare to clear the threshold; list the column's categories in [privacy.columns.{}] to keep them", shown(c), toml_key(c)))
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            ),
            ("no range found under DP", no_range_text(pre)),
            (
                "pairs chosen under DP",
                list(
                    &pre.selected_pairs
                        .iter()
                        // A target's pairs are measured because the config names it, not
                        // chosen; the preprocessing line counts them.
                        .filter(|(a, b)| !pre.targets.contains(a) && !pre.targets.contains(b))
                        .map(|(a, b)| format!("{} & {}", shown(a), shown(b)))
                        .collect::<Vec<_>>(),
                ),
            ),
            ("public categories", list(&pre.public_categories)),
            ("public bounds", list(&pre.public_bounds)),
            ("taken as public", self.public.join("; ")),
            ("must stay secret", SECRETS.into()),
            (
                "released epoch",
                self.selection
                    .clone()
                    .unwrap_or_else(|| "the last one trained".into()),
            ),
            (
                "warm start",
                self.warm_start.clone().unwrap_or_else(|| "none".into()),
            ),
            (
                "epochs",
                self.epochs_cut
                    .clone()
                    .unwrap_or_else(|| "as configured (train.epochs)".into()),
            ),
            ("accountant", self.accountant.clone()),
            (
                "RDP orders",
                self.orders
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ]
        .into_iter()
        .chain(self.tuning.as_ref().map(|t| {
            (
                "charged tuning",
                format!(
                    "({:.4}, {:.1e}) for the whole tuning run: {} trials planned at ({:.4}, {:.1e}) each, trial {} chosen by report-noisy-max at epsilon {:.4} (score sensitivity {:.2e} from {} private held-out rows, Laplace scale {:.2e})",
                    t.epsilon, t.delta, t.trials, t.trial_epsilon, t.trial_delta, t.chosen_trial,
                    t.selection_epsilon, t.score_sensitivity, t.holdout_rows, t.laplace_scale
                ),
            )
        }))
        .collect()
    }
}

/// What the ledger adds after the bins per continuous column when a small table's noise took
/// fewer than `privacy.bins` (`histogram_bins`); empty otherwise, and for files written before
/// the configured count was recorded.
pub fn fewer_bins_text(pre: &PreprocessLedger) -> String {
    if pre.continuous_bins > 0 && pre.continuous_bins < pre.configured_bins {
        format!(
            ", fewer than the {} of privacy.bins for this noise; one per integer on a short integer range",
            pre.configured_bins
        )
    } else {
        String::new()
    }
}

/// The ledger's line on columns sampled as missing because DP found no range for them
/// ([`PreprocessLedger::no_range`]), with what to write to give them one; "-" when none.
pub fn no_range_text(pre: &PreprocessLedger) -> String {
    if pre.no_range.is_empty() {
        return "-".into();
    }
    pre.no_range
        .iter()
        .map(|c| {
            format!(
                "{}: no half-decade of its values held enough rows to clear the bounds' noise \
                 (std {:.1} per count; too few rows for this epsilon, or values spread over many \
                 magnitudes), sampled as missing; give min and max in [privacy.columns.{}]",
                shown(c),
                pre.bounds_noise_std,
                toml_key(c)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A line for the terminal at train time ([`terminal_warnings`]), with how it is shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Something the released file lacks that the user should act on ("warning: ..."): shown
    /// with `--quiet` too.
    Warning(String),
    /// A share of a column folded that the user may want to name ("note: ..."): shown where
    /// progress is shown.
    Note(String),
}

impl Notice {
    /// The line as printed.
    pub fn text(&self) -> &str {
        match self {
            Notice::Warning(text) | Notice::Note(text) => text,
        }
    }
}

/// What preprocessing lost that a user should see on the terminal at train time, one line
/// each (the ledger holds the same, in longer words): columns whose categories were folded into
/// "other" in a large share of the `rows` (public row count), and columns sampled as missing
/// because no range cleared the noise. A column folded in nearly every row (an identifier, a
/// name, free text: every value is rare) is sampled as "other" in nearly every row.
pub fn terminal_warnings(pre: &PreprocessLedger, rows: f64) -> Vec<Notice> {
    let mut lines = Vec::new();
    for (column, folded) in &pre.folded {
        let share = (folded / rows.max(1.0)).clamp(0.0, 1.0);
        if share >= NEARLY_ALL {
            lines.push(Notice::Warning(format!(
                "warning: {} is \"other\" in nearly every sampled row: about {:.0} of {:.0} rows (noisy estimate) hold values too rare to clear the discovery threshold of {:.0} rows, as an identifier, a name or free text does; leave it out with `--set 'data.drop=[{:?}]'` (or `drop` under [data]), or list the values that may be released in [privacy.columns.{}] categories",
                shown(column),
                folded.max(0.0),
                rows,
                pre.threshold,
                column,
                toml_key(column)
            )));
        } else if share >= FOLDED_WARN || (share >= FOLDED_NOTE && *folded >= pre.threshold) {
            lines.push(Notice::Note(format!(
                "note: {}: about {:.0} rows ({:.0}%, noisy estimate) hold categories too rare to clear the discovery threshold of {:.0} rows and are sampled as \"other\"; list the column's categories in [privacy.columns.{}] to keep them",
                shown(column),
                folded.max(0.0),
                100.0 * share,
                pre.threshold,
                toml_key(column)
            )));
        }
    }
    let columns = pre.public_categories.len()
        + pre.discovered_categories.len()
        + pre.public_bounds.len()
        + pre.estimated_bounds.len();
    let every_pair_noisy = pre.selection_rounds == 0
        && pre.pair_tables > 0
        && pre.targets.is_empty()
        && columns >= PairSelection::AUTO_TREE_COLUMNS
        && pre.all_pairs_noise_ratio > PairSelection::AUTO_NOISE_RATIO;
    if pre.targets_from_name {
        lines.push(Notice::Note(format!(
            "note: the column '{}' is taken as the target from its name: every pair with it is measured{}; name another with `--target COLUMN`, or set privacy.target_from_name = false to measure without one",
            pre.targets.join(", "),
            if pre.target_pairs > 0 {
                ", beside a tree of the other columns chosen under DP"
            } else {
                " (with every other pair, as without a target)"
            }
        )));
    }
    if every_pair_noisy {
        lines.push(Notice::Note(format!(
            "note: every pair of the {columns} columns is measured, with noise std {:.0} per count on {rows:.0} rows; if the rows will be used to predict a column, name it with `--target COLUMN` (privacy.targets): its pairs are all kept, the other columns get a tree chosen under DP, and every table gets less noise",
            pre.pair_std()
        )));
    }
    for column in &pre.mostly_missing {
        lines.push(Notice::Warning(format!(
            "warning: {} is missing in nearly every row (noisy estimate); with public metadata each cell is read as that metadata says: a number for min/max, a date, timestamp or boolean only where [privacy.columns.{}] gives its `type` (and `format` for a form such as day-first dates), so check those keys, or data.null_values",
            shown(column),
            toml_key(column)
        )));
    }
    if pre.no_range.len() > NAMED_MAX {
        // A wide table of few rows (1,000 columns of 300 rows at ε 3) printed a line for each.
        let named: Vec<String> = pre.no_range[..NAMED_MAX]
            .iter()
            .map(|c| shown(c).into_owned())
            .collect();
        lines.push(Notice::Warning(format!(
            "warning: {} columns are sampled as missing: no range of their values cleared the noise ({} and {} more; `dpsynth inspect` lists them all); give min and max in [privacy.columns.NAME] for each, train on fewer columns (data.drop), or give a larger epsilon",
            pre.no_range.len(),
            named.join(", "),
            pre.no_range.len() - NAMED_MAX
        )));
    } else {
        for column in &pre.no_range {
            lines.push(Notice::Warning(format!(
                "warning: {} is sampled as missing: no range of its values cleared the noise; give min and max in [privacy.columns.{}]",
                shown(column),
                toml_key(column)
            )));
        }
    }
    lines
}

/// Most columns without a range that [`terminal_warnings`] names one line each; beyond it,
/// one line names the first few.
const NAMED_MAX: usize = 5;

/// Share of the rows folded into "other" from which [`terminal_warnings`] calls a column
/// "other" in nearly every row.
const NEARLY_ALL: f64 = 0.9;

/// Share of the rows folded into "other" from which [`terminal_warnings`] names a column.
const FOLDED_WARN: f64 = 0.05;

/// Smaller share from which [`terminal_warnings`] names a column whose folded estimate also
/// clears the discovery threshold (so it is not the noise of an empty "other"): 40 diagnosis
/// codes on 8,000 rows sampled "other" in 2.8% of rows with nothing said at train time.
const FOLDED_NOTE: f64 = 0.01;

/// A column name as the ledger prints it (defined with the schema, which every layer reads).
pub use crate::schema::shown;

/// A column name as a TOML key (defined with the schema, which every layer reads).
pub use crate::schema::toml_key;

#[cfg(test)]
mod tests {
    use super::{terminal_warnings, toml_key, PreprocessLedger};

    #[test]
    fn many_columns_without_a_range_are_named_in_one_line() {
        let mut pre = PreprocessLedger {
            no_range: (0..3).map(|j| format!("c{j}")).collect(),
            ..PreprocessLedger::default()
        };
        let lines = terminal_warnings(&pre, 300.0);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].text().contains("[privacy.columns.c2]"));
        pre.no_range = (0..1000).map(|j| format!("c{j}")).collect();
        let lines = terminal_warnings(&pre, 300.0);
        assert_eq!(lines.len(), 1);
        let text = lines[0].text();
        assert!(
            text.contains("1000 columns") && text.contains("c0, c1, c2, c3, c4 and 995 more"),
            "{text}"
        );
    }

    #[test]
    fn a_few_percent_folded_above_the_threshold_is_named() {
        let pre = |folded: f64| PreprocessLedger {
            folded: vec![("diagnosis".to_string(), folded)],
            threshold: 48.0,
            ..PreprocessLedger::default()
        };
        // 2.8% of 8,000 rows, above the threshold: named.
        let lines = terminal_warnings(&pre(223.0), 8000.0);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].text().contains("diagnosis: about 223 rows (3%"));
        // Under 1%, or a few percent that the threshold does not clear (a small table's
        // noise): not named. 5% and more: named as before.
        assert!(terminal_warnings(&pre(70.0), 8000.0).is_empty());
        assert!(terminal_warnings(&pre(12.0), 400.0).is_empty());
        assert_eq!(terminal_warnings(&pre(21.0), 400.0).len(), 1);
    }

    #[test]
    fn a_column_name_becomes_a_key_toml_reads_back_as_that_name() {
        for name in [
            "crim",
            "capital-gain",
            "",
            "total day",
            "a.b",
            "say \"hi\"",
            "back\\slash",
        ] {
            let key = toml_key(name);
            let text = format!("[privacy.columns.{key}]\nmin = 1\n");
            let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            let columns = table["privacy"]["columns"].as_table().unwrap();
            assert_eq!(columns.keys().collect::<Vec<_>>(), [name], "{text}");
        }
        assert_eq!(toml_key("capital-gain"), "capital-gain");
    }
}
