//! `gradrace sweep FILE`: a grid of races from a sweep file — printed with its cost
//! (`--dry-run`, the default), raced on this machine (`--local`), submitted as a Slurm job
//! array and followed (`--slurm`, `--emit-only` to write the script only), continued where it
//! stopped (`--resume`) and merged into one table (`--collect`, and at the end of every
//! execution). The hidden `--task N` is what a Slurm array task runs.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::CliError;
use super::common::StopSignals;
use super::common::data_for;
use super::console::{note, report};
use super::error::Ended;
use crate::engine::Control;
use crate::export::Sessions;
use crate::session::Session;
use crate::session::clock::now_iso8601;
use crate::sweep::axis::{Axis, Role};
use crate::sweep::collect::collect;
use crate::sweep::cost::{BenchFigures, DataShape, human, read_bench, run_cost};
use crate::sweep::directory::RunStatus;
use crate::sweep::directory::{Backend, Job, State};
use crate::sweep::local::{Event, Sharing, cores, run_local};
use crate::sweep::run::{Outcome, StopSignal, execute, work};
use crate::sweep::slurm::{self, Followed, Script, SlurmOptions, Tick};
use crate::sweep::table::Table;
use crate::sweep::{Run, Sweep, SweepDir, SweepError, expand, file, load};

/// How `--collect` prints the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// An aligned text table.
    #[default]
    Text,
    /// A Markdown table.
    Markdown,
    /// CSV, one line per setting and estimator.
    Csv,
}

/// Arguments of `gradrace sweep`.
#[derive(Debug, Args, Clone)]
pub struct SweepArgs {
    /// The sweep file (e.g. experiments/readme.sweep.ron).
    pub file: PathBuf,
    /// Print the runs and their estimated cost, and race nothing (the default).
    #[arg(long, group = "mode")]
    pub dry_run: bool,
    /// Race the runs not yet done on this machine's cores.
    #[arg(long, group = "mode")]
    pub local: bool,
    /// Submit the runs not yet done as one Slurm job array and follow it.
    #[arg(long, group = "mode")]
    pub slurm: bool,
    /// Continue the sweep as it was last executed (locally, or on Slurm with the same options):
    /// follow its job if one is still queued, then race or resubmit only what is missing.
    #[arg(long, conflicts_with_all = ["dry_run", "collect"])]
    pub resume: bool,
    /// Merge the runs' sessions into the sweep's table (also done at the end of --local and
    /// --slurm).
    #[arg(long, group = "mode")]
    pub collect: bool,
    /// Show every done run as one race: each lane named by its run's setting, the runs that
    /// differ only in their seed as that lane's seeds (the dashboard on a terminal, text
    /// otherwise).
    #[arg(long, group = "mode", conflicts_with = "resume")]
    pub replay: bool,
    /// With --slurm: write the job script and do not submit it (for clusters whose headers
    /// need editing).
    #[arg(long, conflicts_with_all = ["local", "collect", "dry_run"])]
    pub emit_only: bool,
    /// Race run N of the sweep's plan and save its session (what a Slurm array task runs).
    #[arg(long, value_name = "N", group = "mode", hide = true)]
    pub task: Option<usize>,
    /// Where sweeps are kept: the sweep's directory is DIR/<sweep name> (on Slurm, a directory
    /// every node sees).
    #[arg(long, value_name = "DIR", default_value = "sweeps")]
    pub out_dir: PathBuf,
    /// Local: runs raced at the same time (default: as many as fill the cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Threads of each run (default locally: one per lane, at most the cores; on Slurm: the
    /// task's CPUs).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Save every run's checkpoint too (bigger; lets `gradrace resume` continue a run).
    #[arg(long)]
    pub checkpoint: bool,
    /// Slurm: the partition.
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// Slurm: the time limit of each task (e.g. 30:00).
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    /// Slurm: CPUs of each task (also its threads; default 1).
    #[arg(long, value_name = "N")]
    pub cpus_per_task: Option<usize>,
    /// Slurm: at most M tasks at once (the array's %M).
    #[arg(long, value_name = "M")]
    pub max_parallel: Option<usize>,
    /// Slurm: one more #SBATCH line, e.g. --sbatch-arg=--mem=4G (repeatable).
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
    /// Dry run: seconds per step measured by `gradrace bench EXPERIMENT --json` (default:
    /// DIR/<sweep name>/bench.json when it exists).
    #[arg(long, value_name = "FILE")]
    pub bench: Option<PathBuf>,
    /// How the table is printed (the files get every format).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Slurm: seconds between two looks at the queue.
    #[arg(long, value_name = "SECS", default_value_t = 0.5, hide = true)]
    pub poll: f64,
}

