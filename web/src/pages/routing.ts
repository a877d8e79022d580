/**
 * The full flow order after moving `id` one place among the live flows (`live`, in order):
 * it swaps with its live neighbour; flows that are off keep their places.
 */
export function moveItem(all: string[], live: string[], id: string, by: -1 | 1): string[] {
  const at = live.indexOf(id);
  const neighbour = live[at + by];
  if (at < 0 || neighbour === undefined) return all;
  const next = all.slice();
  const i = next.indexOf(id);
  const j = next.indexOf(neighbour);
  if (i < 0 || j < 0) return all;
  next[i] = neighbour;
  next[j] = id;
  return next;
}
