//! The leaked-transaction lesson: a handler returns without ending its transaction.

use super::*;

#[test]
fn leaked_transaction_default_schedule_leaves_the_lock_idle_in_transaction_until_postgres_refuses_clients(
) {
    let (world, events) = play_bug("leaked-transaction", None);
    assert!(finished_ok(&world, "C1"), "C1 cancels and commits");
    assert!(
        finished_ok(&world, "C2"),
        "C2 takes the early return: a success that leaks its Tx"
    );
    let Status::Stall { explanation } = world.status() else {
        panic!("{:?}", world.status())
    };
    assert!(
        explanation.iter().any(|l| l.contains(
            "is idle in a transaction and held by C2, which has returned without giving it back"
        )),
        "{explanation:#?}"
    );
    assert!(
        explanation
            .iter()
            .any(|l| l.contains("waits for ShareLock on transaction")),
        "{explanation:#?}"
    );
    // No deadlock error: the waiters form a queue, not a cycle.
    assert!(server_errors(&events).is_empty());
    // The connection count climbs: one per waiting request, until PostgreSQL says no.
    let opened = events
        .iter()
        .filter(|e| matches!(e, Event::Server(server::Event::Connected { .. })))
        .count();
    assert_eq!(opened, 3);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Server(server::Event::Log { line, .. })
            if line == "FATAL:  sorry, too many clients already"
    )));
    let c5 = world.task_error(world.task_named("C5").unwrap());
    assert!(
        matches!(&c5, Some(e) if e.text == "pq: sorry, too many clients already"),
        "{c5:?}"
    );
}

const LEAKED_TRANSACTION_FIXES: [(&str, usize); 7] = [
    ("rollback-each-branch", 153),
    ("defer-rollback", 149),
    ("commit-in-defer", 148),
    ("return-error", 149),
    ("cancel-context", 142),
    ("request-timeout", 137),
    ("idle-in-transaction-timeout", 364),
];

#[test]
fn leaked_transaction_explorer_finds_the_stall_and_all_seven_fixes_are_proven() {
    let checks = check("leaked-transaction");
    let bug = &checks[0];
    assert!(bug.complete && bug.ok, "{bug}");
    assert_eq!(bug.states, 98);
    assert!(bug.failures[0].0.starts_with("stall") && bug.stuck, "{bug}");
    assert_eq!(checks.len(), 1 + LEAKED_TRANSACTION_FIXES.len());
    for (slug, states) in LEAKED_TRANSACTION_FIXES {
        let fix = scenario_check(&checks, slug);
        assert!(fix.complete && fix.failures.is_empty() && fix.ok, "{fix}");
        assert_eq!(fix.states, states, "{slug}");
    }
}

#[test]
fn leaked_transaction_every_fix_releases_the_lock_and_every_request_finishes() {
    for (slug, _) in LEAKED_TRANSACTION_FIXES {
        let (world, _) = play_bug("leaked-transaction", Some(slug));
        assert!(violations(&world).is_empty(), "{slug}");
        // Whoever is last may still hold the lock only under the idle timeout (until it
        // fires); every code fix leaves no session in a transaction.
        if slug != "idle-in-transaction-timeout" {
            for pid in world.server().sessions() {
                assert!(
                    matches!(world.server().state(pid), server::SessionState::Idle),
                    "{slug}: {pid}"
                );
            }
        }
    }
}

#[test]
fn leaked_transaction_idle_timeout_terminates_each_leaked_session() {
    let (_, events) = play_bug("leaked-transaction", Some("idle-in-transaction-timeout"));
    let terminated = events
        .iter()
        .filter(|e| {
            matches!(e, Event::Server(server::Event::Log { line, .. })
                if line == "FATAL:  terminating connection due to idle-in-transaction timeout")
        })
        .count();
    // C2, C3 and C4 each take the early return and are ended in turn; C5 is the last.
    assert_eq!(terminated, 3);
}

#[test]
fn leaked_transaction_return_error_answers_the_retry_with_an_error_that_is_not_a_failure() {
    let (world, _) = play_bug("leaked-transaction", Some("return-error"));
    let c2 = world.task_error(world.task_named("C2").unwrap());
    assert!(
        matches!(&c2, Some(e) if e.text == "subscription already cancelled"),
        "{c2:?}"
    );
    assert!(violations(&world).is_empty());
}
