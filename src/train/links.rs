//! Columns that another column determines (an airport's state, a species' size class, a
//! voicemail plan that is "yes" exactly where the count of messages is not zero), found in a
//! DP file's released pair tables and drawn from them at sampling.
//!
//! A CTGAN generator draws each column from its own softmax, so a many-to-one map between two
//! columns of tens of categories comes back close to independent: birdstrikes' airport and
//! state scored 0.41 (SDMetrics' contingency similarity) where the released table itself scores
//! 0.77 and MST 0.91, and the plain non-DP trainer 0.06 (docs/quality.md, stop 53). Where a
//! released table says that one column's state (a category; a continuous column's mixture
//! mode, or null) predicts the other's almost always (Goodman and Kruskal's λ at least
//! [`DETERMINED_LAMBDA`] on its loud cells and [`RAW_LAMBDA_MIN`] on the whole table),
//! sampling draws the determined column's state from the table's row for the determining
//! column's generated state. Everything the determined column shares with a third column then
//! follows through the determining one, which is what a function of it has. A continuous
//! column drawn so keeps the generator's value within its new mode (an exact mode's value is
//! the mode's), and calibration then maps it as any other. A parent's "other" slot (its
//! categories too rare to release, together) predicts no single state: λ is read from the
//! named states' rows, and the generator's state is kept where the parent is "other".
//!
//! A child has one parent, but a second column may determine it as well (football's league,
//! a function of the home team and of the away team): such a discrete column in no link is a
//! [`CoParent`], drawn again from the released table given the child's drawn state wherever
//! the two share no loud cell, so that both parents agree with the child.
//!
//! Reads only the file's released tables: post-processing, no privacy spent.

use rand::Rng;

use crate::dp::marginals::{all_pairs, measure_pairs, NoisyPairs};
use crate::dp::DpRng;
use crate::transform::{ColumnStates, DataTransformer, Encoder, Slot, SparseRows};

/// Goodman and Kruskal's λ (the share of the errors in guessing a column's most common state
/// that knowing the other column's state removes) at or above which the other column is
/// taken as determining it.
pub const DETERMINED_LAMBDA: f64 = 0.9;

/// A released cell under this many deviations of its count's noise is taken as empty when
/// deciding and drawing: after the projection onto the simplex, a table of many empty cells
/// keeps the ones whose noise happened to be high.
pub const CELL_DEVIATIONS: f64 = 2.0;

/// Least λ of the whole released table, its cells under the noise included. On penguins'
/// 276 rows the loud cells of species and island looked like a function (λ 1.00, real 0.44)
/// while the whole table gave 0.62; birdstrikes' airport and state (real 1.00) gave 0.77, the
/// noise of its 1,300 cells counted as errors.
pub const RAW_LAMBDA_MIN: f64 = 0.75;

/// Least rows per state, on average, of a determining column: an id column's states hold a
/// row each.
pub const PARENT_ROWS_MIN: f64 = 10.0;

/// Least share of a table's mass its loud cells must hold before λ is read from them: a
/// small table's counts under the noise leave a few loud cells that look like a function.
pub const LOUD_MASS_MIN: f64 = 0.75;

/// Least share of a table's mass the parent's named states (all but its "other" slot) must
/// hold for λ to be read from them: a link drawn on a few named states says little.
pub const NAMED_MASS_MIN: f64 = 0.5;

/// One determined column: its state drawn from its row of the released table given its
/// parent's state.
#[derive(Debug, Clone)]
pub struct Link {
    /// The determining column (schema order).
    pub parent: usize,
    /// The determined column (schema order).
    pub child: usize,
    /// Goodman and Kruskal's λ of the released table's loud cells.
    pub lambda: f64,
    parent_states: ColumnStates,
    child_states: ColumnStates,
    /// Per parent state, the child's cumulative shares (empty: the generator's state is kept).
    cumulative: Vec<Vec<f64>>,
}

