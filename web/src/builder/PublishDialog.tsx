import { useState } from 'react';
import { api, ApiError, errorText, type PublishResponse } from '../api';
import type { Diagnostic } from '../flow/types';
import { Dialog } from './Dialog';

interface TestFailure {
  test?: string;
  failure?: unknown;
}

/** Publishes the draft as the next version, with a note; shows why publishing was refused. */
export function PublishDialog({
  flowId,
  errors,
  warnings,
  beforePublish,
  onPublished,
  onFocusNode,
  onClose,
}: {
  flowId: string;
  errors: number;
  warnings: number;
  /** Saves pending edits first; false when the draft could not be saved. */
  beforePublish: () => Promise<boolean>;
  onPublished: (r: PublishResponse) => void;
  onFocusNode: (node: string) => void;
  onClose: () => void;
}) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<PublishResponse | null>(null);
  const [failure, setFailure] = useState<{ code: string; message: string; details: unknown } | null>(null);

  const publish = async () => {
    setBusy(true);
    setFailure(null);
    try {
      if (!(await beforePublish())) {
        setFailure({ code: 'not_saved', message: 'The draft could not be saved; see the save status.', details: null });
        return;
      }
      const r = await api.publish(flowId, note);
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
          <p className="muted">New conversations start on the live version when the flow is switched on. Conversations already running stay on their version.</p>
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
          <label className="field">
            <span className="field-label">What changed (for the version history)</span>
            <textarea rows={3} value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} name="note" placeholder="e.g. Ask for the order number before the hand-over" />
          </label>
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
