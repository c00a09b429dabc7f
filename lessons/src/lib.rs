//! The lessons: each one a data file in this folder (`SLUG/lesson.toml`), embedded at build time
//! and validated; `catalogue.toml` only orders them.
//!
//! The format itself (what a lesson and a fix are, how a fix is applied) is
//! [`lockstep::lesson`], so the native CLI can read lesson folders too.

pub use lockstep::lesson::{
    parse, validate, Fix, Knob, KnobValues, Lesson, LessonError, Listing, Source,
};
use std::sync::OnceLock;

/// The lessons in course order, as `(slug, JSON)`: `build.rs` reads `catalogue.toml` and each
/// `SLUG/lesson.toml` and embeds them as JSON, so the browser needs no TOML parser. Only the
/// bundles that read every lesson (the studio's, the worker's) and `lesson-files`, which writes
/// the file a lesson page fetches, refer to them.
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/lessons.rs"));

/// The lesson files as written, `(slug, TOML)` in course order: the studio's starting points.
/// Only the studio's bundle refers to them, so the other pages do not carry them.
const SOURCES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/sources.rs"));

/// What the course list and the links between lessons show of a lesson, with no need to read
/// the lesson itself: a lesson page fetches only its own lesson (`lessons/SLUG.json` beside
/// the page, written by `lesson-files`), and the course list reads none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub slug: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    /// The language of its code listings (`go`, `python`, `elixir`).
    pub language: &'static str,
    /// Its fixes' slugs, in order.
    pub fixes: &'static [&'static str],
    /// Its challenges' ids, in order.
    pub challenges: &'static [&'static str],
}

/// Every lesson's entry, in course order.
pub fn index() -> &'static [Entry] {
    const INDEX: &[Entry] = include!(concat!(env!("OUT_DIR"), "/index.rs"));
    INDEX
}

/// The lesson with this slug as JSON, the text a lesson page fetches and [`read`]s.
pub fn json(slug: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|(s, _)| *s == slug)
        .map(|(_, text)| *text)
}

/// The file `lessons/SLUG/lesson.toml` as written, comments and all.
pub fn source(slug: &str) -> Option<&'static str> {
    SOURCES
        .iter()
        .find(|(s, _)| *s == slug)
        .map(|(_, text)| *text)
}

/// Every lesson, read and validated, in course order.
///
/// The files are embedded and checked by this crate's tests (which also parse the TOML itself,
/// for errors with line and column), so an error here is a bug in a lesson file that the tests
/// missed.
pub fn load() -> Result<Vec<Lesson>, LessonError> {
    EMBEDDED
        .iter()
        .map(|(slug, json)| read(slug, json))
        .collect()
}

/// The lesson `slug` from its JSON ([`json`]), read and validated.
pub fn read(slug: &str, json: &str) -> Result<Lesson, LessonError> {
    let error = |message: String| LessonError {
        file: format!("lessons/{slug}/lesson.toml"),
        message,
        at: None,
    };
    let lesson = from_json(json).map_err(error)?;
    validate(&lesson).map_err(error)?;
    lockstep::lesson::check_folder(&lesson, slug).map_err(error)?;
    Ok(lesson)
}

