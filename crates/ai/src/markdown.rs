//! Markdown → plain-text chunks for the knowledge base.
//!
//! An article is cut at its headings into sections, and sections into chunks of about
//! [`MIN_WORDS`]–[`MAX_WORDS`] words at paragraph (then sentence) boundaries; small neighbouring
//! sections are merged. Every chunk keeps the heading it sits under; the article title is kept by
//! the index. Inline Markdown (links, emphasis, code, images, HTML tags) is reduced to its text.

/// A chunk grows to at least this many words when the section allows it.
pub const MIN_WORDS: usize = 80;
/// A chunk never grows past this many words (except a single sentence longer than that).
pub const MAX_WORDS: usize = 200;

/// A piece of an article, as plain text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextChunk {
    /// The heading(s) above the text, joined with " › " (empty before the first heading).
    pub heading: String,
    /// Plain text; paragraphs and list items on their own lines.
    pub text: String,
}

/// A block of the document: a paragraph or list item, in plain text, with its section.
struct Block {
    section: usize,
    text: String,
}

/// Cuts Markdown into plain-text chunks.
pub fn chunk(markdown: &str) -> Vec<TextChunk> {
    let mut headings: Vec<String> = Vec::new(); // heading path per section
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    let mut para = String::new();
    let mut section = 0usize;
    headings.push(String::new());
    let mut in_fence = false;
    let flush = |para: &mut String, blocks: &mut Vec<Block>, section: usize| {
        let t = para.trim();
        if !t.is_empty() {
            blocks.push(Block {
                section,
                text: t.to_string(),
            });
        }
        para.clear();
    };
    for raw in markdown.lines() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            flush(&mut para, &mut blocks, section);
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            if !trimmed.is_empty() {
                blocks.push(Block {
                    section,
                    text: trimmed.to_string(),
                });
            }
            continue;
        }
        if trimmed.is_empty() {
            flush(&mut para, &mut blocks, section);
            continue;
        }
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            flush(&mut para, &mut blocks, section);
            let title = inline(trimmed[hashes..].trim().trim_end_matches('#').trim());
            while stack.last().is_some_and(|(level, _)| *level >= hashes) {
                stack.pop();
            }
            stack.push((hashes, title));
            headings.push(stack.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join(" › "));
            section = headings.len() - 1;
            continue;
        }
        // Setext underline or a horizontal rule.
        if trimmed.chars().all(|c| matches!(c, '-' | '=' | '*' | '_')) && trimmed.len() >= 3 {
            flush(&mut para, &mut blocks, section);
            continue;
        }
        if let Some(item) = list_item(trimmed) {
            flush(&mut para, &mut blocks, section);
            para.push_str("- ");
            para.push_str(&inline(item));
            continue;
        }
        if trimmed.starts_with('|') {
            // A table row: its cells as one line; the separator row is skipped.
            flush(&mut para, &mut blocks, section);
            if !trimmed.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')) {
                let cells: Vec<String> = trimmed
                    .trim_matches('|')
                    .split('|')
                    .map(|c| inline(c.trim()))
                    .filter(|c| !c.is_empty())
                    .collect();
                para.push_str(&cells.join(" — "));
                flush(&mut para, &mut blocks, section);
            }
            continue;
        }
        let text = inline(trimmed.trim_start_matches('>').trim());
        if !para.is_empty() {
            para.push(' ');
        }
        para.push_str(&text);
    }
    flush(&mut para, &mut blocks, section);

    // Sections → chunks.
    let mut chunks: Vec<TextChunk> = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut cur_words = 0;
    let mut cur_section: Option<usize> = None;
    let mut last_section: Option<usize> = None;
    let mut emit = |cur: &mut Vec<String>, cur_words: &mut usize, section: Option<usize>| {
        if !cur.is_empty() {
            chunks.push(TextChunk {
                heading: section.and_then(|s| headings.get(s).cloned()).unwrap_or_default(),
                text: cur.join("\n"),
            });
        }
        cur.clear();
        *cur_words = 0;
    };
    for block in blocks {
        let pieces = split_long(&block.text);
        for piece in pieces {
            let words = crate::text::word_count(&piece);
            let new_section = last_section != Some(block.section);
            let full = cur_words + words > MAX_WORDS;
            // Start a new chunk at a new section unless the current one is still small.
            if !cur.is_empty() && (full || (new_section && cur_words >= MIN_WORDS)) {
                emit(&mut cur, &mut cur_words, cur_section);
            }
            if cur.is_empty() {
                cur_section = Some(block.section);
            } else if new_section {
                // A small section merged into the chunk: keep its heading in the text.
                if let Some(h) = headings.get(block.section).and_then(|h| h.rsplit(" › ").next()) {
                    if !h.is_empty() {
                        cur.push(format!("{h}:"));
                    }
                }
            }
            cur.push(piece);
            cur_words += words;
            last_section = Some(block.section);
        }
    }
    emit(&mut cur, &mut cur_words, cur_section);
    chunks
}

