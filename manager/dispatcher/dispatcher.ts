// The dispatcher (leader only): one session per node over mTLS, heartbeats at the cluster's period, and node
// status — READY while a node heartbeats, DOWN after three missed periods.
import * as grpc from '@grpc/grpc-js';
import {
  createLogger,
  errorMessage,
  NotManager,
  PermissionDenied,
  type Logger,
  type NetworkView,
  type NodeDescription,
  type Task,
} from '../../api/index.js';
import {
  MANAGER_ROLE,
  WORKER_ROLE,
  rpcMethod,
  serveUnary,
  unaryMethod,
  type Authorizer,
} from '../../pki/index.js';
import type { MemoryStore, StoreEvent } from '../store/index.js';
import { LogBroker, type LogSubscription } from '../logs/index.js';
import { AssignmentTracker, forNode, type Assignments } from './assignments.js';
import { networkViewsFor } from './network-views.js';
import { StatusBatcher, validateUpdates } from './status-updates.js';

export const DISPATCHER_SERVICE = 'tsswarm.Dispatcher';
export const HEARTBEAT = unaryMethod(DISPATCHER_SERVICE, 'Heartbeat');
export const UPDATE_TASK_STATUS = unaryMethod(DISPATCHER_SERVICE, 'UpdateTaskStatus');
export const SESSION = rpcMethod(DISPATCHER_SERVICE, 'Session', { response: true });

/** Agent → manager: the lines of a log subscription (bidirectional so the manager can end it). */
export const PUBLISH_LOGS = rpcMethod(DISPATCHER_SERVICE, 'PublishLogs', { request: true, response: true });

export interface SessionRequest {
  description: NodeDescription;
  /** The node's address as the manager should record it. */
  addr: string;
}

/** What the dispatcher streams to an agent: the heartbeat period now, assignments with the services issue. */
export interface SessionMessage {
  sessionId: string;
  heartbeatPeriodMs: number;
  /** The role the cluster wants for the node: the agent acts on promotions and demotions. */
  role: 'manager' | 'worker';
  /** The node's tasks (and the secrets and configs they need): the full set in the first message, then changes. */
  assignments?: Assignments;
  /** Logs to publish over PublishLogs. */
  logSubscriptions?: LogSubscription[];
  /** The managers' addresses (first message): agents reach a new leader through them, as Swarm's do. */
  managers?: string[];
  /** The overlay networks the node takes part in, whole, whenever any of them changes. */
  networks?: NetworkView[];
}

export interface HeartbeatResponse {
  heartbeatPeriodMs: number;
  role: 'manager' | 'worker';
  /** The managers' addresses, so a worker that joined before a manager did learns of it. */
  managers: string[];
}

const MISSED_PERIODS_FOR_DOWN = 3;

interface Session {
  call: grpc.ServerWritableStream<unknown, unknown>;
  sessionId: string;
  tracker: AssignmentTracker;
  /** The network views last sent (JSON), to send them again only when they change. */
  networksSent?: string;
}

export class Dispatcher {
  private lastSeen = new Map<string, number>();
  private sessions = new Map<string, Session>();
  private readonly statuses: StatusBatcher;
  private unwatch?: () => void;
  /** Tasks changed since the last push, by node (undefined = deleted). */
  private changed = new Map<string, Map<string, Task | undefined>>();
  private pushScheduled = false;
  /** Something the network views follow from changed since they were last sent. */
  private networksDirty = false;
  private timer?: NodeJS.Timeout;
  private active = false;
  private readonly log: Logger;
  /** Service and task logs gathered from the agents (leader only, as the sessions). */
  readonly logs: LogBroker;

  constructor(
    private readonly store: MemoryStore,
    private readonly authz: Authorizer,
    private readonly o: {
      heartbeatPeriodMs: () => number;
      isLeader: () => boolean;
      /** Whether a node is still in the Raft group: a demoted manager stays one until the leader removes it. */
      isRaftMember?: (nodeId: string) => boolean;
      log?: Logger;
    },
  ) {
    this.log = o.log ?? createLogger({ component: 'dispatcher' });
    this.statuses = new StatusBatcher(store);
    this.logs = new LogBroker(store, {
      send: (node, sub) => this.sendLogSubscription(node, sub),
      log: this.log,
    });
  }

  private sendLogSubscription(nodeId: string, sub: LogSubscription): boolean {
    const s = this.sessions.get(nodeId);
    if (!s || !this.active) return false;
    try {
      s.call.write({
        sessionId: s.sessionId,
        heartbeatPeriodMs: this.o.heartbeatPeriodMs(),
        role: this.desiredRole(nodeId),
        logSubscriptions: [sub],
      } satisfies SessionMessage);
      return true;
    } catch (err) {
      this.log.debug('could not send a log subscription', { node: nodeId, err: errorMessage(err) });
      return false;
    }
  }

