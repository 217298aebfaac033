//! Where each panel goes on the screen: a pure function of the terminal size and the state, used
//! both to draw and to find what a mouse click hit.

use ratatui::layout::{Constraint, Layout, Rect};

use super::app::App;
use super::panels::header;

/// Smallest terminal the dashboard draws in.
pub const MIN_WIDTH: u16 = 80;
/// Smallest terminal height the dashboard draws in.
pub const MIN_HEIGHT: u16 = 24;

/// The panels' areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// Race, progress, state and lane legend.
    pub header: Rect,
    /// Training loss.
    pub loss: Rect,
    /// Estimator variance.
    pub variance: Rect,
    /// Gate heatmap.
    pub heatmap: Rect,
    /// Compute savings.
    pub compute: Rect,
    /// Leaderboard.
    pub leaderboard: Rect,
    /// The replay timeline (None live).
    pub timeline: Option<Rect>,
    /// The status line.
    pub status: Rect,
}

/// The panels' areas on `screen`, or None when it is smaller than [`MIN_WIDTH`] × [`MIN_HEIGHT`].
pub fn areas(screen: Rect, app: &App) -> Option<Areas> {
    if screen.width < MIN_WIDTH || screen.height < MIN_HEIGHT {
        return None;
    }
    let lanes = app.lane_count().max(1) as u16;
    let header_h = header::height(app, screen.width);
    let timeline_h = if app.is_replay() { 3 } else { 0 };
    // Leaderboard: one row per lane plus borders and the column header, at most a third of the
    // screen (it scrolls to keep the focused lane visible).
    let board_h = (lanes + 3).min((screen.height / 3).max(5));
    let [header, middle, board, timeline, status] = Layout::vertical([
        Constraint::Length(header_h),
        Constraint::Min(0),
        Constraint::Length(board_h),
        Constraint::Length(timeline_h),
        Constraint::Length(1),
    ])
    .areas(screen);
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(middle);
    let [loss, variance] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    let [heatmap, compute] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(bottom);
    Some(Areas {
        header,
        loss,
        variance,
        heatmap,
        compute,
        leaderboard: board,
        timeline: app.is_replay().then_some(timeline),
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::synthetic::recorder;
    use std::time::Instant;

    #[test]
    fn panels_tile_the_screen_without_overlap() {
        for lanes in [0, 1, 5, 12] {
            for (w, h) in [(80, 24), (160, 48), (300, 90)] {
                let mut app = App::live(Instant::now());
                app.recorder = recorder(lanes, 50);
                let screen = Rect::new(0, 0, w, h);
                let a = areas(screen, &app).expect("big enough");
                let all = [
                    a.header,
                    a.loss,
                    a.variance,
                    a.heatmap,
                    a.compute,
                    a.leaderboard,
                    a.status,
                ];
                let covered: u32 = all.iter().map(|r| r.area()).sum();
                assert_eq!(covered, screen.area(), "{lanes} lanes on {w}×{h}");
                for (i, r) in all.iter().enumerate() {
                    assert!(r.width > 0 && r.height > 0, "{i} empty on {w}×{h}");
                    for o in &all[i + 1..] {
                        assert!(!r.intersects(*o));
                    }
                }
                app.mode = App::replay(recorder(lanes, 50), Instant::now()).mode;
                assert!(areas(screen, &app).unwrap().timeline.unwrap().height == 3);
            }
        }
        let app = App::live(Instant::now());
        assert!(areas(Rect::new(0, 0, 79, 40), &app).is_none());
        assert!(areas(Rect::new(0, 0, 100, 23), &app).is_none());
    }
}
