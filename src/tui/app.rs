//! The dashboard's state, all in one place: the recorder, the mode (live race or replay), the
//! focused lane and every view option. Keys become [`Action`]s (see `keys`), and
//! [`App::act`] turns an action into a state change plus, where the outside world must do
//! something, an [`Effect`]. Nothing here draws or talks to the terminal.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossterm::event::{MouseButton, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::heatgrid::HeatCache;
use super::keys::Action;
use super::layout::{self, Panel};
use super::panels::{header, heatmap, leaderboard, legend, tabs};
use super::seeds::SeedView;
use super::timeline::Timeline;
use super::xaxis::XAxis;
use crate::engine::{Control, EngineEvent};
use crate::history::{FIRING_WINDOW, RaceView, Recorder};

/// Pace limits offered by `+` / `-`, in steps per second (above the last: no limit).
pub const PACES: [f64; 12] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
];

/// How long a notice stays in the status line.
pub const NOTICE_FOR: Duration = Duration::from_secs(8);

/// Two digits typed within this long of each other name one lane (1 then 2: lane 12).
pub const TWO_DIGITS_WITHIN: Duration = Duration::from_millis(800);

/// What the caller must do after an action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Effect {
    /// Send this command to the engine.
    Engine(Control),
    /// Save the session (through the configured saver).
    Save,
    /// Leave (a live race must be stopped first, see [`Live::stopping`]).
    Quit,
}

/// Steps per second measured over the last few seconds.
#[derive(Debug, Clone, Default)]
pub struct Speedometer {
    samples: VecDeque<(Instant, u64)>,
}

impl Speedometer {
    /// Window over which the speed is measured.
    pub const WINDOW: Duration = Duration::from_secs(5);

    /// Notes that `step` was reached at `now`.
    pub fn record(&mut self, now: Instant, step: u64) {
        if self.samples.back().is_some_and(|&(_, s)| s == step) {
            return;
        }
        self.samples.push_back((now, step));
        while self.samples.len() > 2
            && self
                .samples
                .front()
                .is_some_and(|&(t, _)| now.duration_since(t) > Self::WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// Steps per second between the oldest and newest sample, continued to `now` (so a stalled
    /// or paused race slows down to 0); None until a quarter second has been seen.
    pub fn rate(&self, now: Instant) -> Option<f64> {
        let (&(t0, s0), &(_, s1)) = (self.samples.front()?, self.samples.back()?);
        let dt = now.saturating_duration_since(t0).as_secs_f64();
        (dt >= 0.25).then(|| s1.saturating_sub(s0) as f64 / dt)
    }
}

/// The state of a live race.
#[derive(Debug, Clone)]
pub struct Live {
    /// The pace limit (None: as fast as possible).
    pub pace: Option<f64>,
    /// When the dashboard opened.
    pub started: Instant,
    /// When the engine reported `Finished`.
    pub ended: Option<Instant>,
    /// True once a quit asked the engine to stop.
    pub stopping: bool,
    /// Training speed.
    pub speed: Speedometer,
    /// Per lane: off target at the last look (a change posts a notice).
    pub off_target: Vec<bool>,
    /// Per lane: blowing up at the last look (a change posts a notice).
    pub blowing_up: Vec<bool>,
}

/// Live race or replay.
#[derive(Debug, Clone)]
pub enum Mode {
    /// A race running now.
    Live(Live),
    /// A recorded race, shown up to the timeline's cursor.
    Replay(Timeline),
}

/// Options of the charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LossOptions {
    /// Log-scale y axis of the loss chart.
    pub log: bool,
    /// Debiased EMA smoothing of the loss chart (false: raw points).
    pub smoothed: bool,
    /// Every chart shows only the recent part of the run (false: the whole run).
    pub recent: bool,
}

/// The order of the heatmap's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnitOrder {
    /// By index.
    #[default]
    Index,
    /// By firing rate over the data shown, highest first.
    Rate,
    /// By class selectivity in the latest per-class snapshot, most selective first (see
    /// `heatgrid::selectivity`).
    Selectivity,
}

impl UnitOrder {
    /// The next order of the `u` key.
    pub fn next(self) -> UnitOrder {
        match self {
            UnitOrder::Index => UnitOrder::Rate,
            UnitOrder::Rate => UnitOrder::Selectivity,
            UnitOrder::Selectivity => UnitOrder::Index,
        }
    }

    /// Its name in the heatmap's title.
    pub fn name(self) -> &'static str {
        match self {
            UnitOrder::Index => "index",
            UnitOrder::Rate => "firing rate",
            UnitOrder::Selectivity => "class selectivity",
        }
    }
}

/// Options of the gate heatmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatOptions {
    /// Units × class (false: units × time).
    pub by_class: bool,
    /// The order of the units.
    pub order: UnitOrder,
    /// One unit per row (half a line), scrolled; false: every unit binned into the rows there
    /// are.
    pub full: bool,
    /// With `full`, the position in the order of the first unit shown.
    pub offset: usize,
}

