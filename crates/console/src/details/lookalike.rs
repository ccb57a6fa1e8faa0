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
        .find(|o| (1..=2).contains(&strsim::levenshtein(&d, o)))
        .map(|o| format!("looks like {o}"))
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
        // Two edits away is a lookalike; three is a different domain.
        assert_eq!(
            warning("conto.com", &own).as_deref(),
            Some("looks like contoso.com")
        );
        assert_eq!(warning("cont.com", &own), None);
    }
}
