//! Whether a lesson's challenges can be met, and how: the shortest schedule of clicks that makes
//! a run fail (a breadth-first search over beats, the steps a click on a lane takes), and the
//! explorer's proof for the kinds met by choosing code or a setting.
//!
//! A click is a beat ([`crate::world::beat`]): the same unit the page's lanes take, so a
//! solution printed here is clicked through on the page exactly as written.

use crate::explore::world::{explore_within, Failure};
use crate::explore::{Budget, Limits, Progress, Unlimited};
use crate::lesson::{Challenge, ChallengeKind, KnobValues, Lesson};
use crate::limits::CHALLENGE_STATES_MAX;
use crate::world::{Choice, Event, Move, Schedule, Verdict, World};
use serde::Serialize;
use std::collections::HashSet;
use std::fmt;

/// A run taken click by click, keeping what its verdict needs.
#[derive(Clone, Debug)]
pub struct Run<'a> {
    lesson: &'a Lesson,
    /// Whether the lesson's own moments count (they are written against the bug's listings).
    lesson_moments: bool,
    /// Whether every move is a click of its own.
    protocol: bool,
    world: World,
    /// The events so far that the verdict reads.
    history: Vec<Event>,
    verdict: Verdict,
}

impl<'a> Run<'a> {
    /// A fresh run of `lesson` with `fix` applied and knobs set, in the fix's default view.
    pub fn new(
        lesson: &'a Lesson,
        fix: Option<&str>,
        knobs: &KnobValues,
    ) -> Result<Run<'a>, String> {
        let scenario = lesson.scenario_at(fix, knobs)?;
        let world = World::new(&scenario).map_err(|e| e.to_string())?;
        Ok(Run {
            lesson,
            lesson_moments: fix.is_none(),
            protocol: lesson.protocol_for(fix),
            world,
            history: Vec::new(),
            verdict: Verdict::Running,
        })
    }

    /// The verdict so far.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// The world now.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The clicks that can be taken now: each task that can run, or the clock when nothing else
    /// can move.
    pub fn clicks(&self) -> Vec<Move> {
        self.world
            .choices()
            .into_iter()
            .map(|c| self.world.move_of(c))
            .collect()
    }

    /// One click: the task's beat, or the clock's jump. An error names a click that cannot be
    /// taken now.
    pub fn click(&mut self, mv: &Move) -> Result<(), String> {
        let choice = match mv {
            Move::Tick => Choice::Tick,
            Move::Task(name) => Choice::Task(
                self.world
                    .task_named(name)
                    .ok_or_else(|| format!("there is no task {name}"))?,
            ),
        };
        if !self.world.choices().contains(&choice) {
            return Err(format!("{mv} cannot run then"));
        }
        let lesson = self.lesson_moments.then_some(self.lesson);
        let history: Vec<&Event> = self.history.iter().collect();
        let taken = self
            .world
            .take_beat(
                choice,
                &history,
                &self.verdict,
                self.protocol,
                |before, after| lesson.map_or_else(Vec::new, |l| l.moments_between(before, after)),
            )
            .map_err(|e| format!("{mv} cannot run: {e}"))?;
        for t in taken {
            self.history
                .extend(t.events.into_iter().filter(Event::shapes_the_verdict));
            self.verdict = t.verdict;
        }
        Ok(())
    }
}

/// What the search for a failing schedule of clicks found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Search {
    /// A shortest schedule of clicks that ends in a failure, and the verdict it reaches.
    Found { clicks: Schedule, verdict: Verdict },
    /// No schedule of clicks fails among the states searched.
    NotFound {
        /// Distinct states searched.
        states: usize,
        /// Whether every state was searched (otherwise the budget ran out).
        complete: bool,
        /// When not complete, the budget that ran out, in words.
        reached: Option<String>,
    },
}

/// Clicks the search takes between two questions to its [`Budget`].
const CLICKS_PER_SLICE: usize = 64;

/// The shortest schedule of clicks (breadth-first) from the start of `lesson` with `fix` and
/// `knobs` to a run whose verdict is a bug, searching at most `states_max` distinct states.
pub fn shortest_failing(
    lesson: &Lesson,
    fix: Option<&str>,
    knobs: &KnobValues,
    states_max: usize,
) -> Result<Search, String> {
    shortest_failing_within(lesson, fix, knobs, states_max, &mut Unlimited)
}

