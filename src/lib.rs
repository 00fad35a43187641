//! dpsynth: synthetic tables from a CTGAN-style conditional GAN, released as a generator-only
//! file.
//!
//! The modules follow the path a row travels:
//! `read -> schema -> transform -> sampler -> model -> dp -> train -> export -> sample ->
//! evaluate`, with `run` (run folders, checkpoints, resume) on top.
//! A module only uses the ones before it (plus `atomic`, `config`, `error`, `device` and `lattice`,
//! which everything may use).
//!
//! ```no_run
//! use dpsynth::{config::RunConfig, device, export::ModelFile, read, train};
//! let config = RunConfig::load("configs/credit.toml".as_ref())?;
//! let table = read::read_table("datasets/credit_data.csv".as_ref(), &config.data)?;
//! let device = device::select(config.train.device)?;
//! let progress = train::Progress::new(config.train.epochs, true);
//! let reporting = train::Reporting { progress: &progress, metrics: None };
//! let trained = train::train(table, &config, &device.device, reporting)?;
//! ModelFile::from_training(trained, &config).write("models/credit.dpsynth".as_ref())?;
//! # Ok::<(), dpsynth::error::Error>(())
//! ```
#![deny(missing_docs)]

pub mod atomic;
pub mod config;
pub mod device;
pub mod error;
pub mod lattice;

pub mod read;
pub mod schema;
pub mod transform;
pub mod sampler;
pub mod model;
pub mod dp;
pub mod train;
pub mod export;
pub mod sample;
pub mod evaluate;
pub mod run;
