//! The command line: clap definitions and the commands they run. Exit codes (see [`Ended`] and
//! [`CliError`]): 0 success, 130 a race stopped with Ctrl-C or `q`, 128 + N after signal N (143
//! after SIGTERM), once saved; 1 a failure at run time, 2 bad input (experiment file, data
//! directory, session file, arguments, a place to save that cannot be used or is in use).

pub mod bench;
pub mod common;
pub mod console;
pub mod dashboard;
pub mod error;
pub mod export;
pub mod headless;
pub mod plot;
pub mod probe;
pub mod race;
pub mod replay;
pub mod resume;
pub mod sessions;
pub mod sweep;
pub mod table;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use error::{CliError, Ended};

/// The exit codes, for `--help` (see [`Ended::exit_code`] and [`CliError::exit_code`]).
macro_rules! exit_status {
    () => {
        "\
Exit status:
  0    finished (a race: every lane done or diverged, and saved)
  130  a race stopped with Ctrl-C or q (or anything stopped by SIGINT), after saving it
  143  stopped by SIGTERM, after saving (128 + N after signal N: 129 after SIGHUP)
  2    bad input: experiment file, data directory, session file, arguments, or a place to
       save that cannot be written or is in use by another gradrace
  1    a failure while running: a save that failed or lacks its checkpoint (this wins over
       130/143: the session is not what was asked for), the output, the engine"
    };
}

const EXIT_STATUS: &str = exit_status!();

const EXAMPLES: &str = concat!(
    "\
Examples:
  gradrace race                                  # experiments/quick.ron on the embedded digits
  gradrace race paper-mnist --epochs 5           # the paper's seven lanes
  gradrace race paper-mnist --data ~/mnist       # ... on a directory with the full MNIST
  gradrace race fashion                          # Fashion-MNIST (apt-get install dataset-fashion-mnist)
  gradrace race quick --lanes straight-through,unbiased --steps 500 --headless
  gradrace race my-experiment.ron --seed 7
  gradrace race paper-mnist --out runs/paper.ron # save the session there (default: sessions/)
  gradrace replay assets/sample-session.ron      # look at a saved race (no data set needed)
  gradrace replay last-week.ron today.ron        # two saved races as one (lanes A/…, B/…)
  gradrace table runs/paper.ron --format latex   # the paper's table over seeds (also markdown, csv)
  gradrace export runs/paper.ron --csv out/      # every recorded series as tidy CSV (or --jsonl)
  gradrace plot runs/paper.ron --out figures/    # the figures as SVG (--format png)
  gradrace resume runs/paper.ron --steps 5000    # continue a saved race exactly where it stopped
  gradrace sessions                              # list the saved sessions in sessions/
  gradrace sessions --prune --keep 5             # delete all but the 5 newest (asks first)
  gradrace experiments                           # list the built-in experiments
  gradrace bench paper-mnist                     # what the gated kernels save on this machine
  gradrace bench quick --quick --json            # a quick measurement as one JSON record
  gradrace probe toy                             # every estimator's bias and variance on the toy
  gradrace probe small                           # ... on a small net (exact gradient by enumeration)
  gradrace probe runs/paper.ron                  # ... on a saved race's network
  gradrace sweep experiments/readme.sweep.ron    # a grid of races: its runs and their cost
  gradrace sweep experiments/readme.sweep.ron --local    # ... raced here, merged into one table
  gradrace sweep experiments/readme.sweep.ron --slurm    # ... as a Slurm job array

",
    exit_status!()
);