/// Splits a block longer than [`MAX_WORDS`] at sentence ends.
fn split_long(text: &str) -> Vec<String> {
    if crate::text::word_count(text) <= MAX_WORDS {
        return vec![text.to_string()];
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut words = 0;
    for s in crate::text::sentences(text) {
        let w = crate::text::word_count(&s);
        if words + w > MAX_WORDS * 3 / 4 && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            words = 0;
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&s);
        words += w;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn list_item(line: &str) -> Option<&str> {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            let rest = rest.trim_start();
            return Some(
                rest.strip_prefix("[ ] ")
                    .or_else(|| rest.strip_prefix("[x] "))
                    .unwrap_or(rest),
            );
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 4 {
        let rest = &line[digits..];
        if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(r.trim_start());
        }
    }
    None
}

/// Inline Markdown → text: `[text](url)` → text, `![alt](src)` → alt, emphasis and code marks
/// and HTML tags dropped, `\*` escapes resolved.
pub fn inline(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '!' if chars.get(i + 1) == Some(&'[') => {
                i += 1;
            }
            '[' => {
                // [text](url) or [text][ref]
                if let Some(close) = find(&chars, i + 1, ']') {
                    let text: String = chars[i + 1..close].iter().collect();
                    let after = close + 1;
                    if chars.get(after) == Some(&'(') {
                        if let Some(end) = find(&chars, after + 1, ')') {
                            out.push_str(&inline(&text));
                            i = end + 1;
                            continue;
                        }
                    }
                    if chars.get(after) == Some(&'[') {
                        if let Some(end) = find(&chars, after + 1, ']') {
                            out.push_str(&inline(&text));
                            i = end + 1;
                            continue;
                        }
                    }
                }
                out.push(c);
                i += 1;
            }
            '<' => {
                // an HTML tag or an autolink <https://…>
                if let Some(end) = find(&chars, i + 1, '>') {
                    let inner: String = chars[i + 1..end].iter().collect();
                    if inner.starts_with("http://") || inner.starts_with("https://") || inner.contains('@') {
                        out.push_str(&inner);
                        i = end + 1;
                        continue;
                    }
                    if inner
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!')
                    {
                        i = end + 1;
                        continue;
                    }
                }
                out.push(c);
                i += 1;
            }
            '*' | '`' => {
                i += 1;
            }
            '_' => {
                // emphasis only at word edges: keep snake_case
                let prev = i
                    .checked_sub(1)
                    .and_then(|p| chars.get(p))
                    .is_some_and(|c| c.is_alphanumeric());
                let next = chars.get(i + 1).is_some_and(|c| c.is_alphanumeric());
                if prev && next {
                    out.push('_');
                }
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn find(chars: &[char], from: usize, needle: char) -> Option<usize> {
    (from..chars.len()).find(|&j| chars[j] == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markdown_to_text() {
        assert_eq!(
            inline("See **the** [returns page](https://x.y/r) or `code` <b>now</b> ![img](a.png) snake_case"),
            "See the returns page or code now img snake_case"
        );
    }

    #[test]
    fn headings_and_lists() {
        let md = "# Returns\n\nYou can return items within 30 days.\n\n## How\n\n- Print the label\n- Ship it\n\n## Refunds\n\nRefunds take 5 days.";
        let chunks = chunk(md);
        assert_eq!(chunks.len(), 1, "{chunks:?}");
        assert_eq!(chunks[0].heading, "Returns");
        assert!(chunks[0].text.contains("- Print the label\n- Ship it"), "{chunks:?}");
        assert!(chunks[0].text.contains("Refunds:\nRefunds take 5 days."));
    }

    #[test]
    fn long_sections_split_near_max_words() {
        let para = "This is a sentence of eight words here. ".repeat(30);
        let md = format!("# A\n\n{para}\n\n# B\n\n{para}");
        let chunks = chunk(&md);
        assert!(chunks.len() >= 4, "{}", chunks.len());
        for c in &chunks {
            let n = crate::text::word_count(&c.text);
            assert!(n <= MAX_WORDS + 10, "{n}");
        }
        assert_eq!(chunks.last().map(|c| c.heading.as_str()), Some("B"));
    }
}
