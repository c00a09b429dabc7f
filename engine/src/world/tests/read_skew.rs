//! Lesson read-skew: two reads at two moments with a transfer committing in between, at each
//! isolation level.

use super::*;

/// Runs H until its first read has returned, then T to the end, then the rest.
fn transfer_between_the_reads(s: &Scenario) -> World {
    let mut world = World::new(s).unwrap();
    let h = world.task_named("H").unwrap();
    while world.current_op(h).map(|op| op.line) != Some(4) {
        world.step(Choice::Task(h)).unwrap();
    }
    run_until_blocked(&mut world, "T", 100);
    run_first_choice(&mut world, 1000);
    world
}

#[test]
fn two_reads_on_the_pool_see_a_total_that_never_existed() {
    let world = transfer_between_the_reads(&read_skew(None));
    let Status::Finished {
        invariant_violations,
    } = world.status()
    else {
        panic!()
    };
    assert_eq!(
        invariant_violations,
        vec!["total recorded by H = 200: H recorded 150".to_string()]
    );
    assert_eq!(
        world.query_value("SELECT sum(balance) FROM account"),
        Ok(Some("200".into()))
    );
}

#[test]
fn one_read_committed_transaction_still_sees_the_skew() {
    let world = transfer_between_the_reads(&read_skew(Some("read-committed")));
    let Status::Finished {
        invariant_violations,
    } = world.status()
    else {
        panic!()
    };
    assert_eq!(invariant_violations.len(), 1, "{invariant_violations:?}");
}

#[test]
fn one_repeatable_read_transaction_sees_one_snapshot() {
    let world = transfer_between_the_reads(&read_skew(Some("repeatable-read")));
    assert_eq!(
        world.status(),
        Status::Finished {
            invariant_violations: vec![]
        }
    );
}
