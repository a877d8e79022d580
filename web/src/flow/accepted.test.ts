import { describe, expect, it } from 'vitest';
import { acceptWarning, isAccepted, problemCounts, undoAccept, withAccepted } from './accepted';
import type { Diagnostic, FlowDocument } from './types';

const doc: FlowDocument = { format: 1, name: 'Accepting', nodes: [{ id: 'start', type: 'trigger' }] };
const cancelled: Diagnostic = { code: 'port_unwired', severity: 'warning', node: 'human', port: 'cancelled', message: 'open' };
const timeout: Diagnostic = { ...cancelled, port: 'timeout' };
const deadEnd: Diagnostic = { code: 'dead_end', severity: 'error', node: 'thanks', port: 'next', message: 'nowhere' };

describe('accepted warnings', () => {
  it('accepts one warning at its port, counted apart, and undoes it', () => {
    const accepted = acceptWarning(doc, cancelled);
    expect(accepted.accepted).toEqual([{ code: 'port_unwired', node: 'human', port: 'cancelled' }]);
    expect(isAccepted(accepted.accepted, cancelled)).toBe(true);
    expect(isAccepted(accepted.accepted, timeout)).toBe(false);
    const marked = withAccepted(accepted.accepted, [deadEnd, cancelled, timeout]);
    expect(problemCounts(marked)).toEqual({ errors: 1, warnings: 1, accepted: 1 });
    // Accepting twice adds nothing.
    expect(acceptWarning(accepted, cancelled)).toBe(accepted);
    const undone = undoAccept(accepted, cancelled);
    expect(undone.accepted).toBeUndefined();
    expect(problemCounts(withAccepted(undone.accepted, [deadEnd, cancelled, timeout]))).toEqual({ errors: 1, warnings: 2, accepted: 0 });
  });

  it('never accepts an error', () => {
    expect(acceptWarning(doc, deadEnd)).toBe(doc);
    const written = { ...doc, accepted: [{ code: 'dead_end', node: 'thanks' }] };
    expect(isAccepted(written.accepted, deadEnd)).toBe(false);
  });

  it('reads an entry without a port as every port of the node, as validation does', () => {
    const written = { ...doc, accepted: [{ code: 'port_unwired', node: 'human', note: 'Both end the chat.' }] };
    expect(problemCounts(withAccepted(written.accepted, [cancelled, timeout]))).toEqual({ errors: 0, warnings: 0, accepted: 2 });
    // A finding about the whole flow is named by an entry without a node only.
    const flowWide: Diagnostic = { code: 'excessive_routing', severity: 'warning', message: 'long' };
    expect(isAccepted(written.accepted, flowWide)).toBe(false);
    expect(isAccepted([{ code: 'excessive_routing' }], flowWide)).toBe(true);
  });
});
