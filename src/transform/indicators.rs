//! Indicator groups: 0/1 columns that together say which one of several things a row is
//! (covertype's `Soil_Type1` ... `Soil_Type40`, pandas' dummies `color_red`, `color_blue`),
//! drawn at sampling so that every row has exactly one of them set.
//!
//! Each indicator is a 0/1 integer column with two exact modes, and the generator draws each
//! one on its own: on a covertype-like table 44% of sampled rows had exactly one soil type
//! (31% none, up to six), a row no table has. A group here is at least [`GROUP_MIN`] columns
//! whose names differ only in a trailing number (`Soil_Type7`) or in the word after their last
//! `_` or `.` (`color_red`), every one decoding only to 0 or 1 from exact modes, never
//! missing, whose released shares of 1 sum to 1 within the release's noise (at least
//! [`SHARE_TOLERANCE`]): together they hold one 1 per row. Independent flags of one stem sum
//! to 1 only by chance; the sampler also drops a group two of whose members a released pair
//! table shows set together (`sample::indicator_groups`).
//!
//! Drawing: for member `j`, `l_j` is the generator's log-odds of its 1-mode against its other
//! modes (with the sampler's choice offsets). Given that exactly one of independent draws is
//! 1, member `j` is it with probability `∝ exp(l_j)` (`p_j / (1 - p_j)`), so the row's one is
//! a Gumbel-max draw over the `l_j`, using the uniform each member's 1-mode already drew; the
//! other members take their 0-mode. The row's other columns keep the generator's draw.
//!
//! Post-processing of released parts (the names are schema, the shares are the released
//! mixtures' weights, the logits are the generator's): it reads no row and costs no privacy.

use super::{DataTransformer, Encoder};
use std::collections::BTreeMap;

/// Fewest columns of one stem that make a group.
pub const GROUP_MIN: usize = 3;

/// How far from 1 the released shares of 1 of a group's columns may sum, at least; a noisier
/// release widens it to [`SHARE_DEVIATIONS`] of the noise of the sum.
pub const SHARE_TOLERANCE: f64 = 0.05;

/// Deviations of the noise of a group's sum of shares that it may lie from 1.
pub const SHARE_DEVIATIONS: f64 = 3.0;

/// Rounds of [`IndicatorGroups::fit_shares`].
const FIT_ROUNDS: usize = 12;

/// Largest change of one offset in one round (in logits).
const FIT_STEP_MAX: f64 = 2.0;

/// One indicator column of a group: where its modes sit in an encoded row.
#[derive(Debug, Clone, PartialEq)]
struct Member {
    /// Table column index.
    column: usize,
    /// Encoded index of its first mode entry.
    modes_start: usize,
    /// Number of mode entries.
    modes: usize,
    /// Encoded index of the mode that decodes to 1 (none: the column never takes 1).
    one: Option<usize>,
    /// Encoded index of the mode that decodes to 0.
    zero: usize,
    /// Its released share of 1 (the 1-mode's weight).
    share: f64,
}

/// A group of indicator columns of which each row holds exactly one.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorGroup {
    members: Vec<Member>,
}

impl IndicatorGroup {
    /// The member set in a row: a Gumbel-max draw over the members' log-odds of their 1-mode
    /// against their other modes (raw outputs `x` plus `bias`, empty for none), with the
    /// uniform each 1-mode drew (`u`). None: no member can take 1.
    fn choose(&self, x: &[f32], u: &[f32], bias: &[f32]) -> Option<usize> {
        let logit = |j: usize| x[j] + if bias.is_empty() { 0.0 } else { bias[j] };
        let mut best: Option<(f32, usize)> = None;
        for (i, m) in self.members.iter().enumerate() {
            let Some(one) = m.one else { continue };
            let others = (m.modes_start..m.modes_start + m.modes).filter(|&j| j != one);
            let top = others.clone().map(logit).fold(f32::NEG_INFINITY, f32::max);
            let rest = top + others.map(|j| (logit(j) - top).exp()).sum::<f32>().ln();
            let score = logit(one) - rest - (-u[one].ln()).ln();
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, i));
            }
        }
        best.map(|(_, i)| i)
    }
}

