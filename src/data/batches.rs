//! Seeded orders in which to visit examples: random permutations and the minibatch schedule built
//! on them.
//!
//! Every order is a pure function of (number of examples, seed, epoch), so a run can be resumed
//! from any global step and will see exactly the minibatches an uninterrupted run would have. The
//! shuffle is implemented here (Fisher–Yates with an unbiased bounded draw on the raw 64-bit
//! output of [`Rng`]) rather than taken from `rand`, so orders depend only on the generator's
//! output, which is fixed by its algorithm, and not on how a `rand` version maps it to ranges.

use rand::RngCore;

use crate::seed::{Rng, rng_for};

/// A uniformly random permutation of `0..n` drawn from `rng`.
pub fn permutation(n: usize, rng: &mut Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    // Fisher–Yates: position i receives an element chosen uniformly from positions 0..=i.
    for i in (1..n).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        order.swap(i, j);
    }
    order
}

/// A uniform draw from `0..bound` (`bound > 0`) without modulo bias: the high half of a 64×64-bit
/// product, rejecting the few low halves that would over-represent some outcomes.
fn below(rng: &mut Rng, bound: u64) -> u64 {
    debug_assert!(bound > 0);
    // Values of the low half below `threshold` (= 2^64 mod bound) must be rejected.
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let product = u128::from(rng.next_u64()) * u128::from(bound);
        if (product as u64) >= threshold {
            return (product >> 64) as u64;
        }
    }
}

/// The order in which a pass over `n` examples visits them in `epoch`: a permutation of `0..n`
/// drawn from `rng_for(seed, &format!("minibatch-order/{epoch}"))`.
pub fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    permutation(n, &mut rng_for(seed, &format!("minibatch-order/{epoch}")))
}

/// Minibatches of exactly `batch` example indices, epoch after epoch, addressed by global step.
///
/// Epoch `e` visits the examples in the order [`epoch_order`]`(n, seed, e)`, cut into
/// `steps_per_epoch() = n / batch` consecutive minibatches; the `n mod batch` examples left over
/// at the end of an epoch's order are skipped in that epoch (a different set each epoch). Global
/// step `s` is step `s mod steps_per_epoch()` of epoch `s / steps_per_epoch()`.
///
/// If `n < batch`, every epoch is a single minibatch of all `n` examples (the only case in which a
/// minibatch is smaller than `batch`).
///
/// The current epoch's order is cached, so consecutive steps cost a slice; jumping to a step in
/// another epoch recomputes that epoch's order (O(n)).
#[derive(Debug, Clone)]
pub struct MinibatchSchedule {
    n: usize,
    batch: usize,
    seed: u64,
    steps_per_epoch: u64,
    cached_epoch: Option<u64>,
    order: Vec<usize>,
}

impl MinibatchSchedule {
    /// A schedule over `n` examples in minibatches of `batch`, shuffled from `seed`.
    ///
    /// # Panics
    /// If `n` or `batch` is zero.
    pub fn new(n: usize, batch: usize, seed: u64) -> Self {
        assert!(n > 0, "a minibatch schedule needs at least one example");
        assert!(batch > 0, "minibatches need at least one example");
        let steps_per_epoch = (n / batch).max(1) as u64;
        MinibatchSchedule {
            n,
            batch,
            seed,
            steps_per_epoch,
            cached_epoch: None,
            order: Vec::new(),
        }
    }

    /// The number of examples the schedule draws from.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The requested minibatch size (minibatches have `min(batch, n)` examples).
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The seed the orders are drawn from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Minibatches per epoch: `n / batch`, or 1 if `n < batch`.
    pub fn steps_per_epoch(&self) -> u64 {
        self.steps_per_epoch
    }

    /// The epoch that `global_step` falls in.
    pub fn epoch_of(&self, global_step: u64) -> u64 {
        global_step / self.steps_per_epoch
    }

    /// The position of `global_step` within its epoch (0-based).
    pub fn step_in_epoch(&self, global_step: u64) -> u64 {
        global_step % self.steps_per_epoch
    }

    /// The example indices of minibatch `global_step` (counting from 0 over all epochs).
    pub fn batch_at(&mut self, global_step: u64) -> &[usize] {
        self.position(global_step).2
    }

