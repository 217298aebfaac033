//! A time series of bounded length: when it holds `capacity` points, neighbouring pairs are
//! merged (halving the resolution of everything recorded so far) and from then on every two
//! incoming points are merged before they are stored, so the resolution stays uniform over the
//! whole run and memory stays bounded however long it lasts.

use serde::{Deserialize, Serialize};

pub use crate::engine::metrics::Merge;

/// Parts that no series could have reached, refused by [`Downsampled::from_parts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PartsError {
    /// The capacity is below 2.
    #[error("capacity {0} is below 2")]
    CapacityBelowTwo(usize),
    /// The stride is not a power of two.
    #[error("stride {0} is not a power of two")]
    StrideNotPowerOfTwo(u64),
    /// The partial point holds a whole stride of raw points or more.
    #[error("{filled} raw points in the partial point, the stride is {stride}")]
    PartialPointTooFull {
        /// Raw points in the partial point.
        filled: u64,
        /// Raw points per stored point.
        stride: u64,
    },
    /// Raw points are counted in a partial point, but there are no points.
    #[error("{0} raw points in a partial point that is missing")]
    PartialPointMissing(u64),
    /// More complete points than the capacity allows.
    #[error("{points} complete points, the capacity is {capacity}")]
    TooManyPoints {
        /// Complete points.
        points: usize,
        /// Stored points before the resolution halves.
        capacity: usize,
    },
}

/// A series with uniform, adaptive resolution and at most `capacity` stored points (plus one
/// partially merged point at the end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Downsampled<T> {
    capacity: usize,
    /// Raw points per stored point.
    stride: u64,
    points: Vec<T>,
    /// The point being built from the latest `filled` raw points.
    pending: Option<T>,
    filled: u64,
}

impl<T: Merge> Downsampled<T> {
    /// An empty series keeping at most `capacity` (≥ 2) points.
    pub fn new(capacity: usize) -> Self {
        Downsampled {
            capacity: capacity.max(2),
            stride: 1,
            points: Vec::new(),
            pending: None,
            filled: 0,
        }
    }

    /// Raw points represented by each stored point.
    pub fn stride(&self) -> u64 {
        self.stride
    }

    /// Appends a raw point.
    pub fn push(&mut self, point: T) {
        match &mut self.pending {
            Some(p) => p.merge(&point),
            None => self.pending = Some(point),
        }
        self.filled += 1;
        if self.filled >= self.stride {
            let full = self.pending.take().expect("pending point exists");
            self.filled = 0;
            self.points.push(full);
            if self.points.len() >= self.capacity {
                self.halve();
            }
        }
    }

    fn halve(&mut self) {
        let old = std::mem::take(&mut self.points);
        let mut it = old.into_iter();
        while let Some(mut a) = it.next() {
            if let Some(b) = it.next() {
                a.merge(&b);
            }
            self.points.push(a);
        }
        self.stride *= 2;
    }

    /// Number of points visible (stored plus the partial one).
    pub fn len(&self) -> usize {
        self.points.len() + usize::from(self.pending.is_some())
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every visible point, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.points.iter().chain(self.pending.iter())
    }

    /// The latest point.
    pub fn last(&self) -> Option<&T> {
        self.pending.as_ref().or(self.points.last())
    }

    /// The visible points as a vector (cloned).
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().cloned().collect()
    }

    /// Stored points before the resolution halves.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Raw points merged into the last visible point so far when it is still partial (0 when
    /// every visible point is complete).
    pub fn filled(&self) -> u64 {
        self.filled
    }

    /// Rebuilds a series from its parts — `capacity`, `stride`, the visible points (oldest first)
    /// and `filled` as returned by [`Downsampled::filled`] — as saved in a session, so that it
    /// continues exactly as the original would. Refuses parts the series could not have reached:
    /// capacity below 2, a stride that is not a power of two, `filled` not below the stride, or
    /// too many points for the capacity.
    pub fn from_parts(
        capacity: usize,
        stride: u64,
        mut points: Vec<T>,
        filled: u64,
    ) -> Result<Self, PartsError> {
        if capacity < 2 {
            return Err(PartsError::CapacityBelowTwo(capacity));
        }
        if !stride.is_power_of_two() {
            return Err(PartsError::StrideNotPowerOfTwo(stride));
        }
        if filled >= stride {
            return Err(PartsError::PartialPointTooFull { filled, stride });
        }
        let pending = if filled > 0 {
            match points.pop() {
                Some(p) => Some(p),
                None => return Err(PartsError::PartialPointMissing(filled)),
            }
        } else {
            None
        };
        if points.len() >= capacity {
            return Err(PartsError::TooManyPoints {
                points: points.len(),
                capacity,
            });
        }
        Ok(Downsampled {
            capacity,
            stride,
            points,
            pending,
            filled,
        })
    }
}

impl<T> Downsampled<T> {
    /// Every visible point, borrowed as a [`Prefix`].
    pub fn all(&self) -> Prefix<'_, T> {
        Prefix {
            stored: &self.points,
            pending: self.pending.as_ref(),
        }
    }

    /// The leading visible points for which `keep` holds. `keep` must be true on a prefix of the
    /// series and false after it, as "step ≤ cursor" is on a series ordered by step; the cut is
    /// found by bisection, so this costs O(log n).
    pub fn prefix(&self, keep: impl Fn(&T) -> bool) -> Prefix<'_, T> {
        let n = self.points.partition_point(&keep);
        if n < self.points.len() {
            Prefix {
                stored: &self.points[..n],
                pending: None,
            }
        } else {
            Prefix {
                stored: &self.points,
                pending: self.pending.as_ref().filter(|p| keep(p)),
            }
        }
    }
}

