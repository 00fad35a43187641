//! The generator's output activations on the host (tanh for scalars, Gumbel-softmax for
//! one-hot choices) and CTGAN's condition loss, each with its backward pass.

use super::linalg::Mat;
use crate::transform::{Activation, Span};

/// Gumbel(0, 1) noise `-ln(-ln u)` for a uniform draw `u` in (0, 1).
pub fn gumbel_noise(u: f32) -> f32 {
    -(-u.ln()).ln()
}

/// `ln x` for a positive normal `x`, to about one unit in the last place, written so that a
/// loop over a slice vectorises (libm's `logf` is one call per value: 4-5% of a training
/// epoch went to the Gumbel noise's two logarithms per output entry). `x = m 2^e` with `m` in
/// `[sqrt(1/2), sqrt(2))`, and `ln m = 2 atanh(s)`, `s = (m - 1) / (m + 1)`, `|s| < 0.172`,
/// summed as its odd series to `s^11` (the next term is below `3e-10` of the sum).
#[inline]
pub fn fast_ln(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // [1, 2)
    if m > std::f32::consts::SQRT_2 {
        m *= 0.5;
        exponent += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = 1.0
        + s2 * (1.0 / 3.0
            + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0)))));
    exponent as f32 * std::f32::consts::LN_2 + 2.0 * s * series
}

/// Turns uniform draws in `(0, 1)` (at least `1e-7` from either end, as training draws
/// them) into Gumbel(0, 1) noise `-ln(-ln u)` in place, with [`fast_ln`]. Training only:
/// sampling keeps [`gumbel_noise`], so that the host engine picks the same categories as
/// burn's.
pub fn gumbel_in_place(values: &mut [f32]) {
    values.iter_mut().for_each(|u| *u = -fast_ln(-fast_ln(*u)));
}

/// Applies every span's activation to raw outputs `[batch, data_dim]`. `gumbel` holds
/// Gumbel(0, 1) noise `[batch, data_dim]` (only the softmax spans' entries are read), `tau`
/// the temperature.
pub fn activate(raw: &Mat, spans: &[Span], gumbel: &Mat, tau: f32) -> Mat {
    let mut out = Mat::zeros(raw.rows, raw.cols);
    for r in 0..raw.rows {
        let x = raw.row(r);
        let g = gumbel.row(r);
        let o = out.row_mut(r);
        for span in spans {
            let range = span.offset..span.offset + span.width;
            match span.activation {
                Activation::Tanh => {
                    for j in range {
                        o[j] = x[j].tanh();
                    }
                }
                Activation::Softmax => {
                    let mut max = f32::NEG_INFINITY;
                    for j in range.clone() {
                        o[j] = (x[j] + g[j]) / tau;
                        max = max.max(o[j]);
                    }
                    let mut sum = 0f32;
                    for j in range.clone() {
                        o[j] = (o[j] - max).exp();
                        sum += o[j];
                    }
                    for j in range {
                        o[j] /= sum;
                    }
                }
            }
        }
    }
    out
}

/// What sampling needs of [`activate`]: decoding reads only each softmax span's largest entry
/// and each tanh scalar, and a softmax keeps the order of its inputs, so a softmax span is
/// written as the one-hot of its largest `x + gumbel_noise(u)` (the first on a tie) without
/// the exponentials, and Gumbel noise is drawn only for softmax entries. `uniform` holds the
/// uniform draws `[batch, data_dim]`; `bias` (`[data_dim]`, or empty for none) is added to each
/// softmax entry before the draw (`transform::calibrate::choice_bias`); writes `out`
/// (`[batch, data_dim]`, row-major).
pub fn activate_for_sampling(
    raw: &Mat,
    spans: &[Span],
    uniform: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let dim = raw.cols;
    for r in 0..raw.rows {
        let x = raw.row(r);
        let u = &uniform[r * dim..(r + 1) * dim];
        let o = &mut out[r * dim..(r + 1) * dim];
        for span in spans {
            let range = span.offset..span.offset + span.width;
            match span.activation {
                Activation::Tanh => {
                    for j in range {
                        o[j] = x[j].tanh();
                    }
                }
                Activation::Softmax => {
                    let mut best = span.offset;
                    let mut max = f32::NEG_INFINITY;
                    for j in range.clone() {
                        let offset = if bias.is_empty() { 0.0 } else { bias[j] };
                        let v = x[j] + offset + gumbel_noise(u[j]);
                        if v > max {
                            max = v;
                            best = j;
                        }
                        o[j] = 0.0;
                    }
                    o[best] = 1.0;
                }
            }
        }
    }
}

/// Gradient with respect to the raw outputs, given the activated outputs `out` (from
/// [`activate`]) and the gradient `d_out` with respect to them.
pub fn activate_backward(out: &Mat, d_out: &Mat, spans: &[Span], tau: f32) -> Mat {
    let mut d_raw = Mat::zeros(out.rows, out.cols);
    for r in 0..out.rows {
        let a = out.row(r);
        let d = d_out.row(r);
        let o = d_raw.row_mut(r);
        for span in spans {
            let range = span.offset..span.offset + span.width;
            match span.activation {
                Activation::Tanh => {
                    for j in range {
                        o[j] = d[j] * (1.0 - a[j] * a[j]);
                    }
                }
                Activation::Softmax => {
                    let dot: f32 = range.clone().map(|j| d[j] * a[j]).sum();
                    for j in range {
                        o[j] = a[j] * (d[j] - dot) / tau;
                    }
                }
            }
        }
    }
    d_raw
}

