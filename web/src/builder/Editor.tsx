// The flow builder: canvas, palette, property panel, problems, autosave, publishing.

import {
  Background,
  ConnectionLineType,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
  type Connection,
  type Edge as RfEdge,
  type EdgeChange,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeChange,
  type OnDelete,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState, type DragEvent } from 'react';
import { api, errorText, flowApi, type FlowDetail, type FlowSummary, type Member } from '../api';
import {
  addNode,
  connect,
  copyNodes,
  edgesOf,
  freePorts,
  keyEdges,
  moveNodes,
  nodeById,
  pasteNodes,
  positionOf,
  reconnect,
  removeElements,
  replaceNode,
  type Clipboard,
} from '../flow/document';
import { canRedo, canUndo, historyReducer, initHistory, type History, type HistoryAction } from '../flow/history';
import { acceptWarning, problemCounts, undoAccept, withAccepted } from '../flow/accepted';
import { DEFAULT_SIZE, layeredLayout } from '../flow/layout';
import { nodeInfo } from '../flow/nodeTypes';
import { portLabel, portsOf } from '../flow/ports';
import type { Diagnostic, FlowDocument, FlowNode, NodeType, Position } from '../flow/types';
import { knownVariables } from '../flow/variables';
import { navigate } from '../router';
import { TopBar } from '../pages/TopBar';
import { dropOffBadges, type DropOffBadge } from '../pages/analytics';
import { AddNodeMenu, DRAG_TYPE, Palette } from './AddNodeMenu';
import { saveLabel, saveStateFor, type SaveState } from './autosave';
import { FlowNodeCard, type CardData, type CardNode } from './FlowNodeCard';
import { ProblemsPanel } from './ProblemsPanel';
import { FlowPanel, PropertyPanel, type NodeChangeOptions } from './PropertyPanel';
import { PublishDialog } from './PublishDialog';
import { VersionsDialog } from './VersionsDialog';
import { readableViewport } from './viewport';
import { TestPanel } from '../testpanel/TestPanel';
import { routeKeys, visitedNodes, type ScriptedTest } from '../testpanel/session';
import type { SimResult, TestRunResult } from '../api';

const nodeTypes = { baton: FlowNodeCard };
const NONE: Diagnostic[] = [];
const NO_PORTS: string[] = [];
const AUTOSAVE_MS = 700;

/** The builder's clipboard, shared by every flow opened in this tab. */
let clipboard: Clipboard | null = null;

interface Menu {
  x: number;
  y: number;
  at?: Position;
  from?: { node: string; port: string };
}

type DocAction =
  | HistoryAction<FlowDocument>
  | { type: 'apply'; fn: (doc: FlowDocument) => FlowDocument; group?: string; transient?: boolean };

