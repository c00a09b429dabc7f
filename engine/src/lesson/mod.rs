//! The lesson file format: a story, the code listings of its tasks, a [`Scenario`] for the
//! engine, the schedule that shows the bug, its fixes and its knobs. A fix is data too: it
//! replaces code listings and patches the scenario (statements, settings, pools, whole task
//! programs or knob values), so applying it needs no code of its own. The files themselves live
//! in the `lessons` crate.
//!
//! # Knobs
//!
//! A [`Knob`] is a number the learner may turn: how many identical requests run at once (a
//! task's `count`), or how big a pool is (pgxpool `MaxConns`, database/sql `MaxOpenConns`).
//! Building a scenario takes the lesson's scenario, applies the fix, then sets every knob: to the
//! value asked for, else the fix's own setting ([`Fix::knobs`]), else the knob's default. So
//! `Lesson::scenario_at(fix, &values)` answers "what does this code do with 6 requests and a
//! pool of 5?", which is all a pool-sizing view needs, and a fix like "a bigger pool" is just a
//! knob setting. A fix can also name settings at which it is known to fail again
//! ([`Fix::fails_at`]); the check explores those too and expects a failure there.

mod challenge;
mod validate;

pub use challenge::{Challenge, ChallengeKind, NotMet, TRIES_BEFORE_HINT};
pub use validate::{check_folder, validate, LANGUAGES};

use crate::world::{Action, Driver, Op, PoolSpec, Scenario, ServerSettings, TaskSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One lesson: a real incident, replayable and fixable.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The URL slug (`?lesson=SLUG`): a public contract, never renamed.
    pub slug: String,
    /// The title shown in the picker and above the story.
    pub title: String,
    /// One sentence for the lesson picker.
    pub summary: String,
    /// The language of the code listings: `go`, `python` or `elixir`.
    pub language: String,
    /// What happened, why it hid in testing, how it was found. A Markdown subset.
    pub story: String,
    /// A schedule (task names, `+` for the clock) that shows the bug when played.
    pub bug_schedule: String,
    /// The panel this lesson is about: the page keeps it on the first screen, beside the tasks.
    #[serde(default)]
    pub key_panel: KeyPanel,
    /// The code each task runs; a program's `line` numbers point into these.
    pub listings: Vec<Listing>,
    /// The world the lesson starts from, with the bug.
    pub scenario: Scenario,
    /// Every fix, in the order the story discusses them.
    #[serde(default)]
    pub fixes: Vec<Fix>,
    /// Numbers the learner may turn (requests, pool size), in the order the UI shows them.
    #[serde(default)]
    pub knobs: Vec<Knob>,
    /// Where the story's facts come from: the incident's write-up, and the documentation or
    /// source code behind every non-obvious claim about PostgreSQL or a driver.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Whether the wire protocol is the point of the lesson: then Step moves one engine step
    /// (often one protocol message) at a time by default, and the status line names messages.
    /// Elsewhere a Step is one thing a learner would name, and protocol messages are detail.
    #[serde(default)]
    pub protocol: bool,
    /// Key moments the lesson names itself, besides those the engine finds.
    #[serde(default)]
    pub moments: Vec<Moment>,
    /// Goals for the learner, in the order the page lists them.
    #[serde(default)]
    pub challenges: Vec<Challenge>,
}

/// The source of a claim a lesson makes: a page (`url`), or a file of a project's source at a
/// version (`code` and `file`). Exactly one of the two.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The claim it supports, in a few words ("lib/pq marks the connection bad").
    pub claim: String,
    /// A documentation page, an incident write-up or a file at a tagged version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The project and version whose source says it: `lib/pq v1.10.9`, `PostgreSQL 16`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The file (and function) in that source: `conn.go (rows.Close)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl Source {
    /// What is wrong with this citation, if anything.
    fn problem(&self) -> Option<String> {
        if self.claim.trim().is_empty() {
            return Some("a source needs a `claim`".into());
        }
        match (&self.url, &self.code, &self.file) {
            (Some(url), None, None) if url.starts_with("https://") => None,
            (Some(url), None, None) => Some(format!("url {url:?} must start with https://")),
            (None, Some(code), Some(file))
                if !code.trim().is_empty() && !file.trim().is_empty() =>
            {
                None
            }
            _ => Some(format!(
                "source {:?}: give either `url`, or `code` (project and version) and `file`",
                self.claim
            )),
        }
    }
}

