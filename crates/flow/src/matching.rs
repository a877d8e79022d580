//! Understanding typed text: matching it to an option, and checking a Collect Input answer.

use crate::document::{Choice, InputKind};
use serde_json::Value;

/// Longest customer text the runtime looks at; longer text is cut before matching.
pub const MAX_INPUT_CHARS: usize = 4_000;

/// Lower case, letters and digits only, single spaces.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().take(MAX_INPUT_CHARS) {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// An exact (normalised) match on an option's id, label or synonyms, or its number ("2").
pub fn exact_option(text: &str, choices: &[Choice]) -> Option<usize> {
    let t = normalize(text);
    if t.is_empty() {
        return None;
    }
    if let Ok(n) = t.parse::<usize>() {
        if n >= 1 && n <= choices.len() {
            return Some(n - 1);
        }
    }
    choices
        .iter()
        .position(|c| normalize(&c.label) == t || normalize(&c.id) == t || c.synonyms.iter().any(|s| normalize(s) == t))
}

/// A fuzzy match: exact first, then a label or synonym contained in the text as whole words,
/// then a small spelling difference. Only a single clear winner counts.
pub fn fuzzy_option(text: &str, choices: &[Choice]) -> Option<usize> {
    if let Some(i) = exact_option(text, choices) {
        return Some(i);
    }
    let t = normalize(text);
    if t.is_empty() {
        return None;
    }
    let padded = format!(" {t} ");
    let contained: Vec<usize> = choices
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            std::iter::once(&c.label)
                .chain(c.synonyms.iter())
                .map(|s| normalize(s))
                .any(|s| !s.is_empty() && padded.contains(&format!(" {s} ")))
        })
        .map(|(i, _)| i)
        .collect();
    if contained.len() == 1 {
        return Some(contained[0]);
    }
    if !contained.is_empty() {
        return None;
    }
    let mut best: Option<(usize, usize)> = None;
    let mut tie = false;
    for (i, c) in choices.iter().enumerate() {
        for s in std::iter::once(&c.label).chain(c.synonyms.iter()) {
            let s = normalize(s);
            let allowed = match s.chars().count() {
                0..=3 => 0,
                4..=7 => 1,
                _ => 2,
            };
            if allowed == 0 {
                continue;
            }
            let d = edit_distance(&t, &s);
            if d <= allowed {
                match best {
                    Some((_, bd)) if d > bd => {}
                    Some((bi, bd)) if d == bd && bi != i => tie = true,
                    Some((bi, _)) if bi == i => {}
                    _ => {
                        best = Some((i, d));
                        tie = false;
                    }
                }
            }
        }
    }
    if tie {
        None
    } else {
        best.map(|(i, _)| i)
    }
}

/// Levenshtein distance over characters, for short strings.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().take(64).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A Collect Input answer that does not validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidInput;

/// Checks a Collect Input answer. `Ok` holds the value to store (normalised: trimmed text,
/// lower-case email, digits-only phone with `+`, a number, an ISO date). `pattern` (for
/// `regex`) must match the whole answer: compile it anchored, as [`crate::Flow::whole_regex`].
pub fn validate_input(kind: InputKind, text: &str, pattern: Option<&regex::Regex>) -> Result<Value, InvalidInput> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > MAX_INPUT_CHARS {
        return Err(InvalidInput);
    }
    match kind {
        InputKind::Text => Ok(Value::String(t.to_string())),
        InputKind::Name => {
            let ok = t.chars().count() <= 100
                && t.chars().any(char::is_alphabetic)
                && t.chars()
                    .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.' | '’'));
            if ok {
                Ok(Value::String(t.split_whitespace().collect::<Vec<_>>().join(" ")))
            } else {
                Err(InvalidInput)
            }
        }
        InputKind::Email => {
            if is_email(t) {
                Ok(Value::String(t.to_lowercase()))
            } else {
                Err(InvalidInput)
            }
        }
        InputKind::Phone => {
            let ok_chars = t
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
            let plus_ok = t.rfind('+').is_none_or(|i| i == 0);
            let digits: String = t.chars().filter(char::is_ascii_digit).collect();
            if ok_chars && plus_ok && (7..=15).contains(&digits.len()) {
                let prefix = if t.starts_with('+') { "+" } else { "" };
                Ok(Value::String(format!("{prefix}{digits}")))
            } else {
                Err(InvalidInput)
            }
        }
        InputKind::Number => parse_number(t).map(number_value).ok_or(InvalidInput),
        InputKind::Date => parse_date(t).map(Value::String).ok_or(InvalidInput),
        InputKind::Regex => match pattern {
            Some(re) if re.is_match(t) => Ok(Value::String(t.to_string())),
            _ => Err(InvalidInput),
        },
    }
}

fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// A number as people type it: `42`, `-3.5`, `1,299.00`, `€ 12`.
pub fn parse_number(text: &str) -> Option<f64> {
    let cleaned: String = text
        .trim()
        .trim_start_matches(['$', '€', '£'])
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    let n: f64 = cleaned.parse().ok()?;
    n.is_finite().then_some(n)
}

/// A number from a variable's value (numbers, or text that reads as one).
pub fn value_as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s),
        Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn is_email(t: &str) -> bool {
    if t.len() > 254 || t.contains(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = t.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        && domain.rsplit('.').next().is_some_and(|tld| tld.chars().count() >= 2)
}

/// Reads `2026-03-14`, `14/03/2026` or `14.03.2026` (day first) and returns `2026-03-14`.
pub fn parse_date(t: &str) -> Option<String> {
    let parts: Vec<&str> = t.split(['-', '/', '.']).map(str::trim).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let nums: Vec<u32> = parts.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let (y, m, d) = if parts[0].len() == 4 {
        (nums[0], nums[1], nums[2])
    } else if parts[2].len() == 4 {
        (nums[2], nums[1], nums[0])
    } else {
        return None;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=days).contains(&d) || !(1000..=9999).contains(&y) {
        return None;
    }
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn choices() -> Vec<Choice> {
        let c = |id: &str, label: &str, syn: &[&str]| Choice {
            id: id.into(),
            label: label.into(),
            synonyms: syn.iter().map(|s| s.to_string()).collect(),
        };
        vec![
            c("billing", "Billing question", &["invoice", "charge"]),
            c("refund", "Refund", &["money back"]),
            c("other", "Something else", &[]),
        ]
    }

    #[test]
    fn option_matching() {
        let c = choices();
        assert_eq!(exact_option("refund!", &c), Some(1));
        assert_eq!(exact_option("2", &c), Some(1));
        assert_eq!(exact_option("Money back", &c), Some(1));
        assert_eq!(exact_option("I want my money back", &c), None);
        assert_eq!(fuzzy_option("I want my money back", &c), Some(1));
        assert_eq!(fuzzy_option("refnd", &c), Some(1));
        assert_eq!(fuzzy_option("there is a wrong charge on my invoice", &c), Some(0));
        assert_eq!(
            fuzzy_option("refund the invoice", &c),
            None,
            "two options named: ambiguous"
        );
        assert_eq!(fuzzy_option("hello", &c), None);
    }

    #[test]
    fn input_validators() {
        use InputKind::*;
        assert_eq!(
            validate_input(Email, " Ana@Example.COM ", None),
            Ok(json!("ana@example.com"))
        );
        assert!(validate_input(Email, "ana@example", None).is_err());
        assert!(validate_input(Email, "not an email", None).is_err());
        assert_eq!(
            validate_input(Phone, "+44 (20) 7946-0958", None),
            Ok(json!("+442079460958"))
        );
        assert!(validate_input(Phone, "12", None).is_err());
        assert!(validate_input(Phone, "12+345678", None).is_err());
        assert_eq!(validate_input(Number, "1,299", None), Ok(json!(1299)));
        assert_eq!(validate_input(Number, "-3.5", None), Ok(json!(-3.5)));
        assert!(validate_input(Number, "twelve", None).is_err());
        assert_eq!(validate_input(Date, "14/03/2026", None), Ok(json!("2026-03-14")));
        assert_eq!(validate_input(Date, "2024-02-29", None), Ok(json!("2024-02-29")));
        assert!(validate_input(Date, "2025-02-29", None).is_err());
        assert_eq!(validate_input(Name, "  Ana   López ", None), Ok(json!("Ana López")));
        assert!(validate_input(Name, "R2D2", None).is_err());
        let re = regex::Regex::new(r"^(?:[A-Z]{2}\d{4}|\d{3}|\d{3}-\d{4})$").unwrap();
        assert!(
            validate_input(Regex, "555-1234", Some(&re)).is_ok(),
            "a later alternative matches the whole answer"
        );
        assert!(validate_input(Regex, "AB1234", Some(&re)).is_ok());
        assert!(validate_input(Regex, "xAB1234", Some(&re)).is_err());
        assert!(validate_input(Text, "   ", None).is_err());
    }
}
