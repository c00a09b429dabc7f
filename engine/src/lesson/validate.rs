//! What a lesson file must satisfy beyond its format: the scenario and every fix build, the
//! schedules parse, listings cover the tasks, knobs make sense, the language is one the listings
//! check knows, invariant queries only read, and the slug is its folder's name.

use super::{challenge, KnobValues, Lesson, Source, KNOB_VALUE_MAX};
use crate::sql::StatementKind;
use crate::world::{Action, Invariant, Op, Scenario, Setups, World};

/// The languages a lesson's listings may be written in: those whose parsers the listings check
/// runs (`gofmt`, Python's `ast`, Elixir's `Code.string_to_quoted`).
pub const LANGUAGES: [&str; 3] = ["go", "python", "elixir"];

/// Checks that a lesson read from the folder `folder` (its last path component) has that
/// folder's name as its slug: the slug is the lesson's address, and the catalogue names folders.
pub fn check_folder(lesson: &Lesson, folder: &str) -> Result<(), String> {
    if lesson.slug == folder {
        return Ok(());
    }
    Err(format!(
        "slug `{}` differs from its folder `{folder}`: they must be the same",
        lesson.slug
    ))
}

/// An invariant's query must be one `SELECT` that locks nothing: it runs after the run, on the
/// final state, and must not change what it checks.
fn check_invariant_reads_only(invariant: &Invariant) -> Result<(), String> {
    let Invariant::Sql { query, .. } = invariant else {
        return Ok(());
    };
    let refuse = |why: &str| {
        Err(format!(
            "invariant `{query}`: {why}; only a SELECT may check"
        ))
    };
    let statements = crate::sql::parse(query).map_err(|e| format!("invariant `{query}`: {e}"))?;
    match statements.as_slice() {
        [statement] => match &statement.kind {
            StatementKind::Select(select) if select.locking.is_none() => Ok(()),
            StatementKind::Select(_) => refuse("it locks rows"),
            _ => refuse("it is not a query"),
        },
        _ => refuse("it must be exactly one statement"),
    }
}

/// Checks what the file format alone cannot: the scenario builds, the bug schedule parses, every
/// task runs a listing, every fix applies.
pub fn validate(lesson: &Lesson) -> Result<(), String> {
    // Every world below shares the lesson's setup: it runs once (`Setups`), however many fixes
    // and knob settings there are.
    let mut setups = Setups::new();
    let mut check_scenario = |scenario: &Scenario, what: &str| -> Result<(), String> {
        World::new_with(scenario, &mut setups)
            .map(drop)
            .map_err(|e| format!("{what}: {e}"))
    };
    check_scenario(&lesson.scenario, "scenario")?;
    if !LANGUAGES.contains(&lesson.language.as_str()) {
        return Err(format!(
            "language `{}` is not one of {}",
            lesson.language,
            LANGUAGES.join(", ")
        ));
    }
    for invariant in &lesson.scenario.invariants {
        check_invariant_reads_only(invariant)?;
    }
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
    validate_knobs(lesson, &mut check_scenario)?;
    if let Some(problem) = lesson.sources.iter().find_map(Source::problem) {
        return Err(format!("sources: {problem}"));
    }
    for moment in &lesson.moments {
        let Some(listing) = lesson.listings.iter().find(|l| l.runs(&moment.task)) else {
            return Err(format!("moment: no listing runs task `{}`", moment.task));
        };
        if moment.line == 0 || moment.line as usize > listing.code.lines().count() {
            return Err(format!(
                "moment: line {} is outside {}",
                moment.line, listing.file
            ));
        }
    }
    let mut slugs = std::collections::BTreeSet::new();
    for fix in &lesson.fixes {
        if !slugs.insert(fix.slug.as_str()) {
            return Err(format!("fix {} is listed twice", fix.slug));
        }
        if let Some(problem) = fix.sources.iter().find_map(Source::problem) {
            return Err(format!("fix {}: sources: {problem}", fix.slug));
        }
        if let Some(schedule) = &fix.schedule {
            schedule
                .parse::<crate::world::Schedule>()
                .map_err(|e| format!("fix {}: schedule: {e}", fix.slug))?;
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
        let settings = std::iter::once(&fix.knobs).chain(&fix.fails_at);
        for (index, values) in settings.enumerate() {
            let what = if index == 0 {
                format!("fix {}: knobs", fix.slug)
            } else {
                format!("fix {}: fails_at {index}", fix.slug)
            };
            if index > 0 && values.is_empty() {
                return Err(format!("{what}: names no knob"));
            }
            let scenario = lesson
                .scenario_at(Some(&fix.slug), values)
                .map_err(|e| format!("{what}: {e}"))?;
            check_scenario(&scenario, &what)?;
        }
    }
    challenge::validate(lesson)
}

fn validate_knobs(
    lesson: &Lesson,
    check_scenario: &mut impl FnMut(&Scenario, &str) -> Result<(), String>,
) -> Result<(), String> {
    let mut names = std::collections::BTreeSet::new();
    for knob in &lesson.knobs {
        let what = format!("knob {}", knob.name);
        if !names.insert(knob.name.as_str()) {
            return Err(format!("{what} is defined twice"));
        }
        match (&knob.task, &knob.pool) {
            (Some(task), None) => {
                if !lesson
                    .scenario
                    .tasks
                    .iter()
                    .any(|t| &t.name == task && !t.goroutine)
                {
                    return Err(format!("{what}: no request task named `{task}`"));
                }
            }
            (None, Some(pool)) => {
                if !lesson.scenario.pools.iter().any(|p| &p.name == pool) {
                    return Err(format!("{what}: no pool named `{pool}`"));
                }
            }
            _ => return Err(format!("{what}: give exactly one of `task` and `pool`")),
        }
        if knob.min == 0 || knob.min > knob.max || knob.max > KNOB_VALUE_MAX {
            return Err(format!(
                "{what}: the range {}..={} must lie within 1..={KNOB_VALUE_MAX}",
                knob.min, knob.max
            ));
        }
        if knob.default < knob.min || knob.default > knob.max {
            return Err(format!(
                "{what}: default {} is outside {}..={}",
                knob.default, knob.min, knob.max
            ));
        }
    }
    check_each_value_world(lesson, check_scenario)
}

/// The extreme knob settings build valid worlds (e.g. task names stay unique at every count).
fn check_each_value_world(
    lesson: &Lesson,
    check_scenario: &mut impl FnMut(&Scenario, &str) -> Result<(), String>,
) -> Result<(), String> {
    for knob in &lesson.knobs {
        for value in [knob.min, knob.max] {
            let values = KnobValues::from([(knob.name.clone(), value)]);
            let scenario = lesson.scenario_at(None, &values)?;
            check_scenario(&scenario, &format!("knob {} = {value}", knob.name))?;
        }
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
