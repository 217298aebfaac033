//! Exact-gradient oracle for small gated networks with stochastic binary gates.
//!
//! With gates h_i ~ Bernoulli(p_i), p = σ(a), the expected batch-mean loss is
//! E[L] = (1/B) Σ_b Σ_{h ∈ {0,1}^N} P_b(h) L_b(h), P_b(h) = Π_i p_bi^h_i (1 − p_bi)^(1−h_i),
//! and, since ∂ log P_b(h)/∂a_bi = h_i − p_bi,
//! ∂E[L]/∂a_bi = (1/B) Σ_h P_b(h) (h_i − p_bi) L_b(h)
//! (equivalently (1/B) E[p_bi(1 − p_bi)(L_b(h_i=1) − L_b(h_i=0))]). The gater's weight gradients
//! follow by the chain rule. Everything is computed in f64 by enumerating all 2^N gate vectors,
//! so N is limited to [`MAX_ORACLE_GATES`].

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::net::GatedNet;
use crate::nn::Activation;
use crate::nn::math::sigmoid64;

/// Largest number of gates the oracle enumerates (2^12 = 4096 gate vectors per example).
pub const MAX_ORACLE_GATES: usize = 12;

/// Exact expected loss and gradients, in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactGradient {
    /// E[L] for the batch-mean cross-entropy.
    pub expected_loss: f64,
    /// ∂E[L]/∂a, batch × gates.
    pub gate_pre: Array2<f64>,
    /// ∂E[L]/∂W₂ (gater hidden × gates).
    pub gater_gates_w: Array2<f64>,
    /// ∂E[L]/∂b₂.
    pub gater_gates_b: Array1<f64>,
    /// ∂E[L]/∂W₁ (inputs × gater hidden).
    pub gater_hidden_w: Array2<f64>,
    /// ∂E[L]/∂b₁.
    pub gater_hidden_b: Array1<f64>,
}

/// Why the oracle cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OracleError {
    /// Too many gates to enumerate.
    #[error("the oracle enumerates at most {MAX_ORACLE_GATES} gates, the net has {0}")]
    TooManyGates(usize),
    /// Inputs and labels disagree.
    #[error("{inputs} input rows but {labels} labels")]
    BatchMismatch {
        /// Rows of x.
        inputs: usize,
        /// Labels given.
        labels: usize,
    },
}

fn to64(a: ArrayView2<f32>) -> Array2<f64> {
    a.mapv(f64::from)
}

fn activate(act: Activation, v: f64) -> f64 {
    match act {
        Activation::Linear => v,
        Activation::Tanh => v.tanh(),
        Activation::Relu => v.max(0.0),
    }
}

/// The exact gradient of the expected batch-mean cross-entropy with respect to the gate
/// pre-activations and the gater's parameters, for Bernoulli(σ(a)) gates.
pub fn exact_binary_gate_gradient(
    net: &GatedNet,
    x: ArrayView2<f32>,
    labels: &[u8],
) -> Result<ExactGradient, OracleError> {
    let n = net.units();
    if n > MAX_ORACLE_GATES {
        return Err(OracleError::TooManyGates(n));
    }
    if x.nrows() != labels.len() {
        return Err(OracleError::BatchMismatch {
            inputs: x.nrows(),
            labels: labels.len(),
        });
    }
    let batch = labels.len();
    let x64 = to64(x);
    let w1 = to64(net.gater_hidden.w.view());
    let b1 = net.gater_hidden.b.mapv(f64::from);
    let w2 = to64(net.gater_gates.w.view());
    let b2 = net.gater_gates.b.mapv(f64::from);
    let we = to64(net.experts.w.view());
    let be = net.experts.b.mapv(f64::from);
    let wo = to64(net.output.w.view());
    let bo = net.output.b.mapv(f64::from);

    let z = (x64.dot(&w1) + &b1).mapv(|v| activate(net.gater_activation, v));
    let a = z.dot(&w2) + &b2;
    let experts = (x64.dot(&we) + &be).mapv(|v| activate(net.expert_activation, v));

    let classes = net.classes();
    let mut expected = 0.0;
    let mut grad_a = Array2::<f64>::zeros((batch, n));
    let mut logits = vec![0.0f64; classes];
    for b in 0..batch {
        let p: Vec<f64> = a.row(b).iter().map(|&v| sigmoid64(v)).collect();
        let y = labels[b] as usize;
        for mask in 0u32..(1u32 << n) {
            let mut prob = 1.0;
            for (i, &pi) in p.iter().enumerate() {
                prob *= if mask >> i & 1 == 1 { pi } else { 1.0 - pi };
            }
            for (k, l) in logits.iter_mut().enumerate() {
                *l = bo[k];
            }
            for i in (0..n).filter(|i| mask >> i & 1 == 1) {
                let e = experts[[b, i]];
                for (k, l) in logits.iter_mut().enumerate() {
                    *l += e * wo[[i, k]];
                }
            }
            let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = max + logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
            let loss = lse - logits[y];
            expected += prob * loss / batch as f64;
            for (i, &pi) in p.iter().enumerate() {
                let hi = f64::from(mask >> i & 1);
                grad_a[[b, i]] += prob * (hi - pi) * loss / batch as f64;
            }
        }
    }

    let gater_gates_w = z.t().dot(&grad_a);
    let gater_gates_b = grad_a.sum_axis(Axis(0));
    let mut dz = grad_a.dot(&w2.t());
    let act = net.gater_activation;
    ndarray::Zip::from(&mut dz).and(&z).for_each(|d, &zv| {
        *d *= match act {
            Activation::Linear => 1.0,
            Activation::Tanh => 1.0 - zv * zv,
            Activation::Relu => f64::from(u8::from(zv > 0.0)),
        }
    });
    let gater_hidden_w = x64.t().dot(&dz);
    let gater_hidden_b = dz.sum_axis(Axis(0));
    Ok(ExactGradient {
        expected_loss: expected,
        gate_pre: grad_a,
        gater_gates_w,
        gater_gates_b,
        gater_hidden_w,
        gater_hidden_b,
    })
}
