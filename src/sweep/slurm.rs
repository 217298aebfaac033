//! Slurm job arrays: one array task per run, written as a job script, submitted with `sbatch`,
//! followed with `squeue` (fast to poll), the tasks' end states read with `scontrol` (or
//! `sacct` where accounting is on; without it `sacct` only says it is disabled), and the runs'
//! sessions checked as the source of truth. Nothing beyond a stock Slurm is needed: no plugins,
//! no accounting database.
//!
//! Each task runs `gradrace sweep FILE --task $SLURM_ARRAY_TASK_ID --out-dir DIR` with the
//! absolute path of the gradrace that submitted it: it races the run of that index in the
//! sweep's `plan.ron` (written at submission, so that editing the sweep file later does not
//! change what queued tasks race) and saves its session in the sweep's directory, which must be
//! on a file system the compute nodes share.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::directory::SweepDir;
use super::run::StopSignal;

/// What the user asked of Slurm (`--partition`, `--time`, `--cpus-per-task`, `--max-parallel`,
/// `--sbatch-arg`), remembered for `--resume`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (Slurm's formats, e.g. `30:00`, `1-00:00:00`).
    pub time: Option<String>,
    /// `--cpus-per-task` (also the threads of each run).
    pub cpus_per_task: usize,
    /// At most this many tasks at once (the array's `%M`).
    pub max_parallel: Option<usize>,
    /// More `#SBATCH` lines, e.g. `--mem=4G`, `--account=abc`.
    pub sbatch_args: Vec<String>,
    /// Save every run's checkpoint too.
    pub checkpoint: bool,
}

/// The job name of sweep `name`'s arrays.
pub fn job_name(name: &str) -> String {
    format!("gradrace-{name}")
}

/// `indices` (sorted, distinct) as a Slurm array list: `0-5,7,9-11`.
pub fn array_list(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end += 1;
        }
        parts.push(if end == start {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// The indices of a Slurm array list (`0-5,7`, `[9-11%2]`, `4:2`…); None if it is not one.
pub fn parse_array_list(text: &str) -> Option<Vec<usize>> {
    let text = text.trim().trim_start_matches('[').trim_end_matches(']');
    let text = text.split('%').next()?;
    let mut out = Vec::new();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        let (range, step) = match part.split_once(':') {
            Some((r, s)) => (r, s.parse::<usize>().ok()?.max(1)),
            None => (part, 1),
        };
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?);
                out.extend((a..=b).step_by(step));
            }
            None => out.push(range.parse().ok()?),
        }
    }
    Some(out)
}

/// Single-quotes `s` for the shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// What a job script is made of.
#[derive(Debug, Clone)]
pub struct Script<'a> {
    /// The sweep's name.
    pub sweep: &'a str,
    /// The gradrace binary the tasks run (absolute).
    pub exe: &'a Path,
    /// The sweep file (absolute).
    pub file: &'a Path,
    /// The output directory (absolute; the sweep's directory is `<out_dir>/<sweep>`).
    pub out_dir: &'a Path,
    /// The sweep's directory.
    pub dir: &'a SweepDir,
    /// The runs to race (array indices).
    pub runs: &'a [usize],
    /// The options.
    pub options: &'a SlurmOptions,
}

impl Script<'_> {
    /// The job script's text.
    pub fn text(&self) -> String {
        let o = self.options;
        let logs = self.dir.logs_dir();
        let mut array = array_list(self.runs);
        if let Some(m) = o.max_parallel {
            array += &format!("%{m}");
        }
        let mut s = format!(
            "#!/bin/bash\n\
             # gradrace sweep \"{sweep}\": one array task per run; task N races run N of\n\
             # {plan}\n\
             # and saves its session as run-N.ron beside it. Written by gradrace {version}; submit\n\
             # with `sbatch THIS-FILE`, then\n\
             # `gradrace sweep {file} --out-dir {out_dir} --collect` merges the results.\n\
             # The #SBATCH lines may be edited (the log directory must exist before submitting).\n\
             #SBATCH --job-name={name}\n\
             #SBATCH --array={array}\n\
             #SBATCH --cpus-per-task={cpus}\n\
             #SBATCH --output={out}\n\
             #SBATCH --error={err}\n",
            sweep = self.sweep,
            plan = self.dir.plan_path().display(),
            version = env!("CARGO_PKG_VERSION"),
            file = self.file.display(),
            out_dir = self.out_dir.display(),
            name = job_name(self.sweep),
            cpus = o.cpus_per_task.max(1),
            out = logs.join("%A_%a.out").display(),
            err = logs.join("%A_%a.err").display(),
        );
        if let Some(p) = &o.partition {
            s += &format!("#SBATCH --partition={p}\n");
        }
        if let Some(t) = &o.time {
            s += &format!("#SBATCH --time={t}\n");
        }
        for a in &o.sbatch_args {
            s += &format!("#SBATCH {a}\n");
        }
        s += &format!(
            "\nexec {exe} sweep {file} --task \"$SLURM_ARRAY_TASK_ID\" --out-dir {out} \\\n    \
             --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"{checkpoint}\n",
            exe = quote(&self.exe.display().to_string()),
            file = quote(&self.file.display().to_string()),
            out = quote(&self.out_dir.display().to_string()),
            checkpoint = if o.checkpoint { " --checkpoint" } else { "" },
        );
        s
    }
}

