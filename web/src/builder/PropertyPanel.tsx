// The property panel: one form per node type (docs/flow-format.md), with field validation and
// the variable picker on template fields. Edits go straight into the document.

import { useId, useState, type ReactNode } from 'react';
import { ID_PATTERN } from '../flow/document';
import { nodeInfo } from '../flow/nodeTypes';
import type { BranchCase, Category, Choice, Condition, Diagnostic, ExtractField, FlowDocument, FlowNode } from '../flow/types';
import { VARIABLE_PATTERN, type KnownVariable } from '../flow/variables';
import { CheckField, CommitField, Field, ListEditor, ListField, NumberField, SelectField, TemplateField, TextField } from './fields';

export interface NodeChangeOptions {
  /** Edits of the same group in a row are one undo step (typing into one field). */
  group?: string;
  /** Ports renamed by this change (old → new), so their edges follow. */
  renamedPorts?: Record<string, string>;
}

type Change = (next: FlowNode, options?: NodeChangeOptions) => void;

/** Problems listed at the top of the panel; the rest are in the problems panel. */
const PANEL_PROBLEMS = 3;

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

function varNameProblem(v: string, required = true): string | null {
  if (v.trim() === '') return required ? 'Required: the variable to store it in, e.g. email.' : null;
  return NAME_PATTERN.test(v) ? null : 'Letters, digits and _, not starting with a digit (e.g. order_id).';
}

function varPathProblem(v: string): string | null {
  if (v.trim() === '') return 'Required, e.g. order_total or last_message.';
  return VARIABLE_PATTERN.test(v) ? null : 'A variable name; dots for paths (contact.plan).';
}

function portIdProblem(v: string, others: string[], reserved: string[]): string | null {
  if (!ID_PATTERN.test(v)) return '1 to 64 letters, digits, _ or -.';
  if (reserved.includes(v)) return `“${v}” is this node’s own port; choose another id.`;
  if (others.includes(v)) return 'Another entry has this id.';
  return null;
}

/** Sets `key` (or removes it when `value` is undefined), keeping the other fields as they are. */
export function withSetting(node: FlowNode, key: string, value: unknown): FlowNode {
  const next: FlowNode = { ...node };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : []);
function arr<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}
const opt = (v: string): string | undefined => (v === '' ? undefined : v);

function nextId(prefix: string, taken: string[]): string {
  for (let n = taken.length + 1; ; n++) {
    const id = `${prefix}_${n}`;
    if (!taken.includes(id)) return id;
  }
}

export function PropertyPanel({
  doc,
  node,
  diagnostics,
  variables,
  onChange,
  onRename,
  onDelete,
}: {
  doc: FlowDocument;
  node: FlowNode;
  diagnostics: Diagnostic[];
  variables: KnownVariable[];
  onChange: Change;
  onRename: (newId: string) => void;
  onDelete: () => void;
}) {
  const info = nodeInfo(node.type);
  const set = (key: string, value: unknown) => onChange(withSetting(node, key, value), { group: `${node.id}.${key}` });
  const others = doc.nodes.filter((n) => n !== node).map((n) => n.id);
  const props: TypeProps = { node, set, onChange, variables, doc };
  let form: ReactNode;
  switch (node.type) {
    case 'trigger':
      form = <TriggerForm {...props} />;
      break;
    case 'message':
      form = <MessageForm {...props} />;
      break;
    case 'options':
      form = <OptionsForm {...props} />;
      break;
    case 'collect_input':
      form = <CollectForm {...props} />;
      break;
    case 'branch':
      form = <BranchForm {...props} />;
      break;
    case 'ai_action':
      form = <AiActionForm {...props} />;
      break;
    case 'ai_answer':
      form = <AiAnswerForm {...props} />;
      break;
    case 'webhook':
      form = <WebhookForm {...props} />;
      break;
    case 'handover':
      form = <HandoverForm {...props} />;
      break;
    case 'end':
      form = <EndForm {...props} />;
      break;
    default:
      form = <p className="error-text">This node type is unknown to the builder; edit it in the exported file.</p>;
  }
  return (
    <div className="props" data-testid="property-panel" data-node-id={node.id}>
      <div className="props-head">
        <span className="swatch" style={{ background: info?.color ?? '#64748b' }} />
        <div>
          <div className="panel-title">{info?.label ?? node.type}</div>
          <div className="muted small">{info?.description}</div>
        </div>
      </div>
      {diagnostics.length > 0 && (
        <ul className="props-problems" aria-label="Problems in this node">
          {diagnostics.slice(0, PANEL_PROBLEMS).map((d, i) => (
            <li key={i} className={`sev-${d.severity}`} title={d.hint ?? ''}>
              <span className={`sev-dot sev-dot-${d.severity}`} aria-label={d.severity} /> {d.message}
            </li>
          ))}
          {diagnostics.length > PANEL_PROBLEMS && (
            <li className="muted">and {diagnostics.length - PANEL_PROBLEMS} more in Problems below</li>
          )}
        </ul>
      )}
      <CommitField
        label="Node id"
        name="node-id"
        value={node.id}
        hint="Edges and tests refer to it; say what the node does, e.g. ask_email."
        validate={(v) => (!ID_PATTERN.test(v) ? '1 to 64 letters, digits, _ or -.' : others.includes(v) ? 'Another node has this id.' : null)}
        onCommit={onRename}
      />
      {form}
      <div className="props-footer">
        <button type="button" className="danger" onClick={onDelete}>
          Delete node
        </button>
      </div>
    </div>
  );
}

