//! CTGAN's data transformer: each column becomes a block of the network's input/output space
//! (mode-specific normalisation for continuous columns, one-hot for discrete ones) and back.

pub mod calibrate;
pub mod continuous;
pub mod dependence;
pub mod discrete;
pub mod gmm;
pub mod indicators;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::config::TransformConfig;
use crate::error::{Error, Result};
use crate::read::{Column, Table, Values};
use crate::schema::{ColumnKind, Schema};
pub use continuous::{argmax, ContinuousEncoder};
pub use discrete::{DiscreteEncoder, Slot};
use gmm::MixtureSettings;

/// The mixture-fit settings of a transform config.
pub fn mixture_settings(settings: &TransformConfig) -> MixtureSettings {
    MixtureSettings {
        max_modes: settings.max_modes,
        weight_threshold: settings.weight_threshold,
        iterations: settings.mixture_iterations,
    }
}

/// The output activation of one span of the generator's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// A scalar in [-1, 1].
    Tanh,
    /// A one-hot choice (Gumbel-softmax while training).
    Softmax,
}

/// A contiguous block of the encoded row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First index in the encoded row.
    pub offset: usize,
    /// Number of entries.
    pub width: usize,
    /// How the generator produces it.
    pub activation: Activation,
    /// Index of the discrete column it encodes, for spans that the conditional vector covers.
    pub condition_column: Option<usize>,
}

/// Where one column's state sits in an encoded row: its category slot, or for a continuous
/// column its mode (and, when it keeps nulls, a last "null" state). Every encoded row is in
/// exactly one state of every column, so a table of state pairs is a two-way marginal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnStates {
    /// First index of the one-hot block that names the state (category slots, modes, or the
    /// null span of a continuous column without modes).
    pub offset: usize,
    /// Width of that block (0: a continuous column with neither modes nor nulls).
    pub width: usize,
    /// Index of the "null" entry of the null span when the column has modes and keeps nulls:
    /// then a null row is in the extra last state.
    pub null: Option<usize>,
}

impl ColumnStates {
    /// Number of states (at least 1).
    pub fn count(&self) -> usize {
        (self.width + usize::from(self.null.is_some())).max(1)
    }

    /// The state of the dense encoded row `row`.
    pub fn state(&self, row: &[f32]) -> usize {
        if let Some(n) = self.null {
            if row[n] > 0.5 {
                return self.width;
            }
        }
        if self.width == 0 {
            return 0;
        }
        argmax(&row[self.offset..self.offset + self.width])
    }
}

/// An index drawn with probability proportional to `weights` (negative weights count as 0;
/// 0 when all are 0).
pub fn weighted_index(weights: &[f64], rng: &mut impl Rng) -> usize {
    let total: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    if total <= 0.0 {
        return 0;
    }
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        u -= w.max(0.0);
        if u < 0.0 {
            return i;
        }
    }
    weights.len() - 1
}

/// One column's fitted encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Encoder {
    /// One-hot.
    Discrete(DiscreteEncoder),
    /// Mode-specific normalisation.
    Continuous(ContinuousEncoder),
}

/// The fitted transformer for a whole table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataTransformer {
    /// The schema it was fitted on.
    pub schema: Schema,
    /// One encoder per column, in schema order.
    pub encoders: Vec<Encoder>,
}

/// A table in the network's space.
#[derive(Debug, Clone)]
pub struct EncodedTable {
    /// The encoded rows, kept sparse.
    pub rows: SparseRows,
    /// Number of rows.
    pub n_rows: usize,
    /// Width of a row.
    pub dim: usize,
    /// For each discrete column (in order), the slot of every row.
    pub discrete_slots: Vec<Vec<u32>>,
}

/// Encoded rows kept sparse: an encoded row is mostly zeros (one-hot spans), so each row
/// stores a fixed number of (index, value) entries instead of `dim` values: one per discrete
/// column, and per continuous column its scalar, its mode and its null flag. Memory grows
/// with rows x columns, not rows x one-hot width (issue 14, part 7); batches are made dense
/// as they are drawn ([`SparseRows::gather`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SparseRows {
    /// Width of a dense row.
    pub dim: usize,
    /// Number of rows.
    pub n_rows: usize,
    /// Entries per row.
    pub per_row: usize,
    /// `[n_rows * per_row]` column indices into the dense row.
    pub index: Vec<u32>,
    /// `[n_rows * per_row]` values (an unused entry holds 0.0).
    pub value: Vec<f32>,
}