/// A second column that determines a linked child as well (football's home team, beside the
/// away team the league is drawn from): where its generated state and the child's drawn state
/// share no loud cell of their released table, its state is drawn again from that table's
/// column for the child's state, so that both parents agree with the child.
#[derive(Debug, Clone)]
pub struct CoParent {
    /// The second determining column (schema order): a discrete column in no link.
    pub parent: usize,
    /// The linked child (schema order).
    pub child: usize,
    /// Goodman and Kruskal's λ of the released table's loud cells, this parent to the child.
    pub lambda: f64,
    parent_states: ColumnStates,
    child_states: ColumnStates,
    /// The loud named cells of the released table, as `[parent][child]`.
    table: Vec<f64>,
    /// Per child state, the parent's cumulative shares over the loud named cells (empty: the
    /// generator's state is kept).
    cumulative: Vec<Vec<f64>>,
}

/// The determined columns of a file, parents before their children.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// In the order they are applied.
    pub links: Vec<Link>,
    /// Second parents of linked children, applied after every link.
    pub co_parents: Vec<CoParent>,
}

impl Links {
    /// Whether column `c` is a parent or a child of a link or a second parent's pair.
    pub fn involves(&self, c: usize) -> bool {
        self.links.iter().any(|l| l.parent == c || l.child == c)
            || self
                .co_parents
                .iter()
                .any(|l| l.parent == c || l.child == c)
    }

    /// These links less every one that would draw a column `held` says is drawn otherwise
    /// (an indicator group's member, `transform::indicators`): links to such a child, and
    /// second parents that are such a column or whose child is one.
    pub fn sparing(mut self, held: impl Fn(usize) -> bool) -> Self {
        self.links.retain(|l| !held(l.child));
        self.co_parents
            .retain(|c| !held(c.parent) && !held(c.child));
        // A second parent needs its child's link.
        let linked: Vec<usize> = self.links.iter().map(|l| l.child).collect();
        self.co_parents.retain(|c| linked.contains(&c.child));
        self
    }
}

/// Most cells of one pair table that [`exact_determined`] counts.
pub const EXACT_CELLS_MAX: usize = 1 << 20;

/// Most cells of all the pair tables [`exact_determined`] counts together (the smallest
/// tables first).
pub const EXACT_CELLS_TOTAL: usize = 1 << 24;

/// A run without DP (it may count its rows; nothing is noised or charged): the exact tables of
/// the pairs where one column determines the other, by [`Links::find`]'s rule, holding those
/// pairs only; `None` where there is none. Tables of more than [`EXACT_CELLS_MAX`] cells are
/// not looked at, and the smallest tables are counted first up to [`EXACT_CELLS_TOTAL`] cells.
/// Never for a DP run: its tables are the noisy ones it releases.
pub fn exact_determined(transformer: &DataTransformer, rows: &SparseRows) -> Option<NoisyPairs> {
    let layout = transformer.column_states();
    let states: Vec<usize> = layout.iter().map(ColumnStates::count).collect();
    let mut candidates: Vec<(usize, (usize, usize))> = all_pairs(layout.len())
        .into_iter()
        .map(|(a, b)| (states[a] * states[b], (a, b)))
        .filter(|&(cells, (a, b))| states[a] >= 2 && states[b] >= 2 && cells <= EXACT_CELLS_MAX)
        .collect();
    candidates.sort_unstable();
    let mut total = 0;
    let pairs: Vec<(usize, usize)> = candidates
        .into_iter()
        .take_while(|&(cells, _)| {
            total += cells;
            total <= EXACT_CELLS_TOTAL
        })
        .map(|(_, p)| p)
        .collect();
    if pairs.is_empty() {
        return None;
    }
    // At noise 0 the measurement leaves the counts as they are (normalised).
    let exact = measure_pairs(&layout, rows, Some(pairs), 0.0, &mut DpRng::from_seed(0));
    let links = Links::find(&exact, transformer, rows.n_rows);
    let mut linked: Vec<(usize, usize)> = links
        .links
        .iter()
        .map(|l| (l.parent.min(l.child), l.parent.max(l.child)))
        .collect();
    linked.sort_unstable();
    let (pairs, tables) = exact
        .pairs
        .iter()
        .zip(exact.tables)
        .filter(|(p, _)| linked.binary_search(p).is_ok())
        .map(|(&p, t)| (p, t))
        .unzip();
    let kept = NoisyPairs {
        pairs,
        tables,
        ..exact
    };
    (!kept.pairs.is_empty()).then_some(kept)
}

/// Continuous columns a file without DP holds exact correlations for, at most: every pair of
/// them is counted to choose the forest ([`exact_correlations`]).
pub const EXACT_CORRELATION_COLUMNS_MAX: usize = 64;

