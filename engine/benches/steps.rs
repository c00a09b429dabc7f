//! How fast the simulated PostgreSQL runs: server steps per second of wall-clock time, plus
//! the cost of cloning and hashing the whole server (what an explorer pays per state).
//!
//! Run with `cargo bench -p lockstep-engine --bench steps`. This is a measurement, not a test:
//! it prints figures and never fails.

use lockstep::server::{Event, Pid, Server, Settings};
use lockstep::time::{Duration, Instant};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

const SETUP: &str = "CREATE TABLE widget (id int PRIMARY KEY, maker int, qty int);
    INSERT INTO widget VALUES (1, 1, 0), (2, 2, 0), (3, 3, 0), (4, 4, 0), (5, 5, 0),
                              (6, 6, 0), (7, 7, 0), (8, 8, 0), (9, 9, 0), (10, 10, 0);";

/// Transactions per backend on one server before starting afresh: lessons and explored
/// schedules are short, and the model has no VACUUM, so a long-lived server only grows.
const ROUNDS_PER_SERVER: usize = 10;

/// Runs the workload on fresh servers and returns the number of `step` calls made.
fn round_robin(rounds: usize, queries: &[&str]) -> u64 {
    let mut steps = 0;
    for _ in 0..rounds / ROUNDS_PER_SERVER {
        steps += one_server(ROUNDS_PER_SERVER, queries);
    }
    steps
}

fn one_server(rounds: usize, queries: &[&str]) -> u64 {
    let mut srv = Server::new(Settings::default());
    srv.setup(SETUP).expect("setup");
    let mut events: Vec<Event> = Vec::new();
    let mut now = Instant::START;
    let pids: Vec<Pid> = (0..queries.len())
        .map(|_| srv.connect(now, &mut events).expect("connect"))
        .collect();
    let mut steps = 0u64;
    for _ in 0..rounds {
        for (pid, sql) in pids.iter().zip(queries) {
            srv.submit(*pid, sql, now, &mut events);
        }
        // Interleave one step per backend at a time; when nobody can run, let time pass.
        loop {
            let mut progressed = false;
            for pid in &pids {
                if srv.is_runnable(*pid) {
                    srv.step(*pid, now, &mut events);
                    steps += 1;
                    progressed = true;
                }
            }
            if !progressed {
                match srv.next_timer() {
                    Some(at) => {
                        now = at;
                        srv.fire_timers(now, &mut events);
                    }
                    None => break,
                }
            }
        }
        for pid in &pids {
            let _ = srv.take_outcome(*pid);
        }
        events.clear();
        now = now + Duration::from_millis(1);
    }
    steps
}

fn measure(name: &str, rounds: usize, queries: &[&str]) {
    let start = std::time::Instant::now();
    let steps = round_robin(rounds, queries);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<44} {steps:>9} steps in {secs:>6.3} s = {:>10.0} steps/s",
        steps as f64 / secs
    );
}

fn main() {
    println!("lockstep server benchmark (release build recommended)");
    measure(
        "one backend, read-modify-write transaction",
        20_000,
        &["BEGIN; SELECT * FROM widget WHERE id = 3 FOR UPDATE; UPDATE widget SET qty = qty + 1 WHERE id = 3; COMMIT"],
    );
    measure(
        "two backends, FOR UPDATE in the same order",
        5_000,
        &[
            "BEGIN; SELECT * FROM widget WHERE id IN (1, 2, 3) ORDER BY id FOR UPDATE; UPDATE widget SET qty = qty + 1 WHERE id IN (1, 2, 3); COMMIT",
            "BEGIN; SELECT * FROM widget WHERE id IN (2, 3, 5) ORDER BY id FOR UPDATE; UPDATE widget SET qty = qty + 1 WHERE id IN (2, 3, 5); COMMIT",
        ],
    );
    measure(
        "two backends, opposite order (deadlock each round)",
        2_000,
        &[
            "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1; UPDATE widget SET qty = 1 WHERE id = 2; COMMIT",
            "BEGIN; UPDATE widget SET qty = 2 WHERE id = 2; UPDATE widget SET qty = 2 WHERE id = 1; ROLLBACK",
        ],
    );

    // What an explorer pays per visited state: clone the server and hash it.
    let mut srv = Server::new(Settings::default());
    srv.setup(SETUP).expect("setup");
    let mut events = Vec::new();
    let a = srv.connect(Instant::START, &mut events).expect("connect");
    srv.submit(
        a,
        "BEGIN; UPDATE widget SET qty = 5 WHERE id < 6",
        Instant::START,
        &mut events,
    );
    srv.run(a, Instant::START, &mut events);
    let n = 20_000;
    let start = std::time::Instant::now();
    let mut acc = 0u64;
    for _ in 0..n {
        let copy = srv.clone();
        let mut h = DefaultHasher::new();
        copy.hash(&mut h);
        acc = acc.wrapping_add(h.finish());
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:<44} {n:>9} times in {secs:>6.3} s = {:>10.0} per s (checksum {acc:x})",
        "clone + hash of a server with 16 tuples",
        n as f64 / secs
    );
}
