import { describe, expect, it } from 'vitest';
import type { AiSettings } from '../api';
import { formChanged, formFromSettings, requestFromForm, type AiForm } from './aiSettings';

const saved: AiSettings = {
  provider: 'openai_compatible',
  base_url: 'http://localhost:11434/v1',
  model: 'llama3.2',
  api_key_set: true,
  timeout_ms: 30_000,
  structured_output: 'json_schema',
  embeddings: false,
  local_model: null,
};

const endpoint = (over: Partial<AiForm> = {}): AiForm => ({ ...formFromSettings(saved), ...over });

describe('AI settings form', () => {
  it('reads the saved settings, timeout in seconds and no key', () => {
    expect(formFromSettings(saved)).toEqual({
      provider: 'openai_compatible',
      baseUrl: 'http://localhost:11434/v1',
      model: 'llama3.2',
      apiKey: '',
      removeKey: false,
      timeoutSeconds: '30',
      structuredOutput: 'json_schema',
    });
    const offline = formFromSettings({ ...saved, provider: 'offline', base_url: null, model: null, timeout_ms: 1500 });
    expect([offline.provider, offline.baseUrl, offline.model, offline.timeoutSeconds]).toEqual(['offline', '', '', '1.5']);
  });

  it('sends only the provider for offline', () => {
    expect(requestFromForm(endpoint({ provider: 'offline', baseUrl: '' }))).toEqual({ ok: true, body: { provider: 'offline' } });
  });

  it('leaves the key out to keep it, sends a new one, or "" to remove it', () => {
    expect(requestFromForm(endpoint({ baseUrl: ' http://127.0.0.1:9/v1 ', model: ' test-model ', timeoutSeconds: '2.5', structuredOutput: 'prompt' }))).toEqual({
      ok: true,
      body: { provider: 'openai_compatible', base_url: 'http://127.0.0.1:9/v1', model: 'test-model', timeout_ms: 2500, structured_output: 'prompt' },
    });
    const withKey = requestFromForm(endpoint({ apiKey: ' sk-new ' }));
    expect(withKey.ok && withKey.body).toMatchObject({ api_key: 'sk-new' });
    const removed = requestFromForm(endpoint({ apiKey: 'ignored', removeKey: true }));
    expect(removed.ok && removed.body).toMatchObject({ api_key: '' });
  });

  it('names the field that is missing or out of range', () => {
    expect(requestFromForm(endpoint({ baseUrl: '  ' }))).toMatchObject({ ok: false, field: 'base_url' });
    expect(requestFromForm(endpoint({ model: '' }))).toMatchObject({ ok: false, field: 'model' });
    for (const t of ['', 'abc', '0', '0.5', '121']) expect(requestFromForm(endpoint({ timeoutSeconds: t }))).toMatchObject({ ok: false, field: 'timeout_ms' });
    expect(requestFromForm(endpoint({ timeoutSeconds: '120' })).ok).toBe(true);
  });

  it('tells when the form differs from what is saved', () => {
    expect(formChanged(saved, endpoint())).toBe(false);
    expect(formChanged(saved, endpoint({ model: 'other' }))).toBe(true);
    expect(formChanged(saved, endpoint({ apiKey: 'sk-new' }))).toBe(true);
    expect(formChanged(saved, endpoint({ provider: 'offline' }))).toBe(true);
    const offline = { ...saved, provider: 'offline' as const };
    // Offline, the endpoint fields kept from before do not count.
    expect(formChanged(offline, { ...formFromSettings(offline), model: 'other' })).toBe(false);
  });
});