/// Race gradient estimators for stochastic neurons side by side (Bengio, Léonard & Courville
/// 2013): one lane per estimator, same network, same data, same seeds.
#[derive(Debug, Parser)]
#[command(name = "gradrace", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do (default: `race` with the default experiment).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train every lane of an experiment side by side and show the race.
    #[command(after_help = EXAMPLES)]
    Race(RaceArgs),
    /// Show a saved session, or several as one race: leaderboard and held-out error over time
    /// (no data set needed).
    #[command(after_help = EXIT_STATUS)]
    Replay(ReplayArgs),
    /// The paper's table over seeds for saved sessions: held-out error (best and last
    /// evaluation), test-time firing and savings, mean ± 95% interval.
    Table(TableArgs),
    /// Export every recorded series of saved sessions as tidy CSV or JSON Lines files.
    Export(ExportArgs),
    /// Draw the figures of saved sessions (SVG or PNG): held-out error, training loss, estimator
    /// variance, compute savings, a lane's firing heatmap.
    Plot(PlotArgs),
    /// Continue a saved race from its checkpoint, exactly as if it had never stopped.
    #[command(after_help = EXIT_STATUS)]
    Resume(ResumeArgs),
    /// List the saved sessions in a directory.
    Sessions(SessionsArgs),
    /// List the built-in experiments.
    Experiments,
    /// Measure what conditional computation saves on this machine (single-threaded).
    Bench(BenchArgs),
    /// Measure every estimator's bias, variance and mean squared error: on the one-gate toy,
    /// a small net with an exact gradient, or a saved race's network.
    Probe(probe::ProbeArgs),
    /// A grid of races (estimators × settings × seeds) from a sweep file: its cost, raced here
    /// or as a Slurm job array, merged into one table.
    Sweep(sweep::SweepArgs),
}

/// Arguments of `gradrace bench`.
#[derive(Debug, Args, Default, Clone)]
pub struct BenchArgs {
    /// An experiment file (RON), or the name of a built-in experiment: its shapes and lanes are
    /// measured.
    #[arg(default_value = "paper-mnist")]
    pub experiment: String,
    /// Directory with the IDX files, replacing the experiment's data set.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Fewer rounds and repetitions: seconds instead of minutes, noisier numbers.
    #[arg(long)]
    pub quick: bool,
    /// Print one JSON record instead of the tables.
    #[arg(long)]
    pub json: bool,
}

/// Seconds between two autosaves unless `--autosave` says otherwise.
pub const DEFAULT_AUTOSAVE_SECS: u64 = 60;

/// How a race is saved (shared by `race` and `resume`).
#[derive(Debug, Args, Clone, PartialEq)]
pub struct SaveArgs {
    /// Save the session to FILE (default for `race`: sessions/<experiment>-<UTC time>.ron; for
    /// `resume`: the file resumed from). The checkpoint goes to FILE's directory as well.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Save every SECS seconds while the race runs (0: only at the end and on request).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_AUTOSAVE_SECS)]
    pub autosave: u64,
    /// Do not save the session at all.
    #[arg(long, conflicts_with_all = ["out", "no_checkpoint"])]
    pub no_save: bool,
    /// Save the history only, without the checkpoint (parameters and optimiser state): smaller,
    /// replayable, not resumable.
    #[arg(long)]
    pub no_checkpoint: bool,
}

impl Default for SaveArgs {
    fn default() -> Self {
        SaveArgs {
            out: None,
            autosave: DEFAULT_AUTOSAVE_SECS,
            no_save: false,
            no_checkpoint: false,
        }
    }
}

/// How saved sessions are read, shared by `replay`, `table`, `export` and `plot`.
#[derive(Debug, Args, Clone, PartialEq, Default)]
pub struct ReadArgs {
    /// Names for the sessions, in order (default A, B, C, …): with several sessions every lane
    /// is shown as LABEL/lane.
    #[arg(long, value_name = "A,B,..", value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Read a session even though its checksum does not match its content (a file you edited
    /// on purpose; its histories are still validated).
    #[arg(long)]
    pub ignore_checksum: bool,
}

