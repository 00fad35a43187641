//! The few matrix operations the clipped critic step ([`super::clip`]) is written in, so that
//! its arithmetic exists once for both engines: burn tensors (every burn backend) and the host
//! engine's [`Mat`].
//!
//! Every operation is shape-checked plain linear algebra; nothing here knows about privacy.
//! `tests/dp_clipping.rs` runs the clipped step through both implementations against the same
//! gradient computed one unit at a time with autodiff.

use burn::tensor::{Tensor, TensorData};

use crate::model::host::linalg::{matmul, Mat, Op};

/// A dense `[rows, cols]` `f32` matrix on some device.
pub trait Matrix: Clone + Sized {
    /// `[rows, cols]`.
    fn dims(&self) -> [usize; 2];
    /// A `[rows, cols]` matrix of row-major `data` on this matrix's device.
    fn upload(&self, data: Vec<f32>, rows: usize, cols: usize) -> Self;
    /// The values, row after row (a device sync on a GPU).
    fn download(&self) -> Vec<f32>;
    /// `op(self) × op(rhs)`, where `op` transposes when the flag is set.
    fn product(&self, transpose: bool, rhs: &Self, rhs_transpose: bool) -> Self;
    /// Elementwise sum; `rhs` may be `[1, cols]`, added to every row.
    fn add(self, rhs: &Self) -> Self;
    /// Elementwise product; `rhs` may be `[rows, 1]`, multiplying each row by its value.
    fn mul(self, rhs: &Self) -> Self;
    /// Every value times `factor`.
    fn scale(self, factor: f64) -> Self;
    /// Rows `range` (a copy).
    fn rows(&self, range: std::ops::Range<usize>) -> Self;
    /// The matrices stacked row-wise (same `cols`).
    fn cat_rows(parts: &[Self]) -> Self;
    /// The matrices side by side (same `rows`).
    fn cat_cols(parts: &[Self]) -> Self;
    /// Each row's sum, `[rows, 1]`.
    fn row_sums(&self) -> Self;
    /// Each row's dot product with the same row of `rhs` (same shape), `[rows, 1]`.
    fn row_dots(&self, rhs: &Self) -> Self {
        self.clone().mul(rhs).row_sums()
    }
    /// Row `rows.start + i` of `self` dotted with row `rhs_rows.start + i` of `rhs`, for each
    /// `i` (ranges of one length, same `cols`), `[len, 1]`: [`Matrix::row_dots`] of two row
    /// ranges, without copying them where the matrix can read rows in place.
    fn row_dots_between(
        &self,
        rows: std::ops::Range<usize>,
        rhs: &Self,
        rhs_rows: std::ops::Range<usize>,
    ) -> Self {
        self.rows(rows).row_dots(&rhs.rows(rhs_rows))
    }
    /// The first `n` rows, consuming the matrix (in place where the matrix can drop rows).
    fn first_rows(self, n: usize) -> Self {
        self.rows(0..n)
    }
    /// Elementwise product with rows `range` of `rhs` (as many rows as `self`, same `cols`):
    /// [`Matrix::mul`] by [`Matrix::rows`], without copying them where the matrix can read
    /// rows in place.
    fn mul_rows(self, rhs: &Self, range: std::ops::Range<usize>) -> Self {
        self.mul(&rhs.rows(range))
    }
    /// Each column's sum, `[1, cols]`.
    fn column_sums(&self) -> Self;
    /// LeakyReLU's slope at each value: 1 where it is positive, `negative` elsewhere.
    fn leaky_slopes(&self, negative: f64) -> Self;
}

impl Matrix for Tensor<2> {
    fn dims(&self) -> [usize; 2] {
        Tensor::dims(self)
    }

    fn upload(&self, data: Vec<f32>, rows: usize, cols: usize) -> Self {
        Tensor::from_data(TensorData::new(data, [rows, cols]), &self.device())
    }

    fn download(&self) -> Vec<f32> {
        crate::model::to_host(self.clone())
    }

    fn product(&self, transpose: bool, rhs: &Self, rhs_transpose: bool) -> Self {
        let a = if transpose {
            self.clone().transpose()
        } else {
            self.clone()
        };
        let b = if rhs_transpose {
            rhs.clone().transpose()
        } else {
            rhs.clone()
        };
        a.matmul(b)
    }

    fn add(self, rhs: &Self) -> Self {
        self + rhs.clone()
    }

    fn mul(self, rhs: &Self) -> Self {
        self * rhs.clone()
    }

    fn scale(self, factor: f64) -> Self {
        self.mul_scalar(factor)
    }

    fn rows(&self, range: std::ops::Range<usize>) -> Self {
        let [_, w] = Tensor::dims(self);
        self.clone().slice([range, 0..w])
    }

    fn cat_rows(parts: &[Self]) -> Self {
        Tensor::cat(parts.to_vec(), 0)
    }

