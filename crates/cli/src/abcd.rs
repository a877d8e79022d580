//! Converts the agent guidelines of ABCD (the Action-Based Conversations Dataset, ASAPP
//! Research, MIT licence) into knowledge-base articles: one Markdown article per subflow, in a
//! collection per flow. A dataset converter for the command line (`baton kb convert-abcd`,
//! and `guidelines.json` wherever the CLI reads articles); the server never reads ABCD.

use anyhow::{Context, Result};
use baton_ai::Article;
use serde_json::Value;
use std::path::Path;

/// Lower-case words joined by '-'.
pub fn slug(s: &str) -> String {
    baton_ai::text::words(s).join("-")
}

/// Reads `guidelines.json` and converts it.
pub fn load(path: &Path) -> Result<Vec<Article>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    convert(&v).map_err(|m| anyhow::anyhow!("{}: {m}", path.display()))
}

/// Articles from a folder of Markdown files, one Markdown file, or ABCD's `guidelines.json`.
pub fn load_articles(path: &Path, collection: &str) -> Result<Vec<Article>> {
    if path.extension().is_some_and(|x| x == "json") {
        return load(path);
    }
    baton_ai::import::load_articles(path, collection).with_context(|| format!("reading {}", path.display()))
}

/// One article per subflow.
pub fn convert(guidelines: &Value) -> Result<Vec<Article>, String> {
    let flows = guidelines.as_object().ok_or("expected an object of flows")?;
    let mut out = Vec::new();
    for (flow, body) in flows {
        let Some(subflows) = body.get("subflows").and_then(Value::as_object) else {
            return Err(format!("flow `{flow}` has no subflows"));
        };
        for (name, sub) in subflows {
            out.push(Article {
                id: format!("{}/{}", slug(flow), slug(name)),
                collection: slug(flow),
                title: name.clone(),
                url: None,
                markdown: subflow_markdown(name, sub),
            });
        }
    }
    Ok(out)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn sentence(s: &str) -> String {
    let t = s.trim();
    if t.ends_with(['.', '!', '?', ':']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

fn subflow_markdown(name: &str, sub: &Value) -> String {
    let mut md = format!("# {name}\n\n");
    let instructions = strings(sub.get("instructions"));
    let mut questions: Vec<String> = Vec::new();
    let mut intro: Vec<String> = Vec::new();
    for (i, ins) in instructions.iter().enumerate() {
        // FAQ subflows list the questions they cover after "which question the customer is asking".
        let after_asking = i > 0
            && instructions[i - 1]
                .to_lowercase()
                .contains("question the customer is asking");
        if after_asking {
            questions.extend(
                ins.split(',')
                    .map(|q| q.trim().trim_end_matches('?').to_string())
                    .filter(|q| !q.is_empty()),
            );
        } else {
            intro.push(sentence(ins));
        }
    }
    if !intro.is_empty() {
        md.push_str(&intro.join(" "));
        md.push_str("\n\n");
    }
    if !questions.is_empty() {
        md.push_str("## Questions this FAQ covers\n\n");
        for q in &questions {
            let mut c = q.chars();
            let q = match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => continue,
            };
            md.push_str(&format!("- {q}?\n"));
        }
        md.push('\n');
    }
    if let Some(actions) = sub.get("actions").and_then(Value::as_array) {
        for (i, a) in actions.iter().enumerate() {
            let button = a.get("button").and_then(Value::as_str).unwrap_or("").trim();
            let text = a.get("text").and_then(Value::as_str).unwrap_or("").trim();
            let heading = if button.is_empty() || button == "N/A" {
                format!("Step {}", i + 1)
            } else {
                format!("Step {}: {button}", i + 1)
            };
            md.push_str(&format!("## {heading}\n\n"));
            let sub = strings(a.get("subtext"));
            if !text.is_empty() && text != "x" {
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                // A step's text introduces its list.
                if !sub.is_empty() && !text.ends_with(['.', '!', '?', ':']) {
                    md.push_str(&format!("{text}:"));
                } else {
                    md.push_str(&sentence(&text));
                }
                md.push_str("\n\n");
            }
            for s in &sub {
                md.push_str(&format!("- {}\n", sentence(s)));
            }
            if !sub.is_empty() {
                md.push('\n');
            }
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_a_subflow() {
        let g = json!({
            "Storewide Query": {
                "description": "FAQ questions",
                "subflows": {
                    "Pricing FAQ": {
                        "actions": [{"type": "faq/policy", "button": "Search FAQ", "text": "Click [Search FAQ]", "subtext": ["It swaps the view"]}],
                        "instructions": ["The main effort is in figuring out which question the customer is asking:", "Price of gift wrapping, Price of overnight shipping"]
                    }
                }
            }
        });
        let a = convert(&g).expect("converts");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].id, "storewide-query/pricing-faq");
        assert_eq!(a[0].collection, "storewide-query");
        assert!(
            a[0].markdown.contains("- Price of gift wrapping?\n"),
            "{}",
            a[0].markdown
        );
        assert!(a[0]
            .markdown
            .contains("## Step 1: Search FAQ\n\nClick [Search FAQ]:\n\n- It swaps the view.\n"));
    }
}
