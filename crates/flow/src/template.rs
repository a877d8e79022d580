//! Text templates: `Hello {{ contact.name | default("there") }}`.
//!
//! A template is text with `{{ path | filter | filter(arg) }}` holes. Paths are dotted variable
//! names; filters are a fixed list. Nothing is ever executed: a missing variable renders empty.

use serde_json::Value;
use std::fmt::Write;

/// Filters a template may use.
pub const FILTERS: [&str; 7] = ["default", "upper", "lower", "title", "trim", "truncate", "first_word"];

/// Longest text a template renders to; the rest is cut.
pub const MAX_RENDERED_CHARS: usize = 8_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Hole { path: String, filters: Vec<Filter> },
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Default(String),
    Upper,
    Lower,
    Title,
    Trim,
    Truncate(usize),
    FirstWord,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (at character {offset})")]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

/// Anything variables can be read from while rendering.
pub trait Lookup {
    fn lookup(&self, path: &str) -> Option<&Value>;
}

impl Lookup for std::collections::BTreeMap<String, Value> {
    fn lookup(&self, path: &str) -> Option<&Value> {
        self.get(path)
    }
}

impl Template {
    /// Parses a template. Errors name the character where the problem is.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(TemplateError {
                    offset: offset + open,
                    message: "`{{` is never closed with `}}`".into(),
                });
            };
            let inner = &after[..close];
            parts.push(parse_hole(inner).map_err(|message| TemplateError {
                offset: offset + open,
                message,
            })?);
            let consumed = open + 2 + close + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// A template with no holes.
    pub fn literal(text: &str) -> Template {
        Template {
            parts: vec![Part::Text(text.to_string())],
        }
    }

    /// The variable paths this template reads, each with whether a `default` filter guards it.
    pub fn variables(&self) -> impl Iterator<Item = (&str, bool)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Hole { path, filters } => {
                Some((path.as_str(), filters.iter().any(|f| matches!(f, Filter::Default(_)))))
            }
            Part::Text(_) => None,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Renders with the given variables. Never fails: what is missing renders empty.
    pub fn render(&self, vars: &dyn Lookup) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Hole { path, filters } => {
                    let mut value = vars.lookup(path).map(display_value).unwrap_or_default();
                    for f in filters {
                        value = apply(f, value);
                    }
                    out.push_str(&value);
                }
            }
            if out.len() > MAX_RENDERED_CHARS {
                let cut = floor_char_boundary(&out, MAX_RENDERED_CHARS);
                out.truncate(cut);
                break;
            }
        }
        out
    }
}

/// How a variable's value reads in text.
pub fn display_value(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => {
            let mut s = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                let _ = write!(s, "{}", display_value(item));
            }
            s
        }
        Value::Object(_) => value.to_string(),
    }
}

fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    while at > 0 && !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(filter: &Filter, value: String) -> String {
    match filter {
        Filter::Default(d) => {
            if value.trim().is_empty() {
                d.clone()
            } else {
                value
            }
        }
        Filter::Upper => value.to_uppercase(),
        Filter::Lower => value.to_lowercase(),
        Filter::Trim => value.trim().to_string(),
        Filter::Title => value
            .split_whitespace()
            .map(|w| {
                let mut chars = w.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        Filter::Truncate(n) => {
            if value.chars().count() <= *n {
                value
            } else {
                let mut s: String = value.chars().take(*n).collect();
                s.push('…');
                s
            }
        }
        Filter::FirstWord => value.split_whitespace().next().unwrap_or("").to_string(),
    }
}

/// A variable path: names of letters, digits and `_`, joined by dots.
pub fn is_valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('.').all(|seg| {
            !seg.is_empty()
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !seg.starts_with(|c: char| c.is_ascii_digit())
        })
}

fn parse_hole(inner: &str) -> Result<Part, String> {
    let mut pieces = split_filters(inner);
    let path = pieces.remove(0).trim().to_string();
    if path.is_empty() {
        return Err("empty `{{ }}`: write a variable name inside, e.g. {{ email }}".into());
    }
    if !is_valid_path(&path) {
        return Err(format!(
            "`{path}` is not a variable name (letters, digits and _, joined by dots)"
        ));
    }
    let mut filters = Vec::new();
    for piece in pieces {
        filters.push(parse_filter(piece.trim())?);
    }
    Ok(Part::Hole { path, filters })
}

/// Splits on `|` outside of quotes.
fn split_filters(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"') | (None, '\'') => quote = Some(c),
            (None, '|') => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&inner[start..]);
    out
}

