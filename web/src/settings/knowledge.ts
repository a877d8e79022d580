// Knowledge base helpers: article ids and titles, grouping and filtering, Markdown file import,
// and a text-only reading of Markdown for the preview (never HTML).

import { ApiError, type FieldProblem, type KbArticleInput, type KbArticleSummary } from '../api';

/** The server's limits (crates/server/src/routes/kb.rs). Its lengths are in bytes. */
export const MAX_ID_BYTES = 200;
export const MAX_TITLE_BYTES = 300;
export const MAX_ARTICLE_BYTES = 200 * 1024;
/** One import request: the server takes 500 articles and a body of 2 MiB + 4 KiB at most. */
export const MAX_IMPORT_ARTICLES = 500;
export const MAX_IMPORT_BODY_BYTES = 2_000_000;

/** A slug id is kept short enough to read in a URL. */
const MAX_SLUG_CHARS = 80;

const utf8 = new TextEncoder();
export const byteLength = (s: string) => utf8.encode(s).length;

/**
 * An article id from its title: lower-case words joined by '-', like the server's own slugs
 * (`baton_ai::abcd::slug`): "Don't Panic: Refunds!" → "dont-panic-refunds".
 */
export function slugify(title: string): string {
  const words =
    title
      .normalize('NFC')
      .toLowerCase()
      .replace(/([\p{L}\p{N}])['’](?=\p{L})/gu, '$1')
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  let slug = '';
  for (const word of words) {
    const next = slug ? `${slug}-${word}` : word;
    if (next.length > MAX_SLUG_CHARS || byteLength(next) > MAX_ID_BYTES) break;
    slug = next;
  }
  return slug || (words[0] ?? '').slice(0, MAX_SLUG_CHARS);
}

/**
 * Inline Markdown → text, as the server reads it for the AI (`baton_ai::markdown::inline`):
 * links and images become their text, emphasis and code marks and HTML tags are dropped,
 * `\*` escapes are resolved, `_` is kept inside words (snake_case).
 */
export function inlineText(s: string): string {
  const chars = [...s];
  const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    const next = chars[i + 1];
    if (c === '\\' && next !== undefined && /[!-/:-@[-`{-~]/.test(next)) {
      out += next;
      i++;
    } else if (c === '!' && next === '[') {
      // an image: its alt text, read as a link next
    } else if (c === '[') {
      const close = chars.indexOf(']', i + 1);
      const opener = chars[close + 1];
      const end = close < 0 ? -1 : opener === '(' ? chars.indexOf(')', close + 2) : opener === '[' ? chars.indexOf(']', close + 2) : -1;
      if (end < 0) out += c;
      else {
        out += inlineText(chars.slice(i + 1, close).join(''));
        i = end;
      }
    } else if (c === '<') {
      const end = chars.indexOf('>', i + 1);
      const inner = end < 0 ? '' : chars.slice(i + 1, end).join('');
      if (/^https?:\/\//.test(inner) || inner.includes('@')) {
        out += inner;
        i = end;
      } else if (/^[a-zA-Z/!]/.test(inner)) i = end;
      else out += c;
    } else if (c === '_') {
      if (isWordChar(chars[i - 1]) && isWordChar(next)) out += c;
    } else if (c !== '*' && c !== '`') out += c;
  }
  return out.split(/\s+/).filter(Boolean).join(' ');
}

const FENCE = /^\s*(```|~~~)/;

/** The file name without `.md` / `.markdown`. */
export function fileStem(fileName: string): string {
  return fileName.replace(/\.(md|markdown)$/i, '');
}

/**
 * An imported file's title: its first `# ` heading (outside code blocks), else its file name
 * with '-' and '_' as spaces, as `baton kb import` does.
 */
export function titleFromMarkdown(markdown: string, fileName: string): string {
  let inFence = false;
  for (const line of markdown.split(/\r?\n/)) {
    if (FENCE.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = /^#\s+(.*)$/.exec(line.trim());
    const title = heading ? inlineText(heading[1] ?? '') : '';
    if (title) return title;
  }
  return fileStem(fileName).replace(/[-_]/g, ' ').trim() || fileName;
}

export interface CollectionGroup {
  collection: string;
  articles: KbArticleSummary[];
}

/** Articles by collection, collections and titles in alphabetical order. */
export function groupByCollection(articles: KbArticleSummary[]): CollectionGroup[] {
  const groups = new Map<string, KbArticleSummary[]>();
  for (const a of articles) groups.set(a.collection, [...(groups.get(a.collection) ?? []), a]);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([collection, list]) => ({ collection, articles: list.sort((a, b) => a.title.localeCompare(b.title) || a.id.localeCompare(b.id)) }));
}

/** The articles of one collection (null: all) whose title contains the query, in any case. */
export function filterArticles(articles: KbArticleSummary[], collection: string | null, query: string): KbArticleSummary[] {
  const q = query.trim().toLocaleLowerCase();
  return articles.filter((a) => (collection === null || a.collection === collection) && (!q || a.title.toLocaleLowerCase().includes(q)));
}

/** The editor's fields, as typed. */
export interface ArticleForm {
  id: string;
  title: string;
  collection: string;
  url: string;
  markdown: string;
}

/** The fields the editor shows, named as the API names them. */
export const ARTICLE_FIELDS = ['id', 'title', 'collection', 'url', 'markdown'] as const;

/** What the form lacks before it can be sent; the server checks lengths and the URL. */
export function articleProblem(form: ArticleForm): FieldProblem | null {
  if (!form.id.trim()) return { field: 'id', message: 'Give the article an id.' };
  if (!form.title.trim()) return { field: 'title', message: 'Give the article a title.' };
  if (!form.collection.trim()) return { field: 'collection', message: 'Choose a collection or type a new one.' };
  if (!form.markdown.trim()) return { field: 'markdown', message: 'Write the article.' };
  return null;
}

/** The request body for `PUT /api/v1/kb/articles/{id}`: trimmed, without an empty URL. */
export function articleInput(form: ArticleForm): KbArticleInput {
  const url = form.url.trim();
  return { collection: form.collection.trim(), title: form.title.trim(), ...(url ? { url } : {}), markdown: form.markdown };
}

export interface MarkdownFile {
  name: string;
  text: string;
}

/** Files to import: the id is the file name without its extension, as `baton kb import` does. */
export function articlesFromFiles(files: MarkdownFile[], collection: string): (KbArticleInput & { id: string })[] {
  return files.map((f) => {
    const markdown = f.text.replace(/^\uFEFF/, '');
    return { id: fileStem(f.name), collection: collection.trim(), title: titleFromMarkdown(markdown, f.name), markdown };
  });
}

/** A file the server would refuse, said before anything is sent. */
export function importProblem(files: MarkdownFile[]): string | null {
  for (const f of files) {
    if (!f.text.trim()) return `${f.name} is empty.`;
    if (byteLength(f.text) > MAX_ARTICLE_BYTES) return `${f.name} is larger than ${MAX_ARTICLE_BYTES / 1024} KB.`;
    if (byteLength(fileStem(f.name)) > MAX_ID_BYTES) return `${f.name}: the file name is too long for an id.`;
  }
  return null;
}

/** Splits an import into requests the server takes (article count and body size). */
export function importBatches<T>(articles: T[]): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const a of articles) {
    const size = byteLength(JSON.stringify(a)) + 1;
    if (batch.length > 0 && (batch.length === MAX_IMPORT_ARTICLES || bytes + size > MAX_IMPORT_BODY_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(a);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** An import error with the file it is about: the server names `articles[3].title`. */
export function importErrorText(e: unknown, fileNames: string[], offset: number): string {
  const message = e instanceof Error ? e.message : String(e);
  const m = e instanceof ApiError && e.field ? /^articles\[(\d+)\]\.(.+)$/.exec(e.field) : null;
  if (!m) return e instanceof ApiError && e.field ? `${message} (${e.field})` : message;
  const name = fileNames[offset + Number(m[1])] ?? `article ${offset + Number(m[1]) + 1}`;
  return `${name}: ${message} (${m[2]})`;
}

/** A block of an article, as text. */
export type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'quote'; text: string }
  | { kind: 'list'; ordered: boolean; items: string[] }
  | { kind: 'code'; text: string };

type OpenBlock = { kind: 'paragraph' | 'quote'; lines: string[] } | { kind: 'list'; ordered: boolean; items: string[] };

/**
 * Reads Markdown into headings, paragraphs, quotes, lists and code blocks with their text
 * (inline marks dropped). The preview renders these as text nodes, so an article can hold any
 * HTML without it ever running.
 */
export function markdownBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let open = null as OpenBlock | null;
  let code: string[] | null = null;
  const close = () => {
    if (open?.kind === 'list') blocks.push({ kind: 'list', ordered: open.ordered, items: open.items.map(inlineText) });
    else if (open) blocks.push({ kind: open.kind, text: inlineText(open.lines.join(' ')) });
    open = null;
  };
  for (const line of markdown.split(/\r?\n/)) {
    if (code) {
      if (FENCE.test(line)) {
        blocks.push({ kind: 'code', text: code.join('\n') });
        code = null;
      } else code.push(line);
      continue;
    }
    const text = line.trim();
    const heading = /^(#{1,6})\s+(.*?)(?:\s+#+)?$/.exec(text);
    const item = /^([-*+]|\d+[.)])\s+(.*)$/.exec(text);
    const quoted = /^>\s?(.*)$/.exec(text);
    if (FENCE.test(line)) {
      close();
      code = [];
    } else if (!text || /^([-*_])(\s*\1){2,}$/.test(text)) {
      close();
    } else if (heading) {
      close();
      blocks.push({ kind: 'heading', level: heading[1]?.length ?? 1, text: inlineText(heading[2] ?? '') });
    } else if (item) {
      const ordered = /\d/.test(item[1] ?? '');
      if (open?.kind !== 'list' || open.ordered !== ordered) {
        close();
        open = { kind: 'list', ordered, items: [] };
      }
      open.items.push(item[2] ?? '');
    } else if (open?.kind === 'list' && /^\s/.test(line)) {
      // an indented line goes on with the list item above
      open.items[open.items.length - 1] += ` ${text}`;
    } else {
      const kind = quoted ? 'quote' : 'paragraph';
      if (open?.kind !== kind) {
        close();
        open = { kind, lines: [] };
      }
      open.lines.push(quoted ? (quoted[1] ?? '') : text);
    }
  }
  if (code) blocks.push({ kind: 'code', text: code.join('\n') });
  close();
  return blocks;
}