/// Runs `gradrace sweep`. SIGINT, SIGTERM and SIGHUP stop it (the running races save where
/// they are, a followed Slurm job goes on); it then ends as stopped by that signal.
pub fn run(args: &SweepArgs) -> Result<Ended, CliError> {
    let stop = StopSignal::new();
    let signals = listen(&stop);
    dispatch(args, &stop).map(|()| Ended::from_stop(signals.received()))
}

/// Stops `stop` on SIGINT, SIGTERM or SIGHUP; the guard tells which came first.
fn listen(stop: &Arc<StopSignal>) -> StopSignals {
    let (commands, received) = crossbeam_channel::unbounded::<Control>();
    let signals = StopSignals::listen(commands);
    let stop = Arc::clone(stop);
    // Ends when the guard is dropped (the sender with it).
    std::thread::spawn(move || {
        if received.recv().is_ok() {
            stop.stop();
        }
    });
    signals
}

fn dispatch(args: &SweepArgs, stop: &Arc<StopSignal>) -> Result<(), CliError> {
    if let Some(n) = args.task {
        return task(args, n, stop);
    }
    let sweep = load(&args.file).map_err(SweepError::from)?;
    let runs = expand(&sweep).map_err(SweepError::from)?;
    let dir = SweepDir::new(&args.out_dir, &sweep.name, runs.len());
    if args.collect {
        return finish(&sweep, &runs, &dir, args.format, false);
    }
    if args.replay {
        return replay(&sweep, &runs, &dir);
    }
    if args.resume {
        let state = dir.read_state()?;
        let backend = if args.local {
            Backend::Local
        } else if args.slurm || args.emit_only {
            Backend::Slurm(slurm_options(args, None))
        } else {
            match state.backend {
                Some(Backend::Slurm(recorded)) => {
                    Backend::Slurm(slurm_options(args, Some(recorded)))
                }
                Some(Backend::Local) => Backend::Local,
                None => {
                    return Err(CliError::BadInput(format!(
                        "nothing to resume in {}: the sweep has not been executed yet (use \
                         --local or --slurm)",
                        dir.root.display()
                    )));
                }
            }
        };
        return match backend {
            Backend::Local => local(args, &sweep, &runs, &dir, stop),
            Backend::Slurm(options) => on_slurm(args, &sweep, &runs, &dir, options, true, stop),
        };
    }
    if args.local {
        return local(args, &sweep, &runs, &dir, stop);
    }
    if args.slurm || args.emit_only {
        let options = slurm_options(args, None);
        return on_slurm(args, &sweep, &runs, &dir, options, false, stop);
    }
    dry_run(args, &sweep, &runs, &dir)
}

/// The Slurm options of the command line, over the recorded ones.
fn slurm_options(args: &SweepArgs, recorded: Option<SlurmOptions>) -> SlurmOptions {
    let mut o = recorded.unwrap_or(SlurmOptions {
        cpus_per_task: 1,
        ..SlurmOptions::default()
    });
    if args.partition.is_some() {
        o.partition.clone_from(&args.partition);
    }
    if args.time.is_some() {
        o.time.clone_from(&args.time);
    }
    if let Some(c) = args.cpus_per_task {
        o.cpus_per_task = c.max(1);
    }
    if args.max_parallel.is_some() {
        o.max_parallel = args.max_parallel.filter(|m| *m > 0);
    }
    if !args.sbatch_args.is_empty() {
        o.sbatch_args.clone_from(&args.sbatch_args);
    }
    o.checkpoint |= args.checkpoint;
    o
}

/// The shape of the runs' data set (loaded once: every run shares the base experiment's).
fn data_shape(runs: &[Run]) -> Result<(Arc<crate::data::DataSplit>, DataShape), CliError> {
    let data = Arc::new(data_for(&runs[0].experiment)?);
    let shape = DataShape {
        train: data.train.len(),
        heldout: data.heldout.len(),
        inputs: data.train.input_dim(),
        classes: crate::data::CLASSES,
    };
    Ok((data, shape))
}

