//! The pool-exhaustion lesson: nested queries on one pgxpool.

use super::*;

#[test]
fn pool_exhaustion_default_schedule_hangs_with_every_request_in_acquire_and_postgres_silent() {
    let (world, events) = play_bug("pool-exhaustion", None);
    // PostgreSQL sees nothing: no error, no lock wait, no log line.
    assert!(server_errors(&events).is_empty());
    assert!(events.iter().all(|e| !matches!(
        e,
        Event::Server(server::Event::Log { .. } | server::Event::Error { .. })
    )));
    let Status::Deadlock { tasks, explanation } = world.status() else {
        panic!("{:?}", world.status())
    };
    assert_eq!(tasks.len(), 4);
    assert!(
        explanation[0].starts_with("pool starvation"),
        "{explanation:?}"
    );
    for view in world.task_views() {
        assert!(
            matches!(
                view.state,
                lockstep::world::TaskState::Blocked(lockstep::world::BlockReason::PoolSlot { .. })
            ),
            "{}: {:?}",
            view.name,
            view.state
        );
        assert_eq!(
            view.connections.len(),
            1,
            "{} holds one connection",
            view.name
        );
    }
    for pid in world.server().sessions() {
        assert!(matches!(
            world.server().state(pid),
            server::SessionState::Idle
        ));
    }
}

#[test]
fn pool_exhaustion_explorer_finds_the_hang_from_scratch() {
    let checks = check("pool-exhaustion");
    let bug = &checks[0];
    assert!(bug.fix.is_none() && bug.complete && bug.ok, "{bug}");
    assert_eq!(bug.failures.len(), 1, "{bug}");
    assert!(bug.failures[0].0.starts_with("deadlock"), "{bug}");
    assert_eq!(bug.states, 1_027);
    assert_eq!((bug.terminal_failing, bug.terminal_succeeding), (1, 3));
    // The shortest schedule really hangs when replayed.
    let lesson = lockstep_lessons::lesson("pool-exhaustion").unwrap();
    let schedule: Schedule = bug.failures[0].1.parse().unwrap();
    let (world, _) = World::replay(&lesson.scenario(None), &schedule).unwrap();
    assert!(matches!(world.status(), Status::Deadlock { .. }));
}

#[test]
fn pool_exhaustion_fewer_requests_than_max_conns_never_hang() {
    let lesson = lockstep_lessons::lesson("pool-exhaustion").unwrap();
    let knobs = lockstep::lesson::KnobValues::from([("requests".to_string(), 3)]);
    let world = World::new(&lesson.scenario_at(None, &knobs).unwrap()).unwrap();
    let report = lockstep::explore::world::explore(world, Default::default());
    assert!(report.proven(), "{}", report.verdict());
}

fn fix_check(checks: &[ScenarioCheck], slug: &str, at: bool) -> ScenarioCheck {
    checks
        .iter()
        .find(|c| c.fix.as_deref() == Some(slug) && c.at.is_empty() != at)
        .unwrap()
        .clone()
}

#[test]
fn pool_exhaustion_drain_first_is_proven_over_every_schedule() {
    let checks = check("pool-exhaustion");
    let fix = fix_check(&checks, "drain-first", false);
    assert!(fix.complete && fix.failures.is_empty() && fix.ok, "{fix}");
    assert_eq!(fix.states, 641);
    let (world, events) = play_bug("pool-exhaustion", Some("drain-first"));
    assert!(server_errors(&events).is_empty());
    assert!(violations(&world).is_empty());
}

#[test]
fn pool_exhaustion_bigger_pool_is_proven_for_four_requests_and_hangs_again_with_five() {
    let checks = check("pool-exhaustion");
    let fix = fix_check(&checks, "bigger-pool", false);
    assert_eq!(fix.knobs["max_conns"], 5);
    assert!(fix.complete && fix.failures.is_empty() && fix.ok, "{fix}");
    assert_eq!(fix.states, 1_310);
    let five = fix_check(&checks, "bigger-pool", true);
    assert_eq!(five.at["requests"], 5);
    assert_eq!((five.knobs["requests"], five.knobs["max_conns"]), (5, 5));
    assert!(five.expect_failure && five.ok, "{five}");
    assert!(five.failures[0].0.starts_with("deadlock"), "{five}");
    assert_eq!(five.states, 3_060);
    assert!(
        five.to_string()
            .contains("fix bigger-pool at requests = 5: fails"),
        "{five}"
    );
}

#[test]
fn pool_exhaustion_acquire_timeout_turns_the_hang_into_deadline_errors() {
    let checks = check("pool-exhaustion");
    let fix = fix_check(&checks, "acquire-timeout", false);
    assert!(fix.complete && fix.ok, "{fix}");
    assert_eq!(fix.failures.len(), 1, "{fix}");
    assert!(
        fix.failures[0]
            .0
            .contains("R1 failed: context deadline exceeded"),
        "{fix}"
    );
    assert_eq!(fix.states, 2_293);
    // On the lesson's schedule every request waits, then fails at the deadline; the server
    // recovers: every connection is back in the pool.
    let (world, _) = play_bug("pool-exhaustion", Some("acquire-timeout"));
    let broken = violations(&world);
    assert_eq!(broken.len(), 1, "{broken:?}");
    for name in ["R1", "R2", "R3", "R4"] {
        assert!(
            broken[0].contains(&format!("{name} failed: context deadline exceeded")),
            "{broken:?}"
        );
    }
    let pool = &world.pool_views()[0];
    assert_eq!(pool.idle.len(), pool.open.len());
}
