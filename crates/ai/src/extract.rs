//! Typed fields from free text, offline: email, phone, order id, name, number, date, the
//! whole text, or a custom regular expression. Values are normalised as Collect Input stores
//! them (lower-case email, digits-only phone with `+`, numbers as numbers, ISO dates).

use baton_flow::document::{ExtractField, ExtractKind, InputKind};
use baton_flow::matching::{parse_date, validate_input};
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn re(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

static EMAIL: OnceLock<Option<Regex>> = OnceLock::new();
static PHONE: OnceLock<Option<Regex>> = OnceLock::new();
static ORDER_CUE: OnceLock<Option<Regex>> = OnceLock::new();
static ORDER_SHAPE: OnceLock<Option<Regex>> = OnceLock::new();
static NUMBER: OnceLock<Option<Regex>> = OnceLock::new();
static DATE_NUMERIC: OnceLock<Option<Regex>> = OnceLock::new();
static DATE_MDY: OnceLock<Option<Regex>> = OnceLock::new();
static DATE_DMY: OnceLock<Option<Regex>> = OnceLock::new();

/// Extracts every field it can; fields not found are left out.
pub fn extract(text: &str, fields: &[ExtractField], today: Option<&str>) -> BTreeMap<String, Value> {
    let text: String = text.chars().take(crate::text::MAX_TEXT_CHARS).collect();
    let mut out = BTreeMap::new();
    for f in fields {
        if let Some(v) = extract_one(&text, f.kind, f.pattern.as_deref(), today) {
            out.insert(f.variable.clone(), v);
        }
    }
    out
}

/// One field of one kind.
pub fn extract_one(text: &str, kind: ExtractKind, pattern: Option<&str>, today: Option<&str>) -> Option<Value> {
    match kind {
        ExtractKind::Email => email(text),
        ExtractKind::Phone => phone(text),
        ExtractKind::OrderId => order_id(text),
        ExtractKind::Name => name(text).map(Value::String),
        ExtractKind::Number => number(text),
        ExtractKind::Date => date(text, today).map(Value::String),
        ExtractKind::Text => {
            let t = text.trim();
            (!t.is_empty()).then(|| Value::String(t.to_string()))
        }
        ExtractKind::Regex => {
            let re = baton_flow::flow::compile_pattern(pattern?).ok()?;
            let caps = re.captures(text)?;
            let m = caps.get(1).or_else(|| caps.get(0))?;
            Some(Value::String(m.as_str().to_string()))
        }
    }
}

fn email(text: &str) -> Option<Value> {
    let r = re(
        &EMAIL,
        r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    )?;
    r.find_iter(text).find_map(|m| {
        let s = m.as_str().trim_end_matches('.');
        validate_input(InputKind::Email, s, None).ok()
    })
}

fn phone(text: &str) -> Option<Value> {
    let r = re(&PHONE, r"(?:\+|\b)\d[\d ()\-.]{5,18}\d\b")?;
    r.find_iter(text).find_map(|m| {
        let s = m.as_str();
        // Not a date (2024-03-05) or a decimal number.
        if parse_date(s).is_some() || s.chars().filter(|c| *c == '.').count() == 1 && !s.contains(' ') {
            return None;
        }
        validate_input(InputKind::Phone, s, None).ok()
    })
}

fn order_id(text: &str) -> Option<Value> {
    let cue = re(
        &ORDER_CUE,
        r"(?i)\border\s*(?:id|number|no\.?|num|#|code|ref(?:erence)?)?\s*(?:is|was|:|=)?\s*#?\s*([A-Z0-9][A-Z0-9\-]{2,24})",
    )?;
    for caps in cue.captures_iter(text) {
        if let Some(m) = caps.get(1) {
            let s = m.as_str().trim_end_matches('-');
            if s.chars().any(|c| c.is_ascii_digit()) {
                return Some(Value::String(s.to_string()));
            }
        }
    }
    let shape = re(
        &ORDER_SHAPE,
        r"(?i)(?:#\s?([A-Z0-9\-]*\d[A-Z0-9\-]*)|\b([A-Z]{1,5}-?\d{3,}[A-Z0-9]*)\b|\b(\d{5,12})\b)",
    )?;
    for caps in shape.captures_iter(text) {
        let Some(m) = caps.get(1).or_else(|| caps.get(2)).or_else(|| caps.get(3)) else {
            continue;
        };
        // A long digit run that reads as a phone number is not an order id.
        if caps.get(3).is_some() && m.as_str().len() >= 10 {
            continue;
        }
        return Some(Value::String(m.as_str().to_string()));
    }
    None
}

const NAME_CUES: &[&str] = &[
    "my name is ",
    "my name's ",
    "name is ",
    "name: ",
    "call me ",
    "i am ",
    "i'm ",
    "im ",
    "this is ",
    "it's ",
    "it is ",
];

/// Words that follow "I am"/"this is" but are not names.
const NOT_NAMES: &[&str] = &[
    "a",
    "an",
    "the",
    "not",
    "very",
    "so",
    "still",
    "just",
    "trying",
    "having",
    "looking",
    "calling",
    "writing",
    "here",
    "waiting",
    "unable",
    "able",
    "sorry",
    "happy",
    "sad",
    "angry",
    "upset",
    "fine",
    "good",
    "ok",
    "okay",
    "from",
    "in",
    "at",
    "on",
    "with",
    "about",
    "going",
    "getting",
    "really",
    "also",
    "your",
    "my",
    "his",
    "her",
    "their",
    "our",
    "new",
    "interested",
    "wondering",
    "done",
    "hoping",
    "confused",
    "frustrated",
    "annoyed",
    "tired",
    "concerned",
    "worried",
    "glad",
    "calling",
    "contacting",
    "reaching",
    "asking",
    "curious",
    "unhappy",
    "customer",
];

fn name(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    for cue in NAME_CUES {
        let mut from = 0;
        while let Some(at) = lower[from..].find(cue) {
            let start = from + at;
            from = start + cue.len();
            // the cue must start a word
            if start > 0 && lower[..start].chars().last().is_some_and(char::is_alphanumeric) {
                continue;
            }
            let strong = cue.contains("name") || *cue == "call me ";
            // Lower-casing may change byte lengths (non-ASCII): skip what does not line up.
            let Some(rest) = text.get(start + cue.len()..) else {
                continue;
            };
            let mut parts = Vec::new();
            for w in rest.split_whitespace().take(3) {
                let clean = w.trim_matches(|c: char| !c.is_alphabetic() && c != '-' && c != '\'');
                if clean.is_empty() || !clean.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'') {
                    break;
                }
                let lw = clean.to_lowercase();
                if NOT_NAMES.contains(&lw.as_str()) || crate::text::is_stop(&lw) || lw == "and" {
                    break;
                }
                let capital = clean.chars().next().is_some_and(char::is_uppercase);
                if !capital && !strong {
                    break;
                }
                parts.push(title_case(clean));
                if w.ends_with([',', '.', '!', '?', ';']) {
                    break;
                }
            }
            if !parts.is_empty() {
                return Some(parts.join(" "));
            }
        }
    }
    // The whole message is a name: one to three capitalised words.
    let t = text.trim().trim_end_matches(['.', '!']);
    let ws: Vec<&str> = t.split_whitespace().collect();
    if (1..=3).contains(&ws.len())
        && ws.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'')
                && !crate::text::is_stop(&w.to_lowercase())
                && !NOT_NAMES.contains(&w.to_lowercase().as_str())
        })
    {
        return Some(ws.join(" "));
    }
    None
}

