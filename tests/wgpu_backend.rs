//! The wgpu backend (Mesa's software Vulkan driver in CI) computes the same generator output as
//! the CPU backend for the same weights and noise.

use burn::tensor::{Device, DeviceKind};
use dpsynth::model::{activate, generator_from_tensors, generator_tensors, matrix, to_host};
use dpsynth::model::{GeneratorConfig, Gumbel};
use dpsynth::transform::{Activation, Span};
use rand::{Rng, SeedableRng};

#[test]
fn ndarray_and_wgpu_agree() {
    assert!(
        dpsynth::device::wgpu_works(),
        "no wgpu adapter: install mesa-vulkan-drivers (as .ci/run does)"
    );
    let config = GeneratorConfig {
        embedding_dim: 16,
        condition_dim: 4,
        hidden: vec![32, 32],
        data_dim: 9,
    };
    let spans = vec![
        Span {
            offset: 0,
            width: 1,
            activation: Activation::Tanh,
            condition_column: None,
        },
        Span {
            offset: 1,
            width: 4,
            activation: Activation::Softmax,
            condition_column: None,
        },
        Span {
            offset: 5,
            width: 4,
            activation: Activation::Softmax,
            condition_column: Some(0),
        },
    ];
    let cpu = Device::ndarray();
    cpu.seed(1);
    let tensors = generator_tensors(&config.init(&cpu));
    let gpu = Device::wgpu(DeviceKind::DefaultDevice);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let n = 64;
    let input: Vec<f32> = (0..n * config.input_dim())
        .map(|_| rng.random_range(-2.0..2.0))
        .collect();
    let uniform: Vec<f32> = (0..n * config.data_dim)
        .map(|_| rng.random_range(0.01..0.99))
        .collect();
    let run = |device: &Device| {
        let g = generator_from_tensors(&config, &tensors, device).unwrap();
        let raw = g.forward(matrix(input.clone(), n, config.input_dim(), device));
        let gumbel = Gumbel {
            tau: 0.2,
            uniform: matrix(uniform.clone(), n, config.data_dim, device),
        };
        to_host(activate(raw, &spans, &gumbel))
    };
    let a = run(&cpu);
    let b = run(&gpu);
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-4, "largest difference {worst}");
}

#[test]
fn batch_statistics_match_burns_batchnorm_in_training() {
    let _serial = crate::util::serial_flex();
    // `sample --batch-norm batch` normalises by hand; burn's own BatchNorm does the same on an
    // autodiff device (training mode). Compare on a random generator and input.
    use dpsynth::model::GeneratorConfig;
    let device = burn::tensor::Device::flex().autodiff();
    let generator = GeneratorConfig {
        embedding_dim: 12,
        condition_dim: 5,
        hidden: vec![16, 8],
        data_dim: 7,
    }
    .init(&device);
    let input = burn::tensor::Tensor::<2>::random(
        [64, 17],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let burn_training = to_host(generator.forward(input.clone()));
    let by_hand = to_host(generator.forward_batch_statistics(input));
    let worst = burn_training
        .iter()
        .zip(&by_hand)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-4, "largest difference {worst}");
}