/// CTGAN's condition loss: the cross-entropy between each conditioned span's logits and the
/// condition's category, summed over rows and divided by the batch size. `condition` is the
/// one-hot conditional vector `[batch, condition_dim]`, laid out as the conditioned spans in
/// span order. Adds the loss's gradient to `d_raw` and returns its value.
pub fn condition_loss(raw: &Mat, spans: &[Span], condition: &Mat, d_raw: &mut Mat) -> f32 {
    let batch = raw.rows as f32;
    let mut loss = 0f32;
    for r in 0..raw.rows {
        let x = raw.row(r);
        let c = condition.row(r);
        let mut offset = 0;
        for span in spans.iter().filter(|s| s.condition_column.is_some()) {
            let cs = &c[offset..offset + span.width];
            offset += span.width;
            let weight: f32 = cs.iter().sum();
            if weight == 0.0 {
                continue;
            }
            let logits = &x[span.offset..span.offset + span.width];
            let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let sum: f32 = logits.iter().map(|v| (v - max).exp()).sum();
            let log_sum = max + sum.ln();
            let d = &mut d_raw.row_mut(r)[span.offset..span.offset + span.width];
            for (k, &v) in logits.iter().enumerate() {
                loss -= cs[k] * (v - log_sum);
                let p = (v - log_sum).exp();
                d[k] += (p * weight - cs[k]) / batch;
            }
        }
    }
    loss / batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_sampling_activation_keeps_what_decoding_reads_of_the_gumbel_softmax() {
        // A scalar, a 2-way, a 7-way and a 1-wide span, as an encoded row lays them out.
        let spans = [
            (1, Activation::Tanh),
            (2, Activation::Softmax),
            (7, Activation::Softmax),
            (1, Activation::Softmax),
        ];
        let mut offset = 0;
        let spans: Vec<Span> = spans
            .iter()
            .map(|&(width, activation)| {
                let span = Span {
                    offset,
                    width,
                    activation,
                    condition_column: None,
                };
                offset += width;
                span
            })
            .collect();
        let (rows, dim) = (500, offset);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let raw = Mat::from_vec(
            rows,
            dim,
            (0..rows * dim)
                .map(|_| rng.random_range(-4.0f32..4.0))
                .collect(),
        );
        let uniform: Vec<f32> = (0..rows * dim)
            .map(|_| rng.random_range(1e-7f32..1.0 - 1e-7))
            .collect();
        let gumbel = Mat::from_vec(
            rows,
            dim,
            uniform.iter().map(|&u| gumbel_noise(u)).collect(),
        );
        let soft = activate(&raw, &spans, &gumbel, 1.0);
        let mut hard = vec![f32::NAN; rows * dim];
        activate_for_sampling(&raw, &spans, &uniform, &[], &mut hard);
        for r in 0..rows {
            for span in &spans {
                let range = span.offset..span.offset + span.width;
                let (s, h) = (
                    &soft.row(r)[range.clone()],
                    &hard[r * dim..(r + 1) * dim][range],
                );
                match span.activation {
                    Activation::Tanh => assert_eq!(s, h),
                    Activation::Softmax => {
                        let ones: Vec<usize> = (0..h.len()).filter(|&k| h[k] == 1.0).collect();
                        assert_eq!(
                            ones,
                            vec![crate::transform::argmax(s)],
                            "row {r}: {s:?} {h:?}"
                        );
                        assert_eq!(h.iter().sum::<f32>(), 1.0);
                    }
                }
            }
        }
    }

    #[test]
    fn fast_logarithms_match_f64_to_a_few_units_in_the_last_place() {
        // Every range the Gumbel noise meets: uniforms in (1e-7, 1 - 1e-7), and -ln u in
        // (1e-7, 16.2); plus large values. Relative error against f64's ln, with an absolute
        // floor of one f32 unit at |ln x| near 0 (x near 1).
        let mut worst = 0f64;
        let mut x = 1e-7f32;
        while x < 1e6 {
            for k in 0..7 {
                let v = x * (1.0 + k as f32 * 0.137);
                let want = f64::from(v).ln();
                let got = f64::from(fast_ln(v));
                let err = (got - want).abs() / want.abs().max(1e-7);
                worst = worst.max(err);
            }
            x *= 1.0137;
        }
        for k in 1..2000 {
            let v = 1.0 - k as f32 * 5e-8;
            let (want, got) = (f64::from(v).ln(), f64::from(fast_ln(v)));
            worst = worst.max((got - want).abs() / want.abs());
        }
        assert!(worst < 5e-7, "worst relative error {worst}");
        let mut u = vec![1e-7f32, 0.5, 1.0 - 1e-7];
        gumbel_in_place(&mut u);
        for (g, x) in u.iter().zip([1e-7f64, 0.5, 1.0 - 1e-7]) {
            let want = -(-(x as f32 as f64).ln()).ln();
            assert!((f64::from(*g) - want).abs() < 1e-5, "{g} against {want}");
        }
    }
}
