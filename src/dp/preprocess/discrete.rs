//! A discrete column's slots and frequencies under DP: a public list's noisy counts, or the
//! categories whose noisy count clears the discovery threshold; the "other" and null slots
//! where metadata says so or their noisy counts clear three deviations.

use std::collections::HashMap;

use super::Noise;
use super::{PreprocessLedger, Shared};
use crate::read::Column;
use crate::schema::shown;
use crate::transform::{DiscreteEncoder, Encoder, Slot};

/// Public pairs of words a yes/no column is written in, fixed here before any row is read
/// (so part of the schema's public knowledge, not of the data). A discovering column measures
/// a noisy count for every one of them whether or not the rows hold it, beside its other
/// values, so a word of a pair needs no threshold: where its partner was released, it is
/// released when its own noisy count clears three deviations (`Shared::clears`). A rare
/// "yes" beside a common "no" (hdma's `dmi`, about 40 of 1,905 rows against a threshold of
/// 52) was folded into "other", and the classifier lost the one flag that predicts a denial.
pub const PARTNER_WORDS: [(&str, &str); 17] = [
    ("yes", "no"),
    ("Yes", "No"),
    ("YES", "NO"),
    ("y", "n"),
    ("Y", "N"),
    ("true", "false"),
    ("True", "False"),
    ("TRUE", "FALSE"),
    ("t", "f"),
    ("T", "F"),
    ("1", "0"),
    ("male", "female"),
    ("Male", "Female"),
    ("MALE", "FEMALE"),
    ("M", "F"),
    ("positive", "negative"),
    ("Positive", "Negative"),
];

/// The partners of `word` in [`PARTNER_WORDS`] (`F` has two: `T` and `M`).
fn partners(word: &str) -> impl Iterator<Item = &'static str> + '_ {
    PARTNER_WORDS.iter().filter_map(move |&(a, b)| {
        if word == a {
            Some(b)
        } else if word == b {
            Some(a)
        } else {
            None
        }
    })
}

/// The encoder of the discrete column `column`, from its public list `categories` or, without
/// one, from the categories discovered under DP (measured with `noise`, recorded in `ledger`).
pub(super) fn fit(
    shared: &Shared,
    noise: &mut Noise,
    ledger: &mut PreprocessLedger,
    column: &mut Column,
    categories: &Option<Vec<String>>,
) -> Encoder {
    let Shared {
        privacy,
        settings,
        n_rows,
        count_noise_std,
        discovery_std,
        threshold,
        measured,
        ..
    } = *shared;
    let values = &mut column.values;
    let n = values.len();
    let nulls = (0..n).filter(|&i| values.is_null(i)).count() as f64;
    let (mut kept, other, null, std) = match categories {
        Some(list) => {
            let index: HashMap<&str, usize> = list
                .iter()
                .enumerate()
                .map(|(i, k)| (k.as_str(), i))
                .collect();
            // [categories..., other, null]
            let mut counts = vec![0.0; list.len() + 2];
            counts[list.len() + 1] = nulls;
            for i in 0..n {
                if let Some(k) = values.key(i) {
                    let slot = index.get(k.as_str()).copied().unwrap_or(list.len());
                    counts[slot] += 1.0;
                }
            }
            if measured {
                noise.add(&mut counts, count_noise_std);
            } else {
                counts.fill(n_rows / list.len() as f64);
                counts[list.len()] = 0.0;
                counts[list.len() + 1] = 0.0;
            }
            let kept: Vec<(String, f64)> =
                list.iter().cloned().zip(counts.iter().copied()).collect();
            let (other, null) = (counts[list.len()], counts[list.len() + 1]);
            // A complete list needs no "other" unless the values outside it are
            // many enough to show above the noise.
            let other = shared.clears(other, count_noise_std).then_some(other);
            (kept, other, null, count_noise_std)
        }
        None => {
            let mut counts: HashMap<String, f64> = HashMap::new();
            for i in 0..n {
                if let Some(k) = values.key(i) {
                    *counts.entry(k).or_insert(0.0) += 1.0;
                }
            }
            // Every partner word gets a count, held by the rows or not (zero): which words
            // are measured must not depend on the rows.
            for (a, b) in PARTNER_WORDS {
                counts.entry(a.to_string()).or_insert(0.0);
                counts.entry(b.to_string()).or_insert(0.0);
            }
            let mut keys: Vec<String> = counts.keys().cloned().collect();
            keys.sort();
            let mut measured_counts: Vec<f64> = keys.iter().map(|k| counts[k]).collect();
            measured_counts.push(nulls);
            noise.add(&mut measured_counts, discovery_std);
            let null = measured_counts.pop().expect("the null bucket is last");
            let noisy: HashMap<&str, f64> = keys
                .iter()
                .map(String::as_str)
                .zip(measured_counts.iter().copied())
                .collect();
            // Keys whose noisy count clears τ are released, and a partner word whose partner
            // cleared τ where its own count clears three deviations (no threshold: its count
            // was measured whatever the rows hold).
            let beside_partner = |k: &str, c: f64| {
                partners(k).any(|p| noisy[p] > threshold) && shared.clears(c, discovery_std)
            };
            let mut partnered = Vec::new();
            let mut kept: Vec<(String, f64)> = Vec::new();
            for (k, c) in keys.iter().zip(measured_counts.iter().copied()) {
                if c > threshold {
                    kept.push((k.clone(), c));
                } else if beside_partner(k, c) {
                    partnered.push(k.clone());
                    kept.push((k.clone(), c));
                }
            }
            if !partnered.is_empty() {
                ledger
                    .partnered
                    .push(format!("{}: {}", shown(&column.name), partnered.join(", ")));
            }
            kept.sort_by(|a, b| b.1.total_cmp(&a.1));
            kept.truncate(settings.transform.max_categories.saturating_sub(1).max(1));
            let kept_total: f64 = kept.iter().map(|(_, c)| c).sum();
            // Everything else, estimated from released numbers and the public N; its
            // noise is that of every kept count and the null count together.
            let other = n_rows - kept_total - null.max(0.0);
            let other_std = discovery_std * ((kept.len() + 1) as f64).sqrt();
            // A column needs one slot: with no kept value and no null slot, it is
            // "other" (a column whose every value is missing keeps only its null).
            let null_slot = shared.nullable(&column.name) || shared.clears(null, discovery_std);
            let other = (shared.clears(other, other_std) || (kept.is_empty() && !null_slot))
                .then_some(other.max(0.0));
            if let Some(rows) = other {
                ledger.folded.push((column.name.clone(), rows.round()));
            }
            (kept, other, null, discovery_std)
        }
    };
    let mut slots: Vec<Slot> = kept.iter().map(|(k, _)| Slot::Value(k.clone())).collect();
    let mut counts: Vec<f64> = kept.drain(..).map(|(_, c)| c.max(0.0)).collect();
    if let Some(other) = other {
        slots.push(Slot::Other);
        counts.push(other.max(0.0));
    }
    // Without a null slot, the few nulls of the column are encoded in the most
    // frequent slot (`DiscreteEncoder::encode`), never as a new category.
    if shared.nullable(&column.name) || shared.clears(null, std) {
        slots.push(Slot::Null);
        counts.push(if measured { null.max(0.0) } else { 0.0 });
    }
    Encoder::Discrete(DiscreteEncoder {
        slots,
        counts,
        other_values: Vec::new(),
        other_label: Some(privacy.other_label.clone()),
    })
}
