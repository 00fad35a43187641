//! Adam with L2 weight decay, as burn's `AdamConfig` with `WeightDecayConfig` computes it (and
//! PyTorch's `Adam(weight_decay=...)`): the decay is added to the gradient.

/// Adam's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamSettings {
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Added to the root of the second moment.
    pub epsilon: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
}

/// Adam's moments for a list of parameters, and the step count.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    /// The settings.
    pub settings: AdamSettings,
    /// Steps taken.
    pub time: i32,
    /// First moments, one per parameter.
    pub moment1: Vec<Vec<f32>>,
    /// Second moments, one per parameter.
    pub moment2: Vec<Vec<f32>>,
}

impl Adam {
    /// Fresh moments for parameters of the given lengths.
    pub fn new(settings: AdamSettings, lengths: &[usize]) -> Adam {
        Adam {
            settings,
            time: 0,
            moment1: lengths.iter().map(|&n| vec![0.0; n]).collect(),
            moment2: lengths.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    /// One update of `params` with `grads` (same order and lengths) at learning rate `lr`.
    pub fn step(&mut self, lr: f64, params: Vec<&mut [f32]>, grads: &[Vec<f32>]) {
        let s = self.settings;
        self.time += 1;
        let correction2 = (1.0 - (s.beta2 as f64).powi(self.time)).sqrt();
        let update = Update {
            settings: s,
            factor: (correction2 / (1.0 - (s.beta1 as f64).powi(self.time))) as f32,
            eps: s.epsilon * correction2 as f32,
            lr: lr as f32,
        };
        for (((p, g), m1), m2) in params
            .into_iter()
            .zip(grads)
            .zip(&mut self.moment1)
            .zip(&mut self.moment2)
        {
            update.apply(p, g, m1, m2);
        }
    }
}

/// One step's constants.
#[derive(Debug, Clone, Copy)]
struct Update {
    settings: AdamSettings,
    /// Bias corrections: `sqrt(1 - beta2^t) / (1 - beta1^t)`.
    factor: f32,
    /// `epsilon * sqrt(1 - beta2^t)`.
    eps: f32,
    lr: f32,
}

impl Update {
    /// Updates one parameter in place. Written over zipped slices of one length so that the
    /// loop has no bounds checks and vectorises (it was 10% of a single-threaded non-DP Adult
    /// epoch as an indexed loop); the arithmetic, and so every bit of the result, is unchanged.
    fn apply(&self, p: &mut [f32], g: &[f32], m1: &mut [f32], m2: &mut [f32]) {
        let s = self.settings;
        let n = p.len();
        let (g, m1, m2) = (&g[..n], &mut m1[..n], &mut m2[..n]);
        let (keep1, keep2) = (1.0 - s.beta1, 1.0 - s.beta2);
        for (((p, &g), m1), m2) in p.iter_mut().zip(g).zip(m1.iter_mut()).zip(m2.iter_mut()) {
            let grad = g + s.weight_decay * *p;
            *m1 = s.beta1 * *m1 + keep1 * grad;
            *m2 = s.beta2 * *m2 + keep2 * grad * grad;
            *p -= self.lr * *m1 * self.factor / (m2.sqrt() + self.eps);
        }
    }
}
