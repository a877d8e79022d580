import { describe, expect, it } from 'vitest';
import { exampleFlows } from '../test/examples';
import type { FlowDocument } from './types';
import { insertVariable, knownVariables, templateProblem } from './variables';

describe('variables known in a flow', () => {
  it('lists what nodes store, what is declared, and the system variables', () => {
    const doc: FlowDocument = {
      format: 1,
      name: 'v',
      variables: [{ name: 'refund_amount', type: 'number' }],
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'ask_email', type: 'collect_input', text: 'Email?', variable: 'email' },
        { id: 'pick', type: 'options', text: 'Pick', variable: 'method', options: [{ id: 'a', label: 'A' }] },
        { id: 'mood', type: 'ai_action', task: 'sentiment', variable: 'sentiment', frustration_variable: 'frustrated' },
        { id: 'find', type: 'ai_action', task: 'extract', fields: [{ variable: 'order_id', kind: 'order_id' }] },
        { id: 'look', type: 'webhook', url: 'https://x', response_mapping: { status_code: 'status' } },
      ],
      edges: [],
    };
    const names = knownVariables(doc).map((v) => v.name);
    expect(names).toEqual([
      'refund_amount',
      'email',
      'method',
      'method_id',
      'sentiment',
      'frustrated',
      'order_id',
      'status_code',
      'last_message',
      'contact.name',
      'contact.email',
      'conversation.channel',
    ]);
  });

  it('finds the variables of the example flows', () => {
    const refund = exampleFlows().find((f) => f.file === 'refund.flow.json')!;
    const names = knownVariables(JSON.parse(refund.text) as FlowDocument).map((v) => v.name);
    expect(names).toContain('email');
  });

  it('inserts {{ name }} at the caret', () => {
    expect(insertVariable('Hi !', 'contact.name', 3)).toEqual({ text: 'Hi {{ contact.name }}!', caret: 21 });
    expect(insertVariable('Hi', 'x').text).toBe('Hi{{ x }}');
  });

  it('checks templates as the author types', () => {
    expect(templateProblem('Hi {{ contact.name | first_word | default("there") }}!')).toBeNull();
    expect(templateProblem('{{ question | truncate(40) }}')).toBeNull();
    expect(templateProblem('no holes')).toBeNull();
    expect(templateProblem('Hi {{ name')).toMatch(/never closed/);
    expect(templateProblem('Hi {{ }}')).toMatch(/empty/);
    expect(templateProblem('{{ first name }}')).toMatch(/not a variable name/);
    expect(templateProblem('{{ x | shout }}')).toMatch(/unknown filter/);
    expect(templateProblem('{{ x | default(there) }}')).toMatch(/quotes/);
    expect(templateProblem('{{ x | truncate }}')).toMatch(/number/);
  });
});
