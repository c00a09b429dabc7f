//! The pieces of isolationtester's output (`expected/NAME.out`): result tables printed the way
//! libpq's `PQprint()` prints them (aligned, `|` separator, row-count footer), and the fixed
//! lines around steps and permutations.
//!
//! Every function returns text ending in a newline, so a run's output is their concatenation.

use super::parse::Permutation;

/// A result set printed as libpq `PQprint()` does for isolationtester: header, separator,
/// rows, `(N rows)` footer and an empty line. A column is right-aligned when every non-empty
/// value looks numeric (see [`looks_numeric`]), otherwise left-aligned with trailing spaces.
/// NULL prints as an empty cell. A result with no columns prints nothing at all.
///
/// Widths count characters: libpq measures and pads in bytes (the C printf `%-*s` it uses
/// counts bytes too), which leaves a column with `é` ragged in a terminal. For ASCII, which
/// every upstream expected file is, the two agree. (Characters are not display columns: a wide
/// CJK character still takes two; no crate for that is in the lock file.)
pub fn format_table(columns: &[String], rows: &[Vec<Option<String>>]) -> String {
    if columns.is_empty() {
        return String::new();
    }
    let mut widths: Vec<usize> = columns.iter().map(|c| width(c)).collect();
    let mut numeric = vec![true; columns.len()];
    for row in rows {
        for (index, cell) in row.iter().enumerate().take(columns.len()) {
            let value = cell.as_deref().unwrap_or("");
            widths[index] = widths[index].max(width(value));
            if !value.is_empty() && !looks_numeric(value) {
                numeric[index] = false;
            }
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        for (index, cell) in cells.enumerate() {
            if index > 0 {
                out.push('|');
            }
            pad(out, cell, widths[index], numeric[index]);
        }
        out.push('\n');
    };
    line(&mut out, &mut columns.iter().map(String::as_str));
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&dashes.join("+"));
    out.push('\n');
    for row in rows {
        let mut cells =
            (0..columns.len()).map(|i| row.get(i).and_then(|c| c.as_deref()).unwrap_or(""));
        line(&mut out, &mut cells);
    }
    out.push_str(&row_count_footer(rows.len()));
    out.push('\n');
    out
}

/// `(1 row)` or `(N rows)`, with its newline.
fn row_count_footer(count: usize) -> String {
    if count == 1 {
        "(1 row)\n".to_string()
    } else {
        format!("({count} rows)\n")
    }
}

/// A cell's width in a terminal, counted in characters.
fn width(cell: &str) -> usize {
    cell.chars().count()
}

fn pad(out: &mut String, cell: &str, column_width: usize, right_aligned: bool) {
    let fill = column_width.saturating_sub(width(cell));
    if right_aligned {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(cell);
    } else {
        out.push_str(cell);
        out.extend(std::iter::repeat_n(' ', fill));
    }
}

/// libpq's test for a numeric-looking value (`fe-print.c`): only `0-9 . - e E` and spaces,
/// ending in a digit and not starting with `e`/`E`. It looks at the text, not the SQL type,
/// so `'1'::text` is right-aligned and a `numeric` NaN is not.
pub fn looks_numeric(value: &str) -> bool {
    let allowed = value
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'e' | b'E' | b' '));
    let ends_in_digit = value.bytes().last().is_some_and(|b| b.is_ascii_digit());
    let starts_with_e = value.starts_with(['e', 'E']);
    allowed && ends_in_digit && !starts_with_e
}

/// The first line of the output: `Parsed test spec with N sessions` (always plural).
pub fn spec_header(session_count: usize) -> String {
    format!("Parsed test spec with {session_count} sessions\n")
}

/// The empty line and `starting permutation: a b c` line that open a permutation; markers
/// are not printed.
pub fn permutation_header(permutation: &Permutation) -> String {
    let names: Vec<&str> = permutation
        .entries
        .iter()
        .map(|e| e.step.as_str())
        .collect();
    format!("\nstarting permutation: {}\n", names.join(" "))
}

/// `step NAME: SQL` for a step that finished without being seen waiting.
pub fn step_line(name: &str, sql: &str) -> String {
    format!("step {name}: {sql}\n")
}

/// `step NAME: SQL <waiting ...>` for a step seen waiting (or forced by `(*)`, or held back
/// by a marker).
pub fn step_waiting_line(name: &str, sql: &str) -> String {
    format!("step {name}: {sql} <waiting ...>\n")
}

/// `step NAME: <... completed>`, the later report of a step printed as waiting.
pub fn step_completed_line(name: &str) -> String {
    format!("step {name}: <... completed>\n")
}

/// `ERROR:  message` (two spaces, as libpq formats the severity); DETAIL, HINT and CONTEXT
/// are never printed by the tester.
pub fn error_line(message: &str) -> String {
    format!("ERROR:  {message}\n")
}

/// `isolationtester: canceling step NAME after N seconds`, printed when the tester cancels a
/// step that waited longer than its timeout.
pub fn cancel_line(name: &str, seconds: u64) -> String {
    format!("isolationtester: canceling step {name} after {seconds} seconds\n")
}

