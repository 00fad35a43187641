//! Everything that reads private statistics or adds noise lives here, small enough to audit in
//! one sitting.
//!
//! - `rdp.rs`: RDP of the Poisson-subsampled Gaussian (Mironov, Talwar & Zhang 2019) and the
//!   RDP -> (ε, δ) conversion (Balle et al. 2020, Thm 21). Pure maths.

pub mod rdp;
