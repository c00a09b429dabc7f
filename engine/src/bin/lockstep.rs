//! The `lockstep` command line: run isolation specs, check lessons, replay schedules.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    eprintln!("usage: lockstep spec FILE.spec... | check DIR [--json] | run LESSON [--fix F] [--schedule S]");
    let _ = args;
    std::process::exit(2);
}
