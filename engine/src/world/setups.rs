//! Servers as a scenario's setup leaves them. The worlds of one lesson (its bug, every fix,
//! every knob's extremes) share their setup SQL, and checking a lesson file builds all of them:
//! with [`Setups`], the setup runs once and the other worlds start from a copy.

use super::backend;
use super::scenario::{Scenario, ServerSettings};
use super::ScenarioError;
use crate::server::Server;

/// The servers built so far, by server settings and setup SQL.
#[derive(Default)]
pub struct Setups {
    done: Vec<(ServerSettings, String, Server)>,
}

impl Setups {
    /// No setup run yet.
    pub fn new() -> Setups {
        Setups::default()
    }

    /// A server with `scenario`'s settings after its setup: a copy of one built before, or a new
    /// one (kept for the next scenario with the same settings and setup).
    pub fn server_for(&mut self, scenario: &Scenario) -> Result<Server, ScenarioError> {
        let built = self
            .done
            .iter()
            .find(|(settings, setup, _)| *settings == scenario.server && *setup == scenario.setup);
        if let Some((_, _, server)) = built {
            return Ok(server.clone());
        }
        let mut server = Server::new(backend::server_settings(&scenario.server));
        server
            .setup(&scenario.setup)
            .map_err(|e| ScenarioError::Setup(format!("{}:  {}", e.severity, e.message)))?;
        self.done.push((
            scenario.server.clone(),
            scenario.setup.clone(),
            server.clone(),
        ));
        Ok(server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(setup: &str) -> Scenario {
        Scenario {
            setup: setup.to_string(),
            ..Scenario::default()
        }
    }

    #[test]
    fn a_setup_runs_once_for_every_scenario_that_shares_it() {
        let mut setups = Setups::new();
        let one = scenario("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);");
        let first = setups.server_for(&one).unwrap();
        let again = setups.server_for(&one).unwrap();
        assert_eq!(setups.done.len(), 1);
        assert_eq!(
            format!("{:?}", first.tables()),
            format!("{:?}", again.tables())
        );
        // Other settings or other SQL: a setup of their own.
        let mut other = one.clone();
        other.server.deadlock_timeout_ms = Some(5);
        setups.server_for(&other).unwrap();
        setups
            .server_for(&scenario("CREATE TABLE u (id int);"))
            .unwrap();
        assert_eq!(setups.done.len(), 3);
    }

    #[test]
    fn a_setup_that_fails_fails_every_time_and_is_not_kept() {
        let mut setups = Setups::new();
        let bad = scenario("INSERT INTO nowhere VALUES (1);");
        assert!(setups.server_for(&bad).is_err());
        assert!(setups.server_for(&bad).is_err());
        assert!(setups.done.is_empty());
    }
}