/// What can go wrong talking to Slurm.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// The command is not installed.
    #[error(
        "`{program}` not found: Slurm's commands are not installed here (`--emit-only` writes \
         the job script without submitting it)"
    )]
    NotInstalled {
        /// sbatch, squeue, scontrol, sacct.
        program: String,
    },
    /// The command cannot be started.
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        /// The command.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The command ran and failed.
    #[error("`{command}` failed: {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// What it printed on standard error.
        stderr: String,
    },
    /// `sbatch --parsable` printed something else than a job id.
    #[error("sbatch answered {answer:?}, not a job id")]
    NoJobId {
        /// What it printed.
        answer: String,
    },
}

/// Runs a Slurm command; its standard output, or what went wrong.
fn slurm(program: &str, args: &[&str]) -> Result<String, SlurmError> {
    let out = Command::new(program).args(args).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            SlurmError::NotInstalled {
                program: program.to_string(),
            }
        } else {
            SlurmError::Spawn {
                program: program.to_string(),
                source: e,
            }
        }
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(SlurmError::Failed {
            command: format!("{program} {}", args.join(" ")),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Submits the job script at `script`; its job id.
pub fn submit(script: &Path) -> Result<u64, SlurmError> {
    let shown = script.display().to_string();
    let out = slurm("sbatch", &["--parsable", &shown])?;
    let id = out.trim().split(';').next().unwrap_or("");
    id.parse().map_err(|_| SlurmError::NoJobId {
        answer: out.clone(),
    })
}

/// The cluster's `MaxArraySize` (array indices must be below it), when `scontrol` says.
pub fn max_array_size() -> Option<usize> {
    let config = slurm("scontrol", &["show", "config"]).ok()?;
    config.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "MaxArraySize").then(|| v.trim().parse().ok())?
    })
}

/// The jobs still queued or running among `ids` and those named `name` (recorded job ids, and
/// scripts submitted by hand).
pub fn live_jobs(name: &str, ids: &[u64]) -> Vec<u64> {
    let mut live = Vec::new();
    if let Ok(out) = slurm("squeue", &["-h", "-n", name, "-o", "%F"]) {
        live.extend(out.lines().filter_map(|l| l.trim().parse::<u64>().ok()));
    }
    for id in ids {
        if let Ok(out) = slurm("squeue", &["-h", "-j", &id.to_string(), "-o", "%F"])
            && !out.trim().is_empty()
        {
            live.push(*id);
        }
    }
    live.sort_unstable();
    live.dedup();
    live
}

/// One array task as `squeue` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// Its array index.
    pub index: usize,
    /// PENDING, RUNNING, COMPLETING, …
    pub state: String,
}

/// `squeue -h -r -o "%K %T"` output as tasks (pending ranges expanded).
pub fn parse_squeue(text: &str) -> Vec<Queued> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(k), Some(state)) = (parts.next(), parts.next()) else {
            continue;
        };
        for index in parse_array_list(k).unwrap_or_default() {
            out.push(Queued {
                index,
                state: state.to_string(),
            });
        }
    }
    out
}

/// The tasks of job `job` still in the queue (empty once it has left: Slurm then answers
/// "Invalid job id").
pub fn queue(job: u64) -> Result<Vec<Queued>, SlurmError> {
    match slurm(
        "squeue",
        &["-h", "-r", "-j", &job.to_string(), "-o", "%K %T"],
    ) {
        Ok(out) => Ok(parse_squeue(&out)),
        Err(SlurmError::Failed { stderr, .. }) if stderr.contains("Invalid job id") => {
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// How an array task ended, as Slurm remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    /// Its array index.
    pub index: usize,
    /// COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, …
    pub state: String,
    /// `exit code:signal`.
    pub exit_code: String,
    /// Slurm's reason, when it gives one.
    pub reason: String,
}

/// `scontrol -o show job JOB` output (one line per task) as task states.
pub fn parse_scontrol(text: &str) -> Vec<TaskState> {
    let mut out = Vec::new();
    for line in text.lines() {
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|t| t.strip_prefix(key).and_then(|t| t.strip_prefix('=')))
                .unwrap_or("")
                .to_string()
        };
        let Some(indices) = parse_array_list(&field("ArrayTaskId")) else {
            continue;
        };
        for index in indices {
            out.push(TaskState {
                index,
                state: field("JobState"),
                exit_code: field("ExitCode"),
                reason: field("Reason"),
            });
        }
    }
    out
}

