// Fit to view that keeps cards readable. Pure: boxes in, a viewport (pan and zoom) out.

/** Below this zoom the text on cards gets too small to read (12px text → 9px). */
export const READABLE_ZOOM = 0.75;
/** Fit never zooms in further than this: a small flow is shown at its real size. */
export const FIT_MAX_ZOOM = 1;
/** Space kept free around the flow, in screen pixels. */
export const FIT_MARGIN = 40;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

/**
 * The viewport that shows the whole flow when it fits at a readable zoom, centred. A larger flow
 * is shown at the readable zoom from its start: `start` (the trigger; else the leftmost card) at
 * the left margin and vertically centred, without scrolling past the flow's edges.
 */
export function readableViewport(boxes: Box[], start: Box | null, view: { width: number; height: number }): Viewport {
  if (boxes.length === 0) return { x: 0, y: 0, zoom: FIT_MAX_ZOOM };
  const left = Math.min(...boxes.map((b) => b.x));
  const top = Math.min(...boxes.map((b) => b.y));
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  const fitting = Math.min((view.width - 2 * FIT_MARGIN) / (right - left), (view.height - 2 * FIT_MARGIN) / (bottom - top));
  const zoom = Math.max(READABLE_ZOOM, Math.min(FIT_MAX_ZOOM, fitting));
  const anchor = start ?? boxes.reduce((a, b) => (b.x < a.x ? b : a));
  /** The pan along one axis: centred when the flow fits, else `wanted` kept within its edges. */
  const pan = (low: number, high: number, size: number, wanted: number) => {
    if ((high - low) * zoom + 2 * FIT_MARGIN <= size) return size / 2 - ((low + high) / 2) * zoom;
    const most = FIT_MARGIN - low * zoom;
    const least = size - FIT_MARGIN - high * zoom;
    return Math.min(most, Math.max(least, wanted));
  };
  return {
    x: pan(left, right, view.width, FIT_MARGIN - anchor.x * zoom),
    y: pan(top, bottom, view.height, view.height / 2 - (anchor.y + anchor.height / 2) * zoom),
    zoom,
  };
}
