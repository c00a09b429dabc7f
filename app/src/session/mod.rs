//! The one place engine state lives in the UI: a lesson, its fix, the start world and one
//! snapshot per step taken, so that Back is an exact undo.

use litemap::LiteMap;
use lockstep::lesson::KnobValues;
use lockstep::server::Pid;
use lockstep::world::scheduler::{LessonPlan, Scheduler};
use lockstep::world::{
    Choice, Event, Guess, KeyMoment, Move, Schedule, Significance, Taken, TaskId, Verdict, World,
};
use lockstep_lessons::Lesson;
use std::sync::atomic::{AtomicU64, Ordering};

/// One engine move taken: the move, what happened, and what it means for the run.
#[derive(Clone, Debug)]
pub struct Step {
    /// The move, as a schedule writes it.
    pub mv: Move,
    /// The events it produced.
    pub events: Vec<Event>,
    /// Unique: a redone step keeps its id, a step of a forked run or another session gets a
    /// new one, so that views can key on it and render only the steps that changed.
    pub id: u64,
    /// The key moments it brought, found by the engine (and named by the lesson).
    pub moments: Vec<KeyMoment>,
    /// The run's verdict after it.
    pub verdict: Verdict,
    /// Whether it did something a learner would name (not only protocol messages and other
    /// detail), brought a key moment or settled the verdict: such a move ends a beat.
    pub significant: bool,
}

/// A lesson being played. The run is kept move by move (one engine step each, exactly what a
/// schedule records); Step, Back and the scrubber move by beats: a task's moves up to and
/// including the first that does something a learner would name. With `protocol` on, every
/// move is a beat of its own.
#[derive(Clone, Debug)]
pub struct Session {
    /// The lesson.
    pub lesson: &'static Lesson,
    /// The applied fix, if any.
    pub fix: Option<String>,
    /// The knobs the learner turned away from the fix's setting or the default.
    pub knobs: KnobValues,
    /// `worlds[i]` is the world after `i` moves; never empty.
    worlds: Vec<World>,
    /// The moves taken, one per world after the first.
    pub steps: Vec<Step>,
    /// Moves undone by Back or the scrubber, with the world after each, the next one last:
    /// Step redoes them in order, and any other move drops them (the run forks).
    future: Vec<(World, Step)>,
    /// The lesson's default schedule, followed by Step while the learner has not diverged.
    bug_schedule: Schedule,
    /// Whether some move so far is one pressing Step in protocol view would not have taken,
    /// so that the address must carry the moves rather than a count.
    pub chosen: bool,
    /// Protocol view: every engine move (often one wire message) is a step of its own.
    pub protocol: bool,
}

/// The id the next new step gets, in any session: a new session (another fix, new knobs) must
/// not reuse the ids of the one it replaces.
static NEXT_STEP_ID: AtomicU64 = AtomicU64::new(0);

/// How a run stands: a thin view of the engine's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Nothing taken yet.
    pub ready: bool,
    /// The engine's verdict, declared at the move where it became certain.
    pub verdict: Verdict,
    /// No move is left.
    pub ended: bool,
}

impl Outcome {
    /// Whether no move is left.
    pub fn is_final(&self) -> bool {
        self.ended
    }

    /// Whether the verdict is known (the run may still go on).
    pub fn is_declared(&self) -> bool {
        self.verdict.is_declared()
    }

    /// Whether the run shows a bug.
    pub fn is_bug(&self) -> bool {
        self.verdict.is_bug()
    }

    /// The word the page shows and tests read: ready, running, completed, deadlock, stalled,
    /// failed or anomaly.
    pub fn word(&self) -> &'static str {
        if self.ready {
            "ready"
        } else {
            self.verdict.word()
        }
    }
}

/// The move Step takes in protocol view (and the one `step=N` in an address counts): the
/// engine's [`LessonPlan`], the lesson's schedule while the moves taken follow it and its next
/// move is enabled, otherwise the next enabled task after the last one run (round-robin).
fn protocol_choice(world: &World, taken: &[Step], schedule: &Schedule) -> Option<Choice> {
    let taken: Vec<Move> = taken.iter().map(|s| s.mv.clone()).collect();
    LessonPlan::new(schedule).next(world, &taken)
}

