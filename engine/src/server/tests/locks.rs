//! Locks: row-lock and table-lock waits, deadlocks and their reports, timeouts, NOWAIT and SKIP
//! LOCKED, advisory locks, the wait edges.

use super::*;

#[test]
fn row_lock_deadlock_reports_postgresqls_exact_error() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; SELECT * FROM widget WHERE id = 2 FOR UPDATE");
    h.ok(b, "BEGIN; SELECT * FROM widget WHERE id = 3 FOR UPDATE");
    assert_eq!(
        h.exec(a, "SELECT * FROM widget WHERE id = 3 FOR UPDATE"),
        None
    );
    assert!(h.is_waiting(a));
    // A's own check runs after its deadlock_timeout and finds nothing: B is not waiting yet.
    h.advance(Duration::from_secs(1));
    assert!(h.is_waiting(a));
    h.advance(Duration::from_millis(500));
    assert_eq!(
        h.exec(b, "SELECT * FROM widget WHERE id = 2 FOR UPDATE"),
        None
    );
    // B closed the cycle; A was checked already, so B's check finds it and B is the victim.
    h.advance(Duration::from_secs(1));
    let err = h
        .srv
        .take_outcome(b)
        .expect("b failed")
        .error
        .expect("error");
    assert_eq!(
        err.to_string(),
        "ERROR:  deadlock detected\n\
         DETAIL:  Process 4102 waits for ShareLock on transaction 741; blocked by process 4101.\n\
         Process 4101 waits for ShareLock on transaction 742; blocked by process 4102.\n\
         HINT:  See server log for query details.\n\
         CONTEXT:  while locking tuple (0,2) in relation \"widget\""
    );
    assert_eq!(err.code, "40P01");
    // The victim's locks went with its transaction: A got row 3.
    let out = h.settle(a).expect("a finished");
    assert_eq!(out.error, None);
    assert_eq!(h.srv.state(b), SessionState::IdleInTransactionAborted);
}

#[test]
fn the_first_waiter_is_the_victim_when_its_check_comes_after_the_cycle_closed() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1");
    h.ok(b, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 2");
    assert_eq!(h.exec(a, "UPDATE widget SET qty = 2 WHERE id = 2"), None);
    h.advance(Duration::from_millis(100));
    assert_eq!(h.exec(b, "UPDATE widget SET qty = 2 WHERE id = 1"), None);
    h.advance(Duration::from_millis(900));
    let err = h
        .srv
        .take_outcome(a)
        .expect("a failed")
        .error
        .expect("error");
    assert_eq!(err.message, "deadlock detected");
    assert_eq!(
        err.context.as_deref(),
        Some("while updating tuple (0,2) in relation \"widget\"")
    );
    assert!(err
        .detail
        .unwrap()
        .starts_with("Process 4101 waits for ShareLock on transaction 742"));
    let out = h.settle(b).expect("b finished");
    assert_eq!(out.error, None);
}

#[test]
fn for_update_locks_one_row_per_step_in_plan_order() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    // An update moves row 2 to the end of the heap.
    h.ok(a, "UPDATE widget SET qty = 7 WHERE id = 2");
    let order = |h: &mut Harness, sql: &str| -> Vec<(u32, u16)> {
        h.events.clear();
        h.ok(a, &format!("BEGIN; {sql}; ROLLBACK"));
        h.events
            .iter()
            .filter_map(|e| match e {
                Event::RowLocked { ctid, .. } => Some(*ctid),
                _ => None,
            })
            .collect()
    };
    // Unindexed column: a sequential scan, heap order, so row 2's new version comes last.
    assert_eq!(
        order(
            &mut h,
            "SELECT * FROM widget WHERE maker IN (3, 2, 1) FOR UPDATE"
        ),
        vec![(0, 1), (0, 3), (0, 6)]
    );
    // An IN list on the primary key: a bitmap heap scan, in the order of the TIDs the index
    // points to. Row 2's update was HOT (no key changed), so its index entry still points at
    // the chain's root (0,2): 1, 2, 3.
    assert_eq!(
        order(
            &mut h,
            "SELECT * FROM widget WHERE id IN (3, 2, 1) FOR UPDATE"
        ),
        vec![(0, 1), (0, 6), (0, 3)]
    );
    // Stepping: the start step, then one row per step.
    let b = h.connect();
    h.srv.submit(
        b,
        "SELECT * FROM widget WHERE id IN (1, 2, 3) FOR UPDATE",
        h.now,
        &mut h.events,
    );
    h.events.clear();
    h.srv.step(b, h.now, &mut h.events);
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, Event::RowLocked { .. })));
    h.srv.step(b, h.now, &mut h.events);
    let locked = h
        .events
        .iter()
        .filter(|e| matches!(e, Event::RowLocked { .. }))
        .count();
    assert_eq!(locked, 1);
}