/// The panel a lesson is about (`key_panel` in a lesson file), which the page shows beside the
/// tasks on the first screen; the others are one click away.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyPanel {
    /// The connection pools: who holds a connection, who waits for one.
    Pool,
    /// The tables' rows, their versions and their lock badges (the default).
    #[default]
    Rows,
    /// Who waits for whom, with any cycle.
    WaitForGraph,
    /// Each connection's protocol messages in flight.
    Protocol,
}

impl KeyPanel {
    /// Every key panel, in the order the page lists panels.
    pub const ALL: [KeyPanel; 4] = [
        KeyPanel::Rows,
        KeyPanel::Pool,
        KeyPanel::WaitForGraph,
        KeyPanel::Protocol,
    ];

    /// Its name in lesson files and addresses (`panel=NAME`).
    pub fn name(self) -> &'static str {
        match self {
            KeyPanel::Pool => "pool",
            KeyPanel::Rows => "rows",
            KeyPanel::WaitForGraph => "wait-for-graph",
            KeyPanel::Protocol => "protocol",
        }
    }

    /// The key panel called `name`, if there is one.
    pub fn named(name: &str) -> Option<KeyPanel> {
        KeyPanel::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A key moment a lesson names: the step at which `task` reaches listing line `line` (its
/// current operation is on that line, and was not before).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moment {
    /// The task (`R` also names the instances `R1`, `R2`, ...).
    pub task: String,
    /// The line of its listing.
    pub line: u32,
    /// What the status line says then: one sentence in the lesson's terms.
    pub says: String,
}

/// Knob values by knob name. Knobs left out take their default (or the fix's setting).
pub type KnobValues = BTreeMap<String, u32>;

/// The largest value a knob may allow: a knob multiplies tasks, and every task multiplies the
/// schedules an exploration must cover.
pub const KNOB_VALUE_MAX: u32 = 64;

/// A number the learner may turn, and what it sets in the scenario. Exactly one of `task` and
/// `pool` is given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knob {
    /// Its name in fix settings, URLs and the check's output (`requests`, `max_conns`).
    pub name: String,
    /// What the UI writes next to the input ("Concurrent requests").
    pub label: String,
    /// Sets this task's `count`: that many identical requests, named `R1`, `R2`, ... (a count of
    /// one is named plainly `R`).
    #[serde(default)]
    pub task: Option<String>,
    /// Sets this pool's size: `max_conns` of a pgxpool pool, `max_open_conns` of a database/sql
    /// pool.
    #[serde(default)]
    pub pool: Option<String>,
    /// The value the lesson starts with.
    pub default: u32,
    /// The smallest value the UI offers (at least 1).
    pub min: u32,
    /// The largest value the UI offers (at most [`KNOB_VALUE_MAX`]).
    pub max: u32,
}

impl Knob {
    /// What the knob sets, in words, for error messages and the check's output.
    pub fn target(&self) -> String {
        match (&self.task, &self.pool) {
            (Some(task), _) => format!("the count of task {task}"),
            (None, Some(pool)) => format!("the size of pool {pool}"),
            (None, None) => "nothing".to_string(),
        }
    }

    /// Sets the knob to `value` in `scenario` (nothing if what it names is missing; validation
    /// rules that out for lesson files).
    fn apply(&self, scenario: &mut Scenario, value: u32) {
        if let Some(name) = &self.task {
            if let Some(task) = scenario.tasks.iter_mut().find(|t| &t.name == name) {
                task.count = value;
            }
        }
        if let Some(name) = &self.pool {
            if let Some(pool) = scenario.pools.iter_mut().find(|p| &p.name == name) {
                match pool.driver {
                    Driver::Pgxpool => pool.max_conns = Some(value),
                    Driver::DatabaseSql => pool.max_open_conns = Some(value),
                }
            }
        }
    }
}

/// A code listing: one file of the incident's code, run by some of the tasks.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listing {
    /// The file name shown above the code.
    pub file: String,
    /// The tasks that run this code; `R` also names the instances `R1`, `R2`, ... of a task.
    pub tasks: Vec<String>,
    /// The code, line 1 first.
    pub code: String,
}

