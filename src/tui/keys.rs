//! The key table: one static list of (keys, action, description) that drives both key dispatch
//! and the help popup, so the two cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the dashboard (a live race is stopped first).
    Quit,
    /// Open or close the help popup.
    Help,
    /// Close the help popup.
    CloseHelp,
    /// Pause or resume the race.
    TogglePause,
    /// One step while paused.
    StepOnce,
    /// Raise the pace limit.
    PaceUp,
    /// Lower the pace limit.
    PaceDown,
    /// Save the session.
    Save,
    /// Focus the next lane.
    FocusNext,
    /// Focus the previous lane.
    FocusPrevious,
    /// A digit typed to focus a lane: 1–9, 0 for lane 10, two digits quickly for 11 and up.
    FocusDigit(usize),
    /// Hide the focused lane from the charts, or show it again.
    HideLane,
    /// Show the focused lane alone in the charts (again: every lane).
    SoloLane,
    /// Show every lane in the charts.
    ShowAll,
    /// Select the next panel (on a small screen: show it).
    NextPanel,
    /// Select the previous panel.
    PreviousPanel,
    /// Zoom the selected panel to the middle of the screen, or back.
    Zoom,
    /// Change what the charts' x axis measures.
    XAxis,
    /// Toggle the loss chart's log scale.
    LogScale,
    /// Toggle smoothing of the loss chart.
    Smoothing,
    /// Toggle the loss chart between the full run and the recent steps.
    Window,
    /// Switch the gate heatmap between units × time and units × class.
    HeatMode,
    /// Order heatmap units by index, firing rate or class selectivity.
    UnitOrder,
    /// Heatmap: every unit binned into the rows, or one unit per row (scrolled).
    HeatResolution,
    /// Heatmap: scroll the units down half a screen.
    ScrollUnitsDown,
    /// Heatmap: scroll the units up half a screen.
    ScrollUnitsUp,
    /// Switch the variance chart to signal-to-noise and back.
    VarianceMode,
    /// Switch the bias–variance panel between the bias–noise plane and cosines over training.
    BiasView,
    /// Lanes over seeds: mean with a band, every seed, or the mean alone.
    SeedView,
    /// Sort the leaderboard by the next column.
    SortNext,
    /// Reverse the leaderboard's sort order.
    SortReverse,
    /// Replay: play or pause the timeline.
    PlayPause,
    /// Replay: back 1 %.
    SeekBack,
    /// Replay: forward 1 %.
    SeekForward,
    /// Replay: back 10 %.
    SeekBackFar,
    /// Replay: forward 10 %.
    SeekForwardFar,
    /// Replay: to the start.
    SeekStart,
    /// Replay: to the end.
    SeekEnd,
    /// Replay: play faster.
    Faster,
    /// Replay: play slower.
    Slower,
}

/// A key pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character, typed with or without shift.
    Char(char),
    /// A character with control held.
    Ctrl(char),
    /// A non-character key.
    Code(KeyCode),
    /// Any of the digits 0–9 (the action gets the digit).
    Digit,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Live races and replays.
    Both,
    /// Live races only.
    Live,
    /// Replays only.
    Replay,
}

impl Scope {
    /// True when the binding applies in this mode.
    pub fn applies(self, replay: bool) -> bool {
        match self {
            Scope::Both => true,
            Scope::Live => !replay,
            Scope::Replay => replay,
        }
    }
}

/// One row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys.
    pub keys: &'static [Key],
    /// How the keys are written in the help.
    pub label: &'static str,
    /// What they do.
    pub action: Action,
    /// The help text.
    pub help: &'static str,
    /// Where the binding applies.
    pub scope: Scope,
}

const fn bind(
    keys: &'static [Key],
    label: &'static str,
    action: Action,
    help: &'static str,
    scope: Scope,
) -> Binding {
    Binding {
        keys,
        label,
        action,
        help,
        scope,
    }
}

use Action as A;
use Key::{Char, Code, Ctrl};
use Scope::{Both, Live, Replay};

