//! How two continuous columns move together, set at sampling: on an edge of released
//! normal-score correlations (`dp::copula`'s `ρ`, an amount and its price, minutes and their
//! charge), the child column's normal score is mixed with its parent's so that the pair's
//! correlation is the released one, and the child keeps its own distribution.
//!
//! A generator draws each continuous column from its own mixture output, and the one-way
//! calibration (`transform::calibrate`) keeps each column's ranks: churn's minutes and charge
//! (r 1.00 in the rows, 0.99 released) came back at 0.56. Per edge `p -> c`, on the values
//! both columns decode from non-exact modes, with `u = F(x)` each value's probability under the
//! generator's own distribution ([`super::calibrate::Calibration::prob`]) and `z = Φ⁻¹(u)`:
//!
//! - `z_c' = a z_c + b z_p`, with `a = √((1 − ρ²) / (1 − ρ̂²))` and `b = ρ − a ρ̂`, `ρ̂` the
//!   generator's own correlation of the two scores on the pilot and `ρ` the target: for
//!   jointly normal scores `z_c'` is standard normal with correlation `ρ` to `z_p`;
//! - `u_c' = H(z_c')`, `H` the pilot's own distribution of `z_c'`, so the child's probabilities
//!   stay uniform (its released mixture is kept) whatever the scores' joint shape;
//! - the child's relation to its other columns is kept in `a` and passed through its parent in
//!   `b`; edges are applied parents first, so a chain carries its adjusted scores down.
//!
//! A column whose values are all exact points (a count of cars, a code of rooms: no free mode,
//! so no calibration) takes part through a [`PointScale`]: a value's probability is drawn
//! within its point's share of the pilot, and a child's moved probability gives back the point
//! that holds it, so each point keeps its share (Ames' cars with the garage's area).
//!
//! A calibrated column that also takes exact points in many rows (a spending's zeros) takes
//! part through a [`MixedScale`]: its points' shares placed among its calibrated free values.
//! Where either column has such ties, the pair is measured as the release measures it (a
//! point scored at its share's middle) and the mixing's own target is searched for so that
//! the pair lands on the released `ρ` there ([`Dependence::fit`]).
//!
//! Post-processing of released parts only (the generator, the released correlations and
//! mixtures): it reads no row and costs no privacy. Which edges to set and their targets are
//! chosen by the sampler (`sample.rs`).

use super::calibrate::CALIBRATION_POINTS;
use super::continuous::normal_quantile;

/// Probabilities are kept this far in from 0 and 1 before their normal score is taken.
const PROB_CLAMP: f64 = 1e-4;

/// One edge set at sampling: the child's score mixed with its parent's.
#[derive(Debug, Clone, PartialEq)]
pub struct DependenceEdge {
    /// The parent column (table column index).
    pub parent: usize,
    /// The child column.
    pub child: usize,
    /// Weight `a` of the child's own score.
    pub own: f64,
    /// Weight `b` of the parent's score.
    pub from_parent: f64,
    /// The pilot's mixed scores at the probabilities `i / (CALIBRATION_POINTS - 1)`,
    /// ascending: `H`'s table.
    mixed: Vec<f64>,
    /// The child's own probabilities on the rows the edge was fitted on, at the same
    /// probabilities, ascending: `Q`'s table, so that those rows keep the child's distribution
    /// there (a column's rows beside a missing parent may sit elsewhere in its range).
    own_probs: Vec<f64>,
}

/// An edge asked for: parent, child, target correlation `ρ`, and how far `ρ̂` must be from it
/// (its noise) before the edge is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DependenceTarget {
    /// The parent column.
    pub parent: usize,
    /// The child column.
    pub child: usize,
    /// The released correlation of the two columns' normal scores.
    pub rho: f64,
    /// The edge is set only where the generator's own correlation is further than this from
    /// `rho` (a few of the release's noise deviations).
    pub tolerance: f64,
    /// Fewest pilot rows that must hold both columns' values on their scales (not missing,
    /// not an exact point of a calibrated column) for the edge to be set.
    pub rows_needed: usize,
}

/// The distribution of a column without a calibration, tabulated from the pilot: a column
/// whose values are all exact points (counts, codes: no free mode), where a value's
/// probability is drawn within its point's share and a probability gives back the point that
/// holds it; or, in a file without DP (not calibrated), the generator's own values (exact
/// points among them), between which a probability's value is interpolated (a run of one
/// point's ties gives that point).
#[derive(Debug, Clone, PartialEq)]
pub struct PointScale {
    /// The pilot's values at the probabilities `i / (CALIBRATION_POINTS - 1)`, ascending.
    table: Vec<f64>,
    /// Whether values between the tabulated ones are interpolated (a file without DP's
    /// columns), not only points.
    pub free: bool,
}

