//! A tree model of the released two-way marginals (`dp::marginals::NoisyPairs`), as MST samples
//! its synthetic rows, and raking of its rows towards every measured table. Post-processing of
//! the noisy tables: nothing here reads a row. The DP warm start draws its surrogate rows from
//! it (`surrogate.rs`).

use crate::dp::marginals::NoisyPairs;
use crate::transform::weighted_index;

/// Prior std of a category's shift of a normal score: a shift's noisy estimate is shrunk
/// towards 0 by `prior² / (prior² + noise²)`.
pub const SHIFT_PRIOR_STD: f64 = 0.5;

/// Largest shift of a normal score a category is given.
pub const MAX_SHIFT: f64 = 1.5;

/// Smallest variance of a normal score within a category.
pub const MIN_SPREAD: f64 = 0.1;

impl NoisyPairs {
    /// The tree model's edges: a maximum spanning forest over the measured pairs weighted by
    /// each table's mutual information (Kruskal, highest first). Returns, per column, the
    /// indices of the tables of its edges.
    pub fn tree(&self) -> Vec<Vec<usize>> {
        let k = self.states.len();
        let mut order: Vec<usize> = (0..self.pairs.len()).collect();
        let info: Vec<f64> = self
            .pairs
            .iter()
            .zip(&self.tables)
            .map(|(&(_, b), t)| mutual_information(t, self.states[b]))
            .collect();
        order.sort_by(|&x, &y| info[y].total_cmp(&info[x]));
        let mut component: Vec<usize> = (0..k).collect();
        fn find(c: &mut [usize], mut i: usize) -> usize {
            while c[i] != i {
                c[i] = c[c[i]];
                i = c[i];
            }
            i
        }
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); k]; // column -> tables it is in
        for t in order {
            let (a, b) = self.pairs[t];
            let (ra, rb) = (find(&mut component, a), find(&mut component, b));
            if ra != rb {
                component[ra] = rb;
                edges[a].push(t);
                edges[b].push(t);
            }
        }
        edges
    }

    /// The column pairs `(a, b)`, `a < b`, of the tree model's edges ([`tree`](Self::tree)).
    pub fn tree_pairs(&self) -> Vec<(usize, usize)> {
        let mut tables: Vec<usize> = self.tree().into_iter().flatten().collect();
        tables.sort_unstable();
        tables.dedup();
        tables.into_iter().map(|t| self.pairs[t]).collect()
    }

    /// The measured normal-score correlation of columns `a` and `b`, if any.
    pub fn copula_of(&self, a: usize, b: usize) -> Option<f64> {
        let key = (a.min(b), a.max(b));
        self.copula
            .iter()
            .find(|(p, _)| *p == key)
            .map(|&(_, rho)| rho)
    }

    /// How discrete column `d`'s states shift continuous column `b`'s normal score, from the
    /// noisy per-state sums of their edge (`dp::copula::measure_shifts`), if measured: each
    /// state's mean score and the common spread within a state. Post-processing: a state's
    /// mean is its sum times `B / (N p_s)` (`p_s` from the pair's noisy table), shrunk towards
    /// 0 by its noise (a prior std of [`SHIFT_PRIOR_STD`] against the noise's
    /// `B σ / (N p_s)`) and clipped to ±[`MAX_SHIFT`]; the spread is what the shifts leave of
    /// a score's unit variance.
    pub fn score_shift(&self, d: usize, b: usize) -> Option<(Vec<f64>, f64)> {
        use crate::dp::copula::SCORE_CLIP;
        let shift = self
            .shifts
            .iter()
            .find(|s| s.discrete == d && s.continuous == b)?;
        let t = self.pairs.iter().position(|&p| p == (d.min(b), d.max(b)))?;
        let (rows, cols) = margins(&self.tables[t], self.states[d.max(b)]);
        let share = if d < b { rows } else { cols };
        let n = shift.rows as f64;
        let means: Vec<f64> = shift
            .sums
            .iter()
            .zip(&share)
            .map(|(&sum, &p)| {
                let count = (n * p).max(1.0);
                let raw = sum * SCORE_CLIP / count;
                let noise = SCORE_CLIP * self.noise_std / count;
                let keep = SHIFT_PRIOR_STD.powi(2) / (SHIFT_PRIOR_STD.powi(2) + noise * noise);
                (raw * keep).clamp(-MAX_SHIFT, MAX_SHIFT)
            })
            .collect();
        let explained: f64 = means.iter().zip(&share).map(|(m, p)| p * m * m).sum();
        Some((means, (1.0 - explained).max(MIN_SPREAD).sqrt()))
    }

    /// `n` rows of column states drawn from a tree-structured model of these tables, as MST
    /// samples its synthetic rows (post-processing of the noisy tables; no row is read): the
    /// maximum spanning forest of [`tree`](Self::tree), each tree rooted at its first column,
    /// the root's state drawn from its margin in one of its tables and every other column's
    /// from its table conditioned on its parent's state. Returns `[column][row]`; `None` for a
    /// column in no measured pair (the caller draws it from its one-way histogram).
    pub fn sample_states(&self, n: usize, rng: &mut impl rand::Rng) -> Vec<Option<Vec<u32>>> {
        self.sample_linked_states(n, rng, &mut |_, _, _, _, _| {})
    }

    /// Like [`sample_states`](Self::sample_states), calling `link(parent, child,
    /// parent_states, child_states, rng)` after each child column is drawn, which may redraw
    /// the child's states (the warm start's copula links continuous pairs this way).
    pub fn sample_linked_states<R: rand::RngCore>(
        &self,
        n: usize,
        rng: &mut R,
        link: &mut Link<'_>,
    ) -> Vec<Option<Vec<u32>>> {
        let k = self.states.len();
        let edges = self.tree();
        let mut states: Vec<Option<Vec<u32>>> = vec![None; k];
        for root in 0..k {
            if states[root].is_some() || edges[root].is_empty() {
                continue;
            }
            // The root's margin from its first table.
            let t = edges[root][0];
            let (a, b) = self.pairs[t];
            let (rows, cols) = margins(&self.tables[t], self.states[b]);
            let margin = if a == root { rows } else { cols };
            states[root] = Some(
                (0..n)
                    .map(|_| weighted_index(&margin, rng) as u32)
                    .collect(),
            );
            let mut stack = vec![root];
            while let Some(parent) = stack.pop() {
                for &t in &edges[parent] {
                    let (a, b) = self.pairs[t];
                    let child = if a == parent { b } else { a };
                    if states[child].is_some() {
                        continue;
                    }
                    let (sa, sb) = (self.states[a], self.states[b]);
                    let table = &self.tables[t];
                    let (rows, cols) = margins(table, sb);
                    let child_margin = if a == parent { cols } else { rows };
                    let given = states[parent].as_ref().expect("parents are drawn first");
                    let drawn = given
                        .iter()
                        .map(|&s| {
                            let s = s as usize;
                            let weights: Vec<f64> = if a == parent {
                                table[s * sb..(s + 1) * sb].to_vec()
                            } else {
                                (0..sa).map(|i| table[i * sb + s]).collect()
                            };
                            // A parent state this table gives no mass (the tables are noisy
                            // and need not agree on a shared column): the child's margin.
                            if weights.iter().all(|&w| w <= 0.0) {
                                weighted_index(&child_margin, rng) as u32
                            } else {
                                weighted_index(&weights, rng) as u32
                            }
                        })
                        .collect();
                    let mut drawn: Vec<u32> = drawn;
                    link(parent, child, given, &mut drawn, &mut *rng);
                    states[child] = Some(drawn);
                    stack.push(child);
                }
            }
        }
        states
    }
}

