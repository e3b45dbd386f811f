// Docker's event messages for swarm objects, made from committed store changes (as dockerd's
// generateClusterEvent does for swarmkit's watch: node, service, network, secret and config; tasks give none).
import type { Network, Node, Service } from '../../api/index.js';
import type { StoreEvent } from '../store/index.js';

export type EventType =
  | 'builder'
  | 'config'
  | 'container'
  | 'daemon'
  | 'image'
  | 'network'
  | 'node'
  | 'plugin'
  | 'secret'
  | 'service'
  | 'volume';

/** One event as GET /events streams it (API < 1.52 shape; swarm events carry no legacy status/id/from). */
export interface EventMessage {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'swarm' | 'local';
  /** Seconds since the epoch. */
  time: number;
  /** Nanoseconds since the epoch. */
  timeNano: number;
}

/** An event with its exact time in nanoseconds (JSON numbers cannot hold every int64 nanosecond value). */
export interface TimedEvent {
  message: EventMessage;
  ns: bigint;
}

const ACTIONS = { create: 'create', update: 'update', delete: 'remove' } as const;

/**
 * The Docker events of one store change. Creates are dated by the object's CreatedAt, updates by its UpdatedAt
 * (both set from the proposer's clock, so every manager dates them alike); removals by `nowMs`, as Docker does.
 */
export function eventsOfChange(e: StoreEvent, nowMs: number): TimedEvent[] {
  if (e.kind === 'task' || e.kind === 'cluster') return [];
  const dated = e.op === 'create' ? e.obj.CreatedAt : e.op === 'update' ? e.obj.UpdatedAt : undefined;
  const parsed = dated ? Date.parse(dated) : NaN;
  const ms = Number.isNaN(parsed) ? nowMs : parsed;
  const attributes =
    e.kind === 'node'
      ? nodeAttributes(e.op, e.obj as Node, e.old as Node | undefined)
      : e.kind === 'service'
        ? serviceAttributes(e.op, e.obj as Service, e.old as Service | undefined)
        : { name: (e.obj as Network).Spec?.Name ?? '' };
  const ns = BigInt(Math.round(ms)) * 1_000_000n;
  return [
    {
      ns,
      message: {
        Type: e.kind,
        Action: ACTIONS[e.op],
        Actor: { ID: e.obj.ID, Attributes: attributes },
        scope: 'swarm',
        time: Number(ns / 1_000_000_000n),
        timeNano: Number(ns),
      },
    },
  ];
}

function nodeAttributes(op: StoreEvent['op'], node: Node, old: Node | undefined): Record<string, string> {
  const a: Record<string, string> = { name: node.Spec.Name || node.Description?.Hostname || '' };
  if (op !== 'update' || !old) return a;
  const changed = (key: string, before: string | undefined, after: string | undefined) => {
    if (before === after) return;
    a[`${key}.old`] = (before ?? 'unknown').toLowerCase();
    a[`${key}.new`] = (after ?? 'unknown').toLowerCase();
  };
  changed('availability', old.Spec.Availability, node.Spec.Availability);
  changed('role', old.Spec.Role, node.Spec.Role);
  changed('state', old.Status?.State, node.Status?.State);
  // Changes within the manager role: leadership and reachability.
  if (node.ManagerStatus && old.ManagerStatus) {
    changed('leader', String(!!old.ManagerStatus.Leader), String(!!node.ManagerStatus.Leader));
    changed('reachability', old.ManagerStatus.Reachability, node.ManagerStatus.Reachability);
  }
  return a;
}

function serviceAttributes(
  op: StoreEvent['op'],
  svc: Service,
  old: Service | undefined,
): Record<string, string> {
  const a: Record<string, string> = { name: svc.Spec.Name };
  if (op !== 'update' || !old) return a;
  const image = svc.Spec.TaskTemplate?.ContainerSpec?.Image;
  const oldImage = old.Spec.TaskTemplate?.ContainerSpec?.Image;
  if (image !== undefined && oldImage !== undefined && image !== oldImage) {
    a['image.old'] = oldImage;
    a['image.new'] = image;
  }
  const replicated = svc.Spec.Mode?.Replicated;
  const oldReplicated = old.Spec.Mode?.Replicated;
  // A replicated service without a count runs one replica (Docker's default).
  if (replicated && oldReplicated && (replicated.Replicas ?? 1) !== (oldReplicated.Replicas ?? 1)) {
    a['replicas.old'] = String(oldReplicated.Replicas ?? 1);
    a['replicas.new'] = String(replicated.Replicas ?? 1);
  }
  if (svc.UpdateStatus) {
    if (!old.UpdateStatus) a['updatestate.new'] = svc.UpdateStatus.State.toLowerCase();
    else if (svc.UpdateStatus.State !== old.UpdateStatus.State) {
      a['updatestate.old'] = old.UpdateStatus.State.toLowerCase();
      a['updatestate.new'] = svc.UpdateStatus.State.toLowerCase();
    }
  }
  return a;
}
