//! "Did you mean" suggestions and short lists of valid names for hints.

/// Above this many candidates, only case-insensitive matches are suggested: edit distance
/// against every id of a 10,000-step runbook, for every bad reference, would be quadratic.
const MAX_FUZZY_CANDIDATES: usize = 2_000;

/// The candidate closest to `word`, if one is close enough to be a likely typo.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    if let Some(exact) = candidates.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(exact);
    }
    if candidates.len() > MAX_FUZZY_CANDIDATES || word.len() > 256 {
        return None;
    }
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| c.len().abs_diff(word.len()) <= limit)
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// "did you mean `x`? " or "" — the start of a hint.
pub(crate) fn did_you_mean_prefix<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> String {
    match did_you_mean(word, candidates) {
        Some(c) => format!("did you mean `{c}`? "),
        None => String::new(),
    }
}

/// `a, b, c` — or the first few and how many more.
pub(crate) fn list<'c>(names: impl IntoIterator<Item = &'c str>) -> String {
    const SHOWN: usize = 12;
    let names: Vec<&str> = names.into_iter().collect();
    if names.is_empty() {
        return "(none)".into();
    }
    if names.len() <= SHOWN {
        return names.join(", ");
    }
    format!(
        "{}, ... ({} more)",
        names[..SHOWN].join(", "),
        names.len() - SHOWN
    )
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["scale-backend", "restore-qdrant", "shift-traffic"];
        assert_eq!(did_you_mean("scale-backnd", names), Some("scale-backend"));
        assert_eq!(did_you_mean("shfit-traffic", names), Some("shift-traffic"));
        assert_eq!(
            did_you_mean("Restore-Qdrant", names),
            Some("restore-qdrant")
        );
        assert_eq!(did_you_mean("notify", names), None);
    }

    #[test]
    fn lists_are_short() {
        assert_eq!(list(["a", "b"]), "a, b");
        let many: Vec<String> = (0..14).map(|i| i.to_string()).collect();
        assert_eq!(
            list(many.iter().map(String::as_str)),
            "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (2 more)"
        );
    }
}
