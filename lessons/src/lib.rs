//! The lessons: each one a data file in this folder (`SLUG/lesson.toml`), embedded at build time
//! and validated; `catalogue.toml` only orders them.
//!
//! The format itself (what a lesson and a fix are, how a fix is applied) is
//! [`lockstep::lesson`], so the native CLI can read lesson folders too.

use lockstep::lesson::toml_error;
pub use lockstep::lesson::{parse, Fix, Knob, KnobValues, Lesson, LessonError, Listing};
use serde::Deserialize;
use std::sync::OnceLock;

/// The lesson files, embedded so the browser needs no network. Order here does not matter.
const FILES: &[(&str, &str)] = &[
    (
        "pool-exhaustion",
        include_str!("../pool-exhaustion/lesson.toml"),
    ),
    ("lock-order", include_str!("../lock-order/lesson.toml")),
    ("insert-order", include_str!("../insert-order/lesson.toml")),
    ("read-skew", include_str!("../read-skew/lesson.toml")),
];

/// The course order.
const CATALOGUE: &str = include_str!("../catalogue.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalogue {
    lessons: Vec<String>,
}

/// Every lesson, parsed and validated, in course order.
///
/// The files are embedded and checked by this crate's tests, so an error here is a bug in a
/// lesson file that the tests missed.
pub fn load() -> Result<Vec<Lesson>, LessonError> {
    let catalogue: Catalogue = toml::from_str(CATALOGUE).map_err(|e| LessonError {
        file: "lessons/catalogue.toml".into(),
        message: toml_error(CATALOGUE, &e),
    })?;
    catalogue
        .lessons
        .iter()
        .map(|slug| {
            let file = format!("lessons/{slug}/lesson.toml");
            let (_, text) = FILES.iter().find(|(s, _)| s == slug).ok_or(LessonError {
                file: "lessons/catalogue.toml".into(),
                message: format!("no lesson file for {slug}"),
            })?;
            let lesson = parse(&file, text)?;
            if &lesson.slug != slug {
                return Err(LessonError {
                    file,
                    message: format!("slug {} does not match its folder", lesson.slug),
                });
            }
            Ok(lesson)
        })
        .collect()
}

/// Every lesson in course order (parsed once).
pub fn catalogue() -> &'static [Lesson] {
    static LESSONS: OnceLock<Vec<Lesson>> = OnceLock::new();
    LESSONS.get_or_init(|| load().unwrap_or_else(|e| panic!("invalid embedded lesson: {e}")))
}

/// The lesson with this slug.
pub fn lesson(slug: &str) -> Option<&'static Lesson> {
    catalogue().iter().find(|l| l.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_lesson_parses_and_validates() {
        let lessons = load().unwrap();
        assert_eq!(lessons[0].slug, "pool-exhaustion");
    }

    #[test]
    fn a_fix_rewrites_only_the_statements_it_names() {
        let lesson = lesson("lock-order").unwrap();
        let fixed = lesson.scenario(Some("order-by"));
        let sends = |text: &str| {
            fixed.tasks.iter().any(|t| {
                t.program.iter().any(|op| {
                    matches!(&op.action, lockstep::world::Action::Query { sql, .. } if sql == text)
                })
            })
        };
        assert!(sends(
            "SELECT id FROM widget WHERE id IN (2, 3, 5) ORDER BY id FOR UPDATE"
        ));
        assert!(!sends(
            "SELECT id FROM widget WHERE id IN (2, 3, 5) FOR UPDATE"
        ));
    }

    #[test]
    fn a_broken_lesson_file_is_reported_with_its_line_and_column() {
        let err = parse("x.toml", "slug = \"a\"\ntitle = 3\n").unwrap_err();
        assert_eq!(err.file, "x.toml");
        assert!(err.message.starts_with("line 2, column 9"), "{err}");
    }
}
