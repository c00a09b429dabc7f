//! Goals for the learner: every lesson's challenges are solvable by their solutions, which are
//! the shortest schedules of clicks (lengths pinned), a challenge that cannot be met is refused
//! with a clear message, and every partial fix played on its own schedule ends in its failure.

use lockstep::analysis::challenges::{check, check_all, shortest_failing, Search};
use lockstep::lesson::{self, ChallengeKind, KnobValues, Lesson};
use lockstep::world::{Choice, Event, Move, Schedule, Verdict, World};

fn lesson(slug: &str) -> &'static Lesson {
    lockstep_lessons::lesson(slug).unwrap()
}

#[test]
fn every_lesson_has_two_challenges_and_every_partial_fix_one_to_break_it() {
    for lesson in lockstep_lessons::catalogue() {
        assert!(
            lesson.challenges.len() >= 2,
            "{} has {} challenges",
            lesson.slug,
            lesson.challenges.len()
        );
        for fix in lesson.fixes.iter().filter(|f| !f.proven) {
            assert!(
                lesson
                    .challenges
                    .iter()
                    .any(|c| c.kind == ChallengeKind::BreakTheFix
                        && c.fix.as_deref() == Some(fix.slug.as_str())),
                "{}: partial fix {} has no break-the-fix challenge",
                lesson.slug,
                fix.slug
            );
        }
    }
}

#[test]
fn every_challenge_is_met_by_its_solution_and_the_shortest_lengths_are_pinned() {
    let mut lengths = Vec::new();
    for lesson in lockstep_lessons::catalogue() {
        for c in check_all(lesson, Default::default()) {
            assert!(c.ok, "{}: {c}", lesson.slug);
            lengths.push((lesson.slug.as_str(), c.id.clone(), c.clicks));
        }
    }
    let scheduling: Vec<(&str, &str, usize)> = lengths
        .iter()
        .filter_map(|(slug, id, clicks)| clicks.map(|n| (*slug, id.as_str(), n)))
        .collect();
    assert_eq!(
        scheduling,
        [
            ("pool-exhaustion", "make-it-hang", 12),
            ("pool-exhaustion", "break-the-deadline", 19),
            ("shared-transaction", "cross-the-wires", 19),
            ("leaked-transaction", "leak-the-lock", 27),
            ("lock-order", "make-it-deadlock", 10),
            ("lock-order", "break-the-retry", 12),
            ("insert-order", "make-it-deadlock", 7),
            ("insert-order", "break-the-single-writer", 7),
            ("insert-order", "break-the-retry", 9),
            ("read-skew", "see-a-wrong-total", 11),
            ("read-skew", "break-read-committed", 10),
        ]
    );
}

#[test]
fn a_challenge_nobody_can_meet_is_refused_saying_so() {
    let mut lesson = lesson("pool-exhaustion").clone();
    let mut hang = lesson.challenge("make-it-hang").unwrap().clone();
    // One request can never starve a pool of four.
    hang.knobs = KnobValues::from([("requests".to_string(), 1)]);
    lesson.challenges = vec![hang.clone()];
    let checked = check(&lesson, &hang, Default::default());
    assert!(!checked.ok);
    assert!(
        checked
            .says
            .starts_with("unsolvable: no schedule of clicks fails"),
        "{}",
        checked.says
    );
    assert!(
        checked.says.ends_with("states, complete)"),
        "{}",
        checked.says
    );
}

#[test]
fn a_solution_longer_than_the_shortest_is_refused_with_the_shortest() {
    let lesson = lesson("read-skew");
    let mut c = lesson.challenge("see-a-wrong-total").unwrap().clone();
    // One click more than needed: the total is already wrong after the eleventh.
    c.solution = "H H T T T T T T H H H H".to_string();
    let checked = check(lesson, &c, Default::default());
    assert!(!checked.ok);
    assert!(
        checked
            .says
            .contains("`H H T T T T T T H H H` (11 clicks) fails too"),
        "{}",
        checked.says
    );
}

#[test]
fn a_size_that_is_not_the_smallest_is_refused() {
    let lesson = lesson("pool-exhaustion");
    let mut c = lesson.challenge("size-the-pool").unwrap().clone();
    c.solution = "7".to_string();
    let checked = check(lesson, &c, Default::default());
    assert!(!checked.ok);
    assert!(
        checked
            .says
            .starts_with("max_conns = 6 is safe too at requests = 5"),
        "{}",
        checked.says
    );
}

