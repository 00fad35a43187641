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
        let factor = (correction2 / (1.0 - (s.beta1 as f64).powi(self.time))) as f32;
        let eps = s.epsilon * correction2 as f32;
        let lr = lr as f32;
        for (((p, g), m1), m2) in params
            .into_iter()
            .zip(grads)
            .zip(&mut self.moment1)
            .zip(&mut self.moment2)
        {
            for i in 0..p.len() {
                let grad = g[i] + s.weight_decay * p[i];
                m1[i] = s.beta1 * m1[i] + (1.0 - s.beta1) * grad;
                m2[i] = s.beta2 * m2[i] + (1.0 - s.beta2) * grad * grad;
                p[i] -= lr * m1[i] * factor / (m2[i].sqrt() + eps);
            }
        }
    }
}