/// Leaderboard columns that can be sorted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    /// Lane order.
    Lane,
    /// Steps taken, most first.
    Step,
    /// Training loss, lowest first.
    Loss,
    /// Held-out error, lowest first.
    Error,
    /// Firing rate, lowest first.
    Firing,
    /// Compute saved, most first.
    Saved,
    /// Examples per second, most first.
    Speed,
}

impl SortColumn {
    /// Cycle order.
    pub const ALL: [SortColumn; 7] = [
        SortColumn::Lane,
        SortColumn::Step,
        SortColumn::Loss,
        SortColumn::Error,
        SortColumn::Firing,
        SortColumn::Saved,
        SortColumn::Speed,
    ];

    /// The next column in the cycle.
    pub fn next(self) -> SortColumn {
        let i = Self::ALL.iter().position(|&c| c == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}

/// The leaderboard's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// The column.
    pub column: SortColumn,
    /// Opposite to the column's natural direction.
    pub reversed: bool,
}

/// A message in the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The text.
    pub text: String,
    /// True for an error.
    pub error: bool,
    /// When it was posted.
    pub at: Instant,
}

/// The dashboard's state.
#[derive(Debug, Clone)]
pub struct App {
    /// The history of the race.
    pub recorder: Recorder,
    /// Live or replay.
    pub mode: Mode,
    /// The focused lane.
    pub focus: usize,
    /// Loss chart options.
    pub loss: LossOptions,
    /// Variance chart shows signal-to-noise instead of variance.
    pub snr: bool,
    /// Heatmap options.
    pub heat: HeatOptions,
    /// Leaderboard order.
    pub sort: Sort,
    /// Help popup open.
    pub help: bool,
    /// The status line's message.
    pub notice: Option<Notice>,
    /// The terminal's size at the last draw.
    pub screen: Rect,
    /// The time the next frame shows.
    pub now: Instant,
    /// The gate heatmap's last grid (drawing caches it; see `heatgrid::HeatCache`).
    pub heat_cache: HeatCache,
    /// Per lane: hidden from the charts.
    pub hidden: Vec<bool>,
    /// The selected panel (`[`, `]`, a click): the one `z` zooms, and on a small screen the one
    /// shown.
    pub panel: Panel,
    /// The selected panel fills the middle of the screen.
    pub zoomed: bool,
    /// What the charts' x axis measures.
    pub x_axis: XAxis,
    /// The first digit of a two-digit lane number and when it was typed.
    pub digit: Option<(usize, Instant)>,
    /// How the charts draw a lane that ran with several seeds.
    pub seeds: SeedView,
    /// The bias–variance panel shows cosines to the reference gradient over training (false:
    /// lanes as points in the bias–noise plane).
    pub cosine: bool,
}

impl App {
    fn with_mode(recorder: Recorder, mode: Mode, now: Instant) -> Self {
        App {
            recorder,
            mode,
            focus: 0,
            loss: LossOptions {
                log: false,
                smoothed: true,
                recent: false,
            },
            snr: false,
            heat: HeatOptions {
                by_class: false,
                order: UnitOrder::Index,
                full: false,
                offset: 0,
            },
            sort: Sort {
                column: SortColumn::Error,
                reversed: false,
            },
            help: false,
            notice: None,
            screen: Rect::default(),
            now,
            heat_cache: HeatCache::default(),
            hidden: Vec::new(),
            panel: Panel::Loss,
            zoomed: false,
            x_axis: XAxis::Steps,
            digit: None,
            seeds: SeedView::Band,
            cosine: false,
        }
    }

    /// The state of a live race that is about to start.
    pub fn live(now: Instant) -> Self {
        Self::with_mode(
            Recorder::new(),
            Mode::Live(Live {
                pace: None,
                started: now,
                ended: None,
                stopping: false,
                speed: Speedometer::default(),
                off_target: Vec::new(),
                blowing_up: Vec::new(),
            }),
            now,
        )
    }

    /// The state of a replay of `recorder`, with the cursor at its last step.
    pub fn replay(recorder: Recorder, now: Instant) -> Self {
        let end = recorder.step();
        Self::with_mode(recorder, Mode::Replay(Timeline::new(end)), now)
    }

    /// True in replay mode.
    pub fn is_replay(&self) -> bool {
        matches!(self.mode, Mode::Replay(_))
    }

    /// The live state (None in a replay).
    pub fn live_state(&self) -> Option<&Live> {
        match &self.mode {
            Mode::Live(l) => Some(l),
            Mode::Replay(_) => None,
        }
    }

    /// The timeline (None live).
    pub fn timeline(&self) -> Option<&Timeline> {
        match &self.mode {
            Mode::Replay(t) => Some(t),
            Mode::Live(_) => None,
        }
    }

    /// The last step shown: the replay cursor, or everything live.
    pub fn until(&self) -> u64 {
        self.timeline().map_or(u64::MAX, Timeline::cursor)
    }

