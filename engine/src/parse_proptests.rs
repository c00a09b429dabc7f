//! Property tests for every parser that reads text a user can hand the engine: SQL, `.spec`
//! files, lesson files and schedules. Inputs are random text, random token soup, and the real
//! conformance specs and lesson files with random edits (the edits a person makes by mistake:
//! a character deleted, a bracket or quote dropped in, a range doubled or cut off). For each:
//! no panic, and an error says where the problem is, inside the text.
//!
//! Unbounded time is guarded structurally (every loop and recursion is bounded by a named limit
//! in [`crate::limits`]) and checked by the `cargo fuzz` targets in `engine/fuzz/`, which time out
//! slow inputs; tests here assert no timings. Case counts are modest so `cargo test` stays fast.

use crate::spec::parse::Spec;
use crate::world::{Action, Schedule};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CONFORMANCE_SPECS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/conformance/postgres/specs"
);
const LESSONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../lessons");

fn files(dir: &str, keep: impl Fn(&Path) -> bool) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut pending = vec![PathBuf::from(dir)];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.map(|e| e.expect("directory entry").path()) {
            if entry.is_dir() {
                pending.push(entry);
            } else if keep(&entry) {
                let text = std::fs::read_to_string(&entry).expect("readable");
                out.push((entry, text));
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no input files under {dir}");
    out
}

fn spec_files() -> &'static [(PathBuf, String)] {
    static FILES: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        files(CONFORMANCE_SPECS, |p| {
            p.extension().is_some_and(|e| e == "spec")
        })
    })
}

fn lesson_files() -> &'static [(PathBuf, String)] {
    static FILES: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        files(LESSONS, |p| {
            p.file_name().is_some_and(|n| n == "lesson.toml")
        })
    })
}

/// Every SQL text of the conformance specs and the lessons: setup blocks, steps, statements
/// tasks send.
fn sql_corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(read_sql_corpus)
}

fn read_sql_corpus() -> Vec<String> {
    let mut out = Vec::new();
    for (_, text) in spec_files() {
        let spec = Spec::parse(text).expect("conformance spec parses");
        out.extend(spec.setup.iter().cloned());
        out.extend(spec.teardown.iter().cloned());
        for session in &spec.sessions {
            out.extend(session.setup.iter().cloned());
            out.extend(session.steps.iter().map(|s| s.sql.clone()));
        }
    }
    for (path, text) in lesson_files() {
        let lesson = crate::lesson::parse(&path.display().to_string(), text).expect("lesson");
        out.push(lesson.scenario.setup.clone());
        let mut ops: Vec<&crate::world::Op> = Vec::new();
        for task in &lesson.scenario.tasks {
            ops.extend(task.program.iter());
        }
        while let Some(op) = ops.pop() {
            match &op.action {
                Action::Query { sql, .. }
                | Action::QueryRow { sql, .. }
                | Action::Exec { sql, .. } => out.push(bound(sql)),
                Action::Defer { body } => ops.extend(body.iter()),
                _ => {}
            }
        }
        for fix in &lesson.fixes {
            out.extend(fix.sql.values().map(|sql| bound(sql)));
        }
    }
    out
}

/// A task's statement as the server receives it: the driver binds `$1`, `$2`, ... to values.
fn bound(sql: &str) -> String {
    let mut out = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('7');
        } else {
            out.push(c);
        }
    }
    out
}

/// Text that often matters to these grammars.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            "[[",
            "]]",
            "'",
            "\"",
            "\"\"\"",
            "'''",
            ";",
            ",",
            ".",
            "--",
            "/*",
            "*/",
            "#",
            "\n",
            "\r\n",
            "\t",
            " ",
            "::",
            "$1",
            "$",
            "=",
            "<>",
            "*",
            "-",
            "+",
            "||",
            "0",
            "-9223372036854775808",
            "99999999999999999999",
            "NULL",
            "SELECT",
            "FROM",
            "WHERE",
            "IN",
            "NOT",
            "AND",
            "OR",
            "FOR UPDATE",
            "NOWAIT",
            "SKIP LOCKED",
            "ORDER BY",
            "LIMIT",
            "INSERT INTO t VALUES",
            "ON CONFLICT",
            "DO UPDATE SET",
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
            "SAVEPOINT",
            "LOCK TABLE",
            "setup",
            "teardown",
            "session",
            "step",
            "permutation",
            "notices",
            "(*)",
            "op",
            "line",
            "program",
            "é",
            "∑",
            "\u{0}",
            "\u{feff}",
        ])
        .prop_map(str::to_string),
        any::<char>().prop_map(String::from),
    ]
}

