//! The `lockstep` command line: run isolation specs, check lessons, replay schedules.

const USAGE: &str =
    "usage: lockstep spec FILE.spec... | check DIR [--json] | run LESSON [--fix F] [--schedule S]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        // Subcommands are added here, one arm each.
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            0
        }
        _ => {
            eprintln!("{USAGE}");
            2
        }
    };
    std::process::exit(code);
}
