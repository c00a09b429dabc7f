//! The sandbox model's tests: plans, moves, Back, outcomes and their words.

use super::super::examples::{example, EXAMPLES};
use super::*;

fn play(slug: &str) -> Sandbox {
    let ex = example(slug).unwrap();
    let mut sandbox = Sandbox::new(ex.text, ex.check).unwrap();
    while sandbox.step() {}
    sandbox
}

#[test]
fn every_example_loads_and_plays_its_first_permutation_to_the_end() {
    for ex in EXAMPLES {
        let mut sandbox =
            Sandbox::new(ex.text, ex.check).unwrap_or_else(|e| panic!("{}: {e}", ex.slug));
        while sandbox.step() {}
        assert!(sandbox.run().is_finished(), "{}", ex.slug);
        assert!(sandbox.outcome().is_final(), "{}", ex.slug);
    }
}

#[test]
fn the_examples_end_as_their_stories_say() {
    assert_eq!(play("lost-update").outcome().word(), "anomaly");
    assert_eq!(
        play("lost-update-repeatable-read").outcome().word(),
        "failed"
    );
    assert_eq!(
        play("write-skew-read-committed").outcome().word(),
        "anomaly"
    );
    assert_eq!(
        play("write-skew-repeatable-read").outcome().word(),
        "anomaly"
    );
    assert_eq!(play("write-skew-serializable").outcome().word(), "failed");
    assert_eq!(play("deadlock").outcome().word(), "deadlock");
    assert_eq!(play("deadlock-simple").outcome().word(), "deadlock");
    assert_eq!(play("skip-locked").outcome().word(), "completed");
}

#[test]
fn the_output_is_what_the_isolation_tester_prints() {
    let sandbox = play("deadlock");
    let out = sandbox.output();
    assert!(out.starts_with(
        "Parsed test spec with 2 sessions\n\nstarting permutation: t1_debit t2_debit t1_credit t2_credit t1_commit t2_commit\n"
    ));
    assert!(out.contains(
        "step t1_credit: UPDATE accounts SET balance = balance + 10 WHERE id = 2; <waiting ...>\n"
    ));
    assert!(out.contains("ERROR:  deadlock detected\n"));
}

#[test]
fn a_blocked_session_says_what_it_waits_for_and_who_holds_it() {
    let ex = example("lost-update").unwrap();
    let mut sandbox = Sandbox::new(ex.text, ex.check).unwrap();
    for _ in 0..4 {
        sandbox.step();
    }
    let lanes = sandbox.lanes();
    assert_eq!(lanes[1].waiting_step.as_deref(), Some("b_write"));
    let why = lanes[1].why.clone().unwrap();
    assert!(why.contains("held by alice"), "{why}");
    assert_eq!(lanes[1].blockers, vec![0]);
    assert!(sandbox.narration().contains("<waiting ...>"));
}

/// Two sessions update the same row; the second waits until the first commits.
const ROW_CONFLICT: &str =
    "setup { CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0); }
    session s1
    setup { BEGIN; }
    step s1u { UPDATE t SET v = 1 WHERE id = 1; }
    step s1c { COMMIT; }
    session s2
    setup { BEGIN; }
    step s2u { UPDATE t SET v = 2 WHERE id = 1; }
    step s2c { COMMIT; }
    permutation s1u s2u s1c s2c";

#[test]
fn a_launched_step_the_tester_reports_waiting_is_described_as_waiting() {
    let mut sandbox = Sandbox::new(ROW_CONFLICT, None).unwrap();
    sandbox.step();
    sandbox.step();
    let [ran, waits] = &sandbox.moves[..] else {
        panic!("two moves");
    };
    assert_eq!(sandbox.describe(ran), "s1 ran s1u");
    assert_eq!(
        sandbox.describe(waits),
        "s2 launched s2u and it is <waiting ...>"
    );
    assert!(waits.printed.iter().any(|p| p.what
        == Report::Launched {
            step: "s2u".into(),
            waiting: true
        }));
    // Its completion, reported in the next move, does not make that move a wait.
    sandbox.step();
    assert_eq!(sandbox.describe(&sandbox.moves[2]), "s1 ran s1c");
}

