//! Sessions: a race saved to disk, to be replayed, shared and resumed.
//!
//! A session is a RON document (`NAME.ron`, see [`format`]) with the experiment, the data set's
//! fingerprint, every lane's metric history and the leaderboard, and optionally a checkpoint: the
//! small state of every lane inline, the parameters and momentum velocities in a binary sidecar
//! (`NAME.ID.ckpt`, see [`sidecar`]) that the document names and verifies (size, CRC-32, id).
//! Replaying needs only the document; resuming needs both.
//!
//! Saving is atomic (see [`atomic`]): the sidecar is written under a temporary name and renamed
//! into place first, then the document; the sidecar's name is new for every save, so at every
//! moment the document on disk names a complete sidecar. A running race is saved by a
//! [`SessionWriter`] that asks the engine for checkpoints between chunks and writes them on its
//! own thread.
//!
//! Nothing is lost: a checkpoint that does not fit is left out and the history saved alone
//! ([`save`]); the document carries a checksum of its text ([`checksum`]) and every history is
//! validated when read, so damage is refused, not shown; one process writes a session at a time
//! ([`lock`]); [`list`] and [`prune`] tell what a directory of sessions holds and clean it up.

pub mod atomic;
pub mod checksum;
pub mod clock;
pub mod column;
pub mod error;
pub mod format;
pub mod list;
pub mod lock;
pub mod prune;
pub mod sidecar;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ron::ser::PrettyConfig;

use crate::config::Experiment;
use crate::engine::checkpoint::LAYERS;
use crate::engine::{LaneCheckpoint, LaneState, RaceCheckpoint};
use crate::file_error::line_col;
use crate::history::Recorder;
use crate::net::GatedNet;
pub use error::SessionError;
use error::{CheckpointError, CheckpointLane, DocumentError, NothingToSave};
use format::{
    BaselineRecord, CheckpointRecord, LaneRecord, LaneStateRecord, LayerShape, SessionFile,
    SessionHeader, SidecarRef,
};
pub use format::{DataFingerprint, FORMAT};
pub use list::{Resumable, SessionEntry, list_sessions};
pub use lock::{LockError, SessionLock};
pub use writer::{
    CheckpointNotSaved, SaveStatus, SavedSession, Saver, SessionWriter, WriterOptions,
};

/// Directory of sessions saved without `--out`.
pub const DEFAULT_DIR: &str = "sessions";

/// What a session records besides the history: the experiment, its data and when it began.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionContext {
    /// The experiment as run (command-line overrides applied).
    pub experiment: Experiment,
    /// The data set it trains on.
    pub data: DataFingerprint,
    /// When the race started (UTC, ISO 8601).
    pub created: String,
}

/// A loaded session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The file it was read from.
    pub path: PathBuf,
    /// Version of the gradrace that wrote it.
    pub gradrace: String,
    /// When it was written.
    pub saved: String,
    /// Experiment, data fingerprint, start time.
    pub context: SessionContext,
    /// Every lane's history, ready for the dashboard or a report.
    pub recorder: Recorder,
    /// The checkpoint's small state and where its tensors are (None: replay only).
    pub checkpoint: Option<CheckpointRecord>,
}

/// `sessions/<experiment>-<UTC time>.ron`, the experiment name reduced to file-name-safe
/// characters.
pub fn default_path(experiment: &str) -> PathBuf {
    let safe: String = experiment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    let safe = if safe.is_empty() { "race" } else { safe };
    Path::new(DEFAULT_DIR).join(format!("{safe}-{}.ron", clock::now_file_stamp()))
}

/// A fresh id pairing a document with its sidecar.
fn new_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let label = format!(
        "session/{}/{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    );
    crate::seed::derive_seed(nanos, &label)
}

/// The sidecar file name for `document` and `id`: `<stem>.<id as 8 hex digits>.ckpt`.
fn sidecar_name(document: &Path, id: u64) -> String {
    let stem = document
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "session".into());
    format!("{stem}.{:08x}.ckpt", id as u32)
}

/// The pretty-printing of session documents: one line per column.
fn pretty() -> PrettyConfig {
    PrettyConfig::new()
        .compact_arrays(true)
        .escape_strings(false)
        .struct_names(false)
}