/// A lesson from its embedded JSON. With `browser-json`, in the browser, the browser's own
/// `JSON.parse` reads the text and `serde-wasm-bindgen` fills in the lesson, so the page
/// carries no JSON reader of its own (serde_json's was about a twentieth of the lesson page's
/// code).
#[cfg(all(target_arch = "wasm32", feature = "browser-json"))]
fn from_json(json: &str) -> Result<Lesson, String> {
    let value = js_sys::JSON::parse(json).map_err(|e| format!("{e:?}"))?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

#[cfg(not(all(target_arch = "wasm32", feature = "browser-json")))]
fn from_json(json: &str) -> Result<Lesson, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_lesson_parses_and_validates() {
        let lessons = load().unwrap();
        // The catalogue follows the course order of the design (a lesson may still be missing).
        let course = [
            "pool-exhaustion",
            "shared-transaction",
            "leaked-transaction",
            "lock-order",
            "insert-order",
            "read-skew",
        ];
        let positions: Vec<usize> = lessons
            .iter()
            .map(|l| course.iter().position(|c| *c == l.slug).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        assert_eq!(lessons.len(), EMBEDDED.len());
    }

    /// The index says of each lesson what the lesson itself says, in the same order.
    #[test]
    fn the_index_agrees_with_every_lesson() {
        let lessons = catalogue();
        assert_eq!(index().len(), lessons.len());
        for (entry, lesson) in index().iter().zip(lessons) {
            assert_eq!(entry.slug, lesson.slug);
            assert_eq!(entry.title, lesson.title);
            assert_eq!(entry.summary, lesson.summary);
            assert_eq!(entry.language, lesson.language);
            let fixes: Vec<&str> = lesson.fixes.iter().map(|f| f.slug.as_str()).collect();
            assert_eq!(entry.fixes, fixes);
            let challenges: Vec<&str> = lesson.challenges.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(entry.challenges, challenges);
            let read = read(entry.slug, json(entry.slug).unwrap()).unwrap();
            assert_eq!(format!("{read:?}"), format!("{lesson:?}"));
        }
        assert_eq!(json("no-such-lesson"), None);
    }

    /// The TOML files themselves, read the way `lockstep check` reads them: the errors a lesson
    /// author sees carry the line and column.
    #[test]
    fn every_lesson_file_parses_as_toml_to_the_embedded_lesson() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (slug, _) in EMBEDDED {
            let file = dir.join(slug).join("lesson.toml");
            let text = std::fs::read_to_string(&file).unwrap();
            let lesson = parse(&file.display().to_string(), &text).unwrap();
            assert_eq!(&lesson.slug, slug);
            assert_eq!(
                format!("{lesson:?}"),
                format!("{:?}", self::lesson(slug).unwrap())
            );
        }
    }

    /// Every lesson says where its facts come from: at least the incident's write-up (a page)
    /// and the documentation or source of the behaviour it shows.
    #[test]
    fn every_lesson_cites_sources() {
        for lesson in catalogue() {
            assert!(
                lesson.sources.iter().any(|s| s.url.is_some()),
                "{}: no page cited",
                lesson.slug
            );
            assert!(lesson.sources.len() >= 3, "{}", lesson.slug);
        }
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
    fn a_fix_with_its_own_schedule_is_played_with_it() {
        let lesson = lesson("lock-order").unwrap();
        assert_eq!(lesson.schedule_for(None), lesson.bug_schedule);
        assert_eq!(lesson.schedule_for(Some("order-by")), lesson.bug_schedule);
        assert_ne!(lesson.schedule_for(Some("retry")), lesson.bug_schedule);
    }

    #[test]
    fn every_lesson_source_is_its_file_and_parses_to_the_embedded_lesson() {
        for lesson in catalogue() {
            let text = source(&lesson.slug).unwrap();
            let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(&lesson.slug)
                .join("lesson.toml");
            assert_eq!(text, std::fs::read_to_string(file).unwrap());
            let parsed = parse("lesson.toml", text).unwrap();
            assert_eq!(format!("{parsed:?}"), format!("{lesson:?}"));
        }
        assert_eq!(source("no-such-lesson"), None);
    }

    #[test]
    fn a_broken_lesson_file_is_reported_with_its_line_and_column() {
        let err = parse("x.toml", "slug = \"a\"\ntitle = 3\n").unwrap_err();
        assert_eq!(err.file, "x.toml");
        assert!(err.message.starts_with("line 2, column 9"), "{err}");
    }
}

/// In the browser the lessons are read by another reader than natively: it must fill in every
/// lesson exactly as serde_json does (`make wasm-unit` runs this as WASM under Node).
#[cfg(all(test, target_arch = "wasm32", feature = "browser-json"))]
mod browser_json_tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn the_browser_reads_every_lesson_as_serde_json_does() {
        for (slug, json) in EMBEDDED {
            let browser = from_json(json).unwrap();
            let native: Lesson = serde_json::from_str(json).unwrap();
            assert_eq!(format!("{browser:?}"), format!("{native:?}"), "{slug}");
        }
        assert_eq!(catalogue().len(), EMBEDDED.len());
    }
}
