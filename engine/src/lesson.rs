//! The lesson file format: a story, the code listings of its tasks, a [`Scenario`] for the
//! engine, the schedule that shows the bug, and its fixes. A fix is data too: it replaces code
//! listings and patches the scenario (statements, settings, pools or whole task programs), so
//! applying it needs no code of its own. The files themselves live in the `lessons` crate.

use crate::world::{Action, Op, PoolSpec, Scenario, ServerSettings, TaskSpec};
use serde::Deserialize;
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
    /// The code each task runs; a program's `line` numbers point into these.
    pub listings: Vec<Listing>,
    /// The world the lesson starts from, with the bug.
    pub scenario: Scenario,
    /// Every fix, in the order the story discusses them.
    #[serde(default)]
    pub fixes: Vec<Fix>,
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
}

impl Lesson {
    /// The fix called `slug`, if the lesson has one.
    pub fn fix(&self, slug: &str) -> Option<&Fix> {
        self.fixes.iter().find(|f| f.slug == slug)
    }

    /// The world to build: the lesson's scenario with `fix` applied (unknown fixes are ignored,
    /// as a URL may carry a stale one).
    pub fn scenario(&self, fix: Option<&str>) -> Scenario {
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
    };
    if text.len() > crate::limits::LESSON_BYTES_MAX {
        return Err(error(format!(
            "the file is {} bytes, more than LESSON_BYTES_MAX ({})",
            text.len(),
            crate::limits::LESSON_BYTES_MAX
        )));
    }
    let lesson: Lesson = toml::from_str(text).map_err(|e| error(toml_error(text, &e)))?;
    validate(&lesson).map_err(error)?;
    Ok(lesson)
}

/// Formats a TOML error with its line and column, which the `toml` crate gives as a byte span.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let mut start = span.start.min(text.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            // Columns count characters, as editors do, not bytes.
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before[line_start..].chars().count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

fn validate(lesson: &Lesson) -> Result<(), String> {
    let check_scenario = |scenario: &Scenario, what: &str| -> Result<(), String> {
        crate::world::World::new(scenario)
            .map(drop)
            .map_err(|e| format!("{what}: {e}"))
    };
    check_scenario(&lesson.scenario, "scenario")?;
    lesson
        .bug_schedule
        .parse::<crate::world::Schedule>()
        .map_err(|e| format!("bug_schedule: {e}"))?;
    for task in &lesson.scenario.tasks {
        let Some(listing) = lesson.listings.iter().find(|l| l.runs(&task.name)) else {
            if task.goroutine {
                continue;
            }
            return Err(format!("task {} runs no listing", task.name));
        };
        let lines = listing.code.lines().count() as u32;
        if let Some(op) = task
            .program
            .iter()
            .find(|op| op.line == 0 || op.line > lines)
        {
            return Err(format!(
                "task {}: line {} is outside {} ({lines} lines)",
                task.name, op.line, listing.file
            ));
        }
    }
    let mut slugs = std::collections::BTreeSet::new();
    for fix in &lesson.fixes {
        if !slugs.insert(fix.slug.as_str()) {
            return Err(format!("fix {} is listed twice", fix.slug));
        }
        for old in fix.sql.keys() {
            let used = lesson
                .scenario
                .tasks
                .iter()
                .any(|t| program_uses_sql(&t.program, old));
            if !used {
                return Err(format!("fix {}: no task sends {old:?}", fix.slug));
            }
        }
        check_scenario(
            &lesson.scenario(Some(&fix.slug)),
            &format!("fix {}", fix.slug),
        )?;
    }
    Ok(())
}

fn program_uses_sql(program: &[Op], wanted: &str) -> bool {
    program.iter().any(|op| match &op.action {
        Action::Query { sql, .. } | Action::QueryRow { sql, .. } | Action::Exec { sql, .. } => {
            sql == wanted
        }
        Action::Defer { body } => program_uses_sql(body, wanted),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_error_columns_count_characters_not_bytes() {
        // Found by the property tests: an edit left `¡` (two bytes) before the error.
        let text = "slug = \"x\"\nstory = \"\"\"¡é";
        let err = parse("f.toml", text).unwrap_err();
        assert!(err.message.starts_with("line 2, column 14:"), "{err}");
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
}
