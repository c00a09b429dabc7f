//! Putting an editor's cursor where a parser says the problem is: the sandbox's spec and the
//! studio's lesson file both report a 1-based line and column, in characters as editors count
//! them, and a text area takes an offset in characters.

use web_sys::HtmlTextAreaElement;

/// The character offset of a 1-based `line` and `column` in `text`: a column past the line's
/// end is its end, a line past the text's end is the text's end.
pub fn offset(text: &str, line: usize, column: usize) -> u32 {
    let mut at = 0usize;
    for (i, l) in text.split('\n').enumerate() {
        if i + 1 == line {
            return (at + column.saturating_sub(1).min(l.chars().count())) as u32;
        }
        at += l.chars().count() + 1;
    }
    at.saturating_sub(1) as u32
}

/// Focuses `area` with the cursor at `line` and `column` of `text`.
pub fn put(area: &HtmlTextAreaElement, text: &str, line: usize, column: usize) {
    let at = offset(text, line, column);
    let _ = area.focus();
    let _ = area.set_selection_range(at, at);
}

#[cfg(test)]
mod tests {
    use super::offset;

    #[test]
    fn lines_and_columns_count_characters() {
        let text = "ab\ncdé\nf";
        assert_eq!(offset(text, 1, 1), 0);
        assert_eq!(offset(text, 2, 3), 5);
        // é is one character, as an editor counts it.
        assert_eq!(offset(text, 3, 1), 7);
        assert_eq!(offset(text, 2, 99), 6, "past the line's end: its end");
        assert_eq!(offset(text, 9, 1), 8, "past the text's end: its end");
    }
}