#[test]
fn lock_and_statement_timeouts_cancel_the_wait_with_postgresqls_messages() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);");
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; SELECT * FROM t FOR UPDATE");
    h.ok(b, "SET lock_timeout = '2s'");
    assert_eq!(h.exec(b, "UPDATE t SET id = 2"), None);
    assert_eq!(
        h.srv.next_timer(),
        Some(Instant::START + Duration::from_secs(1))
    );
    h.advance(Duration::from_secs(2));
    let err = h.srv.take_outcome(b).unwrap().error.unwrap();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("55P03", "canceling statement due to lock timeout")
    );
    h.ok(b, "SET lock_timeout = 0; SET statement_timeout = '10ms'");
    assert_eq!(h.exec(b, "BEGIN; LOCK TABLE t"), None);
    h.advance(Duration::from_millis(10));
    let err = h.srv.take_outcome(b).unwrap().error.unwrap();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("57014", "canceling statement due to statement timeout")
    );
}

#[test]
fn idle_in_transaction_timeout_terminates_the_session_and_frees_its_locks() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);");
    let a = h.connect();
    let b = h.connect();
    h.ok(
        a,
        "SET idle_in_transaction_session_timeout = '10s'; BEGIN; SELECT * FROM t FOR UPDATE",
    );
    assert_eq!(h.exec(b, "SELECT * FROM t FOR UPDATE"), None);
    h.advance(Duration::from_secs(10));
    match h.srv.state(a) {
        SessionState::Terminated(e) => {
            assert_eq!(
                e.to_string(),
                "FATAL:  terminating connection due to idle-in-transaction timeout"
            );
            assert_eq!(e.code, "25P03");
        }
        s => panic!("{s:?}"),
    }
    assert_eq!(h.settle(b).unwrap().error, None);
}

#[test]
fn the_row_lock_conflict_table_is_postgresqls_table_13_3() {
    use crate::sql::RowLockStrength::*;
    let modes = [KeyShare, Share, NoKeyUpdate, Update];
    // Rows = requested, columns = held: FOR KEY SHARE, FOR SHARE, FOR NO KEY UPDATE, FOR UPDATE.
    let table = ["...X", "..XX", ".XXX", "XXXX"];
    for (i, row) in table.iter().enumerate() {
        for (j, c) in row.chars().enumerate() {
            assert_eq!(
                rowlock::row_conflicts(modes[i], modes[j]),
                c == 'X',
                "{:?} vs {:?}",
                modes[i],
                modes[j]
            );
        }
    }
    // The tuple lock taken while queueing for a row (tupleLockExtraInfo).
    assert_eq!(rowlock::tuple_lock_mode(KeyShare), LockMode::AccessShare);
    assert_eq!(rowlock::tuple_lock_mode(Share), LockMode::RowShare);
    assert_eq!(rowlock::tuple_lock_mode(NoKeyUpdate), LockMode::Exclusive);
    assert_eq!(rowlock::tuple_lock_mode(Update), LockMode::AccessExclusive);
}

