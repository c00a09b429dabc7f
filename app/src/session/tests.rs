//! The session: stepping, Back and seeking are exact, the address reopens the same run.

use super::*;

fn lock_order() -> &'static Lesson {
    lockstep_lessons::lesson("lock-order").expect("the lock-order lesson exists")
}

#[test]
fn stepping_follows_the_bug_schedule_and_ends_in_a_detected_deadlock() {
    let mut session = Session::new(lock_order(), None).unwrap();
    while session.step() {}
    let bug = lock_order()
        .bug_schedule
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        session.schedule().to_string().starts_with(&bug),
        "schedule {} does not start with {bug}",
        session.schedule()
    );
    assert!(matches!(
        session.outcome().verdict,
        Verdict::DeadlockDetected { .. }
    ));
}

#[test]
fn with_the_order_by_fix_every_worker_completes() {
    let mut session = Session::new(lock_order(), Some("order-by")).unwrap();
    while session.step() {}
    assert!(matches!(
        session.outcome().verdict,
        Verdict::Completed { .. }
    ));
}

/// `return-error` makes "already cancelled" an error answer (a 400): the lesson lists it as
/// expected, so the run completes rather than fails, as the explorer says.
#[test]
fn an_expected_error_answer_is_not_a_failure() {
    let lesson = lockstep_lessons::lesson("leaked-transaction").unwrap();
    let mut session = Session::new(lesson, Some("return-error")).unwrap();
    while session.step() {}
    assert!(matches!(
        session.outcome().verdict,
        Verdict::Completed { .. }
    ));
}

#[test]
fn a_lane_click_off_the_plan_marks_the_session_chosen_and_back_clears_it() {
    let mut session = Session::new(lock_order(), None).unwrap();
    session.step();
    assert!(!session.chosen);
    let b = session.world().task_named("B").unwrap();
    assert!(session.run_task(b));
    assert!(session.chosen);
    let schedule = session.schedule();
    assert!(session.back());
    assert!(!session.chosen);
    assert_eq!(session.replay(&schedule), 2);
    assert_eq!(session.schedule(), schedule);
}

#[test]
fn back_is_an_exact_undo() {
    let mut session = Session::new(lock_order(), None).unwrap();
    let start = session.world().clone();
    session.step();
    session.step();
    assert!(session.back());
    assert!(session.back());
    assert!(!session.back());
    assert_eq!(*session.world(), start);
}

#[test]
fn seeking_back_and_forth_restores_each_step_exactly() {
    let mut session = Session::new(lock_order(), None).unwrap();
    let mut worlds = vec![session.world().clone()];
    for _ in 0..6 {
        session.step();
        worlds.push(session.world().clone());
    }
    session.seek_beat(2);
    assert_eq!(*session.world(), worlds[2]);
    assert_eq!(session.beat_len(), 6);
    session.seek_beat(5);
    assert_eq!(*session.world(), worlds[5]);
    session.seek_beat(0);
    assert_eq!(*session.world(), worlds[0]);
    assert!(session.step());
    assert_eq!(*session.world(), worlds[1], "Step redoes the undone run");
    assert_eq!(session.beat_len() - session.beat_position(), 5);
}

#[test]
fn a_different_move_after_going_back_drops_the_old_future() {
    let mut session = Session::new(lock_order(), None).unwrap();
    for _ in 0..4 {
        session.step();
    }
    session.seek(1);
    let b = session.world().task_named("B").unwrap();
    assert!(session.run_task(b));
    assert_eq!(session.undone(), 0);
    assert_eq!(session.run_len(), 2);
    assert_eq!(session.schedule().to_string(), "A B");
    assert!(session.chosen);
}

#[test]
fn a_lane_click_run_scrubbed_back_keeps_its_schedule_in_the_address() {
    let mut session = Session::new(lock_order(), None).unwrap();
    let b = session.world().task_named("B").unwrap();
    session.run_task(b);
    session.run_task(b);
    let schedule = session.schedule();
    session.seek_beat(0);
    assert!(!session.chosen);
    session.seek_beat(2);
    assert!(session.chosen);
    assert_eq!(session.schedule(), schedule);
}

/// A small lesson with knobs: each request holds one pooled connection (unread rows) while
/// it queries through a second.
pub(crate) fn nested_pool_lesson() -> &'static Lesson {
    let text = include_str!("../../../engine/src/analysis/nested_pool_lesson.toml");
    Box::leak(Box::new(
        lockstep_lessons::parse("nested.toml", text).expect("the test lesson parses"),
    ))
}

#[test]
fn knobs_set_the_scenario_and_only_meaningful_ones_are_kept() {
    let lesson = nested_pool_lesson();
    let knobs = KnobValues::from([
        ("requests".to_string(), 3),
        ("max_conns".to_string(), 2),
        ("nonsense".to_string(), 1),
    ]);
    let session = Session::with_knobs(lesson, None, &knobs).unwrap();
    assert_eq!(
        session.knobs,
        KnobValues::from([("requests".to_string(), 3)]),
        "the unknown knob and the one at its default are dropped"
    );
    assert_eq!(session.world().task_views().len(), 3);
    assert_eq!(session.knob_values()["max_conns"], 2);
    let too_many = KnobValues::from([("requests".to_string(), 99)]);
    let session = Session::with_knobs(lesson, None, &too_many).unwrap();
    assert!(session.knobs.is_empty(), "a value out of range is dropped");
}