/// Every indicator group of a file's columns (none: sampling as before).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndicatorGroups {
    groups: Vec<IndicatorGroup>,
}

/// `name` without a trailing number (`Soil_Type12` -> `Soil_Type`), or else up to its last
/// `_` or `.` (`color_red` -> `color_`): the stem a group's names share. None: no stem.
fn stem(name: &str) -> Option<&str> {
    let digits = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if digits.len() < name.len() && !digits.is_empty() {
        return Some(digits);
    }
    let cut = name.rfind(['_', '.'])?;
    (cut > 0 && cut + 1 < name.len()).then(|| &name[..=cut])
}

impl IndicatorGroups {
    /// The groups of `transformer`'s columns (see the module's rules), with `share_noise` the
    /// std of the noise on one released share (0 for exact shares): a group of `k` columns
    /// sums to 1 within [`SHARE_DEVIATIONS`] `√k share_noise`, at least [`SHARE_TOLERANCE`].
    pub fn find(transformer: &DataTransformer, share_noise: f64) -> Self {
        let mut by_stem: BTreeMap<&str, Vec<Member>> = BTreeMap::new();
        let states = transformer.column_states();
        for (k, (column, encoder)) in transformer
            .schema
            .columns
            .iter()
            .zip(&transformer.encoders)
            .enumerate()
        {
            let (Encoder::Continuous(c), Some(stem)) = (encoder, stem(&column.name)) else {
                continue;
            };
            let binary = !c.has_null
                && !c.modes.is_empty()
                && c.modes
                    .iter()
                    .all(|m| m.exact && (m.mean == 0.0 || m.mean == 1.0))
                && c.support.iter().all(|&v| v == 0.0 || v == 1.0);
            let zero = c.modes.iter().position(|m| m.mean == 0.0);
            let one = c.modes.iter().position(|m| m.mean == 1.0);
            let ones = c.modes.iter().filter(|m| m.mean == 1.0).count();
            if let (true, Some(zero), true) = (binary, zero, ones <= 1) {
                // A continuous column with modes and no nulls: its states are its modes.
                let modes_start = states[k].offset;
                by_stem.entry(stem).or_default().push(Member {
                    column: k,
                    modes_start,
                    modes: states[k].width,
                    one: one.map(|i| modes_start + i),
                    zero: modes_start + zero,
                    share: one.map_or(0.0, |i| c.modes[i].weight),
                });
            }
        }
        let mut groups: Vec<IndicatorGroup> = by_stem
            .into_values()
            .filter(|members| {
                let total: f64 = members.iter().map(|m| m.share).sum();
                let k = members.len() as f64;
                let tolerance = (SHARE_DEVIATIONS * k.sqrt() * share_noise).max(SHARE_TOLERANCE);
                members.len() >= GROUP_MIN && (total - 1.0).abs() <= tolerance
            })
            .map(|members| IndicatorGroup { members })
            .collect();
        groups.sort_by_key(|g| g.members[0].column);
        IndicatorGroups { groups }
    }

    /// Drops every group in which `together` says two members were released as set in the
    /// same rows: it is given `(column, index of the 1-mode among its modes)` of two members
    /// (the lower column first), and answers whether a released table shows them both 1.
    pub fn without_overlaps(
        mut self,
        together: impl Fn((usize, usize), (usize, usize)) -> bool,
    ) -> Self {
        self.groups.retain(|g| {
            let ones: Vec<(usize, usize)> = g
                .members
                .iter()
                .filter_map(|m| m.one.map(|one| (m.column, one - m.modes_start)))
                .collect();
            !ones
                .iter()
                .enumerate()
                .any(|(i, &a)| ones[i + 1..].iter().any(|&b| together(a, b)))
        });
        self
    }

    /// Drops every group whose member columns (table column indices, schema order)
    /// `drawn_otherwise` says are drawn another way (all of them from one column that
    /// determines them, `train::links`).
    pub fn without_groups(mut self, drawn_otherwise: impl Fn(&[usize]) -> bool) -> Self {
        self.groups.retain(|g| {
            let columns: Vec<usize> = g.members.iter().map(|m| m.column).collect();
            !drawn_otherwise(&columns)
        });
        self
    }

