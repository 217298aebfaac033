// Temporary profiling harness (not committed).
use gradrace::config::builtin;
use gradrace::data::{CLASSES, MinibatchSchedule};
use gradrace::engine::{Lane, MainPathChoice};
use gradrace::net::GatedNet;
use gradrace::seed::{derive_seed, rng_for};
use ndarray::Array2;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lane_name = &args[1];
    let shift: f32 = args[2].parse().unwrap();
    let dense = args.get(3).map(|s| s == "dense").unwrap_or(false);
    let steps: usize = args.get(4).map(|s| s.parse().unwrap()).unwrap_or(2000);
    let exp = builtin::resolve("paper-mnist").unwrap();
    let data = gradrace::data::embedded();
    let spec = exp.lanes.iter().find(|l| &l.name == lane_name).unwrap();
    let settings = exp.lane_settings(spec);
    let batch = exp.training.batch_size;
    let inputs = data.train.input_dim();
    let mut net = GatedNet::init(
        inputs,
        CLASSES,
        &exp.network,
        &mut rng_for(exp.seed, "init"),
    );
    net.gater_gates.b.mapv_inplace(|b| b + shift);
    let mut lane = Lane::new(net, settings, rng_for(exp.seed, "lane"));
    if dense {
        lane.set_main_path(MainPathChoice::Dense);
    }
    let mut schedule = MinibatchSchedule::new(
        data.train.len(),
        batch,
        derive_seed(exp.seed, "minibatches"),
    );
    let batches: Vec<(Array2<f32>, Vec<u8>)> = (0..50u64)
        .map(|s| {
            let mut x = Array2::zeros((batch, inputs));
            let mut y = Vec::new();
            data.train.gather_into(schedule.batch_at(s), &mut x, &mut y);
            (x, y)
        })
        .collect();
    let t = std::time::Instant::now();
    let mut fr = 0.0;
    for s in 0..steps {
        let (x, y) = &batches[s % 50];
        fr += lane.train_step(x.view(), y).firing_rate;
    }
    let el = t.elapsed().as_secs_f64();
    println!(
        "{lane_name} dense={dense}: {:.3} ms/step, firing {:.3}",
        1e3 * el / steps as f64,
        fr / steps as f32
    );
}
