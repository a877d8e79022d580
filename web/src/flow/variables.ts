// Variables known in a flow, for the variable picker: what nodes store, what the document
// declares, and what Baton always provides.

import type { FlowDocument } from './types';

export interface KnownVariable {
  name: string;
  /** Where it comes from, for people: "Collect Input ask_email", "declared", "system". */
  source: string;
}

export const SYSTEM_VARIABLES: KnownVariable[] = [
  { name: 'last_message', source: 'the customer’s last message' },
  { name: 'contact.name', source: 'contact' },
  { name: 'contact.email', source: 'contact' },
  { name: 'conversation.channel', source: 'conversation' },
];

export const VARIABLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function s(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Every variable the flow stores or declares (each once, in document order), then the system ones. */
export function knownVariables(doc: FlowDocument): KnownVariable[] {
  const out: KnownVariable[] = [];
  const seen = new Set<string>();
  const add = (name: string | undefined, source: string) => {
    if (!name || seen.has(name)) return;
    seen.add(name);
    out.push({ name, source });
  };
  for (const v of doc.variables ?? []) add(s(v?.name), 'declared');
  for (const n of doc.nodes) {
    switch (n.type) {
      case 'collect_input':
        add(s(n.variable), `asked by ${n.id}`);
        break;
      case 'options': {
        const v = s(n.variable);
        if (v) {
          add(v, `chosen in ${n.id}`);
          add(`${v}_id`, `chosen in ${n.id}`);
        }
        break;
      }
      case 'ai_action':
        if (n.task === 'extract' && Array.isArray(n.fields)) {
          for (const f of n.fields) add(s((f as Record<string, unknown>)?.variable), `extracted by ${n.id}`);
        } else {
          add(s(n.variable), `AI ${s(n.task) ?? 'action'} ${n.id}`);
          if (n.task === 'sentiment') add(s(n.frustration_variable), `AI sentiment ${n.id}`);
        }
        break;
      case 'webhook':
        if (n.response_mapping && typeof n.response_mapping === 'object') {
          for (const k of Object.keys(n.response_mapping)) add(s(k), `webhook ${n.id}`);
        }
        break;
      default:
        break;
    }
  }
  for (const v of SYSTEM_VARIABLES) add(v.name, v.source);
  return out;
}

/** Inserts `{{ name }}` into `text` at the caret (or at the end). */
export function insertVariable(text: string, name: string, at?: number): { text: string; caret: number } {
  const pos = at === undefined || at < 0 || at > text.length ? text.length : at;
  const hole = `{{ ${name} }}`;
  return { text: text.slice(0, pos) + hole + text.slice(pos), caret: pos + hole.length };
}

const FILTERS = new Set(['default', 'upper', 'lower', 'title', 'trim', 'truncate', 'first_word']);

/**
 * A quick check of a template as the author types (the server's validation is the reference):
 * unclosed or empty holes, names that are not variable paths, unknown filters.
 */
export function templateProblem(text: string): string | null {
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    if (open < 0) return null;
    const close = text.indexOf('}}', open + 2);
    if (close < 0) return `“{{” at character ${open + 1} is never closed with “}}”`;
    const inner = text.slice(open + 2, close).trim();
    if (inner === '') return `empty “{{ }}” at character ${open + 1}`;
    const [path, ...filters] = splitFilters(inner);
    if (!VARIABLE_PATTERN.test((path ?? '').trim())) return `“${(path ?? '').trim()}” is not a variable name`;
    for (const f of filters) {
      const name = f.trim().replace(/\(.*$/s, '').trim();
      if (!FILTERS.has(name)) return `unknown filter “${name}” (filters: ${[...FILTERS].join(', ')})`;
      if (name === 'default' && !/^default\(\s*"(?:[^"\\]|\\.)*"\s*\)$/s.test(f.trim()))
        return 'default needs a text in quotes, e.g. default("there")';
      if (name === 'truncate' && !/^truncate\(\s*\d+\s*\)$/.test(f.trim())) return 'truncate needs a number, e.g. truncate(40)';
    }
    i = close + 2;
  }
  return null;
}

function splitFilters(inner: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let k = 0; k < inner.length; k++) {
    const c = inner[k] as string;
    if (c === '"' && inner[k - 1] !== '\\') quoted = !quoted;
    if (c === '|' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}
