//! The same-trajectory probe: at a probe step, every lane's estimator measured at the
//! parameters of one reference lane, on the probe minibatch, against a reference gradient
//! estimated there — of the gate layer's parameters (W₂, b₂), as the variance probe measures — so that two lanes' numbers differ by their estimators alone, not by where
//! their own training took them (see [`crate::config::SameTrajectorySpec`]).
//!
//! The reference gradient is the mean of `reference_samples` DisARM estimates (unbiased, the
//! least noisy per evaluation of the unbiased estimators here); its own noise is removed from
//! the measured biases ([`crate::lab::BiasVariance`]). It is drawn in blocks of
//! [`REFERENCE_BLOCK`] estimates, block b from the stream `trajectory/<step>/reference/<b>`,
//! computed in parallel and merged in block order. Nothing here touches a lane: each lane's
//! estimator is rebuilt from its settings with the lane's baseline state and step, and draws
//! from a stream of its own (`trajectory/<lane>/<step>`), so the probe changes no lane's
//! training and gives the same numbers whatever the thread count.

use ndarray::{Array2, ArrayView2};

use crate::net::Activations;
use crate::nn::DenseGrad;
use rayon::prelude::*;

use super::lane::Lane;
use super::metrics::TrajectoryPoint;
use crate::estimators::{EstimateBuffers, EstimatorSpec, GateEstimator, estimate};
use crate::lab::{BiasVariance, Estimates, Reference};
use crate::net::gate_loss::{LossBuffers, MainPathLoss};
use crate::net::{GatedNet, MainPathChoice};
use crate::seed::rng_for;

/// `samples` estimates by `estimator` of the gradient of the gate layer's parameters (W₂, b₂)
/// — what the gater trains on, zᵀ ∂L/∂a: summed over the examples, it is far less noisy than
/// ∂L/∂a itself — on (x, labels) at `net`'s parameters, whose gater activations are `acts`.
#[allow(clippy::too_many_arguments)]
fn estimates(
    estimator: &dyn GateEstimator,
    net: &GatedNet,
    acts: &Activations,
    x: ArrayView2<f32>,
    labels: &[u8],
    main_path: MainPathChoice,
    samples: usize,
    rng: &mut crate::seed::Rng,
    keep: bool,
) -> Estimates {
    let mut loss = LossBuffers::default();
    let mut f = MainPathLoss::new(net, x, labels, estimator, main_path, &mut loss);
    let mut buffers = EstimateBuffers::default();
    let a = acts.gate_pre.view();
    let mut da = Array2::zeros(a.raw_dim());
    let mut gradient = DenseGrad::zeros_like(&net.gater_gates);
    let mut out = if keep {
        Estimates::keeping_samples()
    } else {
        Estimates::default()
    };
    for _ in 0..samples {
        estimate(estimator, a, rng, &mut f, &mut buffers, &mut da);
        net.gater_gates
            .param_grad_into(acts.gater_hidden.view(), da.view(), 1.0, &mut gradient);
        // Coordinates in memory order (the same for every estimate and the reference).
        let w = gradient
            .w
            .as_slice_memory_order()
            .expect("an owned array is contiguous");
        let b = gradient.b.as_slice().expect("a 1-D array is contiguous");
        let mut flat = Vec::with_capacity(w.len() + b.len());
        flat.extend_from_slice(w);
        flat.extend_from_slice(b);
        out.add_vec(flat);
    }
    out
}

/// Reference estimates per block (see the [module](self) documentation). Fixed, so that the
/// blocks, and the order their sums are merged in, do not depend on the thread count.
pub const REFERENCE_BLOCK: usize = 8;

/// Where one seed's lanes are probed at one step: the reference lane's parameters (up to date),
/// the probe minibatch, the gater's activations on it, and the reference gradient there.
pub(super) struct Site<'a> {
    net: &'a GatedNet,
    acts: Activations,
    x: ArrayView2<'a, f32>,
    labels: &'a [u8],
    reference: Reference,
    seed: u64,
    step: u64,
}

impl<'a> Site<'a> {
    /// The site at `net` on (x, labels), with its reference gradient: the mean of
    /// `reference_samples` DisARM estimates, its blocks computed in parallel on the calling rayon
    /// pool.
    pub(super) fn new(
        net: &'a GatedNet,
        x: ArrayView2<'a, f32>,
        labels: &'a [u8],
        reference_samples: usize,
        seed: u64,
        step: u64,
    ) -> Site<'a> {
        let mut acts = net.activations(labels.len());
        net.forward_gater(x, &mut acts);
        let disarm = EstimatorSpec::DisArm.build();
        let blocks: Vec<Estimates> = (0..reference_samples.div_ceil(REFERENCE_BLOCK))
            .into_par_iter()
            .map(|b| {
                let n = REFERENCE_BLOCK.min(reference_samples - b * REFERENCE_BLOCK);
                let mut rng = rng_for(seed, &format!("trajectory/{step}/reference/{b}"));
                estimates(
                    disarm.as_ref(),
                    net,
                    &acts,
                    x,
                    labels,
                    MainPathChoice::Auto,
                    n,
                    &mut rng,
                    false,
                )
            })
            .collect();
        let mut all = Estimates::default();
        for block in &blocks {
            all.merge(block);
        }
        Site {
            net,
            acts,
            x,
            labels,
            reference: Reference::estimated(&all),
            seed,
            step,
        }
    }

    /// The point of `lane` (named `name`): `samples` estimates of its estimator at the site
    /// against the reference; None for a lane without gates.
    pub(super) fn point(&self, lane: &Lane, name: &str, samples: usize) -> Option<TrajectoryPoint> {
        let mut estimator = lane.settings().estimator.build();
        if !estimator.is_gated() {
            return None;
        }
        if let Some(state) = lane.estimator().baseline_state() {
            estimator.restore_baseline_state(state);
        }
        estimator.set_step(lane.steps());
        let step = self.step;
        let mut rng = rng_for(self.seed, &format!("trajectory/{name}/{step}"));
        let e = estimates(
            estimator.as_ref(),
            self.net,
            &self.acts,
            self.x,
            self.labels,
            lane.main_path(),
            samples,
            &mut rng,
            true,
        );
        Some(TrajectoryPoint::of(
            step,
            &BiasVariance::of(&e, &self.reference),
        ))
    }
}