#[test]
fn a_step_the_tester_cancels_makes_the_run_stalled() {
    let text = "setup { CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1); }
        session s1
        setup { BEGIN; }
        step s1a { SELECT * FROM t FOR UPDATE; }
        session s2
        step s2a { SELECT * FROM t FOR UPDATE; }
        step s2b { SELECT 1 AS one; }
        permutation s1a s2a s2b";
    let mut sandbox = Sandbox::new(text, None).unwrap();
    while sandbox.step() {}
    assert!(sandbox
        .moves
        .iter()
        .flat_map(|m| &m.printed)
        .any(|p| p.what == Report::Cancelled { step: "s2a".into() }));
    assert_eq!(
        sandbox.outcome(),
        Outcome::Stalled {
            why: "isolationtester: canceling step s2a after 300 seconds: it waited for a \
                  lock that was never released"
                .into()
        }
    );
}

#[test]
fn a_session_whose_transaction_was_aborted_is_failed_until_it_ends_it() {
    let text = "session s1
        setup { BEGIN; }
        step bad { SELECT 1 / 0; }
        step end { COMMIT; }
        session s2
        step ok { SELECT 1 AS one; }
        permutation bad ok end";
    let mut sandbox = Sandbox::new(text, None).unwrap();
    assert!(!sandbox.lanes()[0].failed);
    sandbox.step();
    let lanes = sandbox.lanes();
    assert!(lanes[0].failed, "{}", lanes[0].state);
    assert!(!lanes[1].failed);
    sandbox.step();
    sandbox.step();
    assert!(!sandbox.lanes()[0].failed, "{}", sandbox.lanes()[0].state);
}

#[test]
fn a_step_by_hand_off_the_plan_switches_to_by_hand_and_back_undoes_it_exactly() {
    let ex = example("deadlock").unwrap();
    let mut sandbox = Sandbox::new(ex.text, ex.check).unwrap();
    assert!(sandbox.launch_by_hand("t1_debit"));
    assert_eq!(sandbox.plan, Plan::Permutation(0));
    let before = sandbox.run().output();
    assert!(sandbox.launch_by_hand("t1_credit"));
    assert_eq!(sandbox.plan, Plan::ByHand);
    assert_eq!(sandbox.lanes()[0].next.as_deref(), Some("t1_commit"));
    assert!(sandbox.back());
    assert_eq!(sandbox.run().output(), before);
    // By hand, Step takes the next session's next step.
    sandbox.step();
    assert_eq!(
        sandbox.run().launched().last().unwrap().step,
        "t2_debit".to_string()
    );
}

#[test]
fn a_run_by_hand_is_bounded_and_can_still_be_ended_at_its_limit() {
    let text = "session s1\nstep a { SELECT 1 AS one; }\n";
    let mut sandbox = Sandbox::new(text, None).unwrap();
    for _ in 0..MOVES_MAX {
        assert!(sandbox.launch_by_hand("a"));
    }
    assert!(!sandbox.launch_by_hand("a"));
    assert!(sandbox.narration().contains("limit"));
    assert_eq!(sandbox.next_move(), Some(MoveKind::Finish));
    assert!(sandbox.step());
    assert_eq!(sandbox.outcome(), Outcome::Completed);
}

#[test]
fn a_bad_spec_is_an_error_with_its_line_and_column() {
    let err =
        Sandbox::new("session s1\nstep a { SELECT 1; }\npermutation a b\n", None).unwrap_err();
    match err {
        LoadError::Spec(e) => assert_eq!((e.line, e.column), (3, 15)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_spec_without_permutation_lines_lists_every_interleaving() {
    let ex = example("nowait").unwrap();
    let sandbox = Sandbox::new(ex.text, ex.check).unwrap();
    assert_eq!(sandbox.permutations.as_ref().unwrap().len(), 6);
}