/// `--dry-run`: the runs, their cost and what is done already.
fn dry_run(args: &SweepArgs, sweep: &Sweep, runs: &[Run], dir: &SweepDir) -> Result<(), CliError> {
    let (_, shape) = data_shape(runs)?;
    let bench_file = args
        .bench
        .clone()
        .or_else(|| Some(dir.root.join("bench.json")).filter(|p| p.is_file()));
    let bench: Option<BenchFigures> = match &bench_file {
        Some(f) => Some(
            read_bench(f)
                .map_err(|e| CliError::BadInput(format!("--bench {}: {e}", f.display())))?,
        ),
        None => None,
    };
    let sizes: Vec<String> = sweep
        .grid
        .iter()
        .map(|g| format!("{} {}", g.values.len(), g.axis.name))
        .collect();
    let mut shape_text = sizes.join(" × ");
    if !sweep.list.is_empty() {
        shape_text = if shape_text.is_empty() {
            format!("{} list points", sweep.list.len())
        } else {
            format!("{} list points × {shape_text}", sweep.list.len())
        };
    }
    let mut out = format!(
        "sweep \"{}\" ({}): {} runs of {}{}\n",
        sweep.name,
        sweep.file,
        runs.len(),
        sweep.experiment_source,
        if shape_text.is_empty() {
            String::new()
        } else {
            format!(" — {shape_text}")
        }
    );
    if !sweep.description.is_empty() {
        out += &format!("{}\n", sweep.description);
    }
    out += &format!("directory: {}\n\n", dir.root.display());
    let header = [
        "run",
        "lanes×seeds",
        "steps",
        "est. time",
        "status",
        "settings",
    ];
    let mut rows: Vec<[String; 6]> = Vec::new();
    let mut total = 0.0;
    let mut lane_steps = 0;
    let mut longest: f64 = 0.0;
    let mut measured = true;
    let mut done = 0;
    for run in runs {
        let c = run_cost(run, shape, bench.as_ref());
        total += c.seconds;
        lane_steps += c.lane_steps;
        longest = longest.max(c.seconds);
        measured &= c.measured;
        let status = match dir.status(run) {
            crate::sweep::RunStatus::Done(_) => {
                done += 1;
                "done".to_string()
            }
            crate::sweep::RunStatus::Missing => "to race".into(),
            crate::sweep::RunStatus::Redo(_) => "to race again".into(),
        };
        rows.push([
            run.id.clone(),
            run.lane_runs().to_string(),
            run.experiment.total_steps(shape.train).to_string(),
            human(c.seconds),
            status,
            run.label(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, &w)| format!("{c:<w$}"))
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    out += &line(&header.map(String::from));
    for r in &rows {
        out += &line(r);
    }
    let lanes_max = runs.iter().map(Run::lane_runs).max().unwrap_or(1);
    let sharing = Sharing::fit(cores(), lanes_max, args.jobs, args.threads);
    let busy = (sharing.jobs * sharing.threads.min(lanes_max)).clamp(1, cores());
    out += &format!(
        "\n{} runs, {lane_steps} lane-steps: about {} on one core ({})\n",
        runs.len(),
        human(total),
        match (&bench_file, measured) {
            (Some(f), true) => format!("bench figures from {}", f.display()),
            (Some(f), false) => format!("bench figures from {}, some lanes not in it", f.display()),
            (None, _) => format!(
                "rough: no bench figures; `gradrace bench {} --quick --json > {}` measures them",
                sweep.experiment_ref,
                dir.root.join("bench.json").display()
            ),
        }
    );
    out += &format!(
        "--local here: {} runs at once, {} threads each, about {} ({} cores); the longest run \
         about {} (Slurm --time with room to spare: {})\n",
        sharing.jobs,
        sharing.threads,
        human(total / busy as f64),
        cores(),
        human(longest),
        slurm_time(longest * 3.0 + 60.0)
    );
    out += &format!("done: {done} of {}\n", runs.len());
    report(&out)
}

/// The command line that continues this sweep: `gradrace sweep FILE`, with `--out-dir` unless
/// it is the default.
fn again(sweep: &Sweep, dir: &SweepDir) -> String {
    let default = std::path::absolute("sweeps").ok();
    match dir.root.parent() {
        Some(out) if Some(out) != default.as_deref() => {
            format!("gradrace sweep {} --out-dir {}", sweep.file, out.display())
        }
        _ => format!("gradrace sweep {}", sweep.file),
    }
}

/// Seconds as a Slurm time limit (`MM:SS` or `HH:MM:SS`, whole minutes).
fn slurm_time(seconds: f64) -> String {
    let minutes = (seconds / 60.0).ceil().max(1.0) as u64;
    if minutes < 60 {
        format!("{minutes}:00")
    } else {
        format!("{}:{:02}:00", minutes / 60, minutes % 60)
    }
}

/// The runs of `runs` not done yet, after saying how many are.
fn to_do<'a>(runs: &'a [Run], dir: &SweepDir) -> Vec<&'a Run> {
    let todo: Vec<&Run> = runs.iter().filter(|r| !dir.status(r).is_done()).collect();
    let done = runs.len() - todo.len();
    if done > 0 {
        note!(
            "gradrace: {done} of {} runs already done (not raced again)",
            runs.len()
        );
    }
    todo
}