impl NoisyPairs {
    /// Raking (iterative proportional fitting on rows, as survey weights are raked): weights for
    /// rows of column states (e.g. drawn by [`sample_states`](Self::sample_states), which keeps
    /// only a tree of the tables) so that their weighted pair tables come close to every
    /// measured table, the ones the tree left out included, and each column's states to
    /// `margins[column]` (its one-way probabilities; an empty list skips the column). Each of
    /// `rounds` passes visits every table whose columns have states and multiplies each row's
    /// weight by its cell's target over its current mass, the ratio held within
    /// `[1 / RAKE_CLAMP, RAKE_CLAMP]` (the noisy tables need not agree, and one empty target
    /// cell must not erase every row in it).
    /// Post-processing of the noisy tables: no row is read. Returns one weight per row, mean 1.
    pub fn rake(
        &self,
        states: &[Option<Vec<u32>>],
        margins: &[Vec<f64>],
        rounds: usize,
    ) -> Vec<f64> {
        self.rake_with_factors(states, margins, rounds, 0.0).0
    }

    /// [`rake`](Self::rake)'s updates as factors, one per cell of every table and margin it
    /// visited: any row of column states, those raked or new ones drawn the same way, is
    /// weighted by [`RakeFactors::weight`] in proportion to what raking would give it
    /// (`dpsynth sample` weighs the generator's rows so). Post-processing of the noisy tables.
    /// `pseudo` (a probability) is added to each cell's target and current share before
    /// their ratio is taken, so that a cell moves only where the two differ by more than that:
    /// with the tables' noise std over the rows, the noise in a table's small cells no
    /// longer sets the weights (0: [`rake`](Self::rake)'s ratios).
    pub fn rake_factors(
        &self,
        states: &[Option<Vec<u32>>],
        margins: &[Vec<f64>],
        rounds: usize,
        pseudo: f64,
    ) -> RakeFactors {
        self.rake_with_factors(states, margins, rounds, pseudo).1
    }

