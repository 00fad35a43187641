//! Output activations and the conditional loss with a fixed, small number of tensor operations
//! whatever the number of spans: one-hot spans are gathered into a padded `[batch, spans,
//! width]` block (pads at -1e9), soft-maxed together and scattered back. Adult has 15 one-hot
//! spans; doing them one slice at a time cost ~6 operations each, forward and backward, which
//! on the CPU is dominated by per-operation overhead.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::transform::{Activation, Span};

/// Pad value for unused slots of a padded group: exp(-1e9) is exactly 0 in f32.
const PAD: f32 = -1e9;

/// Spans of similar width laid out as a `[spans, width]` block.
#[derive(Debug, Clone)]
struct PaddedGroup {
    spans: usize,
    width: usize,
    /// Column of the encoded row feeding each padded slot (0 for pads), `[spans * width]`.
    gather: Tensor<1, Int>,
    /// 0 for real slots, -1e9 for pads, `[1, spans * width]`.
    pad: Tensor<2>,
    /// Positions of the real slots in the flattened block, in column order.
    real: Tensor<1, Int>,
    /// Number of real slots.
    n_real: usize,
}

impl PaddedGroup {
    fn new(spans: &[&Span], device: &Device) -> Self {
        let width = spans.iter().map(|s| s.width).max().unwrap_or(1);
        let mut gather = vec![0i64; spans.len() * width];
        let mut pad = vec![PAD; spans.len() * width];
        let mut real = Vec::new();
        for (k, s) in spans.iter().enumerate() {
            for j in 0..s.width {
                gather[k * width + j] = (s.offset + j) as i64;
                pad[k * width + j] = 0.0;
                real.push((k * width + j) as i64);
            }
        }
        let n = spans.len() * width;
        let n_real = real.len();
        PaddedGroup {
            spans: spans.len(),
            width,
            gather: Tensor::from_data(TensorData::new(gather, [n]), device),
            pad: Tensor::from_data(TensorData::new(pad, [1, n]), device),
            real: Tensor::from_data(TensorData::new(real, [n_real]), device),
            n_real,
        }
    }

    /// `[batch, dim]` -> padded logits `[batch, spans, width]`.
    fn gather(&self, x: Tensor<2>) -> Tensor<3> {
        let [batch, _] = x.dims();
        (x.select(1, self.gather.clone()) + self.pad.clone())
            .reshape([batch, self.spans, self.width])
    }

    /// Padded `[batch, spans, width]` -> real slots `[batch, n_real]`.
    fn scatter(&self, x: Tensor<3>) -> Tensor<2> {
        let [batch, _, _] = x.dims();
        x.reshape([batch, self.spans * self.width])
            .select(1, self.real.clone())
    }
}

/// Precomputed index tensors for applying the per-span activations in a few operations.
#[derive(Debug, Clone)]
pub struct SpanLayout {
    tanh: Option<Tensor<1, Int>>,
    softmax: Vec<PaddedGroup>,
    /// For each encoded column, its position in `cat[tanh, softmax groups...]`.
    order: Tensor<1, Int>,
    /// Condition spans (one-hot discrete columns), in conditional-vector order.
    condition: Option<PaddedGroup>,
    /// Width of the padded Gumbel noise per softmax group.
    noise_widths: Vec<usize>,
}

/// Spans wider than this get a group of their own, so one wide column does not pad all others.
const GROUP_WIDTH: usize = 64;

fn groups(spans: &[&Span], device: &Device) -> Vec<PaddedGroup> {
    let (narrow, wide): (Vec<&Span>, Vec<&Span>) =
        spans.iter().partition(|s| s.width <= GROUP_WIDTH);
    let mut out = Vec::new();
    if !narrow.is_empty() {
        out.push(PaddedGroup::new(&narrow, device));
    }
    for s in wide {
        out.push(PaddedGroup::new(&[s], device));
    }
    out
}