/// Without DP: the exact normal-score correlations (`dp::copula`'s statistic, counted without
/// noise) of a maximum spanning forest of the continuous columns' pairs by |ρ|, for sampling to
/// set (`transform::dependence`), as a DP file's released ones are. A non-DP run may read its
/// rows; a DP run never calls this. Empty for fewer than two continuous columns or more than
/// [`EXACT_CORRELATION_COLUMNS_MAX`].
pub fn exact_correlations(
    transformer: &DataTransformer,
    rows: &SparseRows,
) -> Vec<((usize, usize), f64)> {
    let continuous: Vec<usize> = transformer
        .encoders
        .iter()
        .enumerate()
        .filter(
            |(_, e)| matches!(e, crate::transform::Encoder::Continuous(c) if !c.modes.is_empty()),
        )
        .map(|(k, _)| k)
        .collect();
    if continuous.len() < 2 || continuous.len() > EXACT_CORRELATION_COLUMNS_MAX {
        return Vec::new();
    }
    let pairs: Vec<(usize, usize)> = continuous
        .iter()
        .enumerate()
        .flat_map(|(i, &a)| continuous[i + 1..].iter().map(move |&b| (a, b)))
        .collect();
    let score = super::surrogate::normal_scorer(transformer);
    // At noise 0 the sums are the rows' own.
    let mut all = crate::dp::copula::measure_copula(
        rows,
        &pairs,
        pairs.len(),
        &score,
        0.0,
        &mut DpRng::from_seed(0),
    );
    all.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()).then(x.0.cmp(&y.0)));
    let k = transformer.encoders.len();
    let mut component: Vec<usize> = (0..k).collect();
    fn find(c: &mut [usize], mut i: usize) -> usize {
        while c[i] != i {
            c[i] = c[c[i]];
            i = c[i];
        }
        i
    }
    let mut forest = Vec::new();
    for ((a, b), rho) in all {
        let (ra, rb) = (find(&mut component, a), find(&mut component, b));
        if ra != rb && rho != 0.0 {
            component[ra] = rb;
            forest.push(((a, b), rho));
        }
    }
    forest
}

/// Goodman and Kruskal's λ for guessing the column of `table` (`rows` x `cols`, any total)
/// from its row, and the reverse: `(λ(col | row), λ(row | col))`; `None` for a direction whose
/// guessed column has one state carrying all the mass.
pub fn lambdas(table: &[f64], cols: usize) -> (Option<f64>, Option<f64>) {
    let rows = table.len() / cols.max(1);
    let total: f64 = table.iter().sum();
    if total <= 0.0 || rows == 0 || cols == 0 {
        return (None, None);
    }
    let row_max: f64 = table.chunks_exact(cols).map(max_of).sum();
    let col_max: f64 = (0..cols)
        .map(|j| (0..rows).map(|i| table[i * cols + j]).fold(0.0, f64::max))
        .sum();
    let col_sums: Vec<f64> = (0..cols)
        .map(|j| (0..rows).map(|i| table[i * cols + j]).sum())
        .collect();
    let row_sums: Vec<f64> = table.chunks_exact(cols).map(|r| r.iter().sum()).collect();
    let lambda = |hits: f64, margin: &[f64]| {
        let best = max_of(margin);
        (total - best > 1e-9 * total).then(|| (hits - best) / (total - best))
    };
    (lambda(row_max, &col_sums), lambda(col_max, &row_sums))
}

/// Writes state `state` of `states` into the activated row `row`: the one-hot of its block,
/// and for a continuous column that keeps nulls, its null span (`[present, null]`, the last
/// state being null).
pub(crate) fn set_state(states: &ColumnStates, row: &mut [f32], state: usize) {
    if let Some(n) = states.null {
        let null = state >= states.width;
        row[n - 1] = if null { 0.0 } else { 1.0 };
        row[n] = if null { 1.0 } else { 0.0 };
        if null {
            return;
        }
    }
    if states.width == 0 {
        return;
    }
    let out = &mut row[states.offset..states.offset + states.width];
    out.iter_mut().for_each(|x| *x = 0.0);
    out[state.min(states.width - 1)] = 1.0;
}

