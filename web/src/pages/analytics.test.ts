import { describe, expect, it } from 'vitest';
import type { FlowAnalytics } from '../api';
import type { FlowDocument } from '../flow/types';
import {
  agentRows,
  dropOffBadges,
  dropOffExplanation,
  dropOffRows,
  dropOffShare,
  dropOffStats,
  duration,
  handoverRate,
  nodeNames,
  outcomeSegments,
  percent,
  span,
} from './analytics';

describe('analytics helpers', () => {
  it('formats rates and durations', () => {
    expect(percent(0.5)).toBe('50%');
    expect(percent(null)).toBe('—');
    expect(percent(1 / 3)).toBe('33.3%');
    expect(duration(5_000)).toBe('5 s');
    expect(duration(125_000)).toBe('2 min 5 s');
    expect(duration(null)).toBe('—');
  });
  it('splits outcomes into bar segments', () => {
    const n = { node: 'h', handovers: 4, outcomes: { resolved: 1, handed_back: 3 }, picked_up: 4, pickup_ms_avg: 1, pickup_ms_max: 2 };
    expect(outcomeSegments(n)).toEqual([
      { outcome: 'handed_back', count: 3, share: 0.75 },
      { outcome: 'resolved', count: 1, share: 0.25 },
    ]);
    expect(handoverRate(n, 8)).toBe(0.5);
    expect(handoverRate(n, 0)).toBeNull();
  });
});

const base: FlowAnalytics = { conversations: 40, contained: 20, containment_rate: 0.5, handover_nodes: [] };

const doc: FlowDocument = {
  format: 1,
  name: 'Support',
  nodes: [
    { id: 'start', type: 'trigger' },
    { id: 'ask_email', type: 'collect_input', text: '  What is   your email?  ', variable: 'email' },
    { id: 'menu', type: 'options', text: 'x'.repeat(120), options: [] },
    { id: 'answer', type: 'ai_answer', intro: 'Ask me anything' },
    { id: 'odd', type: 'custom_thing' },
  ],
};