    fn rake_with_factors(
        &self,
        states: &[Option<Vec<u32>>],
        margins: &[Vec<f64>],
        rounds: usize,
        pseudo: f64,
    ) -> (Vec<f64>, RakeFactors) {
        let n = states.iter().flatten().map(Vec::len).next().unwrap_or(0);
        let mut weights = vec![1.0; n];
        let mut factors = RakeFactors {
            targets: Vec::new(),
        };
        if n == 0 {
            return (weights, factors);
        }
        let mut cell = vec![0usize; n];
        // Every pair table, then every column's one-way margin (measured with less noise than
        // a pair table's margins), so that a round ends on the one-way shapes.
        let pairs = self
            .pairs
            .iter()
            .zip(&self.tables)
            .map(|(&(a, b), t)| (a, Some(b), t));
        let singles = margins.iter().enumerate().map(|(a, m)| (a, None, m));
        let targets: Vec<(usize, Option<usize>, &Vec<f64>)> = pairs.chain(singles).collect();
        for _ in 0..rounds {
            for &(a, b, table) in &targets {
                let Some(sa) = &states[a] else { continue };
                let (sb, rb) = match b {
                    Some(b) => match &states[b] {
                        Some(sb) => (Some(sb), self.states[b]),
                        None => continue,
                    },
                    None => (None, 1),
                };
                if table.is_empty() {
                    continue;
                }
                let mut mass = vec![0.0; table.len()];
                for r in 0..n {
                    let j = sb.map_or(0, |sb| sb[r] as usize);
                    cell[r] = (sa[r] as usize * rb + j).min(table.len() - 1);
                    mass[cell[r]] += weights[r];
                }
                let ratio = rake_ratios(table, &mass, pseudo);
                for r in 0..n {
                    weights[r] *= ratio[cell[r]];
                }
                let mean = weights.iter().sum::<f64>() / n as f64;
                weights.iter_mut().for_each(|w| *w /= mean);
                let column_b = b.filter(|_| sb.is_some());
                match factors
                    .targets
                    .iter_mut()
                    .find(|t| t.a == a && t.b == column_b)
                {
                    Some(t) => t.factors.iter_mut().zip(&ratio).for_each(|(f, r)| *f *= r),
                    None => factors.targets.push(RakeTarget {
                        a,
                        b: column_b,
                        rb,
                        factors: ratio,
                    }),
                }
            }
        }
        (weights, factors)
    }
}

