// AI provider settings: the form the page edits, and the request it sends.

import type { AiProviderKind, AiSettings, AiSettingsRequest, StructuredOutput } from '../api';

/** The page's fields, as typed. The timeout is edited in seconds, the API takes milliseconds. */
export interface AiForm {
  provider: AiProviderKind;
  baseUrl: string;
  model: string;
  /** A new key; empty keeps the stored one. */
  apiKey: string;
  removeKey: boolean;
  timeoutSeconds: string;
  structuredOutput: StructuredOutput;
}

/** The server takes 1,000 to 120,000 ms per attempt. */
export const MIN_TIMEOUT_SECONDS = 1;
export const MAX_TIMEOUT_SECONDS = 120;

/** The fields the page shows next to their inputs, named as the API names them. */
export const AI_FIELDS = ['base_url', 'model', 'api_key', 'timeout_ms', 'structured_output'] as const;

/** How the endpoint is asked for JSON: a label and what it means. */
export const STRUCTURED_OUTPUTS: { value: StructuredOutput; label: string; hint: string }[] = [
  { value: 'json_schema', label: 'JSON schema', hint: 'response_format json_schema, strict: OpenAI, vLLM, llama.cpp server, recent Ollama.' },
  { value: 'json_object', label: 'JSON object', hint: 'response_format json_object, the schema in the prompt: for servers without json_schema.' },
  { value: 'prompt', label: 'Prompt only', hint: 'The schema in the prompt only: works with any model, least reliable.' },
];

export const EXAMPLE_ENDPOINTS: { server: string; baseUrl: string; key: string }[] = [
  { server: 'Ollama', baseUrl: 'http://localhost:11434/v1', key: 'none' },
  { server: 'llama.cpp server', baseUrl: 'http://localhost:8080/v1', key: 'none, unless started with --api-key' },
  { server: 'vLLM', baseUrl: 'http://localhost:8000/v1', key: 'none, unless started with --api-key' },
  { server: 'OpenAI', baseUrl: 'https://api.openai.com/v1', key: 'required' },
];

export function formFromSettings(s: AiSettings): AiForm {
  return {
    provider: s.provider,
    baseUrl: s.base_url ?? '',
    model: s.model ?? '',
    apiKey: '',
    removeKey: false,
    timeoutSeconds: String(s.timeout_ms / 1000),
    structuredOutput: s.structured_output,
  };
}

export type AiRequestResult = { ok: true; body: AiSettingsRequest } | { ok: false; field: string; message: string };

/**
 * The `PUT /api/v1/workspace/ai` body. The key is sent only to change it: left out it stays
 * stored, `""` removes it. Errors name the API's fields, as the server's do.
 */
export function requestFromForm(form: AiForm): AiRequestResult {
  if (form.provider === 'offline') return { ok: true, body: { provider: 'offline' } };
  const baseUrl = form.baseUrl.trim();
  const model = form.model.trim();
  const seconds = Number(form.timeoutSeconds.trim());
  if (!baseUrl) return { ok: false, field: 'base_url', message: 'Enter the endpoint’s base URL, e.g. http://localhost:11434/v1.' };
  if (!model) return { ok: false, field: 'model', message: 'Enter the model’s name.' };
  if (!form.timeoutSeconds.trim() || !(seconds >= MIN_TIMEOUT_SECONDS && seconds <= MAX_TIMEOUT_SECONDS)) {
    return { ok: false, field: 'timeout_ms', message: `From ${MIN_TIMEOUT_SECONDS} to ${MAX_TIMEOUT_SECONDS} seconds.` };
  }
  const apiKey = form.apiKey.trim();
  return {
    ok: true,
    body: {
      provider: 'openai_compatible',
      base_url: baseUrl,
      model,
      ...(form.removeKey ? { api_key: '' } : apiKey ? { api_key: apiKey } : {}),
      timeout_ms: Math.round(seconds * 1000),
      structured_output: form.structuredOutput,
    },
  };
}

/** Whether the form differs from what is saved (a connection test uses the saved settings). */
export function formChanged(saved: AiSettings, form: AiForm): boolean {
  const a = requestFromForm(formFromSettings(saved));
  const b = requestFromForm(form);
  return !a.ok || !b.ok || JSON.stringify(a.body) !== JSON.stringify(b.body);
}
