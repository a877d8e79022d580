import type { ReactNode } from 'react';

/** Text with `code` spans (as the server writes node ids in reasons), built as React nodes: never HTML. */
export function withCode(text: string): ReactNode[] {
  return text.split('`').map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part));
}
