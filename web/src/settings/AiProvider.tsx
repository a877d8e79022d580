// The workspace's AI provider: the built-in offline AI, or an OpenAI-compatible endpoint (base
// URL, model, key, timeout, how to ask for JSON), with a connection test. Admins and owners.

import { useEffect, useState } from 'react';
import { aiApi, ApiError, errorText, fieldProblem, type AiSettings, type FieldProblem, type Member } from '../api';
import {
  AI_FIELDS,
  EXAMPLE_ENDPOINTS,
  formChanged,
  formFromSettings,
  MAX_TIMEOUT_SECONDS,
  MIN_TIMEOUT_SECONDS,
  requestFromForm,
  STRUCTURED_OUTPUTS,
  type AiForm,
} from './aiSettings';
import { useStatus } from './useStatus';

export function AiProvider({ member }: { member: Member }) {
  if (member.role === 'agent') {
    return (
      <section>
        <h1>AI provider</h1>
        <p className="muted" data-testid="ai-admin-only">Only admins and owners see and change the AI provider.</p>
      </section>
    );
  }
  return <AiProviderForm />;
}

function AiProviderForm() {
  const [saved, setSaved] = useState<AiSettings | null>(null);
  const [form, setForm] = useState<AiForm | null>(null);
  // The server answers 404 while it has no AI settings endpoint.
  const [unavailable, setUnavailable] = useState(false);
  const [problem, setProblem] = useState<FieldProblem | null>(null);
  const [busy, setBusy] = useState<'save' | 'test' | null>(null);
  const [test, setTest] = useState<{ ok: boolean; message: string } | null>(null);
  const s = useStatus();
  const show = (settings: AiSettings) => {
    setSaved(settings);
    setForm(formFromSettings(settings));
  };
  useEffect(() => {
    aiApi
      .get()
      .then(show)
      .catch((e) => (e instanceof ApiError && e.status === 404 ? setUnavailable(true) : s.fail(e)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  if (unavailable) {
    return (
      <section>
        <h1>AI provider</h1>
        <div className="banner banner-info" role="status" data-testid="ai-unavailable">
          This server does not offer AI provider settings yet (GET /api/v1/workspace/ai is not there). Flows use the built-in offline AI.
        </div>
      </section>
    );
  }
  if (!saved || !form) {
    return (
      <section>
        <h1>AI provider</h1>
        {s.view ?? <p className="muted">Loading…</p>}
      </section>
    );
  }

  const set = <K extends keyof AiForm>(key: K, value: AiForm[K]) => {
    setForm({ ...form, [key]: value });
    setProblem(null);
  };
  const save = async () => {
    const req = requestFromForm(form);
    if (!req.ok) return setProblem({ field: req.field, message: req.message });
    setBusy('save');
    s.clear();
    try {
      show(await aiApi.save(req.body));
      setProblem(null);
      setTest(null);
      s.ok('Saved.');
    } catch (e) {
      const p = fieldProblem(e, AI_FIELDS);
      setProblem(p);
      if (p) s.clear();
      else s.fail(e);
    } finally {
      setBusy(null);
    }
  };
  const runTest = async () => {
    setBusy('test');
    setTest(null);
    try {
      setTest(await aiApi.test());
    } catch (e) {
      setTest({ ok: false, message: errorText(e) });
    } finally {
      setBusy(null);
    }
  };
  const fieldError = (field: string) =>
    problem?.field === field && <span className="field-error" role="alert" data-testid={`field-error-${field}`}>{problem.message}</span>;
  const invalid = (field: string) => (problem?.field === field ? true : undefined);
  const endpoint = form.provider === 'openai_compatible';
  const changed = formChanged(saved, form);

  return (
    <section className="form ai-settings" data-testid="ai-settings">
      <h1>AI provider</h1>
      <p className="small muted">
        Let AI Answer and the AI nodes (classify, extract, summary, sentiment) of this workspace’s flows use it. Failures and timeouts leave
        those nodes through their error or unanswered ports.
      </p>
      <fieldset className="ai-choice">
        <legend>Provider</legend>
        <label className="check">
          <input type="radio" name="provider" value="offline" checked={!endpoint} onChange={() => set('provider', 'offline')} />
          <span>
            <strong>Offline</strong> (built in, no network, no key)
            <span className="field-hint"> — answers from the knowledge base by retrieval; built-in classifiers, extractors and summaries.</span>
          </span>
        </label>
        <label className="check">
          <input type="radio" name="provider" value="openai_compatible" checked={endpoint} onChange={() => set('provider', 'openai_compatible')} />
          <span>
            <strong>OpenAI-compatible endpoint</strong>
            <span className="field-hint"> — OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp server… Answers still come from the knowledge base.</span>
          </span>
        </label>
      </fieldset>

      {endpoint && (
        <>
          <label>
            Base URL
            <input name="base_url" placeholder="http://localhost:11434/v1" value={form.baseUrl} aria-invalid={invalid('base_url')} onChange={(e) => set('baseUrl', e.target.value)} />
            {fieldError('base_url')}
          </label>
          <table className="table small ai-examples" data-testid="ai-examples">
            <thead>
              <tr><th>Server</th><th>Base URL</th><th>API key</th><th /></tr>
            </thead>
            <tbody>
              {EXAMPLE_ENDPOINTS.map((x) => (
                <tr key={x.server}>
                  <td>{x.server}</td>
                  <td><code>{x.baseUrl}</code></td>
                  <td className="muted">{x.key}</td>
                  <td><button className="link" onClick={() => set('baseUrl', x.baseUrl)}>Use</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <label>
            Model
            <input name="model" placeholder="e.g. llama3.2, qwen2.5:7b, gpt-4o-mini" value={form.model} aria-invalid={invalid('model')} onChange={(e) => set('model', e.target.value)} />
            {fieldError('model')}
          </label>
          <label>
            API key
            <input
              name="api_key"
              type="password"
              autoComplete="off"
              placeholder={saved.api_key_set ? '•••• stored' : 'none'}
              value={form.apiKey}
              disabled={form.removeKey}
              aria-invalid={invalid('api_key')}
              onChange={(e) => set('apiKey', e.target.value)}
            />
            <span className="field-hint" data-testid="ai-key-state">
              {saved.api_key_set ? 'A key is stored; it is never shown. Type a new one to replace it.' : 'No key stored. Local servers usually need none.'}
            </span>
            {fieldError('api_key')}
          </label>
          {saved.api_key_set && (
            <label className="check">
              <input type="checkbox" name="remove_key" checked={form.removeKey} onChange={(e) => setForm({ ...form, removeKey: e.target.checked, apiKey: '' })} /> Remove the stored key
            </label>
          )}
          <div className="row ai-row">
            <label>
              Timeout (seconds)
              <input name="timeout" type="number" min={MIN_TIMEOUT_SECONDS} max={MAX_TIMEOUT_SECONDS} step={1} value={form.timeoutSeconds} aria-invalid={invalid('timeout_ms')} onChange={(e) => set('timeoutSeconds', e.target.value)} />
              {fieldError('timeout_ms')}
            </label>
            <label>
              Structured output
              <select name="structured_output" value={form.structuredOutput} onChange={(e) => set('structuredOutput', e.target.value as AiForm['structuredOutput'])}>
                {STRUCTURED_OUTPUTS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
              </select>
              <span className="field-hint">{STRUCTURED_OUTPUTS.find((o) => o.value === form.structuredOutput)?.hint}</span>
              {fieldError('structured_output')}
            </label>
          </div>
        </>
      )}

      <div className="row">
        <button className="primary" disabled={busy !== null} onClick={() => void save()}>Save</button>
        <button disabled={busy !== null} onClick={() => void runTest()} data-testid="ai-test">
          {busy === 'test' ? 'Testing…' : 'Test connection'}
        </button>
        {changed && <span className="small muted">Unsaved changes: the test uses the saved settings.</span>}
      </div>
      {s.view}
      {test && (
        <div className={`banner ${test.ok ? 'banner-ok' : 'banner-error'}`} role="status" data-testid="ai-test-result" data-ok={test.ok}>
          <strong>{test.ok ? 'Connected.' : 'Failed.'}</strong> {test.message}
        </div>
      )}
      <p className="small" data-testid="ai-embeddings" data-loaded={saved.embeddings}>
        Local sentence embeddings:{' '}
        {saved.embeddings ? (
          <span className="ok-text">loaded</span>
        ) : (
          <span className="muted">not loaded</span>
        )}
        <span className="muted">
          {saved.embeddings
            ? ' — offline retrieval and classification use the embedding model as well as words.'
            : ' — offline retrieval and classification use words only. Start the server with '}
        </span>
        {!saved.embeddings && (
          <>
            <code>--embedding-model</code>
            <span className="muted"> to load one (see docs/ai.md).</span>
          </>
        )}
      </p>
      <p className="small" data-testid="ai-local-model" data-loaded={saved.local_model !== null}>
        Embedded language model:{' '}
        {saved.local_model !== null ? (
          <span className="ok-text">{saved.local_model}</span>
        ) : (
          <span className="muted">not loaded</span>
        )}
        <span className="muted">
          {saved.local_model !== null
            ? ' — the offline AI writes Let AI Answer’s answers, runs instructions and summarises hand-overs with it.'
            : ' — the offline AI answers with sentences copied from the articles, and instructions need an endpoint. Start the server with '}
        </span>
        {saved.local_model === null && (
          <>
            <code>--model</code>
            <span className="muted"> to load one (see docs/ai.md).</span>
          </>
        )}
      </p>
    </section>
  );
}
