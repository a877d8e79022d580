// The fields of reply targets (agent SLAs), for the workspace's hand-off settings and a team.

import { useState } from 'react';
import type { ReplyTargets, WhenMissed } from '../api';
import { fromMinutes, toMinutes, WHEN_MISSED } from './replyTargets';

/** `onChange` gets the targets, or null while a typed value is not a number of minutes. */
export function ReplyTargetsFields({ value, onChange }: { value: ReplyTargets; onChange: (t: ReplyTargets | null) => void }) {
  const [first, setFirst] = useState(toMinutes(value.first_reply_seconds));
  const [next, setNext] = useState(toMinutes(value.next_reply_seconds));
  const [whenMissed, setWhenMissed] = useState<WhenMissed>(value.when_missed);
  const update = (f: string, n: string, w: WhenMissed) => {
    setFirst(f);
    setNext(n);
    setWhenMissed(w);
    const firstSeconds = fromMinutes(f);
    const nextSeconds = fromMinutes(n);
    onChange(firstSeconds === null || nextSeconds === null ? null : { first_reply_seconds: firstSeconds, next_reply_seconds: nextSeconds, when_missed: w });
  };
  return (
    <div className="row" data-testid="reply-targets">
      <label>
        First reply within (minutes; blank: no target)
        <input inputMode="decimal" value={first} placeholder="no target" onChange={(e) => update(e.target.value, next, whenMissed)} />
      </label>
      <label>
        Next reply within (minutes; blank: no target)
        <input inputMode="decimal" value={next} placeholder="no target" onChange={(e) => update(first, e.target.value, whenMissed)} />
      </label>
      <label>
        When an agent misses it
        <select value={whenMissed} onChange={(e) => update(first, next, e.target.value as WhenMissed)}>
          {WHEN_MISSED.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
        </select>
      </label>
    </div>
  );
}
