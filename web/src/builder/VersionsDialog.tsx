import { useEffect, useState } from 'react';
import { api, errorText, type VersionView } from '../api';
import { Dialog } from './Dialog';

/** The published versions, newest first, with export and rollback. */
export function VersionsDialog({
  flowId,
  liveVersion,
  canEdit,
  beforeRollback,
  onRolledBack,
  onClose,
}: {
  flowId: string;
  liveVersion: number | null;
  canEdit: boolean;
  /** Saves pending edits first, so the rollback's draft is not overwritten by them later. */
  beforeRollback: () => Promise<boolean>;
  onRolledBack: (message: string) => void;
  onClose: () => void;
}) {
  const [versions, setVersions] = useState<VersionView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .versions(flowId)
      .then(setVersions)
      .catch((e) => setError(errorText(e)));
  }, [flowId]);

  const rollback = async (version: number) => {
    setBusy(true);
    try {
      await beforeRollback();
      const r = await api.rollback(flowId, version);
      onRolledBack(`Rolled back: version ${r.version} publishes version ${version} again, and the draft is now that version.`);
      onClose();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };

  return (
    <Dialog title="Version history" onClose={onClose} footer={<button onClick={onClose}>Close</button>}>
      {error && (
        <div className="banner banner-error" role="alert">
          {error}
        </div>
      )}
      {versions === null ? (
        <p className="muted">Loading…</p>
      ) : versions.length === 0 ? (
        <p className="muted">Nothing published yet. Publish the draft to make version 1.</p>
      ) : (
        <ul className="versions" data-testid="versions">
          {versions.map((v) => (
            <li key={v.version} className="version">
              <div className="version-main">
                <strong>Version {v.version}</strong>
                {v.version === liveVersion && <span className="badge badge-live">live version</span>}
                <span className="muted small">{new Date(v.published_at).toLocaleString()}</span>
              </div>
              {v.note && <div className="version-note">{v.note}</div>}
              <div className="version-actions">
                <a className="button" href={api.exportUrl(flowId, v.version)} download>
                  Export
                </a>
                {canEdit &&
                  (confirm === v.version ? (
                    <>
                      <span className="small">Publish version {v.version} again and replace the draft?</span>
                      <button className="primary" disabled={busy} onClick={() => void rollback(v.version)}>
                        Roll back
                      </button>
                      <button onClick={() => setConfirm(null)}>Cancel</button>
                    </>
                  ) : (
                    <button onClick={() => setConfirm(v.version)}>Roll back to this</button>
                  ))}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
