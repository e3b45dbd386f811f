// The node agent: keeps a session with the managers' dispatcher and heartbeats at the period it is given,
// reconnecting (to any known manager) with backoff when the session breaks.
import * as grpc from '@grpc/grpc-js';
import { createLogger, errorMessage, type Logger } from '../api/index.js';
import { describeThisNode } from '../manager/cluster-objects.js';
import { callUnary, ClusterChannel, type CertificateStore } from '../pki/index.js';
import {
  HEARTBEAT,
  SESSION,
  UPDATE_TASK_STATUS,
  type Assignments,
  type HeartbeatResponse,
  type SessionMessage,
} from '../manager/dispatcher/index.js';
import type { Config, Secret, Task } from '../api/index.js';
import type { Executor } from './executor/executor.js';
import { TaskReports } from './task-reports.js';
import { LogPublisher } from './log-publisher.js';

export interface AgentOptions {
  managers: () => string[];
  certificates: CertificateStore;
  clusterId: string;
  /** This node's address as managers should record it. */
  addr: string;
  /** Called with the role the cluster wants for this node, on every session message and heartbeat. */
  onRole?: (role: 'manager' | 'worker') => void;
  /** Called with the managers' addresses the dispatcher sends (the next reconnect tries them). */
  onManagers?: (addrs: string[]) => void;
  /** Runs the tasks the dispatcher assigns to this node; without one the node takes no tasks. */
  executor?: Executor;
  /** Observes each successful heartbeat's round trip in seconds (metrics). */
  onHeartbeat?: (seconds: number) => void;
  log?: Logger;
}

export class Agent {
  private running = false;
  private channel?: ClusterChannel;
  private stream?: grpc.ClientReadableStream<unknown>;
  private heartbeat?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private answer?: NodeJS.Timeout;
  private attempt = 0;
  private readonly log: Logger;
  /** The latest session's heartbeat period (ms). */
  period = 5000;
  connected = false;
  /** The node's assigned tasks as the dispatcher last described them. */
  private readonly assigned = new Map<string, Task>();
  /** The secrets and configs those tasks need, with their data: held in memory only, never written to disk. */
  private readonly secrets = new Map<string, Secret>();
  private readonly configs = new Map<string, Config>();
  private readonly reports: TaskReports;
  private unsubscribe?: () => void;
  private readonly logs: LogPublisher;

