//! What a member's password must be: 12 to 200 characters, not one of the 30,000 most common
//! passwords (zxcvbn's list, MIT licence: `data/common-passwords.LICENSE`, rebuilt by
//! `scripts/common-passwords.sh`), not such a password with digits or symbols around it, not
//! the email's name, and not a few characters repeated.

use std::collections::HashSet;
use std::sync::LazyLock;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 200;

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../data/common-passwords.txt").lines().collect());

/// Why a password is refused, in words for the person choosing it; None: it is accepted.
pub fn weakness(password: &str, email: &str) -> Option<&'static str> {
    if !(MIN_CHARS..=MAX_CHARS).contains(&password.chars().count()) {
        return Some("12 to 200 characters");
    }
    let lower = password.to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return Some("this is one of the most common passwords; choose another");
    }
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if core.chars().count() >= 4 && COMMON.contains(core) {
        return Some("this is a common password with digits or symbols added; choose another");
    }
    let name = email.split('@').next().unwrap_or("").to_lowercase();
    if name.chars().count() >= 4 && lower.contains(&name) {
        return Some("the password contains the email's name; choose another");
    }
    let distinct: HashSet<char> = lower.chars().collect();
    if distinct.len() <= 3 {
        return Some("the password repeats a few characters; choose another");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_short_and_guessable_passwords_are_refused() {
        let email = "ana.silva@example.com";
        assert!(weakness("password123", email).is_some(), "too short");
        assert!(weakness("password1234", email).is_some(), "common with digits");
        assert!(weakness("Qwerty123456", email).is_some(), "in the list");
        assert!(
            weakness("!!Football2024!!", email).is_some(),
            "common with digits and symbols"
        );
        assert!(weakness("ana.silva-is-here", email).is_some(), "the email's name");
        assert!(weakness("abababababab", email).is_some(), "repeats");
        assert!(weakness(&"x".repeat(201), email).is_some(), "too long");
        assert_eq!(weakness("correct horse battery staple", email), None);
        assert_eq!(weakness("agent password 1", email), None);
        assert_eq!(COMMON.len(), 30_000);
    }
}
