//! The replay timeline: a cursor over the recorded steps that plays, pauses, seeks and changes
//! speed. At ×1 the cursor moves 1% of the run per second (the whole run in 100 s), so every
//! run, short or long, replays in a predictable time: ×64 shows it in about a second and a half.

use std::time::Duration;

/// Replay speeds.
pub const SPEEDS: [f64; 9] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// Share of the run played per second at ×1.
pub const FRACTION_PER_SECOND: f64 = 0.01;

/// Where a replay is and how it moves.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Last recorded step.
    end: u64,
    /// Cursor position in steps (fractional while playing).
    cursor: f64,
    /// True while playing.
    pub playing: bool,
    speed: usize,
}

impl Timeline {
    /// A paused timeline over steps 0..=`end`, with the cursor at the end (the final state).
    pub fn new(end: u64) -> Self {
        Timeline {
            end,
            cursor: end as f64,
            playing: false,
            speed: 2,
        }
    }

    /// The last recorded step.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The step shown.
    pub fn cursor(&self) -> u64 {
        (self.cursor.floor() as u64).min(self.end)
    }

    /// The cursor as a fraction of the run, in [0, 1].
    pub fn fraction(&self) -> f64 {
        if self.end == 0 {
            1.0
        } else {
            self.cursor() as f64 / self.end as f64
        }
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        SPEEDS[self.speed]
    }

    /// Next speed up (stays at the fastest).
    pub fn faster(&mut self) {
        self.speed = (self.speed + 1).min(SPEEDS.len() - 1);
    }

    /// Next speed down (stays at the slowest).
    pub fn slower(&mut self) {
        self.speed = self.speed.saturating_sub(1);
    }

    /// Play or pause; playing from the end starts over.
    pub fn toggle(&mut self) {
        if self.playing {
            self.playing = false;
        } else {
            if self.cursor() >= self.end {
                self.cursor = 0.0;
            }
            self.playing = true;
        }
    }

    /// Moves the cursor by `fraction` of the run (negative: back), clamped to the run.
    pub fn seek_by(&mut self, fraction: f64) {
        let delta = (fraction * self.end as f64).round();
        let delta = if delta == 0.0 && fraction != 0.0 {
            fraction.signum()
        } else {
            delta
        };
        self.cursor = (self.cursor.floor() + delta).clamp(0.0, self.end as f64);
    }

    /// Puts the cursor at `step` (clamped).
    pub fn seek_to(&mut self, step: u64) {
        self.cursor = step.min(self.end) as f64;
    }

    /// Advances a playing cursor by `elapsed` at the current speed; stops at the end. Returns
    /// true when the step shown changed.
    pub fn advance(&mut self, elapsed: Duration) -> bool {
        if !self.playing {
            return false;
        }
        let before = self.cursor();
        let rate = self.speed() * FRACTION_PER_SECOND * self.end as f64;
        self.cursor = (self.cursor + rate * elapsed.as_secs_f64()).min(self.end as f64);
        if self.cursor() >= self.end {
            self.playing = false;
        }
        self.cursor() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeks_are_shares_of_the_run_and_stay_inside_it() {
        let mut t = Timeline::new(3000);
        assert_eq!(t.cursor(), 3000);
        t.seek_by(0.01);
        assert_eq!(t.cursor(), 3000);
        t.seek_by(-0.10);
        assert_eq!(t.cursor(), 2700);
        t.seek_by(-0.01);
        assert_eq!(t.cursor(), 2670);
        t.seek_to(0);
        t.seek_by(-0.01);
        assert_eq!(t.cursor(), 0);
        t.seek_by(0.01);
        assert_eq!(t.cursor(), 30);
        // A run shorter than 100 steps still moves by one step.
        let mut short = Timeline::new(20);
        short.seek_to(10);
        short.seek_by(0.01);
        assert_eq!(short.cursor(), 11);
    }

    #[test]
    fn playing_moves_one_percent_per_second_times_the_speed() {
        let mut t = Timeline::new(10_000);
        t.toggle();
        assert!(t.playing);
        assert_eq!(t.cursor(), 0, "playing from the end starts over");
        assert!(t.advance(Duration::from_secs(1)));
        assert_eq!(t.cursor(), 100);
        for _ in 0..2 {
            t.faster();
        }
        assert_eq!(t.speed(), 4.0);
        t.advance(Duration::from_millis(500));
        assert_eq!(t.cursor(), 300);
        for _ in 0..20 {
            t.faster();
        }
        assert_eq!(t.speed(), 64.0);
        for _ in 0..20 {
            t.slower();
        }
        assert_eq!(t.speed(), 0.25);
        t.faster();
        t.faster();
        t.faster();
        t.advance(Duration::from_secs(1000));
        assert_eq!(t.cursor(), 10_000);
        assert!(!t.playing, "stops at the end");
        assert!(!t.advance(Duration::from_secs(1)));
    }

    #[test]
    fn an_empty_run_does_not_divide_by_zero() {
        let mut t = Timeline::new(0);
        t.toggle();
        assert!(!t.advance(Duration::from_secs(1)));
        assert_eq!(t.fraction(), 1.0);
        t.seek_by(0.1);
        assert_eq!(t.cursor(), 0);
    }
}