interface TypeProps {
  node: FlowNode;
  set: (key: string, value: unknown) => void;
  onChange: Change;
  variables: KnownVariable[];
  doc: FlowDocument;
}

/** Variables an entry rule can test: what is known when a conversation starts. */
const ENTRY_VARIABLE = /^(contact|conversation)\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function TriggerForm({ node, set, onChange }: TypeProps) {
  const on = str(node.on) || 'conversation_start';
  const contact = arr<Condition>(node.contact);
  const firstMessage = on === 'keyword';
  return (
    <>
      <SelectField
        label="Starts on"
        value={on}
        options={[
          ['conversation_start', 'A new conversation'],
          ['keyword', 'The first message (keywords or intents)'],
          ['api_event', 'An API event'],
        ]}
        onChange={(v) => set('on', v === 'conversation_start' && node.on === undefined ? undefined : v)}
      />
      {firstMessage && (
        <ListField
          label="Keywords"
          value={strList(node.keywords)}
          onChange={(v) => set('keywords', v.length ? v : undefined)}
          placeholder={'refund\nmoney back'}
          hint="One per line; whole words, case and punctuation don’t matter."
        />
      )}
      {firstMessage && (
        <ListField
          label="Intents"
          value={strList(node.intents)}
          onChange={(v) => set('intents', v.length ? v : undefined)}
          placeholder={'cancel my order\nI don’t want it anymore'}
          hint="Example phrases, one per line: the AI picks the flow whose intent the first message means. A keyword or an intent is enough."
        />
      )}
      {firstMessage && strList(node.keywords).length === 0 && strList(node.intents).length === 0 && (
        <div className="field-error">Add a keyword or an intent.</div>
      )}
      {on === 'api_event' && (
        <TextField
          label="Event name"
          value={str(node.event)}
          onChange={(v) => set('event', opt(v))}
          validate={(v) => (v.trim() === '' ? 'Name the API event that starts the flow.' : null)}
        />
      )}
      {on !== 'api_event' && (
        <fieldset className="entry-rules" aria-label="Entry rules">
          <legend>Only when</legend>
          <p className="field-hint">
            With several live flows, a new conversation starts on the first flow (in the order on the Flows page) whose rules all
            hold; the fallback flow takes the rest.
          </p>
          <ListField
            label="The page is"
            value={strList(node.pages)}
            onChange={(v) => set('pages', v.length ? v : undefined)}
            placeholder={'https://shop.example/orders/*'}
            hint="URL patterns, one per line; * matches anything. Empty: any page."
          />
          <ListField
            label="The channel is"
            value={strList(node.channels)}
            onChange={(v) => set('channels', v.length ? v : undefined)}
            placeholder={'widget\napi'}
            hint="One per line. Empty: any channel."
            validateItem={(c) => (/^[A-Za-z0-9_-]{1,40}$/.test(c) ? null : `“${c}” is not a channel name (letters, digits, _ and -).`)}
          />
          <ListEditor
            title="The contact"
            items={contact}
            addLabel="+ Add contact rule"
            make={() => ({ variable: 'contact.plan', op: 'equals', value: '' })}
            onChange={(items) => onChange(withSetting(node, 'contact', items.length ? items : undefined), { group: `${node.id}.contact` })}
            render={(c, update) => <EntryConditionEditor cond={c} update={update} />}
          />
        </fieldset>
      )}
    </>
  );
}

/** A contact rule of a trigger: like a Branch condition, on what is known at the start. */
function EntryConditionEditor({ cond, update }: { cond: Condition; update: (c: Condition) => void }) {
  const op = cond.op;
  const needsValue = !['is_set', 'is_not_set'].includes(op);
  return (
    <div className="condition">
      <TextField
        label="Attribute"
        value={cond.variable ?? ''}
        onChange={(v) => update({ ...cond, variable: v })}
        placeholder="contact.plan"
        validate={(v) => (ENTRY_VARIABLE.test(v) ? null : 'contact.<name> or conversation.<name>: what is known when the conversation starts.')}
      />
      <SelectField
        label="Test"
        value={op}
        options={ENTRY_OPS}
        onChange={(next) => {
          const c: Condition = { ...cond, op: next };
          if (!needsValueOf(next)) delete c.value;
          else if (next === 'in_list') c.value = Array.isArray(cond.value) ? cond.value : [];
          else if (next === 'greater_than' || next === 'less_than') c.value = typeof cond.value === 'number' ? cond.value : 0;
          else if (typeof cond.value !== 'string') c.value = '';
          update(c);
        }}
      />
      {needsValue && <ConditionValue cond={cond} update={update} />}
    </div>
  );
}

/** The value a condition compares with: a list, a number or a text, by its test. */
function ConditionValue({ cond, update }: { cond: Condition; update: (c: Condition) => void }) {
  const op = cond.op;
  if (op === 'in_list') {
    return <ListField label="Values" value={Array.isArray(cond.value) ? cond.value.map(String) : []} onChange={(v) => update({ ...cond, value: v })} />;
  }
  if (op === 'greater_than' || op === 'less_than') {
    return <NumberField label="Value" integer={false} value={typeof cond.value === 'number' ? cond.value : undefined} onChange={(v) => update({ ...cond, value: v ?? 0 })} />;
  }
  return (
    <TextField
      label={op === 'matches' ? 'Pattern' : 'Value'}
      value={typeof cond.value === 'string' ? cond.value : cond.value === undefined ? '' : String(cond.value)}
      onChange={(v) => update({ ...cond, value: v })}
      validate={(v) => (op === 'contains' && v === '' ? 'An empty value never matches.' : null)}
    />
  );
}

