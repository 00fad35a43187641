//! Columns drawn again at sampling from their released pair tables, given their neighbours'
//! generated states, where the generator misses those tables by more than their noise.
//!
//! A DP generator sees a column of 0.2% fraud rows through clipped, noised gradients: on the
//! fraud-like table (docs/quality.md, stop 59) it sampled fraud in 0.13% of rows, each with
//! ordinary component means, while the released table of the tree's pair `V14 & Class` put a
//! quarter of the rows of `V14`'s lowest mode in fraud. Raking cannot move them: the weight of a
//! cell the generator never fills is capped. MST keeps such a signal because it draws each
//! column of its tree from the measured tables given its neighbours. (Fraud's `Class` itself
//! is not drawn: even beside five components the draw moves the pilot further from its
//! tables, whose coarse modes mix the fraud rows with the ordinary tail, docs/quality.md, stop
//! 61. Covertype's seven-valued `Cover_Type` is, from `Elevation`: AUC 0.794 -> 0.814.)
//!
//! For a column `X` whose states sampling draws at the released shares (a category; an exact
//! value of a coded column) this draws `X` again given the states `y₁ … yₘ` of the columns it
//! shares a released table with, as a naive Bayes model of those tables:
//! `P(x | y₁ … yₘ) ∝ π(x) Πⱼ P(yⱼ | x)`, with `π` the released one-way shares and `P(yⱼ | x)`
//! read from table `j` (each cell plus half a count's noise, so that a cell the projection
//! left empty does not veto a state). A neighbour whose modes are the generator's own use of
//! its outputs (a continuous column's soft modes: its values are mapped onto the mixture
//! afterwards) enters through its decoded value's posterior over the released modes, as the
//! released tables counted it. For a leaf of the tree this is MST's own conditional.
//!
//! Whether to draw `X` again is decided on the sampler's pilot rows, against what the draw
//! costs: the draw copies the released tables' noise into the rows. With `T` a released
//! table's shares (truth plus noise of variance `σ²` per cell) and `F` the pilot's, the
//! expected `Σ (T − F)²` is the generator's own error plus `Σ σ²`; a draw that fits `T`
//! (exactly, for a leaf) trades that error for the noise. So the draw is used where it brings
//! the pilot's `Σ (T − F)²` over `X`'s tables down by more than [`GAIN_FLOORS`] times the
//! tables' summed noise variance (plus the pilot's own sampling, a table's worth of `1/N`
//! each). A generator that holds the tables already keeps its column, with whatever else it
//! learned about it: bfi's personality items, each correlated with four others of which the
//! tree holds one or two, lost 0.017 of SDMetrics' pair trends where a divergence rule blind
//! to the tables' noise drew eight of them again (docs/quality.md, stop 60). A column whose
//! pairs with every other column are released is drawn wherever the draw brings the distance
//! down at all: there the summed variance overstated the noise the projected tables keep
//! (txhousing's city, stop 65; [`GAIN_FLOORS`]). Drawn columns are never each other's neighbours (the greatest gain first), so each draw reads states no
//! other draw moves.
//!
//! Reads only the file's released tables and the generator's rows: post-processing, no
//! privacy spent.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::links::set_state;
use crate::dp::marginals::NoisyPairs;
use crate::transform::calibrate::Calibration;
use crate::transform::gmm::mode_probabilities;
use crate::transform::{ColumnStates, ContinuousEncoder, DataTransformer, Encoder};

