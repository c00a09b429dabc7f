//! Which permutations the picker lists: a spec without `permutation` lines can have up to
//! `PERMUTATIONS_MAX` interleavings, and one `<option>` each would hold the tab for seconds.
//! The picker lists the first [`PERMUTATION_OPTIONS_MAX`] (and the one followed, if it is past
//! them); a number field reaches any of them.

use lockstep::spec::parse::Permutation;

/// The most permutations listed as `<option>`s. Purely presentational: any permutation can
/// still be followed by its number.
pub const PERMUTATION_OPTIONS_MAX: usize = 200;

/// The most characters of an option's label: a permutation can have thousands of steps.
pub const PERMUTATION_LABEL_CHARS_MAX: usize = 160;

/// One listed permutation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PickerOption {
    /// Its index in the list of permutations (the `<option>`'s value).
    pub index: usize,
    /// `N. step step ...`, cut at [`PERMUTATION_LABEL_CHARS_MAX`] characters.
    pub label: String,
}

/// The options to list when `selected` is followed: the first [`PERMUTATION_OPTIONS_MAX`], and
/// `selected` after them when it is not among them.
pub fn options(permutations: &[Permutation], selected: Option<usize>) -> Vec<PickerOption> {
    let mut indexes: Vec<usize> = (0..permutations.len().min(PERMUTATION_OPTIONS_MAX)).collect();
    if let Some(i) = selected.filter(|i| *i >= PERMUTATION_OPTIONS_MAX && *i < permutations.len()) {
        indexes.push(i);
    }
    indexes
        .into_iter()
        .map(|index| PickerOption {
            index,
            label: label(index, &permutations[index]),
        })
        .collect()
}

/// `N. step step ...`, cut with `…` when long.
fn label(index: usize, permutation: &Permutation) -> String {
    let mut label = format!("{}.", index + 1);
    for entry in &permutation.entries {
        if label.chars().count() + 1 + entry.step.chars().count() > PERMUTATION_LABEL_CHARS_MAX {
            label.push_str(" …");
            break;
        }
        label.push(' ');
        label.push_str(&entry.step);
    }
    label
}

/// The permutation a 1-based number typed in the picker names, if there is one.
pub fn by_number(text: &str, count: usize) -> Option<usize> {
    let n: usize = text.trim().parse().ok()?;
    (1..=count).contains(&n).then(|| n - 1)
}

/// The count as the picker says it: how many there are, and how many are listed.
pub fn count_text(count: usize) -> String {
    let noun = if count == 1 {
        "permutation"
    } else {
        "permutations"
    };
    if count > PERMUTATION_OPTIONS_MAX {
        format!(
            "{count} {noun}; the first {PERMUTATION_OPTIONS_MAX} are listed, type a number for any other"
        )
    } else {
        format!("{count} {noun}")
    }
}
