//! One-hot encoding of a discrete column, with a null slot when values are missing and an
//! "other" slot that keeps memory bounded for columns with very many categories.

use std::collections::HashMap;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::read::Values;

/// What one one-hot slot stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Slot {
    /// A category, as its key (the value's text form, byte for byte).
    Value(String),
    /// The rare categories beyond `max_categories`, drawn back at their observed frequencies.
    Other,
    /// A missing value.
    Null,
}

/// A fitted one-hot encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscreteEncoder {
    /// The one-hot slots, most frequent category first.
    pub slots: Vec<Slot>,
    /// Row counts per slot (training-by-sampling and conditional sampling use them).
    pub counts: Vec<f64>,
    /// Rare categories folded into [`Slot::Other`], with their counts (empty in DP mode).
    pub other_values: Vec<(String, f64)>,
    /// What [`Slot::Other`] decodes to when `other_values` is empty (DP mode: the rare values
    /// themselves are private).
    #[serde(default)]
    pub other_label: Option<String>,
}

impl DiscreteEncoder {
    /// Counts the categories of `values`; keeps the `max_categories` most frequent as slots.
    pub fn fit(values: &Values, max_categories: usize) -> DiscreteEncoder {
        let mut counts: HashMap<String, (usize, f64)> = HashMap::new();
        let mut nulls = 0.0;
        for i in 0..values.len() {
            match values.key(i) {
                Some(k) => {
                    let next = counts.len();
                    counts.entry(k).or_insert((next, 0.0)).1 += 1.0;
                }
                None => nulls += 1.0,
            }
        }
        // Most frequent first; ties keep the order of first appearance.
        let mut ranked: Vec<(String, usize, f64)> =
            counts.into_iter().map(|(k, (o, c))| (k, o, c)).collect();
        ranked.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.1.cmp(&b.1)));
        let keep = if ranked.len() > max_categories {
            max_categories - 1
        } else {
            ranked.len()
        };
        let mut slots = Vec::with_capacity(keep + 2);
        let mut slot_counts = Vec::with_capacity(keep + 2);
        for (k, _, c) in &ranked[..keep] {
            slots.push(Slot::Value(k.clone()));
            slot_counts.push(*c);
        }
        let other_values: Vec<(String, f64)> = ranked[keep..]
            .iter()
            .map(|(k, _, c)| (k.clone(), *c))
            .collect();
        if !other_values.is_empty() {
            slots.push(Slot::Other);
            slot_counts.push(other_values.iter().map(|(_, c)| c).sum());
        }
        if nulls > 0.0 {
            slots.push(Slot::Null);
            slot_counts.push(nulls);
        }
        DiscreteEncoder {
            slots,
            counts: slot_counts,
            other_values,
            other_label: None,
        }
    }

    /// Width of the one-hot span.
    pub fn width(&self) -> usize {
        self.slots.len()
    }

    /// A lookup from category key to slot, for encoding many rows.
    pub fn slot_index(&self) -> HashMap<&str, usize> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Slot::Value(k) => Some((k.as_str(), i)),
                _ => None,
            })
            .collect()
    }

    /// The slot of each row of `values`.
    pub fn encode(&self, values: &Values) -> Vec<u32> {
        let index = self.slot_index();
        let other = self.slots.iter().position(|s| *s == Slot::Other);
        let null = self.slots.iter().position(|s| *s == Slot::Null);
        // Where a value with no slot of its own goes: the most frequent slot.
        let fallback = (0..self.counts.len())
            .max_by(|&a, &b| self.counts[a].total_cmp(&self.counts[b]))
            .unwrap_or(0);
        (0..values.len())
            .map(|i| {
                let slot = match values.key(i) {
                    // Without a null slot (DP mode, nulls too rare to measure): "other".
                    None => null.or(other),
                    Some(k) => index.get(k.as_str()).copied().or(other),
                };
                // A value without a slot (unseen at fit time, or in DP mode outside a list that
                // keeps no "other") goes to the most frequent slot rather than failing.
                slot.unwrap_or(fallback) as u32
            })
            .collect()
    }

    /// The slot named by a user's condition value, if the value is one of the kept categories.
    pub fn slot_of(&self, key: &str) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| matches!(s, Slot::Value(k) if k == key))
    }

    /// Category keys for chosen slots; `Other` draws a rare category by frequency.
    pub fn decode<'a>(&'a self, slots: &[u32], rng: &mut impl Rng) -> Vec<Option<&'a str>> {
        let other_total: f64 = self.other_values.iter().map(|(_, c)| c).sum();
        slots
            .iter()
            .map(|&s| match &self.slots[s as usize] {
                Slot::Value(k) => Some(k.as_str()),
                Slot::Null => None,
                Slot::Other if self.other_values.is_empty() => self.other_label.as_deref(),
                Slot::Other => {
                    let mut u = rng.random::<f64>() * other_total;
                    for (k, c) in &self.other_values {
                        if u < *c {
                            return Some(k.as_str());
                        }
                        u -= c;
                    }
                    self.other_values.last().map(|(k, _)| k.as_str())
                }
            })
            .collect()
    }
}