impl SparseRows {
    /// `n_rows` rows of `per_row` entries each (index 0, value 0) in rows `dim` wide.
    pub(crate) fn new(n_rows: usize, dim: usize, per_row: usize) -> Self {
        SparseRows {
            dim,
            n_rows,
            per_row,
            index: vec![0; n_rows * per_row],
            value: vec![0.0; n_rows * per_row],
        }
    }

    /// Stores the nonzeros of `span` (a column's dense encoding, starting at dense index
    /// `offset`) in entries `first .. first + count` of row `row`; panics if there are more
    /// nonzeros than entries.
    fn set_span(&mut self, row: usize, first: usize, count: usize, offset: usize, span: &[f32]) {
        let base = row * self.per_row + first;
        let mut k = 0;
        for (j, &v) in span.iter().enumerate() {
            if v != 0.0 {
                assert!(k < count, "more nonzeros than the column's entries");
                self.index[base + k] = (offset + j) as u32;
                self.value[base + k] = v;
                k += 1;
            }
        }
        for e in base + k..base + count {
            self.index[e] = offset as u32;
            self.value[e] = 0.0;
        }
    }

    /// Adds row `row`'s entries into the zeroed dense row `out` (`dim` wide).
    fn add_to(&self, row: usize, out: &mut [f32]) {
        let range = row * self.per_row..(row + 1) * self.per_row;
        for (&i, &v) in self.index[range.clone()].iter().zip(&self.value[range]) {
            out[i as usize] += v;
        }
    }

    /// The dense rows `rows`, row-major `[rows.len(), dim]`.
    pub fn gather(&self, rows: &[u32]) -> Vec<f32> {
        let mut out = vec![0f32; rows.len() * self.dim];
        for (k, &r) in rows.iter().enumerate() {
            self.add_to(r as usize, &mut out[k * self.dim..(k + 1) * self.dim]);
        }
        out
    }

    /// The rows `rows`, in that order, still sparse.
    pub fn subset(&self, rows: &[u32]) -> SparseRows {
        let mut out = SparseRows::new(rows.len(), self.dim, self.per_row);
        for (k, &r) in rows.iter().enumerate() {
            let from = r as usize * self.per_row..(r as usize + 1) * self.per_row;
            let to = k * self.per_row..(k + 1) * self.per_row;
            out.index[to.clone()].copy_from_slice(&self.index[from.clone()]);
            out.value[to].copy_from_slice(&self.value[from]);
        }
        out
    }

    /// Every row, dense, row-major `[n_rows, dim]`.
    pub fn to_dense(&self) -> Vec<f32> {
        let all: Vec<u32> = (0..self.n_rows as u32).collect();
        self.gather(&all)
    }
}

/// Sparse entries a column's encoding needs per row.
fn entries_per_row(enc: &Encoder) -> usize {
    match enc {
        Encoder::Discrete(_) => 1,
        Encoder::Continuous(c) => {
            (if c.modes.is_empty() { 0 } else { 2 }) + usize::from(c.has_null)
        }
    }
}

impl DataTransformer {
    /// Fits every column's encoder on `table`.
    pub fn fit(table: &Table, schema: &Schema, settings: &TransformConfig) -> Result<Self> {
        if table.n_rows() == 0 {
            return Err(Error::Training(
                "the table has no rows; nothing to learn from".into(),
            ));
        }
        let mixture = mixture_settings(settings);
        let encoders = schema
            .columns
            .iter()
            .zip(&table.columns)
            .map(|(cs, col)| match cs.kind {
                ColumnKind::Discrete => {
                    Encoder::Discrete(DiscreteEncoder::fit(&col.values, settings.max_categories))
                }
                ColumnKind::Continuous => {
                    Encoder::Continuous(ContinuousEncoder::fit(&col.values, mixture))
                }
            })
            .collect();
        Ok(DataTransformer {
            schema: schema.clone(),
            encoders,
        })
    }

