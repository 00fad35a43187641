//! The randomness DP depends on: Poisson sampling of rows and the Gaussian noise on the
//! histograms and gradients. It comes from ChaCha20 seeded by the operating system; a run that
//! fixes it with a seed is reproducible but its ledger says "not for release".

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rand_distr::StandardNormal;

/// The generator of every random choice the privacy guarantee rests on.
pub struct DpRng {
    rng: ChaCha20Rng,
    seeded: bool,
}

impl DpRng {
    /// Seeded from the operating system: the only kind fit for a release.
    pub fn from_os() -> DpRng {
        DpRng {
            rng: ChaCha20Rng::from_os_rng(),
            seeded: false,
        }
    }

    /// Seeded by the user: reproducible, and therefore not for release (anyone who knows the
    /// seed can subtract the noise).
    pub fn from_seed(seed: u64) -> DpRng {
        // A different stream from the non-DP randomness seeded with the same number.
        DpRng {
            rng: ChaCha20Rng::seed_from_u64(seed ^ 0x5eed_d95e_edd9),
            seeded: true,
        }
    }

    /// The generator's exact position, for a training checkpoint. A checkpoint holding it
    /// can replay the noise, which is one reason checkpoints are never released.
    pub fn state(&self) -> RngState {
        RngState::of_chacha20(&self.rng, self.seeded)
    }

    /// Continues from a checkpoint's [`state`](Self::state).
    pub fn from_state(state: &RngState) -> DpRng {
        DpRng {
            rng: state.chacha20(),
            seeded: state.seeded,
        }
    }

    /// Whether a user seed fixed the noise.
    pub fn is_seeded(&self) -> bool {
        self.seeded
    }

    /// `n` independent draws of N(0, std²).
    pub fn gaussian(&mut self, n: usize, std: f64) -> Vec<f64> {
        (0..n)
            .map(|_| std * self.rng.sample::<f64, _>(StandardNormal))
            .collect()
    }

    /// Poisson sampling: each of `n` rows independently with probability `q`, in order.
    pub fn poisson_sample(&mut self, n: usize, q: f64) -> Vec<u32> {
        // Geometric gaps between chosen rows: the same distribution as n coin flips, in
        // O(expected sample size) draws.
        let mut chosen = Vec::with_capacity((n as f64 * q * 1.2) as usize + 8);
        if q >= 1.0 {
            return (0..n as u32).collect();
        }
        let log_miss = (-q).ln_1p();
        let mut i: f64 = -1.0;
        loop {
            let u: f64 = self.rng.random();
            // Rows skipped before the next chosen one: floor(ln(1 - u) / ln(1 - q)).
            i += 1.0 + ((-u).ln_1p() / log_miss).floor();
            if i >= n as f64 {
                return chosen;
            }
            chosen.push(i as u32);
        }
    }

    /// One draw of the Laplace distribution with scale `b` (inverse CDF of a uniform draw).
    pub fn laplace(&mut self, b: f64) -> f64 {
        let u: f64 = self.rng.random::<f64>() - 0.5;
        -b * u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln()
    }

    /// Uniform index in `0..n` (the discrete column whose category conditions a real row).
    pub fn index(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n)
    }

    /// `n` independent uniform draws in `[0, 1)` (a DP critic step's interpolation weights).
    pub fn uniform(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.rng.random::<f32>()).collect()
    }

    /// One fair-or-not coin: `true` with probability `p` (a row's side in a private split).
    pub fn coin(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    /// `n` inverted-dropout mask entries: `1 / keep` with probability `keep` (rounded to a
    /// multiple of 2⁻¹⁶), else 0 ([`crate::model::host::dropout_mask`]).
    pub fn dropout_mask(&mut self, n: usize, keep: f64) -> Vec<f32> {
        crate::model::host::dropout_mask(&mut self.rng, n, keep)
    }
}