/// The key table.
pub static BINDINGS: &[Binding] = &[
    bind(&[Char('q'), Ctrl('c')], "q, ctrl-c", A::Quit, "quit", Both),
    bind(&[Char('?')], "?", A::Help, "show or hide this help", Both),
    bind(
        &[Code(KeyCode::Esc)],
        "esc",
        A::CloseHelp,
        "close the help",
        Both,
    ),
    bind(
        &[Char(' ')],
        "space",
        A::TogglePause,
        "pause / resume",
        Live,
    ),
    bind(&[Char('n')], "n", A::StepOnce, "one step (pauses)", Live),
    bind(
        &[Char('+'), Char('=')],
        "+",
        A::PaceUp,
        "faster pace (to no limit)",
        Live,
    ),
    bind(
        &[Char('-')],
        "-",
        A::PaceDown,
        "slower pace (steps/s cap)",
        Live,
    ),
    bind(&[Char('s')], "s", A::Save, "save the session", Live),
    bind(&[Char(' ')], "space", A::PlayPause, "play / pause", Replay),
    bind(&[Code(KeyCode::Left)], "←", A::SeekBack, "back 1%", Replay),
    bind(
        &[Code(KeyCode::Right)],
        "→",
        A::SeekForward,
        "forward 1%",
        Replay,
    ),
    bind(
        &[Code(KeyCode::PageUp)],
        "pgup",
        A::SeekBackFar,
        "back 10%",
        Replay,
    ),
    bind(
        &[Code(KeyCode::PageDown)],
        "pgdn",
        A::SeekForwardFar,
        "forward 10%",
        Replay,
    ),
    bind(
        &[Code(KeyCode::Home)],
        "home",
        A::SeekStart,
        "to the start",
        Replay,
    ),
    bind(
        &[Code(KeyCode::End)],
        "end",
        A::SeekEnd,
        "to the end",
        Replay,
    ),
    bind(
        &[Char('+'), Char('=')],
        "+",
        A::Faster,
        "play faster (up to ×64)",
        Replay,
    ),
    bind(
        &[Char('-')],
        "-",
        A::Slower,
        "play slower (to ×0.25)",
        Replay,
    ),
    bind(
        &[Code(KeyCode::Tab)],
        "tab",
        A::FocusNext,
        "focus next lane",
        Both,
    ),
    bind(
        &[Code(KeyCode::BackTab)],
        "shift-tab",
        A::FocusPrevious,
        "focus previous lane",
        Both,
    ),
    bind(
        &[Key::Digit],
        "1–9, 0",
        A::FocusDigit(0),
        "focus lane; two digits: 11+",
        Both,
    ),
    bind(
        &[Char('x')],
        "x",
        A::HideLane,
        "hide / show the focused lane",
        Both,
    ),
    bind(
        &[Char('X')],
        "X",
        A::SoloLane,
        "show the focused lane alone",
        Both,
    ),
    bind(&[Char('a')], "a", A::ShowAll, "show every lane", Both),
    bind(
        &[Char(']')],
        "]",
        A::NextPanel,
        "next panel (small screens)",
        Both,
    ),
    bind(&[Char('[')], "[", A::PreviousPanel, "previous panel", Both),
    bind(&[Char('z')], "z", A::Zoom, "zoom the selected panel", Both),
    bind(
        &[Char('t')],
        "t",
        A::XAxis,
        "x: steps/examples/evals/time",
        Both,
    ),
    bind(
        &[Char('l')],
        "l",
        A::LogScale,
        "loss: log scale on/off",
        Both,
    ),
    bind(
        &[Char('m')],
        "m",
        A::Smoothing,
        "loss: smoothed / raw",
        Both,
    ),
    bind(
        &[Char('w')],
        "w",
        A::Window,
        "charts: full run / recent",
        Both,
    ),
    bind(
        &[Char('v')],
        "v",
        A::VarianceMode,
        "variance / signal-to-noise",
        Both,
    ),
    bind(
        &[Char('b')],
        "b",
        A::BiasView,
        "bias: bias–noise / cosine",
        Both,
    ),
    bind(
        &[Char('e')],
        "e",
        A::SeedView,
        "seeds: band / each / mean",
        Both,
    ),
    bind(
        &[Char('h')],
        "h",
        A::HeatMode,
        "gates: by time / by class",
        Both,
    ),
    bind(
        &[Char('u')],
        "u",
        A::UnitOrder,
        "gates: sort index/rate/class",
        Both,
    ),
    bind(
        &[Char('r')],
        "r",
        A::HeatResolution,
        "gates: fit / one unit a row",
        Both,
    ),
    bind(
        &[Char('j')],
        "j",
        A::ScrollUnitsDown,
        "gates: scroll units down",
        Both,
    ),
    bind(
        &[Char('k')],
        "k",
        A::ScrollUnitsUp,
        "gates: scroll units up",
        Both,
    ),
    bind(
        &[Char('o')],
        "o",
        A::SortNext,
        "leaderboard: sort column",
        Both,
    ),
    bind(
        &[Char('O')],
        "O",
        A::SortReverse,
        "leaderboard: reverse order",
        Both,
    ),
];

impl Key {
    /// What this pattern gives for `event`: the action's digit argument (0 when it has none),
    /// or None when it does not match.
    fn matches(self, event: &KeyEvent) -> Option<usize> {
        let ctrl_or_alt = event
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match (self, event.code) {
            (Key::Char(c), KeyCode::Char(k)) if k == c && !ctrl_or_alt => Some(0),
            (Key::Ctrl(c), KeyCode::Char(k))
                if k.eq_ignore_ascii_case(&c)
                    && event.modifiers.contains(KeyModifiers::CONTROL) =>
            {
                Some(0)
            }
            (Key::Code(c), k) if k == c && !ctrl_or_alt => Some(0),
            (Key::Digit, KeyCode::Char(k @ '0'..='9')) if !ctrl_or_alt => {
                Some(k as usize - '0' as usize)
            }
            _ => None,
        }
    }