impl Session {
    /// A fresh session of `lesson` with `fix` applied (an unknown fix is ignored).
    #[cfg(test)]
    pub fn new(lesson: &'static Lesson, fix: Option<&str>) -> Result<Session, String> {
        Session::with_knobs(lesson, fix, &KnobValues::new())
    }

    /// A fresh session with `fix` applied and knobs set; unknown knobs, values out of range and
    /// values equal to what the fix or the default sets anyway are dropped. Protocol view is
    /// on where the lesson says the protocol is its point.
    pub fn with_knobs(
        lesson: &'static Lesson,
        fix: Option<&str>,
        knobs: &KnobValues,
    ) -> Result<Session, String> {
        let fix = fix.filter(|f| lesson.fix(f).is_some()).map(str::to_string);
        let base = lesson.knob_values(fix.as_deref());
        let mut turned = KnobValues::new();
        turned.extend(
            knobs
                .iter()
                .filter(|(name, value)| {
                    lesson
                        .knob(name)
                        .is_some_and(|k| (k.min..=k.max).contains(*value))
                        && base.get(*name) != Some(*value)
                })
                .map(|(name, value)| (name.clone(), *value)),
        );
        let knobs = turned;
        let scenario = lesson.scenario_at(fix.as_deref(), &knobs)?;
        let world = World::new(&scenario).map_err(|e| e.to_string())?;
        let bug_schedule = lesson
            .schedule_for(fix.as_deref())
            .parse()
            .unwrap_or_default();
        let protocol = lesson.protocol_for(fix.as_deref());
        Ok(Session {
            lesson,
            fix,
            knobs,
            worlds: vec![world],
            steps: Vec::new(),
            future: Vec::new(),
            bug_schedule,
            chosen: false,
            protocol,
        })
    }

    /// The world now.
    pub fn world(&self) -> &World {
        self.worlds
            .last()
            .expect("a session always holds its start world")
    }

    /// Every knob's value now: the learner's, else the fix's setting, else the default.
    pub fn knob_values(&self) -> KnobValues {
        let mut values = self.lesson.knob_values(self.fix.as_deref());
        values.extend(self.knobs.iter().map(|(k, v)| (k.clone(), *v)));
        values
    }

    /// The world before the first step: what "check every schedule" explores.
    pub fn start_world(&self) -> &World {
        &self.worlds[0]
    }

    /// The schedule taken so far.
    pub fn schedule(&self) -> Schedule {
        Schedule(self.steps.iter().map(|s| s.mv.clone()).collect())
    }

    /// The move Step takes next: the next undone move while there is one (Step redoes the
    /// run), otherwise [`Session::planned_choice`].
    pub fn next_choice(&self) -> Option<Choice> {
        let world = self.world();
        if let Some((_, redo)) = self.future.last() {
            let choices = world.choices();
            let redo = match &redo.mv {
                Move::Tick => Some(Choice::Tick),
                Move::Task(name) => world.task_named(name).map(Choice::Task),
            };
            if let Some(c) = redo.filter(|c| choices.contains(c)) {
                return Some(c);
            }
        }
        self.planned_choice()
    }

    /// The move Step takes on a fresh run: in protocol view [`protocol_choice`]; otherwise
    /// the same, except that past the lesson's schedule a task whose last move only did detail
    /// goes on until it does something a learner would name.
    fn planned_choice(&self) -> Option<Choice> {
        let world = self.world();
        let taken: Vec<Move> = self.steps.iter().map(|s| s.mv.clone()).collect();
        let following = LessonPlan::new(&self.bug_schedule).following(&taken);
        if !self.protocol && !following {
            if let Some(Step {
                mv: Move::Task(name),
                significant: false,
                ..
            }) = self.steps.last()
            {
                if let Some(t) = world.task_named(name) {
                    if world.choices().contains(&Choice::Task(t)) {
                        return Some(Choice::Task(t));
                    }
                }
            }
        }
        protocol_choice(world, &self.steps, &self.bug_schedule)
    }

