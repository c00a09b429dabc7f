//! Pool sizing, for lessons with a knob for how many tasks run and a knob for a pool's size.
//!
//! The rule: Tn tasks, each holding up to Cm connections at once, cannot starve a pool of at
//! least Tn × (Cm − 1) + 1 connections, because then some task can always get its last one.
//! [`PoolSizing`] measures Cm for a fix, gives the bound for every setting of the two knobs, and
//! builds the world at each setting for the explorer to confirm, setting by setting, whether a
//! deadlock is possible. The page draws the grid and runs the explorer in the background.

use crate::lesson::{Knob, KnobValues, Lesson};
use crate::limits::STEPS_PER_RUN_MAX;
use crate::world::World;

/// One setting of the two knobs: how many tasks run, and how large the pool is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Setting {
    /// The task knob's value (Tn).
    pub tasks: u32,
    /// The pool knob's value.
    pub pool: u32,
}

/// The two knobs of a lesson that pool sizing turns.
#[derive(Clone, Copy, Debug)]
pub struct PoolSizing<'a> {
    lesson: &'a Lesson,
    /// The knob that sets how many identical tasks run.
    pub tasks: &'a Knob,
    /// The knob that sets the pool's size.
    pub pool: &'a Knob,
}

impl<'a> PoolSizing<'a> {
    /// Pool sizing for `lesson`; `None` unless it has a task knob and a pool knob.
    pub fn of(lesson: &'a Lesson) -> Option<PoolSizing<'a>> {
        let tasks = lesson.knobs.iter().find(|k| k.task.is_some())?;
        let pool = lesson.knobs.iter().find(|k| k.pool.is_some())?;
        Some(PoolSizing {
            lesson,
            tasks,
            pool,
        })
    }

    /// Cm: the most connections one task holds at once, measured by running the fix's
    /// scenario with the fewest tasks and the largest pool (so no task waits for the pool),
    /// taking the first enabled choice at every step. At least 1.
    pub fn connections_per_task(&self, fix: Option<&str>) -> u32 {
        let knobs = KnobValues::from([
            (self.tasks.name.clone(), self.tasks.min),
            (self.pool.name.clone(), self.pool.max),
        ]);
        let Some(mut world) = self.world_with(fix, &knobs) else {
            return 1;
        };
        let held = |world: &World| {
            world
                .task_views()
                .iter()
                .map(|t| t.connections.len() as u32)
                .max()
                .unwrap_or(0)
        };
        let mut most = held(&world);
        for _ in 0..STEPS_PER_RUN_MAX {
            let Some(choice) = world.choices().first().copied() else {
                break;
            };
            if world.step(choice).is_err() {
                break;
            }
            most = most.max(held(&world));
        }
        most.max(1)
    }

    /// The smallest pool that `tasks` tasks holding up to `connections_per_task` connections
    /// each cannot starve: Tn × (Cm − 1) + 1.
    pub fn bound(tasks: u32, connections_per_task: u32) -> u32 {
        tasks * connections_per_task.saturating_sub(1) + 1
    }

    /// Whether the rule says the pool at `setting` cannot be starved.
    pub fn safe(setting: Setting, connections_per_task: u32) -> bool {
        setting.pool >= PoolSizing::bound(setting.tasks, connections_per_task)
    }

    /// Every setting the two knobs offer, smallest first (by tasks, then by pool size): the
    /// order a sweep checks them in, so the quick small worlds are decided first.
    pub fn settings(&self) -> Vec<Setting> {
        let mut out = Vec::new();
        for tasks in self.tasks.min..=self.tasks.max {
            for pool in self.pool.min..=self.pool.max {
                out.push(Setting { tasks, pool });
            }
        }
        out
    }

    /// The setting of the two knobs within `values` (each knob's default where it is missing).
    pub fn setting_in(&self, values: &KnobValues) -> Setting {
        Setting {
            tasks: values
                .get(&self.tasks.name)
                .copied()
                .unwrap_or(self.tasks.default),
            pool: values
                .get(&self.pool.name)
                .copied()
                .unwrap_or(self.pool.default),
        }
    }

    /// The start world at `setting`, with `fix` applied and the learner's other `knobs` kept;
    /// `None` if the scenario does not build.
    pub fn world_at(
        &self,
        fix: Option<&str>,
        knobs: &KnobValues,
        setting: Setting,
    ) -> Option<World> {
        self.world_with(fix, &self.knobs_at(knobs, setting))
    }

    /// `knobs` with the task and pool knobs set to `setting`: what [`PoolSizing::world_at`]
    /// builds its world from.
    pub fn knobs_at(&self, knobs: &KnobValues, setting: Setting) -> KnobValues {
        let mut knobs = knobs.clone();
        knobs.insert(self.tasks.name.clone(), setting.tasks);
        knobs.insert(self.pool.name.clone(), setting.pool);
        knobs
    }

    fn world_with(&self, fix: Option<&str>, knobs: &KnobValues) -> Option<World> {
        let scenario = self.lesson.scenario_at(fix, knobs).ok()?;
        World::new(&scenario).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::{Explorer, Limits};

    /// A request that queries inside its rows loop: it holds the loop's connection while it
    /// asks for a second one.
    const NESTED: &str = include_str!("nested_pool_lesson.toml");

    fn nested() -> Lesson {
        crate::lesson::parse("nested.toml", NESTED).expect("the test lesson parses")
    }

    #[test]
    fn a_request_that_queries_inside_its_rows_loop_holds_two_connections() {
        let lesson = nested();
        let sizing = PoolSizing::of(&lesson).expect("the lesson has both knobs");
        assert_eq!(sizing.connections_per_task(None), 2);
    }

    #[test]
    fn the_explorer_agrees_with_the_bound_around_it() {
        let lesson = nested();
        let sizing = PoolSizing::of(&lesson).expect("the lesson has both knobs");
        // Two requests needing two connections each: the bound is 2 x (2 - 1) + 1 = 3.
        assert_eq!(PoolSizing::bound(2, 2), 3);
        let knobs = KnobValues::new();
        let below = sizing
            .world_at(None, &knobs, Setting { tasks: 2, pool: 2 })
            .unwrap();
        let at = sizing
            .world_at(None, &knobs, Setting { tasks: 2, pool: 3 })
            .unwrap();
        assert!(!Explorer::new(below, Limits::default())
            .run()
            .failures
            .is_empty());
        assert!(Explorer::new(at, Limits::default()).run().proven());
    }

    #[test]
    fn a_sweep_visits_every_setting_once_smallest_first() {
        let lesson = nested();
        let sizing = PoolSizing::of(&lesson).expect("the lesson has both knobs");
        let settings = sizing.settings();
        assert_eq!(settings.len(), 16);
        assert_eq!(settings[0], Setting { tasks: 1, pool: 1 });
        assert_eq!(settings[1], Setting { tasks: 1, pool: 2 });
        assert_eq!(settings[15], Setting { tasks: 4, pool: 4 });
        let mut unique = settings.clone();
        crate::order::sort(&mut unique);
        unique.dedup();
        assert_eq!(unique.len(), 16);
    }
}