impl Listing {
    /// Whether the task called `task` runs this listing.
    pub fn runs(&self, task: &str) -> bool {
        self.tasks.iter().any(|t| {
            task == t
                || task
                    .strip_prefix(t.as_str())
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    }
}

/// A fix: a titled change to the code and the scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    /// The URL slug (`&fix=SLUG`): a public contract.
    pub slug: String,
    /// A short title.
    pub title: String,
    /// Why it works, or where it still falls short. A Markdown subset.
    pub explanation: String,
    /// True for a real fix, which the checker must prove over every schedule; false for a
    /// partial one, which the lesson shows failing.
    pub proven: bool,
    /// The schedule Play follows with this fix, where the lesson's `bug_schedule` no longer
    /// fits the fixed programs or would not show what the fix changes.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Listings that replace the lesson's listings of the same file.
    #[serde(default)]
    pub listings: Vec<Listing>,
    /// Statements to replace in every task program: old SQL text to new.
    #[serde(default)]
    pub sql: BTreeMap<String, String>,
    /// Server settings that replace the lesson's.
    #[serde(default)]
    pub server: Option<ServerSettings>,
    /// Pools that replace the lesson's.
    #[serde(default)]
    pub pools: Option<Vec<PoolSpec>>,
    /// Task programs that replace the lesson's tasks of the same name.
    #[serde(default)]
    pub tasks: Vec<TaskSpec>,
    /// Knob settings this fix makes (`knobs = { max_conns = 5 }`): they replace the knobs'
    /// defaults while the fix is applied, and the learner can still turn them.
    #[serde(default)]
    pub knobs: KnobValues,
    /// Whether protocol view is on by default with this fix, where it differs from the
    /// lesson's `protocol` (a fix that removes the protocol problem can be followed by steps a
    /// learner would name).
    #[serde(default)]
    pub protocol: Option<bool>,
    /// Knob settings at which this fix is known to fail again (`fails_at = [{ requests = 5 }]`):
    /// the check explores each one and expects a failure, so the lesson can show exactly where a
    /// fix stops being one.
    #[serde(default)]
    pub fails_at: Vec<KnobValues>,
    /// Where the explanation's facts come from (see [`Lesson::sources`]).
    #[serde(default)]
    pub sources: Vec<Source>,
}

impl Lesson {
    /// The fix called `slug`, if the lesson has one.
    pub fn fix(&self, slug: &str) -> Option<&Fix> {
        self.fixes.iter().find(|f| f.slug == slug)
    }

    /// The fix called `slug`, or an error that lists the fixes there are (`slug` comes from a
    /// person: a command line, an address).
    pub fn fix_named(&self, slug: &str) -> Result<&Fix, String> {
        self.fix(slug).ok_or_else(|| {
            let known: Vec<&str> = self.fixes.iter().map(|f| f.slug.as_str()).collect();
            format!(
                "the lesson has no fix `{slug}`; {}",
                known_list("its fixes are", &known)
            )
        })
    }

    /// Whether protocol view is on by default with `fix` applied: the fix's setting, else the
    /// lesson's.
    pub fn protocol_for(&self, fix: Option<&str>) -> bool {
        fix.and_then(|slug| self.fix(slug))
            .and_then(|f| f.protocol)
            .unwrap_or(self.protocol)
    }

    /// The schedule Play follows with `fix` applied: the fix's own, else the bug's.
    pub fn schedule_for(&self, fix: Option<&str>) -> &str {
        fix.and_then(|slug| self.fix(slug))
            .and_then(|f| f.schedule.as_deref())
            .unwrap_or(&self.bug_schedule)
    }

    /// The world to build: the lesson's scenario with `fix` applied and every knob at its
    /// default, or at the fix's setting (unknown fixes are ignored, as a URL may carry a stale
    /// one).
    pub fn scenario(&self, fix: Option<&str>) -> Scenario {
        let mut scenario = self.patched(fix);
        for (knob, value) in self.knob_values(fix) {
            if let Some(k) = self.knob(&knob) {
                k.apply(&mut scenario, value);
            }
        }
        scenario
    }

    /// The world to build with `fix` applied and the knobs set to `values` (knobs left out take
    /// the fix's setting or their default). An unknown knob or a value outside the knob's range
    /// is an error, since these come from the learner.
    pub fn scenario_at(&self, fix: Option<&str>, values: &KnobValues) -> Result<Scenario, String> {
        for (name, &value) in values {
            let knob = self.knob(name).ok_or_else(|| {
                let known: Vec<&str> = self.knobs.iter().map(|k| k.name.as_str()).collect();
                format!(
                    "the lesson has no knob `{name}`; {}",
                    known_list("its knobs are", &known)
                )
            })?;
            if value < knob.min || value > knob.max {
                return Err(format!(
                    "knob `{name}` = {value} is outside {}..={}",
                    knob.min, knob.max
                ));
            }
        }
        let mut scenario = self.patched(fix);
        let mut all = self.knob_values(fix);
        all.extend(values.iter().map(|(k, &v)| (k.clone(), v)));
        for (name, value) in all {
            if let Some(knob) = self.knob(&name) {
                knob.apply(&mut scenario, value);
            }
        }
        Ok(scenario)
    }