/// Refuses to race while a job of the sweep is still queued or running.
fn no_live_job(sweep: &Sweep, dir: &SweepDir, state: &State) -> Result<(), CliError> {
    if state.jobs.is_empty() {
        return Ok(());
    }
    let ids: Vec<u64> = state.jobs.iter().map(|j| j.id).collect();
    let live = slurm::live_jobs(&slurm::job_name(&sweep.name), &ids);
    match live.first() {
        Some(job) => Err(CliError::BadInput(format!(
            "job {job} of this sweep is still queued or running: `{} --resume` \
             follows it, `scancel {job}` cancels it",
            again(sweep, dir)
        ))),
        None => Ok(()),
    }
}

fn bar_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("valid progress template")
        .progress_chars("█▉▊▋▌▍▎▏ ")
}

/// `--local` (and `--resume` of a local sweep).
fn local(
    args: &SweepArgs,
    sweep: &Sweep,
    runs: &[Run],
    dir: &SweepDir,
    stop: &Arc<StopSignal>,
) -> Result<(), CliError> {
    let mut state = dir.read_state()?;
    no_live_job(sweep, dir, &state)?;
    let (data, shape) = data_shape(runs)?;
    dir.create()?;
    state.backend = Some(Backend::Local);
    dir.write_state(&state)?;
    dir.write_plan(&sweep.name, &sweep.file, runs)?;
    let todo = to_do(runs, dir);
    if todo.is_empty() {
        return finish(sweep, runs, dir, args.format, true);
    }
    let lanes_max = todo.iter().map(|r| r.lane_runs()).max().unwrap_or(1);
    let sharing = Sharing::fit(cores(), lanes_max, args.jobs, args.threads);
    note!(
        "gradrace: racing {} runs of sweep \"{}\" here: {} at once, {} threads each; sessions in {}",
        todo.len(),
        sweep.name,
        sharing.jobs,
        sharing.threads,
        dir.root.display()
    );
    let terminal = std::io::stderr().is_terminal();
    let multi = MultiProgress::with_draw_target(if terminal {
        ProgressDrawTarget::stderr_with_hz(8)
    } else {
        ProgressDrawTarget::hidden()
    });
    let total_work: u64 = todo.iter().map(|r| work(&r.experiment, shape.train)).sum();
    let overall = multi.add(ProgressBar::new(total_work));
    overall.set_style(bar_style(
        "{prefix:>8} [{bar:30.green/blue}] {percent:>3}%  {msg}  ETA {eta}",
    ));
    overall.set_prefix("sweep");
    let run_style = bar_style("{prefix:>8} [{bar:30.cyan/blue}] {percent:>3}%  {msg}");
    let by_index: HashMap<usize, &Run> = todo.iter().map(|r| (r.index, *r)).collect();
    let mut bars: HashMap<usize, (ProgressBar, u64, u64)> = HashMap::new();
    let (mut ended, total) = (0usize, todo.len());
    overall.set_message(format!("0/{total} runs"));
    let mut observe = |e: &Event| match e {
        Event::Started { run, work } => {
            let b = multi.add(ProgressBar::new(*work));
            b.set_style(run_style.clone());
            b.set_prefix(format!("run {run:0w$}", w = dir.width));
            b.set_message(by_index.get(run).map_or(String::new(), |r| r.label()));
            bars.insert(*run, (b, 0, *work));
        }
        Event::Progress { run, done } => {
            if let Some((b, seen, _)) = bars.get_mut(run) {
                overall.inc(done.saturating_sub(*seen));
                *seen = *done;
                b.set_position(*done);
            }
        }
        Event::Finished { run, outcome } => {
            let label = by_index.get(run).map_or(String::new(), |r| r.label());
            if let Some((b, seen, work)) = bars.remove(run) {
                if matches!(outcome, Ok(Outcome::Done { .. })) {
                    overall.inc(work.saturating_sub(seen));
                }
                b.finish_and_clear();
                multi.remove(&b);
            }
            ended += 1;
            overall.set_message(format!("{ended}/{total} runs"));
            let line = match outcome {
                Ok(Outcome::Done { seconds, diverged }) => format!(
                    "gradrace: run {run:0w$} done in {} ({label}){}",
                    human(*seconds),
                    if *diverged > 0 {
                        format!(", {diverged} lanes diverged")
                    } else {
                        String::new()
                    },
                    w = dir.width
                ),
                Ok(Outcome::Stopped { step }) => format!(
                    "gradrace: run {run:0w$} stopped at step {step} ({label}); raced again by --resume",
                    w = dir.width
                ),
                Err(e) => format!("gradrace: run {run:0w$} failed: {e}", w = dir.width),
            };
            if terminal {
                let _ = multi.println(&line);
            } else {
                note!("{line}");
            }
        }
    };
    let results = run_local(
        &todo,
        dir,
        data,
        sharing,
        args.checkpoint,
        stop,
        &mut observe,
    );
    overall.abandon();
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| format!("run {i}: {e}")))
        .collect();
    if stop.is_stopped() {
        let done = runs.iter().filter(|r| dir.status(r).is_done()).count();
        note!(
            "gradrace: interrupted: {done} of {} runs done; `{} --resume` races the rest",
            runs.len(),
            again(sweep, dir)
        );
        return Ok(());
    }
    finish(sweep, runs, dir, args.format, true)?;
    if !failed.is_empty() {
        return Err(CliError::Runtime(format!(
            "{} runs failed:\n  {}",
            failed.len(),
            failed.join("\n  ")
        )));
    }
    Ok(())
}