/// The running shares of `cells` (each up to and including it, of their sum), for [`draw`];
/// empty where the cells hold nothing.
fn cumulative_shares(cells: &[f64]) -> Vec<f64> {
    let total: f64 = cells.iter().sum();
    if total <= 0.0 {
        return Vec::new();
    }
    cells
        .iter()
        .scan(0.0, |acc, &p| {
            *acc += p / total;
            Some(*acc)
        })
        .collect()
}

/// The state whose cumulative share first exceeds the uniform `u` (the last for rounding).
fn draw(cumulative: &[f64], u: f64) -> usize {
    cumulative
        .iter()
        .position(|&c| u < c)
        .unwrap_or(cumulative.len().saturating_sub(1))
}

/// Per column of `transformer`, the state of its "other" slot (a discrete column that folds
/// rare categories), `None` for every other column. Public: the slots are released in the file.
fn other_states(transformer: &DataTransformer) -> Vec<Option<usize>> {
    transformer
        .encoders
        .iter()
        .map(|enc| match enc {
            Encoder::Discrete(d) => d.slots.iter().position(|s| *s == Slot::Other),
            Encoder::Continuous(_) => None,
        })
        .collect()
}

/// `table` (`cols` wide) with row `row` set to zero, where there is one.
fn without_row(table: &[f64], cols: usize, row: Option<usize>) -> Vec<f64> {
    let mut out = table.to_vec();
    if let Some(r) = row.filter(|&r| (r + 1) * cols <= out.len()) {
        out[r * cols..(r + 1) * cols].fill(0.0);
    }
    out
}

fn max_of(x: &[f64]) -> f64 {
    x.iter().copied().fold(0.0, f64::max)
}

impl Links {
    /// The determined columns of `pairs` (released with `transformer`, from
    /// `training_rows` rows). Each column gets at most one parent, the one of highest λ, and
    /// no chain of parents closes on itself (a one-to-one pair keeps one direction).
    pub fn find(pairs: &NoisyPairs, transformer: &DataTransformer, training_rows: usize) -> Links {
        let layout = transformer.column_states();
        let k = layout.len();
        if pairs.states.len() != k || pairs.tables.len() != pairs.pairs.len() {
            return Links::default();
        }
        let floor = CELL_DEVIATIONS * pairs.noise_std / training_rows.max(1) as f64;
        let other = other_states(transformer);
        // (λ, parent, child, loud table as [parent][child], child states).
        let mut candidates: Vec<(f64, usize, usize, Vec<f64>, usize)> = Vec::new();
        for (&(a, b), table) in pairs.pairs.iter().zip(&pairs.tables) {
            if a >= k || b >= k {
                continue;
            }
            let (sa, sb) = (pairs.states[a], pairs.states[b]);
            if sa < 2
                || sb < 2
                || table.len() != sa * sb
                || layout[a].count() != sa
                || layout[b].count() != sb
            {
                continue;
            }
            let all: f64 = table.iter().sum();
            if all <= 0.0 {
                continue;
            }
            let transposed: Vec<f64> = (0..sb * sa)
                .map(|x| table[(x % sa) * sb + x / sa])
                .collect();
            // Each direction: (parent, child, table as [parent][child], child states).
            for (parent, child, oriented, cols) in
                [(a, b, &table[..], sb), (b, a, &transposed[..], sa)]
            {
                // The parent's "other" slot holds every category too rare to release, so no
                // single child state follows it: its row is left out of λ and of the draw
                // (the generator's state is kept there). Football's 34 folded teams, spread
                // over the five leagues, held λ of league given team at 0.83.
                let named = without_row(oriented, cols, other[parent]);
                let named_mass: f64 = named.iter().sum();
                let loud: Vec<f64> = named
                    .iter()
                    .map(|&p| if p >= floor { p } else { 0.0 })
                    .collect();
                if named_mass < NAMED_MASS_MIN * all
                    || loud.iter().sum::<f64>() < LOUD_MASS_MIN * named_mass
                {
                    continue;
                }
                // λ of the loud cells, and of the whole released table (where the noise the
                // projection kept counts as errors): both must hold.
                let held = lambdas(&loud, cols).0.zip(lambdas(&named, cols).0);
                if let Some((l, _)) =
                    held.filter(|&(l, r)| l >= DETERMINED_LAMBDA && r >= RAW_LAMBDA_MIN)
                {
                    candidates.push((l, parent, child, loud, cols));
                }
            }
        }
        // A parent of a few rows per state (an id column, every row its own category) predicts
        // everything and says nothing: its links would copy rows.
        candidates.retain(|c| training_rows as f64 >= PARENT_ROWS_MIN * layout[c.1].count() as f64);
        // Highest λ (to two places) first, and of parents equal there the one of fewest
        // states: each of its rows of the table holds more rows, so less of it is noise. A
        // retail department is drawn from its category, not from one of 200 products.
        let states = |c: usize| layout[c].count();
        candidates.sort_by(|x, y| {
            let (lx, ly) = ((x.0 * 100.0).round(), (y.0 * 100.0).round());
            ly.total_cmp(&lx)
                .then(states(x.1).cmp(&states(y.1)))
                .then(y.0.total_cmp(&x.0))
                .then((x.1, x.2).cmp(&(y.1, y.2)))
        });
        let mut parent_of: Vec<Option<usize>> = vec![None; k];
        let mut chosen = Vec::new();
        // Candidates whose child had a parent already: second parents, perhaps.
        let mut seconds = Vec::new();
        for (lambda, parent, child, table, cols) in candidates {
            if parent_of[child].is_some() {
                seconds.push((lambda, parent, child, table, cols));
                continue;
            }
            // Would the parent's chain of parents reach the child?
            let mut up = Some(parent);
            let mut cycle = false;
            while let Some(p) = up {
                if p == child {
                    cycle = true;
                    break;
                }
                up = parent_of[p];
            }
            if cycle {
                continue;
            }
            parent_of[child] = Some(parent);
            let cumulative = table.chunks_exact(cols).map(cumulative_shares).collect();
            chosen.push(Link {
                parent,
                child,
                lambda,
                parent_states: layout[parent],
                child_states: layout[child],
                cumulative,
            });
        }
        // Parents first: a column's depth is its chain of parents' length.
        let depth = |mut c: usize| {
            let mut d = 0;
            while let Some(p) = parent_of[c] {
                c = p;
                d += 1;
            }
            d
        };
        chosen.sort_by_key(|l| (depth(l.child), l.child));
        let co_parents = co_parents(seconds, &chosen, transformer, &layout);
        Links {
            links: chosen,
            co_parents,
        }
    }

