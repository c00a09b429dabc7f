//! Differential tests against a real PostgreSQL server (issue 9).
//!
//! With a server configured (`LOCKSTEP_PG`, or `target/pg/conninfo` written by
//! `tests/pg/start.sh`), the real-server harness must reproduce every shared expected file byte
//! for byte. Without one, the tests print a `skipped:` line and pass, so `cargo test` works on a
//! machine without PostgreSQL.

use lockstep_tests::pg_tester::{self, Options};

const CONFORMANCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/conformance/postgres"
);

/// Specs whose expected output needs a newer server than Debian 12's PostgreSQL 15:
/// lock-nowait tests a PostgreSQL 17+ lock-queue rule (see MANIFEST.md).
const NEEDS_NEWER_SERVER: &[&str] = &["lock-nowait"];

fn server() -> Option<String> {
    let conninfo = pg_tester::conninfo_from_env();
    if conninfo.is_none() {
        println!("skipped: no PostgreSQL server (run make test)");
    }
    conninfo
}

#[test]
fn the_real_server_harness_reproduces_every_shared_expected_file() {
    let Some(conninfo) = server() else { return };
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
