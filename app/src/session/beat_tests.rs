//! Beats: what a Step, a lane click and Back take, and what the status line says of them.

use super::*;

/// The wire-protocol messages a status headline must not name outside protocol view.
const PROTOCOL_NAMES: [&str; 7] = [
    "Parse",
    "Bind",
    "BindComplete",
    "DataRow",
    "ReadyForQuery",
    "RowDescription",
    "CommandComplete",
];

fn every_lesson_and_fix() -> Vec<(&'static Lesson, Option<&'static str>)> {
    let mut out = Vec::new();
    for lesson in lockstep_lessons::catalogue() {
        out.push((lesson, None));
        for fix in &lesson.fixes {
            out.push((lesson, Some(fix.slug.as_str())));
        }
    }
    out
}

#[test]
fn a_step_is_one_task_doing_something_a_learner_would_name() {
    let lesson = lockstep_lessons::lesson("lock-order").unwrap();
    let mut session = Session::new(lesson, None).unwrap();
    let mut beats = 0;
    while session.step() {
        beats += 1;
        let (_, steps) = session.current_beat();
        let first = &steps[0].mv;
        assert!(steps.iter().all(|s| s.mv == *first), "one task per step");
        assert!(steps[..steps.len() - 1].iter().all(|s| !s.significant));
        assert!(
            !session.beat_headline().is_empty(),
            "step {beats} says nothing"
        );
    }
    assert_eq!(beats, session.beat_len());
    assert!(
        beats < session.steps.len(),
        "{beats} steps for {} engine moves",
        session.steps.len()
    );
}

#[test]
fn every_step_of_every_lesson_says_something() {
    for (lesson, fix) in every_lesson_and_fix() {
        for protocol in [false, true] {
            let mut session = Session::new(lesson, fix).unwrap();
            session.protocol = protocol;
            while session.step() {
                assert!(
                    !session.beat_headline().is_empty() || !session.beat_moments().is_empty(),
                    "{} {fix:?} protocol {protocol}: step {} says nothing",
                    lesson.slug,
                    session.beat_position()
                );
            }
        }
    }
}

#[test]
fn no_headline_names_a_protocol_message_outside_protocol_view() {
    for (lesson, fix) in every_lesson_and_fix()
        .into_iter()
        .filter(|(l, _)| !l.protocol)
    {
        let mut session = Session::new(lesson, fix).unwrap();
        while session.step() {
            let headline = session.beat_headline();
            for name in PROTOCOL_NAMES {
                assert!(
                    !headline
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|w| w == name),
                    "{} {fix:?}: {headline}",
                    lesson.slug
                );
            }
        }
    }
}

#[test]
fn protocol_view_is_on_by_default_only_where_the_lesson_says_so() {
    for lesson in lockstep_lessons::catalogue() {
        let session = Session::new(lesson, None).unwrap();
        assert_eq!(
            session.protocol,
            lesson.slug == "shared-transaction",
            "{}",
            lesson.slug
        );
    }
    let lesson = lockstep_lessons::lesson("shared-transaction").unwrap();
    for fix in ["sequential", "reads-before-tx"] {
        let session = Session::new(lesson, Some(fix)).unwrap();
        assert!(
            !session.protocol,
            "{fix} removes the interleaving: steps are beats"
        );
    }
    let mut session = Session::new(lesson, None).unwrap();
    for n in 1..=5 {
        assert!(session.step());
        assert_eq!(session.steps.len(), n, "one engine move per step");
    }
}

#[test]
fn step_counts_in_old_addresses_replay_the_same_moves() {
    for (lesson, fix) in every_lesson_and_fix() {
        let mut by_moves = Session::new(lesson, fix).unwrap();
        let mut legacy = Session::new(lesson, fix).unwrap();
        legacy.protocol = true;
        for _ in 0..40 {
            let a = by_moves.step_move();
            let b = legacy.step();
            assert_eq!(a, b);
        }
        assert_eq!(by_moves.schedule(), legacy.schedule(), "{}", lesson.slug);
        assert!(!by_moves.chosen);
    }
}

#[test]
fn back_undoes_a_whole_step_and_step_redoes_it() {
    let lesson = lockstep_lessons::lesson("leaked-transaction").unwrap();
    let mut session = Session::new(lesson, None).unwrap();
    session.step();
    let after_one = session.world().clone();
    session.step();
    let moves = session.steps.len();
    assert!(moves > 2, "the second step takes several moves: {moves}");
    assert!(session.back());
    assert_eq!(*session.world(), after_one);
    assert!(session.step());
    assert_eq!(session.steps.len(), moves);
}

#[test]
fn the_verdict_is_declared_when_the_detector_fires_and_the_run_goes_on() {
    let mut session = Session::new(lockstep_lessons::lesson("lock-order").unwrap(), None).unwrap();
    while !session.outcome().is_declared() {
        assert!(session.step());
    }
    let (_, steps) = session.current_beat();
    assert!(steps.iter().any(|s| s
        .moments
        .iter()
        .any(|m| matches!(m, KeyMoment::DeadlockDetected { .. }))));
    assert!(!session.outcome().ended, "later steps stay playable");
    let declared_at = session.beat_position();
    while session.step() {}
    assert!(session.beat_position() > declared_at);
    assert_eq!(
        session.outcome().verdict.headline("worker"),
        "A and B wait for each other's rows: PostgreSQL aborts A after deadlock_timeout, and B goes on."
    );
}

/// The page's clicks are the engine's: every challenge's solution, clicked lane by lane in a
/// session, is taken click for click, reads back as the same schedule and ends in a bug.
#[test]
fn every_challenge_solution_clicked_in_the_page_fails_as_the_check_says() {
    for lesson in lockstep_lessons::catalogue() {
        for c in lesson.challenges.iter().filter(|c| c.kind.is_scheduling()) {
            let mut session =
                Session::with_knobs(lesson, c.fix.as_deref(), &c.knobs).expect("a session");
            let clicks: Schedule = c.solution.parse().expect("a schedule");
            assert_eq!(session.replay_clicks(&clicks), clicks.0.len(), "{}", c.id);
            assert_eq!(session.clicks(), clicks, "{}/{}", lesson.slug, c.id);
            assert!(
                c.met_by_run(
                    lesson,
                    session.fix.as_deref(),
                    &session.knob_values(),
                    &session.outcome().verdict
                ),
                "{}/{}: {:?}",
                lesson.slug,
                c.id,
                session.outcome().verdict
            );
        }
    }
}