    /// The links as `child from parent (λ 0.97)`, joined by `; ` (`-` for none), with the
    /// column names of `transformer`'s schema.
    pub fn describe(&self, transformer: &DataTransformer) -> String {
        if self.links.is_empty() {
            return "-".to_string();
        }
        let name = |c: usize| transformer.column_name(c);
        self.links
            .iter()
            .map(|l| {
                format!(
                    "{} from {} (λ {:.2})",
                    name(l.child),
                    name(l.parent),
                    l.lambda
                )
            })
            .chain(self.co_parents.iter().map(|c| {
                format!(
                    "{} kept with {} (λ {:.2})",
                    name(c.parent),
                    name(c.child),
                    c.lambda
                )
            }))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty() && self.co_parents.is_empty()
    }

    /// Draws every determined column of the `n` activated rows of `encoded` (`dim` wide, one-hot
    /// spans) from its parent's state, then each second parent that disagrees with its child
    /// from the child's state: one uniform per link or second parent and row from `rng`, in
    /// order.
    pub fn apply(&self, encoded: &mut [f32], n: usize, dim: usize, rng: &mut impl Rng) {
        for link in &self.links {
            for row in encoded.chunks_exact_mut(dim.max(1)).take(n) {
                let u: f64 = rng.random();
                let parent = link.parent_states.state(row);
                let Some(cumulative) = link.cumulative.get(parent).filter(|c| !c.is_empty()) else {
                    continue;
                };
                set_state(&link.child_states, row, draw(cumulative, u));
            }
        }
        for co in &self.co_parents {
            let cols = co.child_states.count();
            for row in encoded.chunks_exact_mut(dim.max(1)).take(n) {
                let u: f64 = rng.random();
                let (parent, child) = (co.parent_states.state(row), co.child_states.state(row));
                // A parent state with no loud cell ("other") says nothing; one with a loud
                // cell at the child's state agrees with it.
                let Some(cells) = co.table.get(parent * cols..(parent + 1) * cols) else {
                    continue;
                };
                if cells[child.min(cols - 1)] > 0.0 || cells.iter().all(|&p| p <= 0.0) {
                    continue;
                }
                let Some(cumulative) = co.cumulative.get(child).filter(|c| !c.is_empty()) else {
                    continue;
                };
                set_state(&co.parent_states, row, draw(cumulative, u));
            }
        }
    }
}

