#![allow(deprecated)] // Device::ndarray: burn marks it deprecated; we still compare it with flex.
//! The single integration-test binary, one module per pipeline stage (ripgrep's habit: one
//! binary links once, which matters when the dependencies are burn, wgpu and polars).

mod util;

mod accountant;
mod cli;
mod dp_accountant;
mod dp_audit;
mod dp_clipping;
mod dp_discovery;
mod dp_marginals;
mod dp_training;
mod evaluate;
mod report_browser;
mod runs;
mod gradient_penalty;
mod host_engine;
mod model_file;
mod training;
mod transform;
mod wgpu_backend;
