//! Softmax cross-entropy, the loss of the classifier on top of the conditional layer.

use ndarray::{Array1, Array2, ArrayView2, Axis};

/// Softmax cross-entropy over a minibatch.
///
/// For logits s_b and label y_b: p_b = softmax(s_b), L_b = −log p_{b,y_b}, the batch loss is
/// L = (1/B) Σ_b L_b and ∂L/∂s_b = (p_b − onehot(y_b)) / B.
#[derive(Debug, Clone, Default)]
pub struct SoftmaxCrossEntropy {
    /// Softmax probabilities, batch × classes.
    pub probs: Array2<f32>,
    /// Per-example losses L_b.
    pub losses: Array1<f32>,
}

impl SoftmaxCrossEntropy {
    /// Buffers for a batch of `batch` examples and `classes` classes.
    pub fn new(batch: usize, classes: usize) -> Self {
        SoftmaxCrossEntropy {
            probs: Array2::zeros((batch, classes)),
            losses: Array1::zeros(batch),
        }
    }

    /// Computes probabilities and per-example losses; returns the mean loss.
    pub fn forward(&mut self, logits: ArrayView2<f32>, labels: &[u8]) -> f32 {
        assert_eq!(logits.nrows(), labels.len(), "one label per example");
        if self.probs.dim() != logits.dim() {
            self.probs = Array2::zeros(logits.raw_dim());
            self.losses = Array1::zeros(logits.nrows());
        }
        for (b, (row, mut prow)) in logits
            .axis_iter(Axis(0))
            .zip(self.probs.axis_iter_mut(Axis(0)))
            .enumerate()
        {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut total = 0.0f32;
            for (p, &s) in prow.iter_mut().zip(row.iter()) {
                *p = (s - max).exp();
                total += *p;
            }
            prow.mapv_inplace(|p| p / total);
            let y = labels[b] as usize;
            // log p_y = s_y − max − log Σ e^(s − max), finite even when p_y underflows.
            self.losses[b] = -(row[y] - max - total.ln());
        }
        self.losses.mean().unwrap_or(0.0)
    }

    /// dlogits ← ∂L/∂s = (p − onehot(y)) · scale, with scale = 1/B for the batch mean.
    pub fn backward_into(&self, labels: &[u8], scale: f32, dlogits: &mut Array2<f32>) {
        dlogits.assign(&self.probs);
        for (b, &y) in labels.iter().enumerate() {
            dlogits[[b, y as usize]] -= 1.0;
        }
        dlogits.mapv_inplace(|v| v * scale);
    }

    /// Number of examples whose arg-max probability is the label.
    pub fn correct(&self, labels: &[u8]) -> usize {
        predictions(self.probs.view())
            .into_iter()
            .zip(labels)
            .filter(|(p, y)| *p == **y as usize)
            .count()
    }
}

/// Arg-max class of every row.
pub fn predictions(scores: ArrayView2<'_, f32>) -> Vec<usize> {
    scores
        .axis_iter(Axis(0))
        .map(|row| {
            let mut best = 0;
            for (k, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = k;
                }
            }
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn loss_and_gradient_match_finite_differences() {
        let logits = array![[1.0f32, 2.0, -0.5], [0.3, -1.0, 4.0]];
        let labels = [1u8, 0];
        let mut ce = SoftmaxCrossEntropy::new(2, 3);
        let l = ce.forward(logits.view(), &labels);
        let mut d = Array2::zeros((2, 3));
        ce.backward_into(&labels, 0.5, &mut d);
        let eps = 1e-2f32;
        for b in 0..2 {
            for k in 0..3 {
                let mut p = logits.clone();
                p[[b, k]] += eps;
                let mut m = logits.clone();
                m[[b, k]] -= eps;
                let mut c = SoftmaxCrossEntropy::new(2, 3);
                let fd =
                    (c.forward(p.view(), &labels) - c.forward(m.view(), &labels)) / (2.0 * eps);
                // Central differences on a smooth f32 loss: truncation O(eps²) ≈ 1e-4 plus rounding.
                assert!(
                    (fd - d[[b, k]]).abs() < 2e-3,
                    "[{b},{k}] {fd} vs {}",
                    d[[b, k]]
                );
            }
        }
        let expect0 = -(2.0f32 - (1f32.exp() + 2f32.exp() + (-0.5f32).exp()).ln());
        assert!((ce.losses[0] - expect0).abs() < 1e-5);
        assert!((l - ce.losses.mean().unwrap()).abs() < 1e-7);
        assert_eq!(ce.correct(&labels), 1);
    }

    #[test]
    fn extreme_logits_stay_finite() {
        let logits = array![[1000.0f32, -1000.0]];
        let mut ce = SoftmaxCrossEntropy::new(1, 2);
        let l = ce.forward(logits.view(), &[1]);
        assert!(l.is_finite() && (l - 2000.0).abs() < 1e-3);
    }
}
