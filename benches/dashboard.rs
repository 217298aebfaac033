//! Dashboard benchmarks (`cargo bench --bench dashboard`), both measured in one run:
//!
//! 1. Frame time: one full frame (every panel) of a race of 8 lanes, drawn into ratatui's
//!    TestBackend at 160×48 and 240×64. Target: under 2 ms. Two histories: 10,000 recorded
//!    steps per lane (the recorder keeps them at half resolution), and 8,191 steps (the most
//!    points a lane ever stores before its resolution halves). Each is measured as in a live
//!    race (the heatmap's binned grid cached between frames while its data is unchanged) and
//!    cold (recomputed every frame, as while the focused lane's firing history changes).
//! 2. Throughput: the same short race (`quick`, `GRADRACE_BENCH_STEPS` steps, default 300) run
//!    headless (events folded into a Recorder) and under the real dashboard event loop drawing
//!    into a TestBackend at up to 30 frames per second; runs alternate to share the machine's
//!    load fairly, and the ratio of the median speeds is printed. Target: at least 95%.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::Stream;
use gradrace::config::Length;
use gradrace::config::builtin::resolve;
use gradrace::data::DataSplit;
use gradrace::engine::{EngineEvent, Race};
use gradrace::history::Recorder;
use gradrace::session::Saver;
use gradrace::tui::{self, App, EngineLink, Exit};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

/// CPU time this thread has run, in ns (Linux: /proc/thread-self/schedstat), or None.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn frame_time(steps: u64, w: u16, h: u16, cold: bool) {
    let recorder = tui::synthetic::race(8, steps, 1000);
    let stored = recorder.lanes[0].steps.len();
    let mut app = App::live(Instant::now());
    app.recorder = recorder;
    app.focus = 3;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    let mut draw = |app: &App| {
        terminal
            .draw(|f| tui::draw(f, black_box(app)))
            .expect("draw");
    };
    for _ in 0..30 {
        draw(&app);
    }
    let frames = 400;
    let mut times = Vec::new();
    let cpu0 = thread_cpu_ns();
    for i in 0..frames {
        // Alternate view options so no frame is a repeat of the previous one.
        app.loss.smoothed = i % 2 == 0;
        app.heat.by_class = i % 7 == 0;
        if cold {
            app.heat_cache = Default::default();
        }
        let t = Instant::now();
        draw(&app);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let cpu = cpu0
        .zip(thread_cpu_ns())
        .map(|(a, b)| (b - a) as f64 / 1e6 / frames as f64);
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let median = percentile(&times, 0.5);
    println!(
        "frame  8 lanes × {steps:>6} steps ({stored:>4} stored points/lane), {w}×{h}, {}: \
         wall median {median:.3} ms, mean {mean:.3} ms, p95 {:.3} ms; CPU {} ms/frame  \
         [target < 2 ms: {}]",
        if cold {
            "nothing cached"
        } else {
            "heat grid cached"
        },
        percentile(&times, 0.95),
        cpu.map_or("n/a".into(), |c| format!("{c:.3}")),
        if median < 2.0 { "met" } else { "MISSED" }
    );
}

fn race(data: &Arc<DataSplit>, steps: u64) -> Race {
    let mut e = resolve("quick").expect("quick experiment");
    e.training.length = Length::Steps(steps);
    Race::new(&e, data.clone(), 0).expect("race")
}

/// Steps per second of the race folded into a Recorder by a plain consumer.
fn headless(data: &Arc<DataSplit>, steps: u64) -> f64 {
    let r = race(data, steps);
    let start = Instant::now();
    let handle = r.spawn();
    let mut rec = Recorder::new();
    for e in handle.events.iter() {
        let end = e == EngineEvent::Finished;
        rec.apply(e);
        if end {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    handle.thread.join().expect("engine");
    assert_eq!(rec.step(), steps);
    steps as f64 / secs
}

/// Steps per second of the race under the dashboard's event loop (TestBackend, 30 fps).
fn dashboard(data: &Arc<DataSplit>, steps: u64) -> f64 {
    let r = race(data, steps);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let start = Instant::now();
    let handle = r.spawn();
    // Forward the engine's events, and press q once it has finished.
    let (keys_tx, keys_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = crossbeam_channel::unbounded();
    let source = handle.events;
    let forward = std::thread::spawn(move || {
        for e in source.iter() {
            let end = e == EngineEvent::Finished;
            let _ = ev_tx.send(e);
            if end {
                use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
                let q = Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
                let _ = keys_tx.send(Ok::<_, std::io::Error>(q));
                return Instant::now();
            }
        }
        Instant::now()
    });
    let input = Box::pin(futures_util::stream::unfold(keys_rx, |mut rx| async move {
        rx.recv().await.map(|e| (e, rx))
    })) as std::pin::Pin<Box<dyn Stream<Item = std::io::Result<_>>>>;
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test terminal");
    let mut app = App::live(Instant::now());
    let mut saver: Option<Saver> = None;
    let exit = rt
        .block_on(tui::event_loop::run(
            &mut terminal,
            &mut app,
            Some(EngineLink {
                commands: handle.commands,
                events: ev_rx,
            }),
            &mut saver,
            input,
            None,
        ))
        .expect("event loop");
    let finished = forward.join().expect("forwarder");
    handle.thread.join().expect("engine");
    assert_eq!(exit, Exit::Done);
    assert_eq!(app.recorder.step(), steps);
    steps as f64 / finished.duration_since(start).as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; a filter argument selects one part.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wants = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    if wants("frame") {
        for (steps, w, h) in [
            (10_000, 160, 48),
            (10_000, 240, 64),
            (8_191, 160, 48),
            (8_191, 240, 64),
        ] {
            frame_time(steps, w, h, false);
            frame_time(steps, w, h, true);
        }
    }
    if wants("throughput") {
        let steps: u64 = std::env::var("GRADRACE_BENCH_STEPS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300);
        let rounds: usize = std::env::var("GRADRACE_BENCH_ROUNDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3);
        let data = Arc::new(gradrace::data::embedded());
        // Warm-up (page cache, allocator, thread pool).
        headless(&data, steps.min(50));
        let (mut h, mut d) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let a = headless(&data, steps);
            let b = dashboard(&data, steps);
            println!(
                "throughput round {}: headless {a:.1} steps/s, dashboard {b:.1} steps/s ({:.1}%)",
                round + 1,
                100.0 * b / a
            );
            h.push(a);
            d.push(b);
            std::thread::sleep(Duration::from_millis(200));
        }
        let ratio = median(d) / median(h);
        println!(
            "throughput quick × {steps} steps, {rounds} alternating rounds: dashboard / headless \
             = {:.1}% of median speed  [target ≥ 95%: {}]",
            100.0 * ratio,
            if ratio >= 0.95 { "met" } else { "MISSED" }
        );
    }
}