    /// Takes one move; false when it is not enabled. Taking the next undone move redoes it
    /// from its snapshot; any other move drops the undone ones.
    fn take(&mut self, choice: Choice) -> bool {
        let mv = self.world().move_of(choice);
        let off_plan =
            protocol_choice(self.world(), &self.steps, &self.bug_schedule) != Some(choice);
        if self.future.last().is_some_and(|(_, redo)| redo.mv == mv) {
            if let Some((world, step)) = self.future.pop() {
                self.chosen |= off_plan;
                self.worlds.push(world);
                self.steps.push(step);
                return true;
            }
        }
        if !self.world().choices().contains(&choice) {
            return false;
        }
        let verdict_before = self
            .steps
            .last()
            .map(|s| s.verdict.clone())
            .unwrap_or(Verdict::Running);
        // The lesson's own moments are written against its listings, which fixes change.
        let lesson = self.fix.is_none().then_some(self.lesson);
        let taken = self
            .world()
            .taken(choice, self.events(), &verdict_before, |before, after| {
                lesson.map_or_else(Vec::new, |l| l.moments_between(before, after))
            });
        let Ok((world, taken)) = taken else {
            return false;
        };
        self.chosen |= off_plan;
        self.future.clear();
        let Taken {
            mv,
            events,
            moments,
            verdict,
            significant,
        } = taken;
        self.worlds.push(world);
        let id = NEXT_STEP_ID.fetch_add(1, Ordering::Relaxed);
        self.steps.push(Step {
            mv,
            events,
            id,
            moments,
            verdict,
            significant,
        });
        true
    }