/// Raking's multiplicative updates ([`NoisyPairs::rake_factors`]), to weigh rows that were not
/// raked.
#[derive(Debug, Clone, PartialEq)]
pub struct RakeFactors {
    targets: Vec<RakeTarget>,
}

/// One table or margin raking visited: its columns and the product of its cells' updates.
#[derive(Debug, Clone, PartialEq)]
struct RakeTarget {
    a: usize,
    /// `None`: column `a`'s one-way margin.
    b: Option<usize>,
    /// States of column `b` (1 for a margin).
    rb: usize,
    /// `[states[a] * rb]`, row-major.
    factors: Vec<f64>,
}

impl RakeFactors {
    /// How many pair tables (not one-way margins) the factors hold.
    pub fn pair_tables(&self) -> usize {
        self.targets.iter().filter(|t| t.b.is_some()).count()
    }

    /// Multiplies column `a`'s one-way factors by `ratio` (one per state), adding the margin
    /// if raking did not visit it.
    pub fn scale_margin(&mut self, a: usize, ratio: &[f64]) {
        match self.targets.iter_mut().find(|t| t.a == a && t.b.is_none()) {
            Some(t) => t.factors.iter_mut().zip(ratio).for_each(|(f, r)| *f *= r),
            None => self.targets.push(RakeTarget {
                a,
                b: None,
                rb: 1,
                factors: ratio.to_vec(),
            }),
        }
    }

    /// The weight raking gives a row whose columns are in `states` (one state per column),
    /// up to a factor common to every row.
    pub fn weight(&self, states: &[u32]) -> f64 {
        self.targets
            .iter()
            .map(|t| {
                let j = t.b.map_or(0, |b| states[b] as usize);
                let cell = (states[t.a] as usize * t.rb + j).min(t.factors.len() - 1);
                t.factors[cell]
            })
            .product()
    }
}

impl NoisyPairs {
    /// `n` rows of column states from the tree model ([`sample_states`](Self::sample_states);
    /// `2n` drawn), raked towards every measured table and the one-way `margins` for `rounds`
    /// passes ([`rake`](Self::rake)) and resampled to `n` by their weights; `rounds = 0` is the tree
    /// model alone. Post-processing of the noisy tables.
    pub fn sample_raked_states<R: rand::RngCore>(
        &self,
        n: usize,
        margins: &[Vec<f64>],
        rounds: usize,
        rng: &mut R,
        link: &mut Link<'_>,
    ) -> RakedStates {
        if rounds == 0 {
            let states = self.sample_linked_states(n, rng, link);
            return RakedStates {
                states,
                chosen: (0..n).collect(),
            };
        }
        let drawn = self.sample_linked_states(2 * n, rng, link);
        let weights = self.rake(&drawn, margins, rounds);
        let chosen = resample(&weights, n, rng);
        let states = drawn
            .into_iter()
            .map(|s| s.map(|s| chosen.iter().map(|&r| s[r]).collect()))
            .collect();
        RakedStates { states, chosen }
    }
}

/// Rows drawn by [`NoisyPairs::sample_raked_states`].
pub struct RakedStates {
    /// `[column][row]` states (`None`: a column in no measured pair).
    pub states: Vec<Option<Vec<u32>>>,
    /// For each row, the index of the drawn row it copies (the link saw the drawn rows).
    pub chosen: Vec<usize>,
}

/// A hook of [`NoisyPairs::sample_linked_states`]: `(parent, child, parent_states,
/// child_states, rng)`.
pub type Link<'a> = dyn FnMut(usize, usize, &[u32], &mut [u32], &mut dyn rand::RngCore) + 'a;

/// Largest factor one raking update may move a row's weight by (see [`NoisyPairs::rake`]).
pub const RAKE_CLAMP: f64 = 8.0;

