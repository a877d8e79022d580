import { describe, expect, it } from 'vitest';
import { ApiError, type KbArticleSummary } from '../api';
import {
  articleInput,
  articleProblem,
  articlesFromFiles,
  filterArticles,
  groupByCollection,
  importBatches,
  importErrorText,
  importProblem,
  inlineText,
  markdownBlocks,
  MAX_IMPORT_ARTICLES,
  MAX_IMPORT_BODY_BYTES,
  slugify,
  titleFromMarkdown,
} from './knowledge';

const summary = (id: string, collection: string, title: string): KbArticleSummary => ({ id, collection, title, url: null, bytes: 10, updated_at: 1 });

describe('slugify', () => {
  it('joins lower-case words with dashes, like the server', () => {
    expect(slugify('Refund policy')).toBe('refund-policy');
    expect(slugify("  Don't Panic: Refunds & Returns! ")).toBe('dont-panic-refunds-returns');
    expect(slugify('Café — Öffnungszeiten 2024')).toBe('café-öffnungszeiten-2024');
    expect(slugify('!!!')).toBe('');
  });
  it('keeps long titles to whole words within 80 characters', () => {
    const slug = slugify('word '.repeat(40));
    expect(slug.length).toBeLessThanOrEqual(80);
    expect(slug.endsWith('word')).toBe(true);
    expect(slugify('x'.repeat(120))).toHaveLength(80);
  });
});

describe('titleFromMarkdown', () => {
  it('takes the first "# " heading, without its inline marks', () => {
    expect(titleFromMarkdown('intro\n## Sub\n# The **Refund** [policy](https://x.y)\n# Second', 'a.md')).toBe('The Refund policy');
  });
  it('skips headings inside code blocks', () => {
    expect(titleFromMarkdown('```sh\n# not a title\n```\n# Shipping', 'a.md')).toBe('Shipping');
  });
  it('falls back to the file name, dashes and underscores as spaces', () => {
    expect(titleFromMarkdown('No heading here.\n#hashtag', 'return-window_rules.md')).toBe('return window rules');
    expect(titleFromMarkdown('#  \n', 'Notes.markdown')).toBe('Notes');
  });
});

describe('inlineText', () => {
  it('reads inline Markdown as the AI does', () => {
    expect(inlineText('**Bold** and `code` with [a link](https://x.y) and ![alt](i.png)')).toBe('Bold and code with a link and alt');
    expect(inlineText('keep snake_case, drop _emphasis_')).toBe('keep snake_case, drop emphasis');
    expect(inlineText('<b>tag</b> <https://x.y> \\*star\\*')).toBe('tag https://x.y *star*');
    expect(inlineText('a < b and [unclosed')).toBe('a < b and [unclosed');
  });
});

describe('grouping and filtering', () => {
  const articles = [summary('b', 'help', 'Shipping'), summary('a', 'billing', 'Refunds'), summary('c', 'help', 'Account'), summary('d', 'billing', 'Invoices')];
  it('groups by collection, collections and titles in order', () => {
    const groups = groupByCollection(articles);
    expect(groups.map((g) => g.collection)).toEqual(['billing', 'help']);
    expect(groups.map((g) => g.articles.map((a) => a.title))).toEqual([['Invoices', 'Refunds'], ['Account', 'Shipping']]);
    expect(groupByCollection([])).toEqual([]);
  });
  it('filters by collection and by title, in any case', () => {
    expect(filterArticles(articles, 'help', '').map((a) => a.id)).toEqual(['b', 'c']);
    expect(filterArticles(articles, null, ' REF ').map((a) => a.id)).toEqual(['a']);
    expect(filterArticles(articles, 'help', 'refund')).toEqual([]);
    expect(filterArticles(articles, null, '')).toHaveLength(4);
  });
});