/// The second parents among `seconds` (candidates `(λ, parent, child, loud named table as
/// [parent][child], child states)` whose child was linked already, highest λ first): a
/// discrete parent in no link of `chosen` and no other second parent's, whose child is
/// `chosen`'s. Its "other" slot's row is empty in the table, so a row whose parent is "other"
/// keeps its state, and no row is drawn into "other".
fn co_parents(
    seconds: Vec<(f64, usize, usize, Vec<f64>, usize)>,
    chosen: &[Link],
    transformer: &DataTransformer,
    layout: &[ColumnStates],
) -> Vec<CoParent> {
    let linked = |c: usize| chosen.iter().any(|l| l.parent == c || l.child == c);
    let mut taken: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for (lambda, parent, child, table, cols) in seconds {
        let discrete = matches!(transformer.encoders.get(parent), Some(Encoder::Discrete(_)));
        if !discrete
            || linked(parent)
            || taken.contains(&parent)
            || !chosen
                .iter()
                .any(|l| l.child == child && l.parent != parent)
        {
            continue;
        }
        taken.push(parent);
        let rows = table.len() / cols.max(1);
        let cumulative = (0..cols)
            .map(|j| {
                let column: Vec<f64> = (0..rows).map(|i| table[i * cols + j]).collect();
                cumulative_shares(&column)
            })
            .collect();
        out.push(CoParent {
            parent,
            child,
            lambda,
            parent_states: layout[parent],
            child_states: layout[child],
            table,
            cumulative,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_written_into_its_block_and_null_span() {
        // A continuous column: value at 0, three modes at 1..4, null span [present, null] at
        // 4..6 (its null entry 5); the last state (3) is null.
        let states = ColumnStates {
            offset: 1,
            width: 3,
            null: Some(5),
        };
        let mut row = [0.3, 1.0, 0.0, 0.0, 1.0, 0.0, 7.0];
        set_state(&states, &mut row, 2);
        assert_eq!(row, [0.3, 0.0, 0.0, 1.0, 1.0, 0.0, 7.0]);
        assert_eq!(states.state(&row), 2);
        set_state(&states, &mut row, 3);
        assert_eq!(&row[4..6], &[0.0, 1.0]);
        assert_eq!(states.state(&row), 3);
        set_state(&states, &mut row, 0);
        assert_eq!(row, [0.3, 1.0, 0.0, 0.0, 1.0, 0.0, 7.0]);
        // A discrete column: its one-hot only.
        let states = ColumnStates {
            offset: 0,
            width: 2,
            null: None,
        };
        let mut row = [1.0, 0.0, 5.0];
        set_state(&states, &mut row, 1);
        assert_eq!(row, [0.0, 1.0, 5.0]);
    }

    #[test]
    fn lambda_matches_hand_worked_tables() {
        // A function of the row: every row's mass in one column; the column's commonest
        // state holds 0.5, so λ(col | row) = (1 − 0.5) / (1 − 0.5) = 1.
        let f = [0.3, 0.0, 0.2, 0.0, 0.0, 0.5];
        let (c, r) = lambdas(&f, 2);
        assert!((c.unwrap() - 1.0).abs() < 1e-12);
        // Guessing the row from the column: column 0 holds rows 0 and 1 (0.3, 0.2), so the
        // hits are 0.3 + 0.5 = 0.8 against the commonest row's 0.5: (0.8 − 0.5) / 0.5 = 0.6.
        assert!((r.unwrap() - 0.6).abs() < 1e-12);
        // Independent columns: knowing the row never changes the guess, λ = 0.
        let ind = [0.12, 0.28, 0.18, 0.42];
        let (c, r) = lambdas(&ind, 2);
        assert!(c.unwrap().abs() < 1e-12 && r.unwrap().abs() < 1e-12);
        // A constant column has no λ.
        assert_eq!(lambdas(&[0.4, 0.0, 0.6, 0.0], 2).0, None);
    }
}
