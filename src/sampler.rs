//! The conditional vector and CTGAN's training-by-sampling.
//!
//! Every step the generator is asked for rows with one discrete column fixed to one category
//! (chosen by log-frequency while training, by true frequency when sampling), so that rare
//! categories are learned. In non-DP mode the real rows shown to the discriminator are drawn to
//! match those conditions; DP mode must not do that (it breaks subsampling amplification).

use rand::Rng;

use crate::transform::DiscreteEncoder;

/// One condition per row: a discrete column and a slot of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions {
    /// Discrete-column index per row.
    pub columns: Vec<usize>,
    /// Slot (category) per row.
    pub slots: Vec<usize>,
}

/// Samples conditions and lays them out as one-hot vectors.
#[derive(Debug, Clone)]
pub struct ConditionSampler {
    offsets: Vec<usize>,
    widths: Vec<usize>,
    dim: usize,
    /// Cumulative probabilities per column: log-frequency.
    cumulative_log: Vec<Vec<f64>>,
    /// Cumulative probabilities per column: true frequency.
    cumulative_true: Vec<Vec<f64>>,
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let w: Vec<f64> = weights.map(|x| x.max(0.0)).collect();
    let total: f64 = w.iter().sum();
    let n = w.len();
    let mut acc = 0.0;
    w.iter()
        .map(|x| {
            acc += if total > 0.0 {
                x / total
            } else {
                1.0 / n as f64
            };
            acc
        })
        .collect()
}

fn draw(cumulative: &[f64], rng: &mut impl Rng) -> usize {
    let u: f64 = rng.random();
    cumulative
        .iter()
        .position(|&c| u < c)
        .unwrap_or(cumulative.len() - 1)
}

impl ConditionSampler {
    /// Builds the sampler from the discrete encoders' slot counts.
    pub fn new(discrete: &[&DiscreteEncoder]) -> Self {
        let widths: Vec<usize> = discrete.iter().map(|d| d.width()).collect();
        let mut offsets = Vec::with_capacity(widths.len());
        let mut dim = 0;
        for w in &widths {
            offsets.push(dim);
            dim += w;
        }
        ConditionSampler {
            offsets,
            widths,
            dim,
            cumulative_log: discrete
                .iter()
                .map(|d| cumulative(d.counts.iter().map(|c| (c + 1.0).ln())))
                .collect(),
            cumulative_true: discrete
                .iter()
                .map(|d| cumulative(d.counts.iter().copied()))
                .collect(),
        }
    }

    /// Width of the conditional vector (0 when the table has no discrete column).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Training conditions: column uniformly at random, slot by log-frequency (or true
    /// frequency when `log_frequency` is false). `None` without discrete columns.
    pub fn sample_train(
        &self,
        batch: usize,
        log_frequency: bool,
        rng: &mut impl Rng,
    ) -> Option<Conditions> {
        if self.widths.is_empty() {
            return None;
        }
        let table = if log_frequency {
            &self.cumulative_log
        } else {
            &self.cumulative_true
        };
        let mut conds = Conditions::default();
        for _ in 0..batch {
            let c = rng.random_range(0..self.widths.len());
            conds.columns.push(c);
            conds.slots.push(draw(&table[c], rng));
        }
        Some(conds)
    }

    /// Sampling-time conditions: column uniformly, slot by true frequency, so that generated
    /// rows follow the table's marginals.
    pub fn sample_original(&self, batch: usize, rng: &mut impl Rng) -> Option<Conditions> {
        self.sample_train(batch, false, rng)
    }

    /// Probability that training conditions pick `slot` given that `column` was picked.
    pub fn probability(&self, column: usize, slot: usize, log_frequency: bool) -> f64 {
        let table = if log_frequency {
            &self.cumulative_log
        } else {
            &self.cumulative_true
        };
        let c = &table[column];
        c[slot] - if slot == 0 { 0.0 } else { c[slot - 1] }
    }

    /// Number of discrete columns.
    pub fn columns(&self) -> usize {
        self.widths.len()
    }

    /// The same fixed condition for every row.
    pub fn fixed(&self, batch: usize, column: usize, slot: usize) -> Conditions {
        Conditions {
            columns: vec![column; batch],
            slots: vec![slot; batch],
        }
    }

    /// One-hot conditional vectors, row-major `[batch, dim]`.
    pub fn one_hot(&self, conds: &Conditions) -> Vec<f32> {
        let n = conds.columns.len();
        let mut out = vec![0f32; n * self.dim];
        for r in 0..n {
            out[r * self.dim + self.offsets[conds.columns[r]] + conds.slots[r]] = 1.0;
        }
        out
    }
}

/// Row indices of the real table grouped by (discrete column, slot): training-by-sampling
/// draws a real row that matches each condition. Non-DP mode only.
#[derive(Debug, Clone)]
pub struct RowsBySlot {
    rows: Vec<Vec<Vec<u32>>>,
}

impl RowsBySlot {
    /// Groups rows by their slot in every discrete column.
    pub fn new(discrete_slots: &[Vec<u32>], widths: &[usize]) -> Self {
        let rows = discrete_slots
            .iter()
            .zip(widths)
            .map(|(slots, &w)| {
                let mut by = vec![Vec::new(); w];
                for (r, &s) in slots.iter().enumerate() {
                    by[s as usize].push(r as u32);
                }
                by
            })
            .collect();
        RowsBySlot { rows }
    }

    /// A random real row for each condition.
    pub fn sample(&self, conds: &Conditions, rng: &mut impl Rng) -> Vec<u32> {
        conds
            .columns
            .iter()
            .zip(&conds.slots)
            .map(|(&c, &s)| {
                let rows = &self.rows[c][s];
                if !rows.is_empty() {
                    return rows[rng.random_range(0..rows.len())];
                }
                // No row holds this slot. Real rows never get here (a slot without rows has
                // frequency 0), but the DP warm start's rows are drawn from noisy counts, so a
                // rare slot may come out empty: take a row of the column at random instead.
                let total: usize = self.rows[c].iter().map(Vec::len).sum();
                let mut k = rng.random_range(0..total.max(1));
                for group in &self.rows[c] {
                    if k < group.len() {
                        return group[k];
                    }
                    k -= group.len();
                }
                0
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Values;
    use rand::SeedableRng;

    #[test]
    fn log_frequency_favours_rare_slots_and_true_frequency_does_not() {
        let mut values = vec![Some("a".to_string()); 990];
        values.extend(vec![Some("b".to_string()); 10]);
        let enc = DiscreteEncoder::fit(&Values::Text(values), 100);
        let sampler = ConditionSampler::new(&[&enc]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut share_b = |log| {
            let c = sampler.sample_train(20000, log, &mut rng).unwrap();
            c.slots.iter().filter(|&&s| s == 1).count() as f64 / 20000.0
        };
        // log(11) / (log(991) + log(11)) = 0.258; true frequency 0.01.
        assert!((share_b(true) - 0.258).abs() < 0.02);
        assert!((share_b(false) - 0.01).abs() < 0.005);
    }
}