  constructor(private readonly o: AgentOptions) {
    this.log = o.log ?? createLogger({ component: 'agent' });
    this.logs = new LogPublisher(o.executor, this.log);
    this.reports = new TaskReports(async (updates) => {
      if (!this.connected || !this.channel) throw new Error('no dispatcher session');
      await callUnary(this.channel.client, UPDATE_TASK_STATUS, { updates }, 10_000);
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.o.executor?.onStatus((r) => this.reports.add(r));
    this.connect();
  }

  private assign(a: Assignments): void {
    if (!this.o.executor) return;
    if (a.full) {
      this.assigned.clear();
      this.secrets.clear();
      this.configs.clear();
    }
    for (const t of a.tasks) this.assigned.set(t.ID, t);
    for (const id of a.removed) this.assigned.delete(id);
    for (const s of a.secrets ?? []) this.secrets.set(s.ID, s);
    for (const c of a.configs ?? []) this.configs.set(c.ID, c);
    for (const id of a.removedSecrets ?? []) this.secrets.delete(id);
    for (const id of a.removedConfigs ?? []) this.configs.delete(id);
    this.o.executor.setAssignments([...this.assigned.values()], {
      secrets: new Map(this.secrets),
      configs: new Map(this.configs),
    });
  }

  /** Log subscriptions this node is publishing now. */
  get openLogStreams(): number {
    return this.logs.open;
  }

  /** Set once the managers refuse this node's certificate because the node was removed (Docker's Swarm error). */
  removal?: string;

  /** The manager this agent's session is with (the leader while connected). */
  get managerAddr(): string | undefined {
    return this.connected ? this.channel?.address : undefined;
  }

  private connect(): void {
    if (!this.running) return;
    const managers = this.o.managers();
    const addr = managers[this.attempt % Math.max(1, managers.length)];
    if (!addr) return this.reconnectLater('no manager address known');
    this.channel?.close();
    this.channel = new ClusterChannel(addr, this.o.certificates, this.o.clusterId);
    const stream = this.channel.client.makeServerStreamRequest(
      SESSION.path,
      SESSION.requestSerialize,
      SESSION.responseDeserialize,
      { description: describeThisNode(), addr: this.o.addr },
    );
    this.stream = stream;
    // A manager that accepts the call but never answers (e.g. it is not the leader yet) is left for the next one.
    // The timer belongs to this attempt only: a later session must not be dropped by an earlier attempt's.
    if (this.answer) clearTimeout(this.answer);
    const answer = setTimeout(() => this.reconnectLater('no answer from the dispatcher'), 3000);
    answer.unref();
    this.answer = answer;
    // The heartbeat loop starts with the session's first message and then runs by itself: restarting it on every
    // message would starve it while messages (assignments, network views) keep coming faster than its period.
    let beating = false;
    stream.on('data', (m: SessionMessage) => {
      clearTimeout(answer);
      this.attempt = 0;
      this.connected = true;
      this.period = m.heartbeatPeriodMs;
      if (!beating) {
        beating = true;
        this.scheduleHeartbeat();
      }
      if (m.networks) this.o.executor?.setNetworks?.(m.networks);
      if (m.assignments) this.assign(m.assignments);
      if (m.managers?.length) this.o.onManagers?.(m.managers);
      for (const sub of m.logSubscriptions ?? [])
        if (this.channel) this.logs.publish(this.channel.client, sub);
      this.reports.schedule();
      this.o.onRole?.(m.role);
    });
    stream.on('error', (err: Error) => this.reconnectLater(err.message));
    stream.on('end', () => this.reconnectLater('session ended'));
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeat) clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(() => {
      if (!this.running || !this.channel) return;
      const sent = performance.now();
      callUnary<HeartbeatResponse>(this.channel.client, HEARTBEAT, {}, this.period).then(
        (r) => {
          this.o.onHeartbeat?.((performance.now() - sent) / 1000);
          this.period = r.heartbeatPeriodMs;
          this.scheduleHeartbeat();
          if (r.managers?.length) this.o.onManagers?.(r.managers);
          this.o.onRole?.(r.role);
        },
        (err) => this.reconnectLater(errorMessage(err)),
      );
    }, this.period / 2);
    this.heartbeat.unref();
  }

  private reconnectLater(why: string): void {
    if (!this.running || this.retry) return;
    this.connected = false;
    if (this.heartbeat) clearTimeout(this.heartbeat);
    if (this.answer) clearTimeout(this.answer);
    this.stream?.cancel();
    this.logs.stopAll();
    this.attempt++;
    // One quick round over every known manager, then back off, but retry at least twice per heartbeat period:
    // a new leader marks nodes down that have not reconnected within 3 periods of its election.
    const round = Math.max(1, this.o.managers().length);
    const backoff = 50 * 2 ** Math.max(0, Math.min(this.attempt - round, 7));
    const delay = Math.min(5000, this.period / 2, backoff);
    this.log.debug('dispatcher session lost, reconnecting', { why, inMs: delay });
    if (/was removed from the swarm/.test(why) && !this.removal) {
      this.removal = why;
      this.log.warn('the managers refuse this node: it was removed from the swarm', { why });
    }
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect();
    }, delay);
    this.retry.unref();
  }

  stop(): void {
    this.running = false;
    this.connected = false;
    this.secrets.clear();
    this.configs.clear();
    this.unsubscribe?.();
    this.reports.stop();
    this.logs.stopAll();
    if (this.heartbeat) clearTimeout(this.heartbeat);
    if (this.retry) clearTimeout(this.retry);
    if (this.answer) clearTimeout(this.answer);
    this.retry = undefined;
    this.stream?.cancel();
    this.channel?.close();
  }
}
