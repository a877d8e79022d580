// Form fields of the property panel. Every field shows its own problem under it.

import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { insertVariable, templateProblem, type KnownVariable } from '../flow/variables';

export function Field({
  label,
  hint,
  error,
  children,
  htmlFor,
}: {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  children: ReactNode;
  htmlFor?: string;
}) {
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label className="field-label" htmlFor={htmlFor}>
        {label}
      </label>
      {children}
      {error ? (
        <div className="field-error" role="alert">
          {error}
        </div>
      ) : hint ? (
        <div className="field-hint">{hint}</div>
      ) : null}
    </div>
  );
}

export function TextField({
  label,
  value,
  onChange,
  placeholder,
  hint,
  validate,
  name,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  placeholder?: string;
  hint?: ReactNode;
  validate?: (v: string) => string | null;
  name?: string;
}) {
  const id = useId();
  const error = validate ? validate(value) : null;
  return (
    <Field label={label} hint={hint} error={error} htmlFor={id}>
      <input id={id} name={name} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} aria-invalid={!!error} />
    </Field>
  );
}

/**
 * A field whose value only takes effect when it is valid and the author leaves it (Enter or
 * blur): node ids and port names, which edges refer to. Escape puts the old value back.
 */
export function CommitField({
  label,
  value,
  onCommit,
  validate,
  hint,
  name,
}: {
  label: string;
  value: string;
  onCommit: (v: string) => void;
  validate: (v: string) => string | null;
  hint?: ReactNode;
  name?: string;
}) {
  const id = useId();
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  const error = draft === value ? null : validate(draft);
  const commit = () => {
    if (draft === value) return;
    if (validate(draft)) return;
    onCommit(draft);
  };
  return (
    <Field label={label} hint={hint} error={error} htmlFor={id}>
      <input
        id={id}
        name={name}
        value={draft}
        aria-invalid={!!error}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') setDraft(value);
        }}
      />
    </Field>
  );
}

export function NumberField({
  label,
  value,
  onChange,
  min,
  max,
  integer = true,
  placeholder,
  hint,
}: {
  label: string;
  value: number | undefined;
  onChange: (v: number | undefined) => void;
  min?: number;
  max?: number;
  integer?: boolean;
  placeholder?: string;
  hint?: ReactNode;
}) {
  const id = useId();
  const [text, setText] = useState(value === undefined ? '' : String(value));
  useEffect(() => {
    setText((t) => (Number(t) === value && t.trim() !== '' ? t : value === undefined ? '' : String(value)));
  }, [value]);
  let error: string | null = null;
  const trimmed = text.trim();
  const n = Number(trimmed);
  if (trimmed !== '') {
    if (!Number.isFinite(n)) error = 'Enter a number.';
    else if (integer && !Number.isInteger(n)) error = 'Enter a whole number.';
    else if (min !== undefined && n < min) error = `At least ${min}.`;
    else if (max !== undefined && n > max) error = `At most ${max}.`;
  }
  return (
    <Field label={label} hint={hint} error={error} htmlFor={id}>
      <input
        id={id}
        inputMode="decimal"
        value={text}
        placeholder={placeholder}
        aria-invalid={!!error}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          const v = Number(t.trim());
          if (t.trim() === '') onChange(undefined);
          else if (Number.isFinite(v)) onChange(v);
        }}
      />
    </Field>
  );
}

export function SelectField<T extends string>({
  label,
  value,
  options,
  onChange,
  hint,
  name,
}: {
  label: string;
  value: T;
  options: Array<[T, string]>;
  onChange: (v: T) => void;
  hint?: ReactNode;
  name?: string;
}) {
  const id = useId();
  return (
    <Field label={label} hint={hint} htmlFor={id}>
      <select id={id} name={name} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </Field>
  );
}

export function CheckField({ label, checked, onChange, hint }: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: ReactNode }) {
  return (
    <div className="field field-check">
      <label>
        <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} /> {label}
      </label>
      {hint && <div className="field-hint">{hint}</div>}
    </div>
  );
}

/**
 * A list of short texts (synonyms, example phrases, keywords), one per line; applied when the
 * author leaves the field. Phrases may contain commas, so lines separate them.
 */
export function ListField({
  label,
  value,
  onChange,
  placeholder,
  hint,
  validateItem,
}: {
  label: string;
  value: string[];
  onChange: (v: string[]) => void;
  placeholder?: string;
  hint?: ReactNode;
  validateItem?: (item: string) => string | null;
}) {
  const id = useId();
  const joined = value.join('\n');
  const [text, setText] = useState(joined);
  useEffect(() => setText(joined), [joined]);
  const items = text
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const error = validateItem ? items.map(validateItem).find((e) => e) ?? null : null;
  const commit = () => {
    if (items.join('\n') !== joined) onChange(items);
  };
  return (
    <Field label={label} hint={hint ?? 'One per line.'} error={error} htmlFor={id}>
      <textarea
        id={id}
        rows={Math.min(6, Math.max(2, items.length + 1))}
        value={text}
        placeholder={placeholder}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
      />
    </Field>
  );
}

