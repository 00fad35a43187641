//! Picks the compute device: burn's wgpu backend when a GPU adapter is found, else the CPU
//! backend, saying which it chose.
// burn marks burn-ndarray deprecated in favour of flex; we keep both and measure which is faster.
#![allow(deprecated)]

use burn::tensor::{Device, DeviceKind, Tensor};

use crate::config::DeviceChoice;
use crate::error::{Error, Result};

/// A chosen device and a human-readable name for logs and `inspect`.
#[derive(Debug, Clone)]
pub struct SelectedDevice {
    /// The (non-autodiff) device.
    pub device: Device,
    /// What was chosen, e.g. "wgpu" or "cpu (ndarray)".
    pub name: String,
}

/// The CPU device used by `--device cpu` and by `auto` without a GPU. Training (DP and not)
/// and sampling run there on the host engine ([`uses_host_engine`]; 2-3x burn-flex, see
/// docs/performance.md); burn's device is flex, where the networks are first built and
/// what the host engine does not cover would run, measured faster than burn-ndarray for these MLPs (one Adult training step at batch 500:
/// 78 ms on flex vs 95 ms on ndarray, `cargo bench --profile dev --bench pipeline -- step`
/// with `DPSYNTH_BENCH_DEVICE=flex|ndarray`).
pub fn default_cpu() -> SelectedDevice {
    SelectedDevice {
        device: Device::flex(),
        name: "cpu (host engine)".into(),
    }
}

/// Whether `choice` trains (without DP) and samples on the host engine rather than burn:
/// `host` and `cpu` do, `auto` does when it picks the CPU, the named burn backends do not.
pub fn uses_host_engine(choice: DeviceChoice) -> bool {
    match choice {
        DeviceChoice::Host | DeviceChoice::Cpu => true,
        DeviceChoice::Auto => !auto_picks_gpu(),
        DeviceChoice::Wgpu | DeviceChoice::Ndarray | DeviceChoice::Flex => false,
    }
}

/// Whether `auto` picks wgpu: a hardware adapter is present and `DPSYNTH_FORCE_CPU` is unset.
/// Probed once per process.
fn auto_picks_gpu() -> bool {
    static PICKS_GPU: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PICKS_GPU
        .get_or_init(|| std::env::var_os("DPSYNTH_FORCE_CPU").is_none() && gpu_adapter_present())
}

/// Whether the wgpu backend can run a trivial computation here. wgpu panics when no adapter
/// exists, so the probe runs behind `catch_unwind`.
pub fn wgpu_works() -> bool {
    let result = std::panic::catch_unwind(|| {
        let device = Device::wgpu(DeviceKind::DefaultDevice);
        let t = Tensor::<1>::from_floats([1.0f32, 2.0], &device);
        t.sum().into_scalar::<f32>()
    });
    matches!(result, Ok(x) if (x - 3.0).abs() < 1e-6)
}

/// Resolves the user's choice to a device.
pub fn select(choice: DeviceChoice) -> Result<SelectedDevice> {
    match choice {
        DeviceChoice::Cpu => Ok(default_cpu()),
        DeviceChoice::Ndarray => Ok(SelectedDevice {
            device: Device::ndarray(),
            name: "cpu (ndarray)".into(),
        }),
        DeviceChoice::Flex => Ok(SelectedDevice {
            device: Device::flex(),
            name: "cpu (flex)".into(),
        }),
        DeviceChoice::Host => Ok(default_cpu()),
        DeviceChoice::Wgpu => {
            if wgpu_works() {
                Ok(SelectedDevice {
                    device: Device::wgpu(DeviceKind::DefaultDevice),
                    name: "wgpu".into(),
                })
            } else {
                Err(Error::Device(
                    "no wgpu adapter could be initialised; install a GPU driver (or Mesa's \
                     `mesa-vulkan-drivers` for a software one) or use --device cpu"
                        .into(),
                ))
            }
        }
        DeviceChoice::Auto => {
            // A software adapter (Mesa's lavapipe) is far slower than the CPU backend, so auto
            // only takes wgpu when the adapter is real hardware.
            if auto_picks_gpu() {
                Ok(SelectedDevice {
                    device: Device::wgpu(DeviceKind::DefaultDevice),
                    name: "wgpu".into(),
                })
            } else {
                Ok(default_cpu())
            }
        }
    }
}

/// Whether wgpu finds a hardware GPU adapter (discrete, integrated or virtual; not a software
/// rasteriser such as Mesa's lavapipe).
///
/// On Linux a machine without `/dev/dri` or `/dev/nvidia0` has none, and is not probed: the
/// probe's window-system loaders print "XDG_RUNTIME_DIR is invalid" on headless machines. The
/// probe asks the primary backends only (Vulkan, Metal, DX12), not OpenGL, for the same reason.
pub fn gpu_adapter_present() -> bool {
    use burn::backend::wgpu::wgpu;
    if cfg!(target_os = "linux")
        && !std::path::Path::new("/dev/dri").exists()
        && !std::path::Path::new("/dev/nvidia0").exists()
    {
        return false;
    }
    std::panic::catch_unwind(|| {
        let instance = wgpu::Instance::default();
        let adapters =
            futures_lite::future::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
        adapters.iter().any(|a| {
            matches!(
                a.get_info().device_type,
                wgpu::DeviceType::DiscreteGpu
                    | wgpu::DeviceType::IntegratedGpu
                    | wgpu::DeviceType::VirtualGpu
            )
        })
    })
    .unwrap_or(false)
}