impl PointScale {
    /// The scale of the pilot's values `values` (exact points); `None` below
    /// [`CALIBRATION_POINTS`] values.
    pub fn fit(mut values: Vec<f64>) -> Option<PointScale> {
        values.retain(|x| x.is_finite());
        if values.len() < CALIBRATION_POINTS {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let last = (CALIBRATION_POINTS - 1) as f64;
        let table = (0..CALIBRATION_POINTS)
            .map(|i| values[((i as f64 / last) * (values.len() - 1) as f64).round() as usize])
            .collect();
        Some(PointScale { table, free: false })
    }

    /// The scale of the pilot's values `values` (a file without DP's generator's own, its
    /// points among them); `None` below [`CALIBRATION_POINTS`] values.
    pub fn fit_free(values: Vec<f64>) -> Option<PointScale> {
        let mut scale = PointScale::fit(values)?;
        scale.free = true;
        Some(scale)
    }

    /// The shares of the values tied over several tabulated probabilities (the exact points),
    /// on the probability scale: a run of one value over `i..=j` holds
    /// `[(i - ½) / last, (j + ½) / last]`, the probabilities [`value_at`](Self::value_at)
    /// gives it back at.
    pub fn ties(&self) -> Ties {
        let last = (self.table.len() - 1) as f64;
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.table.len() {
            let run = self.table[i..]
                .iter()
                .take_while(|&&v| v == self.table[i])
                .count();
            if run > 1 {
                let start = ((i as f64 - 0.5) / last).max(0.0);
                let end = ((i + run - 1) as f64 + 0.5) / last;
                out.push((start, end.min(1.0) - start));
            }
            i += run;
        }
        out
    }

    /// `x`'s probability: a uniform draw within its point's share.
    pub fn prob(&self, x: f64, rng: &mut impl rand::Rng) -> f64 {
        super::calibrate::table_prob(&self.table, x, rng)
    }

    /// The point at probability `u`, or, where values between the tabulated ones are taken
    /// ([`PointScale::fit_free`]), the value there (linear between the tabulated values).
    pub fn value_at(&self, u: f64) -> f64 {
        let last = (self.table.len() - 1) as f64;
        let pos = u.clamp(0.0, 1.0) * last;
        if !self.free {
            return self.table[pos.round() as usize];
        }
        let i = pos.floor() as usize;
        let j = (i + 1).min(self.table.len() - 1);
        self.table[i] + (self.table[j] - self.table[i]) * (pos - i as f64)
    }
}

/// The distribution of a calibrated column that also takes exact points (a spending's zeros,
/// a count's released values beside its free part), tabulated from the pilot: each point's
/// share and where it sits among the free values, whose own probabilities are the
/// calibration's. A point's value gets a uniform draw within its share, a free value the
/// point shares below it plus the free share times its calibrated probability; a probability
/// gives back the point whose share holds it, or a free probability.
#[derive(Debug, Clone, PartialEq)]
pub struct MixedScale {
    /// The points, ascending: `(value, start, share)`, the share starting at `start` on the
    /// column's probability scale.
    points: Vec<(f64, f64, f64)>,
    /// The free values' share of the present values.
    free: f64,
}

/// Where a probability lands on a [`MixedScale`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MixedValue {
    /// An exact point's value.
    Point(f64),
    /// A free value's probability under the calibration.
    Free(f64),
}

