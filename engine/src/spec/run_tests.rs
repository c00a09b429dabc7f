//! The permutation runner's tests: the tester's output and its record, step by step.

use super::*;
use crate::spec::{run, run_text, run_with};

/// Specs written for Lockstep whose expected output came from PostgreSQL 15.18.
const CHECKED_AGAINST_POSTGRES: [(&str, &str, &str); 12] = [
    (
        "ser",
        include_str!("testdata/ser.spec"),
        include_str!("testdata/ser.out"),
    ),
    (
        "dl4",
        include_str!("testdata/dl4.spec"),
        include_str!("testdata/dl4.out"),
    ),
    (
        "rr2",
        include_str!("testdata/rr2.spec"),
        include_str!("testdata/rr2.out"),
    ),
    (
        "misc",
        include_str!("testdata/misc.spec"),
        include_str!("testdata/misc.out"),
    ),
    (
        "roa",
        include_str!("testdata/roa.spec"),
        include_str!("testdata/roa.out"),
    ),
    (
        "errs",
        include_str!("testdata/errs.spec"),
        include_str!("testdata/errs.out"),
    ),
    (
        "epq",
        include_str!("testdata/epq.spec"),
        include_str!("testdata/epq.out"),
    ),
    (
        "sp",
        include_str!("testdata/sp.spec"),
        include_str!("testdata/sp.out"),
    ),
    (
        "rr",
        include_str!("testdata/rr.spec"),
        include_str!("testdata/rr.out"),
    ),
    (
        "lim",
        include_str!("testdata/lim.spec"),
        include_str!("testdata/lim.out"),
    ),
    (
        "order",
        include_str!("testdata/order.spec"),
        include_str!("testdata/order.out"),
    ),
    (
        "dl3",
        include_str!("testdata/dl3.spec"),
        include_str!("testdata/dl3.out"),
    ),
];