    /// Goes on with the task of the last move while its moves only did detail and it is the
    /// move Step would take anyway (outside protocol view).
    fn finish_beat(&mut self) {
        while !self.protocol {
            let Some(last) = self.steps.last() else {
                return;
            };
            if last.significant {
                return;
            }
            let mv = last.mv.clone();
            match self.next_choice() {
                Some(c) if self.world().move_of(c) == mv => {
                    if !self.take(c) {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    /// Takes the next beat Step would take; false when nothing can run.
    pub fn step(&mut self) -> bool {
        match self.next_choice() {
            Some(c) if self.take(c) => {
                self.finish_beat();
                true
            }
            _ => false,
        }
    }

    /// Takes exactly one move the way Step does in protocol view: what `step=N` in an address
    /// counts, so that old links open exactly what they opened before.
    pub fn step_move(&mut self) -> bool {
        let redo = self.future.last().map(|(_, s)| s.mv.clone());
        let choice = match redo {
            Some(_) => self.next_choice(),
            None => protocol_choice(self.world(), &self.steps, &self.bug_schedule),
        };
        choice.is_some_and(|c| self.take(c))
    }

    /// Runs `task` next for one beat, if it can run: its moves up to the first that does
    /// something a learner would name ([`World::beat_goes_on`]), the same beat a challenge's
    /// solution counts as one click.
    pub fn run_task(&mut self, task: TaskId) -> bool {
        if !(self.world().choices().contains(&Choice::Task(task)) && self.take(Choice::Task(task)))
        {
            return false;
        }
        for _ in 0..lockstep::limits::BEAT_MOVES_MAX {
            if !self.goes_on(task) || !self.take(Choice::Task(task)) {
                break;
            }
        }
        true
    }

    /// Whether the beat of `task` that the last move belongs to goes on.
    fn goes_on(&self, task: TaskId) -> bool {
        let Some(last) = self.steps.last() else {
            return false;
        };
        self.world()
            .beat_goes_on(task, last.significant, self.protocol)
    }

    /// Whether a beat ends after `step` when `next` is the move after it.
    fn ends_beat(&self, step: &Step, next: Option<&Move>) -> bool {
        self.protocol || step.significant || next != Some(&step.mv)
    }

    /// Undoes the last beat exactly; Step (or the scrubber) can redo it.
    pub fn back(&mut self) -> bool {
        if !self.undo() {
            return false;
        }
        loop {
            let next = self.future.last().map(|(_, s)| s.mv.clone());
            match self.steps.last() {
                Some(last) if !self.ends_beat(last, next.as_ref()) => {
                    if !self.undo() {
                        break;
                    }
                }
                _ => break,
            }
        }
        self.chosen = self.diverges();
        true
    }

    fn undo(&mut self) -> bool {
        match (self.steps.pop(), self.worlds.len() > 1) {
            (Some(step), true) => {
                let world = self.worlds.pop().expect("a world per step");
                self.future.push((world, step));
                true
            }
            (Some(step), false) => {
                self.steps.push(step);
                false
            }
            (None, _) => false,
        }
    }

    /// Where each beat of the whole run (moves taken and undone) ends, in moves; the current
    /// position always counts as the end of one (a link may stop in the middle of a beat).
    pub fn beat_ends(&self) -> Vec<usize> {
        let chain: Vec<&Step> = self
            .steps
            .iter()
            .chain(self.future.iter().rev().map(|(_, s)| s))
            .collect();
        let mut ends: Vec<usize> = Vec::new();
        for (i, step) in chain.iter().enumerate() {
            let next = chain.get(i + 1).map(|s| &s.mv);
            if self.ends_beat(step, next) || i + 1 == self.steps.len() {
                ends.push(i + 1);
            }
        }
        ends
    }

    /// How many beats the run has (taken and undone).
    pub fn beat_len(&self) -> usize {
        self.beat_ends().len()
    }

    /// How many beats have been taken.
    pub fn beat_position(&self) -> usize {
        let at = self.steps.len();
        self.beat_ends().iter().filter(|&&e| e <= at).count()
    }

    /// Moves to the end of beat `beat` of the run (0: the start), exactly, from snapshots.
    pub fn seek_beat(&mut self, beat: usize) {
        let ends = self.beat_ends();
        let target = match beat {
            0 => 0,
            b => ends.get(b.min(ends.len()) - 1).copied().unwrap_or(0),
        };
        self.seek(target);
    }

    /// The moves of the beat that ended last (empty at the start), with the world before it.
    pub fn current_beat(&self) -> (&World, &[Step]) {
        let at = self.steps.len();
        let start = self
            .beat_ends()
            .into_iter()
            .filter(|&e| e < at)
            .max()
            .unwrap_or(0);
        (&self.worlds[start], &self.steps[start..])
    }

    /// Moves to `position` moves into the run (the moves taken plus those undone), exactly,
    /// from snapshots.
    pub fn seek(&mut self, position: usize) {
        while self.steps.len() > position && self.undo() {}
        self.chosen = self.diverges();
        while self.steps.len() < position {
            let Some(choice) = self.next_choice().filter(|_| self.undone() > 0) else {
                break;
            };
            self.take(choice);
        }
    }

    /// How long the run is in moves: those taken plus those undone that Step would redo.
    #[cfg(test)]
    pub fn run_len(&self) -> usize {
        self.steps.len() + self.future.len()
    }

    /// How many undone moves lie ahead.
    pub fn undone(&self) -> usize {
        self.future.len()
    }

    /// Back to the start, keeping the lesson and fix; the old run is forgotten.
    pub fn reset(&mut self) {
        self.worlds.truncate(1);
        self.steps.clear();
        self.future.clear();
        self.chosen = false;
    }

    /// Whether the moves taken differ from what pressing Step in protocol view that often
    /// would give.
    fn diverges(&self) -> bool {
        self.steps.iter().enumerate().any(|(i, step)| {
            let choice = protocol_choice(&self.worlds[i], &self.steps[..i], &self.bug_schedule);
            choice.map(|c| self.worlds[i].move_of(c)) != Some(step.mv.clone())
        })
    }

    /// The clicks taken so far: the first move of each beat, which is the lane clicked (or the
    /// clock), the way a challenge's solution is written.
    pub fn clicks(&self) -> Schedule {
        let ends = self.beat_ends();
        let mut start = 0;
        let mut clicks = Vec::new();
        for end in ends.into_iter().filter(|&e| e <= self.steps.len()) {
            if let Some(step) = self.steps.get(start) {
                clicks.push(step.mv.clone());
            }
            start = end;
        }
        Schedule(clicks)
    }

    /// Replays clicks from the start (a task's beat, or the clock); stops at the first that
    /// cannot be taken, and says how many were.
    pub fn replay_clicks(&mut self, clicks: &Schedule) -> usize {
        self.reset();
        for (taken, mv) in clicks.0.iter().enumerate() {
            let done = match mv {
                Move::Tick => self.take(Choice::Tick),
                Move::Task(name) => self
                    .world()
                    .task_named(name)
                    .is_some_and(|t| self.run_task(t)),
            };
            if !done {
                return taken;
            }
        }
        clicks.0.len()
    }

    /// What the next beat of each task that can run would do to it, tried on a copy.
    pub fn guesses(&self) -> Vec<(TaskId, Guess)> {
        self.world()
            .choices()
            .into_iter()
            .filter_map(|c| match c {
                Choice::Task(t) => Some(t),
                Choice::Tick => None,
            })
            .map(|t| {
                // On a copy of the world alone: the snapshots of the run are not needed.
                let mut world = self.world().clone();
                let history: Vec<&Event> = self.events().collect();
                let lesson = self.fix.is_none().then_some(self.lesson);
                let _ = world.take_beat(
                    Choice::Task(t),
                    &history,
                    &self.outcome().verdict,
                    self.protocol,
                    |before, after| {
                        lesson.map_or_else(Vec::new, |l| l.moments_between(before, after))
                    },
                );
                (t, Guess::of(&world, t))
            })
            .collect()
    }

    /// Replays moves from the start; stops at the first one that names no task or cannot
    /// run, and says how many were taken.
    pub fn replay(&mut self, schedule: &Schedule) -> usize {
        self.reset();
        for (taken, mv) in schedule.0.iter().enumerate() {
            let choice = match mv {
                Move::Tick => Some(Choice::Tick),
                Move::Task(name) => self.world().task_named(name).map(Choice::Task),
            };
            if !choice.is_some_and(|c| self.take(c)) {
                return taken;
            }
        }
        schedule.0.len()
    }

    /// Every event so far, oldest first.
    pub fn events(&self) -> impl DoubleEndedIterator<Item = &Event> {
        self.steps.iter().flat_map(|s| s.events.iter())
    }

    /// Which task each server process belongs to, for naming lock holders and waiters.
    pub fn pid_names(&self) -> LiteMap<Pid, String> {
        lockstep_worker::drawings::pid_names(self.world(), self.events())
    }

    /// The name of a task.
    pub fn task_name(&self, task: TaskId) -> String {
        self.world().task_name(task)
    }

    /// How the run stands: the engine's verdict after the last move.
    pub fn outcome(&self) -> Outcome {
        Outcome {
            ready: self.steps.is_empty(),
            verdict: self
                .steps
                .last()
                .map(|s| s.verdict.clone())
                .unwrap_or(Verdict::Running),
            ended: self.world().choices().is_empty(),
        }
    }

    /// What the last beat did, in one sentence of the lesson's terms (protocol messages only
    /// in protocol view).
    pub fn beat_headline(&self) -> String {
        let (before, steps) = self.current_beat();
        let events: Vec<Event> = steps
            .iter()
            .flat_map(|s| s.events.iter().cloned())
            .collect();
        let said = self.world().describe_events(before, &events, self.protocol);
        if !said.is_empty() {
            return said;
        }
        // A step cut short by the schedule (the next move is another task's) may hold only
        // detail: say whose it was and what kind.
        let Some(Move::Task(name)) = steps.first().map(|s| &s.mv) else {
            return said;
        };
        if events
            .iter()
            .any(|e| e.significance() == Significance::Protocol)
        {
            format!(
                "{name} exchanges wire-protocol messages with the server (Protocol messages shows them)."
            )
        } else {
            format!("{name} runs its own code: nothing another task could see.")
        }
    }

    /// The key moments of the last beat.
    pub fn beat_moments(&self) -> Vec<KeyMoment> {
        let (_, steps) = self.current_beat();
        steps
            .iter()
            .flat_map(|s| s.moments.iter().cloned())
            .collect()
    }

    /// What the lesson calls its tasks: Python and Elixir run workers, Go serves requests.
    pub fn task_noun(&self) -> &'static str {
        match self.lesson.language.as_str() {
            "python" | "elixir" => "worker",
            _ => "task",
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod beat_tests;
