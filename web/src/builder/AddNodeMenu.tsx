import { useEffect, useRef } from 'react';
import { NODE_INFO } from '../flow/nodeTypes';
import { NODE_TYPES, type NodeType } from '../flow/types';

/** The menu of node types, for + Add Node and for a connection dropped on empty canvas. */
export function AddNodeMenu({
  x,
  y,
  title,
  onPick,
  onClose,
}: {
  x: number;
  y: number;
  title: string;
  onPick: (type: NodeType) => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const down = (e: PointerEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    const key = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    // Listen from the next tick, so the click that opened the menu does not close it.
    const t = window.setTimeout(() => {
      document.addEventListener('pointerdown', down);
      document.addEventListener('keydown', key);
    }, 0);
    ref.current?.querySelector('button')?.focus();
    return () => {
      window.clearTimeout(t);
      document.removeEventListener('pointerdown', down);
      document.removeEventListener('keydown', key);
    };
  }, [onClose]);
  // Keep the menu on screen.
  const left = Math.max(8, Math.min(x, window.innerWidth - 260));
  const top = Math.max(8, Math.min(y, window.innerHeight - 470));
  return (
    <div className="add-menu" ref={ref} style={{ left, top }} role="menu" aria-label={title} data-testid="add-node-menu">
      <div className="add-menu-title">{title}</div>
      {NODE_TYPES.map((type) => {
        const info = NODE_INFO[type];
        return (
          <button key={type} role="menuitem" className="add-menu-item" onClick={() => onPick(type)} data-type={type}>
            <span className="swatch" style={{ background: info.color }} />
            <span>
              <span className="add-menu-label">{info.label}</span>
              <span className="add-menu-desc">{info.description}</span>
            </span>
          </button>
        );
      })}
    </div>
  );
}

export const DRAG_TYPE = 'application/x-baton-node-type';

/** Node types to drag onto the canvas (or click to add). */
export function Palette({ onAdd }: { onAdd: (type: NodeType) => void }) {
  return (
    <aside className="palette" aria-label="Node types">
      <div className="panel-title">Nodes</div>
      <p className="palette-hint">Drag onto the canvas, or click to add after the selected node.</p>
      {NODE_TYPES.map((type) => {
        const info = NODE_INFO[type];
        return (
          <div
            key={type}
            className="palette-item"
            draggable
            role="button"
            tabIndex={0}
            data-type={type}
            onDragStart={(e) => {
              e.dataTransfer.setData(DRAG_TYPE, type);
              e.dataTransfer.effectAllowed = 'move';
            }}
            onClick={() => onAdd(type)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                onAdd(type);
              }
            }}
            title={info.description}
          >
            <span className="swatch" style={{ background: info.color }} />
            {info.label}
          </div>
        );
      })}
    </aside>
  );
}
