//! Flushing subnormal floats to zero while the networks train.
//!
//! A float under `f32::MIN_POSITIVE` (1.2e-38) is subnormal, and on x86 every multiply or add
//! that reads or produces one leaves the vector units for a microcode assist, about a hundred
//! times slower. Training makes them once the generator grows sure of its categories (the
//! Gumbel-softmax at temperature 0.2 then returns probabilities far below 1e-38, and gradients
//! through it shrink with them; which products read them most was not traced). A DP epoch of the shipped
//! `configs/adult-dp.toml` went from 2.5 s to 8.0-8.9 s from about epoch 25, and resumed from
//! the same checkpoint with subnormals flushed it ran at 2.3-2.5 s (docs/performance.md, stop
//! 38). PyTorch offers the same switch (`torch.set_flush_denormal`).
//!
//! The mode is per thread. [`FlushSubnormals`] sets it for the calling thread and puts the old
//! mode back when dropped, so the accountant and the sampler never run under it. OpenBLAS
//! starts its worker threads when it loads and they copy the loading thread's mode, so the host
//! engine loads it under a guard (`linalg`). Values this small carry no information a network
//! can use; the privacy arithmetic (clip factors, noise of standard deviation σC per sum) works
//! on numbers many orders of magnitude above them.
//!
//! On x86-64 this sets MXCSR's flush-to-zero and denormals-are-zero bits. Elsewhere it does
//! nothing (the arithmetic then stays IEEE-exact, and only the speed differs).

/// While alive, the calling thread's float arithmetic treats subnormal inputs as zero and
/// writes zero for subnormal results; dropping it restores the mode found at [`Self::new`].
/// Create it on the thread that does the work and keep it on that thread (it is not `Send`).
pub struct FlushSubnormals {
    /// The control word to restore (x86-64's MXCSR).
    #[cfg(target_arch = "x86_64")]
    saved: u32,
    /// The mode is the calling thread's: keep the guard off other threads.
    _not_send: std::marker::PhantomData<*const ()>,
}

/// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6) bits.
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

#[cfg(target_arch = "x86_64")]
fn read_mxcsr() -> u32 {
    let mut csr = 0u32;
    // SAFETY: stmxcsr stores the 32-bit control word into the given writable location.
    unsafe {
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
    }
    csr
}

#[cfg(target_arch = "x86_64")]
fn write_mxcsr(csr: u32) {
    // SAFETY: ldmxcsr loads a control word read by `read_mxcsr` with only the FTZ and DAZ
    // bits changed (both defined on every x86-64 processor), so no reserved bit is set.
    unsafe {
        std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly, preserves_flags));
    }
}

impl FlushSubnormals {
    /// Starts flushing subnormals on the calling thread.
    pub fn new() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let saved = read_mxcsr();
            write_mxcsr(saved | FTZ_DAZ);
            FlushSubnormals {
                saved,
                _not_send: std::marker::PhantomData,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        FlushSubnormals {
            _not_send: std::marker::PhantomData,
        }
    }
}

impl Default for FlushSubnormals {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for FlushSubnormals {
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        write_mxcsr(self.saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    /// 1e-30 * 1e-10 is 1e-40, a subnormal f32.
    fn tiny_product() -> f32 {
        black_box(1e-30f32) * black_box(1e-10f32)
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn a_subnormal_product_is_zero_under_the_guard_and_comes_back_after_it() {
        let before = tiny_product();
        assert!(before > 0.0 && before < f32::MIN_POSITIVE, "{before:e}");
        {
            let _outer = FlushSubnormals::new();
            assert_eq!(tiny_product(), 0.0);
            // A subnormal input reads as zero too: 1e-40 + 0 stays 0 only under DAZ.
            assert_eq!(black_box(before) + black_box(0.0f32), 0.0);
            {
                let _inner = FlushSubnormals::new();
                assert_eq!(tiny_product(), 0.0);
            }
            // The inner guard restored the outer guard's mode, not IEEE's.
            assert_eq!(tiny_product(), 0.0);
        }
        assert_eq!(tiny_product(), before);
        // Normal floats are untouched: the smallest normal times one.
        let _guard = FlushSubnormals::new();
        assert_eq!(
            black_box(f32::MIN_POSITIVE) * black_box(1.0f32),
            f32::MIN_POSITIVE
        );
    }
}