/// `--slurm`, `--emit-only` (and `--resume` of a Slurm sweep).
fn on_slurm(
    args: &SweepArgs,
    sweep: &Sweep,
    runs: &[Run],
    dir: &SweepDir,
    options: SlurmOptions,
    resume: bool,
    stop: &StopSignal,
) -> Result<(), CliError> {
    let mut state = dir.read_state()?;
    let poll = Duration::from_secs_f64(args.poll.clamp(0.05, 60.0));
    if !args.emit_only && !state.jobs.is_empty() {
        let ids: Vec<u64> = state.jobs.iter().map(|j| j.id).collect();
        let live = slurm::live_jobs(&slurm::job_name(&sweep.name), &ids);
        if let Some(&job) = live.first() {
            if !resume {
                return Err(CliError::BadInput(format!(
                    "job {job} of this sweep is still queued or running: `{} \
                     --resume` follows it, `scancel {job}` cancels it",
                    again(sweep, dir)
                )));
            }
            for job in live {
                let runs_of_job = state
                    .jobs
                    .iter()
                    .find(|j| j.id == job)
                    .map(|j| j.runs.clone())
                    .unwrap_or_default();
                note!("gradrace: following job {job}, still in the queue");
                if follow_job(sweep, dir, job, &runs_of_job, poll, stop)? == Followed::Detached {
                    return Ok(());
                }
                report_failures(runs, dir, job, &runs_of_job);
            }
        }
    }
    let todo = to_do(runs, dir);
    if todo.is_empty() {
        return finish(sweep, runs, dir, args.format, true);
    }
    let indices: Vec<usize> = todo.iter().map(|r| r.index).collect();
    if !args.emit_only
        && let Some(max) = slurm::max_array_size()
        && indices.last().is_some_and(|&i| i >= max)
    {
        return Err(CliError::BadInput(format!(
            "the sweep has runs up to {}, but this cluster's MaxArraySize is {max} (array \
             indices must be below it): split the sweep, or ask for a larger MaxArraySize",
            indices.last().copied().unwrap_or(0)
        )));
    }
    dir.create()?;
    std::fs::create_dir_all(dir.logs_dir()).map_err(|e| SweepError::io(&dir.logs_dir(), e))?;
    dir.write_plan(&sweep.name, &sweep.file, runs)?;
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| CliError::Runtime(format!("cannot find the running gradrace: {e}")))?;
    let file = std::path::absolute(&args.file).unwrap_or_else(|_| args.file.clone());
    let out_dir = dir
        .root
        .parent()
        .map_or_else(|| dir.root.clone(), Path::to_path_buf);
    let text = Script {
        sweep: &sweep.name,
        exe: &exe,
        file: &file,
        out_dir: &out_dir,
        dir,
        runs: &indices,
        options: &options,
    }
    .text();
    let script = dir
        .slurm_dir()
        .join(format!("submit-{}.sh", state.jobs.len() + 1));
    crate::sweep::directory::write_text(&script, &text)?;
    state.backend = Some(Backend::Slurm(options.clone()));
    if args.emit_only {
        dir.write_state(&state)?;
        note!(
            "gradrace: wrote {} ({} tasks); submit it with `sbatch {0}` (its log directory {} \
             exists), then `{} --collect` merges the results",
            script.display(),
            indices.len(),
            dir.logs_dir().display(),
            again(sweep, dir)
        );
        return report(&format!("{}\n", script.display()));
    }
    let job = slurm::submit(&script).map_err(SweepError::from)?;
    state.jobs.push(Job {
        id: job,
        script: script.display().to_string(),
        runs: indices.clone(),
        submitted: now_iso8601(),
    });
    dir.write_state(&state)?;
    note!(
        "gradrace: submitted job {job}: {} tasks (runs {}){}; logs in {}",
        indices.len(),
        slurm::array_list(&indices),
        options
            .max_parallel
            .map_or(String::new(), |m| format!(", at most {m} at once")),
        dir.logs_dir().display()
    );
    if follow_job(sweep, dir, job, &indices, poll, stop)? == Followed::Detached {
        return Ok(());
    }
    let failed = report_failures(runs, dir, job, &indices);
    finish(sweep, runs, dir, args.format, true)?;
    if failed > 0 {
        return Err(CliError::Runtime(format!(
            "{failed} of {} tasks of job {job} did not finish their run; `{} \
             --resume` resubmits them",
            indices.len(),
            again(sweep, dir)
        )));
    }
    Ok(())
}

