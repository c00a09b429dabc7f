//! Differential tests against a real PostgreSQL server (issue 9).
//!
//! With a server configured (`LOCKSTEP_PG`, or `target/pg/conninfo` written by
//! `tests/pg/start.sh`):
//! - the real-server harness must reproduce every expected file in tests/conformance byte for byte (this
//!   validates the harness itself);
//! - every regression spec in `tests/pg/regressions/` must still give its recorded server
//!   output, and the engine must agree with it unless the spec is listed in
//!   `tests/pg/regressions/known-divergences.txt`;
//! - a fixed-seed batch of generated scenarios must give the same output on the server and on
//!   the engine, except for divergences of the same kind (signature) as a known one.
//!
//! Without a server, every test prints a `skipped:` line and passes, so `cargo test` works on
//! a machine without PostgreSQL. The tests share one server, so they take turns: concurrent
//! runs would compete for the CPU and blur the timing that lock-wait detection relies on, and
//! the generated scenarios all use tables `t` and `u`.

use lockstep::spec::parse::Spec;
use lockstep_tests::differential::{self, EngineRunner, Verdict};
use lockstep_tests::pg_tester::{self, Options};
use lockstep_tests::scenario;
use std::sync::Mutex;

const CONFORMANCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance/postgres");

const REGRESSIONS: &str = differential::REGRESSIONS_DIR;

/// Specs whose expected output needs a newer server than Debian 12's PostgreSQL 15:
/// lock-nowait tests a PostgreSQL 17+ lock-queue rule (see MANIFEST.md).
const NEEDS_NEWER_SERVER: &[&str] = &["lock-nowait"];

/// The fixed seed and size of the generated batch that `make test` compares.
const BATCH_SEED: u64 = 20_261_125;
const BATCH_COUNT: u64 = 40;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn server() -> Option<String> {
    let conninfo = pg_tester::conninfo_from_env();
    if conninfo.is_none() {
        println!("skipped: no PostgreSQL server (run make test)");
    }
    conninfo
}

/// The names of the regression specs, sorted.
fn regression_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(REGRESSIONS)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    name.strip_suffix(".spec").map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A regression spec and the real server's recorded output.
fn regression(name: &str) -> (Spec, String) {
    let spec_path = format!("{REGRESSIONS}/{name}.spec");
    let text = std::fs::read_to_string(&spec_path).expect("regression spec");
    let expected = std::fs::read_to_string(format!("{REGRESSIONS}/{name}.out")).expect("out");
    let spec = Spec::parse(&text).unwrap_or_else(|e| panic!("{spec_path}: {e}"));
    (spec, expected)
}

/// The signatures of the known divergences: a generated scenario that diverges the same way
/// is the same pending engine bug, not a new one.
fn known_signatures(engine: &EngineRunner) -> Vec<String> {
    differential::known_divergences()
        .iter()
        .filter_map(|name| {
            let (spec, expected) = regression(name);
            differential::signature(&expected, &engine(&spec))
        })
        .collect()
}

#[test]
fn the_real_server_harness_reproduces_every_postgres_expected_file() {
    let Some(conninfo) = server() else { return };
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let skip: Vec<String> = NEEDS_NEWER_SERVER.iter().map(|s| s.to_string()).collect();
    let report = pg_tester::check_directory(
        &conninfo,
        &format!("{CONFORMANCE}/specs"),
        &format!("{CONFORMANCE}/expected"),
        &skip,
        &Options::default(),
    );
    for line in &report.lines {
        println!("{line}");
    }
    println!(
        "harness: {} passed, {} failed, {} skipped",
        report.passed, report.failed, report.skipped
    );
    assert_eq!(report.failed, 0, "{:#?}", report.lines);
    assert_eq!(report.passed + report.skipped, 29);
}