/// Arguments of `gradrace replay`.
#[derive(Debug, Args, Clone, PartialEq)]
pub struct ReplayArgs {
    /// The session file (.ron); several are shown as one race, each lane prefixed with its
    /// session's label.
    #[arg(required = true, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// How the sessions are read.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Print the leaderboard only.
    #[arg(long)]
    pub summary: bool,
    /// Print the text replay instead of opening the dashboard (the default when stdout is not a
    /// terminal).
    #[arg(long)]
    pub text: bool,
}

/// How `gradrace table` writes the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum TableFormat {
    /// Aligned text.
    #[default]
    Text,
    /// A Markdown pipe table.
    Markdown,
    /// CSV, full precision.
    Csv,
    /// LaTeX with booktabs rules.
    Latex,
}

/// Arguments of `gradrace table`.
#[derive(Debug, Args, Clone, PartialEq)]
pub struct TableArgs {
    /// Session files (.ron); lanes of several sessions are rows of one table.
    #[arg(required = true, num_args = 1.., value_name = "SESSION")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TableFormat::Text)]
    pub format: TableFormat,
    /// Write the table to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE when it exists (never one of the sessions read).
    #[arg(long, requires = "out")]
    pub force: bool,
    /// How the sessions are read.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Arguments of `gradrace export`.
#[derive(Debug, Args, Clone, PartialEq)]
pub struct ExportArgs {
    /// Session files (.ron).
    #[arg(required = true, num_args = 1.., value_name = "SESSION")]
    pub files: Vec<PathBuf>,
    /// Write CSV files into DIR.
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "jsonl",
        conflicts_with = "jsonl"
    )]
    pub csv: Option<PathBuf>,
    /// Write JSON Lines files into DIR.
    #[arg(long, value_name = "DIR")]
    pub jsonl: Option<PathBuf>,
    /// Write into a directory that is not empty, replacing files of the same names.
    #[arg(long)]
    pub force: bool,
    /// How the sessions are read.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Figure file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum FigureFormat {
    /// SVG (vector; text drawn by the viewer's sans-serif font).
    #[default]
    Svg,
    /// PNG at 3× (1440 pixels wide), text in the embedded DejaVu Sans.
    Png,
}