impl SpanLayout {
    /// Builds the layout of `spans` on `device`.
    pub fn new(spans: &[Span], device: &Device) -> Self {
        let tanh_cols: Vec<i64> = spans
            .iter()
            .filter(|s| s.activation == Activation::Tanh)
            .flat_map(|s| (s.offset..s.offset + s.width).map(|c| c as i64))
            .collect();
        let soft: Vec<&Span> = spans
            .iter()
            .filter(|s| s.activation == Activation::Softmax)
            .collect();
        let softmax = groups(&soft, device);
        // Column order of cat[tanh, group 0 real slots, group 1 real slots, ...].
        let mut produced: Vec<usize> = tanh_cols.iter().map(|&c| c as usize).collect();
        let (narrow, wide): (Vec<&Span>, Vec<&Span>) =
            soft.iter().partition(|s| s.width <= GROUP_WIDTH);
        for s in narrow.iter().chain(wide.iter()) {
            produced.extend(s.offset..s.offset + s.width);
        }
        let dim: usize = spans.iter().map(|s| s.width).sum();
        let mut order = vec![0i64; dim];
        for (pos, &col) in produced.iter().enumerate() {
            order[col] = pos as i64;
        }
        let cond: Vec<&Span> = spans
            .iter()
            .filter(|s| s.condition_column.is_some())
            .collect();
        let noise_widths = softmax.iter().map(|g| g.spans * g.width).collect();
        SpanLayout {
            tanh: (!tanh_cols.is_empty()).then(|| {
                let n = tanh_cols.len();
                Tensor::from_data(TensorData::new(tanh_cols, [n]), device)
            }),
            softmax,
            order: Tensor::from_data(TensorData::new(order, [dim]), device),
            condition: (!cond.is_empty()).then(|| PaddedGroup::new(&cond, device)),
            noise_widths,
        }
    }

    /// Total width of the Gumbel noise [`SpanLayout::activate`] expects.
    pub fn noise_width(&self) -> usize {
        self.noise_widths.iter().sum::<usize>().max(1)
    }

    /// Applies tanh to scalar spans and a (Gumbel-)softmax to one-hot spans:
    /// `[batch, dim] -> [batch, dim]`. `gumbel`, when given, is `[batch, noise_width()]` of
    /// uniform noise in (0, 1) and `tau` the temperature.
    pub fn activate(&self, raw: Tensor<2>, gumbel: Option<(Tensor<2>, f64)>) -> Tensor<2> {
        let [batch, _] = raw.dims();
        let mut parts = Vec::with_capacity(1 + self.softmax.len());
        if let Some(t) = &self.tanh {
            parts.push(raw.clone().select(1, t.clone()).tanh());
        }
        let mut noise_at = 0;
        for (g, &w) in self.softmax.iter().zip(&self.noise_widths) {
            let logits = g.gather(raw.clone());
            let logits = match &gumbel {
                Some((u, tau)) => {
                    let u = u.clone().slice([0..batch, noise_at..noise_at + w]);
                    // Gumbel(0, 1) noise: -log(-log U).
                    let noise = u.log().neg().log().neg().reshape([batch, g.spans, g.width]);
                    (logits + noise).div_scalar(*tau)
                }
                None => logits,
            };
            noise_at += w;
            parts.push(g.scatter(softmax(logits, 2)));
        }
        Tensor::cat(parts, 1).select(1, self.order.clone())
    }

    /// CTGAN's conditional loss: cross-entropy of each discrete span against the condition's
    /// category, only for the column each row is conditioned on, summed and divided by the batch
    /// size. `condition` is the one-hot conditional vector `[batch, condition_dim]`, which is
    /// zero outside the conditioned column's block, so multiplying by it applies the mask.
    pub fn condition_loss(&self, raw: Tensor<2>, condition: Tensor<2>) -> Option<Tensor<1>> {
        let g = self.condition.as_ref()?;
        let [batch, _] = raw.dims();
        let log_probs = g.scatter(log_softmax(g.gather(raw), 2)); // [batch, condition_dim]
        debug_assert_eq!(g.n_real, condition.dims()[1]);
        Some((log_probs * condition).sum().neg().div_scalar(batch as f64))
    }
}