fn parse_filter(text: &str) -> Result<Filter, String> {
    let (name, arg) = match text.find('(') {
        Some(open) => {
            let Some(inner) = text[open + 1..].strip_suffix(')') else {
                return Err(format!("filter `{text}` is missing its closing `)`"));
            };
            (text[..open].trim(), Some(inner.trim()))
        }
        None => (text, None),
    };
    let string_arg = |arg: Option<&str>| -> Result<String, String> {
        let a = arg.ok_or_else(|| format!("filter `{name}` needs a value, e.g. {name}(\"…\")"))?;
        let unquoted = a
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| a.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')));
        unquoted
            .map(str::to_string)
            .ok_or_else(|| format!("the value of `{name}` must be in quotes"))
    };
    let no_arg = |f: Filter| -> Result<Filter, String> {
        match arg {
            None => Ok(f),
            Some(_) => Err(format!("filter `{name}` takes no value")),
        }
    };
    match name {
        "default" => Ok(Filter::Default(string_arg(arg)?)),
        "upper" => no_arg(Filter::Upper),
        "lower" => no_arg(Filter::Lower),
        "title" => no_arg(Filter::Title),
        "trim" => no_arg(Filter::Trim),
        "first_word" => no_arg(Filter::FirstWord),
        "truncate" => {
            let n = arg
                .and_then(|a| a.parse::<usize>().ok())
                .ok_or_else(|| "filter `truncate` needs a number, e.g. truncate(40)".to_string())?;
            Ok(Filter::Truncate(n))
        }
        other => Err(format!(
            "unknown filter `{other}`; the filters are {}",
            FILTERS.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn vars() -> BTreeMap<String, Value> {
        let mut m = BTreeMap::new();
        m.insert("contact.name".into(), json!("ana lópez"));
        m.insert("total".into(), json!(12.5));
        m
    }

    #[test]
    fn renders_holes_and_filters() {
        let t = Template::parse("Hi {{ contact.name | title }}, total {{total}}.").unwrap();
        assert_eq!(t.render(&vars()), "Hi Ana López, total 12.5.");
        let t = Template::parse("{{ missing | default(\"there\") | upper }}!").unwrap();
        assert_eq!(t.render(&vars()), "THERE!");
        let t = Template::parse("{{ contact.name | first_word | truncate(2) }}").unwrap();
        assert_eq!(t.render(&vars()), "an…");
    }

    #[test]
    fn missing_variable_renders_empty() {
        let t = Template::parse("[{{ nope }}]").unwrap();
        assert_eq!(t.render(&vars()), "[]");
    }

    #[test]
    fn quoted_pipe_is_not_a_filter_separator() {
        let t = Template::parse("{{ x | default(\"a|b\") }}").unwrap();
        assert_eq!(t.render(&vars()), "a|b");
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Template::parse("Hi {{ name").unwrap_err();
        assert!(e.message.contains("never closed"), "{e}");
        let e = Template::parse("{{ name | shout }}").unwrap_err();
        assert!(e.message.contains("unknown filter `shout`"), "{e}");
        let e = Template::parse("{{ a b }}").unwrap_err();
        assert!(e.message.contains("not a variable name"), "{e}");
        assert!(Template::parse("{{ }}").is_err());
        assert!(Template::parse("{{ x | default(there) }}").is_err());
    }

    #[test]
    fn lists_variables_and_default_guard() {
        let t = Template::parse("{{a}} {{ b | default(\"x\") }}").unwrap();
        let v: Vec<_> = t.variables().collect();
        assert_eq!(v, vec![("a", false), ("b", true)]);
    }
}