/// One raking update: per cell, its target share `want` over its current share of `mass`
/// (both with `pseudo` added; 1 where a cell holds no mass), held within
/// `[1 / RAKE_CLAMP, RAKE_CLAMP]`.
pub fn rake_ratios(want: &[f64], mass: &[f64], pseudo: f64) -> Vec<f64> {
    let total: f64 = mass.iter().sum();
    want.iter()
        .zip(mass)
        .map(|(&want, &have)| {
            if have <= 0.0 {
                1.0
            } else {
                ((want + pseudo) / (have / total + pseudo)).clamp(1.0 / RAKE_CLAMP, RAKE_CLAMP)
            }
        })
        .collect()
}

/// `n` row indices drawn in proportion to `weights` (systematic resampling: one uniform, so the
/// number of copies of each row is within one of `n` times its share).
pub fn resample(weights: &[f64], n: usize, rng: &mut impl rand::Rng) -> Vec<usize> {
    let total: f64 = weights.iter().sum();
    if weights.is_empty() || total <= 0.0 {
        return Vec::new();
    }
    let step = total / n as f64;
    let mut point = rng.random::<f64>() * step;
    let (mut row, mut cumulative) = (0, weights[0]);
    let mut chosen = Vec::with_capacity(n);
    for _ in 0..n {
        while point >= cumulative && row + 1 < weights.len() {
            row += 1;
            cumulative += weights[row];
        }
        chosen.push(row);
        point += step;
    }
    chosen
}

/// The row and column sums of a table `[ra, rb]`, row-major.
fn margins(table: &[f64], rb: usize) -> (Vec<f64>, Vec<f64>) {
    let ra = table.len() / rb.max(1);
    let rows = (0..ra)
        .map(|i| table[i * rb..(i + 1) * rb].iter().sum())
        .collect();
    let cols = (0..rb)
        .map(|j| (0..ra).map(|i| table[i * rb + j]).sum())
        .collect();
    (rows, cols)
}