    /// A key event that this pattern matches (for tests and documentation).
    pub fn example(self) -> KeyEvent {
        match self {
            Key::Char(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            Key::Ctrl(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
            Key::Code(KeyCode::BackTab) => KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
            Key::Code(c) => KeyEvent::new(c, KeyModifiers::NONE),
            Key::Digit => KeyEvent::new(KeyCode::Char('0'), KeyModifiers::NONE),
        }
    }
}

/// The action of a key press in a live race (`replay` false) or a replay; None for keys the
/// table does not bind (and for key releases).
pub fn dispatch(event: &KeyEvent, replay: bool) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    BINDINGS
        .iter()
        .filter(|b| b.scope.applies(replay))
        .find_map(|b| {
            b.keys
                .iter()
                .find_map(|k| k.matches(event))
                .map(|n| match b.action {
                    Action::FocusDigit(_) => Action::FocusDigit(n),
                    a => a,
                })
        })
}

/// The bindings that apply in a mode, in table order.
pub fn bindings(replay: bool) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| b.scope.applies(replay))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_the_table_dispatches_to_its_action_in_its_modes_only() {
        for replay in [false, true] {
            for b in BINDINGS {
                for k in b.keys {
                    let got = dispatch(&k.example(), replay);
                    if b.scope.applies(replay) {
                        assert_eq!(got, Some(b.action), "{} (replay {replay})", b.label);
                    } else if let Some(other) = got {
                        // The same key may mean something else in the other mode.
                        assert!(
                            bindings(replay).any(|o| o.action == other),
                            "{} gave {other:?}",
                            b.label
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_one_mode() {
        for replay in [false, true] {
            let keys: Vec<Key> = bindings(replay)
                .flat_map(|b| b.keys.iter().copied())
                .collect();
            for (i, k) in keys.iter().enumerate() {
                assert!(!keys[i + 1..].contains(k), "{k:?} bound twice");
            }
        }
    }

    #[test]
    fn the_required_keys_do_what_the_issue_says() {
        let key = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let live = |e: KeyEvent| dispatch(&e, false);
        assert_eq!(live(key('q')), Some(A::Quit));
        assert_eq!(
            live(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(A::Quit)
        );
        assert_eq!(live(key(' ')), Some(A::TogglePause));
        assert_eq!(live(key('n')), Some(A::StepOnce));
        assert_eq!(
            live(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)),
            Some(A::FocusNext)
        );
        assert_eq!(
            live(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(A::FocusPrevious)
        );
        assert_eq!(live(key('1')), Some(A::FocusDigit(1)));
        assert_eq!(live(key('9')), Some(A::FocusDigit(9)));
        assert_eq!(live(key('0')), Some(A::FocusDigit(0)));
        assert_eq!(live(key('x')), Some(A::HideLane));
        assert_eq!(live(key('X')), Some(A::SoloLane));
        assert_eq!(live(key(']')), Some(A::NextPanel));
        assert_eq!(live(key('z')), Some(A::Zoom));
        assert_eq!(live(key('t')), Some(A::XAxis));
        assert_eq!(live(key('l')), Some(A::LogScale));
        assert_eq!(live(key('m')), Some(A::Smoothing));
        assert_eq!(live(key('s')), Some(A::Save));
        assert_eq!(live(key('w')), Some(A::Window));
        assert_eq!(live(key('h')), Some(A::HeatMode));
        assert_eq!(live(key('o')), Some(A::SortNext));
        assert_eq!(live(key('+')), Some(A::PaceUp));
        // '+' typed with shift, as terminals report it.
        assert_eq!(
            live(KeyEvent::new(KeyCode::Char('+'), KeyModifiers::SHIFT)),
            Some(A::PaceUp)
        );
        assert_eq!(live(key('-')), Some(A::PaceDown));
        assert_eq!(
            live(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(A::Help)
        );
        // Control or alt with a plain key is not that key.
        assert_eq!(
            live(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::ALT)),
            None
        );
        assert_eq!(live(key('y')), None);
        // Replay: the same space key plays, the engine keys do nothing.
        assert_eq!(dispatch(&key(' '), true), Some(A::PlayPause));
        assert_eq!(dispatch(&key('n'), true), None);
        assert_eq!(dispatch(&key('s'), true), None);
        assert_eq!(dispatch(&key('+'), true), Some(A::Faster));
        let mut release = key('q');
        release.kind = KeyEventKind::Release;
        assert_eq!(dispatch(&release, false), None);
    }
}
