//! The lattice a numeric column's values sit on when it is coarser than their decimal places
//! say: loan amounts in hundreds, assets in thousands, years of schooling in halves. Sampled
//! values are rounded onto it, so that a column of round amounts does not come back as
//! `4,217`.
//!
//! Lattices are `1 × 10^e` or `5 × 10^e`, from 10,000 down to 0.00001 ([`CHAIN`]); each is a
//! multiple of the next finer one, so a value's class (the coarsest lattice that holds it,
//! [`class_of`]) decides which lattices hold it. Zero lies on every lattice and has a class of
//! its own that says nothing about the lattice: a zero-inflated amount is judged on its other
//! values.

use serde::{Deserialize, Serialize};

/// Lattices from the coarsest to the finest: 10^4, 5·10^3, 10^3, ..., 5·10^-5, 10^-5.
pub const CHAIN: usize = 19;

/// Classes of [`class_of`]: zero, each lattice of [`CHAIN`] (coarsest first), finer than all.
pub const CLASSES: usize = CHAIN + 2;

/// Class of the value zero.
pub const ZERO: usize = 0;

/// Class of a value on no lattice of the chain (finer than 10^-5).
pub const FINER: usize = CHAIN + 1;

/// Values needed to learn a lattice without DP: fewer non-zero values on a coarse lattice can
/// be chance (ten uniform values all multiples of 10: one chance in 10^10).
pub const MIN_VALUES: usize = 10;

/// A lattice `mantissa × 10^exponent` (mantissa 1 or 5). Written in model files as its value
/// (`500.0`, `0.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Lattice {
    /// Whether the mantissa is 5 (else 1).
    five: bool,
    /// The power of ten.
    exponent: i32,
}

impl Lattice {
    /// The `index`-th lattice of the chain (0: 10^4, the coarsest), `None` past its end.
    pub fn chain(index: usize) -> Option<Lattice> {
        (index < CHAIN).then(|| Lattice {
            five: index % 2 == 1,
            exponent: 4 - (index as i32 + 1) / 2,
        })
    }

    /// The spacing of the lattice.
    pub fn value(self) -> f64 {
        let m = if self.five { 5.0 } else { 1.0 };
        m * 10f64.powi(self.exponent)
    }

    /// Decimal places a value on this lattice needs at most: 0 for 5 and coarser, 1 for 0.5.
    pub fn places(self) -> u32 {
        (-self.exponent).max(0) as u32
    }

    /// Whether `x` lies on the lattice, up to the rounding of its decimal text. (A value near
    /// zero is not a multiple of 10,000 because its quotient rounds to 0.)
    pub fn holds(self, x: f64) -> bool {
        let q = x / self.value();
        x == 0.0 || (q.round() != 0.0 && (q - q.round()).abs() <= 1e-6 + 1e-12 * q.abs())
    }

    /// `x` rounded to the nearest point of the lattice within `[lo, hi]` (the column's sampled
    /// range): a point beyond a bound moves one spacing inward, and where no point lies in the
    /// range `x` is returned unchanged.
    pub fn round_within(self, x: f64, lo: f64, hi: f64) -> f64 {
        let s = self.value();
        let mut r = (x / s).round() * s;
        if r > hi {
            r -= s;
        }
        if r < lo {
            r += s;
        }
        if (lo..=hi).contains(&r) {
            // Rounding error of the product (0.1 * 3): write it as its decimal text says.
            let scale = 10f64.powi(self.places() as i32);
            (r * scale).round() / scale
        } else {
            x
        }
    }
}

impl From<Lattice> for f64 {
    fn from(l: Lattice) -> f64 {
        l.value()
    }
}

impl TryFrom<f64> for Lattice {
    type Error = String;

    fn try_from(v: f64) -> Result<Lattice, String> {
        (0..CHAIN)
            .filter_map(Lattice::chain)
            .find(|l| (l.value() - v).abs() <= 1e-9 * v.abs())
            .ok_or_else(|| {
                format!("{v} is not a lattice (1 or 5 times a power of ten, 1e-5 to 1e4)")
            })
    }
}

/// The class of `x`: [`ZERO`], the index + 1 of the coarsest lattice of the chain that holds
/// it, or [`FINER`].
pub fn class_of(x: f64) -> usize {
    if x == 0.0 {
        return ZERO;
    }
    (0..CHAIN)
        .find(|&i| Lattice::chain(i).is_some_and(|l| l.holds(x)))
        .map_or(FINER, |i| i + 1)
}

/// Decimal places a value of class `class` needs: 0 for zero and the lattices of 5 and
/// coarser, 1 for 0.5 and 0.1, ..., and 6 for [`FINER`] (6 or more).
pub fn class_places(class: usize) -> u32 {
    match class {
        ZERO => 0,
        FINER => 6,
        c => Lattice::chain(c - 1).map_or(6, Lattice::places),
    }
}

/// The lattices worth trying for a column written with `decimals` places, coarsest first:
/// for an integer column 10^4 down to 5, for one place 0.5, for two 0.05, and so on. Each is
/// coarser than the places alone say, and needs no more places.
pub fn candidates(decimals: u32) -> impl Iterator<Item = (usize, Lattice)> {
    (0..CHAIN).filter_map(move |i| {
        let l = Lattice::chain(i)?;
        let finest = 10f64.powi(-(decimals as i32));
        (l.places() == decimals && l.value() > finest * 1.5).then_some((i, l))
    })
}