/// Where a ChaCha generator stands: its key, stream and word position (hex in JSON, as
/// u128 and 256-bit keys do not fit JSON numbers).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RngState {
    /// The 256-bit key, hex.
    pub key: String,
    /// The stream number.
    pub stream: u64,
    /// The word position, hex.
    pub word_pos: String,
    /// Whether the key came from a user seed (DP generator only).
    #[serde(default)]
    pub seeded: bool,
}

macro_rules! chacha_state {
    ($of:ident, $back:ident, $rng:ty) => {
        impl RngState {
            /// Captures a generator's position.
            pub fn $of(rng: &$rng, seeded: bool) -> RngState {
                RngState {
                    key: rng.get_seed().iter().map(|b| format!("{b:02x}")).collect(),
                    stream: rng.get_stream(),
                    word_pos: format!("{:x}", rng.get_word_pos()),
                    seeded,
                }
            }

            /// The generator at the captured position (a malformed state gives a fresh
            /// all-zero key; checkpoints are checksummed before this is reached).
            pub fn $back(&self) -> $rng {
                let mut key = [0u8; 32];
                for (i, b) in key.iter_mut().enumerate() {
                    *b = self
                        .key
                        .get(2 * i..2 * i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .unwrap_or(0);
                }
                let mut rng = <$rng>::from_seed(key);
                rng.set_stream(self.stream);
                rng.set_word_pos(u128::from_str_radix(&self.word_pos, 16).unwrap_or(0));
                rng
            }
        }
    };
}
chacha_state!(of_chacha20, chacha20, ChaCha20Rng);
chacha_state!(of_chacha8, chacha8, rand_chacha::ChaCha8Rng);

/// `P(N(0, 1) > x)`.
pub(crate) fn normal_upper_tail(x: f64) -> f64 {
    0.5 * libm::erfc(x / std::f64::consts::SQRT_2)
}

/// `x` with `P(N(0, 1) > x) = p`, by bisection on `erfc`.
pub(crate) fn normal_upper_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if normal_upper_tail(mid) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_sampling_takes_each_row_with_probability_q() {
        let mut rng = DpRng::from_seed(9);
        let (n, q, rounds) = (200, 0.05, 20_000);
        let mut hits = vec![0u32; n];
        let mut sizes = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let s = rng.poisson_sample(n, q);
            assert!(s.windows(2).all(|w| w[0] < w[1]) && s.iter().all(|&i| (i as usize) < n));
            sizes.push(s.len() as f64);
            s.iter().for_each(|&i| hits[i as usize] += 1);
        }
        // Each row: Binomial(rounds, q), mean 1000, sd ~31; the batch size: mean nq = 10,
        // variance nq(1 - q) = 9.5.
        for (row, &h) in hits.iter().enumerate() {
            assert!(
                (h as f64 - 1000.0).abs() < 150.0,
                "row {row} taken {h} times"
            );
        }
        let mean = sizes.iter().sum::<f64>() / rounds as f64;
        let var = sizes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / rounds as f64;
        assert!((mean - 10.0).abs() < 0.1, "mean batch {mean}");
        assert!((var - 9.5).abs() < 0.6, "batch variance {var}");
    }

    #[test]
    fn os_seeded_generators_differ_and_seeded_ones_repeat() {
        assert_ne!(
            DpRng::from_os().gaussian(4, 1.0),
            DpRng::from_os().gaussian(4, 1.0)
        );
        assert_eq!(
            DpRng::from_seed(1).gaussian(4, 1.0),
            DpRng::from_seed(1).gaussian(4, 1.0)
        );
        assert!(!DpRng::from_os().is_seeded() && DpRng::from_seed(1).is_seeded());
    }

    #[test]
    fn a_captured_state_continues_the_same_draws() {
        let mut rng = DpRng::from_os();
        let _ = rng.gaussian(7, 1.0);
        let state = rng.state();
        let json = serde_json::to_string(&state).unwrap();
        let mut back = DpRng::from_state(&serde_json::from_str(&json).unwrap());
        assert_eq!(rng.gaussian(5, 1.0), back.gaussian(5, 1.0));
        assert!(!back.is_seeded());
    }
}
