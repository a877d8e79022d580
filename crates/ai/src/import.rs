//! Reading articles from files: a folder of Markdown files (optionally with a small front
//! matter: `title`, `url`, `collection`), or the ABCD guidelines JSON.

use crate::kb::{Article, MAX_ARTICLE_BYTES};
use crate::AiError;
use std::path::{Path, PathBuf};

/// Files looked at in a folder at most.
const MAX_FILES: usize = 100_000;

/// An article from a Markdown text. The title is the front matter's `title`, else the first
/// `# ` heading, else `fallback_title`.
pub fn article_from_markdown(id: &str, collection: &str, fallback_title: &str, text: &str) -> Article {
    let mut title: Option<String> = None;
    let mut url: Option<String> = None;
    let mut collection = collection.to_string();
    let mut body = text;
    let trimmed = text.trim_start_matches('\u{feff}');
    if let Some(rest) = trimmed
        .strip_prefix("---\n")
        .or_else(|| trimmed.strip_prefix("---\r\n"))
    {
        if let Some(end) = rest.find("\n---") {
            for line in rest[..end].lines() {
                if let Some((k, v)) = line.split_once(':') {
                    let v = v.trim().trim_matches('"').trim_matches('\'').to_string();
                    match k.trim() {
                        "title" if !v.is_empty() => title = Some(v),
                        "url" if !v.is_empty() => url = Some(v),
                        "collection" if !v.is_empty() => collection = v,
                        _ => {}
                    }
                }
            }
            body = rest[end + 4..].trim_start_matches(['-', '\r', '\n']);
        }
    }
    let title = title
        .or_else(|| {
            body.lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix("# ").map(|t| crate::markdown::inline(t.trim())))
        })
        .unwrap_or_else(|| fallback_title.to_string());
    Article {
        id: id.to_string(),
        collection,
        title,
        url,
        markdown: body.to_string(),
    }
}

/// Markdown files (`.md`, `.markdown`) under `dir`, sorted by path.
pub fn markdown_files(dir: &Path) -> Result<Vec<PathBuf>, AiError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| AiError::io(&d, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| AiError::io(&d, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type().map_err(|e| AiError::io(&path, e))?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && (name.ends_with(".md") || name.ends_with(".markdown")) {
                out.push(path);
                if out.len() > MAX_FILES {
                    return Err(AiError::io(dir, "more than 100,000 Markdown files"));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One Markdown file as an article; its id is its path under `root` without the extension.
pub fn article_from_file(root: &Path, path: &Path, collection: &str) -> Result<Article, AiError> {
    let meta = std::fs::metadata(path).map_err(|e| AiError::io(path, e))?;
    if meta.len() > MAX_ARTICLE_BYTES as u64 {
        return Err(AiError::io(path, "larger than 1 MiB"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| AiError::io(path, e))?;
    let rel = path.strip_prefix(root).unwrap_or(path);
    let id = rel.with_extension("").to_string_lossy().replace('\\', "/");
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().replace(['-', '_'], " "))
        .unwrap_or_else(|| id.clone());
    Ok(article_from_markdown(&id, collection, &stem, &text))
}

/// Articles from a folder of Markdown files, or from one Markdown file. `collection` is used
/// where a file does not name its own.
pub fn load_articles(path: &Path, collection: &str) -> Result<Vec<Article>, AiError> {
    if path.is_dir() {
        let files = markdown_files(path)?;
        return files.iter().map(|f| article_from_file(path, f, collection)).collect();
    }
    let root = path.parent().unwrap_or(Path::new(""));
    Ok(vec![article_from_file(root, path, collection)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_and_heading() {
        let a = article_from_markdown(
            "faq/shipping",
            "help",
            "shipping",
            "---\ntitle: Shipping costs\nurl: https://x.y/s\n---\n# Ignored\n\nText.",
        );
        assert_eq!(a.title, "Shipping costs");
        assert_eq!(a.url.as_deref(), Some("https://x.y/s"));
        assert!(a.markdown.starts_with("# Ignored"));
        let b = article_from_markdown("x", "help", "fallback", "# The **Title**\n\nBody");
        assert_eq!(b.title, "The Title");
        let c = article_from_markdown("x", "help", "fallback", "Body only");
        assert_eq!(c.title, "fallback");
    }
}