function needsValueOf(op: string): boolean {
  return !['is_set', 'is_not_set', 'business_hours_open'].includes(op);
}

function MessageForm({ node, set, variables }: TypeProps) {
  const image = node.image && typeof node.image === 'object' ? (node.image as { url?: string; alt?: string }) : undefined;
  const links = arr<{ label: string; url: string }>(node.links);
  return (
    <>
      <TemplateField
        label="Text"
        name="text"
        value={str(node.text)}
        onChange={(v) => set('text', v)}
        variables={variables}
        placeholder={'Hi {{ contact.name | first_word | default("there") }}!'}
        required={image ? undefined : 'Write the text the customer should see.'}
      />
      <TemplateField
        label="Image address (optional)"
        multiline={false}
        value={image?.url ?? ''}
        variables={variables}
        placeholder="https://…"
        onChange={(v) => set('image', v === '' ? undefined : { url: v, alt: image?.alt ?? '' })}
      />
      {image && (
        <TextField label="Image description (alt)" value={image.alt ?? ''} onChange={(v) => set('image', { ...image, alt: v })} hint="For screen readers." />
      )}
      <ListEditor
        title="Quick links"
        items={links}
        addLabel="+ Add link"
        make={() => ({ label: '', url: 'https://' })}
        onChange={(items) => set('links', items.length ? items : undefined)}
        render={(link, update) => (
          <>
            <TemplateField label="Label" multiline={false} value={link.label} variables={variables} onChange={(v) => update({ ...link, label: v })} required="A link needs a label." />
            <TemplateField label="Address" multiline={false} value={link.url} variables={variables} onChange={(v) => update({ ...link, url: v })} />
          </>
        )}
      />
    </>
  );
}

function OptionsForm({ node, set, onChange, variables }: TypeProps) {
  const options = arr<Choice>(node.options);
  const mode = str(node.typed_text) || 'reprompt';
  return (
    <>
      <TemplateField label="Question" name="text" value={str(node.text)} onChange={(v) => set('text', v)} variables={variables} required="Write the question." />
      <ListEditor
        title={`Options (${options.length} of 20)`}
        items={options}
        max={20}
        addLabel="+ Add option"
        make={(items) => {
          const id = nextId('option', items.map((o) => o.id));
          return { id, label: `Option ${items.length + 1}` };
        }}
        onChange={(items, renamed) => onChange(withSetting(node, 'options', items), { group: renamed ? undefined : `${node.id}.options`, renamedPorts: renamed })}
        render={(o, update, i) => (
          <>
            <TextField
              label="Button label"
              value={o.label}
              onChange={(v) => update({ ...o, label: v })}
              validate={(v) => (v.trim() === '' ? 'Write the button text.' : v.length > 20 ? 'Longer than 20 characters: some channels cut it.' : null)}
            />
            <CommitField
              label="Port id"
              value={o.id}
              validate={(v) => portIdProblem(v, options.filter((_, k) => k !== i).map((x) => x.id), ['no_match'])}
              onCommit={(v) => update({ ...o, id: v }, { [o.id]: v })}
            />
            <ListField
              label="Synonyms"
              value={o.synonyms ?? []}
              onChange={(v) => {
                const next: Choice = { ...o, synonyms: v };
                if (v.length === 0) delete next.synonyms;
                update(next);
              }}
              placeholder={'card\ncredit card'}
            />
          </>
        )}
      />
      {options.length > 10 && <div className="field-hint">More than 10 options: WhatsApp and Messenger show at most 10.</div>}
      <TextField
        label="Store the pick in (optional)"
        value={str(node.variable)}
        onChange={(v) => set('variable', opt(v))}
        validate={(v) => varNameProblem(v, false)}
        hint="The label goes here, the option id in <variable>_id."
      />
      <SelectField
        label="When the customer types instead"
        value={mode}
        options={[
          ['reprompt', 'Match labels and synonyms, ask again (default)'],
          ['strict', 'Only buttons count'],
          ['ai_classify', 'The AI picks the closest option'],
          ['bail', 'Take the “no match” path at once'],
        ]}
        onChange={(v) => set('typed_text', v === 'reprompt' && node.typed_text === undefined ? undefined : v)}
      />
      {mode === 'reprompt' && (
        <NumberField label="Ask again at most" value={num(node.max_reprompts)} placeholder="2" min={0} max={100} onChange={(v) => set('max_reprompts', v)} />
      )}
      {(mode === 'reprompt' || mode === 'strict') && (
        <TemplateField
          label="Said before asking again"
          value={str(node.reprompt_text)}
          onChange={(v) => set('reprompt_text', opt(v))}
          variables={variables}
          placeholder="Sorry, I didn't catch that. Please choose one of the options."
        />
      )}
      <EscapesField node={node} set={set} />
      <NoReplyField node={node} set={set} />
    </>
  );
}

const ESCAPE_KINDS: Array<[string, string]> = [
  ['human', 'Asks for a person'],
  ['start_over', 'Starts over'],
  ['cancel', 'Cancels'],
  ['correction', 'Corrects an earlier answer'],
];

