//! Where each panel goes on the screen: a pure function of the terminal size and the state, used
//! both to draw and to find what a mouse click hit.
//!
//! The layout degrades with the terminal instead of squeezing every panel:
//! - Large (from 150 columns and about 40 rows): every panel at once — training loss, held-out
//!   error and variance side by side, bias–variance, the gate heatmap and compute savings under
//!   them, the leaderboard below.
//! - Medium: the leaderboard stays; the panels above it are shown a page at a time, as many
//!   side by side as there are [`MIN_PANEL_WIDTH`] columns, with a tab strip naming every panel.
//! - Small (under [`COMPACT_BELOW`] rows, e.g. 80×24): a one-line header, one panel at a time
//!   at the full height, the leaderboard one of the pages, the replay timeline on one line.
//!
//! `[` and `]` select the previous or next panel (turning the page), a click on a tab or a
//! panel selects it, and `z` zooms the selected panel to the whole middle of the screen at any
//! size. Every panel gets at least its minimum useful height ([`Panel::min_height`]).

use ratatui::layout::{Constraint, Layout, Rect};

use super::app::App;
use super::panels::header;

/// Smallest terminal the dashboard draws in.
pub const MIN_WIDTH: u16 = 80;
/// Smallest terminal height the dashboard draws in.
pub const MIN_HEIGHT: u16 = 24;

/// Below this height the header is one line, the timeline one line, and the leaderboard a page.
pub const COMPACT_BELOW: u16 = 30;

/// Columns a panel needs to be shown beside another.
pub const MIN_PANEL_WIDTH: u16 = 50;

/// A chart's minimum useful height: borders, the x axis and its labels, and 8 plot rows.
pub const MIN_CHART_HEIGHT: u16 = 12;

/// The panels below the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Panel {
    /// Training loss.
    Loss,
    /// Held-out error.
    Error,
    /// Estimator variance.
    Variance,
    /// Bias and noise against the reference gradient (the same-trajectory probe).
    BiasVariance,
    /// Gate heatmap.
    Gates,
    /// Compute savings.
    Compute,
    /// Leaderboard.
    Leaderboard,
}

impl Panel {
    /// Every panel, in the order of the tab strip and of `[` / `]`.
    pub const ALL: [Panel; 7] = [
        Panel::Loss,
        Panel::Error,
        Panel::Variance,
        Panel::BiasVariance,
        Panel::Gates,
        Panel::Compute,
        Panel::Leaderboard,
    ];

    /// The name on its tab.
    pub fn name(self) -> &'static str {
        match self {
            Panel::Loss => "Loss",
            Panel::Error => "Error",
            Panel::Variance => "Variance",
            Panel::BiasVariance => "Bias",
            Panel::Gates => "Gates",
            Panel::Compute => "Compute",
            Panel::Leaderboard => "Leaderboard",
        }
    }

    /// True for the charts (with a y axis and plot rows).
    pub fn is_chart(self) -> bool {
        matches!(
            self,
            Panel::Loss | Panel::Error | Panel::Variance | Panel::BiasVariance
        )
    }

    /// The least height at which the panel is useful: 8 plot rows for a chart, 6 lines of
    /// units for the heatmap, a few lanes for the tables.
    pub fn min_height(self) -> u16 {
        match self {
            Panel::Loss | Panel::Error | Panel::Variance | Panel::BiasVariance => MIN_CHART_HEIGHT,
            Panel::Gates => 9,
            Panel::Compute => 6,
            Panel::Leaderboard => 5,
        }
    }

    /// The next panel (wrapping).
    pub fn next(self) -> Panel {
        let i = Self::ALL.iter().position(|&p| p == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// The previous panel (wrapping).
    pub fn previous(self) -> Panel {
        let i = Self::ALL.iter().position(|&p| p == self).unwrap_or(0);
        Self::ALL[(i + Self::ALL.len() - 1) % Self::ALL.len()]
    }
}

/// The panels' areas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Areas {
    /// Race, progress, state and lane legend.
    pub header: Rect,
    /// The header is one line of progress plus the legend, without borders.
    pub compact: bool,
    /// The tab strip (None when every panel is on screen).
    pub tabs: Option<Rect>,
    /// Every page of panels, in order (one page holding every panel when all are on screen).
    pub pages: Vec<Vec<Panel>>,
    /// The page shown.
    pub page: usize,
    /// The panels on screen with their areas.
    pub panels: Vec<(Panel, Rect)>,
    /// The replay timeline (None live).
    pub timeline: Option<Rect>,
    /// The status line.
    pub status: Rect,
}