  register(server: grpc.Server): void {
    server.addService(
      {
        Session: SESSION,
        Heartbeat: HEARTBEAT,
        UpdateTaskStatus: UPDATE_TASK_STATUS,
        PublishLogs: PUBLISH_LOGS,
      },
      {
        PublishLogs: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
          this.authz
            .require(call as never, [WORKER_ROLE, MANAGER_ROLE])
            .then((id) => {
              this.requireActive();
              this.logs.publish(id.nodeId, call);
            })
            .catch((err: unknown) =>
              call.emit('error', {
                code:
                  err instanceof PermissionDenied
                    ? grpc.status.PERMISSION_DENIED
                    : grpc.status.FAILED_PRECONDITION,
                details: errorMessage(err),
              }),
            );
        },
        UpdateTaskStatus: serveUnary(async (req, call) => {
          const id = await this.authz.require(call as never, [WORKER_ROLE, MANAGER_ROLE]);
          this.requireActive();
          await this.statuses.submit(id.nodeId, validateUpdates(req));
          return {};
        }),
        Session: (call: grpc.ServerWritableStream<unknown, unknown>) => void this.session(call),
        Heartbeat: serveUnary(async (_req, call) => {
          const id = await this.authz.require(call as never, [WORKER_ROLE, MANAGER_ROLE]);
          this.requireActive();
          // A node marked down (its heartbeats were late) must open a new session, which marks it ready again.
          const state = this.store.view((tx) => tx.get('node', id.nodeId))?.Status.State;
          if (state === 'down') throw new NotManager(`node ${id.nodeId} is down: open a new session`);
          this.lastSeen.set(id.nodeId, Date.now());
          return {
            heartbeatPeriodMs: this.o.heartbeatPeriodMs(),
            role: this.desiredRole(id.nodeId),
            managers: this.managerAddrs(),
          } satisfies HeartbeatResponse;
        }),
      },
    );
  }

  private managerAddrs(): string[] {
    return this.store
      .view((tx) => tx.find('node', 'role', 'manager'))
      .map((n) => n.ManagerStatus?.Addr)
      .filter((a): a is string => !!a);
  }

  private desiredRole(nodeId: string): 'manager' | 'worker' {
    const node = this.store.view((tx) => tx.get('node', nodeId));
    if (!node) throw new NotManager(`node ${nodeId} is not a member of this swarm`);
    // A demoted manager keeps its manager role until it has left the Raft group, so quorum is never at risk.
    if (node.Spec.Role === 'worker' && this.o.isRaftMember?.(nodeId)) return 'manager';
    return node.Spec.Role;
  }

  private requireActive(): void {
    if (!this.active || !this.o.isLeader())
      throw new NotManager('this manager is not the leader: reconnect to the leader');
  }

  private async session(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
    let nodeId = '';
    try {
      const id = await this.authz.require(call as never, [WORKER_ROLE, MANAGER_ROLE]);
      this.requireActive();
      nodeId = id.nodeId;
      const req = call.request as SessionRequest;
      await this.store.update((tx) => {
        const node = tx.get('node', nodeId);
        if (!node) throw new NotManager(`node ${nodeId} is not a member of this swarm`);
        node.Description = { ...node.Description, ...req.description };
        node.Status = { State: 'ready', Addr: req.addr };
        tx.update('node', node);
      });
      this.lastSeen.set(nodeId, Date.now());
      this.sessions.get(nodeId)?.call.end();
      const session: Session = {
        call,
        sessionId: `${nodeId}-${Date.now()}`,
        tracker: new AssignmentTracker(nodeId, {
          secret: (id) => this.store.view((tx) => tx.get('secret', id)),
          config: (id) => this.store.view((tx) => tx.get('config', id)),
        }),
      };
      this.sessions.set(nodeId, session);
      call.write({
        sessionId: session.sessionId,
        heartbeatPeriodMs: this.o.heartbeatPeriodMs(),
        role: this.desiredRole(nodeId),
        assignments: this.named(
          session.tracker.full(this.store.view((tx) => tx.find('task', 'node', nodeId))),
        ),
        managers: this.managerAddrs(),
      } satisfies SessionMessage);
      call.on('cancelled', () => {
        if (this.sessions.get(nodeId) !== session) return;
        this.sessions.delete(nodeId);
        this.logs.onSessionLost(nodeId);
      });
      this.logs.onSession(nodeId);
      this.pushNetworks([nodeId]);
    } catch (err) {
      // grpc-js ends a server stream with a status when the call emits it as an error.
      call.emit('error', {
        code:
          err instanceof PermissionDenied ? grpc.status.PERMISSION_DENIED : grpc.status.FAILED_PRECONDITION,
        details: errorMessage(err),
      });
    }
  }

  private named(a: Assignments): Assignments {
    const ids = new Set(a.tasks.map((t) => t.ServiceID));
    const names = this.store.view(
      (tx) => new Map([...ids].map((id) => [id, tx.get('service', id)?.Spec.Name] as const)),
    );
    return { ...a, tasks: a.tasks.map((t) => forNode(t, names.get(t.ServiceID))) };
  }

  /** Collects task changes per node; pushes them once per event-loop turn. */
  private onStoreEvents(events: StoreEvent[]): void {
    for (const e of events) {
      if (e.kind === 'network' || e.kind === 'service' || e.kind === 'node') this.networksDirty = true;
      if (e.kind !== 'task') continue;
      const t = e.obj as Task;
      const old = e.old as Task | undefined;
      // Only tasks with network attachments appear in network views: the status changes of the others (most
      // of a busy store's writes) need no recomputation of every view.
      if (t.NetworksAttachments?.length || old?.NetworksAttachments?.length) this.networksDirty = true;
      const now = e.op === 'delete' ? undefined : t;
      for (const node of new Set([t.NodeID, old?.NodeID])) {
        if (!node || !this.sessions.has(node)) continue;
        let m = this.changed.get(node);
        if (!m) this.changed.set(node, (m = new Map()));
        m.set(t.ID, now);
      }
    }
    if ((this.changed.size === 0 && !this.networksDirty) || this.pushScheduled) return;
    this.pushScheduled = true;
    setImmediate(() => this.pushChanges());
  }

  private pushChanges(): void {
    this.pushScheduled = false;
    if (this.networksDirty) {
      this.networksDirty = false;
      this.pushNetworks();
    }
    const changed = this.changed;
    this.changed = new Map();
    for (const [nodeId, tasks] of changed) {
      const s = this.sessions.get(nodeId);
      const changes = s?.tracker.changes(tasks);
      if (!s || !changes) continue;
      const assignments = this.named(changes);
      try {
        s.call.write({
          sessionId: s.sessionId,
          heartbeatPeriodMs: this.o.heartbeatPeriodMs(),
          role: this.desiredRole(nodeId),
          assignments,
        } satisfies SessionMessage);
      } catch (err) {
        // The node was removed meanwhile: its session ends.
        this.log.debug('dropping a session', { node: nodeId, err: errorMessage(err) });
        s.call.end();
        this.sessions.delete(nodeId);
      }
    }
  }

  /** Sends each node the network views that changed for it (computed from one view of the store). */
  private pushNetworks(nodes: Iterable<string> = this.sessions.keys()): void {
    const inputs = this.store.view((tx) => ({
      tasks: tx.all('task'),
      services: tx.all('service'),
      networks: tx.all('network'),
      nodes: tx.all('node'),
    }));
    const viewsOf = networkViewsFor(inputs);
    for (const nodeId of nodes) {
      const s = this.sessions.get(nodeId);
      if (!s) continue;
      const views = viewsOf(nodeId);
      const json = JSON.stringify(views);
      // A new session is always told (even "none"): the agent may hold views from its previous session.
      if (json === s.networksSent) continue;
      s.networksSent = json;
      this.log.debug('network views sent', { node: nodeId, networks: views.map((v) => v.name).join(',') });
      try {
        s.call.write({
          sessionId: s.sessionId,
          heartbeatPeriodMs: this.o.heartbeatPeriodMs(),
          role: this.desiredRole(nodeId),
          networks: views,
        } satisfies SessionMessage);
      } catch (err) {
        this.log.debug('could not send network views', { node: nodeId, err: errorMessage(err) });
      }
    }
  }

  /** Leader-only: starts watching heartbeats. Every known node gets a full grace period first. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.unwatch = this.store.watch((events) => this.onStoreEvents(events));
    this.logs.start();
    const now = Date.now();
    for (const n of this.store.view((tx) => tx.all('node'))) this.lastSeen.set(n.ID, now);
    // Checked 4 times a period: a dead node is marked down at most a quarter period after its 3 periods.
    this.timer = setInterval(() => void this.markDown(), Math.max(50, this.o.heartbeatPeriodMs() / 4));
    this.timer.unref();
  }

  stop(): void {
    this.active = false;
    if (this.timer) clearInterval(this.timer);
    this.unwatch?.();
    this.unwatch = undefined;
    this.statuses.stop();
    this.logs.stop();
    this.changed.clear();
    for (const s of this.sessions.values()) s.call.end();
    this.sessions.clear();
    this.lastSeen.clear();
  }

  private async markDown(): Promise<void> {
    if (!this.active || !this.o.isLeader()) return;
    const deadline = Date.now() - MISSED_PERIODS_FOR_DOWN * this.o.heartbeatPeriodMs();
    const stale = this.store.view((tx) =>
      tx.all('node').filter((n) => n.Status.State === 'ready' && (this.lastSeen.get(n.ID) ?? 0) < deadline),
    );
    if (stale.length === 0) return;
    try {
      await this.store.update((tx) => {
        for (const n of stale) {
          const cur = tx.get('node', n.ID);
          if (!cur) continue;
          cur.Status = { ...cur.Status, State: 'down', Message: 'heartbeat failure' };
          tx.update('node', cur);
        }
      });
      this.log.info('nodes marked down', { nodes: stale.map((n) => n.ID).join(',') });
      // Their sessions end too: an agent that is still alive reconnects and is ready again.
      for (const n of stale) {
        const session = this.sessions.get(n.ID);
        if (!session) continue;
        this.sessions.delete(n.ID);
        session.call.end();
        this.logs.onSessionLost(n.ID);
      }
    } catch (err) {
      this.log.warn('could not mark nodes down', { err: errorMessage(err) });
    }
  }
}