/** What a waiting node does when the customer stops answering (its `no_reply` port). */
function NoReplyField({ node, set }: { node: FlowNode; set: (key: string, value: unknown) => void }) {
  const current = node.no_reply && typeof node.no_reply === 'object' ? (node.no_reply as Record<string, unknown>) : null;
  const update = (key: string, value: unknown) => {
    const next: Record<string, unknown> = { ...(current ?? { after_minutes: 30 }) };
    if (value === undefined || value === '') delete next[key];
    else next[key] = value;
    set('no_reply', next);
  };
  return (
    <fieldset className="no-reply" aria-label="When the customer stops answering">
      <legend>When the customer stops answering</legend>
      <CheckField
        label="Take the “no reply” path after a while"
        checked={current !== null}
        onChange={(v) => set('no_reply', v ? { after_minutes: 30 } : undefined)}
      />
      {current && (
        <>
          <NumberField label="After (minutes)" value={num(current.after_minutes)} min={1} max={43200} onChange={(v) => update('after_minutes', v ?? 30)} />
          <NumberField
            label="Nudge after (minutes, optional)"
            value={num(current.nudge_after_minutes)}
            min={1}
            max={43199}
            onChange={(v) => update('nudge_after_minutes', v)}
            hint="Said once before the “no reply” path is taken; must be less than the time above."
          />
          <TextField label="Nudge" value={str(current.nudge)} onChange={(v) => update('nudge', v)} placeholder="Are you still there?" />
        </>
      )}
    </fieldset>
  );
}

/** Which escapes a question offers: the workspace's (no field), or its own list. */
function EscapesField({ node, set }: { node: FlowNode; set: (key: string, value: unknown) => void }) {
  const own = Array.isArray(node.escapes) ? node.escapes.map(String) : null;
  return (
    <fieldset className="escapes" aria-label="Escapes">
      <legend>Escapes</legend>
      <p className="field-hint">
        Instead of answering, the customer may ask for a person, start over, cancel or correct an earlier answer; what they typed
        is not stored as the answer. Each escape does its default unless its port is connected (select the node to see the
        ports).
      </p>
      <CheckField
        label="Offer the workspace’s escapes"
        checked={own === null}
        onChange={(v) => set('escapes', v ? undefined : ESCAPE_KINDS.map(([k]) => k))}
      />
      {own !== null &&
        ESCAPE_KINDS.map(([kind, label]) => (
          <CheckField
            key={kind}
            label={label}
            checked={own.includes(kind)}
            onChange={(v) => set('escapes', v ? [...own.filter((k) => k !== kind), kind] : own.filter((k) => k !== kind))}
          />
        ))}
    </fieldset>
  );
}

function CollectForm({ node, set, variables }: TypeProps) {
  const input = str(node.input) || 'text';
  return (
    <>
      <TemplateField label="Question" name="text" value={str(node.text)} onChange={(v) => set('text', v)} variables={variables} required="Write the question." />
      <TextField label="Store the answer in" name="variable" value={str(node.variable)} onChange={(v) => set('variable', v)} validate={(v) => varNameProblem(v)} placeholder="email" />
      <SelectField
        label="Check the answer as"
        name="input"
        value={input}
        options={[
          ['text', 'Any text'],
          ['name', 'A name'],
          ['email', 'An email address'],
          ['phone', 'A phone number'],
          ['number', 'A number'],
          ['date', 'A date'],
          ['regex', 'A pattern (regular expression)'],
        ]}
        onChange={(v) => set('input', v)}
      />
      {input === 'regex' && (
        <TextField
          label="Pattern"
          value={str(node.pattern)}
          onChange={(v) => set('pattern', opt(v))}
          placeholder="\d{10}"
          validate={(v) => {
            if (v === '') return 'Required with a pattern check: the whole answer must match it.';
            if (v.length > 1000) return 'At most 1,000 characters.';
            try {
              new RegExp(v.replace(/^\(\?i\)/, ''));
              return null;
            } catch {
              return 'This pattern does not read as a regular expression.';
            }
          }}
        />
      )}
      <TemplateField
        label="Error text"
        value={str(node.error_text)}
        onChange={(v) => set('error_text', opt(v))}
        variables={variables}
        placeholder="(the default text for this kind of answer)"
      />
      <NumberField label="Attempts" value={num(node.max_attempts)} placeholder="3" min={1} max={10} onChange={(v) => set('max_attempts', v)} hint="1 to 10; after this many failures the node takes the “no valid answer” path." />
      <EscapesField node={node} set={set} />
      <NoReplyField node={node} set={set} />
    </>
  );
}

const OPS: Array<[string, string]> = [
  ['equals', 'equals'],
  ['not_equals', 'does not equal'],
  ['contains', 'contains'],
  ['matches', 'matches pattern'],
  ['is_set', 'is set'],
  ['is_not_set', 'is not set'],
  ['greater_than', 'is greater than'],
  ['less_than', 'is less than'],
  ['in_list', 'is one of'],
  ['business_hours_open', 'business hours are open'],
];
/** Entry rules are judged when a conversation starts: business hours are for a Branch node. */
const ENTRY_OPS = OPS.filter(([op]) => op !== 'business_hours_open');

