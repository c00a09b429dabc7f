use super::*;

const CONFORMANCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/conformance/postgres");

fn postgres_specs() -> Vec<(String, String)> {
    let dir = format!("{CONFORMANCE}/specs");
    let mut specs: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {dir}: {e}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "spec"))
        .map(|path| {
            let name = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .to_string();
            let text = std::fs::read_to_string(&path).expect("spec text");
            (name, text)
        })
        .collect();
    specs.sort();
    specs
}

#[test]
fn every_postgres_spec_parses_and_its_permutations_match_the_expected_file() {
    let specs = postgres_specs();
    assert_eq!(specs.len(), 29);
    for (name, text) in specs {
        let spec = Spec::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = std::fs::read_to_string(format!("{CONFORMANCE}/expected/{name}.out"))
            .expect("expected file");
        let listed: Vec<&str> = expected
            .lines()
            .filter_map(|line| line.strip_prefix("starting permutation: "))
            .collect();
        let generated: Vec<String> = spec
            .permutations_to_run()
            .expect("permutations")
            .iter()
            .map(|p| {
                let names: Vec<&str> = p.entries.iter().map(|e| e.step.as_str()).collect();
                names.join(" ")
            })
            .collect();
        assert_eq!(generated, listed, "{name}");
        assert_eq!(
            expected.lines().next(),
            Some(format!("Parsed test spec with {} sessions", spec.sessions.len()).as_str()),
            "{name}"
        );
    }
}

#[test]
fn generated_permutation_counts_follow_the_tester() {
    let count = |name: &str| {
        let text =
            std::fs::read_to_string(format!("{CONFORMANCE}/specs/{name}.spec")).expect("spec");
        let spec = Spec::parse(&text).expect("parses");
        assert!(spec.permutations.is_empty());
        spec.permutations_to_run().expect("permutations").len()
    };
    assert_eq!(count("skip-locked"), 20);
    assert_eq!(count("nowait"), 6);
    assert_eq!(count("simple-write-skew"), 6);
}

#[test]
fn sessions_steps_and_markers_are_read_as_written() {
    let text =
        std::fs::read_to_string(format!("{CONFORMANCE}/specs/deadlock-hard.spec")).expect("spec");
    let spec = Spec::parse(&text).expect("parses");
    assert_eq!(spec.setup.len(), 1);
    assert!(spec.setup[0].starts_with("CREATE TABLE a1 ();"));
    assert!(spec.setup[0].ends_with("CREATE TABLE a8 ();"));
    assert_eq!(
        spec.teardown.as_deref(),
        Some("DROP TABLE a1, a2, a3, a4, a5, a6, a7, a8;")
    );
    assert_eq!(spec.sessions.len(), 8);
    let s8 = &spec.sessions[7];
    assert_eq!(s8.name, "s8");
    assert_eq!(
        s8.setup.as_deref(),
        Some("BEGIN; SET deadlock_timeout = '10ms';")
    );
    assert_eq!(
        s8.steps[1],
        Step {
            name: "s8a1".into(),
            sql: "LOCK TABLE a1;".into()
        }
    );
    let entries = &spec.permutations[0].entries;
    assert_eq!(entries[14].step, "s7a8");
    assert_eq!(entries[14].markers, vec![Marker::After("s8a1".into())]);
    assert_eq!(entries[15].markers, vec![Marker::Star]);
}