#[test]
fn nowait_and_skip_locked_never_wait() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; SELECT * FROM widget WHERE id = 1 FOR UPDATE");
    let err = h
        .exec(b, "SELECT * FROM widget WHERE id = 1 FOR UPDATE NOWAIT")
        .unwrap()
        .error
        .unwrap();
    assert_eq!(
        err.to_string(),
        "ERROR:  could not obtain lock on row in relation \"widget\""
    );
    assert_eq!(err.code, "55P03");
    assert_eq!(
        h.rows(
            b,
            "SELECT id FROM widget WHERE id IN (1, 2) ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1"
        ),
        vec![vec!["2".to_string()]]
    );
    let err = h
        .exec(b, "BEGIN; LOCK TABLE widget NOWAIT")
        .unwrap()
        .error
        .unwrap();
    assert_eq!(err.message, "could not obtain lock on relation \"widget\"");
}

#[test]
fn wait_edges_show_hard_holders_and_soft_queue_order() {
    let mut h = Harness::new("CREATE TABLE t (id int)");
    let a = h.connect();
    let b = h.connect();
    let c = h.connect();
    h.ok(a, "BEGIN; LOCK TABLE t IN ACCESS SHARE MODE");
    h.ok(b, "BEGIN");
    h.ok(c, "BEGIN");
    assert_eq!(h.exec(b, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE"), None);
    assert_eq!(h.exec(c, "LOCK TABLE t IN ACCESS SHARE MODE"), None);
    let edges: Vec<(Pid, Pid, bool)> = h
        .srv
        .wait_edges()
        .into_iter()
        .map(|e| (e.waiter, e.blocker, e.hard))
        .collect();
    assert_eq!(edges, vec![(b, a, true), (c, b, false)]);
    match h.srv.state(c) {
        SessionState::Waiting(r) => assert_eq!(r.blockers, vec![b]),
        s => panic!("{s:?}"),
    }
    let views = h.srv.locks();
    let rel = views
        .iter()
        .find(|l| l.relation.as_deref() == Some("t"))
        .unwrap();
    assert_eq!(rel.holders, vec![(a, LockMode::AccessShare)]);
    assert_eq!(
        rel.waiters,
        vec![(b, LockMode::AccessExclusive), (c, LockMode::AccessShare)]
    );
}

#[test]
fn a_deadlock_check_that_finds_nothing_never_runs_again_for_that_wait() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1");
    assert_eq!(h.exec(b, "UPDATE widget SET qty = 2 WHERE id = 1"), None);
    assert_eq!(
        h.srv.next_timer(),
        Some(Instant::START + Duration::from_secs(1))
    );
    h.advance(Duration::from_secs(1));
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::DeadlockCheck {
            verdict: DeadlockVerdict::NoDeadlock,
            ..
        }
    )));
    assert_eq!(h.srv.next_timer(), None);
}

#[test]
fn advisory_locks_block_and_count_like_postgresqls() {
    let mut h = Harness::new("CREATE TABLE t (id int)");
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "SELECT pg_advisory_lock(7); SELECT pg_advisory_lock(7)");
    assert_eq!(h.exec(b, "SELECT pg_advisory_lock(7)"), None);
    assert_eq!(
        h.rows(a, "SELECT pg_advisory_unlock(7)"),
        vec![vec!["t".to_string()]]
    );
    assert!(h.is_waiting(b));
    h.ok(a, "SELECT pg_advisory_unlock(7)");
    assert_eq!(h.settle(b).unwrap().error, None);
    assert_eq!(
        h.rows(a, "SELECT pg_advisory_unlock(7)"),
        vec![vec!["f".to_string()]]
    );
}