/// A borrowed run of leading points of a [`Downsampled`] series: what a replay cursor shows.
#[derive(Debug)]
pub struct Prefix<'a, T> {
    stored: &'a [T],
    pending: Option<&'a T>,
}

impl<T> Clone for Prefix<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Prefix<'_, T> {}

impl<'a, T> Prefix<'a, T> {
    /// An empty prefix.
    pub fn empty() -> Self {
        Prefix {
            stored: &[],
            pending: None,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.stored.len() + usize::from(self.pending.is_some())
    }

    /// True when there is no point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The points, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &'a T> + Clone + 'a {
        self.stored.iter().chain(self.pending)
    }

    /// The point at `index` (0 = oldest).
    pub fn get(&self, index: usize) -> Option<&'a T> {
        match index.checked_sub(self.stored.len()) {
            None => self.stored.get(index),
            Some(0) => self.pending,
            Some(_) => None,
        }
    }

    /// The latest point.
    pub fn last(&self) -> Option<&'a T> {
        self.pending.or(self.stored.last())
    }

    /// The points as at most two slices, oldest first: the stored points and the partial one.
    pub fn slices(&self) -> [&'a [T]; 2] {
        [
            self.stored,
            self.pending.map_or(&[][..], std::slice::from_ref),
        ]
    }

    /// The points from index `start` on.
    pub fn skip(&self, start: usize) -> Prefix<'a, T> {
        let start = start.min(self.len());
        match start.checked_sub(self.stored.len()) {
            None => Prefix {
                stored: &self.stored[start..],
                pending: self.pending,
            },
            Some(0) => Prefix {
                stored: &[],
                pending: self.pending,
            },
            Some(_) => Prefix::empty(),
        }
    }

    /// Index of the first point for which `before` is false (`before` true on a prefix).
    pub fn partition_point(&self, before: impl Fn(&T) -> bool) -> usize {
        let n = self.stored.partition_point(&before);
        if n == self.stored.len() && self.pending.is_some_and(&before) {
            n + 1
        } else {
            n
        }
    }
}

impl<T: Merge> Default for Downsampled<T> {
    fn default() -> Self {
        Downsampled::new(4096)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Mean {
        sum: f64,
        n: u64,
        last: u64,
    }

    impl Merge for Mean {
        fn merge(&mut self, newer: &Self) {
            self.sum += newer.sum;
            self.n += newer.n;
            self.last = newer.last;
        }
    }

    #[test]
    fn prefixes_cut_where_the_predicate_turns_false() {
        let mut s = Downsampled::new(8);
        for i in 1..=21u64 {
            s.push(Mean {
                sum: i as f64,
                n: 1,
                last: i,
            });
        }
        // Stride 4 after two halvings: stored points end at 4, 8, 12, 16, 20; pending 21.
        let all: Vec<u64> = s.all().iter().map(|m| m.last).collect();
        assert_eq!(all, s.iter().map(|m| m.last).collect::<Vec<_>>());
        for cut in 0..=25u64 {
            let p = s.prefix(|m| m.last <= cut);
            let want: Vec<u64> = all.iter().copied().filter(|&l| l <= cut).collect();
            let got: Vec<u64> = p.iter().map(|m| m.last).collect();
            assert_eq!(got, want, "cut {cut}");
            assert_eq!(p.len(), want.len());
            assert_eq!(p.last().map(|m| m.last), want.last().copied());
            let sliced: Vec<u64> = p
                .slices()
                .iter()
                .flat_map(|s| s.iter().map(|m| m.last))
                .collect();
            assert_eq!(sliced, want);
            let rev: Vec<u64> = p.iter().rev().map(|m| m.last).collect();
            assert_eq!(rev, want.iter().rev().copied().collect::<Vec<_>>());
            for (i, w) in want.iter().enumerate() {
                assert_eq!(p.get(i).map(|m| m.last), Some(*w));
            }
            assert!(p.get(want.len()).is_none());
            for start in 0..=want.len() + 1 {
                let tail: Vec<u64> = p.skip(start).iter().map(|m| m.last).collect();
                assert_eq!(tail, want.iter().skip(start).copied().collect::<Vec<_>>());
            }
            for x in 0..=25u64 {
                let pp = p.partition_point(|m| m.last < x);
                assert_eq!(pp, want.iter().filter(|&&l| l < x).count());
            }
        }
        assert!(Prefix::<Mean>::empty().is_empty());
    }

    #[test]
    fn memory_is_bounded_and_nothing_is_lost_from_the_totals() {
        let mut s = Downsampled::new(64);
        for i in 0..100_000u64 {
            s.push(Mean {
                sum: i as f64,
                n: 1,
                last: i,
            });
            assert!(s.len() <= 65);
        }
        let total: f64 = s.iter().map(|m| m.sum).sum();
        let count: u64 = s.iter().map(|m| m.n).sum();
        assert_eq!(count, 100_000);
        assert_eq!(total, (0..100_000u64).sum::<u64>() as f64);
        assert_eq!(s.last().unwrap().last, 99_999);
        // Uniform resolution: every stored point covers `stride` raw points.
        let stride = s.stride();
        assert!(s.points.iter().all(|m| m.n == stride));
        // Ordered.
        let lasts: Vec<u64> = s.iter().map(|m| m.last).collect();
        assert!(lasts.windows(2).all(|w| w[0] < w[1]));
    }
}
