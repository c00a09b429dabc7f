//! `pg-isolation`: runs isolation specs on a real PostgreSQL server and prints isolationtester's
//! output, or checks a directory of specs against their expected files.
//!
//! ```text
//! pg-isolation run FILE.spec...                 # output of each spec, concatenated
//! pg-isolation check SPECS_DIR EXPECTED_DIR [--skip NAME]...
//! pg-isolation fuzz [--seed N] [--count K] [--show] [--all]  # generated scenarios, server vs engine
//! pg-isolation generate SEED                        # print one generated scenario's spec
//! pg-isolation shrink FILE.spec                     # shrink a diverging spec, print it
//! ```
//! `fuzz` stops at the first divergence (with `--all`, runs the whole batch and takes one
//! divergence of each kind), shrinks it and writes it to tests/pg/regressions/.
//! The server comes from `LOCKSTEP_PG` or `target/pg/conninfo` (see tests/pg/start.sh).

use lockstep::spec::parse::Spec;
use lockstep_tests::differential::{self, Verdict};
use lockstep_tests::pg_tester::{self, Options};
use lockstep_tests::scenario;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let (Some("generate"), Some(seed)) = (args.first().map(String::as_str), args.get(1)) {
        let Ok(seed) = seed.parse::<u64>() else {
            eprintln!("pg-isolation: seed must be a number");
            return ExitCode::from(2);
        };
        print!("{}", scenario::generate(seed));
        return ExitCode::SUCCESS;
    }
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
        Some("fuzz") => fuzz(&conninfo, &args[1..], &options),
        Some("shrink") if args.len() == 2 => shrink_file(&conninfo, &args[1], &options),
        _ => {
            eprintln!("usage: pg-isolation run FILE.spec... | check SPECS_DIR EXPECTED_DIR [--skip NAME]... | fuzz [--seed N] [--count K] [--show] [--all] | generate SEED | shrink FILE.spec");
            ExitCode::from(2)
        }
    }
}

fn fuzz(conninfo: &str, args: &[String], options: &Options) -> ExitCode {
    let mut seed = 1u64;
    let mut count = 50u64;
    let mut show = false;
    let mut all = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let number = |value: Option<&String>| value.and_then(|v| v.parse::<u64>().ok());
        match arg.as_str() {
            "--seed" => match number(rest.next()) {
                Some(n) => seed = n,
                None => return usage_error("--seed needs a number"),
            },
            "--count" => match number(rest.next()) {
                Some(n) => count = n,
                None => return usage_error("--count needs a number"),
            },
            "--show" => show = true,
            "--all" => all = true,
            other => return usage_error(&format!("unexpected argument {other}")),
        }
    }
    let engine = differential::engine_runner();
    if engine.is_none() {
        eprintln!(
            "pg-isolation: no engine spec runner; running the server twice per scenario only"
        );
    }
    let report = differential::run_batch(conninfo, seed, count, engine.as_deref(), options, !all);
    // One representative per kind of divergence, in the order first seen.
    let mut kinds: Vec<(String, Vec<u64>)> = Vec::new();
    for comparison in &report.comparisons {
        let verdict = match &comparison.verdict {
            Verdict::Agree => "agree".to_string(),
            Verdict::ServerOnly => "server-only".to_string(),
            Verdict::Unstable => "UNSTABLE on the server".to_string(),
            Verdict::ServerFailed(why) => format!("SERVER FAILED: {why}"),
            Verdict::Diverged {
                first_difference,
                signature,
                ..
            } => {
                match kinds.iter_mut().find(|(s, _)| s == signature) {
                    Some((_, seeds)) => seeds.push(comparison.seed),
                    None => kinds.push((signature.clone(), vec![comparison.seed])),
                }
                format!("DIVERGED: {first_difference}")
            }
        };
        println!("scenario {}: {verdict}", comparison.seed);
        if show {
            println!("{}\n{}", comparison.spec, comparison.server);
        }
    }
    println!("{}", report.summary());
    let Some(engine) = engine else {
        return ExitCode::SUCCESS;
    };
    if kinds.is_empty() {
        return ExitCode::SUCCESS;
    }
    println!("{} kinds of divergence:", kinds.len());
    for (signature, seeds) in &kinds {
        println!(
            "  {} scenarios (first {}): {signature}",
            seeds.len(),
            seeds[0]
        );
    }
    let dir = differential::REGRESSIONS_DIR;
    let recorded = differential::regression_signatures(engine.as_ref());
    for (signature, seeds) in &kinds {
        if recorded.contains(signature) {
            println!("\n{signature}\n  already recorded in tests/pg/regressions");
            continue;
        }
        let spec = scenario::generate(seeds[0]);
        let minimal = differential::shrink(conninfo, &spec, engine.as_ref(), options, 150);
        let server = match differential::run_on_server(conninfo, &minimal, options) {
            Ok(output) => output,
            Err(verdict) => {
                eprintln!("shrunk spec for {signature} is not stable on the server ({verdict:?})");
                continue;
            }
        };
        let name = format!("gen-{}", seeds[0]);
        match differential::write_regression(dir, &name, &minimal, &server) {
            Ok(()) => println!("\n{signature}\n  -> tests/pg/regressions/{name}.spec"),
            Err(e) => eprintln!("writing the regression: {e}"),
        }
        println!("{minimal}");
    }
    ExitCode::FAILURE
}

/// Shrinks a spec on which the engine diverges from the server (bigger budget than `fuzz`).
fn shrink_file(conninfo: &str, path: &str, options: &Options) -> ExitCode {
    let spec = match std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| Spec::parse(&text).map_err(|e| e.to_string()))
    {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(engine) = differential::engine_runner() else {
        eprintln!("pg-isolation: no engine spec runner");
        return ExitCode::from(2);
    };
    let minimal = differential::shrink(conninfo, &spec, engine.as_ref(), options, 600);
    print!("{minimal}");
    ExitCode::SUCCESS
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("pg-isolation: {message}");
    ExitCode::from(2)
}