/// Arguments of `gradrace plot`.
#[derive(Debug, Args, Clone, PartialEq)]
pub struct PlotArgs {
    /// Session files (.ron); several are drawn as one race.
    #[arg(required = true, num_args = 1.., value_name = "SESSION")]
    pub files: Vec<PathBuf>,
    /// Directory to write the figures into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// File format.
    #[arg(long, value_enum, default_value_t = FigureFormat::Svg)]
    pub format: FigureFormat,
    /// The lane of the firing heatmap (default: the reference lane, else the first gated lane;
    /// with several sessions, LABEL/lane).
    #[arg(long, value_name = "NAME")]
    pub lane: Option<String>,
    /// Write into a directory that is not empty, replacing files of the same names.
    #[arg(long)]
    pub force: bool,
    /// How the sessions are read.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Arguments of `gradrace resume`.
#[derive(Debug, Args, Clone, PartialEq)]
pub struct ResumeArgs {
    /// The session file (.ron) with a checkpoint.
    pub file: PathBuf,
    /// Train this many more steps (the race's planned length becomes the checkpoint's step plus
    /// N); without it, the race continues to its planned length.
    #[arg(long, value_name = "N")]
    pub steps: Option<u64>,
    /// Directory with the data set, when it moved (its content must be the one the race trained
    /// on).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Resume the session even though its checksum does not match its content (a file you
    /// edited on purpose; its histories are still validated).
    #[arg(long)]
    pub ignore_checksum: bool,
    /// How the race runs.
    #[command(flatten)]
    pub run: RunArgs,
    /// Where and how to save.
    #[command(flatten)]
    pub save: SaveArgs,
}

/// Arguments of `gradrace sessions`.
#[derive(Debug, Args, Clone, PartialEq)]
pub struct SessionsArgs {
    /// Directory to list.
    #[arg(default_value = crate::session::DEFAULT_DIR)]
    pub dir: PathBuf,
    /// Delete sessions (each with its checkpoint) chosen by --keep and/or --older-than, and the
    /// stray files interrupted saves leave (temporary files, checkpoints no session names);
    /// with neither option, only the stray files. Asks first; sessions being written are left
    /// alone.
    #[arg(long)]
    pub prune: bool,
    /// With --prune: keep the N most recently saved sessions.
    #[arg(long, value_name = "N", requires = "prune")]
    pub keep: Option<usize>,
    /// With --prune: delete only sessions last saved longer ago than AGE (a number and a unit:
    /// 30m, 12h, 7d, 2w).
    #[arg(long, value_name = "AGE", requires = "prune", value_parser = sessions::parse_age)]
    pub older_than: Option<std::time::Duration>,
    /// With --prune: delete without asking.
    #[arg(long, short = 'y', requires = "prune")]
    pub yes: bool,
}

/// How a race runs, for `gradrace race` and `gradrace resume`.
#[derive(Debug, Args, Default, Clone, PartialEq)]
pub struct RunArgs {
    /// Progress bars and a final leaderboard instead of the dashboard (the default when stdout is
    /// not a terminal).
    #[arg(long)]
    pub headless: bool,
    /// Worker threads for the lanes (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

/// Arguments of `gradrace race`.
#[derive(Debug, Args, Default, Clone)]
pub struct RaceArgs {
    /// An experiment file (RON), or the name of a built-in experiment: quick, paper-mnist,
    /// fashion.
    #[arg(default_value = "quick")]
    pub experiment: String,
    /// Directory with the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte,
    /// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), replacing the experiment's data set.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Seed of every random stream (replaces the experiment's; with several seeds, the first).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Run every lane with N seeds: the seed, seed + 1, …, seed + N − 1 (replaces the
    /// experiment's seeds).
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,
    /// Train this many minibatch steps.
    #[arg(long, value_name = "N", conflicts_with = "epochs")]
    pub steps: Option<u64>,
    /// Train this many passes over the training set.
    #[arg(long, value_name = "N")]
    pub epochs: Option<u64>,
    /// Only these lanes (comma-separated names from the experiment).
    #[arg(long, value_name = "A,B,..", value_delimiter = ',')]
    pub lanes: Option<Vec<String>>,
    /// How the race runs.
    #[command(flatten)]
    pub run: RunArgs,
    /// Where and how to save.
    #[command(flatten)]
    pub save: SaveArgs,
}

/// Runs the parsed command line; says how it ended (see [`Ended::exit_code`]).
pub fn run(cli: Cli) -> Result<Ended, CliError> {
    let done = |r: Result<(), CliError>| r.map(|()| Ended::Completed);
    match cli.command {
        None => race::run(&RaceArgs {
            experiment: crate::config::builtin::DEFAULT.into(),
            ..RaceArgs::default()
        }),
        Some(Command::Race(args)) => race::run(&args),
        Some(Command::Replay(args)) => replay::run(&args),
        Some(Command::Table(args)) => done(table::run(&args)),
        Some(Command::Export(args)) => done(export::run(&args)),
        Some(Command::Plot(args)) => done(plot::run(&args)),
        Some(Command::Resume(args)) => resume::run(&args),
        Some(Command::Sessions(args)) => done(sessions::run(&args)),
        Some(Command::Bench(args)) => done(bench::run(&args)),
        Some(Command::Probe(args)) => done(probe::run(&args)),
        Some(Command::Sweep(args)) => sweep::run(&args),
        Some(Command::Experiments) => {
            let mut list = String::new();
            for (name, text) in crate::config::builtin::BUILTIN {
                let description = crate::config::parse_experiment(text, name)
                    .map(|e| e.description)
                    .unwrap_or_default();
                list += &format!("{name:12} {description}\n");
            }
            done(console::report(&list))
        }
    }
}
