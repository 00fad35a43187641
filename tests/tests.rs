#![allow(deprecated)] // Device::ndarray: burn marks it deprecated; we still compare it with flex.
//! The single integration-test binary, one module per pipeline stage (ripgrep's habit: one
//! binary links once, which matters when the dependencies are burn, wgpu and polars).

mod util;

mod accountant;
mod activation;
mod cli;
mod gradient_penalty;
mod model_file;
mod training;
mod transform;
mod wgpu_backend;
