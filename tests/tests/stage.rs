//! The engine's side of the lesson page on every lesson: which events a learner would name,
//! the key moments of each run and the verdict, declared at the move where it becomes certain.
//! Runs are played the way the app's Play does in protocol view: the lesson's (or the fix's)
//! schedule, then the first enabled choice.

use lockstep::world::{Choice, Event, KeyMoment, Move, Schedule, Significance, Verdict, World};

/// One move of a run: the key moments it brought and the verdict after it.
struct Played {
    events: Vec<Event>,
    moments: Vec<KeyMoment>,
    verdict: Verdict,
}

fn play(slug: &str, fix: Option<&str>) -> (World, Vec<Played>) {
    let lesson = lockstep_lessons::lesson(slug).unwrap();
    let mut world = World::new(&lesson.scenario(fix)).unwrap();
    let schedule: Schedule = lesson.schedule_for(fix).parse().unwrap();
    let mut moves = schedule.0.into_iter();
    let mut history: Vec<Event> = Vec::new();
    let mut run = Vec::new();
    let mut verdict = Verdict::Running;
    for _ in 0..10_000 {
        let enabled = world.choices();
        if enabled.is_empty() {
            break;
        }
        let wanted = moves.next().and_then(|m| match m {
            Move::Tick => Some(Choice::Tick),
            Move::Task(name) => world.task_named(&name).map(Choice::Task),
        });
        let choice = wanted.filter(|c| enabled.contains(c)).unwrap_or(enabled[0]);
        let before = world.clone();
        let events = world.step(choice).unwrap();
        history.extend(events.iter().cloned());
        let after = world.outcome(&history).verdict;
        let mut moments = world.key_moments(&before, &events, &verdict, &after);
        if fix.is_none() {
            moments.extend(lesson.moments_between(&before, &world));
        }
        verdict = after.clone();
        run.push(Played {
            events,
            moments,
            verdict: after,
        });
    }
    (world, run)
}

/// The 1-based move at which the verdict was first declared.
fn declared_at(run: &[Played]) -> Option<usize> {
    run.iter()
        .position(|p| p.verdict.is_declared())
        .map(|i| i + 1)
}

fn moments(run: &[Played]) -> Vec<(usize, KeyMoment)> {
    run.iter()
        .enumerate()
        .flat_map(|(i, p)| p.moments.iter().map(move |m| (i + 1, m.clone())))
        .collect()
}

fn every_lesson_and_fix() -> Vec<(&'static str, Option<&'static str>, bool)> {
    let mut out = Vec::new();
    for lesson in lockstep_lessons::catalogue() {
        out.push((lesson.slug.as_str(), None, false));
        for fix in &lesson.fixes {
            out.push((lesson.slug.as_str(), Some(fix.slug.as_str()), fix.proven));
        }
    }
    out
}

#[test]
fn wire_messages_are_protocol_and_a_statement_or_a_wait_is_something_a_learner_names() {
    let (_, run) = play("lock-order", None);
    let events: Vec<&Event> = run.iter().flat_map(|p| &p.events).collect();
    for e in &events {
        let expected = match e {
            Event::MessageSent { .. }
            | Event::MessageQueued { .. }
            | Event::MessageReceived { .. } => Some(Significance::Protocol),
            Event::TaskBlocked { .. } | Event::TaskStarted { .. } | Event::ClockAdvanced { .. } => {
                Some(Significance::Learner)
            }
            Event::Server(lockstep::server::Event::RowLocked { .. })
            | Event::Server(lockstep::server::Event::StatementStarted { .. })
            | Event::Server(lockstep::server::Event::DeadlockCheck { .. }) => {
                Some(Significance::Learner)
            }
            Event::Server(lockstep::server::Event::XidAssigned { .. })
            | Event::Server(lockstep::server::Event::SnapshotTaken { .. }) => {
                Some(Significance::Detail)
            }
            _ => None,
        };
        if let Some(expected) = expected {
            assert_eq!(e.significance(), expected, "{}", e.narration());
        }
    }
    // Of lock-order's 37 moves, 14 carry nothing but protocol messages and detail.
    let quiet = run
        .iter()
        .filter(|p| {
            p.events
                .iter()
                .all(|e| e.significance() != Significance::Learner)
        })
        .count();
    assert_eq!((run.len(), quiet), (37, 14));
}

