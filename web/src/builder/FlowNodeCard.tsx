import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { nodeInfo, summaryLines } from '../flow/nodeTypes';
import { isEscapePort, portLabel, portsOf } from '../flow/ports';
import type { Diagnostic, FlowNode } from '../flow/types';
import type { DropOffBadge } from '../pages/analytics';

export type CardData = {
  node: FlowNode;
  diagnostics: Diagnostic[];
  wired: string[];
  hasIncoming: boolean;
  /** Test conversation / coverage overlay: the current node, a visited one, or one no test covers. */
  lit?: 'current' | 'visited' | 'uncovered' | null;
  /** Ports no scripted test leaves through (space separated), while coverage is shown. */
  uncoveredPorts?: string;
  /** Hand-overs counted by analytics at this node. */
  handovers?: number | null;
  /** Drop-off counted by analytics at this node (only when conversations dropped off here). */
  dropOff?: DropOffBadge | null;
};

export type CardNode = Node<CardData, 'baton'>;

/** Lines that show what the customer reads get two lines on the card; settings get one. */
const TEXT_LABELS = new Set(['Says', 'Asks', 'Instruction', 'Intro']);

function Card({ data, selected }: NodeProps<CardNode>) {
  const { node, diagnostics, wired } = data;
  const info = nodeInfo(node.type);
  const wiredSet = new Set(wired);
  // A question's escape ports show when wired, or while the node is selected (to drag from).
  const ports = portsOf(node).filter((p) => !isEscapePort(p) || selected || wiredSet.has(p));
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const warnings = diagnostics.filter((d) => d.severity === 'warning');
  const portProblem = (port: string) => diagnostics.find((d) => d.port === port);
  const isTrigger = node.type === 'trigger';
  const uncovered = new Set((data.uncoveredPorts ?? '').split(' ').filter(Boolean));
  return (
    <div
      className={`card${selected ? ' selected' : ''}${data.lit ? ` lit-${data.lit}` : ''}${errors.length ? ' has-errors' : warnings.length ? ' has-warnings' : ''}`}
      style={{ ['--accent' as string]: info?.color ?? '#64748b' }}
      data-node-id={node.id}
      data-node-type={node.type}
      data-lit={data.lit ?? undefined}
    >
      <Handle
        type="target"
        position={Position.Left}
        id="in"
        className={`handle-in${isTrigger ? ' handle-hidden' : ''}`}
        isConnectable={!isTrigger}
      />
      <div className="card-head">
        <span className="card-type">{info?.label ?? node.type}</span>
        <span className="card-id" title={node.id}>
          {node.id}
        </span>
        {data.handovers != null && data.handovers > 0 && (
          <span className="card-handovers" title={`${data.handovers} hand-overs (analytics)`} data-testid="node-handovers">
            {data.handovers} ⇄
          </span>
        )}
        {(errors.length > 0 || warnings.length > 0) && (
          <span
            className={`card-marker ${errors.length ? 'marker-error' : 'marker-warning'}`}
            title={diagnostics.map((d) => `${d.severity}: ${d.message}`).join('\n')}
            data-testid="node-marker"
          >
            {errors.length ? `${errors.length} !` : `${warnings.length} ⚠`}
          </span>
        )}
      </div>
      <div className="card-body">
        {summaryLines(node).map(([label, value], i) => (
          <div className={`card-line${TEXT_LABELS.has(label) ? ' card-line-text' : ''}`} key={i}>
            <span className="card-label">{label}</span> <span className="card-value">{value}</span>
          </div>
        ))}
        {!info && <div className="card-line error-text">Unknown node type “{node.type}”</div>}
        {data.dropOff && data.dropOff.dropped_off > 0 && (
          <div className="card-stats">
            <span className="card-dropoff" title={data.dropOff.title} data-testid="node-dropoff">
              {data.dropOff.text}
            </span>
          </div>
        )}
      </div>
      {ports.length > 0 && (
        <div className="card-ports">
          {ports.map((port, i) => {
            const problem = portProblem(port);
            return (
              <div
                className={`port${wiredSet.has(port) ? ' wired' : ''}${isEscapePort(port) ? ' port-escape' : ''}${uncovered.has(port) ? ' port-uncovered' : ''}${problem ? ` port-${problem.severity}` : ''}`}
                key={`${port}-${i}`}
                data-port={port}
                title={problem ? problem.message : wiredSet.has(port) ? `${port}: connected` : `${port}: drag to connect or to add a node`}
              >
                <span className="port-label">{portLabel(node, port)}</span>
                <Handle type="source" position={Position.Right} id={port} className="handle-out" />
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}

export const FlowNodeCard = memo(Card);