#[test]
fn quoted_names_comments_and_notices_markers_are_understood() {
    let text = "# a comment\nsetup { CREATE TABLE t (); }\nsetup{SELECT 1;}\n\
                session \"s 1\" # trailing comment\n\
                step \"a\"\"b\" { SELECT '#not a comment'; }\n\
                session s2 setup { BEGIN; } step b { COMMIT; } teardown { ABORT; }\n\
                permutation \"a\"\"b\"(b notices 2, *) b\n";
    let spec = Spec::parse(text).expect("parses");
    assert_eq!(spec.setup, vec!["CREATE TABLE t ();", "SELECT 1;"]);
    assert_eq!(spec.sessions[0].name, "s 1");
    assert_eq!(spec.sessions[0].steps[0].name, "a\"b");
    assert_eq!(spec.sessions[0].steps[0].sql, "SELECT '#not a comment';");
    assert_eq!(spec.sessions[1].teardown.as_deref(), Some("ABORT;"));
    assert_eq!(
        spec.permutations[0].entries[0].markers,
        vec![Marker::Notices("b".into(), 2), Marker::Star]
    );
}

#[test]
fn printing_a_spec_gives_text_that_parses_back_to_the_same_spec() {
    for (name, text) in postgres_specs() {
        let spec = Spec::parse(&text).expect("parses");
        let printed = spec.to_string();
        assert_eq!(Spec::parse(&printed), Ok(spec), "{name}:\n{printed}");
    }
}

#[test]
fn an_unknown_step_in_a_permutation_is_an_error_at_its_position() {
    let text = "session s1\nstep a { SELECT 1; }\npermutation a\n  missing\n";
    let error = Spec::parse(text).unwrap_err();
    assert_eq!((error.line, error.column), (4, 3));
    assert!(
        error.message.contains("undefined step \"missing\""),
        "{error}"
    );
}

#[test]
fn a_blocker_from_the_same_session_or_unknown_is_an_error() {
    let text = "session s1\nstep a { SELECT 1; }\nstep b { SELECT 2; }\npermutation a b(a)\n";
    let error = Spec::parse(text).unwrap_err();
    assert_eq!((error.line, error.column), (4, 17));
    let text = "session s1\nstep a { SELECT 1; }\npermutation a(zz)\n";
    let error = Spec::parse(text).unwrap_err();
    assert_eq!((error.line, error.column), (3, 15));
}

#[test]
fn malformed_input_gets_a_positioned_error_and_never_panics() {
    let cases: &[(&str, (u32, u32))] = &[
        ("", (1, 1)),
        ("session s1\n", (2, 1)),
        ("session s1 step a { SELECT 1;", (1, 19)),
        ("session s1 step a { x } step a { y }", (1, 30)),
        ("session \"s1", (1, 9)),
        ("session s1 step a { x } permutation", (1, 36)),
        ("session s1 step a { x } permutation a(a notices", (1, 48)),
        ("session s1 step a { x } permutation a(", (1, 39)),
        ("session s1 step a { x } permutation a(* b", (1, 41)),
        ("session s1 step a { x } permutation a(a notices)", (1, 48)),
        (
            "session s1 step a { x } permutation a(a notices 99999999999)",
            (1, 49),
        ),
        ("session s1 step a { x } ;", (1, 25)),
        ("setup SELECT", (1, 7)),
        ("session s1 step a { x } session s2 step a { y }", (1, 41)),
    ];
    for (text, (line, column)) in cases {
        let error = Spec::parse(text).unwrap_err();
        assert_eq!(
            (error.line, error.column),
            (*line, *column),
            "{text:?}: {error}"
        );
    }
    let huge = "#".repeat(SPEC_BYTES_MAX + 1);
    assert!(Spec::parse(&huge).unwrap_err().message.contains("limit"));
}

#[test]
fn too_many_generated_permutations_is_an_error_not_a_hang() {
    let mut text = String::new();
    for s in 0..8 {
        text.push_str(&format!("session s{s}\n"));
        for k in 0..3 {
            text.push_str(&format!("step s{s}x{k} {{ SELECT 1; }}\n"));
        }
    }
    let spec = Spec::parse(&text).expect("parses");
    assert!(spec.permutations_to_run().is_err());
    assert_eq!(interleaving_count(&[3, 3]), 20);
    assert_eq!(interleaving_count(&[2, 2]), 6);
    assert_eq!(interleaving_count(&[2, 2, 2]), 90);
}
