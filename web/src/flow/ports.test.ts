import { describe, expect, it } from 'vitest';
import { exampleFlows } from '../test/examples';
import { NODE_INFO } from './nodeTypes';
import { ESCAPE_PORTS, HANDOVER_PORTS, portLabel, portsOf } from './ports';
import { NODE_TYPES, type FlowDocument, type FlowNode } from './types';

const node = (type: string, settings: Record<string, unknown> = {}): FlowNode => ({ id: 'n', type, ...settings });

describe('portsOf mirrors NodeKind::ports()', () => {
  it('trigger and message: next', () => {
    expect(portsOf(node('trigger'))).toEqual(['next']);
    expect(portsOf(node('message', { text: 'hi' }))).toEqual(['next']);
  });

  it('options: one per option id, then no_match', () => {
    const n = node('options', { text: 'Pick', options: [{ id: 'card', label: 'Card' }, { id: 'gift', label: 'Gift card' }] });
    expect(portsOf(n)).toEqual(['card', 'gift', 'no_match', ...ESCAPE_PORTS]);
    expect(portsOf(node('options', { text: 'Pick', options: [] }))).toEqual(['no_match', ...ESCAPE_PORTS]);
  });

  it('a question or Let AI Answer with no_reply has that port last', () => {
    const settings = { text: 'Email?', variable: 'email', no_reply: { after_minutes: 30 } };
    expect(portsOf(node('collect_input', settings))).toEqual(['next', 'invalid', ...ESCAPE_PORTS, 'no_reply']);
    expect(portsOf(node('ai_answer', { no_reply: { after_minutes: 5 } }))).toEqual(['resolved', 'unanswered', 'human', 'no_reply']);
  });

  it('collect_input: next, invalid, then the escape ports', () => {
    expect(portsOf(node('collect_input', { text: 'Email?', variable: 'email' }))).toEqual(['next', 'invalid', ...ESCAPE_PORTS]);
    expect(portLabel(node('collect_input', { text: 'Email?', variable: 'email' }), 'escape_human')).toBe('asks for a person');
  });

  it('branch: one per branch id, then else', () => {
    const n = node('branch', { branches: [{ id: 'paid', conditions: [] }, { id: 'review', conditions: [] }] });
    expect(portsOf(n)).toEqual(['paid', 'review', 'else']);
  });

  it('ai_action classify: one per category, unknown, error; other tasks: next, error', () => {
    const classify = node('ai_action', { task: 'classify', categories: [{ id: 'billing' }, { id: 'tech' }] });
    expect(portsOf(classify)).toEqual(['billing', 'tech', 'unknown', 'error']);
    for (const task of ['extract', 'summarize', 'sentiment', 'instruction']) {
      expect(portsOf(node('ai_action', { task }))).toEqual(['next', 'error']);
    }
  });

  it('ai_answer, webhook, handover, end', () => {
    expect(portsOf(node('ai_answer'))).toEqual(['resolved', 'unanswered', 'human']);
    expect(portsOf(node('webhook', { url: 'https://x' }))).toEqual(['success', 'failure']);
    expect(portsOf(node('handover'))).toEqual([...HANDOVER_PORTS]);
    expect(HANDOVER_PORTS).toEqual(['handed_back', 'resolved', 'off_hours', 'no_agent', 'timeout', 'cancelled']);
    expect(portsOf(node('end'))).toEqual([]);
  });

  it('unknown types have no ports', () => {
    expect(portsOf(node('nope'))).toEqual([]);
  });

  it('every node type has builder info, and new nodes have the ports of their defaults', () => {
    for (const type of NODE_TYPES) {
      const info = NODE_INFO[type];
      expect(info.type).toBe(type);
      const fresh = node(type, info.defaults());
      expect(Array.isArray(portsOf(fresh))).toBe(true);
    }
    expect(portsOf(node('options', NODE_INFO.options.defaults()))).toEqual(['option_1', 'no_match', ...ESCAPE_PORTS]);
    expect(portsOf(node('ai_action', NODE_INFO.ai_action.defaults()))).toEqual(['category_1', 'unknown', 'error']);
    expect(portsOf(node('branch', NODE_INFO.branch.defaults()))).toEqual(['branch_1', 'else']);
  });

  it('labels ports with option and branch labels', () => {
    const o = node('options', { options: [{ id: 'card', label: 'Back to my card' }] });
    expect(portLabel(o, 'card')).toBe('Back to my card');
    expect(portLabel(o, 'no_match')).toBe('no match');
    const b = node('branch', { branches: [{ id: 'paid', label: 'Nothing to pay', conditions: [] }, { id: 'x', conditions: [] }] });
    expect(portLabel(b, 'paid')).toBe('Nothing to pay');
    expect(portLabel(b, 'x')).toBe('x');
  });

  it('labels the fixed ports in words, as validation names their paths', () => {
    const h = node('handover', {});
    expect(HANDOVER_PORTS.map((p) => portLabel(h, p))).toEqual(['handed back', 'resolved', 'off hours', 'no agent online', 'wait timed out', 'wait cancelled']);
    expect(portLabel(node('collect_input', { text: 'Email?', variable: 'email' }), 'invalid')).toBe('no valid answer');
    expect(portLabel(node('branch', { branches: [] }), 'else')).toBe('otherwise');
    expect(portLabel(node('message', { text: 'Hi' }), 'next')).toBe('next');
  });

  it('every edge of every example flow leaves through a port the builder shows', () => {
    for (const { file, text } of exampleFlows()) {
      const doc = JSON.parse(text) as FlowDocument;
      for (const e of doc.edges ?? []) {
        const from = doc.nodes.find((n) => n.id === e.from);
        expect(from, `${file}: ${e.from}`).toBeDefined();
        expect(portsOf(from as FlowNode), `${file}: ${e.from}.${e.port}`).toContain(e.port);
      }
    }
  });
});