/// [`shortest_failing`], asking `budget` every [`CLICKS_PER_SLICE`] clicks whether to go on.
pub fn shortest_failing_within(
    lesson: &Lesson,
    fix: Option<&str>,
    knobs: &KnobValues,
    states_max: usize,
    budget: &mut dyn Budget,
) -> Result<Search, String> {
    let start = Run::new(lesson, fix, knobs)?;
    // Each node: its parent's index and the click that led to it.
    let mut nodes: Vec<(usize, Move)> = Vec::new();
    let path = |nodes: &[(usize, Move)], mut at: usize| {
        let mut clicks = Vec::new();
        while at != usize::MAX {
            let (parent, mv) = &nodes[at];
            clicks.push(mv.clone());
            at = *parent;
        }
        clicks.reverse();
        Schedule(clicks)
    };
    let mut seen: HashSet<u64> = HashSet::from([start.world.canonical_fingerprint()]);
    let mut frontier: Vec<(usize, Run)> = vec![(usize::MAX, start)];
    let mut level = 0;
    while !frontier.is_empty() {
        level += 1;
        let mut next = Vec::new();
        for (at, run) in frontier {
            for mv in run.clicks() {
                if nodes.len().is_multiple_of(CLICKS_PER_SLICE) {
                    let progress = Progress {
                        finished: false,
                        states_unique: seen.len(),
                        transitions: nodes.len() as u64,
                        failures: 0,
                        depth: level,
                    };
                    if let Some(spent) = budget.spent(&progress) {
                        return Ok(Search::NotFound {
                            states: seen.len(),
                            complete: false,
                            reached: Some(spent),
                        });
                    }
                }
                let mut child = run.clone();
                child.click(&mv)?;
                nodes.push((at, mv));
                let index = nodes.len() - 1;
                if child.verdict.is_bug() {
                    return Ok(Search::Found {
                        clicks: path(&nodes, index),
                        verdict: child.verdict,
                    });
                }
                if !seen.insert(child.world.canonical_fingerprint()) {
                    continue;
                }
                if seen.len() > states_max {
                    return Ok(Search::NotFound {
                        states: seen.len(),
                        complete: false,
                        reached: Some(format!("CHALLENGE_STATES_MAX ({states_max} states)")),
                    });
                }
                next.push((index, child));
            }
        }
        frontier = next;
    }
    Ok(Search::NotFound {
        states: seen.len(),
        complete: true,
        reached: None,
    })
}

/// The verdict on one challenge of a lesson.
#[derive(Clone, Debug, Serialize)]
pub struct ChallengeCheck {
    /// The challenge's id.
    pub id: String,
    /// Its kind's name.
    pub kind: &'static str,
    /// The lesson's solution, as written (clicks, a fix's slug or a knob's value).
    pub solution: String,
    /// The knob a `size-it` challenge turns.
    pub knob: Option<String>,
    /// Whether it is solvable and its solution is right.
    pub ok: bool,
    /// For the kinds played by clicks: the shortest solution, and its length.
    pub shortest: Option<String>,
    /// Clicks in the shortest solution.
    pub clicks: Option<usize>,
    /// What was found, in a sentence.
    pub says: String,
}

impl fmt::Display for ChallengeCheck {
    /// `ok  ` or `FAIL`, then [`ChallengeCheck::line`]: what `lockstep check` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.ok { "ok  " } else { "FAIL" };
        write!(f, "{mark} {}", self.line())
    }
}

impl ChallengeCheck {
    /// The challenge and what was found: "challenge survive (survive): ...".
    pub fn line(&self) -> String {
        format!("challenge {} ({}): {}", self.id, self.kind, self.says)
    }
}

/// Checks one challenge: a scheduling one is solved by its solution, and no shorter schedule
/// of clicks fails; a `survive` solution is proven; a `size-it` solution is the smallest value
/// proven.
pub fn check(lesson: &Lesson, challenge: &Challenge, limits: Limits) -> ChallengeCheck {
    check_within(lesson, challenge, limits, &mut Unlimited)
}

/// [`check`], every search also within `budget`: a search it stops fails the check with the
/// budget named.
pub fn check_within(
    lesson: &Lesson,
    challenge: &Challenge,
    limits: Limits,
    budget: &mut dyn Budget,
) -> ChallengeCheck {
    let mut out = ChallengeCheck {
        id: challenge.id.clone(),
        kind: challenge.kind.name(),
        solution: challenge.solution.trim().to_string(),
        knob: challenge.knob.clone(),
        ok: false,
        shortest: None,
        clicks: None,
        says: String::new(),
    };
    let fix = challenge.fix.as_deref();
    budget.begin(&format!("{} challenge {}", lesson.slug, challenge.id));
    match checked(lesson, challenge, fix, (limits, budget), &mut out) {
        Ok(says) => {
            out.ok = true;
            out.says = says;
        }
        Err(says) => out.says = says,
    }
    out
}

/// A search's limits, and the caller's budget on top of them.
type Bounds<'b> = (Limits, &'b mut dyn Budget);