/// A NOTICE or WARNING as the tester prints it: `s1: NOTICE:  message`.
pub fn notice_line(session: &str, severity: &str, message: &str) -> String {
    format!("{session}: {severity}:  {message}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(columns: &[&str], rows: &[&[Option<&str>]]) -> String {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let rows: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|r| r.iter().map(|c| c.map(str::to_string)).collect())
            .collect();
        format_table(&columns, &rows)
    }

    #[test]
    fn text_columns_are_left_aligned_and_padded_with_trailing_spaces() {
        // From expected/timeouts.out.
        assert_eq!(
            table(
                &["accountid", "balance"],
                &[
                    &[Some("checking"), Some("600")],
                    &[Some("savings"), Some("600")]
                ]
            ),
            "accountid|balance\n---------+-------\nchecking |    600\nsavings  |    600\n(2 rows)\n\n"
        );
    }

    #[test]
    fn a_single_row_says_one_row_and_short_text_is_padded_to_the_header() {
        // From expected/skip-locked.out.
        assert_eq!(
            table(
                &["id", "data", "status"],
                &[&[Some("1"), Some("foo"), Some("NEW")]]
            ),
            "id|data|status\n--+----+------\n 1|foo |NEW   \n(1 row)\n\n"
        );
    }

    #[test]
    fn a_void_result_is_a_cell_of_spaces_under_a_right_aligned_header() {
        // From expected/lock-update-delete.out (pg_advisory_lock returns void).
        assert_eq!(
            table(&["pg_advisory_lock"], &[&[Some("")]]),
            "pg_advisory_lock\n----------------\n                \n(1 row)\n\n"
        );
    }

    #[test]
    fn booleans_are_left_aligned_with_trailing_spaces() {
        // From expected/lock-committed-update.out.
        assert_eq!(
            table(&["pg_advisory_unlock_all"], &[&[Some("")]]),
            "pg_advisory_unlock_all\n----------------------\n                      \n(1 row)\n\n"
        );
        assert_eq!(
            table(&["pg_advisory_unlock"], &[&[Some("t")]]),
            "pg_advisory_unlock\n------------------\nt                 \n(1 row)\n\n"
        );
    }

    #[test]
    fn no_rows_prints_the_header_and_zero_rows() {
        // From expected/tuplelock-upgrade-no-deadlock.out.
        assert_eq!(
            table(&["id", "value"], &[]),
            "id|value\n--+-----\n(0 rows)\n\n"
        );
    }

    #[test]
    fn nulls_print_as_empty_cells_and_do_not_make_a_column_textual() {
        assert_eq!(
            table(&["a", "b"], &[&[None, Some("x")], &[Some("10"), None]]),
            " a|b\n--+-\n  |x\n10| \n(2 rows)\n\n"
        );
    }

    #[test]
    fn zero_columns_print_nothing() {
        assert_eq!(table(&[], &[&[], &[]]), "");
    }

    #[test]
    fn numeric_looking_follows_libpq() {
        for value in ["1", "-3", "1.5", "1e5", "600", "1 2"] {
            assert!(looks_numeric(value), "{value}");
        }
        for value in ["", "e1", "E1", "1.", "NaN", "t", "1a", "(1,2)"] {
            assert!(!looks_numeric(value), "{value}");
        }
    }

    /// A table cut out of an expected file: header, cells, and the text as printed.
    type PrintedTable = (Vec<String>, Vec<Vec<Option<String>>>, String);

    /// Cuts every result table out of an expected file.
    fn tables_in(text: &str) -> Vec<PrintedTable> {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut found = Vec::new();
        for start in 0..lines.len().saturating_sub(1) {
            let separator = lines[start + 1].trim_end_matches('\n');
            if separator.is_empty() || !separator.chars().all(|c| c == '-' || c == '+') {
                continue;
            }
            let split = |line: &str| -> Vec<String> {
                line.trim_end_matches('\n')
                    .split('|')
                    .map(|c| c.trim().to_string())
                    .collect()
            };
            let columns = split(lines[start]);
            let mut rows = Vec::new();
            let mut end = start + 2;
            while !lines[end].starts_with('(') {
                rows.push(split(lines[end]).into_iter().map(Some).collect());
                end += 1;
            }
            // The footer and the empty line after it belong to the table.
            let printed: String = lines[start..end + 2].concat();
            found.push((columns, rows, printed));
        }
        found
    }

    #[test]
    fn every_table_in_the_expected_files_is_reprinted_byte_for_byte() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/conformance/postgres/expected"
        );
        let mut count = 0;
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("expected dir")
            .map(|e| e.expect("entry").path())
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("expected file");
            for (columns, rows, printed) in tables_in(&text) {
                assert_eq!(format_table(&columns, &rows), printed, "{}", path.display());
                count += 1;
            }
        }
        assert!(count >= 629, "only {count} tables found");
    }

    #[test]
    fn step_and_error_lines_match_the_expected_files() {
        assert_eq!(spec_header(1), "Parsed test spec with 1 sessions\n");
        assert_eq!(
            step_waiting_line("s1a2", "LOCK TABLE a2;"),
            "step s1a2: LOCK TABLE a2; <waiting ...>\n"
        );
        assert_eq!(step_completed_line("s8a1"), "step s8a1: <... completed>\n");
        assert_eq!(
            error_line("deadlock detected"),
            "ERROR:  deadlock detected\n"
        );
        let spec = crate::spec::parse::Spec::parse(
            "session s1 step a { x } step b { y } permutation a(*) b",
        )
        .expect("parses");
        assert_eq!(
            permutation_header(&spec.permutations[0]),
            "\nstarting permutation: a b\n"
        );
    }
}