    /// The race as shown now.
    pub fn view(&self) -> RaceView<'_> {
        self.recorder.view_until(self.until())
    }

    /// The lanes as the dashboard shows them: each lane's runs (indices into the recorder's
    /// lanes), one per seed (see [`super::seeds`]).
    pub fn lanes(&self) -> Vec<Vec<usize>> {
        self.recorder.lanes_by_name()
    }

    /// Number of lanes (a lane run with several seeds counts once).
    pub fn lane_count(&self) -> usize {
        self.lanes().len()
    }

    /// The runs of lane `i` (empty when there is no such lane).
    pub fn runs(&self, i: usize) -> Vec<usize> {
        self.lanes().into_iter().nth(i).unwrap_or_default()
    }

    /// The name of lane `i` ("" when there is no such lane).
    pub fn lane_name(&self, i: usize) -> String {
        self.runs(i)
            .first()
            .map_or_else(String::new, |&r| self.recorder.lanes[r].info.name.clone())
    }

    /// The most seeds any lane runs with (1 for a race of one seed, 0 with no lane).
    pub fn seed_count(&self) -> usize {
        self.lanes().iter().map(Vec::len).max().unwrap_or(0)
    }

    /// A run's name in a notice: the lane's, with its seed when the race has several.
    fn run_name(&self, run: usize) -> String {
        let Some(h) = self.recorder.lanes.get(run) else {
            return String::new();
        };
        if self.seed_count() > 1 {
            let race_seed = self.recorder.info.as_ref().map_or(0, |i| i.seed);
            format!("{} (seed {})", h.info.name, h.info.seed_or(race_seed))
        } else {
            h.info.name.clone()
        }
    }

    /// The focused lane, clamped to the lanes there are.
    pub fn focused(&self) -> usize {
        self.focus.min(self.lane_count().saturating_sub(1))
    }

    /// Whether lane `i` is drawn in the charts.
    pub fn is_visible(&self, i: usize) -> bool {
        !self.hidden.get(i).copied().unwrap_or(false)
    }

    /// Lanes drawn in the charts.
    pub fn visible_count(&self) -> usize {
        (0..self.lane_count())
            .filter(|&i| self.is_visible(i))
            .count()
    }

    /// Hides lane `i` from the charts, or shows it again.
    pub fn toggle_lane(&mut self, i: usize) {
        if i >= self.lane_count() {
            return;
        }
        self.hidden.resize(self.lane_count(), false);
        self.hidden[i] = !self.hidden[i];
    }

    /// Shows lane `i` alone; when it is already alone, shows every lane again.
    pub fn solo(&mut self, i: usize) {
        let n = self.lane_count();
        if i >= n {
            return;
        }
        let alone = self.visible_count() == 1 && self.is_visible(i);
        self.hidden = (0..n).map(|j| !alone && j != i).collect();
    }

    /// Shows every lane.
    pub fn show_all(&mut self) {
        self.hidden.clear();
    }

    /// A digit key: lanes 1–9, 0 for lane 10, and two digits typed quickly for lanes 11 and up
    /// (1 then 1: lane 11); a first digit that could start a lane number waits
    /// [`TWO_DIGITS_WITHIN`] for a second.
    fn digit(&mut self, d: usize) {
        let lanes = self.lane_count();
        if let Some((first, at)) = self.digit.take()
            && self.now.saturating_duration_since(at) < TWO_DIGITS_WITHIN
        {
            let n = first * 10 + d;
            if (10..=lanes).contains(&n) {
                self.focus = n - 1;
                return;
            }
        }
        let n = if d == 0 { 10 } else { d };
        if n <= lanes {
            self.focus = n - 1;
        } else {
            self.notify(format!("there is no lane {n}"), true);
        }
        if d > 0 && d * 10 <= lanes {
            self.digit = Some((d, self.now));
        }
    }

    /// Scrolls the heatmap's units by `pages` screens (negative: up), in one-unit-per-row mode.
    fn scroll_units(&mut self, pages: f64) {
        if !self.heat.full {
            self.notify(
                "the heatmap shows every unit: r shows one unit per row",
                false,
            );
            return;
        }
        let rows = layout::areas(self.screen, self)
            .and_then(|a| a.get(Panel::Gates))
            .map_or(20, heatmap::unit_rows);
        let units = self.recorder.info.as_ref().map_or(0, |i| i.experts);
        let step = ((rows as f64 * pages.abs()).round() as usize).max(1);
        self.heat.offset = if pages < 0.0 {
            self.heat.offset.saturating_sub(step)
        } else {
            (self.heat.offset + step).min(units.saturating_sub(rows))
        };
    }

    /// Posts a message in the status line.
    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notice = Some(Notice {
            text: text.into(),
            error,
            at: self.now,
        });
    }

    /// The message to show now (None once it is old).
    pub fn current_notice(&self) -> Option<&Notice> {
        self.notice
            .as_ref()
            .filter(|n| self.now.saturating_duration_since(n.at) < NOTICE_FOR)
    }

    /// Folds one engine event into the state.
    pub fn apply(&mut self, event: EngineEvent) {
        let finished = event == EngineEvent::Finished;
        let stepped = match &event {
            EngineEvent::Steps { lane, .. } => Some(*lane),
            _ => None,
        };
        self.recorder.apply(event);
        if let Some(lane) = stepped {
            self.watch_firing(lane);
            self.watch_loss(lane);
        }
        let (now, step) = (self.now, self.recorder.step());
        if let Mode::Live(live) = &mut self.mode {
            live.speed.record(now, step);
            if finished && live.ended.is_none() {
                live.ended = Some(now);
                if !live.stopping {
                    self.notify("the race has finished — q quits", false);
                }
            }
        }
    }

    /// Live: posts a notice when lane `lane` starts or stops blowing up.
    fn watch_loss(&mut self, lane: usize) {
        let (Mode::Live(live), Some(h)) = (&mut self.mode, self.recorder.lanes.get(lane)) else {
            return;
        };
        let span = h.view_until(u64::MAX).blow_ups().last().copied();
        let now = span.is_some_and(|s| s.until.is_none());
        if live.blowing_up.len() <= lane {
            live.blowing_up.resize(lane + 1, false);
        }
        if live.blowing_up[lane] == now {
            return;
        }
        live.blowing_up[lane] = now;
        let name = self.run_name(lane);
        match span {
            Some(s) if now => self.notify(
                format!(
                    "{name} is blowing up: training loss {} since step {}, {:.0}× its start",
                    crate::tui::plot::compact(f64::from(s.worst)),
                    s.from,
                    s.worst / s.start
                ),
                true,
            ),
            Some(s) => self.notify(
                format!(
                    "{name}'s loss came back down at step {}",
                    s.until.unwrap_or(s.from)
                ),
                false,
            ),
            None => {}
        }
    }

    /// Live: posts a notice when lane `lane` goes off target or comes back.
    fn watch_firing(&mut self, lane: usize) {
        let (Mode::Live(live), Some(h)) = (&mut self.mode, self.recorder.lanes.get(lane)) else {
            return;
        };
        let span = h.view_until(u64::MAX).off_target().last().copied();
        let off = span.is_some_and(|s| s.until.is_none());
        if live.off_target.len() <= lane {
            live.off_target.resize(lane + 1, false);
        }
        if std::mem::replace(&mut live.off_target[lane], off) == off {
            return;
        }
        let target = 100.0 * h.info.settings.sparsity_target;
        let name = self.run_name(lane);
        let text = match span {
            Some(s) if off => format!(
                "{name} is off target: firing {:.1}% over the last {FIRING_WINDOW} steps, target {target:.0}%",
                100.0 * s.worst
            ),
            _ => format!("{name} is back on target ({target:.0}% firing)"),
        };
        self.notify(text, false);
    }

    /// Moves the clock to `now`; a playing replay advances. Returns true when what is shown
    /// changed: the replay cursor moved, the live clock passed a whole second, or a notice
    /// expired. (Engine events mark the screen changed by themselves.)
    pub fn tick(&mut self, now: Instant) -> bool {
        let before = self.now;
        let elapsed = now.saturating_duration_since(before);
        self.now = now;
        let expired = self.notice.as_ref().is_some_and(|n| {
            before.saturating_duration_since(n.at) < NOTICE_FOR
                && now.saturating_duration_since(n.at) >= NOTICE_FOR
        });
        let moved = match &mut self.mode {
            Mode::Replay(t) => t.advance(elapsed),
            Mode::Live(l) => {
                let secs = |t: Instant| t.saturating_duration_since(l.started).as_secs();
                l.ended.is_none() && secs(before) != secs(now)
            }
        };
        moved || expired
    }

    /// The pace after one `+` (`up`) or `-`: along [`PACES`], with "no limit" above the top;
    /// the first `-` from no limit picks the fastest limit below the measured speed.
    pub fn next_pace(current: Option<f64>, measured: Option<f64>, up: bool) -> Option<f64> {
        match (current, up) {
            (None, true) => None,
            (None, false) => {
                let below = measured.unwrap_or(f64::INFINITY);
                Some(
                    PACES
                        .iter()
                        .copied()
                        .rev()
                        .find(|&p| p < below)
                        .unwrap_or(PACES[0]),
                )
            }
            (Some(p), true) => PACES.iter().copied().find(|&q| q > p),
            (Some(p), false) => Some(
                PACES
                    .iter()
                    .copied()
                    .rev()
                    .find(|&q| q < p)
                    .unwrap_or(PACES[0]),
            ),
        }
    }

    /// Carries out `action`; returns what the caller must do, if anything.
    pub fn act(&mut self, action: Action) -> Option<Effect> {
        let lanes = self.lane_count();
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::Help => self.help = !self.help,
            Action::CloseHelp => self.help = false,
            Action::FocusNext if lanes > 0 => self.focus = (self.focused() + 1) % lanes,
            Action::FocusPrevious if lanes > 0 => {
                self.focus = (self.focused() + lanes - 1) % lanes;
            }
            Action::FocusDigit(d) => self.digit(d),
            Action::FocusNext | Action::FocusPrevious => {}
            Action::HideLane => self.toggle_lane(self.focused()),
            Action::SoloLane => self.solo(self.focused()),
            Action::ShowAll => self.show_all(),
            Action::NextPanel => self.panel = self.panel.next(),
            Action::PreviousPanel => self.panel = self.panel.previous(),
            Action::Zoom => self.zoomed = !self.zoomed,
            Action::XAxis => {
                self.x_axis = self.x_axis.next();
                self.notify(format!("x axis: {}", self.x_axis.name()), false);
            }
            Action::LogScale => self.loss.log = !self.loss.log,
            Action::Smoothing => self.loss.smoothed = !self.loss.smoothed,
            Action::Window => self.loss.recent = !self.loss.recent,
            Action::VarianceMode => self.snr = !self.snr,
            Action::BiasView => self.cosine = !self.cosine,
            Action::SeedView => {
                self.seeds = self.seeds.next();
                if self.seed_count() > 1 {
                    self.notify(format!("charts over seeds: {}", self.seeds.name()), false);
                } else {
                    self.notify(
                        "one seed: every lane is one run (e matters with --seeds)",
                        false,
                    );
                }
            }
            Action::HeatMode => self.heat.by_class = !self.heat.by_class,
            Action::UnitOrder => {
                self.heat.order = self.heat.order.next();
                self.heat.offset = 0;
            }
            Action::HeatResolution => {
                self.heat.full = !self.heat.full;
                self.heat.offset = 0;
            }
            Action::ScrollUnitsDown => self.scroll_units(0.5),
            Action::ScrollUnitsUp => self.scroll_units(-0.5),
            Action::SortNext => {
                self.sort = Sort {
                    column: self.sort.column.next(),
                    reversed: false,
                };
            }
            Action::SortReverse => self.sort.reversed = !self.sort.reversed,
            Action::Save => return Some(Effect::Save),
            Action::TogglePause | Action::StepOnce | Action::PaceUp | Action::PaceDown => {
                return self.live_action(action);
            }
            Action::PlayPause
            | Action::SeekBack
            | Action::SeekForward
            | Action::SeekBackFar
            | Action::SeekForwardFar
            | Action::SeekStart
            | Action::SeekEnd
            | Action::Faster
            | Action::Slower => self.replay_action(action),
        }
        None
    }

    fn live_action(&mut self, action: Action) -> Option<Effect> {
        let paused = self.recorder.paused;
        let over = self.recorder.finished;
        let now = self.now;
        let Mode::Live(live) = &mut self.mode else {
            return None;
        };
        if over || live.stopping {
            self.notify("the race has finished", false);
            return None;
        }
        let command = match action {
            Action::TogglePause if paused => Control::Resume,
            Action::TogglePause => Control::Pause,
            Action::StepOnce => Control::Step,
            Action::PaceUp | Action::PaceDown => {
                let pace =
                    Self::next_pace(live.pace, live.speed.rate(now), action == Action::PaceUp);
                live.pace = pace;
                Control::SetPace(pace)
            }
            _ => return None,
        };
        Some(Effect::Engine(command))
    }

    fn replay_action(&mut self, action: Action) {
        let Mode::Replay(t) = &mut self.mode else {
            return;
        };
        match action {
            Action::PlayPause => t.toggle(),
            Action::SeekBack => t.seek_by(-0.01),
            Action::SeekForward => t.seek_by(0.01),
            Action::SeekBackFar => t.seek_by(-0.10),
            Action::SeekForwardFar => t.seek_by(0.10),
            Action::SeekStart => t.seek_to(0),
            Action::SeekEnd => t.seek_to(u64::MAX),
            Action::Faster => t.faster(),
            Action::Slower => t.slower(),
            _ => {}
        }
    }

    /// A mouse event at a terminal position: a left click on a tab or a panel selects it, on
    /// a legend item hides or shows that lane, on a leaderboard row focuses that lane; a right
    /// click on a legend item shows that lane alone; the wheel over the heatmap scrolls its
    /// units. Returns true when something changed.
    pub fn mouse(&mut self, kind: MouseEventKind, column: u16, row: u16) -> bool {
        let Some(areas) = layout::areas(self.screen, self) else {
            return false;
        };
        let pos = Position::new(column, row);
        let legend = legend::lane_at(self, header::legend_area(areas.header, areas.compact), pos);
        let over = areas
            .panels
            .iter()
            .find(|(_, r)| r.contains(pos))
            .map(|(p, r)| (*p, *r));
        match kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(p) = tabs::panel_at(&areas, self, pos) {
                    self.panel = p;
                } else if let Some(lane) = legend {
                    self.toggle_lane(lane);
                } else if let Some((p, r)) = over {
                    self.panel = p;
                    if p == Panel::Leaderboard
                        && let Some(lane) = leaderboard::lane_at(self, r, pos)
                    {
                        self.focus = lane;
                    }
                } else {
                    return false;
                }
            }
            MouseEventKind::Down(MouseButton::Right) => match legend {
                Some(lane) => self.solo(lane),
                None => return false,
            },
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => match over {
                Some((Panel::Gates, _)) if self.heat.full => {
                    let down = kind == MouseEventKind::ScrollDown;
                    self.scroll_units(if down { 0.1 } else { -0.1 });
                }
                _ => return false,
            },
            _ => return false,
        }
        true
    }

    /// A left click at a terminal position (see [`App::mouse`]).
    pub fn click(&mut self, column: u16, row: u16) {
        self.mouse(MouseEventKind::Down(MouseButton::Left), column, row);
    }

    /// The state word of the header.
    pub fn state_label(&self) -> &'static str {
        match &self.mode {
            Mode::Replay(t) if t.playing => "replay: playing",
            Mode::Replay(_) => "replay: paused",
            Mode::Live(l) if l.stopping && l.ended.is_none() => "stopping",
            Mode::Live(_) if self.recorder.finished => "done",
            Mode::Live(_) if self.recorder.info.is_none() => "starting",
            Mode::Live(_) if self.recorder.paused => "paused",
            Mode::Live(_) => "running",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::StepPoint;
    use crate::tui::keys::dispatch;
    use crate::tui::synthetic::recorder;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn live_app(lanes: usize) -> App {
        let now = Instant::now();
        let mut app = App::live(now);
        let r = recorder(lanes, 100);
        app.recorder = r;
        app.recorder.finished = false;
        app
    }

    #[test]
    fn a_lane_going_off_target_and_back_posts_notices() {
        use crate::tui::synthetic::events;
        let mut app = App::live(Instant::now());
        // Synthetic lane 2 fires at 14%, 4 points above its target: once judged, off target.
        let mut evs = events(3, 1200, 8).into_iter();
        app.apply(evs.next().unwrap()); // Started
        let EngineEvent::Steps { lane, points } = evs
            .find(|e| matches!(e, EngineEvent::Steps { lane: 2, .. }))
            .unwrap()
        else {
            unreachable!()
        };
        let (early, late) = points.split_at(999);
        app.apply(EngineEvent::Steps {
            lane,
            points: early.to_vec(),
        });
        assert!(app.current_notice().is_none());
        app.apply(EngineEvent::Steps {
            lane,
            points: late.to_vec(),
        });
        let n = app.current_notice().expect("a notice").text.clone();
        assert!(n.contains(&crate::tui::synthetic::lane_name(2)), "{n}");
        assert!(n.contains("off target") && n.contains("14.0%"), "{n}");
        // Back at 10%: within 1.5 points of the target again after enough steps.
        let back: Vec<StepPoint> = (1201..=1700)
            .map(|step| StepPoint {
                step,
                firing_rate: 0.1,
                ..late[0]
            })
            .collect();
        app.notice = None;
        app.apply(EngineEvent::Steps { lane, points: back });
        let n = app.current_notice().expect("a notice").text.clone();
        assert!(n.contains("back on target"), "{n}");
    }

    #[test]
    fn keys_change_the_view_options_they_name() {
        let mut app = live_app(3);
        let press = |app: &mut App, c: char| {
            let a = dispatch(&key(c), app.is_replay()).expect("bound");
            app.act(a)
        };
        assert!(press(&mut app, 'l').is_none());
        assert!(app.loss.log);
        press(&mut app, 'm');
        assert!(!app.loss.smoothed);
        press(&mut app, 'w');
        assert!(app.loss.recent);
        press(&mut app, 'v');
        assert!(app.snr);
        press(&mut app, 'h');
        assert!(app.heat.by_class);
        press(&mut app, 'u');
        assert_eq!(app.heat.order, UnitOrder::Rate);
        press(&mut app, 'o');
        assert_eq!(app.sort.column, SortColumn::Firing);
        press(&mut app, 'O');
        assert!(app.sort.reversed);
        press(&mut app, '?');
        assert!(app.help);
        press(&mut app, '?');
        assert!(!app.help);
        assert_eq!(press(&mut app, 'q'), Some(Effect::Quit));
        assert_eq!(press(&mut app, 's'), Some(Effect::Save));
    }

    #[test]
    fn focus_wraps_and_digits_pick_a_lane() {
        let mut app = live_app(3);
        let tab = KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE);
        let back = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        for want in [1, 2, 0] {
            app.act(dispatch(&tab, false).unwrap());
            assert_eq!(app.focus, want);
        }
        app.act(dispatch(&back, false).unwrap());
        assert_eq!(app.focus, 2);
        app.act(dispatch(&key('2'), false).unwrap());
        assert_eq!(app.focus, 1);
        app.act(dispatch(&key('7'), false).unwrap());
        assert_eq!(app.focus, 1, "no lane 7");
        assert!(app.current_notice().unwrap().error);
        let mut empty = App::live(Instant::now());
        empty.act(Action::FocusNext);
        empty.act(Action::FocusPrevious);
        assert_eq!(empty.focused(), 0);
    }

    #[test]
    fn engine_keys_send_commands_while_the_race_runs() {
        let mut app = live_app(2);
        assert_eq!(
            app.act(Action::TogglePause),
            Some(Effect::Engine(Control::Pause))
        );
        app.apply(EngineEvent::Paused(true));
        assert_eq!(app.state_label(), "paused");
        assert_eq!(
            app.act(Action::TogglePause),
            Some(Effect::Engine(Control::Resume))
        );
        assert_eq!(
            app.act(Action::StepOnce),
            Some(Effect::Engine(Control::Step))
        );
        assert_eq!(
            app.act(Action::PaceDown),
            Some(Effect::Engine(Control::SetPace(Some(5000.0))))
        );
        assert_eq!(
            app.act(Action::PaceDown),
            Some(Effect::Engine(Control::SetPace(Some(2000.0))))
        );
        assert_eq!(
            app.act(Action::PaceUp),
            Some(Effect::Engine(Control::SetPace(Some(5000.0))))
        );
        assert_eq!(
            app.act(Action::PaceUp),
            Some(Effect::Engine(Control::SetPace(None)))
        );
        app.apply(EngineEvent::Finished);
        assert_eq!(app.state_label(), "done");
        assert_eq!(app.act(Action::TogglePause), None);
        assert_eq!(app.act(Action::PlayPause), None);
    }

    #[test]
    fn ticks_redraw_only_when_something_shown_changed() {
        let t0 = Instant::now();
        let mut app = App::live(t0);
        assert!(!app.tick(t0 + Duration::from_millis(300)));
        assert!(
            app.tick(t0 + Duration::from_millis(1100)),
            "the clock passed a second"
        );
        assert!(!app.tick(t0 + Duration::from_millis(1500)));
        app.apply(EngineEvent::Finished);
        assert!(app.current_notice().is_some());
        assert!(
            app.tick(t0 + Duration::from_secs(20)),
            "the end notice expired"
        );
        assert!(
            !app.tick(t0 + Duration::from_secs(60)),
            "a finished race's clock stops"
        );
        let mut replay = App::replay(recorder(1, 1000), t0);
        assert!(!replay.tick(t0 + Duration::from_secs(1)), "paused");
        replay.notify("saved", false);
        assert!(!replay.tick(t0 + Duration::from_secs(5)));
        assert!(
            replay.tick(t0 + Duration::from_secs(10)),
            "the notice expired"
        );
        assert!(!replay.tick(t0 + Duration::from_secs(11)));
        replay.act(Action::PlayPause);
        assert!(replay.tick(t0 + Duration::from_secs(12)));
    }

    #[test]
    fn the_first_slow_down_goes_below_the_measured_speed() {
        assert_eq!(App::next_pace(None, Some(130.0), false), Some(100.0));
        assert_eq!(App::next_pace(None, Some(0.5), false), Some(1.0));
        assert_eq!(App::next_pace(Some(1.0), None, false), Some(1.0));
        assert_eq!(App::next_pace(Some(5000.0), None, true), None);
        assert_eq!(App::next_pace(None, None, true), None);
    }

    #[test]
    fn replay_keys_move_the_cursor_and_the_view_follows() {
        let mut app = App::replay(recorder(2, 1000), Instant::now());
        assert!(app.is_replay());
        assert_eq!(app.until(), 1000);
        let act = |app: &mut App, code: KeyCode| {
            let a = dispatch(&KeyEvent::new(code, KeyModifiers::NONE), true).unwrap();
            app.act(a)
        };
        act(&mut app, KeyCode::PageUp);
        assert_eq!(app.until(), 900);
        act(&mut app, KeyCode::Left);
        assert_eq!(app.until(), 890);
        assert_eq!(app.view().step(), 890);
        act(&mut app, KeyCode::Home);
        assert_eq!(app.view().step(), 0);
        act(&mut app, KeyCode::PageDown);
        act(&mut app, KeyCode::Right);
        assert_eq!(app.until(), 110);
        act(&mut app, KeyCode::End);
        assert_eq!(app.until(), 1000);
        app.act(dispatch(&key(' '), true).unwrap());
        assert_eq!(app.state_label(), "replay: playing");
        let t0 = app.now;
        assert!(app.tick(t0 + Duration::from_secs(2)));
        assert_eq!(app.until(), 20);
        app.act(dispatch(&key('+'), true).unwrap());
        assert_eq!(app.timeline().unwrap().speed(), 2.0);
        // Engine keys are inert in a replay.
        assert_eq!(app.act(Action::TogglePause), None);
        assert_eq!(app.act(Action::PaceUp), None);
    }

    #[test]
    fn the_speedometer_measures_recent_steps_per_second() {
        let t0 = Instant::now();
        let mut s = Speedometer::default();
        assert_eq!(s.rate(t0), None);
        for i in 0..=20u64 {
            s.record(t0 + Duration::from_millis(500 * i), 100 * i);
        }
        let now = t0 + Duration::from_secs(10);
        let r = s.rate(now).unwrap();
        assert!((r - 200.0).abs() < 1e-9, "{r}");
        // Paused for five more seconds: the speed falls.
        assert!(s.rate(now + Duration::from_secs(5)).unwrap() < 110.0);
    }

    #[test]
    fn digits_focus_lanes_up_to_ninety_nine() {
        let t0 = Instant::now();
        let mut app = live_app(12);
        app.now = t0;
        let press = |app: &mut App, c: char| app.act(dispatch(&key(c), false).unwrap());
        press(&mut app, '0');
        assert_eq!(app.focus, 9, "0 is lane 10");
        press(&mut app, '3');
        assert_eq!(app.focus, 2);
        // 1 then 1 quickly: lane 11; 1 then 2: lane 12.
        press(&mut app, '1');
        assert_eq!(app.focus, 0);
        press(&mut app, '1');
        assert_eq!(app.focus, 10);
        press(&mut app, '1');
        press(&mut app, '2');
        assert_eq!(app.focus, 11);
        // Too slow: two lanes of one digit.
        press(&mut app, '1');
        app.now += TWO_DIGITS_WITHIN;
        press(&mut app, '2');
        assert_eq!(app.focus, 1);
        // With five lanes, 1 then 2 is lane 2 (no lane 12 to wait for).
        let mut five = live_app(5);
        press(&mut five, '1');
        press(&mut five, '2');
        assert_eq!(five.focus, 1);
        press(&mut five, '7');
        assert!(five.current_notice().unwrap().text.contains("no lane 7"));
    }

    #[test]
    fn lanes_hide_solo_and_come_back() {
        let mut app = live_app(4);
        app.focus = 2;
        app.act(Action::HideLane);
        assert!(!app.is_visible(2) && app.visible_count() == 3);
        app.act(Action::HideLane);
        assert!(app.is_visible(2));
        app.act(Action::SoloLane);
        assert_eq!(app.visible_count(), 1);
        assert!(app.is_visible(2));
        app.act(Action::SoloLane);
        assert_eq!(app.visible_count(), 4, "solo again shows every lane");
        app.toggle_lane(0);
        app.toggle_lane(1);
        app.act(Action::ShowAll);
        assert_eq!(app.visible_count(), 4);
    }

    #[test]
    fn clicks_on_the_legend_hide_and_solo_lanes() {
        let mut app = live_app(5);
        app.screen = Rect::new(0, 0, 160, 48);
        let areas = layout::areas(app.screen, &app).unwrap();
        let legend_area = header::legend_area(areas.header, areas.compact);
        let item = legend::items(&app, legend_area.width)[3];
        let (x, y) = (legend_area.x + item.x + 2, legend_area.y + item.line as u16);
        assert!(app.mouse(MouseEventKind::Down(MouseButton::Left), x, y));
        assert!(!app.is_visible(3));
        assert!(app.mouse(MouseEventKind::Down(MouseButton::Right), x, y));
        assert_eq!(app.visible_count(), 1);
        assert!(app.is_visible(3));
        // A click on a panel selects it.
        let gates = areas.get(Panel::Gates).unwrap();
        app.mouse(
            MouseEventKind::Down(MouseButton::Left),
            gates.x + 3,
            gates.y + 3,
        );
        assert_eq!(app.panel, Panel::Gates);
    }

    #[test]
    fn panels_turn_and_zoom() {
        let mut app = live_app(5);
        assert_eq!(app.panel, Panel::Loss);
        app.act(Action::NextPanel);
        assert_eq!(app.panel, Panel::Error);
        app.act(Action::PreviousPanel);
        app.act(Action::PreviousPanel);
        assert_eq!(app.panel, Panel::Leaderboard);
        app.act(Action::Zoom);
        assert!(app.zoomed);
        app.act(Action::XAxis);
        assert_eq!(app.x_axis, XAxis::Examples);
    }

    #[test]
    fn the_heatmap_scrolls_only_at_one_unit_per_row() {
        let mut app = App::live(Instant::now());
        app.recorder = crate::tui::synthetic::race(2, 100, 1000);
        app.screen = Rect::new(0, 0, 80, 24);
        app.panel = Panel::Gates;
        app.act(Action::ScrollUnitsDown);
        assert_eq!(app.heat.offset, 0);
        assert!(
            app.current_notice()
                .unwrap()
                .text
                .contains("one unit per row")
        );
        app.act(Action::HeatResolution);
        app.act(Action::ScrollUnitsDown);
        let rows = heatmap::unit_rows(
            layout::areas(app.screen, &app)
                .unwrap()
                .get(Panel::Gates)
                .unwrap(),
        );
        assert_eq!(app.heat.offset, rows / 2);
        for _ in 0..200 {
            app.act(Action::ScrollUnitsDown);
        }
        assert_eq!(app.heat.offset, 1000 - rows);
        app.act(Action::ScrollUnitsUp);
        assert!(app.heat.offset < 1000 - rows);
        // The wheel over the heatmap scrolls too.
        let r = layout::areas(app.screen, &app)
            .unwrap()
            .get(Panel::Gates)
            .unwrap();
        let before = app.heat.offset;
        assert!(app.mouse(MouseEventKind::ScrollUp, r.x + 10, r.y + 3));
        assert!(app.heat.offset < before);
    }

    #[test]
    fn a_lane_blowing_up_posts_a_notice() {
        use crate::tui::synthetic::events;
        let mut app = App::live(Instant::now());
        let mut evs = events(2, 600, 8).into_iter();
        app.apply(evs.next().unwrap());
        let EngineEvent::Steps { lane, points } = evs
            .find(|e| matches!(e, EngineEvent::Steps { lane: 1, .. }))
            .unwrap()
        else {
            unreachable!()
        };
        let (early, late) = points.split_at(200);
        app.apply(EngineEvent::Steps {
            lane,
            points: early.to_vec(),
        });
        assert!(app.current_notice().is_none());
        let late: Vec<StepPoint> = late
            .iter()
            .map(|p| StepPoint {
                cross_entropy: 3000.0,
                ..*p
            })
            .collect();
        app.apply(EngineEvent::Steps { lane, points: late });
        let n = app.current_notice().expect("a notice").text.clone();
        assert!(
            n.contains("sts is blowing up") && n.contains("since step 300"),
            "{n}"
        );
    }
}