/// Follows `job` (racing `indices`) with progress bars until it leaves the queue.
fn follow_job(
    sweep: &Sweep,
    dir: &SweepDir,
    job: u64,
    indices: &[usize],
    poll: Duration,
    stop: &StopSignal,
) -> Result<Followed, CliError> {
    let terminal = std::io::stderr().is_terminal();
    let multi = MultiProgress::with_draw_target(if terminal {
        ProgressDrawTarget::stderr_with_hz(8)
    } else {
        ProgressDrawTarget::hidden()
    });
    let total = indices.len().max(1) as u64;
    let overall = multi.add(ProgressBar::new(total * 1000));
    overall.set_style(bar_style(
        "{prefix:>8} [{bar:30.green/blue}] {percent:>3}%  {msg}  ETA {eta}",
    ));
    overall.set_prefix(format!("job {job}"));
    let run_style = bar_style("{prefix:>8} [{bar:30.cyan/blue}] {percent:>3}%");
    let mut bars: HashMap<usize, ProgressBar> = HashMap::new();
    let mut last_counts = None;
    let mut observe = |tick: &Tick| {
        let queued = tick.pending.len() + tick.running.len();
        let ended = indices.len().saturating_sub(queued);
        let mut position = ended as u64 * 1000;
        for (index, progress) in &tick.running {
            let fraction = progress.map_or(0.0, |(d, t)| d as f64 / t.max(1) as f64);
            position += (fraction * 1000.0) as u64;
            let b = bars.entry(*index).or_insert_with(|| {
                let b = multi.add(ProgressBar::new(1000));
                b.set_style(run_style.clone());
                b.set_prefix(format!("run {index:0w$}", w = dir.width));
                b
            });
            b.set_position((fraction * 1000.0) as u64);
        }
        let running: Vec<usize> = tick.running.iter().map(|r| r.0).collect();
        bars.retain(|index, b| {
            let keep = running.contains(index);
            if !keep {
                b.finish_and_clear();
                multi.remove(b);
            }
            keep
        });
        overall.set_position(position);
        let counts = (tick.running.len(), tick.pending.len(), ended);
        overall.set_message(format!(
            "{} running, {} pending, {} ended of {}",
            counts.0,
            counts.1,
            counts.2,
            indices.len()
        ));
        if !terminal && last_counts != Some(counts) {
            note!(
                "gradrace: job {job}: {} running, {} pending, {} ended of {}",
                counts.0,
                counts.1,
                counts.2,
                indices.len()
            );
        }
        last_counts = Some(counts);
    };
    let followed = slurm::follow(job, dir, poll, stop, &mut observe);
    for b in bars.values() {
        b.finish_and_clear();
    }
    overall.abandon();
    let followed = followed.map_err(SweepError::from)?;
    if followed == Followed::Detached {
        note!(
            "gradrace: stopped following job {job}; it goes on (`squeue -j {job}`): `{} \
             --resume` follows it again, `scancel {job}` cancels it",
            again(sweep, dir)
        );
    }
    Ok(followed)
}