#[test]
fn specs_print_what_postgresql_printed() {
    let options = RunOptions {
        step_wait_max: Duration::from_secs(60),
    };
    for (name, text, expected) in CHECKED_AGAINST_POSTGRES {
        let spec = Spec::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let actual = run_with(&spec, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(actual, expected, "{name}");
    }
}

#[test]
fn a_permutation_run_entry_by_entry_prints_what_the_whole_run_prints_for_it() {
    for (name, text, _) in CHECKED_AGAINST_POSTGRES {
        let spec = Spec::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let whole = run(&spec).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The first permutation runs on a fresh server in both.
        let header = "\nstarting permutation:";
        let first_start = whole.find(header).expect("a permutation header") + 1;
        let first_end = whole[first_start..]
            .find(header)
            .map_or(whole.len(), |i| first_start + i);
        let first = spec.permutations_to_run().unwrap().remove(0);
        let mut stepped = PermutationRun::start(Arc::new(spec), RunOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for entry in first.entries {
            stepped.launch(entry).unwrap();
        }
        stepped.finish().unwrap();
        assert_eq!(stepped.output(), &whole[..first_end], "{name}");
        let pieces: String = stepped.printed().iter().map(|p| p.text.as_str()).collect();
        assert_eq!(pieces, stepped.body(), "{name}");
    }
}

#[test]
fn a_blocked_step_is_reported_waiting_and_its_session_shows_it() {
    let text = "setup { CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0); }
        session s1
        setup { BEGIN; }
        step s1u { UPDATE t SET v = 1 WHERE id = 1; }
        step s1c { COMMIT; }
        session s2
        setup { BEGIN; }
        step s2u { UPDATE t SET v = 2 WHERE id = 1; }
        step s2c { COMMIT; }";
    let spec = Arc::new(Spec::parse(text).unwrap());
    let mut stepped = PermutationRun::start(spec, RunOptions::default()).unwrap();
    let entry = |s: &str| PermutationEntry {
        step: s.to_string(),
        markers: Vec::new(),
    };
    stepped.launch(entry("s1u")).unwrap();
    let before = stepped.clone();
    stepped.launch(entry("s2u")).unwrap();
    assert!(stepped
        .output()
        .ends_with("step s2u: UPDATE t SET v = 2 WHERE id = 1; <waiting ...>\n"));
    assert_eq!(
        stepped.progress(),
        vec![
            SessionProgress::Idle,
            SessionProgress::Waiting { step: "s2u".into() }
        ]
    );
    assert_eq!(
        stepped.printed().last().map(|p| &p.what),
        Some(&Report::Launched {
            step: "s2u".into(),
            waiting: true
        })
    );
    let printed_before = stepped.printed().len();
    stepped.launch(entry("s1c")).unwrap();
    assert!(stepped
        .output()
        .ends_with("step s1c: COMMIT;\nstep s2u: <... completed>\n"));
    let reports: Vec<&Report> = stepped.printed()[printed_before..]
        .iter()
        .map(|p| &p.what)
        .collect();
    assert_eq!(
        reports,
        vec![
            &Report::Launched {
                step: "s1c".into(),
                waiting: false
            },
            &Report::Completed { step: "s2u".into() }
        ]
    );
    assert!(stepped
        .output()
        .contains("starting permutation: s1u s2u s1c\n"));
    // A clone is a snapshot: the earlier state is untouched.
    assert_eq!(before.launched().len(), 1);
    assert!(!before.output().contains("s2u"));
}

#[test]
fn a_step_that_can_never_finish_is_cancelled_like_isolationtester_does() {
    let text = "setup { CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1); }
        teardown { DROP TABLE t; }
        session s1
        setup { BEGIN; }
        step s1a { SELECT * FROM t FOR UPDATE; }
        step s1c { COMMIT; }
        session s2
        step s2a { SELECT * FROM t FOR UPDATE; }
        step s2b { SELECT 1 AS one; }
        permutation s1a s2a s2b s1c";
    let out = run_text(text).unwrap();
    assert!(
        out.contains(
            "isolationtester: canceling step s2a after 300 seconds\n\
             step s2a: <... completed>\n\
             ERROR:  canceling statement due to user request\n"
        ),
        "{out}"
    );
}

#[test]
fn a_cancelled_step_is_recorded_as_cancelled_then_failed() {
    let text = "setup { CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1); }
        session s1
        setup { BEGIN; }
        step s1a { SELECT * FROM t FOR UPDATE; }
        session s2
        step s2a { SELECT * FROM t FOR UPDATE; }
        step s2b { SELECT 1 AS one; }";
    let spec = Arc::new(Spec::parse(text).unwrap());
    let mut stepped = PermutationRun::start(spec, RunOptions::default()).unwrap();
    for step in ["s1a", "s2a", "s2b"] {
        stepped
            .launch(PermutationEntry {
                step: step.to_string(),
                markers: Vec::new(),
            })
            .unwrap();
    }
    let reports: Vec<&Report> = stepped.printed().iter().map(|p| &p.what).collect();
    let cancelled = reports
        .iter()
        .position(|r| **r == Report::Cancelled { step: "s2a".into() })
        .expect("s2a is cancelled");
    assert_eq!(
        stepped.printed()[cancelled].text,
        "isolationtester: canceling step s2a after 300 seconds\n"
    );
    assert_eq!(
        reports[cancelled + 1],
        &Report::Completed { step: "s2a".into() }
    );
    match reports[cancelled + 2] {
        Report::Error { step, error } => {
            assert_eq!(step, "s2a");
            assert_eq!(error.message, "canceling statement due to user request");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        reports[cancelled + 3],
        &Report::Launched {
            step: "s2b".into(),
            waiting: false
        }
    );
    assert_eq!(
        reports[cancelled + 4],
        &Report::Rows {
            step: Some("s2b".into())
        }
    );
}

#[test]
fn bad_specs_are_errors_with_positions() {
    let err = run_text("session s1\nstep a { SELECT 1; }\npermutation b").unwrap_err();
    assert!(err.contains('b'), "{err}");
    let err = run_text("setup { SELEC 1; }\nsession s1\nstep a { SELECT 1; }").unwrap_err();
    assert!(err.contains("syntax error"), "{err}");
}

#[test]
fn a_start_block_by_block_is_the_start_at_once() {
    let text = "setup { CREATE TABLE t (id int PRIMARY KEY); }
        setup { INSERT INTO t VALUES (1); SELECT count(*) FROM t; }
        session s1
        setup { BEGIN; }
        step a { SELECT * FROM t; }
        session s2
        step b { SELECT 1; }";
    let spec = Arc::new(Spec::parse(text).unwrap());
    let mut starting = PermutationRun::starting(Arc::clone(&spec), RunOptions::default()).unwrap();
    assert_eq!(starting.blocks(), 3, "two global blocks and s1's");
    let mut calls = 0;
    while !starting.run_next().unwrap() {
        calls += 1;
        assert_eq!(starting.done(), calls);
    }
    let stepwise = starting.into_run();
    let at_once = PermutationRun::start(spec, RunOptions::default()).unwrap();
    assert_eq!(stepwise.output(), at_once.output());
    assert_eq!(
        format!("{:?}", stepwise.server().tables()),
        format!("{:?}", at_once.server().tables())
    );
}

#[test]
fn a_failing_setup_block_fails_the_start_block_by_block_too() {
    let spec = Arc::new(
        Spec::parse("setup { SELECT 1; }\nsetup { SELEC 1; }\nsession s1\nstep a { SELECT 1; }")
            .unwrap_or_else(|e| panic!("{e:?}")),
    );
    let mut starting = PermutationRun::starting(spec, RunOptions::default()).unwrap();
    assert!(!starting.run_next().unwrap());
    assert!(starting.run_next().unwrap_err().contains("setup failed"));
}
