//! The two networks (CTGAN's generator and critic) and the conversion of the generator to and
//! from the named host tensors stored in a released file.

pub mod discriminator;
pub mod generator;
pub mod host;
pub mod subnormals;

use burn::module::{Param, RunningState};
use burn::nn::BatchNormConfig;
use burn::tensor::{Device, Tensor, TensorData};

pub use discriminator::{CriticPass, Discriminator, DiscriminatorConfig};
pub use generator::{activate, condition_loss, Generator, GeneratorConfig, Gumbel, Residual};

/// A named tensor's values on the host: what a released file stores.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    /// Dotted name, e.g. `generator.blocks.0.fc.weight`.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

/// Copies a tensor to the host as `f32`.
pub fn to_host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.try_into_vec_as::<f32>()
        .expect("a float tensor converts to f32")
}

/// Uploads host values as a `[rows, cols]` tensor.
pub fn matrix(data: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(data, [rows, cols]), device)
}

fn vector(data: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = data.len();
    Tensor::from_data(TensorData::new(data, [n]), device)
}

fn named<const D: usize>(name: String, t: Tensor<D>) -> NamedTensor {
    NamedTensor {
        name,
        shape: t.dims().to_vec(),
        data: to_host(t),
    }
}

/// The generator's tensors, named `generator.<path>`, copied to the host.
pub fn generator_tensors(g: &Generator) -> Vec<NamedTensor> {
    let mut out = Vec::new();
    for (i, b) in g.blocks.iter().enumerate() {
        out.push(named(
            format!("generator.blocks.{i}.fc.weight"),
            b.fc.weight.val(),
        ));
    }
    out.push(named(
        "generator.output.weight".into(),
        g.output.weight.val(),
    ));
    for (i, b) in g.blocks.iter().enumerate() {
        let bias =
            b.fc.bias
                .as_ref()
                .expect("generator layers have biases")
                .val();
        let prefix = format!("generator.blocks.{i}");
        out.push(named(format!("{prefix}.fc.bias"), bias));
        out.push(named(format!("{prefix}.bn.gamma"), b.bn.gamma.val()));
        out.push(named(format!("{prefix}.bn.beta"), b.bn.beta.val()));
        out.push(named(
            format!("{prefix}.bn.running_mean"),
            b.bn.running_mean.value(),
        ));
        out.push(named(
            format!("{prefix}.bn.running_var"),
            b.bn.running_var.value(),
        ));
    }
    let bias = g
        .output
        .bias
        .as_ref()
        .expect("generator layers have biases")
        .val();
    out.push(named("generator.output.bias".into(), bias));
    out
}

/// Rebuilds a generator of shape `config` from named tensors; `Err` names the first tensor
/// that is missing or has the wrong shape.
pub fn generator_from_tensors(
    config: &GeneratorConfig,
    tensors: &[NamedTensor],
    device: &Device,
) -> Result<Generator, String> {
    let find = |name: &str, shape: &[usize]| -> Result<Vec<f32>, String> {
        let t = tensors
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| format!("tensor '{name}' is missing"))?;
        if t.shape != shape {
            return Err(format!(
                "tensor '{name}' has shape {:?}, expected {shape:?}",
                t.shape
            ));
        }
        Ok(t.data.clone())
    };
    let mut g = config.init(device);
    let mut dim = config.input_dim();
    for (i, (block, &width)) in g.blocks.iter_mut().zip(&config.hidden).enumerate() {
        let w = find(&format!("generator.blocks.{i}.fc.weight"), &[dim, width])?;
        let b = find(&format!("generator.blocks.{i}.fc.bias"), &[width])?;
        block.fc = Generator::linear_from(matrix(w, dim, width, device), vector(b, device));
        let mut bn = BatchNormConfig::new(width)
            .with_epsilon(1e-5)
            .with_momentum(0.1)
            .init(device);
        bn.gamma = Param::from_tensor(vector(
            find(&format!("generator.blocks.{i}.bn.gamma"), &[width])?,
            device,
        ));
        bn.beta = Param::from_tensor(vector(
            find(&format!("generator.blocks.{i}.bn.beta"), &[width])?,
            device,
        ));
        bn.running_mean = RunningState::new(vector(
            find(&format!("generator.blocks.{i}.bn.running_mean"), &[width])?,
            device,
        ));
        bn.running_var = RunningState::new(vector(
            find(&format!("generator.blocks.{i}.bn.running_var"), &[width])?,
            device,
        ));
        block.bn = bn;
        dim += width;
    }
    let w = find("generator.output.weight", &[dim, config.data_dim])?;
    let b = find("generator.output.bias", &[config.data_dim])?;
    g.output = Generator::linear_from(matrix(w, dim, config.data_dim, device), vector(b, device));
    Ok(g)
}