/// The small state of `lane`.
fn lane_state_record(lane: &LaneCheckpoint) -> LaneStateRecord {
    let s = &lane.state;
    let layers = [
        &s.net.gater_hidden,
        &s.net.gater_gates,
        &s.net.experts,
        &s.net.output,
    ];
    LaneStateRecord {
        name: lane.name.clone(),
        seed: Some(lane.seed),
        steps: s.steps,
        status: lane.status,
        layers: LAYERS
            .iter()
            .zip(layers)
            .map(|(name, l)| LayerShape {
                name: (*name).to_string(),
                inputs: l.inputs(),
                outputs: l.outputs(),
            })
            .collect(),
        velocities: s.velocities.is_some(),
        gater_activation: s.net.gater_activation,
        expert_activation: s.net.expert_activation,
        rng: s.rng.clone(),
        l1: s.l1,
        baseline: s.baseline.as_ref().map(BaselineRecord::from),
        heat_steps: lane.heat_steps,
        unit_fired: column::Column(lane.unit_fired.clone()),
        class_seen: column::Column(lane.class_seen.to_vec()),
        class_fired: column::Column(lane.class_fired.clone()),
    }
}

/// The document for `recorder` (and the checkpoint's small state, when given).
fn document(
    ctx: &SessionContext,
    recorder: &Recorder,
    checkpoint: Option<(SidecarRef, &RaceCheckpoint)>,
) -> Result<SessionFile, NothingToSave> {
    let race = recorder.info.clone().ok_or(NothingToSave)?;
    Ok(SessionFile {
        format: FORMAT,
        gradrace: env!("CARGO_PKG_VERSION").to_string(),
        created: ctx.created.clone(),
        saved: clock::now_iso8601(),
        experiment_name: ctx.experiment.name.clone(),
        data: ctx.data.clone(),
        race,
        finished: recorder.finished,
        events: recorder.events.clone(),
        leaderboard: recorder.summaries(),
        experiment: ctx.experiment.clone(),
        lanes: recorder.lanes.iter().map(LaneRecord::of).collect(),
        checkpoint: checkpoint.map(|(sidecar, c)| CheckpointRecord {
            sidecar,
            lanes: c.lanes.iter().map(lane_state_record).collect(),
        }),
        checksum: Some(checksum::placeholder()),
    })
}

/// Writes the session (and the checkpoint's sidecar, when given) to `path`, atomically: the
/// sidecar first, under a name no other save uses, then the document. Returns what was written.
/// An existing document at `path` is replaced; its sidecar is left alone.
///
/// A checkpoint that cannot be written (a full disk, most often: it is 60 times the size of
/// the history) does not cost the history: the document is then written without a checkpoint,
/// and [`SavedSession::checkpoint_error`] says why. When the document cannot be written either,
/// the save fails and the previous document stays as it was.
pub fn save(
    path: &Path,
    ctx: &SessionContext,
    recorder: &Recorder,
    checkpoint: Option<&RaceCheckpoint>,
) -> Result<SavedSession, SessionError> {
    save_with(path, ctx, recorder, checkpoint, &mut |_, _| Ok(()))
}

/// Injected write failures, for tests of full disks and failing devices: called before every
/// write of a save with the file being written (its final name) and the number of bytes the
/// save will have written once that write is done; an error fails that write as the device
/// would.
#[derive(Clone)]
pub struct WriteHook(pub Arc<WriteFn>);

/// What a [`WriteHook`] calls.
pub type WriteFn = dyn Fn(&Path, u64) -> std::io::Result<()> + Send + Sync;

impl std::fmt::Debug for WriteHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteHook")
    }
}

