// The leader's log broker (swarmkit's logbroker, smaller): a subscription goes to the agents of the nodes that
// run (or ran) the selected tasks through their dispatcher sessions; each agent opens a PublishLogs stream
// back and sends the lines. A subscription ends when every node has published everything (no follow), when
// its reader goes away, or when the followed service or task is removed; ending it ends the agents' streams.
import type * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { createLogger, errorMessage, type Logger, type Task } from '../../api/index.js';
import type { MemoryStore, StoreEvent } from '../store/index.js';
import type { LogMessage, LogOptions, LogSelector, LogSubscription, PublishLogsMessage } from './messages.js';

type PublishCall = grpc.ServerDuplexStream<unknown, unknown>;

interface ActiveSubscription {
  sub: LogSubscription;
  /** Nodes whose logs the subscription wants. */
  nodes: Set<string>;
  /** Nodes whose agents were handed the subscription. */
  sent: Set<string>;
  /** Waits for the sessions of nodes not connected when the subscription began. */
  timers: Set<NodeJS.Timeout>;
  /** Nodes that have not finished publishing (no follow). */
  pending: Set<string>;
  calls: Set<PublishCall>;
  onMessages: (m: LogMessage[]) => void;
  finish: () => void;
}

export interface LogBrokerOptions {
  /** Hands a node's agent the subscription through its session; false when the node has no session. */
  send: (nodeId: string, sub: LogSubscription) => boolean;
  /** How long a reading (no follow) waits for a node without a session (ms, default 5000). */
  sessionGraceMs?: number;
  log?: Logger;
}

function matches(sel: LogSelector, t: Task): boolean {
  return sel.taskIds.includes(t.ID) || sel.serviceIds.includes(t.ServiceID);
}

export class LogBroker {
  private readonly subs = new Map<string, ActiveSubscription>();
  private unwatch?: () => void;
  private readonly log: Logger;

  constructor(
    private readonly store: MemoryStore,
    private readonly o: LogBrokerOptions,
  ) {
    this.log = o.log ?? createLogger({ component: 'logbroker' });
  }

  /** Open subscriptions (tests, leak checks). */
  get size(): number {
    return this.subs.size;
  }

  start(): void {
    this.unwatch ??= this.store.watch((events) => this.onStoreEvents(events));
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    for (const a of [...this.subs.values()]) a.finish();
  }