/// How many times the released tables' noise (the sum of their cells' variances, as shares)
/// the draw must bring the pilot's squared distance from them down by (module note), for a
/// column some of whose pairs are not released (a tree's): its draw drops what the generator
/// learned of those. A column whose pairs with every other column are released (every pair
/// measured, 16 columns or fewer; or a named target, whose pairs are kept beside a tree) is
/// drawn wherever the draw brings the distance down at all (beyond the pilot's own
/// sampling): the floor overstated the noise left in such tables, whose projection clears
/// most empty cells' noise. txhousing's city (46 values
/// beside eight amounts) gained 0.0085 against a floor of 2 x 0.0434 (its pilot's whole
/// distance was 0.028, under the noise alone); drawn, Houston's AUC went 0.579 -> 0.984, and
/// hdma, wages and males moved +0.002 to +0.004 in quality (docs/quality.md, stop 65). Trees
/// keep the floor: bfi's items drawn from two or three neighbours lost 0.012 of pair trends.
pub const GAIN_FLOORS: f64 = 2.0;

/// Half a count's noise, added to every released cell before reading conditionals from it.
pub const CELL_SMOOTHING: f64 = 0.5;

/// Seed of the draws among tied values when the pilot's tables are counted.
const TABLES_SEED: u64 = 0x7265_6472_6177_0001;

/// Most states of a column drawn again (each row weighs every state against every neighbour).
pub const STATES_MAX: usize = 256;

/// A neighbour read through its decoded, calibrated value.
#[derive(Debug, Clone)]
struct Soft {
    encoder: ContinuousEncoder,
    calibration: Option<Calibration>,
    offset: usize,
    width: usize,
}

/// One neighbour of a drawn column: how its state is read from a row, and the likelihood of
/// each of its states under each of the drawn column's.
#[derive(Debug, Clone)]
struct Neighbour {
    column: usize,
    states: ColumnStates,
    /// A continuous column with soft modes: its encoder (the posterior over the released
    /// modes of its decoded value, mapped onto the released mixture by a calibration fitted on
    /// the pilot as sampling's own is, is its state) and its span's offset and width in the row.
    soft: Option<Soft>,
    /// `[y * x_states + x]`: `P(y | x) / P(y)` from the released table.
    likelihood: Vec<f64>,
}

impl Neighbour {
    /// The neighbour's state probabilities in `row` (one-hot, or a soft mode's posterior),
    /// written into `out` (its state count long).
    fn state_probs(&self, row: &[f32], out: &mut [f64], rng: &mut impl Rng) {
        out.fill(0.0);
        match &self.soft {
            Some(soft) => match soft
                .encoder
                .decode_value_with(&row[soft.offset..soft.offset + soft.width], |x| {
                    soft.calibration.as_ref().map_or(x, |c| c.map(x, rng))
                }) {
                Some(x) => {
                    let modes = soft.encoder.modes.len();
                    mode_probabilities(&soft.encoder.modes, x, &mut out[..modes]);
                }
                None => {
                    let last = out.len() - 1;
                    out[last] = 1.0;
                }
            },
            None => {
                let s = self.states.state(row).min(out.len() - 1);
                out[s] = 1.0;
            }
        }
    }
}

/// A column drawn from its neighbours' states.
#[derive(Debug, Clone)]
pub struct Redraw {
    /// The drawn column (schema order).
    pub column: usize,
    states: ColumnStates,
    /// `ln π(x)`, the released one-way shares.
    log_prior: Vec<f64>,
    neighbours: Vec<Neighbour>,
    /// The pilot's squared distance from the released tables (shares): the generator's, the
    /// draw's, and the tables' summed noise variance, each over the column's tables.
    pub distance: (f64, f64, f64),
}