/** A template text (`{{ variable }}` holes) with a picker of the variables known in the flow. */
export function TemplateField({
  label,
  value,
  onChange,
  variables,
  multiline = true,
  placeholder,
  hint,
  required,
  name,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  variables: KnownVariable[];
  multiline?: boolean;
  placeholder?: string;
  hint?: ReactNode;
  required?: string;
  name?: string;
}) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLTextAreaElement & HTMLInputElement>(null);
  const pickerRef = useRef<HTMLDivElement>(null);
  const error = templateProblem(value) ?? (required && value.trim() === '' ? required : null);
  useEffect(() => {
    if (!open) return;
    const down = (e: PointerEvent) => {
      if (pickerRef.current && !pickerRef.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', down);
    return () => document.removeEventListener('pointerdown', down);
  }, [open]);
  // Where the caret was when the author last was in the field; never there: the end.
  const caret = useRef<number | undefined>(undefined);
  const pick = (name: string) => {
    const el = ref.current;
    const next = insertVariable(value, name, caret.current);
    caret.current = next.caret;
    onChange(next.text);
    setOpen(false);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(next.caret, next.caret);
    });
  };
  const common = {
    id,
    name,
    ref,
    value,
    placeholder,
    'aria-invalid': !!error,
    onChange: (e: { target: { value: string } }) => onChange(e.target.value),
    onSelect: (e: { currentTarget: { selectionStart: number | null } }) => {
      caret.current = e.currentTarget.selectionStart ?? undefined;
    },
  };
  return (
    <Field label={label} hint={hint} error={error} htmlFor={id}>
      <div className="template-field" ref={pickerRef}>
        {multiline ? <textarea rows={3} {...common} /> : <input {...common} />}
        <button
          type="button"
          className="var-button"
          title="Insert a variable"
          aria-label={`Insert a variable into ${label}`}
          onPointerDown={() => {
            // Still in the field: take its caret before the click moves the focus.
            const el = ref.current;
            if (el && document.activeElement === el) caret.current = el.selectionStart ?? undefined;
          }}
          onClick={() => setOpen((o) => !o)}
        >
          {'{x}'}
        </button>
        {open && (
          <div className="var-picker" role="listbox" aria-label="Variables">
            {variables.length === 0 && <div className="muted">No variables yet.</div>}
            {variables.map((v) => (
              <button type="button" role="option" aria-selected={false} key={v.name} onClick={() => pick(v.name)}>
                <code>{v.name}</code>
                <span className="muted">{v.source}</span>
              </button>
            ))}
          </div>
        )}
      </div>
    </Field>
  );
}

/** Rows of a list setting (options, branches, …) with add, remove and reorder. */
export function ListEditor<T>({
  title,
  items,
  onChange,
  make,
  render,
  addLabel,
  max,
}: {
  title: string;
  items: T[];
  onChange: (items: T[], renamed?: Record<string, string>) => void;
  make: (items: T[]) => T;
  render: (item: T, update: (next: T, renamed?: Record<string, string>) => void, index: number) => ReactNode;
  addLabel: string;
  max?: number;
}) {
  const move = (i: number, d: number) => {
    const j = i + d;
    if (j < 0 || j >= items.length) return;
    const next = items.slice();
    [next[i], next[j]] = [next[j] as T, next[i] as T];
    onChange(next);
  };
  return (
    <div className="list-editor">
      <div className="list-title">{title}</div>
      {items.map((item, i) => (
        <div className="list-row" key={i}>
          <div className="list-row-body">
            {render(
              item,
              (next, renamed) => {
                const copy = items.slice();
                copy[i] = next;
                onChange(copy, renamed);
              },
              i,
            )}
          </div>
          <div className="list-row-actions">
            <button type="button" title="Move up" aria-label="Move up" onClick={() => move(i, -1)} disabled={i === 0}>
              ↑
            </button>
            <button type="button" title="Move down" aria-label="Move down" onClick={() => move(i, 1)} disabled={i === items.length - 1}>
              ↓
            </button>
            <button type="button" title="Remove" aria-label="Remove" onClick={() => onChange(items.filter((_, k) => k !== i))}>
              ×
            </button>
          </div>
        </div>
      ))}
      <button type="button" className="add-row" onClick={() => onChange([...items, make(items)])} disabled={max !== undefined && items.length >= max}>
        {addLabel}
      </button>
    </div>
  );
}