/// One edit of a text, at character positions taken modulo its length.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
    Truncate(usize),
    Swap(usize, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), fragment()).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 1usize..80).prop_map(|(at, n)| Edit::Duplicate(at, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<usize>(), 1usize..30).prop_map(|(a, b, n)| Edit::Swap(a, b, n)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let len = chars.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match e {
            Edit::Delete(i, n) => {
                let start = at(*i);
                let end = (start + n).min(len);
                chars.drain(start..end);
            }
            Edit::Insert(i, s) => {
                let start = at(*i);
                chars.splice(start..start, s.chars());
            }
            Edit::Duplicate(i, n) => {
                let start = at(*i);
                let end = (start + n).min(len);
                let copy: Vec<char> = chars[start..end].to_vec();
                chars.splice(end..end, copy);
            }
            Edit::Truncate(i) => chars.truncate(at(*i)),
            Edit::Swap(a, b, n) => {
                let (a, b) = (at(*a).min(at(*b)), at(*a).max(at(*b)));
                let n = (*n).min(b - a).min(len - b);
                for k in 0..n {
                    chars.swap(a + k, b + k);
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// `(line, column)` is a place in `text`: an existing line, and a column at most one past its
/// end (1-based, in characters).
fn is_inside(text: &str, line: usize, column: usize) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    line >= 1 && line <= lines.len() && column >= 1 && column <= lines[line - 1].chars().count() + 1
}

fn check_sql(text: &str) -> Result<(), TestCaseError> {
    match crate::sql::parse(text) {
        Ok(statements) => {
            for s in statements {
                prop_assert!(text.contains(&s.text), "{:?} is not in {text:?}", s.text);
            }
        }
        Err(e) => {
            prop_assert!(!e.message.is_empty());
            prop_assert!(
                is_inside(text, e.line as usize, e.column as usize),
                "{e} is outside {text:?}"
            );
            prop_assert!(e.position as usize <= text.chars().count() + 1);
        }
    }
    Ok(())
}

fn check_spec(text: &str) -> Result<(), TestCaseError> {
    match Spec::parse(text) {
        Ok(spec) => {
            // What parses prints back as text that parses to the same spec.
            let printed = spec.to_string();
            prop_assert_eq!(Spec::parse(&printed), Ok(spec), "printed:\n{}", printed);
        }
        Err(e) => {
            prop_assert!(!e.message.is_empty());
            prop_assert!(
                is_inside(text, e.line as usize, e.column as usize),
                "{e} is outside the text"
            );
        }
    }
    Ok(())
}

/// Lesson errors name a place (`line L, column C`, checked to be inside the text) or the
/// part of the lesson that is wrong (a task, fix, pool or field), after the file name.
fn check_lesson(text: &str) -> Result<(), TestCaseError> {
    let Err(e) = crate::lesson::parse("mutated.toml", text) else {
        return Ok(());
    };
    prop_assert_eq!(&e.file, "mutated.toml");
    prop_assert!(!e.message.is_empty());
    if let Some(rest) = e.message.strip_prefix("line ") {
        let (line, rest) = rest.split_once(", column ").expect("line, column");
        let column = rest.split(':').next().expect("column");
        let (line, column) = (line.parse().expect("line"), column.parse().expect("column"));
        prop_assert!(is_inside(text, line, column), "{e}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sql_parse_of_any_text_never_panics_and_errors_point_inside(text in "\\PC{0,120}") {
        check_sql(&text)?;
    }

    #[test]
    fn sql_parse_of_token_soup_never_panics_and_errors_point_inside(
        parts in prop::collection::vec(fragment(), 0..40)
    ) {
        check_sql(&parts.join(" "))?;
    }

    #[test]
    fn schedules_parse_back_from_their_printed_form_and_errors_point_inside(
        text in "[AB+ #._x-]{0,40}|\\PC{0,40}"
    ) {
        match text.parse::<Schedule>() {
            Ok(s) => prop_assert_eq!(s.to_string().parse::<Schedule>(), Ok(s)),
            Err(e) => prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn sql_parse_of_edited_real_statements_never_panics_and_errors_point_inside(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let corpus = sql_corpus();
        let original: &String = pick.get(corpus);
        let text = apply(original, &edits);
        check_sql(&text)?;
    }

    #[test]
    fn spec_parse_of_edited_conformance_specs_never_panics_and_errors_point_inside(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let specs = spec_files();
        let original: &(PathBuf, String) = pick.get(specs);
        let text = apply(&original.1, &edits);
        check_spec(&text)?;
    }

    #[test]
    fn spec_parse_of_token_soup_never_panics_and_errors_point_inside(
        parts in prop::collection::vec(fragment(), 0..60)
    ) {
        check_spec(&parts.join(" "))?;
    }
}

proptest! {
    // Lesson validation builds the world for the scenario and every fix: costlier per case.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn lesson_parse_of_edited_lesson_files_never_panics_and_errors_say_where(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let lessons = lesson_files();
        let original: &(PathBuf, String) = pick.get(lessons);
        let text = apply(&original.1, &edits);
        check_lesson(&text)?;
    }
}

#[test]
fn the_real_inputs_parse_unedited() {
    for (path, text) in spec_files() {
        Spec::parse(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    for (path, text) in lesson_files() {
        crate::lesson::parse(&path.display().to_string(), text).unwrap_or_else(|e| panic!("{e}"));
    }
    for sql in sql_corpus() {
        crate::sql::parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}