/// Mutual information (nats) of a joint probability table `[ra, rb]`, row-major.
fn mutual_information(table: &[f64], rb: usize) -> f64 {
    let ra = table.len() / rb.max(1);
    let (rows, cols) = margins(table, rb);
    let mut info = 0.0;
    for i in 0..ra {
        for j in 0..rb {
            let p = table[i * rb + j];
            if p > 0.0 && rows[i] > 0.0 && cols[j] > 0.0 {
                info += p * (p / (rows[i] * cols[j])).ln();
            }
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rows_drawn_from_a_tree_keep_its_pair_tables() {
        // A chain 0 - 1 - 2 (tables (0,1) and (1,2) strongly dependent) plus a measured (0,2)
        // table that carries less information, so the spanning tree skips it. Drawn rows must
        // reproduce the two tree tables; a column in no pair is left to the caller.
        let t01 = vec![0.4, 0.1, 0.05, 0.45];
        let t12 = vec![0.3, 0.1, 0.05, 0.1, 0.4, 0.05];
        let t02 = vec![1.0 / 6.0; 6];
        let noisy = NoisyPairs {
            states: vec![2, 2, 3, 4],
            pairs: vec![(0, 1), (0, 2), (1, 2)],
            tables: vec![t01.clone(), t02, t12.clone()],
            noise_std: 0.0,
            copula: Vec::new(),
            shifts: Vec::new(),
        };
        let n = 200_000;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let states = noisy.sample_states(n, &mut rng);
        assert!(states[3].is_none());
        let freq = |a: usize, b: usize, rb: usize, cells: usize| -> Vec<f64> {
            let mut f = vec![0.0; cells];
            let (sa, sb) = (states[a].as_ref().unwrap(), states[b].as_ref().unwrap());
            for r in 0..n {
                f[sa[r] as usize * rb + sb[r] as usize] += 1.0 / n as f64;
            }
            f
        };
        for (got, want) in [(freq(0, 1, 2, 4), t01), (freq(1, 2, 3, 6), t12)] {
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 0.01, "{got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn raking_recovers_a_pair_the_tree_left_out() {
        // Three columns with all three pairs dependent (a loop): p(x, y, z) ∝ exp(θ_xy + θ_xz
        // + θ_yz). The tree keeps two of the three exact pair tables; rows raked towards all
        // three must match every table, the left-out one included, where the tree's rows do not.
        let (sx, sy, sz) = (3usize, 3usize, 2usize);
        let mut joint = vec![0.0; sx * sy * sz];
        for x in 0..sx {
            for y in 0..sy {
                for z in 0..sz {
                    let same_xy = if x == y { 1.2 } else { 0.0 };
                    let xz = if (x == 2) == (z == 1) { 1.0 } else { 0.0 };
                    let yz = if (y == 0) == (z == 1) { 1.0 } else { 0.0 };
                    joint[(x * sy + y) * sz + z] = f64::exp(same_xy + xz + yz);
                }
            }
        }
        let total: f64 = joint.iter().sum();
        joint.iter_mut().for_each(|p| *p /= total);
        let pair = |a: usize, b: usize| -> Vec<f64> {
            let s = [sx, sy, sz];
            let mut t = vec![0.0; s[a] * s[b]];
            for x in 0..sx {
                for y in 0..sy {
                    for z in 0..sz {
                        let v = [x, y, z];
                        t[v[a] * s[b] + v[b]] += joint[(x * sy + y) * sz + z];
                    }
                }
            }
            t
        };
        let noisy = NoisyPairs {
            states: vec![sx, sy, sz],
            pairs: vec![(0, 1), (0, 2), (1, 2)],
            tables: vec![pair(0, 1), pair(0, 2), pair(1, 2)],
            noise_std: 0.0,
            copula: Vec::new(),
            shifts: Vec::new(),
        };
        let n = 100_000;
        let worst = |states: &[Option<Vec<u32>>]| -> f64 {
            let mut worst: f64 = 0.0;
            for (&(a, b), want) in noisy.pairs.iter().zip(&noisy.tables) {
                let rb = noisy.states[b];
                let mut got = vec![0.0; want.len()];
                let (sa, sb) = (states[a].as_ref().unwrap(), states[b].as_ref().unwrap());
                for r in 0..n {
                    got[sa[r] as usize * rb + sb[r] as usize] += 1.0 / n as f64;
                }
                let tv: f64 = got
                    .iter()
                    .zip(want)
                    .map(|(g, w)| (g - w).abs())
                    .sum::<f64>()
                    / 2.0;
                worst = worst.max(tv);
            }
            worst
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let tree = worst(&noisy.sample_states(n, &mut rng));
        let raked = worst(
            &noisy
                .sample_raked_states(n, &[], 10, &mut rng, &mut |_, _, _, _, _| {})
                .states,
        );
        assert!(tree > 0.03, "the tree should miss the loop: TV {tree}");
        assert!(raked < 0.01, "raked rows: TV {raked} (tree {tree})");
        // The factors weigh each row as raking does, up to one common factor (the weights
        // `dpsynth sample` keeps generated rows by), margins included.
        let drawn = noisy.sample_states(20_000, &mut rng);
        let margins = vec![vec![0.2, 0.3, 0.5], Vec::new(), vec![0.6, 0.4]];
        let weights = noisy.rake(&drawn, &margins, 4);
        let factors = noisy.rake_factors(&drawn, &margins, 4, 0.0);
        let row = |r: usize| -> Vec<u32> { drawn.iter().map(|s| s.as_ref().unwrap()[r]).collect() };
        let scale = factors.weight(&row(0)) / weights[0];
        for (r, &want) in weights.iter().enumerate() {
            let w = factors.weight(&row(r)) / scale;
            assert!(
                (w - want).abs() < 1e-9 * want.max(1.0),
                "row {r}: {w} {want}"
            );
        }
    }

    #[test]
    fn resampling_keeps_each_rows_share() {
        let weights = [0.5, 0.0, 3.0, 1.5, 5.0];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let n = 1000;
        let chosen = resample(&weights, n, &mut rng);
        assert_eq!(chosen.len(), n);
        for (row, w) in weights.iter().enumerate() {
            let copies = chosen.iter().filter(|&&r| r == row).count() as f64;
            assert!(
                (copies - n as f64 * w / 10.0).abs() <= 1.0,
                "row {row}: {copies}"
            );
        }
    }
}