    /// The moments this lesson names that happen in the step from `before` to `after`.
    pub fn moments_between(
        &self,
        before: &crate::world::World,
        after: &crate::world::World,
    ) -> Vec<crate::world::KeyMoment> {
        let mut out = Vec::new();
        for moment in &self.moments {
            for view in after.task_views() {
                let instance = Listing {
                    file: String::new(),
                    tasks: vec![moment.task.clone()],
                    code: String::new(),
                };
                if !instance.runs(&view.name) || view.line != Some(moment.line) {
                    continue;
                }
                let was = before
                    .task_views()
                    .into_iter()
                    .find(|t| t.id == view.id)
                    .and_then(|t| t.line);
                if was != Some(moment.line) {
                    out.push(crate::world::KeyMoment::Lesson {
                        text: moment.says.replace("{task}", &view.name),
                    });
                }
            }
        }
        out
    }

    /// The knob called `name`, if the lesson has one.
    pub fn knob(&self, name: &str) -> Option<&Knob> {
        self.knobs.iter().find(|k| k.name == name)
    }

    /// Every knob's value with `fix` applied: the fix's setting, else the knob's default.
    pub fn knob_values(&self, fix: Option<&str>) -> KnobValues {
        let fix = fix.and_then(|slug| self.fix(slug));
        let mut values = KnobValues::new();
        values.extend(self.knobs.iter().map(|k| {
            let value = fix
                .and_then(|f| f.knobs.get(&k.name).copied())
                .unwrap_or(k.default);
            (k.name.clone(), value)
        }));
        values
    }

    /// The lesson's scenario with the fix's patches, before knobs are set.
    fn patched(&self, fix: Option<&str>) -> Scenario {
        let mut scenario = self.scenario.clone();
        let Some(fix) = fix.and_then(|slug| self.fix(slug)) else {
            return scenario;
        };
        if let Some(server) = &fix.server {
            scenario.server = server.clone();
        }
        if let Some(pools) = &fix.pools {
            scenario.pools = pools.clone();
        }
        for task in &fix.tasks {
            match scenario.tasks.iter_mut().find(|t| t.name == task.name) {
                Some(old) => *old = task.clone(),
                None => scenario.tasks.push(task.clone()),
            }
        }
        for task in &mut scenario.tasks {
            replace_sql(&mut task.program, &fix.sql);
        }
        scenario
    }

    /// The code listings to show with `fix` applied: the fix's own listings, then the lesson's
    /// listings that the fix leaves alone (same file not replaced, and some task still runs it).
    pub fn listings_for(&self, fix: Option<&str>) -> Vec<Listing> {
        let Some(fix) = fix.and_then(|slug| self.fix(slug)) else {
            return self.listings.clone();
        };
        let mut out = Vec::new();
        for listing in &self.listings {
            if let Some(new) = fix.listings.iter().find(|l| l.file == listing.file) {
                out.push(new.clone());
            } else if !listing
                .tasks
                .iter()
                .all(|t| fix.listings.iter().any(|l| l.runs(t)))
            {
                out.push(listing.clone());
            }
        }
        out.extend(
            fix.listings
                .iter()
                .filter(|l| !self.listings.iter().any(|old| old.file == l.file))
                .cloned(),
        );
        out
    }

