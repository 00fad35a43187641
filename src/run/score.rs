//! The fidelity score of a generator as a run trains it: the SDMetrics-style quality score
//! (mean of column shapes and pair trends) of a fixed-size sample against a fixed set of real
//! rows. The same sample seed is used at every epoch, so scores of two epochs differ by the
//! generator, not by sampling luck.
//!
//! Which real rows may be read is a privacy question, settled by `RunConfig::validate`: a
//! held-out split or the training rows in non-DP mode, only a public table in DP mode.

use std::path::Path;

use burn::tensor::Device;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::RunConfig;
use crate::error::Result;
use crate::evaluate::{align_columns, fidelity::fidelity, FidelityReport};
use crate::export::ModelFile;
use crate::read::Table;
use crate::sample::GeneratorSampler;

/// Most real rows a score compares against; beyond this a fixed random subset is used.
pub const MAX_REFERENCE_ROWS: usize = 5000;

/// Seed of the scoring sample, the same at every epoch.
const SAMPLE_SEED: u64 = 0x005C_02E5;

/// Scores generators against one fixed set of real rows.
pub struct Scorer {
    reference: Table,
    rows: usize,
    /// Where the reference rows come from, for messages and the ledger.
    pub source: String,
}

/// The one number a run ranks epochs and trials by: SDMetrics' overall quality score, or the
/// column-shape score alone when no pair meets SDMetrics' thresholds.
pub fn quality(report: &FidelityReport) -> f64 {
    if report.overall.is_finite() {
        report.overall
    } else {
        report.column_shapes
    }
}

/// Splits `table` into (training, held-out) rows: a seeded shuffle puts `share` of the rows in
/// the held-out part; both keep the table's row order. The same inputs give the same split, so
/// a resumed run trains on the same rows.
pub fn split_rows(table: &Table, share: f64, seed: u64) -> (Table, Table) {
    let n = table.n_rows();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let held = ((n as f64 * share).round() as usize).clamp(1, n.saturating_sub(1).max(1));
    let (held_out, kept) = order.split_at(held);
    let (mut held_out, mut kept) = (held_out.to_vec(), kept.to_vec());
    held_out.sort_unstable();
    kept.sort_unstable();
    (table.take_rows(&kept), table.take_rows(&held_out))
}

impl Scorer {
    /// A scorer against `reference` (capped at [`MAX_REFERENCE_ROWS`] rows by a fixed random
    /// subset) that samples `rows` rows per score.
    pub fn new(reference: &Table, rows: usize, source: String) -> Scorer {
        let reference = if reference.n_rows() > MAX_REFERENCE_ROWS {
            let share = MAX_REFERENCE_ROWS as f64 / reference.n_rows() as f64;
            split_rows(reference, share, SAMPLE_SEED).1
        } else {
            reference.clone()
        };
        Scorer {
            reference,
            rows,
            source,
        }
    }

    /// The scorer a run with `config` uses, given its training rows (non-DP: `holdout` when
    /// the config holds rows out, else the training rows); `None` when the run is not scored.
    pub fn for_run(
        config: &RunConfig,
        training: &Table,
        holdout: Option<&Table>,
    ) -> Result<Option<Scorer>> {
        if !config.scores_epochs() {
            return Ok(None);
        }
        let rows = config.score.rows;
        if let Some(public) = &config.score.public_table {
            // Read as training reads (in DP mode, columns with public metadata cell by cell)
            // and typed as the generator was trained, so that it is scored against numbers.
            let (mut table, _) = crate::read::read_training_table(public, config)?;
            crate::train::type_as_trained(&mut table, config)?;
            let table = align_columns(training, table, "public scoring")?;
            return Ok(Some(Scorer::new(
                &table,
                rows,
                format!("public table {}", public.display()),
            )));
        }
        Ok(Some(match holdout {
            Some(h) => Scorer::new(h, rows, format!("{} held-out rows", h.n_rows())),
            None => Scorer::new(training, rows, "the training rows".into()),
        }))
    }

    /// The quality score of `model`'s sample against the reference rows.
    pub fn score(&self, model: &ModelFile, device: &Device) -> Result<f64> {
        let synthetic = scoring_sample(model, device, self.rows, &self.reference)?;
        Ok(quality(&fidelity(&self.reference, &synthetic)))
    }
}

/// `rows` rows of `model`'s fixed-seed scoring sample, in `like`'s column order.
pub fn scoring_sample(
    model: &ModelFile,
    device: &Device,
    rows: usize,
    like: &Table,
) -> Result<Table> {
    let mut sampler = GeneratorSampler::new(model, device, Path::new("(the run's generator)"))?;
    if crate::sample::Calibrate::Auto.applies(model) {
        sampler = sampler.calibrated();
    } else {
        sampler = sampler.with_exact_dependence();
    }
    align_columns(like, sampler.sample_stream(SAMPLE_SEED, 0, rows), "sampled")
}