function reducer(state: History<FlowDocument>, action: DocAction): History<FlowDocument> {
  if (action.type === 'apply') {
    const value = action.fn(state.present);
    return historyReducer(state, action.transient ? { type: 'replace', value } : { type: 'edit', value, group: action.group });
  }
  return historyReducer(state, action);
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

export function Editor({
  initial,
  member,
  onReload,
  initialNotice,
}: {
  initial: FlowDetail;
  member: Member;
  onReload: (notice?: string) => void;
  initialNotice?: string;
}) {
  const flowId = initial.id;
  const canEdit = member.role !== 'agent';
  const [hist, dispatch] = useReducer(reducer, initial.draft, initHistory);
  const doc = hist.present;
  const [summary, setSummary] = useState<FlowSummary>(initial);
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>(initial.diagnostics);
  const [save, setSave] = useState<SaveState>({ state: 'saved' });
  const [selNodes, setSelNodes] = useState<string[]>([]);
  const [selEdges, setSelEdges] = useState<string[]>([]);
  const [measured, setMeasured] = useState<Map<string, { width: number; height: number }>>(new Map());
  const [menu, setMenu] = useState<Menu | null>(null);
  const [showProblems, setShowProblems] = useState(true);
  const [dialog, setDialog] = useState<'publish' | 'versions' | null>(null);
  const [notice, setNotice] = useState<string | null>(initialNotice ?? null);
  const [testOpen, setTestOpen] = useState(false);
  // Once opened, the test panel stays mounted (hidden while closed) so its conversation survives
  // editing the flow; the canvas shows its path and coverage only while it is open.
  const [testMounted, setTestMounted] = useState(false);
  const [simResult, setSim] = useState<SimResult | null>(null);
  const [coverageResult, setCoverage] = useState<TestRunResult | null>(null);
  const sim = testOpen ? simResult : null;
  const coverage = testOpen ? coverageResult : null;
  const [handoverCounts, setHandoverCounts] = useState<Map<string, number>>(new Map());
  const [dropOffs, setDropOffs] = useState<Map<string, DropOffBadge>>(new Map());
  useEffect(() => {
    let cancelled = false;
    flowApi
      .analytics(flowId)
      .then((a) => {
        if (cancelled) return;
        setHandoverCounts(new Map(a.handover_nodes.map((h) => [h.node, h.handovers])));
        setDropOffs(dropOffBadges(a));
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [flowId]);
  useEffect(() => {
    if (!notice) return;
    const t = window.setTimeout(() => setNotice(null), 6000);
    return () => window.clearTimeout(t);
  }, [notice]);
  const flow = useReactFlow<CardNode, RfEdge>();
  const canvasRef = useRef<HTMLDivElement>(null);
  const addButtonRef = useRef<HTMLButtonElement>(null);

  // ---- autosave ------------------------------------------------------------------------------
  const latest = useRef(doc);
  latest.current = doc;
  const saved = useRef<FlowDocument>(initial.draft);
  const inflight = useRef<Promise<void> | null>(null);
  /** What went wrong with the last save, null when it was saved. */
  const lastSaveError = useRef<string | null>(null);

  const flush = useCallback(async (): Promise<boolean> => {
    for (;;) {
      if (inflight.current) {
        await inflight.current;
        continue;
      }
      const d = latest.current;
      if (d === saved.current) return lastSaveError.current === null;
      const run = (async () => {
        setSave({ state: 'saving' });
        try {
          const res = await api.saveDraft(flowId, d);
          lastSaveError.current = null;
          setDiagnostics(res.diagnostics);
          setSummary(res);
          setSave(latest.current === d ? { state: 'saved' } : { state: 'pending' });
        } catch (e) {
          lastSaveError.current = errorText(e);
          setSave({ state: 'error', message: lastSaveError.current });
        } finally {
          saved.current = d;
        }
      })();
      inflight.current = run.finally(() => {
        inflight.current = null;
      });
      await inflight.current;
    }
  }, [flowId]);

  useEffect(() => {
    if (!canEdit) return;
    setSave((s) => saveStateFor(s, doc, saved.current, lastSaveError.current));
    if (doc === saved.current) return;
    const t = window.setTimeout(() => void flush(), AUTOSAVE_MS);
    return () => window.clearTimeout(t);
  }, [doc, flush, canEdit]);

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (latest.current !== saved.current || inflight.current) {
        e.preventDefault();
      }
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, []);

  // ---- derived canvas state ------------------------------------------------------------------
  // The findings with the document's accepted warnings marked at once (the server marks them
  // too, once the draft is saved).
  const acceptedList = doc.accepted;
  const findings = useMemo(() => withAccepted(acceptedList, diagnostics), [acceptedList, diagnostics]);
  // Cards and the property panel show the findings still to look at.
  const diagsByNode = useMemo(() => {
    const m = new Map<string, Diagnostic[]>();
    for (const d of findings) {
      if (!d.node || d.accepted) continue;
      const list = m.get(d.node) ?? [];
      list.push(d);
      m.set(d.node, list);
    }
    return m;
  }, [findings]);

  // Derived from the edges alone, so moving nodes does not recompute them.
  const docEdges = doc.edges;
  const edges = useMemo(() => keyEdges(docEdges), [docEdges]);
  const wiredByNode = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const { edge } of edges) {
      const list = m.get(edge.from) ?? [];
      list.push(edge.port);
      m.set(edge.from, list);
    }
    return m;
  }, [edges]);
  const incoming = useMemo(() => new Set(edges.map((e) => e.edge.to)), [edges]);

  const visited = useMemo(() => visitedNodes(sim), [sim]);
  const litEdges = useMemo(() => routeKeys(sim), [sim]);
  const coveredNodes = useMemo(() => (coverage ? new Set(coverage.covered_nodes) : null), [coverage]);
  const coveredPorts = useMemo(() => (coverage ? new Set(coverage.covered_ports) : null), [coverage]);

  // Cards are reused while nothing they show changed, so dragging one node re-renders one card.
  const cardCache = useRef(new Map<string, CardNode>());
  const rfNodes = useMemo<CardNode[]>(() => {
    const seen = new Set<string>();
    const selected = new Set(selNodes);
    const out: CardNode[] = [];
    const next = new Map<string, CardNode>();
    for (const n of doc.nodes) {
      if (typeof n.id !== 'string' || seen.has(n.id)) continue;
      seen.add(n.id);
      const size = measured.get(n.id);
      const diags = diagsByNode.get(n.id) ?? NONE;
      const wired = wiredByNode.get(n.id) ?? NO_PORTS;
      const hasIncoming = incoming.has(n.id);
      const isSelected = selected.has(n.id);
      // The coverage overlay, while shown, replaces the test conversation's path.
      const lit: CardData['lit'] = coveredNodes
        ? coveredNodes.has(n.id)
          ? null
          : 'uncovered'
        : sim && sim.state.at === n.id
          ? 'current'
          : visited.has(n.id)
            ? 'visited'
            : null;
      const uncovered = coveredPorts ? wired.filter((p) => !coveredPorts.has(`${n.id}.${p}`)).join(' ') : '';
      const handovers = handoverCounts.get(n.id) ?? null;
      const dropOff = dropOffs.get(n.id) ?? null;
      const prev = cardCache.current.get(n.id);
      const card: CardNode =
        prev &&
        prev.data.node === n &&
        prev.data.diagnostics === diags &&
        prev.data.wired === wired &&
        prev.data.hasIncoming === hasIncoming &&
        prev.data.lit === lit &&
        prev.data.uncoveredPorts === uncovered &&
        prev.data.handovers === handovers &&
        prev.data.dropOff === dropOff &&
        prev.selected === isSelected &&
        prev.measured === size
          ? prev
          : {
              id: n.id,
              type: 'baton',
              position: positionOf(n),
              data: { node: n, diagnostics: diags, wired, hasIncoming, lit, uncoveredPorts: uncovered, handovers, dropOff },
              selected: isSelected,
              ...(size ? { measured: size } : {}),
            };
      next.set(n.id, card);
      out.push(card);
    }
    cardCache.current = next;
    return out;
  }, [doc.nodes, selNodes, measured, diagsByNode, wiredByNode, incoming, sim, visited, coveredNodes, coveredPorts, handoverCounts, dropOffs]);

  const nodeIdsKey = useMemo(() => doc.nodes.map((n) => n.id).join('\n'), [doc.nodes]);

  const rfEdges = useMemo<RfEdge[]>(() => {
    const selected = new Set(selEdges);
    const ids = new Set(nodeIdsKey.split('\n'));
    const problemPorts = new Set(diagnostics.filter((d) => d.severity === 'error' && d.port).map((d) => `${d.node}:${d.port}`));
    return edges
      .filter((k) => ids.has(k.edge.from) && ids.has(k.edge.to))
      .map(({ key, edge }) => ({
        id: key,
        source: edge.from,
        sourceHandle: edge.port,
        target: edge.to,
        targetHandle: 'in',
        selected: selected.has(key),
        reconnectable: canEdit,
        markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
        className:
          [
            problemPorts.has(`${edge.from}:${edge.port}`) ? 'edge-problem' : '',
            !coveredPorts && litEdges.has(`${edge.from}:${edge.port}->${edge.to}`) ? 'edge-lit' : '',
            coveredPorts && !coveredPorts.has(`${edge.from}.${edge.port}`) ? 'edge-uncovered' : '',
          ]
            .filter(Boolean)
            .join(' ') || undefined,
        animated: !coveredPorts && litEdges.has(`${edge.from}:${edge.port}->${edge.to}`),
      }));
  }, [edges, selEdges, nodeIdsKey, diagnostics, canEdit, litEdges, coveredPorts]);

  // ---- edits ---------------------------------------------------------------------------------
  const apply = useCallback((fn: (d: FlowDocument) => FlowDocument, group?: string) => dispatch({ type: 'apply', fn, group }), []);

  const selectOnly = useCallback((ids: string[]) => {
    setSelNodes(ids);
    setSelEdges([]);
  }, []);

  const sizeOf = useCallback((id: string) => measured.get(id) ?? DEFAULT_SIZE, [measured]);

  /** A free spot near `p`: moves down while another node sits there. */
  const freeSpot = useCallback(
    (p: Position, d: FlowDocument): Position => {
      const pos = { ...p };
      for (let i = 0; i < 50; i++) {
        const clash = d.nodes.some((n) => {
          const q = positionOf(n);
          const s = sizeOf(n.id);
          return Math.abs(q.x - pos.x) < s.width * 0.8 && pos.y > q.y - 60 && pos.y < q.y + s.height + 20;
        });
        if (!clash) break;
        pos.y += 60;
      }
      return pos;
    },
    [sizeOf],
  );

  const viewportCenter = useCallback((): Position => {
    const rect = canvasRef.current?.getBoundingClientRect();
    if (!rect) return { x: 0, y: 0 };
    const p = flow.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 3 });
    return { x: p.x - DEFAULT_SIZE.width / 2, y: p.y };
  }, [flow]);

  /**
   * Adds a node. With a place (drop, or a port dragged to empty canvas) it goes there; otherwise
   * after the selected node, connected from its first free port, or in the middle of the view.
   */
  const addNodeOfType = useCallback(
    (type: NodeType, at?: Position, from?: { node: string; port: string }) => {
      if (!canEdit) return;
      const current = latest.current;
      let link = from;
      let position = at;
      if (!position) {
        const selected = selNodes.length === 1 ? nodeById(current, selNodes[0] as string) : undefined;
        if (selected) {
          const free = freePorts(current, selected);
          if (!link && free[0] !== undefined) link = { node: selected.id, port: free[0] };
          const p = positionOf(selected);
          const portIndex = link ? Math.max(0, portsOf(selected).indexOf(link.port)) : 0;
          position = freeSpot({ x: p.x + sizeOf(selected.id).width + 90, y: p.y + portIndex * 30 }, current);
        } else {
          position = freeSpot(viewportCenter(), current);
        }
      }
      const result = addNode(current, type, position, link);
      dispatch({ type: 'edit', value: result.doc });
      selectOnly([result.id]);
      setMenu(null);
      // Bring the new node into view when it landed outside.
      const rect = canvasRef.current?.getBoundingClientRect();
      if (rect) {
        const size = DEFAULT_SIZE;
        const topLeft = flow.flowToScreenPosition(position);
        const bottomRight = flow.flowToScreenPosition({ x: position.x + size.width, y: position.y + size.height });
        const inside = topLeft.x >= rect.left && topLeft.y >= rect.top && bottomRight.x <= rect.right && bottomRight.y <= rect.bottom;
        if (!inside) void flow.setCenter(position.x + size.width / 2, position.y + size.height / 2, { zoom: flow.getZoom(), duration: 250 });
      }
    },
    [canEdit, selNodes, freeSpot, sizeOf, viewportCenter, selectOnly, flow],
  );

  const dragBefore = useRef<FlowDocument | null>(null);

  const onNodesChange = useCallback((changes: NodeChange<CardNode>[]) => {
    const positions = new Map<string, Position>();
    const sizes: Array<[string, { width: number; height: number }]> = [];
    let selection: Map<string, boolean> | null = null;
    for (const c of changes) {
      if (c.type === 'position' && c.position) positions.set(c.id, c.position);
      else if (c.type === 'dimensions' && c.dimensions) sizes.push([c.id, { width: c.dimensions.width, height: c.dimensions.height }]);
      else if (c.type === 'select') (selection ??= new Map()).set(c.id, c.selected);
    }
    if (positions.size) dispatch({ type: 'apply', fn: (d) => moveNodes(d, positions), transient: true });
    if (sizes.length)
      setMeasured((prev) => {
        let changed = false;
        const next = new Map(prev);
        for (const [id, s] of sizes) {
          const old = prev.get(id);
          if (!old || old.width !== s.width || old.height !== s.height) {
            next.set(id, s);
            changed = true;
          }
        }
        return changed ? next : prev;
      });
    if (selection) {
      const sel = selection;
      setSelNodes((prev) => {
        const set = new Set(prev);
        for (const [id, on] of sel) {
          if (on) set.add(id);
          else set.delete(id);
        }
        return [...set];
      });
    }
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange<RfEdge>[]) => {
    const sel = changes.filter((c) => c.type === 'select');
    if (sel.length)
      setSelEdges((prev) => {
        const set = new Set(prev);
        for (const c of sel) {
          if (c.type !== 'select') continue;
          if (c.selected) set.add(c.id);
          else set.delete(c.id);
        }
        return [...set];
      });
  }, []);

  const onNodeDragStart = useCallback(() => {
    dragBefore.current = latest.current;
  }, []);
  const onNodeDragStop = useCallback(() => {
    if (dragBefore.current) dispatch({ type: 'checkpoint', before: dragBefore.current });
    dragBefore.current = null;
  }, []);

  const isValidConnection: IsValidConnection<RfEdge> = useCallback((c) => {
    const from = nodeById(latest.current, c.source);
    return !!from && !!c.sourceHandle && portsOf(from).includes(c.sourceHandle) && c.targetHandle === 'in' && c.target !== undefined;
  }, []);

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.sourceHandle) return;
      const port = c.sourceHandle;
      apply((d) => connect(d, c.source, port, c.target));
    },
    [apply],
  );

  const reconnecting = useRef<{ key: string; done: boolean } | null>(null);
  const onReconnectStart = useCallback((_: unknown, edge: RfEdge) => {
    reconnecting.current = { key: edge.id, done: false };
  }, []);
  const onReconnect = useCallback(
    (old: RfEdge, c: Connection) => {
      if (reconnecting.current) reconnecting.current.done = true;
      if (!c.sourceHandle) return;
      const next = { from: c.source, port: c.sourceHandle, to: c.target };
      apply((d) => reconnect(d, old.id, next));
    },
    [apply],
  );
  const onReconnectEnd = useCallback(
    (_: unknown, edge: RfEdge) => {
      // An edge dragged off its node and dropped on empty canvas is deleted.
      const r = reconnecting.current;
      reconnecting.current = null;
      if (r && !r.done) apply((d) => removeElements(d, [], [edge.id]));
    },
    [apply],
  );

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (reconnecting.current || !canEdit) return;
      if (state.isValid || !state.fromHandle || state.fromHandle.type !== 'source' || !state.fromNode) return;
      const port = state.fromHandle.id;
      if (!port) return;
      const point = 'changedTouches' in event ? event.changedTouches[0] : event;
      if (!point) return;
      const fromId = state.fromNode.id;
      // Dropped on a node's body: connect to it.
      const target = (event.target as HTMLElement | null)?.closest?.('.react-flow__node') as HTMLElement | null;
      const targetId = target?.dataset.id;
      if (targetId && targetId !== fromId && nodeById(latest.current, targetId)?.type !== 'trigger') {
        apply((d) => connect(d, fromId, port, targetId));
        return;
      }
      if (targetId) return;
      // Dropped on empty canvas: choose a node type to add there, connected.
      const at = flow.screenToFlowPosition({ x: point.clientX, y: point.clientY });
      setMenu({ x: point.clientX, y: point.clientY, at: { x: at.x, y: at.y - 24 }, from: { node: fromId, port } });
    },
    [apply, canEdit, flow],
  );

  const onDelete: OnDelete<CardNode, RfEdge> = useCallback(
    ({ nodes, edges: gone }) => {
      if (!canEdit) return;
      apply((d) => removeElements(d, nodes.map((n) => n.id), gone.map((e) => e.id)));
      setSelNodes((prev) => prev.filter((id) => !nodes.some((n) => n.id === id)));
      setSelEdges([]);
    },
    [apply, canEdit],
  );

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DRAG_TYPE) as NodeType;
      if (!type || !nodeInfo(type)) return;
      e.preventDefault();
      const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNodeOfType(type, { x: p.x - 40, y: p.y - 20 });
    },
    [flow, addNodeOfType],
  );

  const focusNode = useCallback(
    (id: string) => {
      const n = nodeById(latest.current, id);
      if (!n) return;
      const p = positionOf(n);
      const s = sizeOf(id);
      selectOnly([id]);
      void flow.setCenter(p.x + s.width / 2, p.y + s.height / 2, { zoom: Math.max(flow.getZoom(), 0.9), duration: 300 });
    },
    [flow, sizeOf, selectOnly],
  );

  const undo = useCallback(() => dispatch({ type: 'undo' }), []);
  const redo = useCallback(() => dispatch({ type: 'redo' }), []);

  const copy = useCallback(() => {
    const clip = copyNodes(latest.current, selNodes);
    if (clip) {
      clipboard = clip;
      setNotice(`Copied ${clip.nodes.length} ${clip.nodes.length === 1 ? 'node' : 'nodes'}.`);
    }
  }, [selNodes]);

  const pasteCount = useRef(0);
  const paste = useCallback(() => {
    if (!clipboard || !canEdit) return;
    pasteCount.current += 1;
    const offset = 40 * pasteCount.current;
    const result = pasteNodes(latest.current, clipboard, { x: offset, y: offset });
    dispatch({ type: 'edit', value: result.doc });
    selectOnly(result.ids);
  }, [canEdit, selectOnly]);

  /** Fit to view, never below a readable zoom: a large flow is shown from its trigger. */
  const fit = useCallback(
    (duration = 300) => {
      const rect = canvasRef.current?.getBoundingClientRect();
      if (!rect) return;
      const cards = flow.getNodes().map((n) => ({
        box: { x: n.position.x, y: n.position.y, width: n.measured?.width ?? DEFAULT_SIZE.width, height: n.measured?.height ?? DEFAULT_SIZE.height },
        isTrigger: n.data.node.type === 'trigger',
      }));
      const start = cards.find((c) => c.isTrigger)?.box ?? null;
      void flow.setViewport(
        readableViewport(
          cards.map((c) => c.box),
          start,
          { width: rect.width, height: rect.height },
        ),
        { duration },
      );
    },
    [flow],
  );
  // Opened, the flow is fitted once its cards have their sizes.
  const cardsMeasured = useNodesInitialized();
  const fittedOnOpen = useRef(false);
  useEffect(() => {
    if (!cardsMeasured || fittedOnOpen.current) return;
    fittedOnOpen.current = true;
    fit(0);
  }, [cardsMeasured, fit]);

  const autoLayout = useCallback(() => {
    const positions = layeredLayout(latest.current, { sizes: measured });
    apply((d) => moveNodes(d, positions));
    window.setTimeout(() => fit(), 50);
  }, [apply, measured, fit]);

  // Keyboard: undo/redo, copy/paste, select all (not while typing in a field).
  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      if (isTyping(e.target) || dialog) return;
      const mod = e.ctrlKey || e.metaKey;
      if (!mod) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) {
        e.preventDefault();
        undo();
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault();
        redo();
      } else if (k === 'c') {
        copy();
      } else if (k === 'v') {
        e.preventDefault();
        paste();
      } else if (k === 'd') {
        e.preventDefault();
        copy();
        paste();
      }
    };
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, [undo, redo, copy, paste, dialog]);

  // Selections that no longer exist (after undo, delete) are dropped.
  useEffect(() => {
    const ids = new Set(doc.nodes.map((n) => n.id));
    setSelNodes((prev) => (prev.every((id) => ids.has(id)) ? prev : prev.filter((id) => ids.has(id))));
    const keys = new Set(edges.map((e) => e.key));
    setSelEdges((prev) => (prev.every((k) => keys.has(k)) ? prev : prev.filter((k) => keys.has(k))));
  }, [doc, edges]);

  // ---- property panel ------------------------------------------------------------------------
  const selectedNode = selNodes.length === 1 ? nodeById(doc, selNodes[0] as string) : undefined;
  const variables = useMemo(() => knownVariables(doc), [doc]);

  const changeNode = useCallback(
    (id: string, next: FlowNode, options?: NodeChangeOptions) => {
      apply((d) => replaceNode(d, id, next, options?.renamedPorts), options?.group);
    },
    [apply],
  );

  const renameNode = useCallback(
    (id: string, newId: string) => {
      const current = nodeById(latest.current, id);
      if (!current) return;
      apply((d) => replaceNode(d, id, { ...current, id: newId }));
      setSelNodes([newId]);
      setMeasured((prev) => {
        const s = prev.get(id);
        if (!s) return prev;
        const next = new Map(prev);
        next.set(newId, s);
        return next;
      });
    },
    [apply],
  );

  // ---- name, live switch ---------------------------------------------------------------------
  const [name, setName] = useState(doc.name);
  useEffect(() => setName(doc.name), [doc.name]);
  const commitName = () => {
    const n = name.trim();
    if (!n || n.length > 200) {
      setName(doc.name);
      return;
    }
    if (n !== doc.name) apply((d) => ({ ...d, name: n }));
  };

  const setLive = async (live: boolean) => {
    try {
      setSummary(await api.setLive(flowId, live));
    } catch (e) {
      setNotice(errorText(e));
    }
  };

  const saveTest = useCallback(
    async (test: ScriptedTest): Promise<boolean> => {
      const before = latest.current;
      apply((d) => ({ ...d, tests: [...(d.tests ?? []), test] }));
      // Wait for the edit to render, then save the draft at once.
      for (let i = 0; i < 40 && latest.current === before; i++) await new Promise((r) => setTimeout(r, 25));
      const ok = await flush();
      if (!ok) setNotice('The test was added but the draft could not be saved.');
      return ok;
    },
    [apply, flush],
  );

  const { errors, warnings } = problemCounts(findings);
  /** A port of a node in the words the cards show. */
  const pathLabel = (nodeId: string, port: string) => {
    const n = nodeById(doc, nodeId);
    return n ? portLabel(n, port) : port;
  };

  return (
    <div className="builder">
      <TopBar member={member}>
        <button className="link" onClick={() => navigate({ page: 'flows' })}>
          ← Flows
        </button>
        <input
          className="flow-title"
          aria-label="Flow name"
          value={name}
          maxLength={200}
          disabled={!canEdit}
          onChange={(e) => setName(e.target.value)}
          onBlur={commitName}
          onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
        />
        <span className={`save-state save-${save.state}`} data-testid="save-state" data-state={save.state} role="status">
          {saveLabel(save)}
        </span>
      </TopBar>
      <div className="toolbar" role="toolbar" aria-label="Builder">
        <button ref={addButtonRef} className="primary" disabled={!canEdit} onClick={() => {
          const r = addButtonRef.current?.getBoundingClientRect();
          setMenu(menu ? null : { x: r?.left ?? 100, y: (r?.bottom ?? 100) + 4 });
        }}>
          + Add Node
        </button>
        <span className="toolbar-sep" />
        <button onClick={undo} disabled={!canUndo(hist)} title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button onClick={redo} disabled={!canRedo(hist)} title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
        <button onClick={copy} disabled={selNodes.length === 0} title="Copy (Ctrl+C)">
          Copy
        </button>
        <button onClick={paste} disabled={!canEdit} title="Paste (Ctrl+V)">
          Paste
        </button>
        <span className="toolbar-sep" />
        <button onClick={autoLayout} disabled={!canEdit} title="Arrange the nodes left to right">
          Auto-layout
        </button>
        <button onClick={() => fit()} title="Zoom to fit, as far as cards stay readable">
          Fit
        </button>
        <span className="spacer" />
        <button className={`problems-toggle ${errors ? 'status-error' : warnings ? 'status-warning' : ''}`} onClick={() => setShowProblems((s) => !s)} data-testid="problems-toggle">
          {errors} {errors === 1 ? 'error' : 'errors'} · {warnings} {warnings === 1 ? 'warning' : 'warnings'}
        </button>
        <label className="switch switch-labelled" title={summary.live_version === null ? 'Publish the flow before switching it on' : ''}>
          <input
            type="checkbox"
            role="switch"
            aria-label="Live"
            checked={summary.live}
            disabled={!canEdit || summary.live_version === null}
            onChange={(e) => void setLive(e.target.checked)}
          />
          <span className="switch-track" />
          <span>{summary.live ? `Live · v${summary.live_version}` : summary.live_version === null ? 'Not published' : `Off · v${summary.live_version}`}</span>
        </label>
        <button className={testOpen ? 'active' : ''} aria-pressed={testOpen} onClick={() => {
            setTestMounted(true);
            setTestOpen((o) => !o);
          }} data-testid="test-toggle">
          Test
        </button>
        <button onClick={() => navigate({ page: 'analytics', flowId })}>Analytics</button>
        <button onClick={() => setDialog('versions')}>Versions</button>
        <button className="primary" disabled={!canEdit} onClick={() => setDialog('publish')}>
          Publish…
        </button>
      </div>
      {notice && (
        <div className="toast" role="status">
          {notice}
          <button className="link" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      )}
      <div className="builder-main">
        {canEdit && <Palette onAdd={(t) => addNodeOfType(t)} />}
        <div className="canvas-column">
          <div className="canvas" ref={canvasRef} onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; }} onDrop={onDrop}>
            <ReactFlow<CardNode, RfEdge>
              nodes={rfNodes}
              edges={rfEdges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onNodeDragStart={onNodeDragStart}
              onNodeDragStop={onNodeDragStop}
              onConnect={onConnect}
              onConnectEnd={onConnectEnd}
              onReconnect={onReconnect}
              onReconnectStart={onReconnectStart}
              onReconnectEnd={onReconnectEnd}
              onDelete={onDelete}
              isValidConnection={isValidConnection}
              onPaneClick={() => setMenu(null)}
              nodesDraggable={canEdit}
              nodesConnectable={canEdit}
              edgesReconnectable={canEdit}
              deleteKeyCode={canEdit ? ['Delete', 'Backspace'] : null}
              connectionLineType={ConnectionLineType.Bezier}
              defaultEdgeOptions={{ type: 'default' }}
              onlyRenderVisibleElements={doc.nodes.length > 300}
              minZoom={0.1}
              maxZoom={2}
            >
              <Background gap={20} size={1} />
              <Controls showInteractive={false} showFitView={false} />
              <MiniMap pannable zoomable style={{ width: 160, height: 110 }} nodeColor={(n) => nodeInfo((n.data as CardNode['data']).node.type)?.color ?? '#94a3b8'} />
            </ReactFlow>
            {doc.nodes.length === 0 && (
              <div className="canvas-empty">
                <p>The canvas is empty.</p>
                <p className="muted">Start with a Trigger: + Add Node, or drag one from the palette.</p>
              </div>
            )}
          </div>
          {showProblems && (
            <ProblemsPanel
              diagnostics={findings}
              pathLabel={pathLabel}
              canEdit={canEdit}
              onFocus={(d) => d.node && focusNode(d.node)}
              onAccept={(d) => apply((current) => acceptWarning(current, d))}
              onUndoAccept={(d) => apply((current) => undoAccept(current, d))}
              onClose={() => setShowProblems(false)}
            />
          )}
        </div>
        <aside className={`side-panel${testOpen ? ' side-panel-test' : ''}`} aria-label={testOpen ? 'Test conversation' : 'Properties'}>
          {testMounted && (
            <div className="test-holder" hidden={!testOpen}>
              <TestPanel
                flowId={flowId}
                doc={doc}
                canEdit={canEdit}
                onResult={setSim}
                onCoverage={setCoverage}
                onSaveTest={saveTest}
                onClose={() => setTestOpen(false)}
              />
            </div>
          )}
          {testOpen ? null : selectedNode && canEdit ? (
            <PropertyPanel
              key={selectedNode.id}
              doc={doc}
              node={selectedNode}
              diagnostics={diagsByNode.get(selectedNode.id) ?? []}
              variables={variables}
              onChange={(next, options) => changeNode(selectedNode.id, next, options)}
              onRename={(newId) => renameNode(selectedNode.id, newId)}
              onDelete={() => {
                apply((d) => removeElements(d, [selectedNode.id], []));
                setSelNodes([]);
              }}
            />
          ) : selNodes.length > 1 ? (
            <div className="props">
              <div className="panel-title">{selNodes.length} nodes selected</div>
              <p className="muted small">Copy, paste or delete them together; drag to move them.</p>
            </div>
          ) : canEdit ? (
            <FlowPanel doc={doc} onChange={(next, group) => dispatch({ type: 'edit', value: next, group })} />
          ) : (
            <div className="props">
              <p className="muted">Agents can look at flows; admins and owners edit them.</p>
            </div>
          )}
          <div className="side-foot muted small">
            {doc.nodes.length} nodes · {edgesOf(doc).length} connections
          </div>
        </aside>
      </div>
      {menu && (
        <AddNodeMenu
          x={menu.x}
          y={menu.y}
          title={menu.from ? `Add after ${menu.from.node} · ${pathLabel(menu.from.node, menu.from.port)}` : selNodes.length === 1 ? `Add after ${selNodes[0]}` : 'Add a node'}
          onPick={(t) => addNodeOfType(t, menu.at, menu.from)}
          onClose={() => setMenu(null)}
        />
      )}
      {dialog === 'publish' && (
        <PublishDialog
          flowId={flowId}
          draft={doc}
          lastVersion={summary.live_version}
          live={summary.live}
          errors={errors}
          warnings={warnings}
          beforePublish={flush}
          onPublished={() => {
            void api.flow(flowId).then((d) => setSummary(d));
          }}
          onFocusNode={focusNode}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'versions' && (
        <VersionsDialog
          flowId={flowId}
          liveVersion={summary.live_version}
          canEdit={canEdit}
          beforeRollback={flush}
          onRolledBack={(message) => onReload(message)}
          onClose={() => setDialog(null)}
        />
      )}
    </div>
  );
}