    /// The spans of an encoded row, in order.
    pub fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        let mut offset = 0;
        let mut discrete_index = 0;
        let mut push = |width: usize, activation, condition_column, offset: &mut usize| {
            if width > 0 {
                spans.push(Span {
                    offset: *offset,
                    width,
                    activation,
                    condition_column,
                });
                *offset += width;
            }
        };
        for enc in &self.encoders {
            match enc {
                Encoder::Discrete(d) => {
                    push(
                        d.width(),
                        Activation::Softmax,
                        Some(discrete_index),
                        &mut offset,
                    );
                    discrete_index += 1;
                }
                Encoder::Continuous(c) => {
                    if !c.modes.is_empty() {
                        push(1, Activation::Tanh, None, &mut offset);
                        push(c.modes.len(), Activation::Softmax, None, &mut offset);
                    }
                    if c.has_null {
                        push(2, Activation::Softmax, None, &mut offset);
                    }
                }
            }
        }
        spans
    }

    /// Each column's state layout, in schema order (see [`ColumnStates`]).
    pub fn column_states(&self) -> Vec<ColumnStates> {
        let mut offset = 0;
        self.encoders
            .iter()
            .map(|enc| {
                let states = match enc {
                    Encoder::Discrete(d) => ColumnStates {
                        offset,
                        width: d.width(),
                        null: None,
                    },
                    Encoder::Continuous(c) => {
                        let body = if c.modes.is_empty() {
                            0
                        } else {
                            1 + c.modes.len()
                        };
                        match (c.modes.is_empty(), c.has_null) {
                            (true, true) => ColumnStates {
                                offset,
                                width: 2,
                                null: None,
                            },
                            (true, false) => ColumnStates {
                                offset,
                                width: 0,
                                null: None,
                            },
                            (false, has_null) => ColumnStates {
                                offset: offset + 1,
                                width: c.modes.len(),
                                null: has_null.then_some(offset + body + 1),
                            },
                        }
                    }
                };
                offset += match enc {
                    Encoder::Discrete(d) => d.width(),
                    Encoder::Continuous(c) => c.width(),
                };
                states
            })
            .collect()
    }

    /// Each column's one-way probabilities over its states (the order of
    /// [`column_states`](Self::column_states)): category counts, or a continuous column's mode
    /// weights and null rate. In DP mode these are the noisy statistics.
    pub fn state_margins(&self) -> Vec<Vec<f64>> {
        let normalised = |v: Vec<f64>| -> Vec<f64> {
            let total: f64 = v.iter().map(|x| x.max(0.0)).sum();
            if total <= 0.0 {
                return vec![1.0 / v.len().max(1) as f64; v.len()];
            }
            v.iter().map(|x| x.max(0.0) / total).collect()
        };
        self.encoders
            .iter()
            .map(|enc| match enc {
                Encoder::Discrete(d) => normalised(d.counts.clone()),
                Encoder::Continuous(c) => {
                    let null = if c.has_null {
                        c.null_rate.clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let mut states: Vec<f64> = if c.modes.is_empty() {
                        vec![1.0 - null]
                    } else {
                        normalised(c.modes.iter().map(|m| m.weight).collect())
                            .into_iter()
                            .map(|w| w * (1.0 - null))
                            .collect()
                    };
                    if c.has_null {
                        states.push(null);
                    }
                    states
                }
            })
            .collect()
    }

    /// Column `c`'s name in the schema (`#c` for an index past its columns).
    pub fn column_name(&self, c: usize) -> String {
        self.schema
            .columns
            .get(c)
            .map_or_else(|| format!("#{c}"), |col| col.name.clone())
    }

    /// Width of an encoded row.
    pub fn output_dim(&self) -> usize {
        self.encoders
            .iter()
            .map(|e| match e {
                Encoder::Discrete(d) => d.width(),
                Encoder::Continuous(c) => c.width(),
            })
            .sum()
    }

    /// The discrete encoders, in order (the columns the conditional vector covers).
    pub fn discrete_encoders(&self) -> Vec<&DiscreteEncoder> {
        self.encoders
            .iter()
            .filter_map(|e| match e {
                Encoder::Discrete(d) => Some(d),
                Encoder::Continuous(_) => None,
            })
            .collect()
    }

    /// Clips every continuous column of `table` to its encoder's bounds, as DP preprocessing
    /// did before fitting (a resumed DP run encodes the same clipped values).
    pub fn clamp_to_bounds(&self, table: &mut Table) {
        for (enc, col) in self.encoders.iter().zip(table.columns.iter_mut()) {
            if let Encoder::Continuous(c) = enc {
                col.values.clamp_numbers(c.min, c.max);
            }
        }
    }

    /// Encodes `table` (which must have the fitted schema's columns, in order).
    pub fn transform(&self, table: &Table, rng: &mut impl Rng) -> EncodedTable {
        let n = table.n_rows();
        let dim = self.output_dim();
        let per_row = self.encoders.iter().map(entries_per_row).sum();
        let mut rows = SparseRows::new(n, dim, per_row);
        let mut discrete_slots = Vec::new();
        let (mut offset, mut first) = (0, 0);
        for (enc, col) in self.encoders.iter().zip(&table.columns) {
            let count = entries_per_row(enc);
            match enc {
                Encoder::Discrete(d) => {
                    let slots = d.encode(&col.values);
                    for (r, &s) in slots.iter().enumerate() {
                        rows.index[r * per_row + first] = (offset + s as usize) as u32;
                        rows.value[r * per_row + first] = 1.0;
                    }
                    discrete_slots.push(slots);
                    offset += d.width();
                }
                Encoder::Continuous(c) => {
                    let w = c.width();
                    let mut probs = vec![0.0; c.modes.len()];
                    let mut span = vec![0f32; w];
                    for r in 0..n {
                        c.encode_value(col.values.number(r), &mut span, &mut probs, rng);
                        rows.set_span(r, first, count, offset, &span);
                    }
                    offset += w;
                }
            }
            first += count;
        }
        EncodedTable {
            rows,
            n_rows: n,
            dim,
            discrete_slots,
        }
    }

    /// `n` encoded rows whose columns are drawn independently from the fitted marginals:
    /// category slots by their counts, continuous values from their mixture (clipped to the
    /// bounds), missing values at the fitted rate. Nothing here reads a row: in DP mode the
    /// counts and mixtures are the noisy statistics, so these rows are post-processing of
    /// them (the warm start of DP training learns from them).
    pub fn sample_independent(&self, n: usize, rng: &mut impl Rng) -> EncodedTable {
        self.sample_given_states(n, &vec![None; self.encoders.len()], rng)
    }

    /// Like [`sample_independent`](Self::sample_independent), but a column with
    /// `states[column] = Some(s)` takes row `r`'s state from `s[r]` (see [`ColumnStates`]: its
    /// category slot, or its mode or null state), its value then drawn within that state. The
    /// DP warm start passes states drawn from a model of the noisy pair tables.
    pub fn sample_given_states(
        &self,
        n: usize,
        states: &[Option<Vec<u32>>],
        rng: &mut impl Rng,
    ) -> EncodedTable {
        self.sample_given_values(n, states, &vec![None; self.encoders.len()], rng)
    }

    /// Like [`sample_given_states`](Self::sample_given_states), but a continuous column with
    /// `values[column] = Some(v)` takes row `r`'s value from `v[r]` (`None`: missing), encoded
    /// as training encodes a value; its state is then ignored.
    pub fn sample_given_values(
        &self,
        n: usize,
        states: &[Option<Vec<u32>>],
        values: &[Option<Vec<Option<f64>>>],
        rng: &mut impl Rng,
    ) -> EncodedTable {
        use rand_distr::{Distribution, Normal};
        let dim = self.output_dim();
        let per_row = self.encoders.iter().map(entries_per_row).sum();
        let mut rows = SparseRows::new(n, dim, per_row);
        let mut discrete_slots = Vec::new();
        let (mut offset, mut first) = (0, 0);
        for ((enc, given), fixed) in self.encoders.iter().zip(states).zip(values) {
            let count = entries_per_row(enc);
            match enc {
                Encoder::Discrete(d) => {
                    let slots: Vec<u32> = match given {
                        Some(s) => s.iter().map(|&x| x.min(d.width() as u32 - 1)).collect(),
                        None => (0..n)
                            .map(|_| weighted_index(&d.counts, rng) as u32)
                            .collect(),
                    };
                    for (r, &slot) in slots.iter().enumerate() {
                        rows.index[r * per_row + first] = (offset + slot as usize) as u32;
                        rows.value[r * per_row + first] = 1.0;
                    }
                    discrete_slots.push(slots);
                    offset += d.width();
                }
                Encoder::Continuous(c) => {
                    let w = c.width();
                    let weights: Vec<f64> = c.modes.iter().map(|m| m.weight).collect();
                    let mut probs = vec![0.0; c.modes.len()];
                    let mut span = vec![0f32; w];
                    for r in 0..n {
                        if let Some(v) = fixed {
                            let value = v[r].map(|x| x.clamp(c.min, c.max));
                            c.encode_value(value, &mut span, &mut probs, rng);
                            rows.set_span(r, first, count, offset, &span);
                            continue;
                        }
                        let state = given.as_ref().map(|s| s[r] as usize);
                        let null = match state {
                            // Without modes the states are [value, null]; with modes the
                            // null state follows the modes.
                            Some(s) if c.modes.is_empty() => c.has_null && s == 1,
                            Some(s) => c.has_null && s >= c.modes.len(),
                            None => c.has_null && rng.random::<f64>() < c.null_rate,
                        };
                        let value = if null {
                            None
                        } else if c.modes.is_empty() {
                            Some(c.min)
                        } else {
                            let mode = match state {
                                Some(s) => s.min(c.modes.len() - 1),
                                None => weighted_index(&weights, rng),
                            };
                            let m = &c.modes[mode];
                            let x = if m.exact {
                                m.mean
                            } else {
                                Normal::new(m.mean, m.std)
                                    .map_or(m.mean, |normal| normal.sample(rng))
                            };
                            Some(x.clamp(c.min, c.max))
                        };
                        c.encode_value(value, &mut span, &mut probs, rng);
                        rows.set_span(r, first, count, offset, &span);
                    }
                    offset += w;
                }
            }
            first += count;
        }
        EncodedTable {
            rows,
            n_rows: n,
            dim,
            discrete_slots,
        }
    }

    /// Decodes `n` encoded rows (row-major, `output_dim()` wide) back to a table with the
    /// input's column names and types.
    pub fn inverse(&self, data: &[f32], n: usize, rng: &mut impl Rng) -> Table {
        self.inverse_calibrated(data, n, rng, &[], &dependence::Dependence::default())
    }

    /// [`inverse`](Self::inverse) with each continuous column `k`'s values mapped by
    /// `calibrations[k]` where it is set (`transform::calibrate`; an empty slice: none), and
    /// the children of `dependence`'s edges moved towards their parents (`transform::dependence`:
    /// each edge column's probability from its calibration, or from the edge's own
    /// [`dependence::PointScale`] where it has no calibration).
    pub fn inverse_calibrated(
        &self,
        data: &[f32],
        n: usize,
        rng: &mut impl Rng,
        calibrations: &[Option<calibrate::Calibration>],
        dependence: &dependence::Dependence,
    ) -> Table {
        let dim = self.output_dim();
        debug_assert_eq!(data.len(), n * dim);
        // With edges: the probabilities of the edges' columns first (their free values under
        // the generator's distribution), adjusted together; without, each value is mapped as
        // it is decoded, the draws in the same order as always.
        let mut probs: Vec<Option<Vec<Option<f64>>>> = vec![None; self.encoders.len()];
        if !dependence.is_empty() {
            let mut offset = 0;
            for (k, enc) in self.encoders.iter().enumerate() {
                let w = match enc {
                    Encoder::Discrete(d) => d.width(),
                    Encoder::Continuous(c) => c.width(),
                };
                if let (Encoder::Continuous(c), true) = (enc, dependence.involves(k)) {
                    let cal = calibrations.get(k).and_then(|c| c.as_ref());
                    let points = dependence.point_scale(k);
                    let mixed = dependence.mixed_scale(k);
                    if cal.is_some() || points.is_some() {
                        probs[k] = Some(
                            (0..n)
                                .map(|r| {
                                    let span = &data[r * dim + offset..r * dim + offset + w];
                                    match (cal, points) {
                                        (Some(cal), _) if mixed.is_some() => {
                                            let m = mixed?;
                                            match c.decode_free(span) {
                                                Some(x) => {
                                                    let u = cal.prob(x, rng);
                                                    Some(m.prob_free(u, cal.value_at(u)))
                                                }
                                                None => c
                                                    .decode_value(span)
                                                    .and_then(|x| m.prob_point(x, rng)),
                                            }
                                        }
                                        (Some(cal), _) => {
                                            c.decode_free(span).map(|x| cal.prob(x, rng))
                                        }
                                        (None, Some(points)) => {
                                            c.decode_value(span).map(|x| points.prob(x, rng))
                                        }
                                        (None, None) => None,
                                    }
                                })
                                .collect(),
                        );
                    }
                }
                offset += w;
            }
            dependence.apply(&mut probs);
        }
        let mut offset = 0;
        let mut columns = Vec::with_capacity(self.encoders.len());
        for (k, (enc, cs)) in self.encoders.iter().zip(&self.schema.columns).enumerate() {
            let calibration = calibrations.get(k).and_then(|c| c.as_ref());
            let values = match enc {
                Encoder::Discrete(d) => {
                    let w = d.width();
                    let slots: Vec<u32> = (0..n)
                        .map(|r| argmax(&data[r * dim + offset..r * dim + offset + w]) as u32)
                        .collect();
                    offset += w;
                    Values::from_keys(&cs.value_type, d.decode(&slots, rng))
                }
                Encoder::Continuous(c) => {
                    let w = c.width();
                    let (lo, hi) = c.sampled_range();
                    let adjusted = probs[k].as_ref();
                    // Only a child's points move; a parent keeps its own (a rare point the
                    // pilot's table skips would otherwise go to a neighbour).
                    let points = dependence
                        .point_scale(k)
                        .filter(|_| dependence.edges.iter().any(|e| e.child == k));
                    let mixed = dependence.mixed_scale(k);
                    let numbers = (0..n)
                        .map(|r| {
                            let span = &data[r * dim + offset..r * dim + offset + w];
                            let x = match (calibration, adjusted) {
                                // A calibrated column with exact points in an edge: the
                                // point or free value at its (moved) probability.
                                (Some(cal), Some(p)) if mixed.is_some() => match (p[r], mixed) {
                                    (Some(u), Some(m)) => Some(match m.value_at(u) {
                                        dependence::MixedValue::Point(x) => x,
                                        dependence::MixedValue::Free(u) => c.snap(cal.value_at(u)),
                                    }),
                                    _ => c.decode_value(span),
                                },
                                // A column on exact points in an edge (or a file without
                                // DP's column): the value at its (moved) probability.
                                (None, Some(p)) if points.is_some() => {
                                    c.decode_value(span).map(|x| match (p[r], points) {
                                        (Some(u), Some(points)) => points.value_at(u),
                                        _ => x,
                                    })
                                }
                                (Some(cal), Some(p)) => c.decode_value_with(span, |x| {
                                    p[r].map_or(x, |u| cal.value_at(u))
                                }),
                                (Some(cal), None) => c.decode_value_with(span, |x| cal.map(x, rng)),
                                (None, _) => c.decode_value(span),
                            };
                            match cs.lattice {
                                Some(l) => x.map(|x| l.round_within(x, lo, hi)),
                                None => x,
                            }
                        })
                        .collect();
                    offset += w;
                    let mut values = Values::from_numbers(&cs.value_type, numbers);
                    if let Values::Float(v) = &mut values {
                        match cs.decimals {
                            Some(d) => {
                                for x in v.iter_mut().flatten() {
                                    *x = crate::schema::round_to(*x, d);
                                }
                            }
                            // Places not known: enough for the range's magnitude, never
                            // rounded out of the sampled range; the column's exact values
                            // (released points, float32 prints such as 3.20000004768372)
                            // are written as released.
                            None => {
                                let d = crate::schema::fallback_places(lo, hi);
                                let points: Vec<f64> =
                                    c.modes.iter().filter(|m| m.exact).map(|m| m.mean).collect();
                                for x in v.iter_mut().flatten() {
                                    let r = crate::schema::round_to(*x, d);
                                    if r >= lo && r <= hi && !points.contains(x) {
                                        *x = r;
                                    }
                                }
                            }
                        }
                    }
                    if let (Values::Datetime { values: v, .. }, Some(step)) =
                        (&mut values, cs.resolution)
                    {
                        for x in v.iter_mut().flatten() {
                            *x = (*x as f64 / step as f64).round() as i64 * step;
                        }
                    }
                    if let Some(calendar) = cs.calendar {
                        use crate::read::datetime::snap_calendar;
                        match &mut values {
                            Values::Date(v) => {
                                for x in v.iter_mut().flatten() {
                                    *x = snap_calendar(*x as i64, None, calendar) as i32;
                                }
                            }
                            Values::Datetime {
                                values: v, unit, ..
                            } => {
                                for x in v.iter_mut().flatten() {
                                    *x = snap_calendar(*x, Some(unit), calendar);
                                }
                            }
                            _ => {}
                        }
                    }
                    values
                }
            };
            columns.push(Column {
                name: cs.name.clone(),
                values,
                form: cs.form.clone(),
            });
        }
        Table { columns }
    }
}