#[test]
fn regression_specs_still_give_their_recorded_server_output_and_the_engine_agrees() {
    let Some(conninfo) = server() else { return };
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let known = differential::known_divergences();
    let names = regression_names();
    let engine = differential::engine_runner();
    let mut failures = Vec::new();
    for name in &names {
        let (spec, expected) = regression(name);
        match pg_tester::run_spec(&conninfo, &spec, &Options::default()) {
            Ok(output) if output == expected => {}
            Ok(output) => failures.push(format!(
                "{name}: server output changed: {}",
                pg_tester::first_difference(&expected, &output)
            )),
            Err(e) => failures.push(format!("{name}: server run failed: {e}")),
        }
        let Some(engine) = engine.as_deref() else {
            continue;
        };
        let listed = known.contains(name);
        match differential::signature(&expected, &engine(&spec)) {
            None if listed => {
                println!(
                    "regression {name}: engine agrees now: remove it from known-divergences.txt"
                )
            }
            None => println!("regression {name}: engine agrees"),
            Some(signature) if listed => {
                println!("regression {name}: known divergence (engine fix pending): {signature}")
            }
            Some(signature) => failures.push(format!("{name}: engine diverges: {signature}")),
        }
    }
    println!("regressions: {} specs", names.len());
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_fixed_seed_batch_of_generated_scenarios_agrees_on_the_server_and_the_engine() {
    let Some(conninfo) = server() else { return };
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let engine = differential::engine_runner();
    if engine.is_none() {
        println!("engine has no spec runner: each scenario only runs twice on the server");
    }
    let known = engine.as_deref().map(known_signatures).unwrap_or_default();
    let report = differential::run_batch(
        &conninfo,
        BATCH_SEED,
        BATCH_COUNT,
        engine.as_deref(),
        &Options::default(),
        false,
    );
    let mut failures = Vec::new();
    for comparison in &report.comparisons {
        match &comparison.verdict {
            Verdict::Agree | Verdict::ServerOnly => {}
            // Timing-dependent on the real server: not the engine's fault, but worth seeing.
            Verdict::Unstable => println!("scenario {}: unstable on the server", comparison.seed),
            Verdict::ServerFailed(why) => {
                failures.push(format!("scenario {}: server run failed: {why}", comparison.seed))
            }
            Verdict::Diverged { signature, .. } if known.contains(signature) => println!(
                "scenario {}: known divergence (engine fix pending): {signature}",
                comparison.seed
            ),
            Verdict::Diverged {
                first_difference, ..
            } => failures.push(format!(
                "scenario {}: {first_difference}\n(reproduce: pg-isolation generate {} > x.spec)\n{}",
                comparison.seed, comparison.seed, comparison.spec
            )),
        }
    }
    println!("{}", report.summary());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A stand-in engine for testing the shrinker: the real server, but blind to NOWAIT failures.
fn server_without_nowait_errors(conninfo: String) -> Box<EngineRunner> {
    Box::new(move |spec: &Spec| {
        let output =
            pg_tester::run_spec(&conninfo, spec, &Options::default()).map_err(|e| e.message)?;
        Ok(output
            .lines()
            .filter(|line| !line.contains("could not obtain lock on row"))
            .map(|line| format!("{line}\n"))
            .collect())
    })
}

#[test]
fn shrinking_keeps_a_divergence_while_dropping_what_does_not_cause_it() {
    let Some(conninfo) = server() else { return };
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let options = Options::default();
    let fake_engine = server_without_nowait_errors(conninfo.clone());
    // Find a generated scenario where NOWAIT fails (a few percent of them do).
    let found = (0..100).find_map(|index| {
        let spec = scenario::generate(scenario::scenario_seed(99, index));
        let output = pg_tester::run_spec(&conninfo, &spec, &options).ok()?;
        output
            .contains("could not obtain lock on row")
            .then_some(spec)
    });
    let spec = found.expect("a scenario with a NOWAIT failure among 100");
    let minimal = differential::shrink(&conninfo, &spec, fake_engine.as_ref(), &options, 80);
    let steps = |s: &Spec| s.sessions.iter().map(|s| s.steps.len()).sum::<usize>();
    println!(
        "shrunk from {} to {} steps:\n{minimal}",
        steps(&spec),
        steps(&minimal)
    );
    assert_eq!(minimal.permutations.len(), 1);
    assert!(steps(&minimal) <= steps(&spec));
    let output = pg_tester::run_spec(&conninfo, &minimal, &options).expect("server run");
    assert!(output.contains("could not obtain lock on row"), "{output}");
    assert!(minimal.permutations[0].entries.iter().any(|e| minimal
        .step(&e.step)
        .is_some_and(|(_, s)| s.sql.contains("NOWAIT"))));
}
