//! Takes over the terminal as the dashboard does, then panics. The terminal end-to-end test
//! runs it to check that the chained panic hook gives the terminal back first, so the panic
//! message lands on the normal screen and the shell stays usable.

use std::time::Duration;

use gradrace::tui::terminal;

fn main() {
    let _tui = terminal::enter().expect("the terminal can be taken over");
    let _guard = terminal::Guard;
    std::thread::sleep(Duration::from_millis(300));
    // A panic on another thread (as in the engine) restores the terminal too.
    let worker = std::thread::spawn(|| panic!("deliberate panic for the terminal test"));
    let _ = worker.join();
    assert!(terminal::panicked(), "the hook saw the panic");
    std::process::exit(3);
}