/// `sacct -n -P -X -j JOB --format=JobID,State,ExitCode` output as task states (nothing when
/// accounting is disabled).
pub fn parse_sacct(text: &str) -> Vec<TaskState> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split('|');
            let (id, state, exit) = (f.next()?, f.next()?, f.next()?);
            let (_, index) = id.split_once('_')?;
            Some(TaskState {
                index: index.parse().ok()?,
                state: state.split_whitespace().next().unwrap_or("").to_string(),
                exit_code: exit.to_string(),
                reason: String::new(),
            })
        })
        .collect()
}

/// How the tasks of `job` ended: from `scontrol` while it remembers the job (`MinJobAge`,
/// 300 s by default), else from `sacct` where accounting is on; empty when neither knows.
pub fn task_states(job: u64) -> Vec<TaskState> {
    let id = job.to_string();
    let mut states = slurm("scontrol", &["-o", "show", "job", &id])
        .map(|t| parse_scontrol(&t))
        .unwrap_or_default();
    if states.is_empty() {
        let format = "--format=JobID,State,ExitCode";
        states = slurm("sacct", &["-n", "-P", "-X", "-j", &id, format])
            .map(|t| parse_sacct(&t))
            .unwrap_or_default();
    }
    states
}

/// What the follower sees at each look at the queue.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tick {
    /// Tasks waiting.
    pub pending: Vec<usize>,
    /// Tasks running, with their progress (lane-steps done, of) when they have reported it.
    pub running: Vec<(usize, Option<(u64, u64)>)>,
}

/// How following a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    /// The job left the queue: every task ended.
    Ended,
    /// Stopped following (Ctrl-C); the job goes on.
    Detached,
}

/// Reads a running task's progress file: (done, total).
pub fn read_progress(path: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut parts = text.split_whitespace();
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Writes a task's progress file.
pub fn write_progress(path: &Path, done: u64, total: u64) {
    let _ = super::directory::write_text(path, &format!("{done} {total}\n"));
}

/// Follows `job` until it leaves the queue (or `stop`), looking every `poll`, telling
/// `observer` what it sees.
pub fn follow(
    job: u64,
    dir: &SweepDir,
    poll: Duration,
    stop: &StopSignal,
    observer: &mut dyn FnMut(&Tick),
) -> Result<Followed, SlurmError> {
    let mut failures = 0;
    loop {
        if stop.is_stopped() {
            return Ok(Followed::Detached);
        }
        let tasks = match queue(job) {
            Ok(t) => {
                failures = 0;
                t
            }
            // The controller may be busy for a moment; give up after about half a minute.
            Err(e) => {
                failures += 1;
                if failures as f64 * poll.as_secs_f64() > 30.0 {
                    return Err(e);
                }
                std::thread::sleep(poll);
                continue;
            }
        };
        if tasks.is_empty() {
            return Ok(Followed::Ended);
        }
        let mut tick = Tick::default();
        for t in tasks {
            if t.state == "PENDING" {
                tick.pending.push(t.index);
            } else {
                let progress = read_progress(&dir.progress_path(t.index));
                tick.running.push((t.index, progress));
            }
        }
        observer(&tick);
        // Sleep in small steps so that Ctrl-C is answered at once.
        let mut left = poll;
        while !left.is_zero() && !stop.is_stopped() {
            let step = left.min(Duration::from_millis(50));
            std::thread::sleep(step);
            left -= step;
        }
    }
}

/// The last `n` non-empty lines of a task's log, if it has one.
pub fn log_tail(path: &Path, n: usize) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(lines[lines.len().saturating_sub(n)..].to_vec())
}

