import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, errorText, type PublishResponse } from '../api';
import { nodeInfo } from '../flow/nodeTypes';
import type { Diagnostic, FlowDocument } from '../flow/types';
import { changeLines, flowChanges, type ChangeLine } from './changes';
import { Dialog } from './Dialog';
import { CheckField } from './fields';

/** How many change lines the dialog shows before "and N more". */
const MAX_CHANGE_LINES = 12;

type Published = { state: 'loading' } | { state: 'loaded'; document: FlowDocument } | { state: 'failed'; message: string };

/** A change line as text, with `quoted` ids set in code. */
function ChangeText({ text }: { text: string }) {
  const parts = text.split('`');
  if (parts.length % 2 === 0) return <>{text}</>;
  return <>{parts.map((p, i) => (i % 2 === 1 ? <code key={i}>{p}</code> : p))}</>;
}

/** What changed since the last published version; informational only, never blocks publishing. */
function PublishChanges({ flowId, draft, version }: { flowId: string; draft: FlowDocument; version: number | null }) {
  const [published, setPublished] = useState<Published>({ state: 'loading' });

  useEffect(() => {
    if (version === null) return;
    let cancelled = false;
    setPublished({ state: 'loading' });
    api
      .version(flowId, version)
      .then((r) => {
        if (cancelled) return;
        const d = r.document;
        if (d && typeof d === 'object' && Array.isArray(d.nodes)) setPublished({ state: 'loaded', document: d });
        else setPublished({ state: 'failed', message: 'the published document could not be read' });
      })
      .catch((e: unknown) => {
        if (!cancelled) setPublished({ state: 'failed', message: errorText(e) });
      });
    return () => {
      cancelled = true;
    };
  }, [flowId, version]);

  const lines = useMemo<ChangeLine[] | null>(() => {
    const typeLabel = (t: string) => nodeInfo(t)?.label ?? t;
    if (version === null) return changeLines(flowChanges(null, draft), typeLabel);
    if (published.state !== 'loaded') return null;
    return changeLines(flowChanges(published.document, draft), typeLabel);
  }, [version, published, draft]);

  let body: ReactNode = null;
  if (version === null) {
    // Never published: the lines below say "First version: …".
  } else if (published.state === 'loading') {
    body = <p className="muted small">Comparing with version {version}…</p>;
  } else if (published.state === 'failed') {
    body = <p className="muted small">Could not compare with version {version}: {published.message}</p>;
  } else if (lines && lines.length === 0) {
    body = <p className="muted">No changes since version {version}.</p>;
  }

  const shown = lines ? lines.slice(0, MAX_CHANGE_LINES) : [];
  const more = lines ? lines.length - shown.length : 0;

  return (
    <section className="publish-changes" data-testid="publish-changes" data-state={version === null ? 'first' : published.state}>
      <span className="field-label">{version === null ? 'Changes' : `Changes since version ${version}`}</span>
      {body}
      {shown.length > 0 && (
        <ul className="publish-changes-list">
          {shown.map((l, i) => (
            <li key={i} className={`change-${l.kind}`}>
              <ChangeText text={l.text} />
            </li>
          ))}
          {more > 0 && <li className="muted">and {more} more</li>}
        </ul>
      )}
    </section>
  );
}

interface TestFailure {
  test?: string;
  failure?: unknown;
}