    /// The listing that task `task` runs, with `fix` applied.
    pub fn listing_of(&self, task: &str, fix: Option<&str>) -> Option<Listing> {
        self.listings_for(fix).into_iter().find(|l| l.runs(task))
    }
}

/// "its fixes are a, b" or "it has none".
fn known_list(lead: &str, names: &[&str]) -> String {
    if names.is_empty() {
        "it has none".to_string()
    } else {
        format!("{lead} {}", names.join(", "))
    }
}

fn replace_sql(program: &mut [Op], replacements: &BTreeMap<String, String>) {
    for op in program {
        match &mut op.action {
            Action::Query { sql, .. } | Action::QueryRow { sql, .. } | Action::Exec { sql, .. } => {
                if let Some(new) = replacements.get(sql.as_str()) {
                    *sql = new.clone();
                }
            }
            Action::Defer { body } => replace_sql(body, replacements),
            _ => {}
        }
    }
}

/// A lesson file that does not parse or does not make sense.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonError {
    /// The file, e.g. `lessons/lock-order/lesson.toml`.
    pub file: String,
    /// What is wrong, with line and column where the parser knows them.
    pub message: String,
    /// That line and column (1-based, columns in characters), for an editor to go to.
    pub at: Option<(usize, usize)>,
}

impl fmt::Display for LessonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for LessonError {}

/// Parses and validates one lesson file; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Lesson, LessonError> {
    let error = |message: String| LessonError {
        file: file.to_string(),
        message,
        at: None,
    };
    if text.len() > crate::limits::LESSON_BYTES_MAX {
        return Err(error(format!(
            "the file is {} bytes, more than LESSON_BYTES_MAX ({})",
            text.len(),
            crate::limits::LESSON_BYTES_MAX
        )));
    }
    let lesson: Lesson = toml::from_str(text).map_err(|e| LessonError {
        at: toml_position(text, &e),
        ..error(toml_error(text, &e))
    })?;
    validate(&lesson).map_err(error)?;
    Ok(lesson)
}

/// Formats a TOML error with its line and column, which the `toml` crate gives as a byte span.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().to_string();
    match toml_position(text, e) {
        Some((line, column)) => format!("line {line}, column {column}: {message}"),
        None => message,
    }
}