impl PartialEq for WriteHook {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// [`save`], calling `progress` before every write (see [`WriteHook`]).
fn save_with(
    path: &Path,
    ctx: &SessionContext,
    recorder: &Recorder,
    checkpoint: Option<&RaceCheckpoint>,
    progress: &mut dyn FnMut(&Path, u64) -> std::io::Result<()>,
) -> Result<SavedSession, SessionError> {
    let shown = path.display();
    let mut written = 0u64;
    let mut sidecar_path = None;
    let mut checkpoint_error = None;
    let sidecar = match checkpoint {
        Some(c) => {
            let id = new_id();
            let name = sidecar_name(path, id);
            let target = path.with_file_name(&name);
            let states: Vec<&LaneState> = c.lanes.iter().map(|l| &l.state).collect();
            let bytes = sidecar::value_count(states.iter().copied()) * 4
                + (sidecar::HEADER + sidecar::TRAILER) as u64;
            let mut info = None;
            let wrote = atomic::write_atomically(&target, |w| {
                let mut w = Progress {
                    inner: w,
                    file: &target,
                    written: &mut written,
                    progress,
                };
                info = Some(sidecar::write(&mut w, id, &states)?);
                Ok(())
            })
            .and_then(|()| info.ok_or_else(|| std::io::Error::other("no sidecar written")));
            match wrote {
                Ok(info) => {
                    sidecar_path = Some(target);
                    Some((
                        SidecarRef {
                            file: name,
                            id,
                            values: info.values,
                            bytes: info.bytes,
                            crc32: info.crc32,
                        },
                        c,
                    ))
                }
                Err(e) => {
                    // Degrade, never lose: the history is saved without the checkpoint.
                    checkpoint_error = Some(CheckpointNotSaved {
                        file: target,
                        bytes,
                        kind: e.kind(),
                        reason: e.to_string(),
                    });
                    None
                }
            }
        }
        None => None,
    };
    // What a checkpoint that failed halfway wrote is not on disk any more.
    let before_document = written;
    let kept = if sidecar_path.is_some() { written } else { 0 };
    let result = (|| {
        let doc = document(ctx, recorder, sidecar)
            .map_err(|e| SessionError::write(&shown, e.to_string()))?;
        let body = ron::ser::to_string_pretty(&doc, pretty())
            .map_err(|e| SessionError::write(shown.to_string(), format!("cannot encode: {e}")))?;
        let mut text = format!(
            "// gradrace session: `gradrace replay {0}` shows it, `gradrace resume {0}` continues it\n{1}{body}\n",
            path.file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
            format::DOCUMENT
        );
        checksum::seal(&mut text);
        atomic::write_atomically(path, |w| {
            let mut w = Progress {
                inner: w,
                file: path,
                written: &mut written,
                progress,
            };
            w.write_all(text.as_bytes())
        })
        .map_err(|e| {
            let also = match &checkpoint_error {
                Some(c) => format!(
                    " (nor could its checkpoint {}: {})",
                    c.file.display(),
                    c.reason
                ),
                None => String::new(),
            };
            SessionError::write(shown.to_string(), format!("{}{also}", describe_io(&e)))
        })?;
        Ok(SavedSession {
            path: path.to_path_buf(),
            sidecar: sidecar_path.clone(),
            step: recorder.step(),
            bytes: kept + (written - before_document),
            checkpoint_error: checkpoint_error.clone(),
        })
    })();
    if result.is_err() {
        // The document was not replaced: its new sidecar is named by nothing.
        if let Some(p) = &sidecar_path {
            let _ = std::fs::remove_file(p);
        }
    }
    result
}

/// An I/O error in words that say what to do about it where the error alone does not.
pub fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::StorageFull | K::QuotaExceeded => format!("the device is full ({e})"),
        K::ReadOnlyFilesystem => format!("the file system is read-only ({e})"),
        K::PermissionDenied => format!("permission denied ({e})"),
        K::NotADirectory => format!("a part of the path is not a directory ({e})"),
        _ => e.to_string(),
    }
}

use std::io::Write;

/// A writer reporting its progress (and obeying an injected failure in tests).
struct Progress<'a, 'b> {
    inner: &'a mut dyn Write,
    file: &'b Path,
    written: &'b mut u64,
    progress: &'b mut dyn FnMut(&Path, u64) -> std::io::Result<()>,
}

impl Write for Progress<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        (self.progress)(self.file, *self.written + buf.len() as u64)?;
        let n = self.inner.write(buf)?;
        *self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Offset of the first character that is not white space or inside a comment.
fn first_token(text: &str) -> usize {
    let b = text.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            match text[i + 2..].find("*/") {
                Some(end) => i += 2 + end + 2,
                None => return b.len(),
            }
        } else {
            return i;
        }
    }
}

/// How a session document is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Read a document whose checksum does not match its content (a file edited by hand on
    /// purpose). Its histories are validated all the same.
    pub ignore_checksum: bool,
}

impl Session {
    /// Reads the session document at `path`, verifying its checksum (the sidecar is read only by
    /// [`Session::load_checkpoint`]).
    pub fn load(path: &Path) -> Result<Session, SessionError> {
        Session::load_with(path, LoadOptions::default())
    }