#[test]
fn lock_order_is_declared_a_detected_deadlock_when_the_detector_fires() {
    let (_, run) = play("lock-order", None);
    assert_eq!(
        declared_at(&run),
        Some(14),
        "the + that runs the deadlock check"
    );
    assert_eq!(run.len(), 37, "the later moves stay playable");
    let found: Vec<(usize, String)> = moments(&run)
        .into_iter()
        .map(|(n, m)| (n, m.sentence()))
        .collect();
    assert_eq!(
        found,
        vec![
            (12, "A waits for widget 2, held by B: the first lock wait.".to_string()),
            (13, "The cycle closes: A and B each wait for a row another holds, and none of them can move.".to_string()),
            (14, "The deadlock detector fires: PostgreSQL aborts A's transaction to break the cycle.".to_string()),
        ]
    );
    assert_eq!(
        run[13].verdict,
        Verdict::DeadlockDetected {
            victims: vec!["A".into()],
            tasks: vec!["A".into(), "B".into()],
        }
    );
    assert_eq!(
        run[13].verdict.headline("worker"),
        "A and B wait for each other's rows: PostgreSQL aborts A after deadlock_timeout, and B goes on."
    );
}

#[test]
fn pool_exhaustion_runs_dry_then_starves() {
    let (_, run) = play("pool-exhaustion", None);
    assert_eq!(declared_at(&run), Some(16));
    let kinds: Vec<(usize, KeyMoment)> = moments(&run);
    assert_eq!(
        kinds,
        vec![
            (
                7,
                KeyMoment::PoolExhausted {
                    pool: "db".into(),
                    task: "R1".into()
                }
            ),
            (
                16,
                KeyMoment::CycleClosed {
                    tasks: vec!["R1".into(), "R2".into(), "R3".into(), "R4".into()],
                    database: false
                }
            ),
        ]
    );
    assert_eq!(
        run[15].verdict.headline("task"),
        "R1, R2, R3 and R4 each hold a connection from pool db and wait for another: the pool is empty and nothing will give one back."
    );
}

#[test]
fn the_leaked_transaction_stalls_as_soon_as_no_timer_can_free_the_waiter() {
    let (_, run) = play("leaked-transaction", None);
    // The deadlock check of C3's wait at 2 s finds none: from then on nothing can free it.
    assert_eq!(declared_at(&run), Some(95));
    assert_eq!(run.len(), 97);
    let found: Vec<(usize, KeyMoment)> = moments(&run);
    assert!(found.contains(&(
        62,
        KeyMoment::Lesson {
            text: "C2 returns early, but its transaction is still open: subscription 1 stays locked, and nothing will ever unlock it.".into()
        }
    )), "{found:?}");
    assert!(found.contains(&(
        95,
        KeyMoment::Stall {
            tasks: vec!["C3".into()]
        }
    )));
    assert!(found
        .iter()
        .any(|(n, m)| *n == 96
            && matches!(m, KeyMoment::ConnectionRefused { task, .. } if task == "C5")));
    assert_eq!(
        run[96].verdict.headline("task"),
        "C3 and C4 wait forever: C2 returned without ending its transaction, so its locks are never released."
    );
}

#[test]
fn read_skew_is_an_anomaly_from_the_moment_h_computes_its_total() {
    let (_, run) = play("read-skew", None);
    assert_eq!(declared_at(&run), Some(16));
    assert_eq!(
        moments(&run),
        vec![(
            16,
            KeyMoment::AnomalyObserved {
                what: "H computes total = 150, where it must be 200".into()
            }
        )]
    );
}

#[test]
fn shared_transaction_fails_when_the_first_goroutine_reads_the_wrong_reply() {
    let (_, run) = play("shared-transaction", None);
    assert_eq!(declared_at(&run), Some(21));
    assert!(
        matches!(&run[20].verdict, Verdict::Failed { failures, .. } if failures[0].0 == "P.GetInventory")
    );
    let last = &run.last().unwrap().verdict;
    assert!(
        // GetOrder's call on the connection lib/pq marked bad ends with `driver: bad connection`.
        matches!(last, Verdict::Failed { failures, violations }
            if failures.len() == 3
                && failures.iter().any(|(t, e)| t == "P.GetOrder" && e == "driver: bad connection")
                && violations.len() == 2),
        "{last:?}"
    );
}

#[test]
fn every_bug_shows_a_bug_that_keeps_its_kind_and_every_real_fix_completes_only_at_the_end() {
    for (slug, fix, proven) in every_lesson_and_fix() {
        let (world, run) = play(slug, fix);
        let last = &run.last().unwrap().verdict;
        assert!(world.choices().is_empty(), "{slug} {fix:?} ran to its end");
        if proven {
            assert!(
                matches!(last, Verdict::Completed { .. }),
                "{slug} {fix:?}: {last:?}"
            );
            assert_eq!(declared_at(&run), Some(run.len()), "{slug} {fix:?}");
        } else if fix.is_none() || last.is_bug() {
            assert!(last.is_bug(), "{slug} {fix:?}: {last:?}");
            // Once declared, the verdict's kind does not change.
            let first = run[declared_at(&run).unwrap() - 1].verdict.word();
            assert_eq!(first, last.word(), "{slug} {fix:?}");
        }
        // Every verdict is one sentence.
        let headline = last.headline("task");
        assert!(
            headline.ends_with('.') && !headline.contains(". "),
            "{headline}"
        );
    }
}
