//! The experts' SGD step of one gated training step, held back until the next gated forward
//! pass, which applies it to each expert's weights while they are in cache.
//!
//! Without momentum, a gated step updates the incoming weights of every expert some example
//! used: Wₑ[:, i] ← Wₑ[:, i] − η Σ_b ∂L/∂H_bi x_b, then the max norm on that column. The next
//! step's forward pass reads the same columns again for its dot products x_b · Wₑ[:, i]. Done
//! apart, the two passes stream the 6.3 MB expert matrix from memory twice (three times with
//! the write); done column by column in one pass — update the column, clip it, then take the new
//! step's dot products with it — they stream it once. The arithmetic, and its order within each
//! column, is that of the step applied at once, so the weights and every later result are the
//! same bits.
//!
//! While a step is pending, `Wₑ` is one step behind: whoever holds it must call
//! [`DeferredExpertStep::apply`] before reading the weights for anything else (evaluation,
//! checkpoints, the dense path). The biases are not deferred.

use crate::nn::Dense;
use crate::nn::dense::clip_norm;
use crate::nn::simd::weighted_sum;

use super::routes::ExpertRoutes;

/// A pending step: for every expert i, the entries `start[i]..start[i + 1]` list the examples b
/// of the step's minibatch that used it and the coefficients −η ∂L/∂H_bi.
#[derive(Debug, Clone, Default)]
pub struct DeferredExpertStep {
    /// The step's minibatch, row-major (batch × inputs).
    x: Vec<f32>,
    inputs: usize,
    start: Vec<usize>,
    example: Vec<u32>,
    coef: Vec<f32>,
    max_norm: Option<f32>,
    pending: bool,
}

impl DeferredExpertStep {
    /// Whether a step waits to be applied.
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// Holds back the step of minibatch `x` (row-major, batch × inputs) routed by `routes`, with
    /// `coef` = −η ∂L/∂H in route order (taken: the caller gets back a buffer to reuse).
    pub(crate) fn hold(
        &mut self,
        x: &[f32],
        inputs: usize,
        routes: &ExpertRoutes,
        coef: &mut Vec<f32>,
        max_norm: Option<f32>,
    ) {
        debug_assert!(!self.pending, "a deferred step is still pending");
        debug_assert_eq!(coef.len(), routes.example.len());
        self.x.clear();
        self.x.extend_from_slice(x);
        self.inputs = inputs;
        self.start.clear();
        self.start.extend_from_slice(&routes.start);
        self.example.clear();
        self.example.extend_from_slice(&routes.example);
        std::mem::swap(&mut self.coef, coef);
        self.max_norm = max_norm;
        self.pending = true;
    }

    /// Expert i's part of the pending step on its incoming weights `column` (nothing when no
    /// step is pending or no example used the expert).
    pub(crate) fn apply_to_column(&self, i: usize, column: &mut [f32]) {
        if !self.pending {
            return;
        }
        let (s, e) = (self.start[i], self.start[i + 1]);
        if s == e {
            return;
        }
        let d = self.inputs;
        let (x, example) = (&self.x, &self.example[s..e]);
        update_column(
            column,
            &self.coef[s..e],
            |k| &x[example[k] as usize * d..(example[k] as usize + 1) * d],
            self.max_norm,
        );
    }

    /// Marks the pending step as applied (after [`Self::apply_to_column`] ran on every column).
    pub(crate) fn applied(&mut self) {
        self.pending = false;
    }

    /// Applies the pending step to every column of `experts` (column-major or not).
    pub fn apply(&mut self, experts: &mut Dense) {
        if !self.pending {
            return;
        }
        debug_assert_eq!(
            experts.inputs(),
            self.inputs,
            "a step held for other weights"
        );
        let step = &*self;
        // No clip in the traversal: it is part of each updated column's step.
        if !experts.update_columns(None, |i, column| step.apply_to_column(i, column)) {
            let mut column = vec![0.0; self.inputs];
            for i in 0..experts.outputs() {
                column
                    .iter_mut()
                    .zip(experts.w.column(i))
                    .for_each(|(c, &w)| *c = w);
                self.apply_to_column(i, &mut column);
                experts.w.column_mut(i).assign(&ndarray::aview1(&column));
            }
        }
        self.applied();
    }

    /// Drops the pending step without applying it (the weights it was meant for were replaced).
    pub fn discard(&mut self) {
        self.pending = false;
    }
}

/// One expert's plain SGD step: column ← column + Σ_k coef[k] · x(k) (summed in order, four
/// at a time), then the max norm on the column while it is in cache.
pub(crate) fn update_column<'a>(
    column: &mut [f32],
    coef: &[f32],
    x: impl Fn(usize) -> &'a [f32],
    max_norm: Option<f32>,
) {
    weighted_sum(column, coef.len(), coef, x, true);
    if let Some(c) = max_norm {
        clip_norm(column, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, ShapeBuilder};

    /// Applying a held step gives the same bits in either layout of the weights, touches only
    /// the experts some example used, and leaves nothing pending.
    #[test]
    fn a_held_step_applies_alike_in_both_layouts() {
        let (batch, inputs, units) = (5, 7, 4);
        let x: Vec<f32> = (0..batch * inputs)
            .map(|v| (v % 11) as f32 * 0.1 - 0.5)
            .collect();
        // Expert 2 is used by no example.
        let h = Array2::from_shape_fn((batch, units), |(b, i)| {
            if i != 2 && (b + i) % 2 == 0 { 1.0 } else { 0.0 }
        });
        let mut routes = ExpertRoutes::with_capacity(batch, units);
        routes.build(h.view());
        let mut coef: Vec<f32> = (0..routes.active()).map(|k| 0.3 - 0.2 * k as f32).collect();
        let mut step = DeferredExpertStep::default();
        step.hold(&x, inputs, &routes, &mut coef, Some(1.5));
        assert!(step.is_pending());
        let w = Array2::from_shape_fn((inputs, units).f(), |(k, i)| (k + 3 * i) as f32 * 0.05);
        let mut column_major = Dense {
            w: w.clone(),
            b: Array1::zeros(units),
        };
        let mut row_major = Dense {
            w: w.as_standard_layout().into_owned(),
            b: Array1::zeros(units),
        };
        let mut again = step.clone();
        step.apply(&mut column_major);
        again.apply(&mut row_major);
        assert!(!step.is_pending() && !again.is_pending());
        for (a, b) in column_major.w.iter().zip(row_major.w.iter()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
        assert_eq!(
            column_major.w.column(2),
            w.column(2),
            "unused expert untouched"
        );
        assert_ne!(column_major.w.column(0), w.column(0));
    }
}
