//! "Check every schedule", away from the page: the lesson page posts a [`Request`] naming a
//! lesson, a fix and knob values (never a serialized world), and this crate's worker
//! (`main.rs`, built by Trunk as a Web Worker) builds the same start world the page shows,
//! explores it, and posts [`Reply::Progress`] a few times a second and [`Reply::Done`] at the
//! end. The page cancels a check by terminating the worker, so the search itself never has to
//! look up from its work. Messages travel as JSON text.
//!
//! The worker also writes the SVG files a lesson page exports ([`drawn`]): the page sends the
//! same request with the run's schedule and which drawing, the worker replays the run and
//! answers [`Reply::Drawn`] with the file's text. So the page carries no SVG writer and pays
//! for it only when a reader exports.
//!
//! [`check`] and [`drawn`] are plain Rust, tested natively; only `main.rs` touches the browser.

pub mod drawings;
pub mod svg;

use lockstep::analysis::challenges::check_all_within;
use lockstep::explore::world::{check_lesson_within, schedule_text};
use lockstep::explore::{Budget, Explorer, Limits, Progress, Stop, SLICE_STEPS_DEFAULT};
use lockstep::lesson::{validate, KnobValues, Lesson};
use lockstep::limits::{CHECK_DEPTH_MAX, CHECK_SECONDS_PER_SEARCH};
use lockstep::world::{Scenario, Schedule, World};
use serde::{Deserialize, Serialize};

/// Milliseconds between two progress messages: often enough for a counter that moves, rarely
/// enough that the page's work on them stays negligible.
pub const PROGRESS_EVERY_MS: f64 = 100.0;

/// What the page asks for: check every schedule of one lesson's scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Which request this is; every reply to it carries it, so the page can ignore replies to
    /// a request it has moved on from.
    pub id: u64,
    /// The built-in lesson's slug (when `authored` is `None`).
    pub lesson: String,
    /// A lesson written in the studio, as the JSON of its file (the page has parsed and
    /// validated the TOML; the worker reads it again, so it needs no TOML parser). When given,
    /// `lesson` is only its slug, for messages.
    #[serde(default)]
    pub authored: Option<String>,
    /// Check the whole lesson as `lockstep check` does (the bug found, every fix as promised,
    /// every challenge solvable), instead of the one scenario `fix` and `knobs` name.
    #[serde(default)]
    pub whole_lesson: bool,
    /// The fix applied, if any.
    pub fix: Option<String>,
    /// Knob values set by the learner (the rest are the lesson's or the fix's).
    pub knobs: KnobValues,
    /// End at the first failure found: the question is only whether one exists.
    pub first_failure: bool,
    /// The most distinct states the search may record.
    pub states_max: usize,
    /// Draw the run instead of checking: answered by [`Reply::Drawn`].
    #[serde(default)]
    pub draw: Option<Draw>,
}

/// A run to draw as an SVG file: the moves taken from the request's start world, and which
/// drawing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    /// The moves, as a schedule's text (`T1 T2 tick T1`).
    pub schedule: String,
    /// Which drawing.
    pub drawing: Drawing,
}

/// The drawings a lesson page exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Drawing {
    /// The run as a sequence diagram, one lane per task.
    Timeline,
    /// The wait-for graph where the run has come to.
    WaitForGraph,
}

/// What the worker says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// It has loaded and listens (messages sent before this would be lost).
    Ready,
    /// How far a check has come.
    Progress {
        /// For a whole-lesson check: the search under way ("lock-order fix order-by").
        #[serde(default)]
        what: Option<String>,
        /// The request's id.
        id: u64,
        /// Distinct states so far.
        states: usize,
        /// Steps taken so far.
        transitions: u64,
        /// Failure kinds found so far.
        failures: usize,
    },
    /// The check ended.
    Done {
        /// The request's id.
        id: u64,
        /// What it found.
        result: CheckResult,
    },
    /// A whole-lesson check ended.
    LessonChecked {
        /// The request's id.
        id: u64,
        /// The lesson is as it promises: every line is ok.
        ok: bool,
        /// One line a search, in `lockstep check`'s order and words.
        lines: Vec<CheckLine>,
    },
    /// A drawing, written.
    Drawn {
        /// The request's id.
        id: u64,
        /// The SVG document.
        svg: String,
    },
    /// The request could not be checked (no such lesson, a fix or knob it does not have).
    Refused {
        /// The request's id (0 when the message could not be read at all).
        id: u64,
        /// Why, in words.
        message: String,
    },
}

/// One line of a whole-lesson check: a scenario or a challenge, and whether it is as promised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckLine {
    /// As promised.
    pub ok: bool,
    /// What was found ("fix order-by: proven: no schedule fails (3,455 states, complete)").
    pub text: String,
}

/// One failure kind the check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundFailure {
    /// What goes wrong, in words.
    pub kind: String,
    /// The shortest schedule that reaches it, as task names.
    pub schedule: String,
    /// Its length in steps.
    pub steps: usize,
}

