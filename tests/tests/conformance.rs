//! PostgreSQL's own isolation tests as the yardstick: every spec in
//! `tests/conformance/postgres/specs` runs on the simulated server through the engine's
//! isolation tester, and its output is compared byte for byte with `expected/NAME.out`.
//!
//! Only `NAME.out` counts: the `NAME_1.out` alternatives are upstream's outputs under other
//! default isolation levels, and accepting them would let wrong READ COMMITTED behaviour pass.
//! The test prints `conformance: N passed, M failed` with a diff snippet per failure, and fails
//! only when a spec listed in `tests/conformance-must-pass.txt` fails, so the list can only
//! grow as the engine gets better.

use std::path::{Path, PathBuf};

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/postgres")
}

fn must_pass() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance-must-pass.txt");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The first differing line, with the expected and the actual text around it.
fn diff_snippet(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let first = (0..e.len().max(a.len()))
        .find(|&i| e.get(i) != a.get(i))
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(2);
    let mut out = format!("  first difference at line {}\n  expected:\n", first + 1);
    for line in e.iter().skip(from).take(6) {
        out.push_str(&format!("    |{line}\n"));
    }
    out.push_str("  actual:\n");
    for line in a.iter().skip(from).take(6) {
        out.push_str(&format!("    |{line}\n"));
    }
    out
}

#[test]
fn postgresql_isolation_specs_match_their_expected_output() {
    let dir = conformance_dir();
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir.join("specs"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "spec"))
        .collect();
    specs.sort();
    let required = must_pass();
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for path in &specs {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let expected = std::fs::read_to_string(dir.join("expected").join(format!("{name}.out")))
            .unwrap_or_default();
        let actual = match lockstep::spec::run_text(&text) {
            Ok(out) => out,
            Err(e) => format!("error: {e}\n"),
        };
        if actual == expected {
            passed.push(name);
        } else {
            failed.push((name, diff_snippet(&expected, &actual)));
        }
    }
    println!(
        "conformance: {} passed, {} failed",
        passed.len(),
        failed.len()
    );
    for (name, snippet) in &failed {
        println!("FAILED {name}\n{snippet}");
    }
    for name in &required {
        assert!(
            specs
                .iter()
                .any(|p| p.file_stem().is_some_and(|s| s == name.as_str())),
            "{name} is listed in conformance-must-pass.txt but there is no such spec"
        );
    }
    let regressed: Vec<&String> = failed
        .iter()
        .map(|(n, _)| n)
        .filter(|n| required.contains(n))
        .collect();
    assert!(
        regressed.is_empty(),
        "specs that must pass failed: {regressed:?}"
    );
}