fn checked(
    lesson: &Lesson,
    challenge: &Challenge,
    fix: Option<&str>,
    (limits, budget): Bounds,
    out: &mut ChallengeCheck,
) -> Result<String, String> {
    match challenge.kind {
        ChallengeKind::MakeItFail | ChallengeKind::BreakTheFix => {
            let search = shortest_failing_within(
                lesson,
                fix,
                &challenge.knobs,
                CHALLENGE_STATES_MAX,
                budget,
            )?;
            let (shortest, verdict) = match search {
                Search::Found { clicks, verdict } => (clicks, verdict),
                Search::NotFound {
                    states,
                    reached: Some(reached),
                    ..
                } => {
                    return Err(format!(
                        "not finished: {states} states explored, {reached} reached; the scenario may not terminate"
                    ))
                }
                Search::NotFound { states, .. } => {
                    return Err(format!(
                        "unsolvable: no schedule of clicks fails ({states} states, complete)"
                    ))
                }
            };
            out.shortest = Some(shortest.to_string());
            out.clicks = Some(shortest.0.len());
            let mut run = Run::new(lesson, fix, &challenge.knobs)?;
            let solution: Schedule = challenge
                .solution
                .parse()
                .map_err(|e| format!("solution: {e}"))?;
            for (i, mv) in solution.0.iter().enumerate() {
                run.click(mv).map_err(|e| {
                    format!(
                        "solution `{solution}`: click {}: {e}; the shortest that fails is `{shortest}`",
                        i + 1
                    )
                })?;
            }
            if !run.verdict().is_bug() {
                return Err(format!(
                    "the solution `{solution}` does not fail: the run is {}; the shortest that does is `{shortest}`",
                    run.verdict().word()
                ));
            }
            if solution.0.len() > shortest.0.len() {
                return Err(format!(
                    "the solution takes {} clicks, but `{shortest}` ({} clicks) fails too: make it the solution",
                    solution.0.len(),
                    shortest.0.len()
                ));
            }
            Ok(format!(
                "solved in {} clicks, `{solution}` ({})",
                solution.0.len(),
                verdict.word()
            ))
        }
        ChallengeKind::Survive => {
            let slug = challenge.solution.trim();
            let states = proven(lesson, Some(slug), &challenge.knobs, (limits, budget))?
                .map_err(|failure| format!("fix {slug} is not proven: {failure}"))?;
            Ok(format!("fix {slug} is proven ({states} states)"))
        }
        ChallengeKind::SizeIt => {
            let knob = challenge.knob.as_deref().unwrap_or_default();
            let value = challenge.size().ok_or("the solution is not a number")?;
            let at = |v: u32| {
                let mut knobs = challenge.knobs.clone();
                knobs.insert(knob.to_string(), v);
                knobs
            };
            let load = settings(&challenge.knobs);
            let states = proven(lesson, fix, &at(value), (limits, &mut *budget))?
                .map_err(|failure| format!("{knob} = {value} is not safe{load}: {failure}"))?;
            let min = lesson.knob(knob).map_or(1, |k| k.min);
            if value > min {
                match proven(lesson, fix, &at(value - 1), (limits, budget))? {
                    Ok(states_below) => {
                        let below = value - 1;
                        return Err(format!(
                            "{knob} = {below} is safe too{load} ({states_below} states): it is the answer"
                        ));
                    }
                    // Not finding a failure below is no proof that the answer is the smallest.
                    Err(Unproven::NotFinished(says)) => {
                        return Err(format!("{knob} = {} is undecided{load}: {says}", value - 1))
                    }
                    Err(Unproven::Fails(_)) => {}
                }
            }
            Ok(format!(
                "{knob} = {value} is the smallest proven{load} ({states} states)"
            ))
        }
    }
}

/// " at requests = 5", or nothing.
fn settings(knobs: &KnobValues) -> String {
    if knobs.is_empty() {
        return String::new();
    }
    let each: Vec<String> = knobs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    format!(" at {}", each.join(", "))
}

/// Why a setting is not proven.
enum Unproven {
    /// Some schedule fails, or never ends.
    Fails(String),
    /// The search met a budget first.
    NotFinished(String),
}

impl fmt::Display for Unproven {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unproven::Fails(says) | Unproven::NotFinished(says) => f.write_str(says),
        }
    }
}

/// Explores a setting: `Ok(Ok(states))` when proven, `Ok(Err(why))` when some schedule fails
/// or the search did not finish.
fn proven(
    lesson: &Lesson,
    fix: Option<&str>,
    knobs: &KnobValues,
    (limits, budget): Bounds,
) -> Result<Result<usize, Unproven>, String> {
    let scenario = lesson.scenario_at(fix, knobs)?;
    let world = World::new(&scenario).map_err(|e| e.to_string())?;
    let (report, reached) = explore_within(world, limits, budget);
    if let Some(found) = report.failures.first() {
        let failure: &Failure = &found.failure;
        return Ok(Err(Unproven::Fails(failure.to_string())));
    }
    if !report.complete {
        return Ok(Err(Unproven::NotFinished(format!(
            "not finished: {} states explored, {} reached; the scenario may not terminate",
            report.states_unique,
            reached.as_deref().unwrap_or("a budget")
        ))));
    }
    if report.never_ends() {
        return Ok(Err(Unproven::Fails(
            "some schedule never ends: a task can run forever".to_string(),
        )));
    }
    Ok(Ok(report.states_unique))
}

/// Checks every challenge of a lesson.
pub fn check_all(lesson: &Lesson, limits: Limits) -> Vec<ChallengeCheck> {
    check_all_within(lesson, limits, &mut Unlimited)
}

/// [`check_all`], every search also within `budget`.
pub fn check_all_within(
    lesson: &Lesson,
    limits: Limits,
    budget: &mut dyn Budget,
) -> Vec<ChallengeCheck> {
    lesson
        .challenges
        .iter()
        .map(|c| check_within(lesson, c, limits, budget))
        .collect()
}
