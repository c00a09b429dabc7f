//! The `lockstep` command line: run isolation specs, check lessons, replay schedules.

fn main() {
    eprintln!("usage: lockstep spec FILE.spec... | check DIR [--json] | run LESSON [--fix F] [--schedule S]");
    std::process::exit(2);
}