/// How a finished check came out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Distinct states explored.
    pub states: usize,
    /// Whether every schedule was explored.
    pub complete: bool,
    /// Why the search stopped early, when it did.
    pub stop: Option<Stop>,
    /// Each failure kind, shortest schedule first.
    pub failures: Vec<FoundFailure>,
    /// Whether some schedule never ends (a task can loop forever): no proof then.
    pub never_ends: bool,
    /// End states that fail.
    pub ends_failing: usize,
    /// All end states.
    pub ends: usize,
    /// Time the search took, for the user's curiosity only.
    pub millis: f64,
}

impl CheckResult {
    /// `fails`, `proven`, `never-ends` or `incomplete`: the word tests and styles key on.
    pub fn verdict(&self) -> &'static str {
        if !self.failures.is_empty() {
            "fails"
        } else if self.complete && self.never_ends {
            "never-ends"
        } else if self.complete {
            "proven"
        } else {
            "incomplete"
        }
    }
}

/// The start world a request names: the lesson's scenario with the fix and knobs, exactly as
/// the page builds it.
pub fn start_world(request: &Request) -> Result<World, String> {
    let authored = authored_lesson(request)?;
    let scenario = scenario_of(lesson_of(request, &authored)?, request)?;
    World::new(&scenario).map_err(|e| e.to_string())
}

/// The request's lesson: the authored one it carries (read by [`authored_lesson`]), or the
/// course's it names.
fn lesson_of<'a>(request: &Request, authored: &'a Option<Lesson>) -> Result<&'a Lesson, String> {
    match authored {
        Some(lesson) => Ok(lesson),
        None => lockstep_lessons::lesson(&request.lesson)
            .ok_or_else(|| format!("there is no lesson called `{}`", request.lesson)),
    }
}

/// The scenario of `lesson` with the request's fix and knobs.
fn scenario_of(lesson: &Lesson, request: &Request) -> Result<Scenario, String> {
    if let Some(fix) = request.fix.as_deref() {
        lesson.fix_named(fix)?;
    }
    lesson.scenario_at(request.fix.as_deref(), &request.knobs)
}

/// The longest authored lesson a request may carry, as JSON: twice the longest lesson file
/// (JSON repeats every key a TOML table header states once).
pub const AUTHORED_BYTES_MAX: usize = 2 * lockstep::limits::LESSON_BYTES_MAX;

/// The request's authored lesson, read and validated as the page did; `None` for a built-in one.
pub fn authored_lesson(request: &Request) -> Result<Option<Lesson>, String> {
    let Some(json) = &request.authored else {
        return Ok(None);
    };
    if json.len() > AUTHORED_BYTES_MAX {
        return Err(format!(
            "the lesson is {} bytes as JSON, more than {AUTHORED_BYTES_MAX}",
            json.len()
        ));
    }
    let lesson: Lesson =
        serde_json::from_str(json).map_err(|e| format!("the lesson could not be read: {e}"))?;
    validate(&lesson)?;
    Ok(Some(lesson))
}

/// Checks the request's whole lesson as `lockstep check` does, each search within
/// [`CHECK_SECONDS_PER_SEARCH`] by `now`, telling `progress` how far the search under way has
/// come every [`PROGRESS_EVERY_MS`].
pub fn check_whole_lesson(
    request: &Request,
    now: impl FnMut() -> f64,
    progress: impl FnMut(Reply),
) -> Result<Reply, String> {
    let authored = authored_lesson(request)?;
    let lesson = lesson_of(request, &authored)?;
    let limits = Limits {
        states_max: request.states_max,
        depth_max: CHECK_DEPTH_MAX,
        slice_steps: SLICE_STEPS_DEFAULT,
    };
    let mut clock = Clock {
        id: request.id,
        now,
        progress,
        what: String::new(),
        started: 0.0,
        reported: 0.0,
    };
    let checks = check_lesson_within(lesson, limits, &mut clock)?;
    let challenges = check_all_within(lesson, limits, &mut clock);
    let lines: Vec<CheckLine> = checks
        .iter()
        .map(|c| CheckLine {
            ok: c.ok,
            text: c.says(),
        })
        .chain(challenges.iter().map(|c| CheckLine {
            ok: c.ok,
            text: c.line(),
        }))
        .collect();
    Ok(Reply::LessonChecked {
        id: request.id,
        ok: lines.iter().all(|l| l.ok),
        lines,
    })
}

/// A whole-lesson check's budget: [`CHECK_SECONDS_PER_SEARCH`] of the worker's clock for each
/// search, as `lockstep check` allows, and a progress message every [`PROGRESS_EVERY_MS`].
struct Clock<N, P> {
    id: u64,
    now: N,
    progress: P,
    what: String,
    started: f64,
    reported: f64,
}