describe('drop-off', () => {
  it('names nodes from the document: type label and clipped text', () => {
    const names = nodeNames(doc);
    expect(names.get('ask_email')).toEqual({ type: 'collect_input', label: 'Collect Input', text: 'What is your email?' });
    expect(names.get('start')).toEqual({ type: 'trigger', label: 'Trigger', text: null });
    expect(names.get('answer')?.text).toBe('Ask me anything');
    expect(names.get('odd')?.label).toBe('custom_thing');
    const long = names.get('menu')?.text ?? '';
    expect(long.length).toBe(80);
    expect(long.endsWith('…')).toBe(true);
    expect(nodeNames(null).size).toBe(0);
  });

  it('treats a missing or malformed drop-off list as empty and leaves out empty nodes', () => {
    expect(dropOffStats(base)).toEqual([]);
    expect(dropOffStats(null)).toEqual([]);
    const a = {
      ...base,
      drop_off: [
        { node: 'a', waiting: 0, dropped_off: 0 },
        { node: '', waiting: 1, dropped_off: 1 },
        null,
        { node: 'b', waiting: 2, dropped_off: -3 },
      ],
    } as unknown as FlowAnalytics;
    expect(dropOffStats(a)).toEqual([{ node: 'b', waiting: 2, dropped_off: 0 }]);
  });

  it('sorts by drop-offs, then waiting, then node id', () => {
    const a: FlowAnalytics = {
      ...base,
      drop_off: [
        { node: 'w', waiting: 5, dropped_off: 0 },
        { node: 'b', waiting: 1, dropped_off: 4 },
        { node: 'a', waiting: 1, dropped_off: 4 },
        { node: 'c', waiting: 9, dropped_off: 4 },
        { node: 'top', waiting: 0, dropped_off: 10 },
      ],
    };
    expect(dropOffStats(a).map((s) => s.node)).toEqual(['top', 'c', 'a', 'b', 'w']);
  });

  it('builds chart rows with names, shares of all conversations and bar widths', () => {
    const a: FlowAnalytics = {
      ...base,
      drop_off_after_ms: 1_800_000,
      drop_off: [
        { node: 'ask_email', waiting: 3, dropped_off: 12 },
        { node: 'menu', waiting: 0, dropped_off: 6 },
        { node: 'gone', waiting: 2, dropped_off: 0 },
      ],
    };
    const rows = dropOffRows(a, nodeNames(doc));
    expect(rows.map((r) => [r.node, r.name?.label ?? null, r.dropped_off, r.waiting, r.share, r.width])).toEqual([
      ['ask_email', 'Collect Input', 12, 3, 0.3, 1],
      ['menu', 'Options', 6, 0, 0.15, 0.5],
      ['gone', null, 0, 2, 0, 0],
    ]);
    expect(dropOffRows({ ...a, conversations: 0 }, new Map())[0]?.share).toBeNull();
    expect(dropOffRows(base, nodeNames(doc))).toEqual([]);
  });

  it('computes the share of conversations', () => {
    expect(dropOffShare(12, 40)).toBe(0.3);
    expect(dropOffShare(3, 0)).toBeNull();
    expect(percent(dropOffShare(1, 3))).toBe('33.3%');
  });

  it('explains the rule from drop_off_after_ms', () => {
    expect(dropOffExplanation(1_800_000)).toBe(
      'A conversation counts as dropped off at a node when the customer has been silent there for 30 minutes.',
    );
    expect(dropOffExplanation(3_600_000)).toContain('silent there for 1 hour.');
    expect(dropOffExplanation(undefined)).toContain('silent there for too long.');
    expect(span(60_000)).toBe('1 minute');
    expect(span(7_200_000)).toBe('2 hours');
    expect(span(5_400_000)).toBe('1 h 30 min');
    expect(span(45_000)).toBe('45 seconds');
    expect(span(90_000)).toBe('1 min 30 s');
  });

  it('makes canvas badges only for nodes where conversations dropped off', () => {
    const a: FlowAnalytics = {
      ...base,
      drop_off_after_ms: 1_800_000,
      drop_off: [
        { node: 'ask_email', waiting: 3, dropped_off: 12 },
        { node: 'menu', waiting: 4, dropped_off: 0 },
        { node: 'answer', waiting: 0, dropped_off: 1 },
      ],
    };
    const badges = dropOffBadges(a);
    expect([...badges.keys()]).toEqual(['ask_email', 'answer']);
    expect(badges.get('ask_email')).toEqual({
      dropped_off: 12,
      waiting: 3,
      text: '↘ 12 dropped off',
      title: '12 conversations dropped off here (customer silent 30 minutes or more); 3 waiting for the customer now (analytics)',
    });
    expect(badges.get('answer')?.title.startsWith('1 conversation dropped off here')).toBe(true);
    expect(dropOffBadges(base).size).toBe(0);
  });
});

describe('per agent', () => {
  it('joins CSAT and missed reply targets by agent, named, the bot last', () => {
    const data = {
      conversations: 3, contained: 0, containment_rate: 0, handover_nodes: [],
      csat: {
        ratings: 3, satisfied: 2, csat: 2 / 3, average_of_5: 4,
        by_agent: [
          { agent_id: null, ratings: 1, satisfied: 1, csat: 1, average_of_5: 5 },
          { agent_id: 'mem_b', ratings: 2, satisfied: 1, csat: 0.5, average_of_5: 3.5 },
        ],
      },
      reply_missed: { total: 3, by_agent: [{ agent: { id: 'mem_a', name: 'Ana' }, first_reply: 2, next_reply: 1 }] },
    } as FlowAnalytics;
    const rows = agentRows(data, (id) => (id === 'mem_b' ? 'Bo' : undefined));
    expect(rows.map((r) => [r.name, r.ratings, r.csat, r.missedFirst, r.missedNext])).toEqual([
      ['Ana', 0, null, 2, 1],
      ['Bo', 2, 0.5, 0, 0],
      ['no agent (the bot only)', 1, 1, 0, 0],
    ]);
    expect(agentRows(null, () => undefined)).toEqual([]);
  });
});
