// A status line for a settings page: the last success or error, shown as a banner.

import { useState } from 'react';
import { errorText } from '../api';

export function useStatus() {
  const [status, setStatus] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  return {
    status,
    ok: (text: string) => setStatus({ kind: 'ok', text }),
    fail: (e: unknown) => setStatus({ kind: 'error', text: errorText(e) }),
    clear: () => setStatus(null),
    view: status && (
      <div className={`banner ${status.kind === 'error' ? 'banner-error' : 'banner-info'}`} role={status.kind === 'error' ? 'alert' : 'status'}>
        {status.text}
      </div>
    ),
  };
}