    /// `(epoch, step_in_epoch, indices)` of minibatch `global_step`.
    pub fn position(&mut self, global_step: u64) -> (u64, u64, &[usize]) {
        let epoch = self.epoch_of(global_step);
        let step = self.step_in_epoch(global_step);
        if self.cached_epoch != Some(epoch) {
            self.order = epoch_order(self.n, self.seed, epoch);
            self.cached_epoch = Some(epoch);
        }
        let size = self.batch.min(self.n);
        // step < steps_per_epoch ≤ n / size, so the range lies within the order.
        let start = step as usize * size;
        (epoch, step, &self.order[start..start + size])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn is_permutation(order: &[usize], n: usize) -> bool {
        let mut seen = vec![false; n];
        order.len() == n
            && order
                .iter()
                .all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
    }

    #[test]
    fn epoch_order_is_a_deterministic_permutation() {
        for n in [0, 1, 2, 3, 10, 1000] {
            let order = epoch_order(n, 42, 0);
            assert!(is_permutation(&order, n), "{n}: {order:?}");
            assert_eq!(order, epoch_order(n, 42, 0));
        }
        let a = epoch_order(1000, 42, 0);
        assert_ne!(a, epoch_order(1000, 42, 1), "epochs must differ");
        assert_ne!(a, epoch_order(1000, 43, 0), "seeds must differ");
        assert_ne!(a, (0..1000).collect::<Vec<_>>(), "must be shuffled");
    }

    #[test]
    fn epoch_order_is_pinned() {
        // The order must never change for a given (n, seed, epoch): resumed and reproduced runs
        // depend on it. Recompute this constant only on a deliberate, documented format change.
        // (The value was cross-checked against an independent reimplementation of seed::rng_for,
        // xoshiro256++ and this shuffle.)
        let order = epoch_order(10, 0, 0);
        assert_eq!(order, PINNED_ORDER, "epoch_order(10, 0, 0) changed");
    }
    const PINNED_ORDER: [usize; 10] = [4, 0, 6, 3, 7, 2, 9, 5, 1, 8];

    #[test]
    fn permutation_is_roughly_uniform() {
        // Position of element 0 over many shuffles of 4 elements: each of the 4 positions
        // should be hit about a quarter of the time.
        let mut rng = rng_for(7, "uniformity");
        let mut hits = [0usize; 4];
        let trials = 40_000;
        for _ in 0..trials {
            let p = permutation(4, &mut rng);
            hits[p.iter().position(|&x| x == 0).unwrap()] += 1;
        }
        for h in hits {
            let frac = h as f64 / trials as f64;
            assert!((frac - 0.25).abs() < 0.015, "{hits:?}");
        }
    }

    #[test]
    fn below_is_in_range_and_unbiased_for_awkward_bounds() {
        let mut rng = rng_for(1, "below");
        for bound in [1, 2, 3, 7, u64::MAX, (1 << 63) + 1] {
            for _ in 0..100 {
                assert!(below(&mut rng, bound) < bound);
            }
        }
        // For bound ≈ 2^64 · 2/3, a biased `x % bound` lands in the lower half of the range
        // two times in three; an unbiased draw, half the time.
        let bound = 0xaaaa_aaaa_aaaa_aaab_u64;
        let low = (0..10_000)
            .filter(|_| below(&mut rng, bound) < bound / 2)
            .count();
        assert!((4_700..5_300).contains(&low), "{low}");
    }

    #[test]
    fn consecutive_steps_cover_an_epoch_without_repetition() {
        let (n, batch) = (103, 10);
        let mut s = MinibatchSchedule::new(n, batch, 5);
        assert_eq!(s.steps_per_epoch(), 10);
        for epoch in 0..3u64 {
            let mut seen = HashSet::new();
            for step in 0..s.steps_per_epoch() {
                let global = epoch * s.steps_per_epoch() + step;
                let (e, k, idx) = s.position(global);
                assert_eq!((e, k), (epoch, step));
                assert_eq!(idx.len(), batch);
                for &i in idx {
                    assert!(i < n);
                    assert!(seen.insert(i), "index {i} repeated in epoch {epoch}");
                }
            }
            assert_eq!(seen.len(), 100);
            // The batches are the epoch's order, in order.
            let order = epoch_order(n, 5, epoch);
            let seen_in_order: Vec<usize> = (0..10)
                .flat_map(|k| s.batch_at(epoch * 10 + k).to_vec())
                .collect();
            assert_eq!(seen_in_order, order[..100]);
        }
    }

    #[test]
    fn jumping_equals_iterating() {
        let mut walked = MinibatchSchedule::new(57, 8, 11);
        let mut trail = Vec::new();
        for step in 0..40 {
            trail.push(walked.batch_at(step).to_vec());
        }
        // A fresh schedule jumping straight to each step, in scrambled order.
        let mut jumper = MinibatchSchedule::new(57, 8, 11);
        for step in [39u64, 0, 13, 7, 14, 38, 21, 20, 6, 1] {
            assert_eq!(
                jumper.batch_at(step),
                trail[step as usize].as_slice(),
                "step {step}"
            );
            let mut fresh = MinibatchSchedule::new(57, 8, 11);
            assert_eq!(fresh.batch_at(step), trail[step as usize].as_slice());
        }
        assert_eq!(walked.epoch_of(39), 39 / 7);
        assert_eq!(walked.step_in_epoch(39), 39 % 7);
    }

    #[test]
    fn small_sets_make_one_batch_per_epoch() {
        let mut s = MinibatchSchedule::new(5, 8, 3);
        assert_eq!(s.steps_per_epoch(), 1);
        assert_eq!(s.epoch_of(4), 4);
        let b = s.batch_at(4).to_vec();
        assert!(is_permutation(&b, 5));
        assert_eq!(b, epoch_order(5, 3, 4));
        let mut exact = MinibatchSchedule::new(8, 8, 3);
        assert_eq!(exact.steps_per_epoch(), 1);
        assert_eq!(exact.batch_at(0).len(), 8);
        let mut ones = MinibatchSchedule::new(3, 1, 3);
        assert_eq!(ones.steps_per_epoch(), 3);
        let all: HashSet<usize> = (0..3).map(|k| ones.batch_at(k)[0]).collect();
        assert_eq!(all.len(), 3);
    }

    #[test]
    fn huge_step_numbers_do_not_overflow() {
        let mut s = MinibatchSchedule::new(10, 3, 0);
        let step = u64::MAX;
        let (e, k, idx) = s.position(step);
        assert_eq!((e, k), (u64::MAX / 3, u64::MAX % 3));
        assert_eq!(idx.len(), 3);
    }
}
