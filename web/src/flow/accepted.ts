// Accepted warnings: the document's `accepted` list, as validation reads it
// (crates/flow/src/diagnostic.rs `mark_accepted`), so the builder shows an Accept at once.

import type { AcceptedWarning, Diagnostic, FlowDocument } from './types';

/** Whether an entry names this finding: same code and node, and the port when it gives one. */
function names(entry: AcceptedWarning, d: Diagnostic): boolean {
  return entry.code === d.code && entry.node === d.node && (entry.port === undefined || entry.port === d.port);
}

/** Whether the document's accepted list accepts this finding. Errors are never accepted. */
export function isAccepted(accepted: AcceptedWarning[] | undefined, d: Diagnostic): boolean {
  return d.severity === 'warning' && (accepted ?? []).some((entry) => names(entry, d));
}

/** The findings, each marked by whether the document's accepted list accepts it. */
export function withAccepted(list: AcceptedWarning[] | undefined, diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.map((d) => {
    const accepted = isAccepted(list, d);
    return accepted === (d.accepted ?? false) ? d : { ...d, accepted };
  });
}

/** The document with this warning accepted (at its node and port). Errors are left alone. */
export function acceptWarning(doc: FlowDocument, d: Diagnostic, note?: string): FlowDocument {
  if (d.severity !== 'warning' || isAccepted(doc.accepted, d)) return doc;
  const entry: AcceptedWarning = { code: d.code };
  if (d.node !== undefined) entry.node = d.node;
  if (d.port !== undefined) entry.port = d.port;
  if (note) entry.note = note;
  return { ...doc, accepted: [...(doc.accepted ?? []), entry] };
}

/** The document without the entries that accept this finding. */
export function undoAccept(doc: FlowDocument, d: Diagnostic): FlowDocument {
  const kept = (doc.accepted ?? []).filter((entry) => !names(entry, d));
  if (kept.length === (doc.accepted ?? []).length) return doc;
  const next: FlowDocument = { ...doc };
  if (kept.length) next.accepted = kept;
  else delete next.accepted;
  return next;
}

/** Errors, warnings still to look at, and accepted warnings. */
export function problemCounts(diagnostics: Diagnostic[]): { errors: number; warnings: number; accepted: number } {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const accepted = diagnostics.filter((d) => d.severity === 'warning' && d.accepted).length;
  return { errors, warnings: diagnostics.length - errors - accepted, accepted };
}