impl Redraw {
    /// Draws this column's state for each of the `n` rows of `encoded` (`dim` wide): one
    /// uniform per row from `rng`.
    fn apply(&self, encoded: &mut [f32], n: usize, dim: usize, rng: &mut impl Rng) {
        let xs = self.log_prior.len();
        let mut log_p = vec![0.0; xs];
        let mut probs: Vec<Vec<f64>> = self
            .neighbours
            .iter()
            .map(|nb| vec![0.0; nb.states.count()])
            .collect();
        let mut lik = vec![0.0; xs];
        for row in encoded.chunks_exact_mut(dim.max(1)).take(n) {
            let u: f64 = rng.random();
            log_p.copy_from_slice(&self.log_prior);
            for (nb, p) in self.neighbours.iter().zip(&mut probs) {
                nb.state_probs(row, p, rng);
                lik.fill(0.0);
                for (y, &w) in p.iter().enumerate() {
                    if w > 0.0 {
                        let cells = &nb.likelihood[y * xs..(y + 1) * xs];
                        lik.iter_mut().zip(cells).for_each(|(l, &c)| *l += w * c);
                    }
                }
                log_p
                    .iter_mut()
                    .zip(&lik)
                    .for_each(|(lp, &l)| *lp += l.max(f64::MIN_POSITIVE).ln());
            }
            let max = log_p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = log_p.iter().map(|&l| (l - max).exp()).sum();
            let mut acc = 0.0;
            let mut chosen = xs - 1;
            for (x, &l) in log_p.iter().enumerate() {
                acc += (l - max).exp() / total;
                if u < acc {
                    chosen = x;
                    break;
                }
            }
            set_state(&self.states, row, chosen);
        }
    }

    /// The pilot's tables of this column with each neighbour (`[x][y]`, expected counts over
    /// the `n` rows of `encoded`), against which the released ones are compared.
    fn pilot_tables(&self, encoded: &[f32], n: usize, dim: usize) -> Vec<Vec<f64>> {
        let xs = self.log_prior.len();
        let mut rng = ChaCha8Rng::seed_from_u64(TABLES_SEED);
        self.neighbours
            .iter()
            .map(|nb| {
                let ys = nb.states.count();
                let mut table = vec![0.0; xs * ys];
                let mut p = vec![0.0; ys];
                for row in encoded.chunks_exact(dim.max(1)).take(n) {
                    let x = self.states.state(row).min(xs - 1);
                    nb.state_probs(row, &mut p, &mut rng);
                    for (y, &w) in p.iter().enumerate() {
                        table[x * ys + y] += w;
                    }
                }
                table
            })
            .collect()
    }
}

/// `Σ (T − F)²` of a released table `released` (shares) against the pilot's `counts` over
/// `n` rows (shares `F`).
fn squared_distance(released: &[f64], counts: &[f64], n: usize) -> f64 {
    let n = n.max(1) as f64;
    released
        .iter()
        .zip(counts)
        .map(|(&t, &c)| (t - c / n).powi(2))
        .sum()
}

/// The columns drawn again from their neighbours at sampling.
#[derive(Debug, Clone, Default)]
pub struct Redraws {
    /// In the order they are applied (drawn columns are never each other's neighbours).
    pub redraws: Vec<Redraw>,
}