/** Publishes the draft as the next version, with a note; shows why publishing was refused. */
export function PublishDialog({
  flowId,
  draft,
  lastVersion,
  live,
  errors,
  warnings,
  beforePublish,
  onPublished,
  onFocusNode,
  onClose,
}: {
  flowId: string;
  /** The draft as the editor has it, compared with the last published version. */
  draft: FlowDocument;
  /** The last published version; null when the flow was never published. */
  lastVersion: number | null;
  /** Whether the flow is switched on. */
  live: boolean;
  errors: number;
  warnings: number;
  /** Saves pending edits first; false when the draft could not be saved. */
  beforePublish: () => Promise<boolean>;
  onPublished: (r: PublishResponse) => void;
  onFocusNode: (node: string) => void;
  onClose: () => void;
}) {
  const [note, setNote] = useState('');
  // The version to compare with, as it was when the dialog opened (publishing changes it).
  const [baseVersion] = useState(lastVersion);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<PublishResponse | null>(null);
  const [failure, setFailure] = useState<{ code: string; message: string; details: unknown } | null>(null);
  // A flow that is off can be switched on with its publishing: asked, and ticked on the first
  // version (publishing a flow nobody can reach is rarely what a lead means).
  const [offerLive] = useState(!live);
  const [goLive, setGoLive] = useState(lastVersion === null);
  const [liveOutcome, setLiveOutcome] = useState<{ state: 'live' } | { state: 'failed'; message: string } | null>(null);

  const publish = async () => {
    setBusy(true);
    setFailure(null);
    try {
      if (!(await beforePublish())) {
        setFailure({ code: 'not_saved', message: 'The draft could not be saved; see the save status.', details: null });
        return;
      }
      const r = await api.publish(flowId, note);
      if (offerLive && goLive) {
        try {
          await api.setLive(flowId, true);
          setLiveOutcome({ state: 'live' });
        } catch (e) {
          setLiveOutcome({ state: 'failed', message: errorText(e) });
        }
      }
      setResult(r);
      onPublished(r);
    } catch (e) {
      if (e instanceof ApiError) setFailure({ code: e.code, message: e.message, details: e.details });
      else setFailure({ code: 'error', message: errorText(e), details: null });
    } finally {
      setBusy(false);
    }
  };

  const findings = failure?.code === 'flow_invalid' && Array.isArray(failure.details) ? (failure.details as Diagnostic[]) : [];
  const tests = failure?.code === 'tests_failed' && Array.isArray(failure.details) ? (failure.details as TestFailure[]) : [];

  return (
    <Dialog
      title={result ? 'Published' : 'Publish this flow'}
      onClose={onClose}
      footer={
        result ? (
          <button className="primary" onClick={onClose}>
            Done
          </button>
        ) : (
          <>
            <button onClick={onClose}>Cancel</button>
            <button className="primary" onClick={() => void publish()} disabled={busy || note.length > 500} data-testid="publish-confirm">
              {busy ? 'Publishing…' : 'Publish'}
            </button>
          </>
        )
      }
    >
      {result ? (
        <div data-testid="publish-result">
          <p className="success-text">Published version {result.version}.</p>
          {result.tests_passed > 0 && <p>{result.tests_passed} scripted tests passed.</p>}
          {liveOutcome?.state === 'live' ? (
            <p data-testid="publish-live">It is live: new conversations can start on it. Conversations already running stay on their version.</p>
          ) : liveOutcome?.state === 'failed' ? (
            <p className="error-text" role="alert" data-testid="publish-live-failed">
              It could not be switched on: {liveOutcome.message}. Use the Live switch to try again.
            </p>
          ) : (
            <p className="muted">New conversations start on the live version when the flow is switched on. Conversations already running stay on their version.</p>
          )}
        </div>
      ) : (
        <>
          <p>
            The draft becomes the next version. {errors > 0 ? (
              <span className="status status-error">It has {errors} validation {errors === 1 ? 'error' : 'errors'}; publishing is refused until they are fixed.</span>
            ) : warnings > 0 ? (
              <span className="status status-warning">{warnings} {warnings === 1 ? 'warning' : 'warnings'} — worth a look, not blocking.</span>
            ) : (
              <span className="status status-ok">No problems found.</span>
            )}
          </p>
          <PublishChanges flowId={flowId} draft={draft} version={baseVersion} />
          <label className="field">
            <span className="field-label">What changed (for the version history)</span>
            <textarea rows={3} value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} name="note" placeholder="e.g. Ask for the order number before the hand-over" />
          </label>
          {offerLive && (
            <CheckField
              label="Go live now?"
              checked={goLive}
              onChange={setGoLive}
              hint={lastVersion === null ? 'The flow has never been live. Switched on, new conversations can start on it.' : 'The flow is off. Switched on, new conversations can start on this version.'}
            />
          )}
        </>
      )}
      {failure && (
        <div className="banner banner-error" role="alert" data-testid="publish-error" data-code={failure.code}>
          <strong>{failure.code === 'flow_invalid' ? 'Not published: the flow has errors.' : failure.code === 'tests_failed' ? 'Not published: scripted tests fail.' : 'Not published.'}</strong>{' '}
          {failure.message}
          {findings.length > 0 && (
            <ul className="failure-list">
              {findings.map((d, i) => (
                <li key={i}>
                  {d.node ? (
                    <button className="link" onClick={() => { onFocusNode(d.node as string); onClose(); }}>
                      {d.node}
                    </button>
                  ) : (
                    'flow'
                  )}
                  : {d.message} <code>{d.code}</code>
                </li>
              ))}
            </ul>
          )}
          {tests.length > 0 && (
            <ul className="failure-list">
              {tests.map((t, i) => (
                <li key={i}>
                  <strong>{t.test ?? 'test'}</strong>: {typeof t.failure === 'string' ? t.failure : JSON.stringify(t.failure)}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </Dialog>
  );
}
