//! A line diff for showing what a fix changes: the longest common subsequence of lines, which
//! for code listings of a few dozen lines is instant and gives the diff a reader expects.

/// One line of a diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// In both texts.
    Same(&'a str),
    /// Only in the old text.
    Removed(&'a str),
    /// Only in the new text.
    Added(&'a str),
}

/// The lines of `old` and `new`, in order, each marked kept, removed or added. Removals come
/// before additions where both happen at one place.
pub fn lines<'a>(old: &'a str, new: &'a str) -> Vec<Line<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // common[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut common = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            common[i][j] = if a[i] == b[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(Line::Same(a[i]));
            i += 1;
            j += 1;
        } else if common[i + 1][j] >= common[i][j + 1] {
            out.push(Line::Removed(a[i]));
            i += 1;
        } else {
            out.push(Line::Added(b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| Line::Removed(l)));
    out.extend(b[j..].iter().map(|l| Line::Added(l)));
    out
}

/// A diff as a reader wants it: the changed lines with a few kept lines around them, and each
/// longer run of kept lines folded into a count, so a long file's change is seen at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown<'a> {
    /// A line shown.
    Line(Line<'a>),
    /// This many kept lines, not shown.
    Folded(usize),
}

/// [`lines`] with every run of kept lines further than `context` lines from a change folded.
pub fn around_changes<'a>(old: &'a str, new: &'a str, context: usize) -> Vec<Shown<'a>> {
    let all = lines(old, new);
    let changed: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, Line::Same(_)))
        .map(|(i, _)| i)
        .collect();
    let near = |i: usize| changed.iter().any(|&c| c.abs_diff(i) <= context);
    let mut out = Vec::new();
    let mut folded = 0;
    for (i, line) in all.into_iter().enumerate() {
        if matches!(line, Line::Same(_)) && !near(i) {
            folded += 1;
            continue;
        }
        if folded > 0 {
            out.push(Shown::Folded(folded));
            folded = 0;
        }
        out.push(Shown::Line(line));
    }
    if folded > 0 {
        out.push(Shown::Folded(folded));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_shows_as_removed_then_added_between_kept_lines() {
        let diff = lines("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(
            diff,
            vec![
                Line::Same("a"),
                Line::Removed("b"),
                Line::Added("B"),
                Line::Same("c")
            ]
        );
    }

    #[test]
    fn identical_texts_have_no_changes_and_empty_ones_all_changes() {
        assert!(lines("x\ny", "x\ny")
            .iter()
            .all(|l| matches!(l, Line::Same(_))));
        assert_eq!(lines("", "n"), vec![Line::Added("n")]);
        assert_eq!(lines("o", ""), vec![Line::Removed("o")]);
    }

    #[test]
    fn kept_lines_far_from_a_change_fold_into_a_count() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n";
        let new = "1\n2\n3\n4\n5\nsix\n7\n8\n";
        assert_eq!(
            around_changes(old, new, 1),
            vec![
                Shown::Folded(4),
                Shown::Line(Line::Same("5")),
                Shown::Line(Line::Removed("6")),
                Shown::Line(Line::Added("six")),
                Shown::Line(Line::Same("7")),
                Shown::Folded(1),
            ]
        );
    }

    #[test]
    fn a_text_without_changes_folds_whole() {
        assert_eq!(around_changes("a\nb", "a\nb", 2), vec![Shown::Folded(2)]);
    }
}