impl Redraws {
    /// Decides, on the `n` pilot rows of `pilot` (`dim` wide, activated, after links), which
    /// columns of `transformer` to draw again from the released `pairs` (trained on
    /// `training_rows` rows; module note), and draws them in `pilot` too. `drawn_at_shares`
    /// says per column whether its states are drawn at the released shares (those columns may
    /// be drawn again; the others are neighbours through their decoded values, calibrated
    /// with `public_ends`, each column's public bounds, as sampling's are); `held` names
    /// the columns drawn otherwise (an indicator group's members, a link's columns), which are
    /// not drawn again but are read as neighbours (their states are final before the draws:
    /// ACTG175's `cens` reads the treatment arm and the strata that links hold). `rng` draws
    /// the pilot's rows.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        pairs: &NoisyPairs,
        transformer: &DataTransformer,
        training_rows: usize,
        pilot: &mut [f32],
        n: usize,
        dim: usize,
        drawn_at_shares: &[bool],
        public_ends: &[(bool, bool)],
        held: impl Fn(usize) -> bool,
        rng: &mut impl Rng,
    ) -> Redraws {
        let layout = transformer.column_states();
        let k = layout.len();
        if pairs.states.len() != k
            || pairs.tables.len() != pairs.pairs.len()
            || drawn_at_shares.len() != k
            || public_ends.len() != k
            || n == 0
        {
            return Redraws::default();
        }
        let margins = transformer.state_margins();
        let smoothing = CELL_SMOOTHING * pairs.noise_std / training_rows.max(1) as f64;
        let mut offsets = Vec::with_capacity(k);
        let mut offset = 0;
        for enc in &transformer.encoders {
            offsets.push(offset);
            offset += match enc {
                Encoder::Discrete(d) => d.width(),
                Encoder::Continuous(c) => c.width(),
            };
        }
        // Each soft neighbour's calibration, fitted once.
        let mut calibrations: Vec<Option<Option<Calibration>>> = vec![None; k];
        // Each candidate with its released tables oriented [x][y].
        let mut candidates: Vec<(Redraw, Vec<Vec<f64>>)> = Vec::new();
        for x in 0..k {
            let xs = layout[x].count();
            if !drawn_at_shares[x] || held(x) || !(2..=STATES_MAX).contains(&xs) {
                continue;
            }
            if margins[x].len() != xs {
                continue;
            }
            let mut neighbours = Vec::new();
            let mut released = Vec::new();
            for (&(a, b), table) in pairs.pairs.iter().zip(&pairs.tables) {
                let y = match (a == x, b == x) {
                    (true, false) => b,
                    (false, true) => a,
                    _ => continue,
                };
                let ys = layout[y].count();
                if ys < 2
                    || pairs.states[x] != xs
                    || pairs.states[y] != ys
                    || table.len() != xs * ys
                {
                    continue;
                }
                let soft = match &transformer.encoders[y] {
                    Encoder::Continuous(c) if !drawn_at_shares[y] => {
                        if c.modes.is_empty() {
                            continue;
                        }
                        if calibrations[y].is_none() {
                            let free: Vec<f64> = pilot
                                .chunks_exact(dim)
                                .take(n)
                                .filter_map(|r| {
                                    c.decode_free(&r[offsets[y]..offsets[y] + c.width()])
                                })
                                .collect();
                            calibrations[y] = Some(Calibration::fit(c, free, public_ends[y]));
                        }
                        Some(Soft {
                            encoder: c.clone(),
                            calibration: calibrations[y].clone().flatten(),
                            offset: offsets[y],
                            width: c.width(),
                        })
                    }
                    _ => None,
                };
                // Oriented [x][y].
                let oriented: Vec<f64> = if a == x {
                    table.clone()
                } else {
                    (0..xs * ys)
                        .map(|i| table[(i % ys) * xs + i / ys])
                        .collect()
                };
                let row_mass: Vec<f64> = (0..xs)
                    .map(|i| {
                        oriented[i * ys..(i + 1) * ys].iter().sum::<f64>() + smoothing * ys as f64
                    })
                    .collect();
                let col_mass: Vec<f64> = (0..ys)
                    .map(|j| {
                        (0..xs).map(|i| oriented[i * ys + j]).sum::<f64>() + smoothing * xs as f64
                    })
                    .collect();
                let mut likelihood = vec![0.0; ys * xs];
                for i in 0..xs {
                    for j in 0..ys {
                        likelihood[j * xs + i] =
                            (oriented[i * ys + j] + smoothing) / row_mass[i] / col_mass[j];
                    }
                }
                neighbours.push(Neighbour {
                    column: y,
                    states: layout[y],
                    soft,
                    likelihood,
                });
                released.push(oriented);
            }
            if neighbours.is_empty() {
                continue;
            }
            let log_prior = margins[x].iter().map(|&p| (p + smoothing).ln()).collect();
            candidates.push((
                Redraw {
                    column: x,
                    states: layout[x],
                    log_prior,
                    neighbours,
                    distance: (0.0, 0.0, 0.0),
                },
                released,
            ));
        }
        // Each candidate scored on a copy of the pilot: the squared distance of its tables'
        // shares from the released ones, before and after a trial draw.
        let noise = pairs.noise_std / training_rows.max(1) as f64;
        let mut scored: Vec<(bool, Redraw)> = Vec::new();
        for (mut redraw, released) in candidates {
            let score = |rows: &[f32]| -> f64 {
                redraw
                    .pilot_tables(rows, n, dim)
                    .iter()
                    .zip(&released)
                    .map(|(counts, t)| squared_distance(t, counts, n))
                    .sum()
            };
            let cells: usize = released.iter().map(Vec::len).sum();
            // What the released tables' noise puts in a distance by itself (each cell's
            // variance), and the pilot's own sampling (each table's shares over n rows).
            let noise_floor = cells as f64 * noise * noise;
            let pilot_floor = released.len() as f64 / n as f64;
            // Every other column of two states or more a neighbour: every pair with it
            // released (`GAIN_FLOORS`), as for a named target beside a tree.
            let others = (0..k)
                .filter(|&y| y != redraw.column && layout[y].count() >= 2)
                .count();
            let complete = redraw.neighbours.len() >= others;
            let floors = if complete { 0.0 } else { GAIN_FLOORS };
            let before = score(pilot);
            if before < floors * noise_floor + pilot_floor {
                continue;
            }
            let mut copy = pilot[..n * dim].to_vec();
            redraw.apply(&mut copy, n, dim, rng);
            let after = score(&copy);
            redraw.distance = (before, after, noise_floor);
            if before - after > floors * noise_floor + pilot_floor {
                scored.push((complete, redraw));
            }
        }
        // A column with every pair released first (a named target beside a tree: it is drawn
        // from every column, where a tree's column that would block it reads two or three),
        // then the greatest gain; a column next to one already drawn is left as it is.
        scored.sort_by(|(ca, a), (cb, b)| {
            let gain = |r: &Redraw| r.distance.0 - r.distance.1;
            cb.cmp(ca)
                .then(gain(b).total_cmp(&gain(a)))
                .then(a.column.cmp(&b.column))
        });
        let mut touched = vec![false; k];
        let mut redraws = Vec::new();
        for (_, redraw) in scored {
            if touched[redraw.column] || redraw.neighbours.iter().any(|nb| touched[nb.column]) {
                continue;
            }
            touched[redraw.column] = true;
            redraw
                .neighbours
                .iter()
                .for_each(|nb| touched[nb.column] = true);
            redraw.apply(pilot, n, dim, rng);
            redraws.push(redraw);
        }
        Redraws { redraws }
    }

    /// Draws every column of the `n` activated rows of `encoded` (`dim` wide) again from its
    /// neighbours: one uniform per drawn column and row from `rng`, in order.
    pub fn apply(&self, encoded: &mut [f32], n: usize, dim: usize, rng: &mut impl Rng) {
        for redraw in &self.redraws {
            redraw.apply(encoded, n, dim, rng);
        }
    }

    /// Whether no column is drawn again.
    pub fn is_empty(&self) -> bool {
        self.redraws.is_empty()
    }

    /// The drawn columns as `Class given V14, V3 (… 1.1e-3 -> 5.5e-4, their noise 4.8e-5)`,
    /// joined by `; ` (`-` for none), with the column names of `transformer`'s schema.
    pub fn describe(&self, transformer: &DataTransformer) -> String {
        if self.redraws.is_empty() {
            return "-".to_string();
        }
        let name = |c: usize| transformer.column_name(c);
        self.redraws
            .iter()
            .map(|r| {
                let given: Vec<String> = r.neighbours.iter().map(|nb| name(nb.column)).collect();
                format!(
                    "{} given {} (pilot's squared distance from the released tables {:.2e} -> {:.2e}, their noise {:.2e})",
                    name(r.column),
                    given.join(", "),
                    r.distance.0,
                    r.distance.1,
                    r.distance.2
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}
