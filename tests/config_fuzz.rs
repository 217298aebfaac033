//! Arbitrary bytes as an experiment file never panic: they parse or give a positioned error.

use gradrace::config::builtin::BUILTIN;
use gradrace::config::load::load_experiment;
use gradrace::config::parse_experiment;
use proptest::prelude::*;

proptest! {
    // A fixed seed: the same cases on every run (a failure is reproducible).
    #![proptest_config(proptest::test_runner::Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(2030),
        ..proptest::test_runner::Config::default()
    })]
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = parse_experiment(&text, "fuzz.ron");
    }

    #[test]
    fn arbitrary_bytes_in_a_file_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzz.ron");
        std::fs::write(&path, &bytes).unwrap();
        if let Err(e) = load_experiment(&path) {
            prop_assert!(e.to_string().contains("fuzz.ron"));
        }
    }

    #[test]
    fn mutated_shipped_experiments_never_panic(
        which in 0usize..3,
        cut in 0usize..2000,
        insert in "[ -~]{0,8}",
    ) {
        let original = BUILTIN[which].1;
        let mut at = cut.min(original.len());
        while !original.is_char_boundary(at) {
            at -= 1;
        }
        let mutated = format!("{}{}{}", &original[..at], insert, &original[at..]);
        if let Err(e) = parse_experiment(&mutated, "mutated.ron") {
            prop_assert!(!e.0.message.is_empty());
        }
    }
}

#[test]
fn shipped_experiments_parse() {
    for (name, text) in BUILTIN {
        let e = parse_experiment(text, name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.name, name);
        assert!(!e.lanes.is_empty());
    }
}