describe('the article form', () => {
  const form = { id: 'refund-policy', title: ' Refund policy ', collection: ' help ', url: '  ', markdown: '# Refunds\n\nWithin 30 days.' };
  it('maps to the request body, trimmed, without an empty URL', () => {
    expect(articleInput(form)).toEqual({ collection: 'help', title: 'Refund policy', markdown: '# Refunds\n\nWithin 30 days.' });
    expect(articleInput({ ...form, url: ' https://help.example.com/refunds ' }).url).toBe('https://help.example.com/refunds');
  });
  it('names the first missing field', () => {
    expect(articleProblem(form)).toBeNull();
    expect(articleProblem({ ...form, id: ' ' })?.field).toBe('id');
    expect(articleProblem({ ...form, title: '' })?.field).toBe('title');
    expect(articleProblem({ ...form, collection: '' })?.field).toBe('collection');
    expect(articleProblem({ ...form, markdown: '\n' })?.field).toBe('markdown');
  });
});

describe('importing files', () => {
  it('makes one article per file: id from the file name, title from the heading', () => {
    const articles = articlesFromFiles(
      [
        { name: 'refunds.md', text: '\uFEFF# Refund policy\n\nText.' },
        { name: 'shipping-times.markdown', text: 'Two days.' },
      ],
      ' help ',
    );
    expect(articles).toEqual([
      { id: 'refunds', collection: 'help', title: 'Refund policy', markdown: '# Refund policy\n\nText.' },
      { id: 'shipping-times', collection: 'help', title: 'shipping times', markdown: 'Two days.' },
    ]);
  });
  it('names a file the server would refuse', () => {
    expect(importProblem([{ name: 'a.md', text: 'ok' }])).toBeNull();
    expect(importProblem([{ name: 'a.md', text: 'ok' }, { name: 'empty.md', text: ' \n' }])).toMatch(/empty\.md/);
    expect(importProblem([{ name: 'big.md', text: 'x'.repeat(200 * 1024 + 1) }])).toMatch(/big\.md.*200 KB/);
  });
  it('splits into requests by count and by size', () => {
    const small = Array.from({ length: MAX_IMPORT_ARTICLES + 3 }, (_, i) => ({ id: String(i) }));
    expect(importBatches(small).map((b) => b.length)).toEqual([MAX_IMPORT_ARTICLES, 3]);
    const big = Array.from({ length: 25 }, (_, i) => ({ id: String(i), markdown: 'é'.repeat(100_000) }));
    const batches = importBatches(big);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(big);
    for (const b of batches) expect(new TextEncoder().encode(JSON.stringify(b)).length).toBeLessThanOrEqual(MAX_IMPORT_BODY_BYTES);
    expect(importBatches([])).toEqual([]);
  });
  it('names the file an import error is about', () => {
    const e = new ApiError(422, 'invalid_field', '1 to 300 characters', 'articles[1].title');
    expect(importErrorText(e, ['a.md', 'b.md', 'c.md'], 0)).toBe('b.md: 1 to 300 characters (title)');
    expect(importErrorText(e, ['a.md', 'b.md', 'c.md'], 1)).toBe('c.md: 1 to 300 characters (title)');
    expect(importErrorText(new ApiError(413, 'body_too_large', 'too large'), ['a.md'], 0)).toBe('too large');
    expect(importErrorText(new ApiError(422, 'invalid_field', 'at most 500', 'articles'), ['a.md'], 0)).toBe('at most 500 (articles)');
  });
});

describe('markdownBlocks', () => {
  it('reads headings, paragraphs, lists, quotes and code as text', () => {
    const md = [
      '# Refund policy',
      '',
      'You can ask for a **refund**',
      'within 30 days.',
      '',
      '- by email',
      '- in the',
      '  chat',
      '1. first',
      '> quoted <b>text</b>',
      '---',
      '```',
      '<script>alert(1)</script>',
      '```',
      '## Then ##',
    ].join('\n');
    expect(markdownBlocks(md)).toEqual([
      { kind: 'heading', level: 1, text: 'Refund policy' },
      { kind: 'paragraph', text: 'You can ask for a refund within 30 days.' },
      { kind: 'list', ordered: false, items: ['by email', 'in the chat'] },
      { kind: 'list', ordered: true, items: ['first'] },
      { kind: 'quote', text: 'quoted text' },
      { kind: 'code', text: '<script>alert(1)</script>' },
      { kind: 'heading', level: 2, text: 'Then' },
    ]);
  });
  it('keeps an unclosed code block and reads nothing from blank text', () => {
    expect(markdownBlocks('```\ncode')).toEqual([{ kind: 'code', text: 'code' }]);
    expect(markdownBlocks('  \n\n')).toEqual([]);
  });
});
