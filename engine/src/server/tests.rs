//! Server behaviour tests: each pins one PostgreSQL behaviour the lessons rely on.

use super::*;
use crate::time::{Duration, Instant};

struct Harness {
    srv: Server,
    now: Instant,
    events: Vec<Event>,
}

impl Harness {
    fn new(setup: &str) -> Harness {
        let mut srv = Server::new(Settings::default());
        srv.setup(setup).expect("setup");
        Harness {
            srv,
            now: Instant::START,
            events: Vec::new(),
        }
    }

    fn connect(&mut self) -> Pid {
        self.srv
            .connect(self.now, &mut self.events)
            .expect("connect")
    }

    /// Submits and runs until done or waiting; returns the outcome if done.
    fn exec(&mut self, pid: Pid, sql: &str) -> Option<QueryOutcome> {
        self.srv.submit(pid, sql, self.now, &mut self.events);
        self.srv.run(pid, self.now, &mut self.events);
        self.srv.take_outcome(pid)
    }

    fn ok(&mut self, pid: Pid, sql: &str) -> Vec<StatementResult> {
        let out = self.exec(pid, sql).expect("finished");
        assert_eq!(out.error, None, "{sql}");
        out.results
    }

    fn rows(&mut self, pid: Pid, sql: &str) -> Vec<Vec<String>> {
        let results = self.ok(pid, sql);
        match results.last() {
            Some(StatementResult::Rows { rows, .. }) => rows
                .iter()
                .map(|r| r.iter().map(|v| v.clone().unwrap_or_default()).collect())
                .collect(),
            other => panic!("no rows: {other:?}"),
        }
    }

    fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        self.srv.fire_timers(self.now, &mut self.events);
        for pid in self.srv.sessions().collect::<Vec<_>>() {
            self.srv.run(pid, self.now, &mut self.events);
        }
    }

    fn is_waiting(&self, pid: Pid) -> bool {
        matches!(self.srv.state(pid), SessionState::Waiting(_))
    }

    /// Runs every runnable backend, then returns `pid`'s outcome.
    fn settle(&mut self, pid: Pid) -> Option<QueryOutcome> {
        for p in self.srv.sessions().collect::<Vec<_>>() {
            self.srv.run(p, self.now, &mut self.events);
        }
        self.srv.take_outcome(pid)
    }
}

const WIDGETS: &str = "CREATE TABLE widget (id int PRIMARY KEY, maker int, qty int);
    INSERT INTO widget VALUES (1, 1, 0), (2, 2, 0), (3, 3, 0), (4, 4, 0), (5, 5, 0);";

#[test]
fn first_backend_and_transaction_ids_look_like_postgresqls() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    assert_eq!((a, b), (Pid(FIRST_PID), Pid(FIRST_PID + 1)));
    h.ok(a, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1");
    // Setup used xid 740 for its single implicit transaction.
    assert_eq!(h.srv.backend_xid(a), Some(Xid(FIRST_XID + 1)));
}

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
    // Primary key: an index scan, key order.
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
fn read_committed_rechecks_the_new_version_after_waiting() {
    let mut h =
        Harness::new("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10);");
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; UPDATE t SET v = 11 WHERE id = 1");
    assert_eq!(h.exec(b, "UPDATE t SET v = 100 WHERE v = 10"), None);
    h.ok(a, "COMMIT");
    let out = h.settle(b).unwrap();
    assert_eq!(
        out.results,
        vec![StatementResult::Command {
            tag: "UPDATE 0".into()
        }]
    );
    assert_eq!(h.rows(a, "SELECT v FROM t"), vec![vec!["11".to_string()]]);
}