  /**
   * Streams the selected logs to `onMessages` until done (see above) or `signal` aborts. Resolves when the
   * subscription is over; every agent-side stream it opened has then been told to end.
   */
  subscribe(
    selector: LogSelector,
    options: LogOptions,
    onMessages: (m: LogMessage[]) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve) => {
      const sub: LogSubscription = { id: randomBytes(12).toString('hex'), selector, options };
      const nodes = new Set(
        this.store.view((tx) =>
          [
            ...selector.serviceIds.flatMap((id) => tx.find('task', 'service', id)),
            ...selector.taskIds.map((id) => tx.get('task', id)).filter((t): t is Task => !!t),
          ]
            .map((t) => t.NodeID)
            .filter((n): n is string => !!n),
        ),
      );
      const onAbort = (): void => active.finish();
      const active: ActiveSubscription = {
        sub,
        nodes: new Set(),
        sent: new Set(),
        timers: new Set(),
        pending: new Set(),
        calls: new Set(),
        onMessages,
        finish: () => {
          if (this.subs.get(sub.id) !== active) return;
          this.subs.delete(sub.id);
          signal.removeEventListener('abort', onAbort);
          for (const t of active.timers) clearTimeout(t);
          for (const c of active.calls) c.end();
          active.calls.clear();
          resolve();
        },
      };
      this.subs.set(sub.id, active);
      if (signal.aborted) return active.finish();
      signal.addEventListener('abort', onAbort);
      for (const n of nodes) this.addNode(active, n);
      this.checkDone(active);
    });
  }

  private addNode(a: ActiveSubscription, nodeId: string): void {
    if (a.nodes.has(nodeId)) return;
    a.nodes.add(nodeId);
    if (!a.sub.options.follow) a.pending.add(nodeId);
    if (this.o.send(nodeId, a.sub)) return void a.sent.add(nodeId);
    // Not connected now (e.g. reconnecting): a follower gets it when its session is back (onSession); a
    // reading waits a little for it, then goes on without that node's logs.
    this.log.debug('no session to publish logs from yet', { node: nodeId, subscription: a.sub.id });
    if (a.sub.options.follow) return;
    const t = setTimeout(() => {
      a.timers.delete(t);
      if (!a.sent.has(nodeId) && a.pending.delete(nodeId)) {
        this.log.warn('logs incomplete: node not connected', { node: nodeId, subscription: a.sub.id });
        this.checkDone(a);
      }
    }, this.o.sessionGraceMs ?? 5000);
    a.timers.add(t);
  }

  private checkDone(a: ActiveSubscription): void {
    if (!a.sub.options.follow && a.pending.size === 0) a.finish();
  }

  /**
   * A node's session (re)opened: it gets the subscriptions it was not handed yet, and again those it follows
   * (new lines only: what it sent before the break was delivered).
   */
  onSession(nodeId: string): void {
    for (const a of this.subs.values()) {
      if (!a.nodes.has(nodeId)) continue;
      if (!a.sent.has(nodeId)) {
        if (a.sub.options.follow || a.pending.has(nodeId)) if (this.o.send(nodeId, a.sub)) a.sent.add(nodeId);
        continue;
      }
      if (!a.sub.options.follow) continue;
      const since = Date.now() / 1000;
      this.o.send(nodeId, { ...a.sub, options: { ...a.sub.options, tail: undefined, since } });
    }
  }

  /** A node's session ended: it will publish nothing more for subscriptions that wait for it. */
  onSessionLost(nodeId: string): void {
    for (const a of [...this.subs.values()]) {
      if (!a.pending.delete(nodeId)) continue;
      this.checkDone(a);
    }
  }

  private onStoreEvents(events: StoreEvent[]): void {
    if (this.subs.size === 0) return;
    for (const e of events) {
      if (e.kind === 'service' && e.op === 'delete') {
        for (const a of [...this.subs.values()]) if (a.sub.selector.serviceIds.includes(e.obj.ID)) a.finish();
      } else if (e.kind === 'task') {
        const t = e.obj as Task;
        for (const a of [...this.subs.values()]) {
          if (!matches(a.sub.selector, t)) continue;
          if (e.op === 'delete' && a.sub.selector.taskIds.includes(t.ID)) a.finish();
          // A followed service's new or moved task: its node joins the subscription.
          else if (e.op !== 'delete' && a.sub.options.follow && t.NodeID) this.addNode(a, t.NodeID);
        }
      }
    }
  }

  /** Serves one agent's PublishLogs stream (the caller's node ID comes from its verified certificate). */
  publish(nodeId: string, call: PublishCall): void {
    let active: ActiveSubscription | undefined;
    const done = (): void => {
      if (!active) return;
      active.calls.delete(call);
      if (active.pending.delete(nodeId)) this.checkDone(active);
    };
    call.on('data', (raw: unknown) => {
      const m = raw as PublishLogsMessage;
      if (!active) {
        const a = this.subs.get(String(m?.subscriptionId));
        // An ended subscription, or one this node was never asked for: end its stream at once.
        if (!a || !a.nodes.has(nodeId)) return void call.end();
        active = a;
        a.calls.add(call);
      }
      if (this.subs.get(active.sub.id) !== active) return void call.end();
      if (Array.isArray(m.messages) && m.messages.length > 0) {
        try {
          active.onMessages(m.messages.map((x) => ({ ...x, nodeId })));
        } catch (err) {
          this.log.warn('log reader failed', { subscription: active.sub.id, err: errorMessage(err) });
          active.finish();
        }
      }
      if (m.close) {
        call.end();
        done();
      }
    });
    call.on('end', done);
    call.on('cancelled', done);
    call.on('error', done);
  }
}
