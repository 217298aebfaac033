//! The dashboard's state, all in one place: the recorder, the mode (live race or replay), the
//! focused lane and every view option. Keys become [`Action`]s (see `keys`), and
//! [`App::act`] turns an action into a state change plus, where the outside world must do
//! something, an [`Effect`]. Nothing here draws or talks to the terminal.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ratatui::layout::{Position, Rect};

use super::heatgrid::HeatCache;
use super::keys::Action;
use super::layout;
use super::panels::leaderboard;
use super::timeline::Timeline;
use crate::engine::{Control, EngineEvent};
use crate::history::{FIRING_WINDOW, RaceView, Recorder};

/// Pace limits offered by `+` / `-`, in steps per second (above the last: no limit).
pub const PACES: [f64; 12] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
];

/// How long a notice stays in the status line.
pub const NOTICE_FOR: Duration = Duration::from_secs(8);

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
}

/// Live race or replay.
#[derive(Debug, Clone)]
pub enum Mode {
    /// A race running now.
    Live(Live),
    /// A recorded race, shown up to the timeline's cursor.
    Replay(Timeline),
}

/// Options of the loss chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LossOptions {
    /// Log-scale y axis.
    pub log: bool,
    /// Debiased EMA smoothing (false: raw points).
    pub smoothed: bool,
    /// Only the recent steps (false: the whole run).
    pub recent: bool,
}

/// Options of the gate heatmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatOptions {
    /// Units × class (false: units × time).
    pub by_class: bool,
    /// Units ordered by firing rate, highest first (false: by index).
    pub by_rate: bool,
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
                by_rate: false,
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

    /// Number of lanes.
    pub fn lane_count(&self) -> usize {
        self.recorder.lanes.len()
    }

    /// The focused lane, clamped to the lanes there are.
    pub fn focused(&self) -> usize {
        self.focus.min(self.lane_count().saturating_sub(1))
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
        let name = h.info.name.clone();
        let target = 100.0 * h.info.settings.sparsity_target;
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
            Action::FocusLane(n) => {
                if n < lanes {
                    self.focus = n;
                } else {
                    self.notify(format!("there is no lane {}", n + 1), true);
                }
            }
            Action::FocusNext | Action::FocusPrevious => {}
            Action::LogScale => self.loss.log = !self.loss.log,
            Action::Smoothing => self.loss.smoothed = !self.loss.smoothed,
            Action::Window => self.loss.recent = !self.loss.recent,
            Action::VarianceMode => self.snr = !self.snr,
            Action::HeatMode => self.heat.by_class = !self.heat.by_class,
            Action::UnitOrder => self.heat.by_rate = !self.heat.by_rate,
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

    /// A left click at a terminal position: a click on a leaderboard row focuses that lane.
    pub fn click(&mut self, column: u16, row: u16) {
        let Some(areas) = layout::areas(self.screen, self) else {
            return;
        };
        if let Some(lane) =
            leaderboard::lane_at(self, areas.leaderboard, Position::new(column, row))
        {
            self.focus = lane;
        }
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
        assert!(app.heat.by_rate);
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
}
