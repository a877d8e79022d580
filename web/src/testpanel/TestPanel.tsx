// The builder's test conversation: chat as the customer, play the agent, move the clock, flip
// the world's switches. Steps are kept here and the whole conversation is simulated again on
// each action against the current draft. Also runs the flow's scripted tests.

import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText, flowApi, type SimResult, type SimSetup, type SimStep, type TestRunResult } from '../api';
import type { FlowDocument } from '../flow/types';
import {
  buildScriptedTest,
  clockLabel,
  currentButtons,
  DEFAULT_SETUP,
  displayValue,
  parseVariables,
  stepLabel,
  uniqueName,
  type ScriptedTest,
} from './session';

interface Props {
  flowId: string;
  doc: FlowDocument;
  canEdit: boolean;
  onResult: (r: SimResult | null) => void;
  onCoverage: (r: TestRunResult | null) => void;
  onSaveTest: (t: ScriptedTest) => Promise<boolean>;
  onClose: () => void;
}

export function TestPanel({ flowId, doc, canEdit, onResult, onCoverage, onSaveTest, onClose }: Props) {
  const [setup, setSetup] = useState<SimSetup>({ ...DEFAULT_SETUP });
  const [steps, setSteps] = useState<SimStep[]>([]);
  const [result, setResult] = useState<SimResult | null>(null);
  const [botCounts, setBotCounts] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [text, setText] = useState('');
  const [agentText, setAgentText] = useState('');
  const [hbVars, setHbVars] = useState('');
  const [hbNode, setHbNode] = useState('');
  const [run, setRun] = useState<TestRunResult | null>(null);
  const [runError, setRunError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const docRef = useRef(doc);
  docRef.current = doc;
  const logRef = useRef<HTMLDivElement>(null);

  // Every action is a job that reads the conversation as the jobs before it left it, and jobs
  // run one at a time in the order they were asked for: a slow answer never undoes a later
  // click, and a replay after an edit plays whatever the conversation is by then.
  type Conversation = { steps: SimStep[]; setup: SimSetup };
  type Job = { next: (current: Conversation) => Conversation; replay: boolean };
  const current = useRef<Conversation>({ steps: [], setup: { ...DEFAULT_SETUP } });
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const replayQueued = useRef(false);

  const play = useCallback(
    async ({ next, replay }: Job): Promise<boolean> => {
      const { steps: nextSteps, setup: nextSetup } = next(current.current);
      setBusy(true);
      setError(null);
      try {
        const r = await flowApi.simulate(flowId, { setup: nextSetup, steps: nextSteps }, docRef.current);
        if (replay && r.failure) {
          // The flow changed under the conversation: show where it no longer plays.
          setError(`After your edit, step ${(r.failure.step ?? 0) + 1} no longer plays: ${r.failure.actual ?? r.failure.message ?? ''}`);
        } else if (r.failure && nextSteps.length > 0 && (r.failure.step ?? -1) >= nextSteps.length - 1) {
          // The last action could not be played (e.g. a button no longer shown): keep the old state.
          setError(r.failure.actual ? `${r.failure.expected ?? 'That step'}: ${r.failure.actual}` : r.failure.message ?? 'That step cannot be played now.');
          return false;
        }
        current.current = { steps: nextSteps, setup: nextSetup };
        const bots = r.transcript.filter((l) => l.speaker === 'bot').length;
        setBotCounts((prev) => [...prev.slice(0, nextSteps.length), bots]);
        setSteps(nextSteps);
        setSetup(nextSetup);
        setResult(r);
        onResult(r);
        return true;
      } catch (e) {
        setError(errorText(e));
        return false;
      } finally {
        setBusy(false);
      }
    },
    [flowId, onResult],
  );

  const enqueue = useCallback(
    (job: Job): Promise<boolean> => {
      const run = queue.current.then(() => {
        if (job.replay) replayQueued.current = false;
        return play(job);
      });
      queue.current = run.catch(() => undefined);
      return run;
    },
    [play],
  );

  // Start (and restart) the conversation.
  const restart = useCallback(
    () => void enqueue({ next: (c) => ({ steps: [], setup: c.setup }), replay: false }),
    [enqueue],
  );
  useEffect(() => {
    void enqueue({ next: () => ({ steps: [], setup: { ...DEFAULT_SETUP } }), replay: false });
    return () => onResult(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    logRef.current?.scrollTo({ top: logRef.current.scrollHeight });
  }, [result]);

  // The flow was edited: play the same conversation again on the new draft.
  const firstDoc = useRef(true);
  useEffect(() => {
    if (firstDoc.current) {
      firstDoc.current = false;
      return;
    }
    const t = window.setTimeout(() => {
      if (replayQueued.current) return; // one replay waiting is enough: it plays the latest draft
      replayQueued.current = true;
      void enqueue({ next: (c) => c, replay: true });
    }, 600);
    return () => window.clearTimeout(t);
  }, [doc, enqueue]);

  const act = (step: SimStep) => enqueue({ next: (c) => ({ steps: [...c.steps, step], setup: c.setup }), replay: false });

  // Switches show their new state at once (optimistic), and the state played once simulated.
  const [pendingWorld, setPendingWorld] = useState<Partial<typeof DEFAULT_SETUP> | null>(null);
  const toggle = (key: 'open' | 'agents_online' | 'handoff_enabled', value: boolean) => {
    setPendingWorld((p) => ({ ...p, [key]: value }));
    // Before the first step the switch is part of the setup; later it is a step of its own.
    const done = enqueue({
      next: (c) => (c.steps.length === 0 ? { steps: [], setup: { ...c.setup, [key]: value } } : { steps: [...c.steps, { set: { [key]: value } }], setup: c.setup }),
      replay: false,
    });
    void done.finally(() => setPendingWorld(null));
  };
  const world = { ...DEFAULT_SETUP, ...setup };
  for (const s of steps) if (typeof s === 'object' && 'set' in s) Object.assign(world, s.set as object);
  const committed = { ...world };
  if (pendingWorld) Object.assign(world, pendingWorld);

  // The box empties at once (the message is queued behind any simulation still running) and
  // gets the text back if it could not be played.
  const send = async () => {
    const t = text.trim();
    if (!t) return;
    setText('');
    if (!(await act({ say: t }))) setText((now) => now || t);
  };

  const status = result?.state.status ?? '…';
  const transcript = result?.transcript ?? [];
  const buttons = currentButtons(transcript);
  const humanInCharge = status === 'assigned';
  const queued = status === 'queued';
  const vars = result?.state.vars ?? {};
  const nodeIds = doc.nodes.map((n) => n.id);

  const save = async () => {
    const botLines = transcript.filter((l) => l.speaker === 'bot').map((l) => l.text);
    const name = uniqueName(`test conversation ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`, (doc.tests ?? []).map((t) => String((t as { name?: unknown }).name ?? '')));
    const test = buildScriptedTest(name, setup, steps, botLines, botCounts);
    if (await onSaveTest(test)) setNotice(`Saved as the scripted test “${name}”.`);
  };

  const runAll = async () => {
    setRunError(null);
    try {
      const r = await flowApi.runTests(flowId);
      setRun(r);
      onCoverage(r);
    } catch (e) {
      setRunError(errorText(e));
    }
  };

  return (
    <div className="test-panel" data-testid="test-panel">
      <div className="panel-title test-head">
        Test conversation
        <span className={`pill pill-${status}`} data-testid="sim-status">{status}</span>
        <span className="spacer" />
        <span className="muted small" title="Simulated clock" data-testid="sim-clock">{clockLabel(result?.clock_ms ?? 0)}</span>
        <button className="link" onClick={onClose} aria-label="Close the test panel">✕</button>
      </div>
      <div className="test-toggles">
        <label data-switch="open" data-on={String(committed.open)}><input type="checkbox" checked={world.open} onChange={(e) => toggle('open', e.target.checked)} /> Business hours open</label>
        <label data-switch="agents_online" data-on={String(committed.agents_online)}><input type="checkbox" checked={world.agents_online} onChange={(e) => toggle('agents_online', e.target.checked)} /> Agents online</label>
        <label data-switch="handoff_enabled" data-on={String(committed.handoff_enabled)}><input type="checkbox" checked={world.handoff_enabled} onChange={(e) => toggle('handoff_enabled', e.target.checked)} /> Hand-off on</label>
      </div>
      <div className="test-clock">
        <span className="muted small">Clock</span>
        {['1m', '10m', '1h'].map((d) => (
          <button key={d} onClick={() => void act({ advance: d })}>+{d.replace('m', ' m').replace('h', ' h')}</button>
        ))}
        <span className="spacer" />
        <button onClick={restart}>Restart</button>
      </div>
      <div className="sim-log" ref={logRef} data-testid="sim-log" aria-live="polite">
        {transcript.map((l, i) => (
          <div key={i} className={`sim-line sim-${l.speaker}`} data-speaker={l.speaker}>
            {l.speaker === 'event' ? <span className="sim-event">{l.text}</span> : <div className="sim-bubble">{l.text}</div>}
          </div>
        ))}
        {busy && <div className="sim-typing muted small">…</div>}
      </div>
      {error && <div className="banner banner-error small" role="alert">{error}</div>}
      {buttons.length > 0 && !queued && !humanInCharge && (
        <div className="sim-buttons" data-testid="sim-buttons">
          {buttons.map((b) => (
            <button key={b.id} onClick={() => void act({ press: b.id })}>{b.label}</button>
          ))}
        </div>
      )}
      <form className="sim-compose" onSubmit={(e) => { e.preventDefault(); void send(); }}>
        <input aria-label="Message as the customer" placeholder="Type as the customer…" value={text} onChange={(e) => setText(e.target.value)} disabled={status === 'ended' || status === 'resolved'} />
        <button type="submit" className="primary" disabled={!text.trim()}>Send</button>
      </form>
      <details className="sim-agent-controls" open={queued || humanInCharge}>
        <summary>Agent</summary>
        {!humanInCharge ? (
          <button disabled={!queued} onClick={() => void act({ take_over: 'Agent' })} title={queued ? '' : 'Only a queued conversation can be taken over'}>Take over</button>
        ) : (
          <>
            <form className="sim-compose" onSubmit={(e) => {
              e.preventDefault();
              const t = agentText.trim();
              if (!t) return;
              setAgentText('');
              void act({ agent_reply: t }).then((ok) => ok || setAgentText((now) => now || t));
            }}>
              <input aria-label="Reply as the agent" placeholder="Reply as the agent…" value={agentText} onChange={(e) => setAgentText(e.target.value)} />
              <button type="submit" disabled={!agentText.trim()}>Reply</button>
            </form>
            <label className="small">Hand back with variables (name=value, one a line)
              <textarea aria-label="Hand-back variables" rows={2} value={hbVars} onChange={(e) => setHbVars(e.target.value)} />
            </label>
            <label className="small">Resume at
              <select aria-label="Resume at" value={hbNode} onChange={(e) => setHbNode(e.target.value)}>
                <option value="">the handed_back port</option>
                {nodeIds.map((id) => <option key={id} value={id}>{id}</option>)}
              </select>
            </label>
            <div className="row">
              <button onClick={() => {
                const variables = parseVariables(hbVars);
                void act({ hand_back: hbNode ? { variables, resume_at: hbNode } : { variables } });
              }}>Hand back</button>
              <button onClick={() => void act('resolve')}>Resolve</button>
            </div>
          </>
        )}
        {queued && <button className="link small" onClick={() => void act('cancel')}>Customer cancels</button>}
      </details>
      <details className="sim-vars" open>
        <summary>Variables ({Object.keys(vars).length})</summary>
        <table className="kv" data-testid="sim-vars">
          <tbody>
            {Object.entries(vars).map(([k, v]) => (
              <tr key={k}><th>{k}</th><td>{displayValue(v)}</td></tr>
            ))}
          </tbody>
        </table>
      </details>
      <div className="sim-steps muted small" title={steps.map(stepLabel).join('\n')}>{steps.length} {steps.length === 1 ? 'step' : 'steps'}{result?.state.at ? ` · at ${result.state.at}` : ''}</div>
      <div className="row test-actions">
        <button disabled={!canEdit || busy} onClick={() => void save()}>Save as scripted test</button>
        <button className="primary" onClick={() => void runAll()}>Run all tests</button>
      </div>
      {notice && <div className="banner small" role="status">{notice}</div>}
      {runError && <div className="banner banner-error small" role="alert">{runError}</div>}
      {run && (
        <div className="test-run" data-testid="test-run">
          <div className={run.failed ? 'error-text' : 'ok-text'}>
            {run.passed} passed · {run.failed} failed · coverage {run.coverage.nodes_covered}/{run.coverage.nodes_total} nodes, {run.coverage.ports_covered}/{run.coverage.ports_total} ports
          </div>
          {run.tests.length === 0 && <div className="small muted">This flow has no scripted tests yet: play a conversation and save it as one.</div>}
          <ul className="test-list">
            {run.tests.map((t, i) => (
              <li key={i} className={t.passed ? 'test-pass' : 'test-fail'} data-passed={t.passed}>
                {t.passed ? '✓' : '✗'} {t.name}
                {!t.passed && t.failure != null && <div className="small muted">{failureText(t.failure)}</div>}
              </li>
            ))}
          </ul>
          <button className="link small" onClick={() => { setRun(null); onCoverage(null); }}>Hide coverage</button>
        </div>
      )}
    </div>
  );
}

function failureText(f: unknown): string {
  if (typeof f === 'string') return f;
  const o = f as { step_text?: string; expected?: string; actual?: string; message?: string };
  return [o.step_text && `at ${o.step_text}`, o.expected && `expected ${o.expected}`, o.actual && `got ${o.actual}`, o.message].filter(Boolean).join(' — ');
}