impl MixedScale {
    /// The scale of the pilot's present values: `points` the exact points' values (one per
    /// row on a point), `free_rows` the rows with a free value, and `free_value_at` the
    /// calibrated value at a free probability (ascending in it). `None` without points.
    pub fn fit(
        mut points: Vec<f64>,
        free_rows: usize,
        free_value_at: impl Fn(f64) -> f64,
    ) -> Option<MixedScale> {
        points.retain(|x| x.is_finite());
        let total = (points.len() + free_rows) as f64;
        if points.is_empty() {
            return None;
        }
        points.sort_by(f64::total_cmp);
        let free = free_rows as f64 / total;
        // The free probability below value `x`: the calibration's value crosses it there.
        let free_below = |x: f64| {
            if free_rows == 0 {
                return 0.0;
            }
            let (mut lo, mut hi) = (0.0f64, 1.0f64);
            if free_value_at(lo) >= x {
                return 0.0;
            }
            if free_value_at(hi) < x {
                return 1.0;
            }
            for _ in 0..40 {
                let mid = 0.5 * (lo + hi);
                if free_value_at(mid) < x {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        };
        let mut scale = Vec::new();
        let mut below = 0.0;
        let mut i = 0;
        while i < points.len() {
            let x = points[i];
            let run = points[i..].iter().take_while(|&&y| y == x).count();
            let share = run as f64 / total;
            scale.push((x, below + free * free_below(x), share));
            below += share;
            i += run;
        }
        Some(MixedScale {
            points: scale,
            free,
        })
    }

    /// The points' shares on the probability scale, `(start, width)`, ascending.
    pub fn ties(&self) -> Ties {
        self.points
            .iter()
            .map(|&(_, start, share)| (start, share))
            .collect()
    }

    /// The probability of a free value `x` (pre-snap, the calibration's value at `u`, its
    /// free probability).
    pub fn prob_free(&self, u: f64, x: f64) -> f64 {
        let below: f64 = self
            .points
            .iter()
            .take_while(|p| p.0 < x)
            .map(|p| p.2)
            .sum();
        (below + self.free * u).clamp(0.0, 1.0)
    }

    /// The probability of point `x`: a uniform draw within its share; `None` for a value
    /// that is not one of the pilot's points.
    pub fn prob_point(&self, x: f64, rng: &mut impl rand::Rng) -> Option<f64> {
        let &(_, start, share) = self.points.iter().find(|p| p.0 == x)?;
        Some(start + share * rng.random::<f64>())
    }

    /// The point whose share holds probability `u`, or the free probability there.
    pub fn value_at(&self, u: f64) -> MixedValue {
        let u = u.clamp(0.0, 1.0);
        let mut below = 0.0;
        for &(x, start, share) in &self.points {
            if u >= start && u < start + share {
                return MixedValue::Point(x);
            }
            if start + share <= u {
                below += share;
            }
        }
        if self.free <= 0.0 {
            // No free part: the nearest point (the last share's end is 1).
            let nearest = self.points.iter().min_by(|a, b| {
                let d = |p: &(f64, f64, f64)| (u - (p.1 + 0.5 * p.2)).abs();
                d(a).total_cmp(&d(b))
            });
            return MixedValue::Point(nearest.map_or(0.0, |p| p.0));
        }
        MixedValue::Free(((u - below) / self.free).clamp(0.0, 1.0))
    }
}

/// The edges set at sampling, parents first (module docs). Empty: sampling as before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dependence {
    /// Edges in the order they are applied.
    pub edges: Vec<DependenceEdge>,
    /// Per table column, the scale of a column on exact points taking part in an edge (its
    /// values' probabilities come from here, not from a calibration); empty: none.
    pub points: Vec<Option<PointScale>>,
    /// Per table column, the scale of a calibrated column that also takes exact points in
    /// an edge (its free values' probabilities still come from its calibration); empty: none.
    pub mixed: Vec<Option<MixedScale>>,
}

/// `values` at the probabilities `i / (CALIBRATION_POINTS - 1)` (linear between order
/// statistics), ascending; `values` must not be empty.
fn quantiles(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    let last = (CALIBRATION_POINTS - 1) as f64;
    (0..CALIBRATION_POINTS)
        .map(|i| {
            let pos = i as f64 / last * (values.len() - 1) as f64;
            let (i, j) = (
                pos.floor() as usize,
                (pos.ceil() as usize).min(values.len() - 1),
            );
            values[i] + (values[j] - values[i]) * (pos - i as f64)
        })
        .collect()
}

/// Bisection steps of the search for the mixing's target on an edge with ties
/// ([`Dependence::fit`]): 2⁻²⁰ of the interval, far below the release's noise.
const TARGET_SEARCH_STEPS: usize = 12;

/// A column's ties on its probability scale: each exact point's share as `(start, width)`,
/// ascending; empty for a column without ties (its free values score as drawn).
pub type Ties = Vec<(f64, f64)>;

/// Column `k`'s ties in `ties`, empty where none are given.
fn ties_of(ties: &[Ties], k: usize) -> &[(f64, f64)] {
    ties.get(k).map_or(&[], |t| t.as_slice())
}

/// The score the release gives probability `u` (`dp::copula`: `Φ⁻¹` of the mixture's cdf,
/// halfway through a point's share): a tie's middle, else `u`'s own, clipped to `±clip` (the
/// release's score clip, given by the caller).
fn released_score(ties: &[(f64, f64)], u: f64, clip: f64) -> f64 {
    let at = ties.partition_point(|&(start, _)| start <= u);
    let u = match at.checked_sub(1).map(|i| ties[i]) {
        Some((start, width)) if u < start + width => start + 0.5 * width,
        _ => u,
    };
    score(u).clamp(-clip, clip)
}

/// How much a released correlation of two columns with missing values understates the
/// correlation of the rows holding both (`dp::copula` scores a missing value 0), from the
/// pilot's probabilities of each column (`None`: missing or not on the column's scale):
/// `√(S_a S_b / (S_a' S_b'))`, `S` a column's sum of squared normal scores (clipped at `±clip`,
/// the release's) over the rows holding its value and `S'` over the rows holding both; 1
/// where no row holds both.
pub fn missing_undo(ua: &[Option<f64>], ub: &[Option<f64>], clip: f64) -> f64 {
    let square = |u: f64| {
        let z = score(u);
        (z * z).min(clip * clip)
    };
    let (mut sa, mut sb, mut both_a, mut both_b) = (0.0, 0.0, 0.0, 0.0);
    for (a, b) in ua.iter().zip(ub) {
        let (qa, qb) = (a.map(square), b.map(square));
        sa += qa.unwrap_or(0.0);
        sb += qb.unwrap_or(0.0);
        if let (Some(qa), Some(qb)) = (qa, qb) {
            both_a += qa;
            both_b += qb;
        }
    }
    if both_a <= 0.0 || both_b <= 0.0 {
        return 1.0;
    }
    (sa * sb / (both_a * both_b)).sqrt()
}

/// `Σ g_a g_b / √(Σ g_a² Σ g_b²)` of the score pairs, uncentred, as the release measures a
/// pair (`dp::copula::measure_copula`); 0 where a side is all zero.
fn released_correlation(pairs: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (a, b) in pairs {
        ab += a * b;
        aa += a * a;
        bb += b * b;
    }
    if aa <= 0.0 || bb <= 0.0 {
        return 0.0;
    }
    ab / (aa * bb).sqrt()
}

/// The normal score of probability `u`.
fn score(u: f64) -> f64 {
    normal_quantile(u.clamp(PROB_CLAMP, 1.0 - PROB_CLAMP))
}

/// Pearson correlation of the pairs in `pairs`, within [-1, 1]; `None` below two pairs or
/// where either side is constant.
pub fn correlation(pairs: &[(f64, f64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if pairs.len() < 2 {
        return None;
    }
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / n, b + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

impl DependenceEdge {
    /// `Q(H(z))`: the child's probability at the rank of mixed score `z` among the pilot's
    /// mixed scores (`H`), under the child's own probabilities on those rows (`Q`).
    fn prob_of_mixed(&self, z: f64) -> f64 {
        let (t, q) = (&self.mixed, &self.own_probs);
        let at = t.partition_point(|&v| v < z);
        if at == 0 {
            q[0]
        } else if at == t.len() {
            q[q.len() - 1]
        } else {
            let (a, b) = (t[at - 1], t[at]);
            let w = if b > a { (z - a) / (b - a) } else { 0.5 };
            q[at - 1] + (q[at] - q[at - 1]) * w
        }
    }

    /// The child's new probability from its own `u_child` and its parent's `u_parent`.
    fn child_prob(&self, u_child: f64, u_parent: f64) -> f64 {
        self.prob_of_mixed(self.own * score(u_child) + self.from_parent * score(u_parent))
    }
}

impl Dependence {
    /// Fits the edges of `targets` on the pilot: `probs[k]`, where set, holds column `k`'s
    /// probability ([`super::calibrate::Calibration::prob`]) per pilot row, `None` for a row
    /// whose value is missing or exact. The targets form a forest; each tree is applied from
    /// its lowest column down. An edge is set where at least its `rows_needed` pilot rows hold
    /// both values, and the generator's correlation on them (after its parent's own edge) is
    /// further than the target's tolerance from it. Where either column has `ties` (exact
    /// points' shares on its probability scale), both the correlation and the target are taken
    /// as the release scores the pair (a point at its share's middle), and the mixing's own
    /// target is searched for; the release clips its scores at `±score_clip`. `probs` ends as
    /// the pilot's adjusted probabilities.
    pub fn fit(
        targets: &[DependenceTarget],
        probs: &mut [Option<Vec<Option<f64>>>],
        ties: &[Ties],
        score_clip: f64,
    ) -> Dependence {
        let mut edges = Vec::new();
        for t in orient(targets) {
            let (Some(Some(up)), Some(Some(uc))) = (
                probs.get(t.parent).map(|p| p.as_ref()),
                probs.get(t.child).map(|p| p.as_ref()),
            ) else {
                continue;
            };
            let rows: Vec<usize> = (0..uc.len())
                .filter(|&r| up[r].is_some() && uc[r].is_some())
                .collect();
            if rows.len() < t.rows_needed.max(CALIBRATION_POINTS) {
                continue;
            }
            let z: Vec<(f64, f64)> = rows
                .iter()
                .map(|&r| (score(up[r].unwrap_or(0.5)), score(uc[r].unwrap_or(0.5))))
                .collect();
            let Some(own_rho) = correlation(&z) else {
                continue;
            };
            let rho = t.rho.clamp(-0.999, 0.999);
            let child: Vec<f64> = rows.iter().map(|&r| uc[r].unwrap_or(0.5)).collect();
            let own_probs = quantiles(child);
            let clamped_own = own_rho.clamp(-0.999, 0.999);
            // The edge that mixes the scores to correlation `target`.
            let edge_for = |target: f64| {
                let own = ((1.0 - target * target) / (1.0 - clamped_own * clamped_own)).sqrt();
                let from_parent = target - own * clamped_own;
                let mixed: Vec<f64> = z.iter().map(|&(p, c)| own * c + from_parent * p).collect();
                DependenceEdge {
                    parent: t.parent,
                    child: t.child,
                    own,
                    from_parent,
                    mixed: quantiles(mixed),
                    own_probs: own_probs.clone(),
                }
            };
            let (tp, tc) = (ties_of(ties, t.parent), ties_of(ties, t.child));
            let edge = if tp.is_empty() && tc.is_empty() {
                if (rho - own_rho).abs() <= t.tolerance {
                    continue;
                }
                edge_for(rho)
            } else {
                // A column with ties is scored as the release scores it (a point at its
                // share's middle), and the mixing's target is searched for so that the pair
                // lands on `rho` there.
                let released_like = |child: &dyn Fn(usize) -> f64| {
                    released_correlation(rows.iter().map(|&r| {
                        (
                            released_score(tp, up[r].unwrap_or(0.5), score_clip),
                            released_score(tc, child(r), score_clip),
                        )
                    }))
                };
                let now = released_like(&|r| uc[r].unwrap_or(0.5));
                if (rho - now).abs() <= t.tolerance {
                    continue;
                }
                let (mut lo, mut hi) = (-0.999f64, 0.999f64);
                for _ in 0..TARGET_SEARCH_STEPS {
                    let mid = 0.5 * (lo + hi);
                    let e = edge_for(mid);
                    let got = released_like(&|r| {
                        e.child_prob(uc[r].unwrap_or(0.5), up[r].unwrap_or(0.5))
                    });
                    if got < rho {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                edge_for(0.5 * (lo + hi))
            };
            let new: Vec<(usize, f64)> = rows
                .iter()
                .map(|&r| {
                    let (p, c) = (up[r].unwrap_or(0.5), uc[r].unwrap_or(0.5));
                    (r, edge.child_prob(c, p))
                })
                .collect();
            if let Some(Some(uc)) = probs.get_mut(t.child) {
                for (r, u) in new {
                    uc[r] = Some(u);
                }
            }
            edges.push(edge);
        }
        Dependence {
            edges,
            points: Vec::new(),
            mixed: Vec::new(),
        }
    }

    /// Whether no edge is set.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// Whether column `k` takes part in an edge.
    pub fn involves(&self, k: usize) -> bool {
        self.edges.iter().any(|e| e.parent == k || e.child == k)
    }

    /// The point scale of column `k`, where it is a column on exact points in an edge.
    pub fn point_scale(&self, k: usize) -> Option<&PointScale> {
        self.points.get(k).and_then(|p| p.as_ref())
    }

    /// The mixed scale of column `k`, where it is a calibrated column with exact points in an
    /// edge.
    pub fn mixed_scale(&self, k: usize) -> Option<&MixedScale> {
        self.mixed.get(k).and_then(|p| p.as_ref())
    }

    /// Adjusts the children's probabilities in `probs` (per column, per row, as in
    /// [`fit`](Self::fit)) in the fitted order: a row's child moves where both its values are
    /// set.
    pub fn apply(&self, probs: &mut [Option<Vec<Option<f64>>>]) {
        for e in &self.edges {
            if e.parent == e.child || e.parent >= probs.len() || e.child >= probs.len() {
                continue;
            }
            // The parent's probabilities are taken out while the child's change (no copy).
            let parent = probs[e.parent].take();
            if let (Some(up), Some(uc)) = (&parent, probs[e.child].as_mut()) {
                for (c, p) in uc.iter_mut().zip(up) {
                    if let (Some(c), Some(p)) = (c.as_mut(), p) {
                        *c = e.child_prob(*c, *p);
                    }
                }
            }
            probs[e.parent] = parent;
        }
    }
}

/// `targets` oriented and ordered parents first: each tree of the forest they form from its
/// lowest column, breadth first; an edge that would close a cycle is dropped.
fn orient(targets: &[DependenceTarget]) -> Vec<DependenceTarget> {
    let mut columns: Vec<usize> = targets.iter().flat_map(|t| [t.parent, t.child]).collect();
    columns.sort_unstable();
    columns.dedup();
    let mut seen: Vec<usize> = Vec::new();
    let mut used = vec![false; targets.len()];
    let mut out = Vec::new();
    for &root in &columns {
        if seen.contains(&root) {
            continue;
        }
        seen.push(root);
        let mut queue = std::collections::VecDeque::from([root]);
        while let Some(at) = queue.pop_front() {
            for (i, t) in targets.iter().enumerate() {
                if used[i] {
                    continue;
                }
                let other = if t.parent == at {
                    t.child
                } else if t.child == at {
                    t.parent
                } else {
                    continue;
                };
                used[i] = true;
                if seen.contains(&other) {
                    continue;
                }
                seen.push(other);
                queue.push_back(other);
                out.push(DependenceTarget {
                    parent: at,
                    child: other,
                    ..*t
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::continuous::normal_cdf;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    /// The release's score clip (`dp::copula::SCORE_CLIP`).
    const CLIP: f64 = 2.0;

    /// Probabilities of `n` rows of two independent standard normal columns and a third
    /// that follows the first with correlation `r`.
    fn pilot(n: usize, r: f64, seed: u64) -> Vec<Option<Vec<Option<f64>>>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut cols = vec![Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..n {
            let a: f64 = StandardNormal.sample(&mut rng);
            let b: f64 = StandardNormal.sample(&mut rng);
            let e: f64 = StandardNormal.sample(&mut rng);
            cols[0].push(Some(normal_cdf(a)));
            cols[1].push(Some(normal_cdf(b)));
            cols[2].push(Some(normal_cdf(r * a + (1.0 - r * r).sqrt() * e)));
        }
        cols.into_iter().map(Some).collect()
    }

    /// An edge asked for with a tolerance of 0.05.
    fn target(parent: usize, child: usize, rho: f64) -> DependenceTarget {
        DependenceTarget {
            parent,
            child,
            rho,
            tolerance: 0.05,
            rows_needed: 1000,
        }
    }

    fn corr_of(probs: &[Option<Vec<Option<f64>>>], a: usize, b: usize) -> f64 {
        let (pa, pb) = (probs[a].as_ref().unwrap(), probs[b].as_ref().unwrap());
        let z: Vec<(f64, f64)> = pa
            .iter()
            .zip(pb)
            .filter_map(|(x, y)| Some((score((*x)?), score((*y)?))))
            .collect();
        correlation(&z).unwrap()
    }

    #[test]
    fn a_child_gets_the_target_correlation_and_keeps_uniform_probabilities() {
        let target = target(0, 1, 0.9);
        let mut fit_probs = pilot(20_000, 0.5, 1);
        let dep = Dependence::fit(&[target], &mut fit_probs, &[], CLIP);
        assert_eq!(dep.edges.len(), 1);
        assert!((corr_of(&fit_probs, 0, 1) - 0.9).abs() < 0.02);
        // Fresh rows from the same generator, adjusted by the fitted edge.
        let mut probs = pilot(20_000, 0.5, 2);
        let before_02 = corr_of(&probs, 0, 2);
        dep.apply(&mut probs);
        let r = corr_of(&probs, 0, 1);
        assert!((r - 0.9).abs() < 0.02, "correlation {r}");
        // The child's probabilities stay uniform: deciles within a point of 10%.
        let child = probs[1].as_ref().unwrap();
        for d in 0..10 {
            let lo = d as f64 / 10.0;
            let share = child
                .iter()
                .filter(|u| u.is_some_and(|u| u >= lo && u < lo + 0.1))
                .count() as f64
                / child.len() as f64;
            assert!((share - 0.1).abs() < 0.01, "decile {d}: {share}");
        }
        // Columns off the edge are untouched.
        assert_eq!(corr_of(&probs, 0, 2), before_02);
    }

    #[test]
    fn the_rows_beside_a_present_parent_keep_the_childs_distribution_there() {
        // The parent is missing wherever the child's probability is outside [0.25, 0.75]
        // (SLID's wage, missing for the youngest and oldest): the rows the edge is fitted
        // and applied on hold only the child's middle half, and must keep it, not spread
        // over the child's whole range.
        let mut probs = pilot(20_000, 0.0, 3);
        let child: Vec<Option<f64>> = probs[1].clone().unwrap();
        if let Some(parent) = probs[0].as_mut() {
            for (p, c) in parent.iter_mut().zip(&child) {
                if !c.is_some_and(|c| (0.25..=0.75).contains(&c)) {
                    *p = None;
                }
            }
        }
        let dep = Dependence::fit(&[target(0, 1, 0.8)], &mut probs, &[], CLIP);
        assert_eq!(dep.edges.len(), 1);
        let moved: Vec<f64> = probs[0]
            .as_ref()
            .unwrap()
            .iter()
            .zip(probs[1].as_ref().unwrap())
            .filter_map(|(p, c)| p.and(*c))
            .collect();
        let (lo, hi) = moved
            .iter()
            .fold((1.0f64, 0.0f64), |(lo, hi), &u| (lo.min(u), hi.max(u)));
        let mean = moved.iter().sum::<f64>() / moved.len() as f64;
        assert!(lo > 0.24 && hi < 0.76, "moved into [{lo}, {hi}]");
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
        let r = corr_of(&probs, 0, 1);
        assert!(r > 0.6, "correlation {r}");
    }

    #[test]
    fn a_correlation_over_rows_half_missing_is_undone_by_the_square_root_of_two() {
        // The child missing in every other row: its spread and the pair's sum cover half the
        // parent's rows, so the released ρ is the rows' own times √½.
        let u: Vec<Option<f64>> = (0..10_000).map(|i| Some((i as f64 + 0.5) / 1e4)).collect();
        let half: Vec<Option<f64>> = u
            .iter()
            .enumerate()
            .map(|(i, &x)| if i % 2 == 0 { x } else { None })
            .collect();
        let undo = missing_undo(&u, &half, CLIP);
        assert!((undo - 2f64.sqrt()).abs() < 0.01, "{undo}");
        assert_eq!(missing_undo(&u, &u, CLIP), 1.0);
    }

    #[test]
    fn a_mixed_scale_keeps_its_points_shares_and_gives_back_what_it_scored() {
        // A spending: zeros in 40% of the rows, a round 50 in 20%, free values from 10 to
        // 100 (the calibration's value at u is 10 + 90 u) in 40%.
        let points: Vec<f64> = (0..400)
            .map(|_| 0.0)
            .chain((0..200).map(|_| 50.0))
            .collect();
        let value_at = |u: f64| 10.0 + 90.0 * u;
        let scale = MixedScale::fit(points, 400, value_at).unwrap();
        // The zeros hold [0, 0.4); 50 sits where the free values cross it (4/9 of them
        // below): from 0.4 + 0.4 * 4/9.
        let start_50 = 0.4 + 0.4 * 4.0 / 9.0;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..1000 {
            let u = scale.prob_point(0.0, &mut rng).unwrap();
            assert!((0.0..0.4).contains(&u), "{u}");
            assert_eq!(scale.value_at(u), MixedValue::Point(0.0));
            let u = scale.prob_point(50.0, &mut rng).unwrap();
            assert!(u >= start_50 - 1e-9 && u < start_50 + 0.2 + 1e-9, "{u}");
            assert_eq!(scale.value_at(u), MixedValue::Point(50.0));
        }
        assert!(scale.prob_point(7.0, &mut rng).is_none());
        // Free values go back to their own probabilities.
        for i in 0..100 {
            let f = (i as f64 + 0.5) / 100.0;
            let u = scale.prob_free(f, value_at(f));
            match scale.value_at(u) {
                MixedValue::Free(g) => assert!((g - f).abs() < 1e-6, "{f} -> {g}"),
                other => panic!("free {f} came back as {other:?}"),
            }
        }
        // Uniform probabilities give the shares back: 40% zeros, 20% fifties.
        let n = 100_000;
        let (mut zeros, mut fifties) = (0, 0);
        for i in 0..n {
            match scale.value_at((i as f64 + 0.5) / n as f64) {
                MixedValue::Point(0.0) => zeros += 1,
                MixedValue::Point(_) => fifties += 1,
                MixedValue::Free(_) => {}
            }
        }
        assert!((zeros as f64 / n as f64 - 0.4).abs() < 1e-3);
        assert!((fifties as f64 / n as f64 - 0.2).abs() < 1e-3);
    }

    #[test]
    fn a_count_column_moves_with_its_parent_and_keeps_its_shares() {
        // Ames' garage: a parent amount (standard normal) and a child count of cars 0-3 at
        // shares 10 / 30 / 50 / 10%, drawn independently of it; the released correlation is
        // 0.8. The child's points must follow the parent, each point keeping its share.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let shares = [0.1, 0.3, 0.5, 0.1];
        let mut draw = |n: usize| -> (Vec<f64>, Vec<f64>) {
            (0..n)
                .map(|_| {
                    let a: f64 = StandardNormal.sample(&mut rng);
                    let u: f64 = rand::Rng::random(&mut rng);
                    let mut cars = 0;
                    let mut at = shares[0];
                    while u > at && cars < 3 {
                        cars += 1;
                        at += shares[cars];
                    }
                    (a, cars as f64)
                })
                .unzip()
        };
        let scale = |a: &[f64], cars: &[f64], scale: &PointScale, rng: &mut ChaCha8Rng| {
            vec![
                Some(a.iter().map(|&a| Some(normal_cdf(a))).collect()),
                Some(cars.iter().map(|&c| Some(scale.prob(c, rng))).collect()),
            ]
        };
        let (a, cars) = draw(20_000);
        let points = PointScale::fit(cars.clone()).unwrap();
        let mut jitter = ChaCha8Rng::seed_from_u64(8);
        let mut pilot = scale(&a, &cars, &points, &mut jitter);
        let target = target(0, 1, 0.8);
        let dep = Dependence::fit(&[target], &mut pilot, &[Vec::new(), points.ties()], CLIP);
        assert_eq!(dep.edges.len(), 1);
        let (a, cars) = draw(20_000);
        let mut probs = scale(&a, &cars, &points, &mut jitter);
        dep.apply(&mut probs);
        let moved: Vec<f64> = probs[1]
            .as_ref()
            .unwrap()
            .iter()
            .map(|u| points.value_at(u.unwrap()))
            .collect();
        let xy =
            |c: &[f64]| -> Vec<(f64, f64)> { a.iter().copied().zip(c.iter().copied()).collect() };
        let (before, after) = (
            correlation(&xy(&cars)).unwrap(),
            correlation(&xy(&moved)).unwrap(),
        );
        eprintln!("cars with the amount: r {before:.3} -> {after:.3}");
        assert!(before.abs() < 0.03 && after > 0.6, "r {before} -> {after}");
        for (v, share) in shares.iter().enumerate() {
            let got = moved.iter().filter(|&&c| c == v as f64).count() as f64 / moved.len() as f64;
            assert!(
                (got - share).abs() < 0.01,
                "{v} cars: {got} against {share}"
            );
        }
    }

    #[test]
    fn a_flags_edge_lands_on_the_released_correlation_where_it_is_scored_as_released() {
        // A 50/50 flag as the child of a normal amount, released at 0.6: the release scores
        // each half at its middle (Φ⁻¹(0.25), Φ⁻¹(0.75)), which a flag drawn uniformly
        // within its half reaches only if the drawn scores correlate more (by 1/√(2/π)).
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let flags: Vec<f64> = (0..20_000).map(|i| (i % 2) as f64).collect();
        let scale = PointScale::fit(flags.clone()).unwrap();
        let ties = vec![Vec::new(), scale.ties()];
        assert_eq!(ties[1].len(), 2, "{:?}", ties[1]);
        let mut probs = pilot(20_000, 0.0, 10);
        probs[1] = Some(
            flags
                .iter()
                .map(|&x| Some(scale.prob(x, &mut rng)))
                .collect(),
        );
        let dep = Dependence::fit(&[target(0, 1, 0.6)], &mut probs, &ties, CLIP);
        assert_eq!(dep.edges.len(), 1);
        let (pa, pb) = (probs[0].as_ref().unwrap(), probs[1].as_ref().unwrap());
        let got = released_correlation(pa.iter().zip(pb).map(|(a, b)| {
            (
                released_score(&[], a.unwrap(), CLIP),
                released_score(&ties[1], b.unwrap(), CLIP),
            )
        }));
        assert!((got - 0.6).abs() < 0.01, "released-style correlation {got}");
        // The drawn scores' own correlation is past it (the mixing's target was raised).
        let own = corr_of(&probs, 0, 1);
        assert!(own > 0.65, "drawn scores {own}");
        // The flag keeps its halves.
        let ones = pb
            .iter()
            .filter(|u| scale.value_at(u.unwrap()) == 1.0)
            .count();
        assert!((ones as f64 / 20_000.0 - 0.5).abs() < 0.01, "{ones}");
    }

    #[test]
    fn an_edge_within_its_tolerance_or_short_of_rows_is_not_set() {
        let near = target(0, 2, 0.52);
        let mut probs = pilot(20_000, 0.5, 3);
        assert!(Dependence::fit(&[near], &mut probs, &[], CLIP).is_empty());
        let far = DependenceTarget { rho: 0.9, ..near };
        let mut few = pilot(400, 0.5, 3);
        assert!(Dependence::fit(&[far], &mut few, &[], CLIP).is_empty());
    }

    #[test]
    fn a_chain_is_applied_parents_first_from_its_lowest_column() {
        // Given child-first, 2 -> 1 and 1 -> 0: oriented 0 -> 1 -> 2.
        let targets = [target(2, 1, 0.8), target(1, 0, 0.8)];
        let order: Vec<(usize, usize)> = orient(&targets)
            .iter()
            .map(|t| (t.parent, t.child))
            .collect();
        assert_eq!(order, vec![(0, 1), (1, 2)]);
        let mut probs = pilot(20_000, 0.0, 4);
        let dep = Dependence::fit(&targets, &mut probs, &[], CLIP);
        assert_eq!(dep.edges.len(), 2);
        assert!((corr_of(&probs, 0, 1) - 0.8).abs() < 0.02);
        assert!((corr_of(&probs, 1, 2) - 0.8).abs() < 0.02);
    }
}
