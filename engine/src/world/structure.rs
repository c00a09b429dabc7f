//! The world's structural invariants: what holds after every step whatever the scenario, a
//! buggy lesson included. A violation is an engine bug, never a lesson's outcome (those are
//! the scenario's own invariants, in `invariants.rs`). Debug builds check them after every
//! step (`World::step`); release builds, the command line and the browser do not.

use super::World;

impl World {
    /// Every broken structural invariant of the world and of its server, one sentence each
    /// (empty when all hold):
    ///
    /// - an idle connection has no holder and sits once on its own pool's idle list, and every
    ///   connection is among its pool's open ones;
    /// - a pool's open connections are listed once each, in id order;
    /// - every usable connection's backend is known to the server;
    /// - the server's own invariants hold (`server/invariants.rs`).
    pub(crate) fn structural_violations(&self) -> Vec<String> {
        let mut out = self.server.invariant_violations();
        for (id, conn) in &self.connections {
            let pool = &self.pools[conn.pool.0 as usize];
            let idle = pool.idle.iter().filter(|c| *c == id).count();
            if idle > 1 || (idle == 1 && conn.holder.is_some()) {
                out.push(format!(
                    "connection {id:?} is idle {idle} times, holder {:?}",
                    conn.holder
                ));
            }
            if !pool.open.contains(id) {
                out.push(format!(
                    "connection {id:?} is not among its pool's open ones"
                ));
            }
            // A session the server ended (a timeout) stays until its client reads the FATAL.
            if !conn.bad && !self.server.has_session(conn.pid) {
                out.push(format!(
                    "connection {id:?}'s backend {} is unknown to the server",
                    conn.pid
                ));
            }
        }
        for pool in &self.pools {
            if pool.open.windows(2).any(|w| w[0] >= w[1]) {
                out.push(format!(
                    "pool {}'s open connections are not in id order: {:?}",
                    pool.name, pool.open
                ));
            }
        }
        out
    }

    /// Panics if a structural invariant is broken: called after every step in debug builds.
    #[cfg(debug_assertions)]
    pub(super) fn assert_structure(&self) {
        let broken = self.structural_violations();
        assert!(
            broken.is_empty(),
            "the world's structure is broken: {broken:#?}"
        );
    }
}
