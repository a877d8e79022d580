// The knowledge base: articles (Markdown) in collections, the source of Let AI Answer. Admins
// and owners write, import and delete articles; agents read them.

import { useCallback, useEffect, useMemo, useState } from 'react';
import { errorText, fieldProblem, kbApi, type FieldProblem, type KbArticleSummary, type Member } from '../api';
import {
  ARTICLE_FIELDS,
  articleInput,
  articleProblem,
  articlesFromFiles,
  filterArticles,
  groupByCollection,
  importBatches,
  importErrorText,
  importProblem,
  markdownBlocks,
  slugify,
  type ArticleForm,
  type Block,
  type MarkdownFile,
} from './knowledge';
import { useStatus } from './useStatus';

/** The datalist that offers the existing collections to the collection inputs. */
const COLLECTIONS_LIST = 'kb-collection-names';

type Editing = { kind: 'new' } | { kind: 'article'; id: string };

export function Knowledge({ member }: { member: Member }) {
  const canEdit = member.role !== 'agent';
  const [articles, setArticles] = useState<KbArticleSummary[] | null>(null);
  const [collection, setCollection] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [editing, setEditing] = useState<Editing | null>(null);
  const [importing, setImporting] = useState(false);
  const s = useStatus();
  const load = useCallback(() => {
    kbApi.list().then(setArticles).catch(s.fail);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(load, [load]);
  const groups = useMemo(() => groupByCollection(articles ?? []), [articles]);
  const shown = useMemo(() => groupByCollection(filterArticles(articles ?? [], collection, query)), [articles, collection, query]);
  const done = (message?: string) => {
    if (message) s.ok(message);
    load();
  };

  return (
    <section data-testid="knowledge">
      <div className="row">
        <h1>Knowledge base</h1>
        <span className="spacer" />
        {canEdit && !editing && (
          <>
            <button onClick={() => setImporting(true)} disabled={importing}>Import Markdown files…</button>
            <button className="primary" onClick={() => { s.clear(); setEditing({ kind: 'new' }); }}>+ New article</button>
          </>
        )}
      </div>
      <p className="small muted">
        Let AI Answer nodes answer from these articles, with the article's URL as the source. Changes apply at once.
        {!canEdit && ' Admins and owners edit them.'}
      </p>
      <datalist id={COLLECTIONS_LIST}>
        {groups.map((g) => <option key={g.collection} value={g.collection} />)}
      </datalist>
      {s.view}
      {importing && !editing && (
        <ImportPanel
          defaultCollection={collection ?? groups[0]?.collection ?? ''}
          onDone={(message) => {
            setImporting(false);
            done(message);
          }}
        />
      )}
      {editing ? (
        <ArticleEditor
          key={editing.kind === 'new' ? 'new' : editing.id}
          id={editing.kind === 'article' ? editing.id : null}
          summary={editing.kind === 'article' ? articles?.find((a) => a.id === editing.id) : undefined}
          existingIds={articles?.map((a) => a.id) ?? []}
          defaultCollection={collection ?? ''}
          canEdit={canEdit}
          onSaved={(id, title) => {
            setEditing({ kind: 'article', id });
            done(`Saved “${title}”.`);
          }}
          onDeleted={(title) => {
            setEditing(null);
            done(`Deleted “${title}”.`);
          }}
          onClose={() => {
            s.clear();
            setEditing(null);
          }}
        />
      ) : (
        <div className="kb">
          <nav className="kb-collections" aria-label="Collections" data-testid="kb-collections">
            <button className={collection === null ? 'active' : ''} onClick={() => setCollection(null)}>
              All <span className="kb-count">{articles?.length ?? 0}</span>
            </button>
            {groups.map((g) => (
              <button key={g.collection} className={collection === g.collection ? 'active' : ''} data-collection={g.collection} onClick={() => setCollection(g.collection)}>
                {g.collection} <span className="kb-count">{g.articles.length}</span>
              </button>
            ))}
          </nav>
          <div className="kb-list">
            <input type="search" placeholder="Search titles" aria-label="Search articles by title" value={query} onChange={(e) => setQuery(e.target.value)} />
            {articles === null ? (
              <p className="muted">Loading articles…</p>
            ) : articles.length === 0 ? (
              <div className="empty">
                <p>No articles yet.</p>
                <p className="muted">{canEdit ? 'Write one, or import Markdown files.' : 'Admins add them here.'}</p>
              </div>
            ) : shown.length === 0 ? (
              <p className="muted">No article matches.</p>
            ) : (
              shown.map((g) => (
                <div key={g.collection} className="kb-group" data-testid="kb-group" data-collection={g.collection}>
                  <h2>{g.collection}</h2>
                  <table className="table">
                    <tbody>
                      {g.articles.map((a) => (
                        <tr key={a.id} data-testid="kb-article" data-id={a.id}>
                          <td>
                            <button className="link kb-title" onClick={() => { s.clear(); setEditing({ kind: 'article', id: a.id }); }}>{a.title}</button>
                            <div className="small muted"><code>{a.id}</code>{a.url && <> · {a.url}</>}</div>
                          </td>
                          <td className="small muted kb-meta">{formatBytes(a.bytes)}</td>
                          <td className="small muted kb-meta">{new Date(a.updated_at).toLocaleString()}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              ))
            )}
          </div>
        </div>
      )}
    </section>
  );
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

function FieldError({ problem, field }: { problem: FieldProblem | null; field: string }) {
  if (problem?.field !== field) return null;
  return <span className="field-error" data-testid={`field-error-${field}`} role="alert">{problem.message}</span>;
}

/** Edits the article `id`, or a new one (null); `summary` shows its title while it loads. */
function ArticleEditor({
  id,
  summary,
  existingIds,
  defaultCollection,
  canEdit,
  onSaved,
  onDeleted,
  onClose,
}: {
  id: string | null;
  summary: KbArticleSummary | undefined;
  existingIds: string[];
  defaultCollection: string;
  canEdit: boolean;
  onSaved: (id: string, title: string) => void;
  onDeleted: (title: string) => void;
  onClose: () => void;
}) {
  const isNew = id === null;
  const [form, setForm] = useState<ArticleForm>({
    id: id ?? '',
    title: summary?.title ?? '',
    collection: summary?.collection ?? defaultCollection,
    url: summary?.url ?? '',
    markdown: '',
  });
  // A new article's id follows its title until the id is typed in.
  const [idTyped, setIdTyped] = useState(false);
  const [loading, setLoading] = useState(!isNew);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [problem, setProblem] = useState<FieldProblem | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (id === null) return;
    kbApi
      .get(id)
      .then((a) => setForm({ id: a.id, title: a.title, collection: a.collection, url: a.url ?? '', markdown: a.markdown }))
      .catch((e) => setLoadError(errorText(e)))
      .finally(() => setLoading(false));
    // Loaded once per article: the editor is keyed by the article's id.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const blocks = useMemo(() => markdownBlocks(form.markdown), [form.markdown]);
  const set = (field: keyof ArticleForm, value: string) => {
    setForm((f) => ({ ...f, [field]: value, ...(field === 'title' && isNew && !idTyped ? { id: slugify(value) } : {}) }));
    if (problem?.field === field || (field === 'title' && problem?.field === 'id')) setProblem(null);
  };
  const replacing = isNew && existingIds.includes(form.id.trim());

  const save = async () => {
    const missing = articleProblem(form);
    if (missing) return setProblem(missing);
    setBusy(true);
    setError(null);
    try {
      const body = articleInput(form);
      const saved = await kbApi.save(form.id.trim(), body);
      onSaved(saved.id, body.title);
    } catch (e) {
      const p = fieldProblem(e, ARTICLE_FIELDS);
      setProblem(p);
      setError(p ? null : errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await kbApi.remove(form.id);
      onDeleted(form.title);
    } catch (e) {
      setError(errorText(e));
      setConfirmDelete(false);
      setBusy(false);
    }
  };
  const invalid = (field: string) => (problem?.field === field ? true : undefined);

  return (
    <div className="card-box kb-editor" data-testid="kb-editor">
      <div className="row">
        <button className="link" onClick={onClose}>← Articles</button>
        <h2>{isNew ? 'New article' : form.title || summary?.title}</h2>
      </div>
      {loadError && (
        <div className="banner banner-error" role="alert">
          The article's text could not be loaded: {loadError}. {canEdit && 'Saving replaces it with the text below.'}
        </div>
      )}
      <div className="kb-fields">
        <label>
          Title
          <input name="title" value={form.title} readOnly={!canEdit} aria-invalid={invalid('title')} maxLength={300} onChange={(e) => set('title', e.target.value)} />
          <FieldError problem={problem} field="title" />
        </label>
        <label>
          Id
          <input
            name="id"
            value={form.id}
            readOnly={!isNew}
            aria-invalid={invalid('id')}
            onChange={(e) => {
              setIdTyped(true);
              set('id', e.target.value);
            }}
          />
          <FieldError problem={problem} field="id" />
          {replacing && <span className="field-hint warning-text">An article with this id exists: saving replaces it.</span>}
        </label>
        <label>
          Collection
          <input name="collection" list={COLLECTIONS_LIST} placeholder="help" value={form.collection} readOnly={!canEdit} aria-invalid={invalid('collection')} onChange={(e) => set('collection', e.target.value)} />
          <FieldError problem={problem} field="collection" />
        </label>
        <label>
          URL <span className="field-hint">(optional: shown with answers as the source)</span>
          <input name="url" type="url" placeholder="https://help.example.com/refunds" value={form.url} readOnly={!canEdit} aria-invalid={invalid('url')} onChange={(e) => set('url', e.target.value)} />
          <FieldError problem={problem} field="url" />
        </label>
      </div>
      <div className="kb-body">
        <label>
          Markdown
          <textarea
            name="markdown"
            rows={18}
            className="mono"
            value={form.markdown}
            readOnly={!canEdit}
            disabled={loading}
            placeholder={loading ? 'Loading…' : '# Refund policy\n\nYou can ask for a refund within 30 days…'}
            aria-invalid={invalid('markdown')}
            onChange={(e) => set('markdown', e.target.value)}
          />
          <FieldError problem={problem} field="markdown" />
        </label>
        <div>
          <div className="kb-preview-label">Preview <span className="field-hint">(the text the AI reads)</span></div>
          <div className="kb-preview" data-testid="kb-preview">
            {blocks.length === 0 && <p className="muted">Nothing to show yet.</p>}
            {blocks.map((b, i) => <PreviewBlock key={i} block={b} />)}
          </div>
        </div>
      </div>
      {error && <div className="banner banner-error" role="alert">{error}</div>}
      {canEdit && (
        <div className="row">
          <button className="primary" disabled={busy || loading} onClick={() => void save()}>Save article</button>
          <button onClick={onClose}>Cancel</button>
          <span className="spacer" />
          {!isNew &&
            (confirmDelete ? (
              <>
                <span className="small">Delete “{form.title}”? This cannot be undone.</span>
                <button className="danger" disabled={busy} onClick={() => void remove()}>Delete article</button>
                <button onClick={() => setConfirmDelete(false)}>Keep it</button>
              </>
            ) : (
              <button className="danger" onClick={() => setConfirmDelete(true)}>Delete…</button>
            ))}
        </div>
      )}
    </div>
  );
}

function PreviewBlock({ block }: { block: Block }) {
  switch (block.kind) {
    case 'heading':
      return <div role="heading" aria-level={block.level} className={`kb-h kb-h${Math.min(block.level, 3)}`}>{block.text}</div>;
    case 'paragraph':
      return <p>{block.text}</p>;
    case 'quote':
      return <blockquote>{block.text}</blockquote>;
    case 'list': {
      const items = block.items.map((item, i) => <li key={i}>{item}</li>);
      return block.ordered ? <ol>{items}</ol> : <ul>{items}</ul>;
    }
    case 'code':
      return <pre className="kb-code">{block.text}</pre>;
  }
}

function ImportPanel({ defaultCollection, onDone }: { defaultCollection: string; onDone: (message?: string) => void }) {
  const [collection, setCollection] = useState(defaultCollection);
  const [files, setFiles] = useState<MarkdownFile[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const articles = useMemo(() => articlesFromFiles(files, collection), [files, collection]);

  const choose = async (list: FileList | null) => {
    const chosen = await Promise.all([...(list ?? [])].map(async (f) => ({ name: f.name, text: await f.text() })));
    setFiles(chosen);
    setError(importProblem(chosen));
  };
  const run = async () => {
    setBusy(true);
    setError(null);
    const names = files.map((f) => f.name);
    let imported = 0;
    let sent = 0;
    try {
      for (const batch of importBatches(articles)) {
        imported += (await kbApi.import(batch)).imported;
        sent += batch.length;
      }
      onDone(`Imported ${imported} ${imported === 1 ? 'article' : 'articles'} into “${collection.trim()}”.`);
    } catch (e) {
      setError(`${imported > 0 ? `${imported} imported, then: ` : ''}${importErrorText(e, names, sent)}`);
      setBusy(false);
    }
  };

  return (
    <div className="card-box form" data-testid="kb-import">
      <h2>Import Markdown files</h2>
      <p className="small muted">
        Each file becomes an article. Its title is its first “# ” heading, else the file name; its id is the file name without “.md”, as with
        <code> baton kb import</code>. An article with the same id is replaced.
      </p>
      <label>
        Collection
        <input name="import-collection" list={COLLECTIONS_LIST} placeholder="help" value={collection} onChange={(e) => setCollection(e.target.value)} />
      </label>
      <label>
        Files
        <input type="file" multiple accept=".md,.markdown,text/markdown" data-testid="kb-import-files" onChange={(e) => void choose(e.target.files)} />
      </label>
      {articles.length > 0 && (
        <ul className="small kb-import-list" data-testid="kb-import-preview">
          {articles.map((a) => (
            <li key={a.id}>
              <code>{a.id}</code> → {a.title}
            </li>
          ))}
        </ul>
      )}
      {error && <div className="banner banner-error" role="alert">{error}</div>}
      <div className="row">
        <button className="primary" disabled={busy || articles.length === 0 || !collection.trim() || importProblem(files) !== null} onClick={() => void run()}>
          Import {articles.length || ''} {articles.length === 1 ? 'article' : 'articles'}
        </button>
        <button onClick={() => onDone()}>Cancel</button>
      </div>
    </div>
  );
}