    /// Reads the session document at `path` as `options` say.
    pub fn load_with(path: &Path, options: LoadOptions) -> Result<Session, SessionError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| SessionError::bad(&shown, format!("cannot read the session: {e}")))?;
        Session::parse_with(&bytes, path, options)
    }

    /// Parses session document `bytes`, `path` naming it in errors and locating its sidecar,
    /// verifying its checksum.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Session, SessionError> {
        Session::parse_with(bytes, path, LoadOptions::default())
    }

    /// Parses session document `bytes` as `options` say. Errors are positioned where the
    /// position is known: syntax, types and each history's consistency while parsing; then the
    /// checksum (at its field); then the checks across parts of the document (naming the part).
    pub fn parse_with(
        bytes: &[u8],
        path: &Path,
        options: LoadOptions,
    ) -> Result<Session, SessionError> {
        let shown = path.display().to_string();
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let good = e.valid_up_to();
            let pos = line_col(std::str::from_utf8(&bytes[..good]).unwrap_or(""), good);
            SessionError::bad(
                &shown,
                format!("not a text file (invalid UTF-8 at byte {good}): not a gradrace session"),
            )
            .at(pos)
        })?;
        let start = first_token(text);
        if !text[start..].starts_with(format::DOCUMENT) {
            let what = if text[start..].is_empty() {
                "the file is empty".to_string()
            } else {
                format!("expected `{}(` here", format::DOCUMENT)
            };
            return Err(
                SessionError::bad(&shown, format!("not a gradrace session: {what}"))
                    .at(line_col(text, start)),
            );
        }
        let verify = !options.ignore_checksum;
        // A damaged document explains a failure better than what the damage looks like.
        let damage = |field: Option<&str>| match checksum::check(text, field) {
            c @ checksum::Check::Mismatch { position, .. } if verify => {
                Some(SessionError::bad(&shown, c.problem().unwrap_or_default()).at(position))
            }
            _ => None,
        };
        let format_at = line_col(
            text,
            text[start..].find("format:").map_or(start, |p| start + p),
        );
        let file = match ron::from_str::<SessionFile>(text) {
            Ok(f) => f,
            Err(e) => {
                // A newer (or unknown) format explains a failure better than its symptom.
                if let Ok(h) = ron::from_str::<SessionHeader>(text)
                    && !(1..=FORMAT).contains(&h.format)
                {
                    return Err(damage(None).unwrap_or_else(|| {
                        version_error(&shown, h.format, &h.gradrace).at(format_at)
                    }));
                }
                let mut message = e.code.to_string();
                if damage(None).is_some() {
                    message += " (and the document's checksum does not match its content: the \
                                file was damaged or edited after it was saved)";
                }
                return Err(
                    SessionError::bad(&shown, message).at((e.span.start.line, e.span.start.col))
                );
            }
        };
        if let Some(e) = damage(file.checksum.as_deref()) {
            return Err(e);
        }
        if !(1..=FORMAT).contains(&file.format) {
            return Err(version_error(&shown, file.format, &file.gradrace).at(format_at));
        }
        migrate::from_current(migrate::to_current(file), path)
            .map_err(|e| SessionError::bad(&shown, e.to_string()))
    }

    /// Reads and verifies the sidecar and returns the full checkpoint.
    pub fn load_checkpoint(&self) -> Result<RaceCheckpoint, SessionError> {
        let shown = self.path.display().to_string();
        let race_seed = self.recorder.info.as_ref().map_or(0, |i| i.seed);
        let Some(c) = &self.checkpoint else {
            return Err(SessionError::bad(
                &shown,
                "the session has no checkpoint (it was saved without one): it can be replayed, \
                 not resumed",
            ));
        };
        let name = &c.sidecar.file;
        if name.is_empty()
            || name.contains(['/', '\\'])
            || name == ".."
            || Path::new(name).file_name().is_none()
        {
            return Err(SessionError::bad(
                &shown,
                format!("checkpoint.sidecar.file {name:?} must be a plain file name"),
            ));
        }
        let sidecar_path = self.path.with_file_name(name);
        let side = sidecar_path.display().to_string();
        let bytes = std::fs::read(&sidecar_path).map_err(|e| {
            SessionError::bad(
                &side,
                format!("cannot read the checkpoint file named by {shown}: {e}"),
            )
        })?;
        let expected = sidecar::Written {
            values: c.sidecar.values,
            bytes: c.sidecar.bytes,
            crc32: c.sidecar.crc32,
        };
        let values = sidecar::verify(&bytes, c.sidecar.id, &expected)
            .map_err(|e| SessionError::bad(&side, e.to_string()))?;
        let layouts: Vec<sidecar::Layout> = c
            .lanes
            .iter()
            .map(|l| {
                let s: Vec<(usize, usize)> =
                    l.layers.iter().map(|s| (s.inputs, s.outputs)).collect();
                sidecar::Layout {
                    shapes: s.try_into().unwrap_or([(0, 0); 4]),
                    velocities: l.velocities,
                }
            })
            .collect();
        let tensors = sidecar::split(values, &layouts)
            .map_err(|e| SessionError::bad(&side, e.to_string()))?;
        let lanes = c
            .lanes
            .iter()
            .zip(tensors)
            .map(|(l, ([gh, gg, ex, out], velocities))| {
                let class_seen = l.class_seen.0.clone().try_into().map_err(|_| {
                    let (lane, values) = (l.name.clone(), l.class_seen.0.len());
                    let expected = crate::data::CLASSES;
                    CheckpointError::ClassSeen {
                        lane,
                        values,
                        expected,
                    }
                })?;
                Ok(LaneCheckpoint {
                    name: l.name.clone(),
                    seed: l.seed.unwrap_or(race_seed),
                    state: LaneState {
                        net: GatedNet {
                            gater_hidden: gh,
                            gater_gates: gg,
                            experts: ex,
                            output: out,
                            gater_activation: l.gater_activation,
                            expert_activation: l.expert_activation,
                        },
                        velocities,
                        baseline: l.baseline.clone().map(Into::into),
                        l1: l.l1,
                        rng: l.rng.clone(),
                        steps: l.steps,
                    },
                    status: l.status,
                    unit_fired: l.unit_fired.0.clone(),
                    heat_steps: l.heat_steps,
                    class_fired: l.class_fired.0.clone(),
                    class_seen,
                })
            })
            .collect::<Result<Vec<_>, CheckpointError>>()
            .map_err(|e| SessionError::bad(&shown, e.to_string()))?;
        Ok(RaceCheckpoint { lanes })
    }

    /// The sidecar file this session names, if any.
    pub fn sidecar_path(&self) -> Option<PathBuf> {
        self.checkpoint
            .as_ref()
            .map(|c| self.path.with_file_name(&c.sidecar.file))
    }
}

