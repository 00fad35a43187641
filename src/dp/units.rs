//! The private half of a DP critic step: which rows enter it and how each clipped unit is
//! formed. Every draw here comes from the secret stream ([`DpRng`]), and every draw whose
//! count depends on the number of sampled rows is made here, so that the training stream
//! (fake rows, the next step's conditions) never depends on it.
//!
//! - Poisson sampling: each row independently with probability q (privacy.md).
//! - Per sampled row, i.i.d. draws: its fake partner (uniform over the pool of exactly B fake
//!   rows), its condition column (uniform over the discrete columns; the row's own category in
//!   it is the condition), its interpolation weight (uniform in [0, 1)) and its dropout masks.
//!   The per-row argument of `clip.rs` couples these draws between neighbouring tables, which
//!   needs them independent of the data and unknown to an adversary.
//! - The loss weight of a real row, `p_fake(slot) / p_real(slot)` capped at
//!   [`MAX_ROW_WEIGHT`], comes from the noisy histograms (public after preprocessing); whatever
//!   the weight, clipping bounds the unit.

use super::noise::DpRng;
use crate::sampler::{ConditionSampler, Conditions};

/// Largest loss weight of a real row (rows of categories that log-frequency conditioning
/// favours); clipping bounds a row's effect whatever its weight.
pub const MAX_ROW_WEIGHT: f64 = 10.0;

/// What the draws of one step depend on (all public or fixed before the step).
pub struct UnitShape<'a> {
    /// Rows in the table.
    pub n_rows: usize,
    /// Poisson sampling rate q.
    pub sample_rate: f64,
    /// Size of the fake-row pool, B (never the sampled count).
    pub pool: usize,
    /// The condition sampler (noisy frequencies) and each row's slot per discrete column
    /// (`[column][row]`).
    pub conditions: &'a ConditionSampler,
    /// Each row's slot in every discrete column, `[column][row]`.
    pub row_slots: &'a [Vec<u32>],
    /// Whether fake conditions follow log frequencies (then real rows are reweighted).
    pub log_frequency: bool,
    /// Dropout rate of the critic's hidden layers (0: no masks).
    pub dropout: f64,
    /// Widths of the critic's hidden layers.
    pub hidden_widths: &'a [usize],
}

/// The draws of one step, for its `n` sampled rows.
pub struct UnitDraws {
    /// The sampled rows, in table order.
    pub rows: Vec<u32>,
    /// Each row's fake partner in the pool.
    pub partners: Vec<i64>,
    /// Each row's condition (column and its own slot); empty without discrete columns.
    pub conditions: Conditions,
    /// Each row's loss weight.
    pub weights: Vec<f32>,
    /// Each row's interpolation weight α (the interpolate is α·real + (1 − α)·fake).
    pub alpha: Vec<f32>,
    /// Per hidden layer, the inverted-dropout mask over the rows `[real; fake; interpolated]`,
    /// row-major `[3n, width]`; empty without dropout.
    pub masks: Vec<Vec<f32>>,
}

/// Draws one step's rows and units from the secret stream.
pub fn draw_units(shape: &UnitShape, rng: &mut DpRng) -> UnitDraws {
    let rows = rng.poisson_sample(shape.n_rows, shape.sample_rate);
    let n = rows.len();
    let partners = (0..n).map(|_| rng.index(shape.pool) as i64).collect();
    let mut weights = vec![1f32; n];
    let mut conditions = Conditions::default();
    let columns = shape.conditions.columns();
    if columns > 0 {
        for (i, &row) in rows.iter().enumerate() {
            let column = rng.index(columns);
            let slot = shape.row_slots[column][row as usize] as usize;
            if shape.log_frequency {
                let p_real = shape.conditions.probability(column, slot, false);
                let p_fake = shape.conditions.probability(column, slot, true);
                weights[i] = if p_real > 0.0 {
                    (p_fake / p_real).min(MAX_ROW_WEIGHT) as f32
                } else {
                    MAX_ROW_WEIGHT as f32
                };
            }
            conditions.columns.push(column);
            conditions.slots.push(slot);
        }
    }
    let alpha = rng.uniform(n);
    let masks = if shape.dropout > 0.0 && n > 0 {
        shape
            .hidden_widths
            .iter()
            .map(|&w| rng.dropout_mask(3 * n * w, 1.0 - shape.dropout))
            .collect()
    } else {
        Vec::new()
    };
    UnitDraws {
        rows,
        partners,
        conditions,
        weights,
        alpha,
        masks,
    }
}
