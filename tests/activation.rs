//! The few-operation span activations (padded groups) against the plain one-slice-per-span
//! reference, on the spans of the real credit table: same outputs, same conditional loss.

use burn::tensor::{Device, Distribution, Tensor};
use dpsynth::config::RunConfig;
use dpsynth::model::{activate, condition_loss, to_host, SpanLayout, SpanSampling};
use dpsynth::schema::Schema;
use dpsynth::transform::{Activation, DataTransformer, Span};

fn assert_close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-5, "largest difference {worst}");
}

#[test]
fn padded_layout_matches_per_span_reference() {
    let mut table = crate::util::credit();
    let config = RunConfig::default();
    let schema = Schema::infer(&mut table, &config).unwrap();
    let transformer = DataTransformer::fit(&table, &schema, &config.transform).unwrap();
    let mut spans = transformer.spans();
    // A span wider than the grouping limit gets its own group: cover that path too.
    let dim = transformer.output_dim();
    spans.push(Span {
        offset: dim,
        width: 70,
        activation: Activation::Softmax,
        condition_column: None,
    });
    let dim = dim + 70;
    let device = Device::flex();
    let layout = SpanLayout::new(&spans, &device);
    let raw = Tensor::<2>::random([32, dim], Distribution::Normal(0.0, 3.0), &device);
    let fast = to_host(layout.activate(raw.clone(), None));
    let slow = to_host(activate(raw.clone(), &spans, &SpanSampling::Softmax));
    assert_close(&fast, &slow);

    let cond_dim: usize = spans
        .iter()
        .filter(|s| s.condition_column.is_some())
        .map(|s| s.width)
        .sum();
    let condition = Tensor::<2>::random([32, cond_dim], Distribution::Bernoulli(0.1), &device);
    let fast = to_host(
        layout
            .condition_loss(raw.clone(), condition.clone())
            .unwrap(),
    );
    let slow = to_host(condition_loss(raw, &spans, condition));
    assert!(
        (fast[0] - slow[0]).abs() < 1e-4 * (1.0 + slow[0].abs()),
        "{fast:?} vs {slow:?}"
    );
}
