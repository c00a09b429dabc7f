//! The studio's lesson file, read: parsed and validated as `lockstep check` reads a lesson
//! (every limit applies), then given the form the worker reads, JSON. Pure, so any text,
//! however broken, is read the same way natively (where the property tests feed it) and in
//! the browser. (The link that carries the file is made by the browser: [`crate::link`].)

use lockstep::lesson::{parse, Lesson};

/// A file that reads as a lesson.
#[derive(Clone, Debug)]
pub struct Read {
    /// The lesson.
    pub lesson: Lesson,
    /// The file read as JSON values: what the worker reads.
    pub json: String,
}

/// Why a file does not read as a lesson.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// What is wrong, in the format's words ("line 3, column 9: invalid type ...").
    pub message: String,
    /// The line and column, when the problem is at one place of the text.
    pub at: Option<(usize, usize)>,
}

/// Reads a lesson file.
pub fn read(text: &str) -> Result<Read, FileError> {
    let lesson = parse("lesson.toml", text).map_err(|e| FileError {
        message: e.message,
        at: e.at,
    })?;
    // The same text read as plain values: it parsed as a lesson, so it parses as TOML.
    let value: serde_json::Value = toml::from_str(text).map_err(|e| FileError {
        message: e.message().trim().to_string(),
        at: None,
    })?;
    let json = serde_json::to_string(&value).map_err(|e| FileError {
        message: e.to_string(),
        at: None,
    })?;
    Ok(Read { lesson, json })
}

/// The file a new lesson starts from: one pool, two tasks.
pub const BLANK: &str = include_str!("blank.toml");

/// The text to start from: a course lesson's file, by slug, or the blank one.
pub fn starting_point(slug: Option<&str>) -> &'static str {
    slug.and_then(lockstep_lessons::source).unwrap_or(BLANK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep::explore::world::check_lesson;
    use lockstep::explore::Limits;
    use lockstep::limits::CHECK_DEPTH_MAX;
    use proptest::prelude::*;

    fn limits() -> Limits {
        Limits {
            depth_max: CHECK_DEPTH_MAX,
            ..Limits::default()
        }
    }

    #[test]
    fn the_blank_file_reads_and_plays_without_a_bug_until_b_turns_around() {
        let read = read(BLANK).unwrap();
        assert_eq!(read.lesson.scenario.pools.len(), 1);
        assert_eq!(read.lesson.scenario.tasks.len(), 2);
        let checks = check_lesson(&read.lesson, limits()).unwrap();
        // No bug yet: the check says a failure is promised and none is found.
        assert!(!checks[0].ok);
        assert!(
            checks[0].says().contains("but a failure is promised"),
            "{}",
            checks[0].says()
        );
        // Its bug schedule plays to the end.
        let schedule: lockstep::world::Schedule = read.lesson.bug_schedule.parse().unwrap();
        let (world, _) = lockstep::world::World::replay(&read.lesson.scenario, &schedule).unwrap();
        assert_eq!(
            world.status(),
            lockstep::world::Status::Finished {
                invariant_violations: vec![]
            }
        );
    }

    #[test]
    fn every_course_lesson_read_from_its_file_checks_as_the_course_one_does() {
        // Its link carries the file's text unchanged (`app/tests/link.rs`).
        for lesson in lockstep_lessons::catalogue() {
            let text = starting_point(Some(&lesson.slug));
            let back = read(text).unwrap();
            let from_file = check_lesson(&back.lesson, limits()).unwrap();
            let course = check_lesson(lesson, limits()).unwrap();
            let says = |checks: &[lockstep::explore::world::ScenarioCheck]| {
                checks.iter().map(|c| c.to_string()).collect::<Vec<_>>()
            };
            assert_eq!(says(&from_file), says(&course), "{}", lesson.slug);
        }
    }

    #[test]
    fn a_syntax_error_is_placed_at_its_line_and_column() {
        let text = BLANK.replacen("title = \"Two transfers\"", "title = Two transfers\"", 1);
        let err = read(&text).unwrap_err();
        assert_eq!(err.at.map(|(line, _)| line), Some(5), "{err:?}");
        assert!(err.message.starts_with("line 5, column 9"), "{err:?}");
    }

    #[test]
    fn a_file_that_parses_but_does_not_make_sense_says_why() {
        let text = BLANK.replacen(
            "{ line = 7, op = \"commit\" }",
            "{ line = 70, op = \"commit\" }",
            1,
        );
        let err = read(&text).unwrap_err();
        assert!(
            err.message.contains("line 70 is outside transfer_a.go"),
            "{err:?}"
        );
        assert_eq!(err.at, None);
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_parsed() {
        let text = format!(
            "{BLANK}\n#{}",
            "x".repeat(lockstep::limits::LESSON_BYTES_MAX)
        );
        let err = read(&text).unwrap_err();
        assert!(err.message.contains("LESSON_BYTES_MAX"), "{err:?}");
    }

    /// Random text, and the blank file with bytes changed, cut or repeated: never a panic.
    fn mutated() -> impl Strategy<Value = String> {
        let edits =
            prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..8);
        edits.prop_map(|edits| {
            let mut text: Vec<char> = BLANK.chars().collect();
            for (at, kind, c) in edits {
                let len = text.len();
                let i = at.index(len.max(1)).min(len);
                match kind {
                    0 if i < len => text[i] = c,
                    1 => text.insert(i, c),
                    2 => text.truncate(i),
                    _ => {
                        let piece: Vec<char> = text[i..].iter().take(40).copied().collect();
                        text.splice(i..i, piece);
                    }
                }
            }
            text.into_iter().collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn any_text_reads_or_says_why(text in any::<String>()) {
            let _ = read(&text);
        }

        #[test]
        fn a_mutated_file_reads_or_says_why(text in mutated()) {
            if let Err(e) = read(&text) {
                prop_assert!(!e.message.is_empty());
            }
        }
    }
}