function ConditionEditor({ cond, update, variables }: { cond: Condition; update: (c: Condition) => void; variables: KnownVariable[] }) {
  const listId = useId();
  const op = cond.op;
  const needsVariable = op !== 'business_hours_open';
  const needsValue = !['is_set', 'is_not_set', 'business_hours_open'].includes(op);
  const setOp = (next: string) => {
    const c: Condition = { ...cond, op: next };
    if (next === 'business_hours_open') delete c.variable;
    else if (c.variable === undefined) c.variable = 'last_message';
    if (['is_set', 'is_not_set', 'business_hours_open'].includes(next)) delete c.value;
    else if (next === 'in_list') c.value = Array.isArray(cond.value) ? cond.value : [];
    else if (next === 'greater_than' || next === 'less_than') c.value = typeof cond.value === 'number' ? cond.value : 0;
    else if (typeof cond.value !== 'string' && typeof cond.value !== 'number' && typeof cond.value !== 'boolean') c.value = '';
    if (next !== 'business_hours_open') delete c.team;
    update(c);
  };
  return (
    <div className="condition">
      {needsVariable && (
        <Field label="Variable" error={varPathProblem(cond.variable ?? '')}>
          <input list={listId} value={cond.variable ?? ''} onChange={(e) => update({ ...cond, variable: e.target.value })} />
          <datalist id={listId}>
            {variables.map((v) => (
              <option key={v.name} value={v.name} />
            ))}
          </datalist>
        </Field>
      )}
      <SelectField label="Test" value={op} options={OPS} onChange={setOp} />
      {needsValue && <ConditionValue cond={cond} update={update} />}
      {op === 'business_hours_open' && (
        <TextField
          label="Team (optional)"
          value={cond.team ?? ''}
          onChange={(v) => {
            const c: Condition = { ...cond, team: v };
            if (v === '') delete c.team;
            update(c);
          }}
          placeholder="the workspace’s hours"
        />
      )}
    </div>
  );
}

function BranchForm({ node, onChange, variables }: TypeProps) {
  const branches = arr<BranchCase>(node.branches);
  return (
    <>
      <p className="field-hint">Branches are tried in order; the first whose conditions hold wins, else the node leaves through else.</p>
      <ListEditor
        title="Branches"
        items={branches}
        addLabel="+ Add branch"
        make={(items) => ({ id: nextId('branch', items.map((b) => b.id)), conditions: [{ variable: 'last_message', op: 'contains', value: '' }] })}
        onChange={(items, renamed) => onChange(withSetting(node, 'branches', items), { group: renamed ? undefined : `${node.id}.branches`, renamedPorts: renamed })}
        render={(b, update, i) => (
          <>
            <CommitField
              label="Port id"
              value={b.id}
              validate={(v) => portIdProblem(v, branches.filter((_, k) => k !== i).map((x) => x.id), ['else'])}
              onCommit={(v) => update({ ...b, id: v }, { [b.id]: v })}
            />
            <TextField
              label="Label (shown on the canvas)"
              value={b.label ?? ''}
              onChange={(v) => {
                const next: BranchCase = { ...b, label: v };
                if (v === '') delete next.label;
                update(next);
              }}
            />
            <SelectField
              label="Match"
              value={b.match ?? 'all'}
              options={[
                ['all', 'All conditions'],
                ['any', 'Any condition'],
              ]}
              onChange={(v) => {
                const next: BranchCase = { ...b, match: v };
                if (v === 'all' && b.match === undefined) delete next.match;
                update(next);
              }}
            />
            <ListEditor
              title="Conditions"
              items={b.conditions ?? []}
              addLabel="+ Add condition"
              make={() => ({ variable: 'last_message', op: 'contains', value: '' })}
              onChange={(conds) => update({ ...b, conditions: conds })}
              render={(c, updateCond) => <ConditionEditor cond={c} update={updateCond} variables={variables} />}
            />
            {(b.conditions ?? []).length === 0 && <div className="field-error">A branch needs a condition.</div>}
          </>
        )}
      />
    </>
  );
}