/// The coarsest lattice every present non-zero value of a column written with `decimals`
/// places lies on, when one is coarser than the places say and at least [`MIN_VALUES`]
/// values support it. Learned from the rows: used without DP only.
pub fn learn(values: impl Iterator<Item = f64>, decimals: u32) -> Option<Lattice> {
    let mut classes = [0usize; CLASSES];
    for x in values {
        classes[class_of(x)] += 1;
    }
    let on_lattice = |i: usize| classes[1..=i + 1].iter().sum::<usize>();
    let finer = |i: usize| classes[i + 2..].iter().sum::<usize>();
    candidates(decimals)
        .find(|&(i, _)| finer(i) == 0 && on_lattice(i) >= MIN_VALUES)
        .map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_runs_from_ten_thousand_down_in_ones_and_fives() {
        let values: Vec<f64> = (0..CHAIN)
            .map(|i| Lattice::chain(i).unwrap().value())
            .collect();
        assert_eq!(&values[..5], &[1e4, 5e3, 1e3, 500.0, 100.0]);
        assert_eq!(values[8], 1.0);
        assert_eq!(values[9], 0.5);
        assert!((values[CHAIN - 1] - 1e-5).abs() < 1e-18);
        // Each lattice is a multiple of the next finer one.
        for w in values.windows(2) {
            let q = w[0] / w[1];
            assert!((q - q.round()).abs() < 1e-9 && q >= 2.0, "{w:?}");
        }
    }

    #[test]
    fn a_value_s_class_is_the_coarsest_lattice_that_holds_it() {
        let class = |x: f64| Lattice::chain(class_of(x) - 1).unwrap().value();
        assert_eq!(class_of(0.0), ZERO);
        assert_eq!(class(35_000.0), 5e3);
        assert_eq!(class(-1_200.0), 100.0);
        assert_eq!(class(15.0), 5.0);
        assert_eq!(class(17.0), 1.0);
        assert_eq!(class(10.5), 0.5);
        assert_eq!(class(0.3), 0.1);
        assert_eq!(class(19.99), 0.01);
        assert_eq!(class_of(86.149_130_090_404_27), FINER);
        // Tiny values are not multiples of anything coarse.
        assert_eq!(class_of(1.2e-6), FINER);
        assert_eq!(class_of(-3e-5), class_of(-0.00003));
        assert_eq!(class(-3e-5), 1e-5);
        assert_eq!(class_places(class_of(10.5)), 1);
        assert_eq!(class_places(class_of(19.99)), 2);
        assert_eq!(class_places(class_of(500.0)), 0);
    }

    #[test]
    fn lattices_are_learned_from_every_non_zero_value() {
        let hundreds = (0..50).map(|i| (i * 700 % 3100) as f64 + 400.0);
        assert_eq!(learn(hundreds, 0).map(f64::from), Some(100.0));
        // Zeros say nothing about the lattice.
        let with_zeros = (0..50).map(|i| if i % 2 == 0 { 0.0 } else { 500.0 * i as f64 });
        assert_eq!(learn(with_zeros, 0).map(f64::from), Some(500.0));
        let halves = (0..40).map(|i| 8.0 + 0.5 * i as f64);
        assert_eq!(learn(halves, 1).map(f64::from), Some(0.5));
        // One value off the lattice: none.
        let mostly = (0..50).map(|i| if i == 7 { 1_234.0 } else { 100.0 * i as f64 });
        assert_eq!(learn(mostly, 0), None);
        // Too few values to tell a lattice from chance.
        assert_eq!(learn([100.0, 200.0, 0.0].into_iter(), 0), None);
        // Plain integers and cents: nothing coarser than their places.
        assert_eq!(learn((1..60).map(|i| i as f64), 0), None);
        assert_eq!(learn((1..60).map(|i| i as f64 + 0.99), 2), None);
    }

    #[test]
    fn rounding_stays_within_the_range() {
        let l = Lattice::try_from(500.0).unwrap();
        assert_eq!(l.round_within(1_260.0, 0.0, 5_000.0), 1_500.0);
        assert_eq!(l.round_within(4_900.0, 0.0, 4_800.0), 4_500.0);
        assert_eq!(l.round_within(120.0, 100.0, 5_000.0), 500.0);
        // No lattice point in the range: unchanged.
        assert_eq!(l.round_within(120.0, 100.0, 300.0), 120.0);
        let half = Lattice::try_from(0.5).unwrap();
        assert_eq!(half.round_within(10.3, 0.0, 20.0), 10.5);
        let tenth = Lattice::try_from(0.1).unwrap();
        assert_eq!(tenth.round_within(0.29, 0.0, 1.0), 0.3);
        assert!(Lattice::try_from(2.0).is_err());
        assert_eq!(serde_json::to_string(&l).unwrap(), "500.0");
        let back: Lattice = serde_json::from_str("0.5").unwrap();
        assert_eq!(back, half);
    }
}