impl Areas {
    /// The area of `panel` when it is on screen.
    pub fn get(&self, panel: Panel) -> Option<Rect> {
        self.panels
            .iter()
            .find(|(p, _)| *p == panel)
            .map(|(_, r)| *r)
    }

    /// The page that holds `panel` (0 when none does).
    pub fn page_of(&self, panel: Panel) -> usize {
        self.pages
            .iter()
            .position(|p| p.contains(&panel))
            .unwrap_or(0)
    }
}

/// Splits `area` into side-by-side areas for `panels` (the compute table a little wider).
fn side_by_side(area: Rect, panels: &[Panel]) -> Vec<(Panel, Rect)> {
    let weights: Vec<Constraint> = panels
        .iter()
        .map(|p| match p {
            Panel::Gates | Panel::BiasVariance => Constraint::Fill(9),
            Panel::Compute => Constraint::Fill(11),
            _ => Constraint::Fill(10),
        })
        .collect();
    let rects = Layout::horizontal(weights).split(area);
    panels.iter().copied().zip(rects.iter().copied()).collect()
}

/// The panels' areas on `screen`, or None when it is smaller than [`MIN_WIDTH`] × [`MIN_HEIGHT`].
pub fn areas(screen: Rect, app: &App) -> Option<Areas> {
    if screen.width < MIN_WIDTH || screen.height < MIN_HEIGHT {
        return None;
    }
    let compact = screen.height < COMPACT_BELOW;
    let header_h = header::height(app, screen.width, compact);
    let timeline_h = match (app.is_replay(), compact) {
        (false, _) => 0,
        (true, true) => 1,
        (true, false) => 3,
    };
    let rest = screen
        .height
        .saturating_sub(header_h + timeline_h + 1)
        .max(1);
    // The leaderboard keeps a place of its own unless the screen is small or a panel is
    // zoomed: one row per lane plus borders and the column header, at most a third of the
    // screen, less when the panels above would fall under their minimum height.
    let lanes = app.lane_count().max(1) as u16;
    let needs = MIN_CHART_HEIGHT + 1;
    let board_h = if compact || app.zoomed {
        None
    } else {
        let want = (lanes + 3).min(screen.height / 3).max(5);
        let h = want.min(rest.saturating_sub(needs));
        (h >= Panel::Leaderboard.min_height()).then_some(h)
    };
    let [header, middle, board, timeline, status] = Layout::vertical([
        Constraint::Length(header_h),
        Constraint::Fill(1),
        Constraint::Length(board_h.unwrap_or(0)),
        Constraint::Length(timeline_h),
        Constraint::Length(1),
    ])
    .areas(screen);
    let cols = (screen.width / MIN_PANEL_WIDTH).clamp(1, 3);
    let everything =
        !app.zoomed && board_h.is_some() && cols >= 3 && middle.height >= 2 * MIN_CHART_HEIGHT;
    let mut panels = Vec::new();
    let (pages, page, tabs) = if everything {
        let [top, bottom] =
            Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(middle);
        let first = [Panel::Loss, Panel::Error, Panel::Variance];
        let second = [Panel::BiasVariance, Panel::Gates, Panel::Compute];
        panels.extend(side_by_side(top, &first));
        panels.extend(side_by_side(bottom, &second));
        panels.push((Panel::Leaderboard, board));
        (vec![Panel::ALL.to_vec()], 0, None)
    } else {
        let per_page = if app.zoomed { 1 } else { cols as usize };
        let paged: Vec<Panel> = Panel::ALL
            .iter()
            .copied()
            .filter(|&p| p != Panel::Leaderboard || board_h.is_none())
            .collect();
        let pages: Vec<Vec<Panel>> = paged.chunks(per_page).map(<[Panel]>::to_vec).collect();
        let page = pages
            .iter()
            .position(|p| p.contains(&app.panel))
            .unwrap_or(0);
        let [tabs, content] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(middle);
        panels.extend(side_by_side(content, &pages[page]));
        if board_h.is_some() {
            panels.push((Panel::Leaderboard, board));
        }
        (pages, page, Some(tabs))
    };
    Some(Areas {
        header,
        compact,
        tabs,
        pages,
        page,
        panels,
        timeline: app.is_replay().then_some(timeline),
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::synthetic::recorder;
    use std::time::Instant;

    /// The sizes the issue names, and a few more.
    pub const SIZES: [(u16, u16); 6] = [
        (80, 24),
        (100, 30),
        (120, 32),
        (160, 48),
        (240, 64),
        (300, 90),
    ];

    fn apps(lanes: usize) -> Vec<App> {
        let mut live = App::live(Instant::now());
        live.recorder = recorder(lanes, 50);
        let replay = App::replay(recorder(lanes, 50), Instant::now());
        vec![live, replay]
    }

    #[test]
    fn panels_tile_the_screen_without_overlap() {
        for lanes in [0, 1, 5, 12] {
            for (w, h) in SIZES {
                for mut app in apps(lanes) {
                    for zoomed in [false, true] {
                        app.zoomed = zoomed;
                        let screen = Rect::new(0, 0, w, h);
                        let a = areas(screen, &app).expect("big enough");
                        let mut all: Vec<Rect> = vec![a.header, a.status];
                        all.extend(a.tabs);
                        all.extend(a.timeline);
                        all.extend(a.panels.iter().map(|(_, r)| *r));
                        let covered: u32 = all.iter().map(|r| r.area()).sum();
                        assert_eq!(covered, screen.area(), "{lanes} lanes on {w}×{h}");
                        for (i, r) in all.iter().enumerate() {
                            assert!(r.width > 0 && r.height > 0, "{i} empty on {w}×{h}");
                            for o in &all[i + 1..] {
                                assert!(!r.intersects(*o), "{r:?} and {o:?} on {w}×{h}");
                            }
                        }
                        if app.is_replay() {
                            assert!(a.timeline.is_some());
                        }
                    }
                }
            }
        }
        let app = App::live(Instant::now());
        assert!(areas(Rect::new(0, 0, 79, 40), &app).is_none());
        assert!(areas(Rect::new(0, 0, 100, 23), &app).is_none());
    }

    #[test]
    fn every_panel_is_reachable_and_at_its_useful_height_at_every_size() {
        for lanes in [1, 5, 11, 12] {
            for (w, h) in SIZES {
                for mut app in apps(lanes) {
                    for zoomed in [false, true] {
                        app.zoomed = zoomed;
                        for panel in Panel::ALL {
                            app.panel = panel;
                            let a = areas(Rect::new(0, 0, w, h), &app).unwrap();
                            let r = a.get(panel).unwrap_or_else(|| {
                                panic!("{panel:?} not on screen when selected at {w}×{h}")
                            });
                            assert!(
                                r.height >= panel.min_height(),
                                "{panel:?} {} rows at {w}×{h}, {lanes} lanes, replay {}, \
                                 zoomed {zoomed}",
                                r.height,
                                app.is_replay()
                            );
                            for (p, r) in &a.panels {
                                assert!(r.height >= p.min_height(), "{p:?} at {w}×{h}");
                            }
                            if zoomed {
                                assert_eq!(a.panels.len(), 1, "zoomed at {w}×{h}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn small_screens_show_one_panel_at_a_time_large_ones_everything() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(5, 50);
        let small = areas(Rect::new(0, 0, 80, 24), &app).unwrap();
        assert!(small.compact && small.tabs.is_some());
        assert_eq!(small.panels.len(), 1);
        assert_eq!(small.pages.len(), 7, "{:?}", small.pages);
        // 8 plot rows at least (the chart's height less borders and the x axis).
        let loss = small.get(Panel::Loss).unwrap();
        assert!(loss.height >= 18, "{loss:?}");
        let medium = areas(Rect::new(0, 0, 120, 32), &app).unwrap();
        assert_eq!(medium.panels.len(), 3, "two charts and the leaderboard");
        assert!(medium.get(Panel::Leaderboard).is_some());
        let large = areas(Rect::new(0, 0, 160, 48), &app).unwrap();
        assert!(large.tabs.is_none());
        assert_eq!(large.panels.len(), 7);
        app.zoomed = true;
        app.panel = Panel::Gates;
        let zoomed = areas(Rect::new(0, 0, 160, 48), &app).unwrap();
        assert_eq!(zoomed.panels.len(), 1);
        assert!(zoomed.get(Panel::Gates).unwrap().height > 35);
    }
}