#[test]
fn challenges_that_name_the_wrong_things_are_refused_when_the_file_is_read() {
    let base = lesson("lock-order");
    type Change = fn(&mut lesson::Challenge);
    let cases: [(&str, Change, &str); 5] = [
        (
            "break a proven fix",
            |c| {
                c.kind = ChallengeKind::BreakTheFix;
                c.fix = Some("order-by".into());
            },
            "fix order-by is proven, so no schedule breaks it",
        ),
        (
            "an unknown fix",
            |c| c.fix = Some("nope".into()),
            "the lesson has no fix `nope`",
        ),
        (
            "size-it without a knob",
            |c| {
                c.kind = ChallengeKind::SizeIt;
                c.solution = "3".into();
            },
            "size-it names the `knob` to turn",
        ),
        (
            "survive with no such fix",
            |c| {
                c.kind = ChallengeKind::Survive;
                c.solution = "pray".into();
            },
            "the lesson has no fix `pray`",
        ),
        (
            "an id that is not a slug",
            |c| c.id = "Make It".into(),
            "an id is lowercase letters, digits and dashes",
        ),
    ];
    for (what, change, wanted) in cases {
        let mut lesson = base.clone();
        change(&mut lesson.challenges[0]);
        let error = lesson::validate(&lesson).expect_err(what);
        assert!(error.contains(wanted), "{what}: {error}");
    }
}

#[test]
fn the_search_says_when_nothing_fails() {
    let lesson = lesson("lock-order");
    let search = shortest_failing(lesson, Some("order-by"), &KnobValues::new(), 1_000_000).unwrap();
    assert!(
        matches!(search, Search::NotFound { complete: true, .. }),
        "{search:?}"
    );
}

/// Plays a fix's schedule the way the page's Play does: the schedule's moves while they can
/// run, then round-robin, keeping the run's verdict.
fn play(lesson: &Lesson, fix: &str) -> Verdict {
    let mut world = World::new(&lesson.scenario(Some(fix))).unwrap();
    let schedule: Schedule = lesson.schedule_for(Some(fix)).parse().unwrap();
    let mut history: Vec<Event> = Vec::new();
    let mut verdict = Verdict::Running;
    let mut last = None;
    for n in 0..10_000 {
        let choices = world.choices();
        if choices.is_empty() {
            break;
        }
        let planned = schedule.0.get(n).and_then(|m| match m {
            Move::Tick => Some(Choice::Tick),
            Move::Task(name) => world.task_named(name).map(Choice::Task),
        });
        let next = choices
            .iter()
            .copied()
            .find(|c| matches!((c, last), (Choice::Task(t), Some(l)) if *t > l));
        let choice = planned
            .filter(|c| choices.contains(c))
            .or(next)
            .unwrap_or(choices[0]);
        if let Choice::Task(t) = choice {
            last = Some(t);
        }
        let taken = world
            .take(choice, &history, &verdict, |_, _| Vec::new())
            .unwrap();
        history.extend(taken.events);
        verdict = taken.verdict;
    }
    verdict
}

#[test]
fn every_partial_fix_played_on_its_own_schedule_ends_in_its_failure() {
    let mut seen = Vec::new();
    for lesson in lockstep_lessons::catalogue() {
        for fix in lesson.fixes.iter().filter(|f| !f.proven) {
            let verdict = play(lesson, &fix.slug);
            seen.push(format!("{}/{}: {}", lesson.slug, fix.slug, verdict.word()));
        }
    }
    for line in &seen {
        assert!(
            !line.ends_with("completed") && !line.ends_with("running"),
            "a partial fix completes on Play: {seen:#?}"
        );
    }
}

/// A task that jumps back to itself forever never fails, yet nothing about it is proven: the
/// check says so instead of "proven" (the explored states form a cycle).
#[test]
fn a_task_that_loops_forever_is_never_proven() {
    let mut lesson = lesson("read-skew").clone();
    let mut spin = lesson.scenario.tasks[0].clone();
    spin.name = "S".to_string();
    spin.program = vec![toml::from_str::<lockstep::world::Op>(
        r#"line = 1
op = "goto"
to = "top"
label = "top""#,
    )
    .unwrap()];
    lesson.scenario.tasks.push(spin);
    lesson.listings[0].tasks.push("S".to_string());
    let checks = lockstep::explore::world::check_lesson(&lesson, Default::default()).unwrap();
    let proof = checks
        .iter()
        .find(|c| c.fix.as_deref() == Some("repeatable-read"))
        .unwrap();
    assert!(!proof.ok, "{proof}");
    assert!(proof.never_ends);
    assert!(
        proof
            .to_string()
            .contains("not proven: no schedule fails, but some never end"),
        "{proof}"
    );
}
