//! The networks a run trains, on the engine that runs them: burn (autodiff, any backend: flex,
//! ndarray, wgpu) or the host engine ([`crate::model::host`], the CPU default). The
//! [`super::Trainer`] asks this one type for steps, checkpoint sections and the released
//! tensors, and never branches on the engine itself.
//!
//! Both engines run the same steps on the same private draws: the DP critic step's clipping
//! and noise are one function ([`crate::dp::clip`]) over either engine's matrices.

use burn::module::Module;
use burn::tensor::Tensor;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::checkpoint::{self, Checkpoint};
use super::host::{self, HostNetworks};
use super::step::{self, Networks, Secret, StepContext, StepLosses};
use crate::config::TrainConfig;
use crate::error::Result;
use crate::model::host::cores::CoreWatch;
use crate::model::host::linalg::set_product_threads;
use crate::model::host::{Adam, AdamSettings, HostCritic, HostGenerator};
use crate::model::{generator_tensors, NamedTensor};

/// The trained networks and their optimisers, on one engine.
#[allow(clippy::large_enum_variant)] // one per run
pub enum Engine {
    /// burn's networks (`None` only while a step holds them: burn's steps take them by value).
    Burn(Option<Networks>),
    /// The host engine's copies, started from burn's initial weights, and the watch that
    /// sizes its matrix products' threads to the cores other processes leave free.
    Host(HostNetworks, Option<CoreWatch>),
}

/// How often the host engine re-measures the free cores.
const CORE_WATCH_EVERY: Duration = Duration::from_secs(2);

/// The host engine's thread sizing (`train.threads`): a fixed count, or 0 to follow the free
/// cores ([`CoreWatch`]) unless `OPENBLAS_NUM_THREADS` fixes OpenBLAS's own.
fn watch_cores(threads: usize) -> Option<CoreWatch> {
    if threads > 0 {
        set_product_threads(threads);
        return None;
    }
    if std::env::var_os("OPENBLAS_NUM_THREADS").is_some() {
        return None;
    }
    Some(CoreWatch::new(CORE_WATCH_EVERY))
}

/// Sizes the products' threads when the watch has a new measurement.
fn follow_free_cores(cores: &mut Option<CoreWatch>) {
    if let Some(load) = cores.as_mut().and_then(CoreWatch::poll) {
        set_product_threads(load.free);
    }
}

impl Engine {
    /// The engine for a run: burn's freshly initialised `nets`, or their host copies when
    /// `host` is set; a checkpoint's weights and optimiser state replace them when resuming.
    pub fn start(
        mut nets: Networks,
        host: bool,
        train: &TrainConfig,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Engine> {
        if !host {
            if let Some(c) = checkpoint {
                nets = checkpoint::load_networks(nets, &c.sections)?;
            }
            return Ok(Engine::Burn(Some(nets)));
        }
        let adam = |decay: f64, params: Vec<&mut [f32]>| {
            let lengths: Vec<usize> = params.iter().map(|p| p.len()).collect();
            Adam::new(
                AdamSettings {
                    beta1: train.beta1 as f32,
                    beta2: train.beta2 as f32,
                    epsilon: 1e-8,
                    weight_decay: decay as f32,
                },
                &lengths,
            )
        };
        let mut generator = HostGenerator::from_burn(&nets.generator);
        let mut critic = HostCritic::from_burn(&nets.discriminator);
        let generator_optim = adam(train.generator_decay, generator.params_mut());
        let critic_optim = adam(train.discriminator_decay, critic.params_mut());
        let mut host_nets = HostNetworks {
            generator,
            critic,
            generator_optim,
            critic_optim,
        };
        if let Some(c) = checkpoint {
            host_nets = checkpoint::load_host(host_nets, &c.sections)?;
        }
        Ok(Engine::Host(host_nets, watch_cores(train.threads)))
    }

    /// Whether the host engine trains.
    pub fn is_host(&self) -> bool {
        matches!(self, Engine::Host(..))
    }

    /// One training step on `ctx` (its critic updates, DP ones when `ctx.dp` is set and then
    /// `secret` is required, then its generator updates). `noise_seed` seeds the step's
    /// public randomness (generator inputs, Gumbel draws; burn's device generator or the host
    /// engine's stream), so that a run resumes at any step.
    pub fn train_step(
        &mut self,
        ctx: &StepContext,
        rng: &mut ChaCha8Rng,
        secret: Option<Secret>,
        noise_seed: u64,
    ) -> StepLosses {
        match self {
            Engine::Burn(slot) => {
                ctx.device.seed(noise_seed);
                let nets = slot.take().expect("networks are present between steps");
                let (nets, losses) = step::train_step(ctx, nets, rng, secret);
                *slot = Some(nets);
                losses
            }
            Engine::Host(nets, cores) => {
                follow_free_cores(cores);
                let mut noise = ChaCha8Rng::seed_from_u64(noise_seed);
                let (g, d) = host::train_step(ctx, nets, rng, &mut noise, secret);
                StepLosses {
                    generator: scalar(ctx, g),
                    discriminator: scalar(ctx, d),
                }
            }
        }
    }

    /// One critic update alone (as [`Engine::train_step`] runs them); returns its loss.
    pub fn discriminator_step(
        &mut self,
        ctx: &StepContext,
        rng: &mut ChaCha8Rng,
        secret: Option<Secret>,
        noise_seed: u64,
    ) -> Tensor<1> {
        match self {
            Engine::Burn(slot) => {
                ctx.device.seed(noise_seed);
                let nets = slot.as_mut().expect("networks are present between steps");
                step::discriminator_step(ctx, nets, rng, secret)
            }
            Engine::Host(nets, cores) => {
                follow_free_cores(cores);
                let mut noise = ChaCha8Rng::seed_from_u64(noise_seed);
                scalar(
                    ctx,
                    host::discriminator_step(ctx, nets, rng, &mut noise, secret),
                )
            }
        }
    }

    /// The generator's tensors under the names a released file uses.
    pub fn generator_tensors(&self) -> Vec<NamedTensor> {
        match self {
            // `valid()` leaves autodiff and brings BatchNorm's running statistics up to date.
            Engine::Burn(nets) => generator_tensors(&burn_nets(nets).generator.clone().valid()),
            Engine::Host(nets, _) => nets.generator.named_tensors(),
        }
    }

    /// The checkpoint's network sections (both networks and both optimisers' state).
    pub fn checkpoint_sections(&self) -> Result<Vec<Vec<u8>>> {
        match self {
            Engine::Burn(nets) => checkpoint::network_sections(burn_nets(nets)),
            Engine::Host(nets, _) => Ok(checkpoint::host_sections(nets)),
        }
    }
}

fn burn_nets(slot: &Option<Networks>) -> &Networks {
    slot.as_ref().expect("networks are present between steps")
}

/// A host loss as a one-value tensor, where burn's losses live.
fn scalar(ctx: &StepContext, x: f64) -> Tensor<1> {
    Tensor::<1>::from_floats([x as f32], &ctx.device.clone().inner())
}
