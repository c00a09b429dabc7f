//! The read-only views the UI reads instead of the world's fields: connections, pools, the
//! clock, the server and what a task returned.

use super::pool_exhaustion::run_to_second_acquire;
use super::*;
use std::collections::BTreeSet;

/// Lesson pool-exhaustion: each of four requests has taken one connection with its first
/// query (after making its context, if it has one), so the pool (pgxpool's default of 4) is
/// full.
fn four_holding_one_each(context: Option<&str>) -> (World, Vec<TaskId>) {
    let mut world = World::new(&nested_queries(4, None, context)).unwrap();
    let ids: Vec<TaskId> = ["R1", "R2", "R3", "R4"]
        .iter()
        .map(|n| world.task_named(n).unwrap())
        .collect();
    let steps = if context.is_some() { 2 } else { 1 };
    for &id in &ids {
        for _ in 0..steps {
            world.step(Choice::Task(id)).unwrap();
        }
        assert_eq!(world.held_connections(id).len(), 1);
    }
    (world, ids)
}

#[test]
fn connection_views_name_each_connections_pool_holder_and_backend() {
    let (world, ids) = four_holding_one_each(None);
    let views = world.connection_views();
    assert_eq!(views.len(), 4);
    let holders: Vec<Option<TaskId>> = views.iter().map(|c| c.holder).collect();
    assert_eq!(holders, ids.iter().copied().map(Some).collect::<Vec<_>>());
    for view in &views {
        assert_eq!(view.pool, PoolId(0));
        assert_eq!(view.pool_name, "db");
        assert!(!view.bad && !view.terminated);
        assert_eq!(view.locked_by, None);
        let conn = &world.connections[&view.id];
        assert_eq!(view.pid, conn.pid);
        let sent: Vec<String> = conn.to_backend.iter().map(|m| m.to_string()).collect();
        let unread: Vec<String> = conn.to_frontend.iter().map(|m| m.to_string()).collect();
        assert_eq!((&view.to_backend, &view.to_frontend), (&sent, &unread));
        assert_eq!(world.connection_view(view.id).as_ref(), Some(view));
    }
    let pids: BTreeSet<_> = views.iter().map(|c| c.pid).collect();
    assert_eq!(pids.len(), 4, "one backend each");
    assert_eq!(world.connection_view(ConnId(99)), None);
    // Every connection has a backend on the server, and the clock has not moved.
    assert_eq!(world.server().sessions().count(), 4);
    assert_eq!(world.now(), Instant::START);
}

#[test]
fn pool_views_count_the_connections_in_use_and_the_waiters() {
    let (mut world, ids) = four_holding_one_each(None);
    let pools = world.pool_views();
    assert_eq!(pools.len(), 1);
    let pool = &pools[0];
    assert_eq!(
        (pool.id, pool.name.as_str(), pool.driver),
        (PoolId(0), "db", Driver::Pgxpool)
    );
    assert_eq!((pool.max_open, pool.free), (Some(4), Some(0)));
    assert_eq!((pool.open.len(), pool.idle.len()), (4, 0));
    let holders: Vec<Option<TaskId>> = pool.slots.iter().map(|s| s.holder).collect();
    assert_eq!(holders, ids.iter().copied().map(Some).collect::<Vec<_>>());
    assert!(pool.waiters.is_empty());
    assert_eq!(world.pool_name(PoolId(0)), Some("db"));
    assert_eq!(world.pool_name(PoolId(1)), None);
    // R1's inner query finds the pool full and queues, then R2's.
    run_to_second_acquire(&mut world, "R1");
    run_to_second_acquire(&mut world, "R2");
    assert_eq!(world.pool_views()[0].waiters, vec![ids[0], ids[1]]);
}

#[test]
fn pool_views_show_every_connection_idle_once_the_request_finished() {
    let mut world = World::new(&nested_queries(1, None, None)).unwrap();
    run_first_choice(&mut world, 1000);
    let pool = &world.pool_views()[0];
    assert_eq!(pool.open.len(), 2, "the outer and the inner query's");
    assert_eq!(pool.idle.len(), pool.open.len());
    assert_eq!(pool.free, Some(2));
    assert!(pool.slots.iter().all(|s| s.holder.is_none()));
    assert!(world.connection_views().iter().all(|c| c.holder.is_none()));
    let r = world.task_named("R").unwrap();
    assert_eq!(world.task_error(r), None);
}

#[test]
fn task_error_is_what_a_failed_task_returned() {
    let (mut world, ids) = four_holding_one_each(Some("100"));
    for name in ["R1", "R2", "R3", "R4"] {
        run_to_second_acquire(&mut world, name);
    }
    assert!(ids.iter().all(|&id| world.task_error(id).is_none()));
    run_first_choice(&mut world, 1000);
    assert!(world.now() > Instant::START, "the deadlines fired");
    for (id, name) in ids.into_iter().zip(["R1", "R2", "R3", "R4"]) {
        let error = world.task_error(id).expect("failed");
        assert_eq!(error.text, "context deadline exceeded");
        assert_eq!(Some(error.text), failure_of(&world, name));
    }
}