/// Lists the runs of `job` that are not done, with Slurm's word on their task and their log's
/// last lines; returns how many.
fn report_failures(runs: &[Run], dir: &SweepDir, job: u64, indices: &[usize]) -> usize {
    let states = slurm::task_states(job);
    let mut failed = 0;
    for &index in indices {
        let Some(run) = runs.iter().find(|r| r.index == index) else {
            continue;
        };
        let status = dir.status(run);
        if status.is_done() {
            continue;
        }
        failed += 1;
        let why = match &status {
            crate::sweep::RunStatus::Redo(why) => why.clone(),
            _ => "no session".into(),
        };
        let log = slurm::failure_log(dir, job, index, 8);
        let slurm_says = match states.iter().find(|s| s.index == index) {
            Some(s) => {
                let reason = if s.reason.is_empty() || s.reason == "None" {
                    String::new()
                } else {
                    format!(", {}", s.reason)
                };
                format!("{}, exit code {}{reason}", s.state, s.exit_code)
            }
            // A task cancelled while pending leaves no record and no log.
            None if log.is_none() => {
                "never started, and Slurm keeps no record of it (cancelled while pending?)".into()
            }
            None => "Slurm no longer remembers how it ended".into(),
        };
        note!(
            "gradrace: run {index:0w$} (task {job}_{index}) did not finish: {slurm_says}; {why} ({})",
            run.label(),
            w = dir.width
        );
        match log {
            Some((path, lines)) => {
                note!("  last lines of {}:", path.display());
                for l in lines {
                    note!("  | {l}");
                }
            }
            None => note!("  no log: the task never started"),
        }
    }
    failed
}

/// Merges the sweep, writes its files and prints the table (`--collect`, and the end of an
/// execution).
fn finish(
    sweep: &Sweep,
    runs: &[Run],
    dir: &SweepDir,
    format: Format,
    after_execution: bool,
) -> Result<(), CliError> {
    if !dir.root.is_dir() {
        return Err(CliError::BadInput(format!(
            "no runs of sweep \"{}\" in {}: race it with --local or --slurm first",
            sweep.name,
            dir.root.display()
        )));
    }
    let table = collect(sweep, runs, dir);
    let text = with_missing(&table, table.text(), runs.len(), dir.width);
    let markdown = with_missing(&table, table.markdown(), runs.len(), dir.width);
    let csv = table.csv().map_err(SweepError::from)?;
    let runs_csv = table.runs_csv().map_err(SweepError::from)?;
    for (name, body) in [
        ("table.txt", text.as_str()),
        ("table.md", markdown.as_str()),
        ("table.csv", csv.as_str()),
        ("runs.csv", runs_csv.as_str()),
    ] {
        dir.write_file(name, body)?;
    }
    if !table.missing.is_empty() && !after_execution {
        note!(
            "gradrace: {} of {} runs are not done; the table leaves them out",
            table.missing.len(),
            runs.len()
        );
    }
    note!(
        "gradrace: wrote table.txt, table.md, table.csv and runs.csv in {}; `gradrace replay \
         {}` shows one run",
        dir.root.display(),
        dir.root.join(runs[0].file_name(dir.width)).display()
    );
    report(&match format {
        Format::Text => text,
        Format::Markdown => markdown,
        Format::Csv => csv,
    })
}

