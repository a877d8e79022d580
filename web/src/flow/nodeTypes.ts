// What the builder knows about each node type: its name for people, what it does, the settings
// a new node starts with, and the key settings its card shows.

import type { FlowNode, NodeType } from './types';

export interface NodeTypeInfo {
  type: NodeType;
  label: string;
  description: string;
  /** Prefix of generated ids, e.g. `ask_1`. */
  idPrefix: string;
  /** Card accent colour. */
  color: string;
  /** Settings of a new node (without id, type and position). */
  defaults: () => Record<string, unknown>;
}

export const NODE_INFO: Record<NodeType, NodeTypeInfo> = {
  trigger: {
    type: 'trigger',
    label: 'Trigger',
    description: 'Where the flow starts',
    idPrefix: 'start',
    color: '#6b7280',
    defaults: () => ({}),
  },
  message: {
    type: 'message',
    label: 'Message',
    description: 'Sends text, an image and quick links',
    idPrefix: 'message',
    color: '#2563eb',
    defaults: () => ({ text: '' }),
  },
  options: {
    type: 'options',
    label: 'Options',
    description: 'Asks a question with buttons',
    idPrefix: 'options',
    color: '#7c3aed',
    defaults: () => ({ text: '', options: [{ id: 'option_1', label: 'Option 1' }] }),
  },
  collect_input: {
    type: 'collect_input',
    label: 'Collect Input',
    description: 'Asks for a value, checks and stores it',
    idPrefix: 'ask',
    color: '#0891b2',
    defaults: () => ({ text: '', variable: '', input: 'text' }),
  },
  branch: {
    type: 'branch',
    label: 'Branch',
    description: 'Chooses a way on from conditions',
    idPrefix: 'branch',
    color: '#ca8a04',
    defaults: () => ({
      branches: [
        { id: 'branch_1', conditions: [{ variable: 'last_message', op: 'contains', value: '' }] },
      ],
    }),
  },
  ai_action: {
    type: 'ai_action',
    label: 'AI Action',
    description: 'Classify, extract, summarise, sentiment',
    idPrefix: 'ai',
    color: '#db2777',
    defaults: () => ({ task: 'classify', categories: [{ id: 'category_1' }] }),
  },
  ai_answer: {
    type: 'ai_answer',
    label: 'Let AI Answer',
    description: 'Answers from the knowledge base',
    idPrefix: 'answer',
    color: '#9333ea',
    defaults: () => ({}),
  },
  webhook: {
    type: 'webhook',
    label: 'Send to Webhook',
    description: 'Calls your systems over HTTP',
    idPrefix: 'webhook',
    color: '#059669',
    defaults: () => ({ method: 'POST', url: '' }),
  },
  handover: {
    type: 'handover',
    label: 'Human Handover',
    description: 'Moves the conversation to the inbox',
    idPrefix: 'handover',
    color: '#ea580c',
    defaults: () => ({}),
  },
  end: {
    type: 'end',
    label: 'End',
    description: 'Ends the flow',
    idPrefix: 'end',
    color: '#475569',
    defaults: () => ({}),
  },
};

export function nodeInfo(type: string): NodeTypeInfo | undefined {
  return (NODE_INFO as Record<string, NodeTypeInfo | undefined>)[type];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

const ESCAPE_NAMES: Record<string, string> = {
  human: 'person',
  start_over: 'start over',
  cancel: 'cancel',
  correction: 'corrections',
};

/** A node's customer-silence settings in words. */
function noReplyLine(noReply: unknown): string | undefined {
  if (!noReply || typeof noReply !== 'object') return undefined;
  const n = noReply as { after_minutes?: unknown; nudge_after_minutes?: unknown };
  const nudge = typeof n.nudge_after_minutes === 'number' ? `, nudge at ${n.nudge_after_minutes} min` : '';
  return `after ${String(n.after_minutes ?? '?')} min${nudge}`;
}

/** A question's own escapes in words; nothing when it offers the workspace's. */
function escapesLine(escapes: unknown): string | undefined {
  if (!Array.isArray(escapes)) return undefined;
  return escapes.length ? escapes.map((e) => ESCAPE_NAMES[String(e)] ?? String(e)).join(', ') : 'none';
}

/** The key settings a card shows, as (label, value) lines of plain text. */
export function summaryLines(node: FlowNode): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== '') out.push([label, value]);
  };
  switch (node.type) {
    case 'trigger': {
      const on = str(node.on) ?? 'conversation_start';
      if (on === 'keyword') {
        const said = [...list(node.keywords).map(String), ...list(node.intents).map((i) => `“${String(i)}”`)];
        add('On first message', said.join(', ') || '(none)');
      } else if (on === 'api_event') add('On API event', str(node.event) ?? '(none)');
      else add('On', 'conversation start');
      if (on !== 'api_event') {
        add('Pages', list(node.pages).map(String).join(', ') || undefined);
        add('Channels', list(node.channels).map(String).join(', ') || undefined);
        if (list(node.contact).length) add('Contact rules', String(list(node.contact).length));
      }
      break;
    }
    case 'message':
      add('Says', str(node.text) ?? (node.image ? '(image)' : undefined));
      if (list(node.links).length) add('Links', String(list(node.links).length));
      break;
    case 'options':
      add('Asks', str(node.text));
      add('Escapes', escapesLine(node.escapes));
      add('No reply', noReplyLine(node.no_reply));
      add('Stores in', str(node.variable));
      if (str(node.typed_text) && node.typed_text !== 'reprompt') add('Typed text', String(node.typed_text));
      break;
    case 'collect_input':
      add('Asks', str(node.text));
      add('Escapes', escapesLine(node.escapes));
      add('No reply', noReplyLine(node.no_reply));
      add('Stores', [str(node.variable), `(${str(node.input) ?? 'text'})`].filter(Boolean).join(' '));
      break;
    case 'branch':
      add('Branches', String(list(node.branches).length));
      break;
    case 'ai_action': {
      add('Task', str(node.task));
      if (node.task === 'instruction') add('Instruction', str(node.instruction));
      if (node.task === 'extract')
        add(
          'Extracts',
          list(node.fields)
            .map((f) => str((f as Record<string, unknown>)?.variable) ?? '?')
            .join(', '),
        );
      add('Stores in', str(node.variable));
      break;
    }
    case 'ai_answer':
      add('Intro', str(node.intro));
      add('Collections', list(node.collections).map(String).join(', ') || 'all');
      break;
    case 'webhook':
      add(str(node.method) ?? 'POST', str(node.url) ?? '(no address)');
      break;
    case 'handover':
      add('Team', str(node.team) ?? 'default queue');
      if (str(node.agent)) add('Agent', str(node.agent));
      if (str(node.priority) && node.priority !== 'normal') add('Priority', String(node.priority));
      {
        const optional = list(node.optional_context).map(String);
        const required = list(node.context).map(String).filter((name) => !optional.includes(name));
        add('Context', [...required, ...optional.map((name) => `${name} (if given)`)].join(', ') || undefined);
      }
      add('Says', typeof node.message === 'string' ? node.message || '(nothing)' : undefined);
      break;
    case 'end':
      add('Says', str(node.message));
      add('Resolves', node.resolve === false ? 'no' : 'yes');
      if (node.csat && typeof node.csat === 'object') add('Asks a rating', (node.csat as { scale?: unknown }).scale === 2 ? 'bad / good' : '1 to 5');
      break;
    default:
      break;
  }
  return out;
}
