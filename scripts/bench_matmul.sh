#!/usr/bin/env bash
# GFLOP/s of the matrix products an Adult training step makes (shapes below), on one thread
# and on two, for three libraries: the gemm crate 0.19 as burn-flex builds it, the same with
# its AVX-512 kernels (feature x86-v4), and OpenBLAS (the system's libopenblas.so.0, called
# through ctypes). Builds a throwaway crate under target/; run it on an idle machine.
#
#   bash scripts/bench_matmul.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=target/bench-matmul
mkdir -p "$DIR/src"
cat > "$DIR/Cargo.toml" <<'TOML'
[package]
name = "bench-matmul"
version = "0.1.0"
edition = "2021"
[workspace]
[dependencies]
gemm = { version = "=0.19.0" }
[features]
v4 = ["gemm/x86-v4"]
[profile.dev]
opt-level = 3
TOML
cat > "$DIR/src/main.rs" <<'RS'
use std::time::Instant;
const SHAPES: [(usize, usize, usize); 6] =
    [(500, 232, 256), (500, 488, 256), (500, 744, 157), (150, 2610, 256), (2610, 100, 256), (50, 256, 2610)];
fn gflops(m: usize, k: usize, n: usize, par: gemm::Parallelism) -> f64 {
    let (a, b, mut c) = (vec![0.5f32; m * k], vec![0.25f32; k * n], vec![0f32; m * n]);
    let reps = 300;
    let t = Instant::now();
    for _ in 0..reps {
        unsafe {
            gemm::gemm(m, n, k, c.as_mut_ptr(), 1, n as isize, false, a.as_ptr(), 1, k as isize,
                b.as_ptr(), 1, n as isize, 0.0, 1.0, false, false, false, par);
        }
    }
    2.0 * (m * k * n) as f64 / (t.elapsed().as_secs_f64() / reps as f64) / 1e9
}
fn main() {
    for &(m, k, n) in &SHAPES {
        println!("{m}x{k}x{n}: 1 thread {:.1}, 2 threads {:.1}",
            gflops(m, k, n, gemm::Parallelism::None), gflops(m, k, n, gemm::Parallelism::Rayon(2)));
    }
}
RS
export CARGO_TARGET_DIR="$PWD/$DIR/target"
echo "== gemm crate 0.19 (as burn-flex builds it), GFLOP/s"
(cd "$DIR" && cargo build -q && ./target/debug/bench-matmul)
echo "== gemm crate 0.19 with x86-v4 (AVX-512 kernels), GFLOP/s"
(cd "$DIR" && cargo build -q --features v4 && ./target/debug/bench-matmul)
echo "== OpenBLAS ($(ls /usr/lib/x86_64-linux-gnu/libopenblas.so.0)), GFLOP/s"
for t in 1 2; do
OPENBLAS_NUM_THREADS=$t python3 - "$t" <<'PY'
import ctypes, sys, time
from array import array
lib = ctypes.CDLL("libopenblas.so.0")
f = lib.cblas_sgemm
P = ctypes.c_void_p
f.argtypes = [ctypes.c_int] * 6 + [ctypes.c_float, P, ctypes.c_int, P, ctypes.c_int, ctypes.c_float, P, ctypes.c_int]
for (m, k, n) in [(500, 232, 256), (500, 488, 256), (500, 744, 157), (150, 2610, 256), (2610, 100, 256), (50, 256, 2610)]:
    a, b, c = array("f", [0.5]) * (m * k), array("f", [0.25]) * (k * n), array("f", [0.0]) * (m * n)
    pa, pb, pc = (ctypes.c_void_p(x.buffer_info()[0]) for x in (a, b, c))
    call = lambda: f(101, 111, 111, m, n, k, 1.0, pa, k, pb, n, 0.0, pc, n)
    for _ in range(5): call()
    t = time.perf_counter()
    for _ in range(300): call()
    s = (time.perf_counter() - t) / 300
    print(f"{m}x{k}x{n}: {sys.argv[1]} thread(s) {2 * m * k * n / s / 1e9:.1f}")
PY
done
