//! The same-trajectory probe: at a probe step, every lane's estimator measured at the
//! parameters of one reference lane, on the probe minibatch, against a reference gradient
//! estimated there — of the gate layer's parameters (W₂, b₂), as the variance probe measures — so that two lanes' numbers differ by their estimators alone, not by where
//! their own training took them (see [`crate::config::SameTrajectorySpec`]).
//!
//! The reference gradient is the mean of `reference_samples` DisARM estimates (unbiased, the
//! least noisy per evaluation of the unbiased estimators here); its own noise is removed from
//! the measured biases ([`crate::lab::BiasVariance`]). Nothing here touches a lane: each lane's
//! estimator is rebuilt from its settings with the lane's baseline state and step, and draws
//! from streams of its own (`trajectory/<lane>/<step>`; the reference from
//! `trajectory/<step>`), so the probe changes no lane's training and gives the same numbers
//! whatever the thread count.

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
    let mut flat = Vec::new();
    for _ in 0..samples {
        estimate(estimator, a, rng, &mut f, &mut buffers, &mut da);
        net.gater_gates
            .param_grad_into(acts.gater_hidden.view(), da.view(), 1.0, &mut gradient);
        flat.clear();
        flat.extend(gradient.w.iter().chain(gradient.b.iter()));
        out.add_slice(&flat);
    }
    out
}

/// The probe at `step`: the reference gradient at `net` (the reference lane's parameters, up
/// to date) and one point for every lane in `lanes` (None for a lane without gates), computed
/// in parallel on the calling rayon pool.
#[allow(clippy::too_many_arguments)]
pub(super) fn probe(
    net: &GatedNet,
    lanes: &[&Lane],
    x: ArrayView2<f32>,
    labels: &[u8],
    samples: usize,
    reference_samples: usize,
    seed: u64,
    step: u64,
    names: &[&str],
) -> Vec<Option<TrajectoryPoint>> {
    let mut acts = net.activations(labels.len());
    net.forward_gater(x, &mut acts);
    let acts = &acts;
    let reference = EstimatorSpec::DisArm.build();
    let reference = Reference::estimated(&estimates(
        reference.as_ref(),
        net,
        acts,
        x,
        labels,
        MainPathChoice::Auto,
        reference_samples,
        &mut rng_for(seed, &format!("trajectory/{step}")),
        false,
    ));
    lanes
        .par_iter()
        .zip(names.par_iter())
        .map(|(lane, name)| {
            let mut estimator = lane.settings().estimator.build();
            if !estimator.is_gated() {
                return None;
            }
            if let Some(state) = lane.estimator().baseline_state() {
                estimator.restore_baseline_state(state);
            }
            estimator.set_step(lane.steps());
            let mut rng = rng_for(seed, &format!("trajectory/{name}/{step}"));
            let e = estimates(
                estimator.as_ref(),
                net,
                acts,
                x,
                labels,
                lane.main_path(),
                samples,
                &mut rng,
                true,
            );
            Some(TrajectoryPoint::of(step, &BiasVariance::of(&e, &reference)))
        })
        .collect()
}