fn title_case(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

const NUMBER_WORDS: &[(&str, i64)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("fifteen", 15),
    ("twenty", 20),
    ("thirty", 30),
    ("fifty", 50),
    ("hundred", 100),
];

fn number(text: &str) -> Option<Value> {
    let r = re(
        &NUMBER,
        r"(?:^|[\s(\$€£:#=])(-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?)\b",
    )?;
    if let Some(m) = r.captures(text).and_then(|c| c.get(1)) {
        let n: f64 = m.as_str().replace(',', "").parse().ok()?;
        return if n.fract() == 0.0 && n.abs() < 9.0e15 {
            Some(Value::from(n as i64))
        } else {
            serde_json::Number::from_f64(n).map(Value::Number)
        };
    }
    let words = crate::text::words(text);
    words
        .iter()
        .find_map(|w| NUMBER_WORDS.iter().find(|(n, _)| n == w).map(|(_, v)| Value::from(*v)))
}

fn month(word: &str) -> Option<u32> {
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = word.to_lowercase();
    if w.len() < 3 {
        return None;
    }
    FULL.iter().position(|f| f.starts_with(&w)).map(|i| i as u32 + 1)
}

/// A date in the text as `YYYY-MM-DD`: ISO, `DD/MM/YYYY`, `March 3, 2024`, `3rd of March
/// 2024`; `today`, `tomorrow`, `yesterday` and dates without a year need `today`.
fn date(text: &str, today: Option<&str>) -> Option<String> {
    let numeric = re(
        &DATE_NUMERIC,
        r"\b(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})\b",
    )?;
    if let Some(d) = numeric.find_iter(text).find_map(|m| parse_date(m.as_str())) {
        return Some(d);
    }
    let this_year = today.and_then(|t| t.get(0..4)).and_then(|y| y.parse::<i32>().ok());
    let mdy = re(
        &DATE_MDY,
        r"(?i)\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b",
    )?;
    for c in mdy.captures_iter(text) {
        let (Some(m), Some(d)) = (c.get(1).and_then(|m| month(m.as_str())), c.get(2)) else {
            continue;
        };
        let year = c.get(3).and_then(|y| y.as_str().parse::<i32>().ok()).or(this_year);
        if let (Some(y), Ok(d)) = (year, d.as_str().parse::<u32>()) {
            if let Some(s) = parse_date(&format!("{y:04}-{m:02}-{d:02}")) {
                return Some(s);
            }
        }
    }
    let dmy = re(
        &DATE_DMY,
        r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})\.?(?:,?\s+(\d{4}))?\b",
    )?;
    for c in dmy.captures_iter(text) {
        let (Some(d), Some(m)) = (c.get(1), c.get(2).and_then(|m| month(m.as_str()))) else {
            continue;
        };
        let year = c.get(3).and_then(|y| y.as_str().parse::<i32>().ok()).or(this_year);
        if let (Some(y), Ok(d)) = (year, d.as_str().parse::<u32>()) {
            if let Some(s) = parse_date(&format!("{y:04}-{m:02}-{d:02}")) {
                return Some(s);
            }
        }
    }
    let base = today.and_then(parse_date)?;
    let words = crate::text::words(text);
    let offset = if words.iter().any(|w| w == "today") {
        0
    } else if words.iter().any(|w| w == "tomorrow") {
        1
    } else if words.iter().any(|w| w == "yesterday") {
        -1
    } else {
        return None;
    };
    shift_days(&base, offset)
}