    fn cat_cols(parts: &[Self]) -> Self {
        Tensor::cat(parts.to_vec(), 1)
    }

    fn row_sums(&self) -> Self {
        self.clone().sum_dim(1)
    }

    fn column_sums(&self) -> Self {
        self.clone().sum_dim(0)
    }

    fn leaky_slopes(&self, negative: f64) -> Self {
        self.clone()
            .greater_elem(0.0)
            .float()
            .mul_scalar(1.0 - negative)
            .add_scalar(negative)
    }
}

fn op(transpose: bool) -> Op {
    if transpose {
        Op::T
    } else {
        Op::N
    }
}

/// Checks that `rhs` is `self`'s shape or broadcasts along `axis` (1 row or 1 column).
fn broadcast_ok(a: &Mat, b: &Mat, what: &str) {
    let ok = (b.rows == a.rows && b.cols == a.cols)
        || (what == "add" && b.rows == 1 && b.cols == a.cols)
        || (what == "mul" && b.cols == 1 && b.rows == a.rows);
    assert!(
        ok,
        "{what}: [{}, {}] with [{}, {}]",
        a.rows, a.cols, b.rows, b.cols
    );
}

/// `sum_j a[j] b[j]` over eight running partial sums (lane `j mod 8`), added at the end: the
/// loop vectorises, where one running sum makes every addition wait for the last. The
/// rounding differs from a left-to-right sum by float rounding only (and is usually closer).
fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for ((s, x), y) in lanes.iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    let rest: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + rest
}

