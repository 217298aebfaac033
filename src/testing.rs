//! Helpers shared by the unit tests.

/// A proptest configuration drawing its cases from the fixed `seed`: the same cases on every
/// run, so that a failure is reproducible.
pub fn proptest_config(seed: u64) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        ..proptest::test_runner::Config::default()
    }
}