function AiActionForm({ node, set, onChange, variables }: TypeProps) {
  const task = str(node.task) || 'classify';
  const categories = arr<Category>(node.categories);
  const fields = arr<ExtractField>(node.fields);
  const setTask = (t: string) => {
    let next = withSetting(node, 'task', t);
    if (t === 'classify' && categories.length === 0) next = withSetting(next, 'categories', [{ id: 'category_1' }]);
    if (t === 'extract' && fields.length === 0) next = withSetting(next, 'fields', [{ variable: 'email', kind: 'email' }]);
    onChange(next);
  };
  return (
    <>
      <SelectField
        label="Task"
        value={task}
        options={[
          ['classify', 'Classify into categories'],
          ['extract', 'Extract fields'],
          ['summarize', 'Summarise the conversation'],
          ['sentiment', 'Detect sentiment and frustration'],
          ['instruction', 'Follow an instruction'],
        ]}
        onChange={setTask}
      />
      {task !== 'summarize' && (
        <TemplateField
          label="Input"
          multiline={false}
          value={str(node.input)}
          onChange={(v) => set('input', opt(v))}
          variables={variables}
          placeholder="(the customer’s last message)"
        />
      )}
      {task === 'classify' && (
        <>
          <ListEditor
            title="Categories"
            items={categories}
            addLabel="+ Add category"
            make={(items) => ({ id: nextId('category', items.map((c) => c.id)) })}
            onChange={(items, renamed) => onChange(withSetting(node, 'categories', items), { group: renamed ? undefined : `${node.id}.categories`, renamedPorts: renamed })}
            render={(c, update, i) => (
              <>
                <CommitField
                  label="Port id"
                  value={c.id}
                  validate={(v) => portIdProblem(v, categories.filter((_, k) => k !== i).map((x) => x.id), ['unknown', 'error'])}
                  onCommit={(v) => update({ ...c, id: v }, { [c.id]: v })}
                />
                <TextField
                  label="Description"
                  value={c.description ?? ''}
                  onChange={(v) => {
                    const next: Category = { ...c, description: v };
                    if (v === '') delete next.description;
                    update(next);
                  }}
                />
                <ListField
                  label="Examples"
                  value={c.examples ?? []}
                  onChange={(v) => {
                    const next: Category = { ...c, examples: v };
                    if (v.length === 0) delete next.examples;
                    update(next);
                  }}
                  hint="Three to five real customer phrases, one per line."
                />
              </>
            )}
          />
          <NumberField label="Confidence threshold" integer={false} min={0} max={1} value={num(node.threshold)} onChange={(v) => set('threshold', v)} placeholder="(the AI’s own)" />
        </>
      )}
      {task === 'extract' && (
        <ListEditor<ExtractField>
          title="Fields"
          items={fields}
          addLabel="+ Add field"
          make={() => ({ variable: '', kind: 'text' })}
          onChange={(items) => onChange(withSetting(node, 'fields', items), { group: `${node.id}.fields` })}
          render={(f, update) => (
            <>
              <TextField label="Variable" value={f.variable} onChange={(v) => update({ ...f, variable: v })} validate={(v) => varNameProblem(v)} />
              <SelectField
                label="Kind"
                value={f.kind}
                options={['email', 'phone', 'order_id', 'name', 'number', 'date', 'text', 'regex'].map((k) => [k, k] as [string, string])}
                onChange={(v) => {
                  const next: ExtractField = { ...f, kind: v };
                  if (v !== 'regex') delete next.pattern;
                  update(next);
                }}
              />
              {f.kind === 'regex' && (
                <TextField
                  label="Pattern"
                  value={f.pattern ?? ''}
                  onChange={(v) => update({ ...f, pattern: v })}
                  validate={(v) => (v === '' ? 'Required for a pattern field.' : null)}
                />
              )}
            </>
          )}
        />
      )}
      {task === 'instruction' && (
        <TemplateField label="Instruction" value={str(node.instruction)} onChange={(v) => set('instruction', opt(v))} variables={variables} required="Write what the AI should do." />
      )}
      {task !== 'extract' && (
        <TextField
          label={task === 'classify' ? 'Store the category in (optional)' : 'Store the result in'}
          value={str(node.variable)}
          onChange={(v) => set('variable', opt(v))}
          validate={(v) => varNameProblem(v, task !== 'classify')}
        />
      )}
      {task === 'sentiment' && (
        <TextField
          label="Store frustration (true/false) in (optional)"
          value={str(node.frustration_variable)}
          onChange={(v) => set('frustration_variable', opt(v))}
          validate={(v) => varNameProblem(v, false)}
        />
      )}
    </>
  );
}

function AiAnswerForm({ node, set, variables }: TypeProps) {
  return (
    <>
      <TemplateField label="Intro" value={str(node.intro)} onChange={(v) => set('intro', opt(v))} variables={variables} placeholder="What would you like to know?" />
      <ListField label="Collections" value={strList(node.collections)} onChange={(v) => set('collections', v.length ? v : undefined)} placeholder="(all collections)" />
      <CheckField
        label="Answer the customer’s last message at once"
        checked={node.answer_last_message !== false}
        onChange={(v) => set('answer_last_message', v ? (node.answer_last_message === undefined ? undefined : true) : false)}
      />
      <NumberField label="Confidence threshold" integer={false} min={0} max={1} value={num(node.threshold)} onChange={(v) => set('threshold', v)} placeholder="(the AI’s own)" />
      <NumberField label="Most answers" min={1} max={1000} value={num(node.max_turns)} onChange={(v) => set('max_turns', v)} placeholder="10" />
      <NoReplyField node={node} set={set} />
    </>
  );
}

function PairsEditor({
  title,
  value,
  onChange,
  keyLabel,
  valueLabel,
  validateKey,
  addLabel,
}: {
  title: string;
  value: Record<string, string>;
  onChange: (v: Record<string, string> | undefined) => void;
  keyLabel: string;
  valueLabel: string;
  validateKey: (k: string) => string | null;
  addLabel: string;
}) {
  const pairs = Object.entries(value);
  const write = (list: Array<[string, string]>) => {
    const obj: Record<string, string> = {};
    for (const [k, v] of list) obj[k] = v;
    onChange(list.length ? obj : undefined);
  };
  return (
    <ListEditor
      title={title}
      items={pairs}
      addLabel={addLabel}
      make={(items): [string, string] => {
        let n = items.length + 1;
        while (items.some(([k]) => k === `name_${n}`)) n++;
        return [`name_${n}`, ''];
      }}
      onChange={(items) => write(items)}
      render={([k, v], update, i) => (
        <>
          <CommitField
            label={keyLabel}
            value={k}
            validate={(x) => validateKey(x) ?? (pairs.some(([other], j) => j !== i && other === x) ? 'Already listed.' : null)}
            onCommit={(x) => update([x, v])}
          />
          <TextField label={valueLabel} value={v} onChange={(x) => update([k, x])} />
        </>
      )}
    />
  );
}