impl<N: FnMut() -> f64, P: FnMut(Reply)> Budget for Clock<N, P> {
    fn begin(&mut self, what: &str) {
        self.what = what.to_string();
        self.started = (self.now)();
        self.reported = self.started;
    }

    fn spent(&mut self, progress: &Progress) -> Option<String> {
        let t = (self.now)();
        if t - self.started >= CHECK_SECONDS_PER_SEARCH as f64 * 1000.0 {
            return Some(format!("the time budget of {CHECK_SECONDS_PER_SEARCH} s"));
        }
        if t - self.reported >= PROGRESS_EVERY_MS {
            self.reported = t;
            (self.progress)(Reply::Progress {
                what: Some(self.what.clone()),
                id: self.id,
                states: progress.states_unique,
                transitions: progress.transitions,
                failures: progress.failures,
            });
        }
        None
    }
}

/// Checks every schedule of the request's world. `now` is a clock in milliseconds (the
/// browser's in the worker); `progress` hears how far the search is every
/// [`PROGRESS_EVERY_MS`].
pub fn check(
    request: &Request,
    mut now: impl FnMut() -> f64,
    mut progress: impl FnMut(Reply),
) -> Result<CheckResult, String> {
    let root = start_world(request)?;
    // The same bounds as `lockstep check`, so the page and the command line agree.
    let limits = Limits {
        states_max: request.states_max,
        depth_max: CHECK_DEPTH_MAX,
        slice_steps: SLICE_STEPS_DEFAULT,
    };
    let started = now();
    let mut explorer = Explorer::new(root.clone(), limits);
    let mut last = started;
    loop {
        let mut slice = explorer.run_slice(SLICE_STEPS_DEFAULT);
        if request.first_failure && slice.failures > 0 {
            slice.finished = true;
        }
        if slice.finished {
            break;
        }
        let t = now();
        if t - last >= PROGRESS_EVERY_MS {
            last = t;
            progress(Reply::Progress {
                what: None,
                id: request.id,
                states: slice.states_unique,
                transitions: slice.transitions,
                failures: slice.failures,
            });
        }
    }
    let report = explorer.report();
    let mut failures: Vec<FoundFailure> = report
        .failures
        .iter()
        .map(|found| FoundFailure {
            kind: found.failure.to_string(),
            schedule: schedule_text(&root, &found.schedule),
            steps: found.schedule.len(),
        })
        .collect();
    failures.sort_by_key(|f| f.steps);
    Ok(CheckResult {
        states: report.states_unique,
        complete: report.complete,
        stop: report.stop,
        never_ends: report.never_ends(),
        failures,
        ends_failing: report.terminal_states.failing,
        ends: report.terminal_states.failing + report.terminal_states.succeeding,
        millis: now() - started,
    })
}

/// The run `draw` names, replayed from the request's start world and drawn as an SVG
/// document, titled as the page titles it.
pub fn drawn(request: &Request, draw: &Draw) -> Result<String, String> {
    let authored = authored_lesson(request)?;
    let lesson = lesson_of(request, &authored)?;
    let schedule: Schedule = draw
        .schedule
        .parse()
        .map_err(|e| format!("the run could not be read: {e}"))?;
    let (world, events) = World::replay(&scenario_of(lesson, request)?, &schedule)
        .map_err(|e| format!("the run could not be replayed: {e}"))?;
    Ok(match draw.drawing {
        Drawing::Timeline => {
            let fix = request
                .fix
                .as_deref()
                .map(|f| format!(" (fix: {f})"))
                .unwrap_or_default();
            let title = format!("{}{fix} — schedule {schedule}", lesson.title);
            svg::timeline_svg(&drawings::timeline(&world, &events, title))
        }
        Drawing::WaitForGraph => svg::graph_svg(
            &drawings::graph(&world),
            &format!(
                "{} — wait-for graph at step {}",
                lesson.title,
                schedule.0.len()
            ),
        ),
    })
}

/// Answers one message from the page: the JSON text of a [`Request`], answered by the replies
/// `post` is given, the last of them [`Reply::Done`], [`Reply::LessonChecked`],
/// [`Reply::Drawn`] or [`Reply::Refused`].
pub fn answer(text: &str, now: impl FnMut() -> f64, mut post: impl FnMut(Reply)) {
    let request: Request = match serde_json::from_str(text) {
        Ok(request) => request,
        Err(e) => {
            return post(Reply::Refused {
                id: 0,
                message: format!("the request could not be read: {e}"),
            })
        }
    };
    let id = request.id;
    let reply = if let Some(draw) = &request.draw {
        drawn(&request, draw).map(|svg| Reply::Drawn { id, svg })
    } else if request.whole_lesson {
        check_whole_lesson(&request, now, &mut post)
    } else {
        check(&request, now, &mut post).map(|result| Reply::Done { id, result })
    };
    let reply = reply.unwrap_or_else(|message| Reply::Refused { id, message });
    post(reply);
}

#[cfg(test)]
mod tests;
