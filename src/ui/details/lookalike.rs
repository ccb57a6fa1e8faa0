//! Lookalike-domain warnings for the sender intelligence section: punycode,
//! characters outside ASCII (homoglyphs), and domains one or two edits away from a
//! domain the tenant receives mail at.

/// Why `domain` looks like an impersonation, if it does.
pub fn warning(domain: &str, own: &[String]) -> Option<String> {
    let d = domain.to_ascii_lowercase();
    if d.is_empty() {
        return None;
    }
    if d.split('.').any(|l| l.starts_with("xn--")) {
        return Some("punycode domain (may render as lookalike characters)".into());
    }
    if !d.is_ascii() {
        return Some("non-ASCII characters in the domain (homoglyphs?)".into());
    }
    own.iter()
        .filter(|o| **o != d)
        .find(|o| {
            let dist = edit_distance(&d, o);
            dist > 0 && dist <= 2
        })
        .map(|o| format!("looks like {o}"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 2 {
        return usize::MAX;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_punycode_homoglyphs_and_near_misses_only() {
        let own = vec!["contoso.com".to_string()];
        assert!(warning("xn--cntoso-9ya.com", &own).is_some());
        assert!(warning("cоntoso.com", &own).is_some()); // Cyrillic о
        assert_eq!(
            warning("contos0.com", &own).as_deref(),
            Some("looks like contoso.com")
        );
        assert_eq!(warning("contoso.com", &own), None);
        assert_eq!(warning("fabrikam.com", &own), None);
    }
}