/// Where a TOML error is, as a 1-based line and column; columns count characters, as editors do,
/// not bytes.
pub fn toml_position(text: &str, e: &toml::de::Error) -> Option<(usize, usize)> {
    let mut start = e.span()?.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_panel_is_found_by_its_name_and_a_lesson_file_names_it_the_same_way() {
        for panel in KeyPanel::ALL {
            assert_eq!(KeyPanel::named(panel.name()), Some(panel));
            let text = format!("key_panel = \"{}\"", panel.name());
            #[derive(Deserialize)]
            struct Only {
                key_panel: KeyPanel,
            }
            let only: Only = toml::from_str(&text).expect("a key panel parses");
            assert_eq!(only.key_panel, panel);
        }
        assert_eq!(KeyPanel::named("pg_locks"), None);
    }

    #[test]
    fn toml_error_columns_count_characters_not_bytes() {
        // Found by the property tests: an edit left `¡` (two bytes) before the error.
        let text = "slug = \"x\"\nstory = \"\"\"¡é";
        let err = parse("f.toml", text).unwrap_err();
        assert!(err.message.starts_with("line 2, column 14:"), "{err}");
        assert_eq!(err.at, Some((2, 14)));
    }

    #[test]
    fn numbered_instances_run_their_task_listing() {
        let listing = Listing {
            file: "f".into(),
            tasks: vec!["R".into()],
            code: String::new(),
        };
        assert!(listing.runs("R"));
        assert!(listing.runs("R12"));
        assert!(!listing.runs("RX"));
    }

    const KNOBBED: &str = r#"
slug = "k"
title = "t"
summary = "s"
language = "go"
story = "s"
bug_schedule = "R1"

[[listings]]
file = "h.go"
tasks = ["R"]
code = "a\nb\n"

[scenario]
pools = [{ name = "db", driver = "pgxpool" }]

[[scenario.tasks]]
name = "R"
program = [{ line = 1, op = "query-row", on = "db", sql = "SELECT 1" }]

[[knobs]]
name = "requests"
label = "Concurrent requests"
task = "R"
default = 4
min = 1
max = 8

[[knobs]]
name = "max_conns"
label = "MaxConns"
pool = "db"
default = 4
min = 1
max = 8

[[fixes]]
slug = "bigger"
title = "t"
explanation = "e"
proven = true
knobs = { max_conns = 5 }
fails_at = [{ requests = 5 }]
"#;

    fn knobbed() -> Lesson {
        parse("k.toml", KNOBBED).unwrap()
    }

    #[test]
    fn knobs_set_a_task_count_and_a_pool_size_to_their_defaults() {
        let lesson = knobbed();
        let scenario = lesson.scenario(None);
        assert_eq!(scenario.tasks[0].count, 4);
        assert_eq!(scenario.pools[0].max_conns, Some(4));
    }

    #[test]
    fn a_fix_sets_knobs_and_the_learner_can_still_turn_them() {
        let lesson = knobbed();
        assert_eq!(
            lesson.knob_values(Some("bigger")),
            KnobValues::from([("max_conns".into(), 5), ("requests".into(), 4)])
        );
        assert_eq!(lesson.scenario(Some("bigger")).pools[0].max_conns, Some(5));
        let values = KnobValues::from([("requests".into(), 6)]);
        let scenario = lesson.scenario_at(Some("bigger"), &values).unwrap();
        assert_eq!(scenario.tasks[0].count, 6);
        assert_eq!(scenario.pools[0].max_conns, Some(5));
        let values = KnobValues::from([("max_conns".into(), 2)]);
        let scenario = lesson.scenario_at(Some("bigger"), &values).unwrap();
        assert_eq!(scenario.pools[0].max_conns, Some(2));
    }

    #[test]
    fn a_knob_value_outside_its_range_or_an_unknown_knob_is_an_error() {
        let lesson = knobbed();
        let err = lesson
            .scenario_at(None, &KnobValues::from([("requests".into(), 9)]))
            .unwrap_err();
        assert_eq!(err, "knob `requests` = 9 is outside 1..=8");
        let err = lesson
            .scenario_at(None, &KnobValues::from([("cpus".into(), 2)]))
            .unwrap_err();
        assert_eq!(
            err,
            "the lesson has no knob `cpus`; its knobs are requests, max_conns"
        );
    }

    #[test]
    fn a_knob_on_a_database_sql_pool_sets_max_open_conns() {
        let text = KNOBBED.replace("driver = \"pgxpool\"", "driver = \"database/sql\"");
        let lesson = parse("k.toml", &text).unwrap();
        let pool = &lesson.scenario(None).pools[0];
        assert_eq!((pool.max_conns, pool.max_open_conns), (None, Some(4)));
    }

    #[test]
    fn a_source_is_a_url_or_a_file_of_a_versioned_project() {
        let with = |source: &str| KNOBBED.to_string() + "\n[[sources]]\n" + source + "\n";
        let lesson = parse(
            "k.toml",
            &with("claim = \"c\"\nurl = \"https://www.postgresql.org/docs/\""),
        )
        .unwrap();
        assert_eq!(lesson.sources.len(), 1);
        parse(
            "k.toml",
            &with("claim = \"c\"\ncode = \"lib/pq v1.10.9\"\nfile = \"conn.go\""),
        )
        .unwrap();
        let cases = [
            ("claim = \"c\"\nurl = \"http://x\"", "sources: url \"http://x\" must start with https://"),
            (
                "claim = \"c\"\ncode = \"lib/pq v1.10.9\"",
                "sources: source \"c\": give either `url`, or `code` (project and version) and `file`",
            ),
            ("claim = \" \"\nurl = \"https://x\"", "sources: a source needs a `claim`"),
        ];
        for (source, message) in cases {
            assert_eq!(parse("k.toml", &with(source)).unwrap_err().message, message);
        }
    }

    #[test]
    fn malformed_knobs_are_rejected_with_what_is_wrong() {
        let cases = [
            (
                "default = 4\nmin = 1\nmax = 8\n\n[[fixes]]",
                "default = 9\nmin = 1\nmax = 8\n\n[[fixes]]",
                "knob max_conns: default 9 is outside 1..=8",
            ),
            (
                "pool = \"db\"",
                "pool = \"pg\"",
                "knob max_conns: no pool named `pg`",
            ),
            (
                "pool = \"db\"",
                "pool = \"db\"\ntask = \"R\"",
                "knob max_conns: give exactly one of `task` and `pool`",
            ),
            (
                "fails_at = [{ requests = 5 }]",
                "fails_at = [{ requests = 50 }]",
                "fix bigger: fails_at 1: knob `requests` = 50 is outside 1..=8",
            ),
            (
                "knobs = { max_conns = 5 }",
                "knobs = { pool = 5 }",
                "fix bigger: knobs: the lesson has no knob `pool`; its knobs are requests, max_conns",
            ),
        ];
        for (from, to, message) in cases {
            let text = KNOBBED.replacen(from, to, 1);
            assert_ne!(text, KNOBBED, "{from}");
            let err = parse("k.toml", &text).unwrap_err();
            assert_eq!(err.message, message);
        }
    }
}
