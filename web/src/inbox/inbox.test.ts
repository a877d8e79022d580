import { describe, expect, it } from 'vitest';
import { DEFAULT_FILTERS, eventEffect, neighbour, shortcutFor, filtersToQuery, lastMessageLine, lineKind, parseEvent, replyDue, rowsToVariables, titleWithBadge, waitingFor } from './inbox';
import { parseRoute, href } from '../router';

describe('inbox helpers', () => {
  it('builds the list query from filters', () => {
    expect(filtersToQuery(DEFAULT_FILTERS)).toBe('status=queued%2Cassigned');
    expect(filtersToQuery({ status: 'queued', team: 'billing', assignee: 'me', priority: 'high', q: '', sort: '' })).toBe('status=queued&team=billing&assignee=me&priority=high');
    expect(filtersToQuery({ ...DEFAULT_FILTERS, q: '  refund 100% ', sort: 'newest' }, 'priority.1.2.conv_x')).toBe(
      'status=queued%2Cassigned&q=refund+100%25&sort=newest&cursor=priority.1.2.conv_x',
    );
  });
  it('reads shortcuts only outside text fields and without modifiers', () => {
    const none = { ctrl: false, meta: false, alt: false };
    expect(shortcutFor('j', none, false)).toBe('next');
    expect(shortcutFor('/', none, false)).toBe('search');
    expect(shortcutFor('j', none, true)).toBeNull();
    expect(shortcutFor('r', { ...none, ctrl: true }, false)).toBeNull();
    expect(shortcutFor('x', none, false)).toBeNull();
  });
  it('moves to the next and previous rows, staying inside the list', () => {
    expect(neighbour(['a', 'b', 'c'], undefined, 1)).toBe('a');
    expect(neighbour(['a', 'b', 'c'], 'a', 1)).toBe('b');
    expect(neighbour(['a', 'b', 'c'], 'c', 1)).toBe('c');
    expect(neighbour(['a', 'b', 'c'], 'a', -1)).toBe('a');
    expect(neighbour(['a', 'b'], 'gone', -1)).toBe('a');
    expect(neighbour([], 'a', 1)).toBeUndefined();
  });
  it('badges the title', () => {
    expect(titleWithBadge('Inbox · Baton', 0)).toBe('Inbox · Baton');
    expect(titleWithBadge('Inbox · Baton', 3)).toBe('(3) Inbox · Baton');
  });
  it('shows who wrote the last message, on one line', () => {
    expect(lastMessageLine({ role: 'customer', text: 'my card\n was charged  twice' })).toBe('Customer: my card was charged twice');
    expect(lastMessageLine({ role: 'bot', text: 'Connecting you.' })).toBe('Bot: Connecting you.');
    expect(lastMessageLine({ role: 'agent', text: 'Hi' })).toBe('Agent: Hi');
  });
  it('says how long the agent has to reply', () => {
    const now = 1_000_000_000;
    expect(replyDue(null, now)).toBeNull();
    expect(replyDue(now + 4 * 60_000 + 5_000, now)).toEqual({ text: 'reply in 4 min', level: 'ok' });
    expect(replyDue(now + 90_000, now)).toEqual({ text: 'reply in 1 min', level: 'soon' });
    expect(replyDue(now + 30_000, now)).toEqual({ text: 'reply in < 1 min', level: 'soon' });
    expect(replyDue(now + 65 * 60_000, now)).toEqual({ text: 'reply in 1 h 5 min', level: 'ok' });
    expect(replyDue(now, now)).toEqual({ text: 'reply overdue', level: 'overdue' });
  });
  it('classifies transcript roles', () => {
    expect(lineKind('note')).toBe('note');
    expect(lineKind('weird')).toBe('system');
  });
  it('parses events and decides what to refresh', () => {
    expect(parseEvent('nope')).toBeNull();
    const e = parseEvent('{"type":"conversation.queued","conversation_id":"c1"}');
    expect(e?.type).toBe('conversation.queued');
    expect(eventEffect(e!, 'c1')).toEqual({ refreshList: true, refreshOpen: true, toast: true });
    expect(eventEffect({ type: 'message.created', conversation_id: 'c2' }, 'c1')).toEqual({ refreshList: false, refreshOpen: false, toast: false });
    expect(eventEffect({ type: 'message.created', conversation_id: 'c1' }, 'c1').refreshOpen).toBe(true);
  });
  it('formats waiting times and hand-back variables', () => {
    expect(waitingFor(0, 1000)).toBe('');
    expect(waitingFor(1000, 1000 + 5 * 60_000)).toBe('5 min');
    expect(waitingFor(1000, 1000 + 65 * 60_000)).toBe('1 h 5 min');
    expect(rowsToVariables([{ name: 'amount', value: '94' }, { name: '', value: 'x' }, { name: 'note', value: 'hi there' }])).toEqual({ amount: 94, note: 'hi there' });
  });
  it('routes inbox, settings and analytics', () => {
    expect(parseRoute('/app/inbox')).toEqual({ page: 'inbox' });
    expect(parseRoute('/app/inbox/conv_1')).toEqual({ page: 'inbox', conversationId: 'conv_1' });
    expect(parseRoute('/app/settings/teams')).toEqual({ page: 'settings', section: 'teams' });
    expect(parseRoute('/app/flows/f1/analytics')).toEqual({ page: 'analytics', flowId: 'f1' });
    expect(href({ page: 'inbox', conversationId: 'c 1' })).toBe('/app/inbox/c%201');
  });
});
