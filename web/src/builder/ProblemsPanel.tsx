import type { Diagnostic } from '../flow/types';

/** Every validation finding of the draft; clicking one focuses its node. */
export function ProblemsPanel({
  diagnostics,
  onFocus,
  onClose,
}: {
  diagnostics: Diagnostic[];
  onFocus: (d: Diagnostic) => void;
  onClose: () => void;
}) {
  // Errors first (they block publishing), each group in the server's order.
  const sorted = [...diagnostics.filter((d) => d.severity === 'error'), ...diagnostics.filter((d) => d.severity !== 'error')];
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
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
        <span className="spacer" />
        <button className="link" onClick={onClose} aria-label="Hide problems">
          Hide
        </button>
      </div>
      {diagnostics.length === 0 ? (
        <div className="problems-empty">No problems found. Errors block publishing; warnings are worth a look.</div>
      ) : (
        <ul className="problems-list">
          {sorted.map((d, i) => (
            <li key={`${d.code}-${d.node ?? ''}-${d.port ?? ''}-${i}`}>
              <button
                className={`problem sev-${d.severity}`}
                data-code={d.code}
                data-node={d.node ?? ''}
                onClick={() => onFocus(d)}
                disabled={!d.node}
                title={d.hint ?? ''}
              >
                <span className={`sev-dot sev-dot-${d.severity}`} aria-label={d.severity} />
                <span className="problem-where">
                  {d.node ?? 'flow'}
                  {d.port ? ` · ${d.port}` : ''}
                </span>
                <span className="problem-message">{d.message}</span>
                {d.hint && <span className="problem-hint">{d.hint}</span>}
                <code className="problem-code">{d.code}</code>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