function WebhookForm({ node, set, variables }: TypeProps) {
  const [bodyText, setBodyText] = useState(() => (node.body === undefined ? '' : JSON.stringify(node.body, null, 2)));
  let bodyError: string | null = null;
  if (bodyText.trim() !== '') {
    try {
      JSON.parse(bodyText);
    } catch (e) {
      bodyError = `Not JSON: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  const headers = (node.headers && typeof node.headers === 'object' ? node.headers : {}) as Record<string, string>;
  const mapping = (node.response_mapping && typeof node.response_mapping === 'object' ? node.response_mapping : {}) as Record<string, string>;
  const declared = new Set((variables ?? []).filter((v) => v.source === 'declared').map((v) => v.name));
  return (
    <>
      <SelectField
        label="Method"
        value={str(node.method) || 'POST'}
        options={['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => [m, m] as [string, string])}
        onChange={(v) => set('method', v)}
      />
      <TemplateField
        label="Address"
        name="url"
        multiline={false}
        value={str(node.url)}
        onChange={(v) => set('url', v)}
        variables={variables}
        placeholder="https://shop.example.com/orders/{{ order_id }}"
        required="Required: the address to call."
        hint="Starts with https:// (or http://)."
      />
      {str(node.url) !== '' && !/^(https?:\/\/|\{\{)/.test(str(node.url).trim()) && <div className="field-error">Start the address with https:// (or http://).</div>}
      <PairsEditor
        title="Headers"
        value={headers}
        keyLabel="Name"
        valueLabel="Value (template)"
        addLabel="+ Add header"
        validateKey={(k) => (/^[A-Za-z0-9_-]+$/.test(k) ? null : 'Letters, digits, - and _.')}
        onChange={(v) => set('headers', v)}
      />
      <Field label="Body (JSON; text values are templates)" error={bodyError}>
        <textarea
          rows={5}
          className="mono"
          value={bodyText}
          placeholder='{"email": "{{ email }}"}'
          onChange={(e) => {
            const t = e.target.value;
            setBodyText(t);
            if (t.trim() === '') set('body', undefined);
            else {
              try {
                set('body', JSON.parse(t));
              } catch {
                // keep editing; the document keeps the last valid body
              }
            }
          }}
        />
      </Field>
      <PairsEditor
        title="Response mapping (variable ← path)"
        value={mapping}
        keyLabel="Variable"
        valueLabel="Path in the response, e.g. order.status"
        addLabel="+ Add mapping"
        validateKey={(k) => varNameProblem(k)}
        onChange={(v) => set('response_mapping', v)}
      />
      {Object.keys(mapping).some((k) => !declared.has(k)) && (
        <div className="field-hint">
          Not declared yet: {Object.keys(mapping).filter((k) => !declared.has(k)).join(', ')}. Declare them under the flow’s Declared variables (click empty canvas).
        </div>
      )}
      <NumberField label="Timeout (ms)" min={1} max={30000} value={num(node.timeout_ms)} onChange={(v) => set('timeout_ms', v)} placeholder="5000" />
      <NumberField label="Retries" min={0} max={5} value={num(node.retries)} onChange={(v) => set('retries', v)} placeholder="2" />
    </>
  );
}

/** The hand-over node with its context lists replaced (an empty list is left out). */
export function withContext(node: FlowNode, required: string[], optional: string[]): FlowNode {
  return withSetting(withSetting(node, 'context', required.length ? required : undefined), 'optional_context', optional.length ? optional : undefined);
}

function HandoverForm({ node, set, onChange, variables }: TypeProps) {
  const optional = strList(node.optional_context);
  const required = strList(node.context).filter((name) => !optional.includes(name));
  const context = [...required, ...optional];
  const [extra, setExtra] = useState('');
  const writeContext = (nextRequired: string[], nextOptional: string[]) => onChange(withContext(node, nextRequired, nextOptional), { group: `${node.id}.context` });
  const addContext = (name: string) => {
    const n = name.trim();
    if (!n || context.includes(n)) return;
    writeContext([...required, n], optional);
  };
  const removeContext = (name: string) => writeContext(required.filter((x) => x !== name), optional.filter((x) => x !== name));
  const toggleOptional = (name: string) =>
    optional.includes(name) ? writeContext([...required, name], optional.filter((x) => x !== name)) : writeContext(required.filter((x) => x !== name), [...optional, name]);
  const msg = (key: string, label: string, placeholder: string) => (
    <TemplateField label={label} value={str(node[key])} onChange={(v) => set(key, opt(v))} variables={variables} placeholder={placeholder} />
  );
  const candidates = variables.filter((v) => !context.includes(v.name));
  return (
    <>
      <TextField label="Team" value={str(node.team)} onChange={(v) => set('team', opt(v))} placeholder="(the default queue)" />
      <TextField label="Agent (optional)" value={str(node.agent)} onChange={(v) => set('agent', opt(v))} placeholder="an agent’s handle" />
      <SelectField
        label="Priority"
        value={str(node.priority) || 'normal'}
        options={[
          ['low', 'Low'],
          ['normal', 'Normal'],
          ['high', 'High'],
          ['urgent', 'Urgent'],
        ]}
        onChange={(v) => set('priority', v === 'normal' && node.priority === undefined ? undefined : v)}
      />
      {msg('reason', 'Reason (shown to the agent)', 'The flow reached this node.')}
      <Field
        label="Context for the agent"
        hint="Variables that go with the conversation, with their values. Mark one “if given” when some paths leave it out on purpose (a name or an account id; a customer who could not give an email): validation then only warns when no path collects it."
      >
        <div className="chips">
          {context.map((c) => (
            <span className={optional.includes(c) ? 'chip chip-optional' : 'chip'} key={c}>
              {c}
              <label className="chip-toggle">
                <input type="checkbox" aria-label={`${c} only if given`} checked={optional.includes(c)} onChange={() => toggleOptional(c)} />
                if given
              </label>
              <button type="button" aria-label={`Remove ${c}`} onClick={() => removeContext(c)}>
                ×
              </button>
            </span>
          ))}
          {context.length === 0 && <span className="muted small">nothing yet</span>}
        </div>
        <div className="inline-add">
          <select aria-label="Add a known variable" value="" onChange={(e) => addContext(e.target.value)}>
            <option value="">Add a variable…</option>
            {candidates.map((v) => (
              <option key={v.name} value={v.name}>
                {v.name} — {v.source}
              </option>
            ))}
          </select>
          <input
            aria-label="Other variable"
            placeholder="other…"
            value={extra}
            onChange={(e) => setExtra(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !varPathProblem(extra)) {
                addContext(extra);
                setExtra('');
              }
            }}
          />
        </div>
        {extra !== '' && varPathProblem(extra) && <div className="field-error">{varPathProblem(extra)}</div>}
      </Field>
      {msg('message', 'Told to the customer when queued', '(the workspace’s confirmation message)')}
      {msg('off_hours_message', 'Off-hours message', '(the workspace’s off-hours message)')}
      {msg('no_agent_message', 'No-agent message', '(the workspace’s no-agent message)')}
      {msg('stalling_message', 'Stalling message', '(the workspace’s stalling message)')}
      <NumberField label="Stalling after (seconds)" min={0} max={10_000_000} value={num(node.stalling_seconds)} onChange={(v) => set('stalling_seconds', v)} placeholder="(workspace setting; 0 = never)" />
      <NumberField label="Maximum wait (seconds)" min={0} max={10_000_000} value={num(node.max_wait_seconds)} onChange={(v) => set('max_wait_seconds', v)} placeholder="(workspace setting; 0 = forever)" />
      <ListField
        label="Cancel keywords"
        value={node.cancel_keywords === undefined ? ['cancel'] : strList(node.cancel_keywords)}
        onChange={(v) => set('cancel_keywords', v.length === 1 && v[0] === 'cancel' && node.cancel_keywords === undefined ? undefined : v)}
        hint="One per line. A message that is exactly one of these cancels the wait. Empty: only the widget’s button cancels."
      />
    </>
  );
}

function EndForm({ node, set, variables }: TypeProps) {
  return (
    <>
      <TemplateField label="Message (optional)" value={str(node.message)} onChange={(v) => set('message', opt(v))} variables={variables} placeholder="Thanks for chatting with us!" />
      <CheckField
        label="Mark the conversation resolved"
        checked={node.resolve !== false}
        onChange={(v) => set('resolve', v ? (node.resolve === undefined ? undefined : true) : false)}
        hint="Clear it when someone still has to follow up."
      />
      <CsatField node={node} set={set} variables={variables} />
    </>
  );
}

/** An End node's rating question (CSAT). */
function CsatField({ node, set, variables }: Pick<TypeProps, 'node' | 'set' | 'variables'>) {
  const csat = node.csat && typeof node.csat === 'object' ? (node.csat as Record<string, unknown>) : null;
  const update = (key: string, value: unknown) => {
    const next: Record<string, unknown> = { ...(csat ?? {}) };
    if (value === undefined || value === '') delete next[key];
    else next[key] = value;
    set('csat', next);
  };
  return (
    <fieldset className="csat" aria-label="Rating">
      <legend>Rating (CSAT)</legend>
      <CheckField
        label="Ask the customer to rate the conversation"
        checked={csat !== null}
        onChange={(v) => set('csat', v ? {} : undefined)}
        hint="The rating is reported per flow and per agent, and shown on the customer’s next hand-over."
      />
      {csat && (
        <>
          <TemplateField label="Question" value={str(csat.question)} onChange={(v) => update('question', opt(v))} variables={variables} placeholder="How would you rate this conversation?" />
          <SelectField
            label="Scale"
            value={String(csat.scale ?? 5)}
            options={[
              ['5', '1 to 5 stars'],
              ['2', 'Bad / good'],
            ]}
            onChange={(v) => update('scale', v === '5' ? undefined : Number(v))}
          />
          <TemplateField label="Thanks (optional)" value={str(csat.thanks)} onChange={(v) => update('thanks', opt(v))} variables={variables} placeholder="Thanks for telling us!" />
        </>
      )}
    </fieldset>
  );
}

/** The panel when no node is selected: the flow's description and declared variables. */
export function FlowPanel({ doc, onChange }: { doc: FlowDocument; onChange: (doc: FlowDocument, group?: string) => void }) {
  const vars = doc.variables ?? [];
  return (
    <div className="props" data-testid="flow-panel">
      <div className="panel-title">Flow</div>
      <p className="muted small">Select a node to edit it. Add nodes with + Add Node, from the palette, or by dragging a port to empty canvas.</p>
      <Field label="Description">
        <textarea
          rows={3}
          value={doc.description ?? ''}
          onChange={(e) => {
            const next: FlowDocument = { ...doc, description: e.target.value };
            if (e.target.value === '') delete next.description;
            onChange(next, 'flow.description');
          }}
        />
      </Field>
      <ListEditor
        title="Declared variables"
        items={vars}
        addLabel="+ Declare a variable"
        make={(items) => ({ name: nextId('variable', items.map((v) => v.name)), type: 'text' })}
        onChange={(items) => {
          const next: FlowDocument = { ...doc, variables: items };
          if (items.length === 0) delete next.variables;
          onChange(next, 'flow.variables');
        }}
        render={(v, update) => (
          <>
            <TextField label="Name" value={v.name} onChange={(x) => update({ ...v, name: x })} validate={(x) => varNameProblem(x)} />
            <SelectField
              label="Type"
              value={v.type ?? 'text'}
              options={['text', 'name', 'email', 'phone', 'number', 'date', 'boolean'].map((t) => [t, t] as [string, string])}
              onChange={(x) => update({ ...v, type: x })}
            />
          </>
        )}
      />
      <p className="muted small">Declare the variables a webhook’s response mapping writes, and those only an agent or the API sets.</p>
    </div>
  );
}
