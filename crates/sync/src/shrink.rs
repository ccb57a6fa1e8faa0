//! Full listings (directory users and groups, a group's members, tag membership)
//! replace what the cache knows, so an answer that is suddenly short — a broken
//! proxy, a bad page, a hostile endpoint returning `{"value": []}` — would wipe it.
//! A listing that shrinks sharply is therefore not applied blindly: it is read a
//! second time, and applied only if that read agrees (or with `refresh
//! --accept-shrink`); otherwise the previous set is kept and the refresh warns.
//!
//! Sharp means: it loses more than half of a listing that had at least
//! [`MIN_GUARDED`] entries. Real directories do not halve between two refreshes;
//! small listings (a 3-person VIP group) move by more than half in ordinary use.

/// Listings smaller than this are applied as they come.
pub const MIN_GUARDED: u64 = 10;

/// Whether going from `before` to `after` entries is a sharp shrink.
pub fn is_sharp(before: u64, after: u64) -> bool {
    before >= MIN_GUARDED && after.saturating_mul(2) < before
}

/// What happened to one listing that shrank sharply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shrink {
    /// Applied (confirmed by a second read or `--accept-shrink`).
    Applied,
    /// Not applied: the previous set is kept.
    Held,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_loss_of_more_than_half_of_a_real_listing_is_sharp() {
        assert!(is_sharp(2000, 0));
        assert!(is_sharp(10, 4));
        assert!(!is_sharp(10, 5));
        assert!(!is_sharp(9, 0), "small listings move freely");
        assert!(!is_sharp(2000, 1999));
        assert!(!is_sharp(0, 0));
        assert!(!is_sharp(5, 50));
    }
}