#[test]
fn repeatable_read_fails_on_a_concurrent_update() {
    let mut h =
        Harness::new("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10);");
    let a = h.connect();
    let b = h.connect();
    h.ok(b, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM t");
    h.ok(a, "BEGIN; UPDATE t SET v = 11 WHERE id = 1");
    assert_eq!(h.exec(b, "UPDATE t SET v = v + 1 WHERE id = 1"), None);
    h.ok(a, "COMMIT");
    let err = h.settle(b).unwrap().error.unwrap();
    assert_eq!(err.code, "40001");
    assert_eq!(
        err.message,
        "could not serialize access due to concurrent update"
    );
    // Reads keep seeing the snapshot... after the error the block is aborted.
    let err = h.exec(b, "SELECT 1").unwrap().error.unwrap();
    assert_eq!(err.code, "25P02");
    h.ok(b, "ROLLBACK");
}

#[test]
fn read_skew_is_visible_at_read_committed_but_not_repeatable_read() {
    let setup = "CREATE TABLE acct (id text PRIMARY KEY, balance int);
        INSERT INTO acct VALUES ('a', 50), ('b', 50);";
    for (level, expect) in [("READ COMMITTED", "60"), ("REPEATABLE READ", "50")] {
        let mut h = Harness::new(setup);
        let r = h.connect();
        let w = h.connect();
        h.ok(r, &format!("BEGIN ISOLATION LEVEL {level}"));
        assert_eq!(
            h.rows(r, "SELECT balance FROM acct WHERE id = 'a'"),
            vec![vec!["50".to_string()]]
        );
        h.ok(w, "BEGIN; UPDATE acct SET balance = 40 WHERE id = 'a'; UPDATE acct SET balance = 60 WHERE id = 'b'; COMMIT");
        assert_eq!(
            h.rows(r, "SELECT balance FROM acct WHERE id = 'b'"),
            vec![vec![expect.to_string()]]
        );
    }
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
    assert_eq!(h.exec(b, "LOCK TABLE t"), None);
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
fn max_connections_keeps_reserved_slots_for_superusers() {
    let mut srv = Server::new(Settings {
        max_connections: 5,
        ..Settings::default()
    });
    let mut ev = Vec::new();
    assert!(srv.connect(Instant::START, &mut ev).is_ok());
    assert!(srv.connect(Instant::START, &mut ev).is_ok());
    let err = srv.connect(Instant::START, &mut ev).unwrap_err();
    assert_eq!(
        err.to_string(),
        "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute"
    );
    let mut srv = Server::new(Settings {
        max_connections: 1,
        superuser_reserved_connections: 0,
        ..Settings::default()
    });
    srv.connect(Instant::START, &mut ev).unwrap();
    let err = srv.connect(Instant::START, &mut ev).unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("53300", "sorry, too many clients already")
    );
}

#[test]
fn a_duplicate_insert_waits_for_the_inserter_and_then_fails() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY)");
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; INSERT INTO t VALUES (1)");
    assert_eq!(h.exec(b, "INSERT INTO t VALUES (1)"), None);
    match h.srv.state(b) {
        SessionState::Waiting(r) => {
            assert_eq!(r.tag, LockTag::Transaction(Xid(FIRST_XID + 1)));
            assert_eq!(
                r.context.as_deref(),
                Some("while inserting index tuple (0,2) in relation \"t_pkey\"")
            );
        }
        s => panic!("{s:?}"),
    }
    h.ok(a, "COMMIT");
    let err = h.settle(b).unwrap().error.unwrap();
    assert_eq!(
        err.message,
        "duplicate key value violates unique constraint \"t_pkey\""
    );
    assert_eq!(err.detail.as_deref(), Some("Key (id)=(1) already exists."));
}

#[test]
fn bad_sql_is_an_error_with_a_position_never_a_panic() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY)");
    let a = h.connect();
    let err = h.exec(a, "SELEC 1").unwrap().error.unwrap();
    assert_eq!(err.code, "42601");
    assert_eq!(err.position, Some((1, 1, 1)));
    for sql in [
        "SELECT * FROM nope",
        "UPDATE t SET nope = 1",
        "INSERT INTO t VALUES ('x')",
        "SELECT 1/0",
        "ROLLBACK TO x",
    ] {
        assert!(h.exec(a, sql).unwrap().error.is_some(), "{sql}");
    }
}

#[test]
fn server_values_compare_and_clone_equal() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    h.ok(a, "BEGIN; UPDATE widget SET qty = 3 WHERE id = 4");
    let copy = h.srv.clone();
    assert_eq!(copy, h.srv);
    let json = serde_json::to_string(&h.srv).unwrap();
    let back: Server = serde_json::from_str(&json).unwrap();
    assert_eq!(back, h.srv);
}
