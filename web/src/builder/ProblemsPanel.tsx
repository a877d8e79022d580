import { problemCounts } from '../flow/accepted';
import type { Diagnostic } from '../flow/types';

function ProblemRow({
  d,
  pathLabel,
  onFocus,
  action,
}: {
  d: Diagnostic;
  pathLabel: (node: string, port: string) => string;
  onFocus: (d: Diagnostic) => void;
  action?: { label: string; run: () => void };
}) {
  return (
    <li className="problem-row">
      <button
        className={`problem sev-${d.severity}${d.accepted ? ' problem-accepted' : ''}`}
        data-code={d.code}
        data-node={d.node ?? ''}
        data-port={d.port ?? ''}
        onClick={() => onFocus(d)}
        disabled={!d.node}
        title={d.hint ?? ''}
      >
        <span className={`sev-dot sev-dot-${d.accepted ? 'accepted' : d.severity}`} aria-label={d.accepted ? 'accepted warning' : d.severity} />
        <span className="problem-where">
          {d.node ?? 'flow'}
          {d.port ? ` · ${d.node ? pathLabel(d.node, d.port) : d.port}` : ''}
        </span>
        <span className="problem-message">{d.message}</span>
        {d.hint && !d.accepted && <span className="problem-hint">{d.hint}</span>}
        <code className="problem-code">{d.code}</code>
      </button>
      {action && (
        <button className="problem-action" onClick={action.run} aria-label={`${action.label}: ${d.message}`}>
          {action.label}
        </button>
      )}
    </li>
  );
}

/**
 * Every validation finding of the draft; clicking one focuses its node. A warning can be
 * accepted as intended (kept in the document); accepted ones are listed apart.
 */
export function ProblemsPanel({
  diagnostics,
  pathLabel,
  canEdit,
  onFocus,
  onAccept,
  onUndoAccept,
  onClose,
}: {
  /** The findings, with `accepted` marked. */
  diagnostics: Diagnostic[];
  /** A port of a node in the words the cards show. */
  pathLabel: (node: string, port: string) => string;
  canEdit: boolean;
  onFocus: (d: Diagnostic) => void;
  onAccept: (d: Diagnostic) => void;
  onUndoAccept: (d: Diagnostic) => void;
  onClose: () => void;
}) {
  // Errors first (they block publishing), each group in the server's order.
  const open = [...diagnostics.filter((d) => d.severity === 'error'), ...diagnostics.filter((d) => d.severity !== 'error' && !d.accepted)];
  const accepted = diagnostics.filter((d) => d.severity === 'warning' && d.accepted);
  const { errors, warnings } = problemCounts(diagnostics);
  return (
    <section className="problems" data-testid="problems" aria-label="Problems">
      <div className="problems-head">
        <strong>Problems</strong>
        <span className={errors ? 'status status-error' : 'muted'}>
          {errors} {errors === 1 ? 'error' : 'errors'}
        </span>
        <span className={warnings ? 'status status-warning' : 'muted'}>
          {warnings} {warnings === 1 ? 'warning' : 'warnings'}
        </span>
        {accepted.length > 0 && <span className="muted">{accepted.length} accepted</span>}
        <span className="spacer" />
        <button className="link" onClick={onClose} aria-label="Hide problems">
          Hide
        </button>
      </div>
      {diagnostics.length === 0 ? (
        <div className="problems-empty">No problems found. Errors block publishing; warnings are worth a look.</div>
      ) : (
        <ul className="problems-list">
          {open.map((d, i) => (
            <ProblemRow
              key={`${d.code}-${d.node ?? ''}-${d.port ?? ''}-${i}`}
              d={d}
              pathLabel={pathLabel}
              onFocus={onFocus}
              action={canEdit && d.severity === 'warning' ? { label: 'Accept', run: () => onAccept(d) } : undefined}
            />
          ))}
          {open.length === 0 && <li className="problems-empty">Nothing left to look at: the warnings below are accepted as intended.</li>}
          {accepted.length > 0 && (
            <li className="problems-accepted" data-testid="problems-accepted">
              <div className="problems-subhead">Accepted as intended — kept in the flow, not counted</div>
              <ul className="problems-list">
                {accepted.map((d, i) => (
                  <ProblemRow
                    key={`${d.code}-${d.node ?? ''}-${d.port ?? ''}-${i}`}
                    d={d}
                    pathLabel={pathLabel}
                    onFocus={onFocus}
                    action={canEdit ? { label: 'Undo accept', run: () => onUndoAccept(d) } : undefined}
                  />
                ))}
              </ul>
            </li>
          )}
        </ul>
      )}
    </section>
  );
}