fn version_error(file: &str, format: u32, by: &str) -> SessionError {
    let by = if by.is_empty() {
        String::new()
    } else {
        format!(" by gradrace {by}")
    };
    if format > FORMAT {
        SessionError::bad(
            file,
            format!(
                "session format {format} (written{by}) is newer than this gradrace ({}) reads \
                 (up to format {FORMAT}): update gradrace",
                env!("CARGO_PKG_VERSION")
            ),
        )
    } else {
        SessionError::bad(
            file,
            format!(
                "unknown session format {format} (written{by}); this gradrace reads formats 1 to {FORMAT}"
            ),
        )
    }
}

/// Conversions from every format version to the in-memory session. When the format changes,
/// the old version's types (or, for a change of meaning only, its conversion) move here, and
/// the golden files in `tests/fixtures/` keep loading.
mod migrate {
    use super::*;
    use crate::net::sparsity::{L1_LAMBDA_MAX, L1_LAMBDA_MIN};

    /// A document of an earlier format in the current one. Format 1 differs only in the
    /// adaptive L1 penalty's λ, saved for a term averaged over the minibatch: converted to the
    /// summed term's λ that gives the same gradient per gate (and clipped to the bounds).
    pub fn to_current(mut file: SessionFile) -> SessionFile {
        if file.format == 1 {
            let batch = file.race.batch_size;
            for l in file.checkpoint.iter_mut().flat_map(|c| c.lanes.iter_mut()) {
                l.l1 = l.l1.map(|l1| l1.from_mean_form(batch));
            }
            file.format = FORMAT;
        }
        file
    }