#[test]
fn the_server_log_names_each_deadlocked_process_query() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1");
    h.ok(b, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 2");
    assert_eq!(h.exec(a, "UPDATE widget SET qty = 2 WHERE id = 2"), None);
    assert_eq!(h.exec(b, "UPDATE widget SET qty = 2 WHERE id = 1"), None);
    h.events.clear();
    h.advance(Duration::from_secs(1));
    let log: Vec<&str> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Log { line, .. } => Some(line.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        log[0],
        "ERROR:  deadlock detected\n\
         DETAIL:  Process 4101 waits for ShareLock on transaction 742; blocked by process 4102.\n\
         \tProcess 4102 waits for ShareLock on transaction 741; blocked by process 4101.\n\
         \tProcess 4101: UPDATE widget SET qty = 2 WHERE id = 2\n\
         \tProcess 4102: UPDATE widget SET qty = 2 WHERE id = 1\n\
         HINT:  See server log for query details.\n\
         CONTEXT:  while updating tuple (0,2) in relation \"widget\""
    );
    assert_eq!(log[1], "STATEMENT:  UPDATE widget SET qty = 2 WHERE id = 2");
}

#[test]
fn a_statement_waiting_for_a_table_that_is_dropped_and_recreated_fails_cleanly() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY)");
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; LOCK TABLE t");
    assert_eq!(h.exec(b, "INSERT INTO t VALUES (1)"), None);
    h.ok(
        a,
        "DROP TABLE t; CREATE TABLE t (x text, y text, z text); COMMIT",
    );
    let err = h.settle(b).unwrap().error.unwrap();
    assert_eq!(err.code, "42P01");
}

#[test]
fn row_waiters_show_on_the_tuple_they_wait_for() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    let c = h.connect();
    h.ok(a, "BEGIN; SELECT * FROM widget WHERE id = 1 FOR UPDATE");
    assert_eq!(h.exec(b, "UPDATE widget SET qty = 1 WHERE id = 1"), None);
    assert_eq!(h.exec(c, "DELETE FROM widget WHERE id = 1"), None);
    let widget = h
        .srv
        .tables()
        .into_iter()
        .find(|t| t.name == "widget")
        .unwrap();
    let row1 = &widget.tuples[0];
    assert_eq!(row1.ctid, (0, 1));
    assert_eq!(row1.waiters, vec![b, c]);
    assert_eq!(row1.xmax[0].pid, Some(a));
    // B holds the tuple lock and sleeps on A's xid; C queues on the tuple lock behind B.
    match (h.srv.state(b), h.srv.state(c)) {
        (SessionState::Waiting(rb), SessionState::Waiting(rc)) => {
            assert_eq!(rb.tag, LockTag::Transaction(Xid(FIRST_XID + 1)));
            assert_eq!(rb.blockers, vec![a]);
            assert_eq!(rb.row, Some(("widget".to_string(), (0, 1))));
            assert!(matches!(
                rc.tag,
                LockTag::Tuple {
                    block: 0,
                    offset: 1,
                    ..
                }
            ));
            assert_eq!(rc.blockers, vec![b]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_non_key_update_after_for_update_is_a_key_update_for_key_share() {
    // Checked on PostgreSQL 15 (regression update-after-for-update-is-a-key-update).
    let mut h =
        Harness::new("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10);");
    let a = h.connect();
    let b = h.connect();
    h.ok(
        a,
        "BEGIN; SELECT * FROM t WHERE id = 1 FOR UPDATE; UPDATE t SET v = 302 WHERE id = 1",
    );
    // FOR KEY SHARE would not conflict with a plain non-key update, but this one kept the
    // FOR UPDATE strength: B waits, and after the commit it locks and returns the new version.
    assert_eq!(
        h.exec(b, "SELECT v FROM t WHERE id = 1 FOR KEY SHARE"),
        None
    );
    assert!(h.is_waiting(b));
    h.ok(a, "COMMIT");
    let out = h.settle(b).expect("b finished");
    assert_eq!(out.error, None);
    assert_eq!(
        out.results,
        vec![StatementResult::Rows {
            columns: vec!["v".into()],
            rows: vec![vec![Some("302".into())]]
        }]
    );
}
