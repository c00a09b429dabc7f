//! `pg-isolation`: runs isolation specs on a real PostgreSQL server and prints isolationtester's
//! output, or checks a directory of specs against their expected files.
//!
//! ```text
//! pg-isolation run FILE.spec...                 # output of each spec, concatenated
//! pg-isolation check SPECS_DIR EXPECTED_DIR [--skip NAME]...
//! ```
//! The server comes from `LOCKSTEP_PG` or `target/pg/conninfo` (see tests/pg/start.sh).

use lockstep_tests::pg_tester::{self, Options};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(conninfo) = pg_tester::conninfo_from_env() else {
        eprintln!("pg-isolation: no PostgreSQL server: set LOCKSTEP_PG or run tests/pg/start.sh");
        return ExitCode::from(2);
    };
    let options = Options::default();
    match args.first().map(String::as_str) {
        Some("run") if args.len() > 1 => {
            let mut failed = false;
            for path in &args[1..] {
                let text = match std::fs::read_to_string(path) {
                    Ok(text) => text,
                    Err(e) => {
                        eprintln!("{path}: {e}");
                        failed = true;
                        continue;
                    }
                };
                match pg_tester::run_spec_text(&conninfo, &text, &options) {
                    Ok(output) => print!("{output}"),
                    Err(e) => {
                        print!("{}", e.output);
                        eprintln!("{path}: {e}");
                        failed = true;
                    }
                }
            }
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Some("check") if args.len() >= 3 => {
            let mut skip = Vec::new();
            let mut rest = args[3..].iter();
            while let Some(arg) = rest.next() {
                match (arg.as_str(), rest.next()) {
                    ("--skip", Some(name)) => skip.push(name.clone()),
                    _ => {
                        eprintln!("pg-isolation: unexpected argument {arg}");
                        return ExitCode::from(2);
                    }
                }
            }
            let report = pg_tester::check_directory(&conninfo, &args[1], &args[2], &skip, &options);
            for line in &report.lines {
                println!("{line}");
            }
            println!(
                "harness: {} passed, {} failed, {} skipped",
                report.passed, report.failed, report.skipped
            );
            if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: pg-isolation run FILE.spec... | check SPECS_DIR EXPECTED_DIR [--skip NAME]...");
            ExitCode::from(2)
        }
    }
}