    /// The session of a current-format document, after the checks across its parts.
    pub fn from_current(file: SessionFile, path: &Path) -> Result<Session, DocumentError> {
        crate::config::validate_experiment(&file.experiment).map_err(DocumentError::Experiment)?;
        let race = &file.race;
        // One history per lane and seed, every lane for the first seed, then the next, ….
        let runs: Vec<(u64, &crate::config::LaneSpec)> = file.experiment.runs().collect();
        if file.lanes.len() != runs.len() {
            return Err(DocumentError::LaneCount {
                histories: file.lanes.len(),
                lanes: runs.len(),
            });
        }
        for (index, (h, (seed, spec))) in file.lanes.iter().zip(&runs).enumerate() {
            if h.info.name != spec.name || h.info.seed_or(race.seed) != *seed {
                return Err(DocumentError::LaneName {
                    index,
                    history: format!("{} (seed {})", h.info.name, h.info.seed_or(race.seed)),
                    expected: format!("{} (seed {seed})", spec.name),
                });
            }
        }
        if race.experts != file.experiment.network.experts
            || race.gater_hidden != file.experiment.network.gater_hidden
            || race.input_dim != file.data.input_dim
        {
            return Err(DocumentError::RaceShape {
                inputs: race.input_dim,
                gater_hidden: race.gater_hidden,
                experts: race.experts,
                data_inputs: file.data.input_dim,
                experiment_gater_hidden: file.experiment.network.gater_hidden,
                experiment_experts: file.experiment.network.experts,
            });
        }
        let mut histories = Vec::with_capacity(file.lanes.len());
        for (index, rec) in file.lanes.into_iter().enumerate() {
            let name = rec.info.name.clone();
            let h = match rec.into_history() {
                Ok(h) => h,
                Err(problem) => {
                    return Err(DocumentError::Lane {
                        index,
                        name,
                        problem,
                    });
                }
            };
            if let Some(r) = h.heat.iter().find(|r| r.rates.len() != race.experts) {
                return Err(DocumentError::HeatWidth {
                    index,
                    name,
                    units: r.rates.len(),
                    experts: race.experts,
                });
            }
            if let Some(c) = &h.class_firing
                && (c.units != race.experts || c.classes != race.classes)
            {
                return Err(DocumentError::ClassFiringShape {
                    index,
                    name,
                    classes: c.classes,
                    units: c.units,
                    race_classes: race.classes,
                    race_experts: race.experts,
                });
            }
            histories.push(h);
        }
        if let Some(c) = &file.checkpoint {
            check_checkpoint(c, &histories, race)?;
        }
        let recorder = Recorder {
            info: Some(file.race),
            lanes: histories,
            paused: false,
            finished: file.finished,
            events: file.events,
        };
        Ok(Session {
            path: path.to_path_buf(),
            gradrace: file.gradrace,
            saved: file.saved,
            context: SessionContext {
                experiment: file.experiment,
                data: file.data,
                created: file.created,
            },
            recorder,
            checkpoint: file.checkpoint,
        })
    }

    fn check_checkpoint(
        c: &CheckpointRecord,
        histories: &[crate::history::LaneHistory],
        race: &crate::engine::RaceInfo,
    ) -> Result<(), CheckpointError> {
        if c.lanes.len() != histories.len() {
            return Err(CheckpointError::LaneCount {
                lanes: c.lanes.len(),
                histories: histories.len(),
            });
        }
        let units = race.experts;
        for (index, (l, h)) in c.lanes.iter().zip(histories).enumerate() {
            let lane = CheckpointLane {
                index,
                name: l.name.clone(),
            };
            if l.name != h.info.name {
                return Err(CheckpointError::LaneName {
                    lane,
                    history: h.info.name.clone(),
                });
            }
            if let Some(l1) = l.l1
                && !(L1_LAMBDA_MIN..=L1_LAMBDA_MAX).contains(&l1.lambda)
            {
                return Err(CheckpointError::L1Lambda {
                    lane,
                    lambda: l1.lambda,
                });
            }
            let names: Vec<&str> = l.layers.iter().map(|s| s.name.as_str()).collect();
            if names != LAYERS {
                return Err(CheckpointError::Layers {
                    lane,
                    names: names.into_iter().map(String::from).collect(),
                });
            }
            // Counters that a resumed race keeps adding to must leave it room (no overflow).
            let limit = u32::MAX / 2;
            let seen = &l.class_seen.0;
            let counters_ok = l.heat_steps <= limit
                && l.unit_fired.0.iter().all(|&c| c <= l.heat_steps)
                && seen.iter().all(|&c| c <= limit)
                && l.class_fired
                    .0
                    .chunks(units.max(1))
                    .zip(seen)
                    .all(|(row, &n)| row.iter().all(|&c| c <= n));
            if !counters_ok {
                return Err(CheckpointError::Counters { lane, limit });
            }
            if l.unit_fired.0.len() != units
                || Some(l.class_fired.0.len()) != units.checked_mul(race.classes)
                || l.class_seen.0.len() != crate::data::CLASSES
            {
                return Err(CheckpointError::CounterLengths {
                    lane,
                    unit_fired: l.unit_fired.0.len(),
                    class_fired: l.class_fired.0.len(),
                    class_seen: l.class_seen.0.len(),
                    units,
                    classes: race.classes,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
