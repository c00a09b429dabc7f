//! The read-skew lesson: a report reads two balances around a transfer.

use super::*;

#[test]
fn read_skew_default_schedule_reports_a_total_that_never_existed() {
    let (world, events) = play_bug("read-skew", None);
    assert!(
        server_errors(&events).is_empty(),
        "read skew raises no error"
    );
    assert_eq!(
        violations(&world),
        vec!["total recorded by H = 200: H recorded 150".to_string()]
    );
}

#[test]
fn read_skew_explorer_finds_the_skew_and_repeatable_read_proves_the_fix() {
    let checks = check("read-skew");
    let bug = &checks[0];
    assert!(bug.complete && bug.ok, "{bug}");
    assert_eq!(bug.states, 384);
    assert_eq!((bug.terminal_failing, bug.terminal_succeeding), (5, 8));
    let rr = checks
        .iter()
        .find(|c| c.fix.as_deref() == Some("repeatable-read"))
        .unwrap();
    assert!(rr.complete && rr.failures.is_empty(), "{rr}");
    assert_eq!(rr.states, 610);
    let (world, _) = play_bug("read-skew", Some("repeatable-read"));
    assert!(violations(&world).is_empty());
}

#[test]
fn read_skew_read_committed_transaction_still_shows_the_skew() {
    let checks = check("read-skew");
    let rc = checks
        .iter()
        .find(|c| c.fix.as_deref() == Some("read-committed-tx"))
        .unwrap();
    assert!(!rc.failures.is_empty() && rc.ok, "{rc}");
    assert!(rc.failures[0].0.contains("H recorded 150"), "{rc}");
}
