//! The `lockstep` command line: run isolation specs, check lessons, replay schedules.

use std::io::Write;

const USAGE: &str =
    "usage: lockstep spec FILE.spec... | check DIR [--json] | run LESSON [--fix F] [--schedule S]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        // Subcommands are added here, one arm each.
        Some("spec") => spec(&args[1..]),
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

/// `lockstep spec FILE.spec...`: prints isolationtester's output for each spec.
fn spec(files: &[String]) -> i32 {
    if files.is_empty() {
        eprintln!("{USAGE}");
        return 2;
    }
    // Like isolationtester, PGISOLATIONTIMEOUT (seconds) bounds how long a step may block
    // before it is cancelled; on the virtual clock this only matters to broken permutations.
    let mut options = lockstep::spec::RunOptions::default();
    if let Some(secs) = std::env::var("PGISOLATIONTIMEOUT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        options.step_wait_max = lockstep::time::Duration::from_secs(secs);
    }
    let mut code = 0;
    let stdout = std::io::stdout();
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{file}: {e}");
                code = 1;
                continue;
            }
        };
        let spec = match lockstep::spec::parse::Spec::parse(&text) {
            Ok(spec) => spec,
            Err(e) => {
                eprintln!("{file}: {e}");
                code = 1;
                continue;
            }
        };
        if let Err(e) = spec.validate() {
            eprintln!("{file}: {e}");
            code = 1;
            continue;
        }
        match lockstep::spec::run_with(&spec, &options) {
            Ok(out) => {
                let _ = stdout.lock().write_all(out.as_bytes());
            }
            Err(e) => {
                eprintln!("{file}: {e}");
                code = 1;
            }
        }
    }
    code
}
