//! Server behaviour tests: each pins one PostgreSQL behaviour the lessons rely on.

use super::*;
use crate::time::{Duration, Instant};

mod inserts;
mod isolation;
mod locks;
mod random;
mod values;

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
fn each_access_path_emits_rows_in_postgresqls_order() {
    // Checked on PostgreSQL 15 with the same statements (SELECT ctid, ... FOR UPDATE).
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    // A HOT update: row 2's new version (0,6) hangs off the root (0,2) the index points at.
    h.ok(a, "UPDATE widget SET qty = 7 WHERE id = 2");
    // Key updates are not HOT: rows 4 and 1 get new index entries at (0,7) and (0,8).
    h.ok(a, "UPDATE widget SET id = 0 WHERE id = 4");
    h.ok(a, "UPDATE widget SET id = 6 WHERE id = 1");
    let ids = |h: &mut Harness, filter: &str| -> Vec<String> {
        h.rows(
            a,
            &format!("SELECT id FROM widget WHERE {filter} FOR UPDATE"),
        )
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
    };
    // Bitmap heap scans: by root TID, so 2 (root (0,2)) comes first.
    let by_root = ["2", "3", "5", "0", "6"];
    assert_eq!(ids(&mut h, "id IN (6, 5, 2, 0, 3)"), by_root);
    assert_eq!(ids(&mut h, "id IN (6, 5, 2, NULL, 0, 3)"), by_root);
    assert_eq!(ids(&mut h, "id > -1"), by_root);
    assert_eq!(ids(&mut h, "-1 < id AND qty >= 0"), by_root);
    assert_eq!(ids(&mut h, "id = 0 OR id = 2 OR id = 3"), ["2", "3", "0"]);
    // Sequential scans: physical order, so 2 (now at (0,6)) comes after 3 and 5.
    let physical = ["3", "5", "2", "0", "6"];
    assert_eq!(ids(&mut h, "id <> 100"), physical);
    assert_eq!(ids(&mut h, "maker > 0"), physical);
    assert_eq!(ids(&mut h, "id = 0 OR maker = 2"), ["2", "0"]);
    // Index scans: one key (`IN` with one element is `=`).
    assert_eq!(ids(&mut h, "id = 6"), ["6"]);
    assert_eq!(ids(&mut h, "id IN (2)"), ["2"]);
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
    // The refused backend logs the refusal as it exits.
    assert!(matches!(
        ev.last(),
        Some(Event::Log { line, .. }) if line == "FATAL:  sorry, too many clients already"
    ));
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

#[test]
fn every_event_has_a_narration() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1");
    assert_eq!(h.exec(b, "DELETE FROM widget WHERE id = 1"), None);
    h.advance(Duration::from_secs(2));
    h.ok(a, "COMMIT");
    h.settle(b);
    assert!(h.events.len() > 10);
    for e in &h.events {
        assert!(!e.narration().is_empty(), "{e:?}");
    }
}

/// A tiny deterministic generator, so the fuzz test is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

#[test]
fn select_without_from_honours_its_where_clause() {
    let mut h = Harness::new("CREATE TABLE t (id int)");
    let a = h.connect();
    assert_eq!(
        h.rows(a, "SELECT 1 AS one WHERE 1 = 2"),
        Vec::<Vec<String>>::new()
    );
    assert_eq!(
        h.rows(a, "SELECT 1 AS one WHERE 1 = 1"),
        vec![vec!["1".to_string()]]
    );
}

#[test]
fn orm_shaped_sql_from_the_lessons_runs() {
    let mut h = Harness::new(
        r#"CREATE TABLE "app_widget" ("id" integer NOT NULL PRIMARY KEY, "maker_id" integer NOT NULL, "qty" integer NOT NULL);
           INSERT INTO "app_widget" ("id", "maker_id", "qty") VALUES (1, 1, 0), (2, 2, 0), (3, 3, 0);
           CREATE TABLE "addresses" ("hash" varchar(64) NOT NULL, "balance" bigint, CONSTRAINT "addresses_hash_key" UNIQUE ("hash"));"#,
    );
    let a = h.connect();
    assert_eq!(
        h.rows(
            a,
            r#"SELECT "app_widget"."id", "app_widget"."maker_id", "app_widget"."qty" FROM "app_widget" WHERE "app_widget"."id" IN (1, 2, 3) FOR UPDATE"#
        )
        .len(),
        3
    );
    h.ok(
        a,
        r#"INSERT INTO "addresses" ("hash","balance") VALUES ('h1',10),('h2',20) ON CONFLICT ("hash") DO UPDATE SET "balance" = EXCLUDED."balance""#,
    );
    h.ok(
        a,
        r#"INSERT INTO "addresses" ("hash","balance") VALUES ('h1',11) ON CONFLICT ("hash") DO UPDATE SET "balance" = "addresses"."balance" + EXCLUDED."balance""#,
    );
    assert_eq!(
        h.rows(
            a,
            r#"SELECT "balance" FROM "addresses" WHERE "hash" = 'h1'"#
        ),
        vec![vec!["21".to_string()]]
    );
}
