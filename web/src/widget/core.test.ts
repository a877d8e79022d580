import { describe, expect, it } from 'vitest';
import { AVATAR_COLORS, activeButtons, apiBase, avatarOf, lastSeq, mergeMessages, modeOf, parseStatusFrame, parseStored, safeUrl, storageKey, wsUrl, queueText } from './core';

describe('widget core', () => {
  it('derives the API base from its own script src', () => {
    expect(apiBase('https://support.example.com/widget.js', 'https://shop.test')).toBe('https://support.example.com');
    expect(apiBase('http://127.0.0.1:9000/widget.js?v=1', 'x:')).toBe('http://127.0.0.1:9000');
    expect(apiBase(null, 'https://shop.test')).toBe('https://shop.test');
  });
  it('builds the WebSocket URL with token and after', () => {
    expect(wsUrl('https://h.example', 'c 1', 't&k', 7)).toBe('wss://h.example/api/v1/conversations/c%201/ws?token=t%26k&after=7');
    expect(wsUrl('http://127.0.0.1:1', 'c', 't', 0)).toBe('ws://127.0.0.1:1/api/v1/conversations/c/ws?token=t&after=0');
  });
  it('stores and restores the conversation', () => {
    expect(storageKey('wk_1')).toBe('baton.widget.wk_1');
    expect(parseStored('{"conversationId":"c","token":"t","open":true}')).toEqual({ conversationId: 'c', token: 't', open: true });
    expect(parseStored('{bad')).toBeNull();
    expect(parseStored('{"conversationId":1}')).toBeNull();
  });
  it('merges messages by seq without duplicates', () => {
    const a = [{ seq: 1, role: 'bot', text: 'hi' }];
    const merged = mergeMessages(a, [{ seq: 3, role: 'bot' }, { seq: 2, role: 'customer' }, { seq: 1, role: 'bot', text: 'dup' }]);
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(merged[0]?.text).toBe('hi');
    expect(mergeMessages(merged, [{ seq: 2, role: 'customer' }])).toBe(merged);
    expect(lastSeq(merged)).toBe(3);
    const pending = [...merged, { seq: 3.5, role: 'customer', text: 'x', client_id: 'w_1' }];
    expect(mergeMessages(pending, [{ seq: 4, role: 'customer', text: 'x', client_id: 'w_1' }]).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });
  it('knows who the customer talks to from the status', () => {
    expect(modeOf('queued', null, [{ seq: 1, role: 'bot' }])).toEqual({ kind: 'connecting' });
    expect(modeOf('assigned', 'Sam', [{ seq: 1, role: 'agent', author: 'Dana' }])).toEqual({ kind: 'agent', name: 'Sam' });
    // Without the status frame's name: the agent who joined or spoke last.
    expect(modeOf('assigned', null, [{ seq: 1, role: 'system', author: 'Dana', text: 'Dana joined' }])).toEqual({ kind: 'agent', name: 'Dana' });
    expect(modeOf('assigned', null, [])).toEqual({ kind: 'agent', name: 'Agent' });
    // A system message alone decides nothing: the bot has it until the status says otherwise.
    expect(modeOf('bot', null, [{ seq: 1, role: 'agent', author: 'Dana' }, { seq: 2, role: 'customer' }])).toEqual({ kind: 'bot' });
    expect(modeOf(null, null, [])).toEqual({ kind: 'bot' });
    expect(modeOf('resolved', null, [])).toEqual({ kind: 'closed' });
    expect(modeOf('follow_up', 'Sam', [])).toEqual({ kind: 'closed' });
  });
  it('reads status frames', () => {
    expect(parseStatusFrame({ type: 'status', status: 'queued', queue: { position: 2, typical_wait_ms: 60000 }, agent: null })).toEqual({
      status: 'queued',
      queue: { position: 2, typical_wait_ms: 60000 },
      agentName: null,
    });
    expect(parseStatusFrame({ type: 'status', status: 'assigned', queue: null, agent: { name: 'Sam' } })).toEqual({ status: 'assigned', queue: null, agentName: 'Sam' });
    expect(parseStatusFrame({ type: 'status', status: 'queued', queue: { position: 1 } })?.queue).toEqual({ position: 1, typical_wait_ms: null });
    expect(parseStatusFrame({ type: 'message' })).toBeNull();
    expect(parseStatusFrame({ type: 'status' })).toBeNull();
    expect(parseStatusFrame(null)).toBeNull();
  });
  it('draws an avatar from the name: initials on a colour of its own', () => {
    expect(avatarOf('Sam').initials).toBe('S');
    expect(avatarOf('sam lee').initials).toBe('SL');
    expect(avatarOf('  Ana María López ').initials).toBe('AL');
    expect(avatarOf('').initials).toBe('?');
    expect(avatarOf('😀 Bo').initials).toBe('😀B');
    expect(avatarOf('Sam').color).toBe(avatarOf('Sam').color);
    expect(new Set(['Sam', 'Kim', 'Dana', 'Owner', 'Jo', 'Ana López'].map((n) => avatarOf(n).color)).size).toBeGreaterThan(2);
  });
  it('keeps white initials readable on every avatar colour (WCAG AA, 4.5:1)', () => {
    const luminance = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    for (const c of AVATAR_COLORS) expect(1.05 / (luminance(c) + 0.05), c).toBeGreaterThanOrEqual(4.5);
  });
  it('offers the last bot message buttons and only safe links', () => {
    const b = [{ id: 'y', label: 'Yes' }];
    expect(activeButtons([{ seq: 1, role: 'bot', buttons: b, buttons_only: true }])).toEqual({ buttons: b, only: true });
    expect(activeButtons([{ seq: 1, role: 'bot', buttons: b }, { seq: 2, role: 'customer' }])).toEqual({ buttons: [], only: false });
    expect(safeUrl('javascript:alert(1)')).toBeNull();
    expect(safeUrl('https://x.test/a')).toBe('https://x.test/a');
  });
});

describe('queue place', () => {
  it('says where the customer is and how long it usually takes', () => {
    expect(queueText(null)).toBe('');
    expect(queueText({ position: 1, typical_wait_ms: null })).toBe("You're next. ");
    expect(queueText({ position: 3, typical_wait_ms: 150_000 })).toBe("You're number 3 in line. Usually about 3 min. ");
    expect(queueText({ position: 2, typical_wait_ms: 5_000 })).toBe("You're number 2 in line. Usually about 1 min. ");
  });
});
