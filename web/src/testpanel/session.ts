// Pure helpers for the builder's test conversation: the list of steps kept client-side, what
// each step looks like, and turning a played conversation into a scripted test.

import type { SimLine, SimResult, SimSetup, SimStep } from '../api';

export const DEFAULT_SETUP: Required<Pick<SimSetup, 'open' | 'agents_online' | 'handoff_enabled'>> = {
  open: true,
  agents_online: true,
  handoff_enabled: true,
};

/** Parses a duration step argument ("1m", "10m", "1h") to milliseconds. */
export function durationMs(d: string): number {
  const m = /^(\d+)\s*(ms|s|m|h|d)$/.exec(d.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return n * unit;
}

/** "1h 10m 5s" for a simulated clock. */
export function clockLabel(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts: string[] = [];
  if (h) parts.push(`${h}h`);
  if (m || h) parts.push(`${m}m`);
  parts.push(`${sec}s`);
  return `+${parts.join(' ')}`;
}

/** Which step kinds produce a line the customer or agent typed (and so are not "controls"). */
export function stepLabel(step: SimStep): string {
  if (typeof step === 'string') return step;
  const [k, v] = Object.entries(step)[0] ?? ['?', ''];
  if (k === 'hand_back') {
    const hb = (v ?? {}) as { variables?: Record<string, unknown>; resume_at?: string };
    const vars = Object.keys(hb.variables ?? {});
    return `hand back${hb.resume_at ? ` to ${hb.resume_at}` : ''}${vars.length ? ` with ${vars.join(', ')}` : ''}`;
  }
  if (k === 'set') return `set ${Object.entries(v as Record<string, unknown>).map(([a, b]) => `${a}=${String(b)}`).join(', ')}`;
  return `${k.replace('_', ' ')}: ${typeof v === 'string' ? v : JSON.stringify(v)}`;
}

/** Buttons the customer can press now: those of the last bot line, if nothing came after it from the customer. */
export function currentButtons(transcript: SimLine[]): { id: string; label: string }[] {
  for (let i = transcript.length - 1; i >= 0; i--) {
    const line = transcript[i] as SimLine;
    if (line.speaker === 'customer') return [];
    if (line.speaker === 'bot') return line.buttons ?? [];
  }
  return [];
}

/** Routes as edge keys "from:port->to", the form the builder's edges use. */
export function routeKeys(result: Pick<SimResult, 'routes'> | null): Set<string> {
  return new Set((result?.routes ?? []).map((r) => `${r.from}:${r.port}->${r.to}`));
}

/** Nodes visited by a test conversation: every route's ends. */
export function visitedNodes(result: Pick<SimResult, 'routes' | 'state'> | null): Set<string> {
  const out = new Set<string>();
  for (const r of result?.routes ?? []) {
    out.add(r.from);
    out.add(r.to);
  }
  if (result?.state.at) out.add(result.state.at);
  return out;
}

export interface ScriptedTest {
  name: string;
  setup?: SimSetup;
  steps: SimStep[];
}

/**
 * A played conversation as a scripted test: the actions in order, each followed by an
 * `expect_reply` for every bot line it produced. `botCounts[k]` is how many bot lines the
 * transcript had after the first k actions (k = 0 … steps.length).
 */
export function buildScriptedTest(name: string, setup: SimSetup, steps: SimStep[], botLines: string[], botCounts: number[]): ScriptedTest {
  const out: SimStep[] = [];
  const expect = (from: number, to: number) => {
    for (let i = from; i < to && i < botLines.length; i++) out.push({ expect_reply: botLines[i] as string });
  };
  expect(0, botCounts[0] ?? 0);
  steps.forEach((step, k) => {
    out.push(step);
    expect(botCounts[k] ?? 0, botCounts[k + 1] ?? botCounts[k] ?? 0);
  });
  const cleanSetup: SimSetup = {};
  if (setup.variables && Object.keys(setup.variables).length) cleanSetup.variables = setup.variables;
  if (setup.open === false) cleanSetup.open = false;
  if (setup.agents_online === false) cleanSetup.agents_online = false;
  if (setup.handoff_enabled === false) cleanSetup.handoff_enabled = false;
  return Object.keys(cleanSetup).length ? { name, setup: cleanSetup, steps: out } : { name, steps: out };
}

/** A unique test name among existing ones. */
export function uniqueName(base: string, existing: string[]): string {
  const taken = new Set(existing);
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base} (${i})`)) return `${base} (${i})`;
}

/** Parses "name=value" lines for a hand-back: numbers and true/false become typed values. */
export function parseVariables(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const name = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    out[name] = typedValue(value);
  }
  return out;
}

export function typedValue(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

export function displayValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