/// `YYYY-MM-DD` moved by `days` (−1, 0 or 1 is all that is needed).
fn shift_days(iso: &str, days: i32) -> Option<String> {
    let y: i32 = iso.get(0..4)?.parse().ok()?;
    let m: u32 = iso.get(5..7)?.parse().ok()?;
    let d: u32 = iso.get(8..10)?.parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let len = |m: u32| match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if leap => 29,
        _ => 28,
    };
    let (mut y, mut m, mut d) = (y, m, d as i32 + days);
    if d < 1 {
        m = if m == 1 { 12 } else { m - 1 };
        if m == 12 {
            y -= 1;
        }
        d = len(m);
    } else if d > len(m) {
        d = 1;
        m = if m == 12 { 1 } else { m + 1 };
        if m == 1 {
            y += 1;
        }
    }
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(kind: ExtractKind, text: &str) -> Option<Value> {
        extract_one(text, kind, None, Some("2026-03-31"))
    }

    #[test]
    fn emails_and_phones() {
        assert_eq!(
            one(ExtractKind::Email, "mail me at Ana.L@Example.co.uk."),
            Some(json!("ana.l@example.co.uk"))
        );
        assert_eq!(
            one(ExtractKind::Phone, "call +1 (555) 123-4567 today"),
            Some(json!("+15551234567"))
        );
        assert_eq!(one(ExtractKind::Phone, "on 2024-03-05 I paid 12.50"), None);
    }

    #[test]
    fn order_ids() {
        assert_eq!(
            one(ExtractKind::OrderId, "my order number is AB-12345, thanks"),
            Some(json!("AB-12345"))
        );
        assert_eq!(
            one(ExtractKind::OrderId, "order #98765 hasn't arrived"),
            Some(json!("98765"))
        );
        assert_eq!(
            one(ExtractKind::OrderId, "it's ORD7781 I think"),
            Some(json!("ORD7781"))
        );
        assert_eq!(one(ExtractKind::OrderId, "nothing here"), None);
    }

    #[test]
    fn names() {
        assert_eq!(
            one(ExtractKind::Name, "Hi, my name is ana lopez and I need help"),
            Some(json!("Ana Lopez"))
        );
        assert_eq!(one(ExtractKind::Name, "This is John Smith."), Some(json!("John Smith")));
        assert_eq!(one(ExtractKind::Name, "I'm having trouble with my order"), None);
        assert_eq!(one(ExtractKind::Name, "Maria Garcia"), Some(json!("Maria Garcia")));
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(
            one(ExtractKind::Number, "I was charged $1,299.50 twice"),
            Some(json!(1299.5))
        );
        assert_eq!(one(ExtractKind::Number, "three items"), Some(json!(3)));
        assert_eq!(
            one(ExtractKind::Date, "it shipped on March 3rd, 2025"),
            Some(json!("2025-03-03"))
        );
        assert_eq!(one(ExtractKind::Date, "ordered 4 May"), Some(json!("2026-05-04")));
        assert_eq!(one(ExtractKind::Date, "due 31/12/2025"), Some(json!("2025-12-31")));
        assert_eq!(one(ExtractKind::Date, "it came tomorrow"), Some(json!("2026-04-01")));
    }

    #[test]
    fn regex_and_text() {
        assert_eq!(
            extract_one("ticket TK-991 please", ExtractKind::Regex, Some(r"TK-(\d+)"), None),
            Some(json!("991"))
        );
        assert_eq!(one(ExtractKind::Text, "  hello  "), Some(json!("hello")));
    }
}