impl Matrix for Mat {
    fn dims(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    fn upload(&self, data: Vec<f32>, rows: usize, cols: usize) -> Self {
        Mat::from_vec(rows, cols, data)
    }

    fn download(&self) -> Vec<f32> {
        self.data.clone()
    }

    fn product(&self, transpose: bool, rhs: &Self, rhs_transpose: bool) -> Self {
        matmul(self, op(transpose), rhs, op(rhs_transpose))
    }

    fn add(self, rhs: &Self) -> Self {
        broadcast_ok(&self, rhs, "add");
        let mut out = self;
        if rhs.rows == out.rows {
            out.data
                .iter_mut()
                .zip(&rhs.data)
                .for_each(|(o, r)| *o += r);
        } else {
            for r in 0..out.rows {
                out.row_mut(r)
                    .iter_mut()
                    .zip(&rhs.data)
                    .for_each(|(o, b)| *o += b);
            }
        }
        out
    }

    fn mul(self, rhs: &Self) -> Self {
        broadcast_ok(&self, rhs, "mul");
        let mut out = self;
        if rhs.cols == out.cols {
            out.data
                .iter_mut()
                .zip(&rhs.data)
                .for_each(|(o, r)| *o *= r);
        } else {
            for r in 0..out.rows {
                let f = rhs.data[r];
                out.row_mut(r).iter_mut().for_each(|o| *o *= f);
            }
        }
        out
    }

    fn mul_rows(self, rhs: &Self, range: std::ops::Range<usize>) -> Self {
        assert!(
            range.len() == self.rows && rhs.cols == self.cols && range.end <= rhs.rows,
            "mul_rows: [{}, {}] with rows {range:?} of [{}, {}]",
            self.rows,
            self.cols,
            rhs.rows,
            rhs.cols
        );
        let mut out = self;
        let from = &rhs.data[range.start * rhs.cols..range.end * rhs.cols];
        out.data.iter_mut().zip(from).for_each(|(o, r)| *o *= r);
        out
    }

    fn scale(self, factor: f64) -> Self {
        let f = factor as f32;
        let mut out = self;
        out.data.iter_mut().for_each(|x| *x *= f);
        out
    }

    fn rows(&self, range: std::ops::Range<usize>) -> Self {
        Mat::rows(self, range)
    }

    fn cat_rows(parts: &[Self]) -> Self {
        let cols = parts.first().map_or(0, |p| p.cols);
        let mut data = Vec::with_capacity(parts.iter().map(|p| p.data.len()).sum());
        for p in parts {
            assert_eq!(p.cols, cols, "cat_rows: [_, {}] with [_, {cols}]", p.cols);
            data.extend_from_slice(&p.data);
        }
        Mat::from_vec(data.len() / cols.max(1), cols, data)
    }

    fn cat_cols(parts: &[Self]) -> Self {
        let rows = parts.first().map_or(0, |p| p.rows);
        let cols: usize = parts.iter().map(|p| p.cols).sum();
        let mut out = Mat::zeros(rows, cols);
        let mut start = 0;
        for p in parts {
            assert_eq!(p.rows, rows, "cat_cols: [{}, _] with [{rows}, _]", p.rows);
            for r in 0..rows {
                out.row_mut(r)[start..start + p.cols].copy_from_slice(p.row(r));
            }
            start += p.cols;
        }
        out
    }

    fn row_sums(&self) -> Self {
        let sums = (0..self.rows).map(|r| self.row(r).iter().sum()).collect();
        Mat::from_vec(self.rows, 1, sums)
    }

    fn row_dots(&self, rhs: &Self) -> Self {
        assert_eq!(
            (self.rows, self.cols),
            (rhs.rows, rhs.cols),
            "row_dots: shapes differ"
        );
        let dots = (0..self.rows)
            .map(|r| lane_dot(self.row(r), rhs.row(r)))
            .collect();
        Mat::from_vec(self.rows, 1, dots)
    }

    fn row_dots_between(
        &self,
        rows: std::ops::Range<usize>,
        rhs: &Self,
        rhs_rows: std::ops::Range<usize>,
    ) -> Self {
        assert!(
            rows.len() == rhs_rows.len()
                && self.cols == rhs.cols
                && rows.end <= self.rows
                && rhs_rows.end <= rhs.rows,
            "row_dots_between: rows {rows:?} of [{}, {}] with rows {rhs_rows:?} of [{}, {}]",
            self.rows,
            self.cols,
            rhs.rows,
            rhs.cols
        );
        let dots = rows
            .clone()
            .zip(rhs_rows)
            .map(|(a, b)| lane_dot(self.row(a), rhs.row(b)))
            .collect();
        Mat::from_vec(rows.len(), 1, dots)
    }

    fn first_rows(self, n: usize) -> Self {
        assert!(n <= self.rows, "first_rows: {n} of {} rows", self.rows);
        let mut out = self;
        out.data.truncate(n * out.cols);
        out.rows = n;
        out
    }

    fn column_sums(&self) -> Self {
        Mat::from_vec(1, self.cols, Mat::column_sums(self))
    }

    fn leaky_slopes(&self, negative: f64) -> Self {
        let negative = negative as f32;
        let mut out = self.clone();
        out.data
            .iter_mut()
            .for_each(|x| *x = if *x > 0.0 { 1.0 } else { negative });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_dots_in_lanes_match_a_sum_in_f64_for_every_remainder() {
        // Lengths 0 to 40 cover whole chunks of eight and every remainder; the values are
        // exact in f32 and their products small integers over 64, so an f64 sum is exact.
        for len in 0..=40usize {
            let a: Vec<f32> = (0..2 * len)
                .map(|i| ((i * 7 % 13) as f32 - 6.0) / 8.0)
                .collect();
            let b: Vec<f32> = (0..2 * len)
                .map(|i| ((i * 5 % 11) as f32 - 5.0) / 8.0)
                .collect();
            let (a, b) = (Mat::from_vec(2, len, a), Mat::from_vec(2, len, b));
            let dots = Matrix::row_dots(&a, &b);
            assert_eq!(dots.dims(), [2, 1]);
            for r in 0..2 {
                let want: f64 = a
                    .row(r)
                    .iter()
                    .zip(b.row(r))
                    .map(|(&x, &y)| f64::from(x) * f64::from(y))
                    .sum();
                assert_eq!(f64::from(dots.data[r]), want, "row {r} of length {len}");
            }
        }
    }

    #[test]
    fn row_ranges_read_in_place_give_what_copies_of_the_ranges_give() {
        // The same ranges through the host's in-place reads and through burn's tensors (the
        // trait's default: copies of the rows), with exact values (multiples of 1/8).
        let device = burn::tensor::Device::flex();
        let values = |rows: usize, cols: usize, k: usize| -> Vec<f32> {
            (0..rows * cols)
                .map(|i| ((i * k % 17) as f32 - 8.0) / 8.0)
                .collect()
        };
        let (a, b) = (values(9, 11, 7), values(6, 11, 5));
        let (ha, hb) = (
            Mat::from_vec(9, 11, a.clone()),
            Mat::from_vec(6, 11, b.clone()),
        );
        let (ta, tb) = (
            crate::model::matrix(a, 9, 11, &device),
            crate::model::matrix(b, 6, 11, &device),
        );
        for (ra, rb) in [(0..3, 3..6), (6..9, 0..3), (2..8, 0..6), (4..4, 1..1)] {
            let host = ha.row_dots_between(ra.clone(), &hb, rb.clone());
            let burn = ta.row_dots_between(ra.clone(), &tb, rb.clone());
            assert_eq!(host.dims(), [ra.len(), 1]);
            assert_eq!(host.download(), burn.download(), "rows {ra:?} with {rb:?}");
        }
        for n in [0, 4, 9] {
            let host = ha.clone().first_rows(n);
            assert_eq!(host.dims(), [n, 11]);
            assert_eq!(host.download(), ta.clone().first_rows(n).download());
            assert_eq!(host.download(), ha.data[..n * 11].to_vec());
        }
    }
}
