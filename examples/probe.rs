use gradrace::data::{MinibatchSchedule, embedded};
use gradrace::estimators::*;
use gradrace::nn::Activation;
use gradrace::seed::rng_for;
use gradrace::{GatedNet, Lane, LaneSettings, NetConfig};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let hidden: usize = args.get(1).map_or(64, |s| s.parse().unwrap());
    let experts: usize = args.get(2).map_or(200, |s| s.parse().unwrap());
    let steps: u64 = args.get(3).map_or(500, |s| s.parse().unwrap());
    let data = embedded();
    let cfg = NetConfig { gater_hidden: hidden, gater_activation: Activation::Tanh, experts, expert_activation: Activation::Linear };
    let net = GatedNet::init(784, 10, &cfg, &mut rng_for(1, "init"));
    let specs = [
        EstimatorSpec::Unbiased { baseline: Baseline::OptimalPerUnit },
        EstimatorSpec::Unbiased { baseline: Baseline::None },
        EstimatorSpec::StochasticTimesSmooth { bernoulli: StsBernoulli::SqrtP, beta_noise: None },
        EstimatorSpec::NoisyRectifier { noise: RectifierNoise::Gaussian { std: 1.0 } },
        EstimatorSpec::NoisyRectifier { noise: RectifierNoise::Multiplicative { keep: 0.5 } },
        EstimatorSpec::StraightThrough { variant: StraightThroughVariant::Identity },
        EstimatorSpec::StraightThrough { variant: StraightThroughVariant::SigmoidAdjusted },
        EstimatorSpec::Sigmoid { noise_std: 0.0 },
        EstimatorSpec::Dense,
    ];
    for spec in specs {
        let mut settings = LaneSettings::paper(spec);
        if matches!(spec, EstimatorSpec::Dense) && args.get(4).is_some() { settings.expert_activation = Activation::Relu; }
        let mut lane = Lane::new(net.clone(), settings, rng_for(1, "lane"));
        let mut sched = MinibatchSchedule::new(data.train.len(), 32, 1);
        let t = Instant::now();
        let mut last = None;
        for s in 0..steps {
            let idx = sched.batch_at(s).to_vec();
            let (x, y) = data.train.gather(&idx);
            last = Some(lane.train_step(x.view(), &y));
        }
        let el = t.elapsed().as_secs_f32();
        let ev = lane.evaluate(&data.heldout, 500);
        let l = last.unwrap();
        println!("{:45} {:.1}s  train ce {:.3} fire {:.3} λ {:.2e} | heldout err {:.3} fire {:.3}", lane.estimator().describe(), el, l.cross_entropy, l.firing_rate, l.sparsity_weight, ev.error, ev.firing_rate);
    }
}
