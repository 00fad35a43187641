//! Everything that reads private statistics or adds noise lives here, small enough to audit in
//! one sitting.
//!
//! - `rdp.rs`: RDP of the Poisson-subsampled Gaussian (Mironov, Talwar & Zhang 2019) and the
//!   RDP -> (ε, δ) conversion (Balle et al. 2020, Thm 21). Pure maths.
//! - `accountant.rs`: the run's plan (noise calibrated to the target before any row is read)
//!   and the ledger that composes preprocessing with every discriminator step.
//! - `preprocess/`: the transformer from noisy histograms. `mod.rs` plans the measurements
//!   (budget weights, thresholds, what is public) and runs each column's fit; `discrete.rs`
//!   (thresholded category discovery) and `continuous.rs` (bounds, type, step, body histogram,
//!   points) are where rows are read and noise is added (and `step.rs` counts a date's finest
//!   unit); `body.rs`, `points.rs` and the rest of `step.rs` post-process noisy counts.
//! - `marginals.rs`: noisy two-way marginals (pairs of columns), measured with the histograms.
//! - `tail.rs`: a column's tail beyond its loud part as a falling fit of noisy bin counts
//!   (post-processing), so that a lone noisy bin does not become a mode.
//! - `copula.rs`: noisy normal-score correlations of continuous pairs on the tree's edges,
//!   measured with the pair tables.
//! - `units.rs`: the private draws of a DP critic step (Poisson sample, each unit's partner,
//!   condition column, loss weight, interpolation weight and dropout masks).
//! - `clip.rs`: per-row clipping of the critic's gradient from ghost norms, and the noise.
//! - `matrix.rs`: the matrix operations `clip.rs` is written in, for burn and the host engine.
//! - `noise.rs`: the OS-seeded ChaCha20 generator behind Poisson sampling and every noise draw.
//! - `selection.rs`: report-noisy-max over tuning trials scored on private held-out rows, and
//!   the basic-composition budget split of a charged tuning run.
//! - `ledger.rs`: the record written into the released file.
//! - `audit.rs`: `dpsynth audit`'s gradient canaries and the one-run lower bound on ε
//!   (Steinke, Nasr & Jagielski 2023).

pub mod accountant;
pub mod audit;
pub mod bounds;
pub mod clip;
pub mod copula;
pub mod ledger;
pub mod marginals;
pub mod matrix;
pub mod noise;
pub mod preprocess;
pub mod rdp;
pub mod selection;
pub mod tail;
pub mod units;

pub use accountant::{Accountant, PlanRequest, PrivacyPlan, Spent};
pub use ledger::Ledger;
pub use noise::{DpRng, RngState};
