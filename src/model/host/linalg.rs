//! Row-major `f32` matrices on the host and the one matrix product the host engine needs.
//!
//! Products go to OpenBLAS when the machine has it (loaded at run time, so building needs
//! nothing extra), else to the `gemm` crate (the kernels burn-flex uses). Both take
//! transposed operands without a copy. On this project's 2-core AVX-512 machine OpenBLAS
//! 0.3.21 runs the networks' products at 85-97 GFLOP/s per core against the gemm crate's
//! 35-45 (docs/performance.md). `DPSYNTH_BLAS=off` turns OpenBLAS off; `DPSYNTH_BLAS=PATH`
//! loads that library instead.

use std::ffi::c_int;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// A dense row-major matrix `[rows, cols]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mat {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// `rows * cols` values, row after row.
    pub data: Vec<f32>,
}

impl Mat {
    /// A `[rows, cols]` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Mat {
        Mat {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Wraps row-major values; panics when the length is not `rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<f32>) -> Mat {
        assert_eq!(data.len(), rows * cols, "a [{rows}, {cols}] matrix");
        Mat { rows, cols, data }
    }

    /// Row `r` as a slice.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Row `r` as a mutable slice.
    pub fn row_mut(&mut self, r: usize) -> &mut [f32] {
        &mut self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Rows `range` as their own matrix (a copy).
    pub fn rows(&self, range: std::ops::Range<usize>) -> Mat {
        Mat::from_vec(
            range.len(),
            self.cols,
            self.data[range.start * self.cols..range.end * self.cols].to_vec(),
        )
    }

    /// The same values read as `[rows * cols / cols_new, cols_new]` (row-major reshape).
    pub fn reshape(self, rows: usize, cols: usize) -> Mat {
        Mat::from_vec(rows, cols, self.data)
    }

    /// `[self | other]` side by side (same row count).
    pub fn hcat(&self, other: &Mat) -> Mat {
        assert_eq!(self.rows, other.rows, "hcat needs equal row counts");
        let cols = self.cols + other.cols;
        let mut data = Vec::with_capacity(self.rows * cols);
        for r in 0..self.rows {
            data.extend_from_slice(self.row(r));
            data.extend_from_slice(other.row(r));
        }
        Mat::from_vec(self.rows, cols, data)
    }

    /// Column sums `[cols]`.
    pub fn column_sums(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.cols];
        for r in 0..self.rows {
            for (o, &x) in out.iter_mut().zip(self.row(r)) {
                *o += x;
            }
        }
        out
    }
}

/// Whether an operand is read as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// As stored.
    N,
    /// Transposed.
    T,
}

/// CBLAS's `sgemm`.
type Sgemm = unsafe extern "C" fn(
    layout: c_int,
    trans_a: c_int,
    trans_b: c_int,
    m: c_int,
    n: c_int,
    k: c_int,
    alpha: f32,
    a: *const f32,
    lda: c_int,
    b: *const f32,
    ldb: c_int,
    beta: f32,
    c: *mut f32,
    ldc: c_int,
) -> ();

/// OpenBLAS's `openblas_set_num_threads` / `openblas_get_num_threads`.
type SetThreads = unsafe extern "C" fn(c_int) -> ();
type GetThreads = unsafe extern "C" fn() -> c_int;

/// A loaded BLAS library and its `cblas_sgemm`.
struct Blas {
    name: String,
    sgemm: Sgemm,
    threads: Option<(SetThreads, GetThreads)>,
    _library: libloading::Library,
}

/// Live [`SingleThreaded`] guards: while any exists, every product runs on its caller's
/// thread alone (callers that run products on several threads at once).
static SINGLE_THREADED: AtomicUsize = AtomicUsize::new(0);
/// OpenBLAS's thread count before the first live guard.
static SAVED_THREADS: Mutex<Option<c_int>> = Mutex::new(None);

/// While alive, matrix products use one thread each (see [`single_threaded_products`]).
pub struct SingleThreaded(());

/// Makes every matrix product single-threaded until the guard drops: for callers that run
/// products on several of their own threads at once.
pub fn single_threaded_products() -> SingleThreaded {
    let mut saved = SAVED_THREADS.lock().expect("the thread-count lock");
    if SINGLE_THREADED.fetch_add(1, Ordering::SeqCst) == 0 {
        if let Some((set, get)) = blas().and_then(|b| b.threads) {
            // SAFETY: OpenBLAS's documented thread-count calls, no arguments to check.
            unsafe {
                *saved = Some(get());
                set(1);
            }
        }
    }
    SingleThreaded(())
}

impl Drop for SingleThreaded {
    fn drop(&mut self) {
        let mut saved = SAVED_THREADS.lock().expect("the thread-count lock");
        if SINGLE_THREADED.fetch_sub(1, Ordering::SeqCst) == 1 {
            if let (Some((set, _)), Some(n)) = (blas().and_then(|b| b.threads), saved.take()) {
                // SAFETY: as above.
                unsafe { set(n) }
            }
        }
    }
}

/// The thread count last asked for with [`set_product_threads`] (0: never asked).
static ASKED_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Lets each matrix product use `n` threads (OpenBLAS's thread count, or the gemm crate's
/// rayon threads; at least 1). While a [`SingleThreaded`] guard is live, products stay
/// single-threaded and the count applies when the last guard drops.
pub fn set_product_threads(n: usize) {
    let n = n.max(1);
    if ASKED_THREADS.swap(n, Ordering::SeqCst) == n {
        return;
    }
    let mut saved = SAVED_THREADS.lock().expect("the thread-count lock");
    if let Some((set, _)) = blas().and_then(|b| b.threads) {
        if SINGLE_THREADED.load(Ordering::SeqCst) > 0 {
            *saved = Some(n as c_int);
        } else {
            // SAFETY: OpenBLAS's documented thread-count call with a positive count.
            unsafe { set(n as c_int) }
        }
    }
}

/// Library names tried in turn (Debian/Ubuntu's `libopenblas0` package provides the first).
const OPENBLAS_NAMES: [&str; 3] = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"];

fn load_blas() -> Option<Blas> {
    let choice = std::env::var("DPSYNTH_BLAS").ok();
    let names: Vec<String> = match choice.as_deref() {
        Some("off") | Some("0") | Some("none") => return None,
        Some(path) if !path.is_empty() => vec![path.to_string()],
        _ => OPENBLAS_NAMES.iter().map(|s| s.to_string()).collect(),
    };
    for name in names {
        // SAFETY: loading runs the library's initialisers; OpenBLAS's only set up its
        // thread pool. The symbol's type is CBLAS's published `cblas_sgemm` signature.
        unsafe {
            let Ok(library) = libloading::Library::new(&name) else {
                continue;
            };
            let Ok(symbol) = library.get::<Sgemm>(b"cblas_sgemm\0") else {
                continue;
            };
            let sgemm = *symbol;
            let set = library
                .get::<SetThreads>(b"openblas_set_num_threads\0")
                .map(|s| *s);
            let get = library
                .get::<GetThreads>(b"openblas_get_num_threads\0")
                .map(|s| *s);
            return Some(Blas {
                name,
                sgemm,
                threads: set.ok().zip(get.ok()),
                _library: library,
            });
        }
    }
    None
}

fn blas() -> Option<&'static Blas> {
    static BLAS: OnceLock<Option<Blas>> = OnceLock::new();
    // OpenBLAS starts its worker threads as it loads, and they keep the loading thread's
    // float mode for good: load it flushing subnormals, as training runs (`subnormals`).
    BLAS.get_or_init(|| {
        let _flush = crate::model::subnormals::FlushSubnormals::new();
        load_blas()
    })
    .as_ref()
}

/// Which library runs the host engine's matrix products, for logs.
pub fn matmul_library() -> String {
    match blas() {
        Some(b) => format!("OpenBLAS ({})", b.name),
        None => "the gemm crate".into(),
    }
}

/// `out = a' b'` (or `out += a' b'` with `accumulate`), where `a'` is `a` or its transpose
/// per `ta`, and likewise `b'`. Shapes: `a' [m, k]`, `b' [k, n]`, `out [m, n]`.
pub fn gemm_into(out: &mut Mat, a: &Mat, ta: Op, b: &Mat, tb: Op, accumulate: bool) {
    let (m, n, k) = shapes(out, a, ta, b, tb);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // An empty sum.
        if !accumulate {
            out.data.fill(0.0);
        }
        return;
    }
    match blas() {
        Some(blas) => blas_gemm(blas, out, a, ta, b, tb, accumulate),
        None => crate_gemm(out, a, ta, b, tb, accumulate),
    }
}

fn shapes(out: &Mat, a: &Mat, ta: Op, b: &Mat, tb: Op) -> (usize, usize, usize) {
    let (m, k) = match ta {
        Op::N => (a.rows, a.cols),
        Op::T => (a.cols, a.rows),
    };
    let (k2, n) = match tb {
        Op::N => (b.rows, b.cols),
        Op::T => (b.cols, b.rows),
    };
    assert_eq!(k, k2, "inner dimensions of a product");
    assert_eq!((out.rows, out.cols), (m, n), "output shape of a product");
    (m, n, k)
}

/// [`gemm_into`] on OpenBLAS, for non-empty shapes.
fn blas_gemm(blas: &Blas, out: &mut Mat, a: &Mat, ta: Op, b: &Mat, tb: Op, accumulate: bool) {
    let (m, n, k) = shapes(out, a, ta, b, tb);
    const ROW_MAJOR: c_int = 101;
    let trans = |t: Op| if t == Op::N { 111 } else { 112 };
    let dim = |x: usize| c_int::try_from(x).expect("a matrix dimension fits a C int");
    // SAFETY: row-major operands with leading dimension = their stored column count cover
    // `a' [m, k]`, `b' [k, n]` and `out [m, n]` (shapes checked above); `out` is borrowed
    // mutably, so it aliases neither input.
    unsafe {
        (blas.sgemm)(
            ROW_MAJOR,
            trans(ta),
            trans(tb),
            dim(m),
            dim(n),
            dim(k),
            1.0,
            a.data.as_ptr(),
            dim(a.cols.max(1)),
            b.data.as_ptr(),
            dim(b.cols.max(1)),
            if accumulate { 1.0 } else { 0.0 },
            out.data.as_mut_ptr(),
            dim(n),
        );
    }
}

/// [`gemm_into`] on the gemm crate, for non-empty shapes.
fn crate_gemm(out: &mut Mat, a: &Mat, ta: Op, b: &Mat, tb: Op, accumulate: bool) {
    let (m, n, k) = shapes(out, a, ta, b, tb);
    // (row stride, column stride) of the operand as it is read.
    let strides = |x: &Mat, t: Op| match t {
        Op::N => (x.cols as isize, 1isize),
        Op::T => (1isize, x.cols as isize),
    };
    let (a_rs, a_cs) = strides(a, ta);
    let (b_rs, b_cs) = strides(b, tb);
    // Small products run on one thread: splitting them costs more than it saves.
    let asked = ASKED_THREADS.load(Ordering::SeqCst);
    let parallelism =
        if m * n * k >= 1 << 18 && SINGLE_THREADED.load(Ordering::SeqCst) == 0 && asked != 1 {
            gemm::Parallelism::Rayon(asked)
        } else {
            gemm::Parallelism::None
        };
    // SAFETY: every pointer covers its matrix for the strides given (checked shapes above),
    // and `out` does not alias `a` or `b` (it is borrowed mutably).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.data.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a_cs,
            a_rs,
            b.data.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `a' b'` as a new matrix (see [`gemm_into`]).
pub fn matmul(a: &Mat, ta: Op, b: &Mat, tb: Op) -> Mat {
    let m = if ta == Op::N { a.rows } else { a.cols };
    let n = if tb == Op::N { b.cols } else { b.rows };
    let k = if ta == Op::N { a.cols } else { a.rows };
    if m == 0 || n == 0 || k == 0 {
        let mut out = Mat::zeros(m, n);
        gemm_into(&mut out, a, ta, b, tb, false);
        return out;
    }
    // No zero fill first: a product that does not accumulate writes every entry of `out`
    // without reading it (OpenBLAS with beta 0, the gemm crate without `read_dst`), so the
    // entries are written straight into the allocation and the length set after.
    let mut out = Mat {
        rows: m,
        cols: n,
        data: Vec::with_capacity(m * n),
    };
    match blas() {
        Some(blas) => blas_gemm(blas, &mut out, a, ta, b, tb, false),
        None => crate_gemm(&mut out, a, ta, b, tb, false),
    }
    // SAFETY: the capacity is `m * n` and the product above wrote all `m * n` entries
    // (`[m, n]` row-major with leading dimension `n`; shapes checked inside it).
    unsafe { out.data.set_len(m * n) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &Mat, ta: Op, b: &Mat, tb: Op) -> Mat {
        let at = |i: usize, j: usize| match ta {
            Op::N => a.data[i * a.cols + j],
            Op::T => a.data[j * a.cols + i],
        };
        let bt = |i: usize, j: usize| match tb {
            Op::N => b.data[i * b.cols + j],
            Op::T => b.data[j * b.cols + i],
        };
        let m = if ta == Op::N { a.rows } else { a.cols };
        let k = if ta == Op::N { a.cols } else { a.rows };
        let n = if tb == Op::N { b.cols } else { b.rows };
        let mut out = Mat::zeros(m, n);
        for i in 0..m {
            for j in 0..n {
                out.data[i * n + j] = (0..k).map(|p| at(i, p) * bt(p, j)).sum();
            }
        }
        out
    }

    #[test]
    fn products_with_transposes_match_the_textbook_loop() {
        let fill = |r: usize, c: usize, s: f32| {
            Mat::from_vec(r, c, (0..r * c).map(|i| ((i as f32) * s).sin()).collect())
        };
        for (ta, tb) in [
            (Op::N, Op::N),
            (Op::T, Op::N),
            (Op::N, Op::T),
            (Op::T, Op::T),
        ] {
            let a = if ta == Op::N {
                fill(70, 33, 0.7)
            } else {
                fill(33, 70, 0.7)
            };
            let b = if tb == Op::N {
                fill(33, 90, 1.3)
            } else {
                fill(90, 33, 1.3)
            };
            let want = naive(&a, ta, &b, tb);
            let mut got = Mat::zeros(want.rows, want.cols);
            crate_gemm(&mut got, &a, ta, &b, tb, false);
            for (x, y) in got.data.iter().zip(&want.data) {
                assert!((x - y).abs() < 1e-4, "{ta:?}{tb:?}: {x} vs {y}");
            }
            crate_gemm(&mut got, &a, ta, &b, tb, true);
            for (x, y) in got.data.iter().zip(&want.data) {
                assert!((x - 2.0 * y).abs() < 2e-4);
            }
            // OpenBLAS, where the machine has it (CI installs it).
            if let Some(blas) = blas() {
                let mut got = Mat::zeros(want.rows, want.cols);
                blas_gemm(blas, &mut got, &a, ta, &b, tb, false);
                for (x, y) in got.data.iter().zip(&want.data) {
                    assert!((x - y).abs() < 1e-4, "OpenBLAS {ta:?}{tb:?}: {x} vs {y}");
                }
                blas_gemm(blas, &mut got, &a, ta, &b, tb, true);
                for (x, y) in got.data.iter().zip(&want.data) {
                    assert!((x - 2.0 * y).abs() < 2e-4);
                }
            }
        }
    }
}