/// `--replay`: the done runs as one race ([`Sessions::of`]), each labelled by its setting (the
/// values of the varied axes other than the lane and the seed: `training.learning_rate=0.2`),
/// so that a lane is `setting/lane` and the runs of one setting that differ only in their seed
/// are that lane's seeds — bands in the dashboard's charts, mean ± interval in its leaderboard.
fn replay(sweep: &Sweep, runs: &[Run], dir: &SweepDir) -> Result<(), CliError> {
    let setting_axes: Vec<&Axis> = sweep
        .varied_axes()
        .into_iter()
        .filter(|a| a.role == Role::Setting)
        .collect();
    let (mut sessions, mut labels) = (Vec::new(), Vec::new());
    for run in runs {
        if let RunStatus::Done(session) = dir.status(run) {
            let setting: Vec<String> = setting_axes
                .iter()
                .map(|a| match run.value(a) {
                    Some(v) => format!("{}={v}", a.name),
                    None => format!("{}=(base)", a.name),
                })
                .collect();
            labels.push(if setting.is_empty() {
                sweep.name.clone()
            } else {
                setting.join(" ")
            });
            sessions.push(*session);
        }
    }
    if sessions.is_empty() {
        return Err(CliError::BadInput(format!(
            "no run of sweep \"{}\" is done in {}: race it with --local or --slurm first",
            sweep.name,
            dir.root.display()
        )));
    }
    note!(
        "gradrace: {} of {} runs of sweep \"{}\" as one race",
        sessions.len(),
        runs.len(),
        sweep.name
    );
    let sessions = Sessions::of(sessions, &labels);
    if std::io::stdout().is_terminal() {
        crate::tui::run_replay(sessions.merged)?;
        return Ok(());
    }
    report(&super::replay::text_of(&sessions, false))
}

/// `body` with a last line naming the runs left out, if any.
fn with_missing(table: &Table, body: String, runs: usize, width: usize) -> String {
    if table.missing.is_empty() {
        return body;
    }
    let ids: Vec<String> = table
        .missing
        .iter()
        .map(|(i, _)| format!("{i:0width$}"))
        .collect();
    format!(
        "{body}\n(incomplete: {} of {runs} runs not done: {})\n",
        table.missing.len(),
        ids.join(", ")
    )
}

/// `--task N`: races run N of the sweep's plan (a Slurm array task).
fn task(args: &SweepArgs, index: usize, stop: &StopSignal) -> Result<(), CliError> {
    let name = file::name_of(&args.file).map_err(SweepError::from)?;
    let dir = SweepDir::new(&args.out_dir, &name, 0);
    let plan = dir.read_plan()?;
    let dir = SweepDir::new(&args.out_dir, &name, plan.runs.len());
    let Some(planned) = plan.runs.iter().find(|r| r.index == index) else {
        return Err(CliError::BadInput(format!(
            "the plan {} has no run {index} (runs 0 to {})",
            dir.plan_path().display(),
            plan.runs.len().saturating_sub(1)
        )));
    };
    let data = Arc::new(data_for(&planned.experiment)?);
    let total = work(&planned.experiment, data.train.len());
    let progress_path = dir.progress_path(index);
    let _ = std::fs::remove_file(&progress_path);
    let path = dir.root.join(&planned.session);
    note!(
        "gradrace: run {} ({}) of sweep \"{name}\" on {}, saving to {}",
        planned.id,
        planned.label,
        std::env::var("SLURMD_NODENAME").unwrap_or_else(|_| "this machine".into()),
        path.display()
    );
    let mut last = std::time::Instant::now();
    slurm::write_progress(&progress_path, 0, total);
    let mut progress = |done: u64| {
        if last.elapsed() >= Duration::from_millis(500) {
            last = std::time::Instant::now();
            slurm::write_progress(&progress_path, done, total);
        }
    };
    let outcome = execute(
        &planned.experiment,
        &planned.id,
        &path,
        data,
        args.threads.unwrap_or(0),
        args.checkpoint,
        stop,
        &mut progress,
    )?;
    match outcome {
        Outcome::Done { seconds, .. } => {
            slurm::write_progress(&progress_path, total, total);
            note!("gradrace: run {} done in {}", planned.id, human(seconds));
            let board = Session::load(&path)
                .map(|s| crate::report::race_leaderboard(&s.recorder))
                .unwrap_or_default();
            report(&board)
        }
        Outcome::Stopped { step } => {
            note!(
                "gradrace: run {} stopped at step {step}; `gradrace sweep FILE --resume` races it \
                 again",
                planned.id
            );
            Ok(())
        }
    }
}