/// The log that explains a failed task best: its error log, else its output log.
pub fn failure_log(
    dir: &SweepDir,
    job: u64,
    index: usize,
    n: usize,
) -> Option<(PathBuf, Vec<String>)> {
    ["err", "out"].iter().find_map(|kind| {
        let path = dir.log(job, index, kind);
        log_tail(&path, n).map(|lines| (path, lines))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_lists_round_trip() {
        assert_eq!(array_list(&[0, 1, 2, 3, 5, 7, 8]), "0-3,5,7-8");
        assert_eq!(array_list(&[4]), "4");
        assert_eq!(array_list(&[]), "");
        assert_eq!(
            parse_array_list("0-3,5,7-8"),
            Some(vec![0, 1, 2, 3, 5, 7, 8])
        );
        assert_eq!(parse_array_list("[5-7%2]"), Some(vec![5, 6, 7]));
        assert_eq!(parse_array_list("1-7:3"), Some(vec![1, 4, 7]));
        assert_eq!(parse_array_list("N/A"), None);
    }

    #[test]
    fn reads_what_squeue_scontrol_and_sacct_print() {
        let q = parse_squeue("3 RUNNING\n[4-6%2] PENDING\nN/A RUNNING\n");
        assert_eq!(q.len(), 4);
        assert_eq!(
            q[0],
            Queued {
                index: 3,
                state: "RUNNING".into()
            }
        );
        assert_eq!(q[3].index, 6);
        // As SLURM.md shows them, for tasks that ran `exit $SLURM_ARRAY_TASK_ID`.
        let scontrol = "JobId=5 ArrayJobId=4 ArrayTaskId=1 JobName=wrap UserId=root(0) \
                        JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=1:0\n\
                        JobId=4 ArrayJobId=4 ArrayTaskId=0 JobName=wrap JobState=COMPLETED \
                        Reason=None ExitCode=0:0\n";
        let s = parse_scontrol(scontrol);
        assert_eq!(
            s[0],
            TaskState {
                index: 1,
                state: "FAILED".into(),
                exit_code: "1:0".into(),
                reason: "NonZeroExitCode".into()
            }
        );
        assert_eq!((s[1].index, s[1].state.as_str()), (0, "COMPLETED"));
        let sacct = parse_sacct("12_3|CANCELLED by 0|0:15\n12_4|TIMEOUT|0:0\n");
        assert_eq!((sacct[0].index, sacct[0].state.as_str()), (3, "CANCELLED"));
        assert_eq!(sacct[1].state, "TIMEOUT");
        assert!(parse_sacct("Slurm accounting storage is disabled\n").is_empty());
    }

    #[test]
    fn the_script_names_the_array_the_logs_and_the_task_command() {
        let dir = SweepDir::new(Path::new("/shared/sweeps"), "grid", 18);
        let options = SlurmOptions {
            partition: Some("short".into()),
            time: Some("10:00".into()),
            cpus_per_task: 2,
            max_parallel: Some(4),
            sbatch_args: vec!["--mem=2G".into()],
            checkpoint: false,
        };
        let text = Script {
            sweep: "grid",
            exe: Path::new("/opt/it's/gradrace"),
            file: Path::new("/home/me/grid.sweep.ron"),
            out_dir: Path::new("/shared/sweeps"),
            dir: &dir,
            runs: &[0, 1, 2, 7],
            options: &options,
        }
        .text();
        for line in [
            "#SBATCH --job-name=gradrace-grid\n",
            "#SBATCH --array=0-2,7%4\n",
            "#SBATCH --cpus-per-task=2\n",
            "#SBATCH --output=/shared/sweeps/grid/slurm/logs/%A_%a.out\n",
            "#SBATCH --error=/shared/sweeps/grid/slurm/logs/%A_%a.err\n",
            "#SBATCH --partition=short\n#SBATCH --time=10:00\n#SBATCH --mem=2G\n",
            "exec '/opt/it'\\''s/gradrace' sweep '/home/me/grid.sweep.ron' --task \
             \"$SLURM_ARRAY_TASK_ID\" --out-dir '/shared/sweeps' \\\n    --threads \
             \"${SLURM_CPUS_PER_TASK:-1}\"\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert!(text.starts_with("#!/bin/bash\n"));
    }

    /// A failed task is explained by the last lines of its error log, else of its output log
    /// (blank lines skipped); a task with neither (never started) has none.
    #[test]
    fn the_failure_log_is_the_error_logs_tail_else_the_outputs() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SweepDir::new(tmp.path(), "grid", 12);
        std::fs::create_dir_all(dir.logs_dir()).unwrap();
        assert_eq!(failure_log(&dir, 7, 3, 2), None);
        std::fs::write(dir.log(7, 3, "err"), "\n  \n").unwrap();
        std::fs::write(dir.log(7, 3, "out"), "step 10\nstep 20\n\nstep 30\n").unwrap();
        assert_eq!(
            failure_log(&dir, 7, 3, 2),
            Some((
                dir.log(7, 3, "out"),
                vec!["step 20".into(), "step 30".into()]
            ))
        );
        std::fs::write(dir.log(7, 3, "err"), "warning\nerror: no data\n\n").unwrap();
        assert_eq!(
            failure_log(&dir, 7, 3, 8),
            Some((
                dir.log(7, 3, "err"),
                vec!["warning".into(), "error: no data".into()]
            ))
        );
        assert_eq!(failure_log(&dir, 7, 4, 8), None, "another task's log");
    }
}