    /// Whether there is no group.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Whether table column `column` is in a group.
    pub fn holds(&self, column: usize) -> bool {
        self.groups
            .iter()
            .any(|g| g.members.iter().any(|m| m.column == column))
    }

    /// Sets exactly one indicator per group in each of the encoded rows `out` (`[n, dim]`,
    /// row-major, already activated), drawn from the generator's raw outputs `raw` (`[n,
    /// dim]`) with the choice offsets `bias` (`[dim]`, or empty for none) and the rows'
    /// uniforms `uniform` (`[n, dim]`).
    pub fn draw(&self, raw: &[f32], uniform: &[f32], bias: &[f32], out: &mut [f32], dim: usize) {
        if self.groups.is_empty() || dim == 0 {
            return;
        }
        for r in 0..out.len() / dim {
            let x = &raw[r * dim..(r + 1) * dim];
            let u = &uniform[r * dim..(r + 1) * dim];
            let o = &mut out[r * dim..(r + 1) * dim];
            for group in &self.groups {
                let chosen = group.choose(x, u, bias);
                for (i, m) in group.members.iter().enumerate() {
                    o[m.modes_start..m.modes_start + m.modes].fill(0.0);
                    match (chosen, m.one) {
                        (Some(c), Some(one)) if c == i => o[one] = 1.0,
                        _ => o[m.zero] = 1.0,
                    }
                }
            }
        }
    }

    /// Fits offsets on the members' 1-modes in `bias` (`[dim]`; filled with zeros when empty)
    /// so that each member is drawn at its released share of 1 (renormalised over the group)
    /// over the pilot's raw outputs `raw` and uniforms `uniform` (`[n, dim]` each), as
    /// `transform::calibrate`'s choice offsets do for one-hot spans: the generator's offsets
    /// were fitted for independent draws, and the joint draw favours the common members
    /// (covertype's commonest soil type at 0.29 of rows against 0.25 released).
    pub fn fit_shares(&self, raw: &[f32], uniform: &[f32], bias: &mut Vec<f32>, dim: usize) {
        if self.groups.is_empty() || dim == 0 {
            return;
        }
        if bias.is_empty() {
            *bias = vec![0.0; dim];
        }
        let n = raw.len() / dim;
        for group in &self.groups {
            let total: f64 = group.members.iter().map(|m| m.share).sum();
            for _ in 0..FIT_ROUNDS {
                let mut counts = vec![0usize; group.members.len()];
                for r in 0..n {
                    let (x, u) = (
                        &raw[r * dim..(r + 1) * dim],
                        &uniform[r * dim..(r + 1) * dim],
                    );
                    if let Some(c) = group.choose(x, u, bias) {
                        counts[c] += 1;
                    }
                }
                for (m, &count) in group.members.iter().zip(&counts) {
                    let Some(one) = m.one else { continue };
                    let target = m.share / total;
                    if target <= 0.0 {
                        continue;
                    }
                    // A member never drawn moves up by a bounded step.
                    let got = (count as f64 / n as f64).max(target * (-FIT_STEP_MAX).exp());
                    bias[one] += (target / got).ln().clamp(-FIT_STEP_MAX, FIT_STEP_MAX) as f32;
                }
            }
        }
    }

    /// The groups for `inspect`: `Soil_Type1 .. Soil_Type40 (40 columns)`, or `-`.
    pub fn describe(&self, transformer: &DataTransformer) -> String {
        if self.groups.is_empty() {
            return "-".into();
        }
        let name = |k: usize| transformer.schema.columns[k].name.as_str();
        self.groups
            .iter()
            .map(|g| {
                let (first, last) = (g.members[0].column, g.members[g.members.len() - 1].column);
                format!(
                    "{} .. {} ({} columns)",
                    name(first),
                    name(last),
                    g.members.len()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::stem;

    #[test]
    fn stems_are_a_name_without_its_number_or_its_last_word() {
        assert_eq!(stem("Soil_Type12"), Some("Soil_Type"));
        assert_eq!(stem("color_red"), Some("color_"));
        assert_eq!(stem("dept.sales"), Some("dept."));
        assert_eq!(stem("age"), None);
        assert_eq!(stem("2020"), None);
        assert_eq!(stem("_x"), None);
    }
}
