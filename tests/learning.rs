//! Every estimator learns — the paper's families, the later ones of the zoo and the reference lanes:
//! a short training run on the embedded digits ends with held-out error
//! (deterministic test-time gates, 10% firing) under 15%, and the dense baseline with rectifier
//! experts under 8%. A net that did not learn would sit near 90% error.

use gradrace::data::{MinibatchSchedule, embedded};
use gradrace::estimators::*;
use gradrace::nn::Activation;
use gradrace::seed::rng_for;
use gradrace::{GatedNet, Lane, LaneSettings, NetConfig};
use rayon::prelude::*;

const STEPS: u64 = 2_000;

fn every_estimator() -> Vec<(EstimatorSpec, Activation, f32)> {
    use EstimatorSpec::*;
    let lin = Activation::Linear;
    vec![
        (
            Unbiased {
                baseline: Baseline::None,
            },
            lin,
            0.15,
        ),
        (
            Unbiased {
                baseline: Baseline::MeanLoss,
            },
            lin,
            0.15,
        ),
        (
            Unbiased {
                baseline: Baseline::OptimalPerUnit,
            },
            lin,
            0.15,
        ),
        (
            StochasticTimesSmooth {
                bernoulli: StsBernoulli::SqrtP,
                beta_noise: None,
            },
            lin,
            0.15,
        ),
        (
            StochasticTimesSmooth {
                bernoulli: StsBernoulli::P,
                beta_noise: None,
            },
            lin,
            0.15,
        ),
        (
            StochasticTimesSmooth {
                bernoulli: StsBernoulli::SqrtP,
                beta_noise: Some(BetaNoise {
                    mode: 0.1,
                    beta: 40.0,
                }),
            },
            lin,
            0.15,
        ),
        (
            NoisyRectifier {
                noise: RectifierNoise::Gaussian { std: 1.0 },
            },
            lin,
            0.15,
        ),
        (
            NoisyRectifier {
                noise: RectifierNoise::Logistic { scale: 1.0 },
            },
            lin,
            0.15,
        ),
        (
            NoisyRectifier {
                noise: RectifierNoise::Multiplicative { keep: 0.5 },
            },
            lin,
            0.15,
        ),
        (
            NoisyRectifier {
                noise: RectifierNoise::None,
            },
            lin,
            0.15,
        ),
        (
            StraightThrough {
                variant: StraightThroughVariant::Identity,
            },
            lin,
            0.15,
        ),
        (
            StraightThrough {
                variant: StraightThroughVariant::SigmoidAdjusted,
            },
            lin,
            0.15,
        ),
        (ReinforceLeaveOneOut { samples: 2 }, lin, 0.15),
        (ReinforceLeaveOneOut { samples: 4 }, lin, 0.15),
        (Arm, lin, 0.15),
        (DisArm, lin, 0.15),
        (
            BinaryConcrete {
                variant: ConcreteVariant::StraightThrough,
                temperature: None,
            },
            lin,
            0.15,
        ),
        (
            BinaryConcrete {
                variant: ConcreteVariant::Relaxed,
                temperature: None,
            },
            lin,
            0.15,
        ),
        (
            GumbelRao {
                samples: 10,
                temperature: Temperature::Constant(1.0),
            },
            lin,
            0.15,
        ),
        (
            ReinMax {
                temperature: Temperature::Constant(1.0),
            },
            lin,
            0.15,
        ),
        (Sigmoid { noise_std: 0.0 }, lin, 0.15),
        (Sigmoid { noise_std: 1.0 }, lin, 0.15),
        (Dense, lin, 0.15),
        (Dense, Activation::Relu, 0.08),
    ]
}

#[test]
fn every_estimator_learns_on_the_embedded_digits() {
    let data = embedded();
    let config = NetConfig {
        gater_hidden: 100,
        gater_activation: Activation::Tanh,
        experts: 300,
        expert_activation: Activation::Linear,
    };
    let init = GatedNet::init(data.train.input_dim(), 10, &config, &mut rng_for(1, "init"));
    let results: Vec<_> = every_estimator()
        .into_par_iter()
        .map(|(spec, act, bound)| {
            let mut settings = LaneSettings::paper(spec);
            settings.expert_activation = act;
            let mut lane = Lane::new(init.clone(), settings, rng_for(1, "lane"));
            let mut schedule = MinibatchSchedule::new(data.train.len(), 32, 1);
            let mut x = ndarray::Array2::zeros((32, data.train.input_dim()));
            let mut y = Vec::new();
            for step in 0..STEPS {
                data.train
                    .gather_into(schedule.batch_at(step), &mut x, &mut y);
                lane.train_step(x.view(), &y);
            }
            let eval = lane.evaluate(&data.heldout, 500);
            (lane.estimator().describe(), act, eval, bound)
        })
        .collect();
    let mut failures = Vec::new();
    for (name, act, eval, bound) in &results {
        eprintln!(
            "{name:45} experts {act:?}: held-out error {:.3} (bound {bound}), firing {:.3}",
            eval.error, eval.firing_rate
        );
        if eval.error.is_nan() || eval.error >= *bound {
            failures.push(name.clone());
        }
    }
    assert!(failures.is_empty(), "did not learn: {failures:?}");
}
