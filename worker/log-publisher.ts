// The agent's side of log subscriptions: for each subscription the dispatcher sends, one PublishLogs stream
// to the manager carrying the lines of this node's selected containers, in batches. The manager ending the
// stream (its reader went away, the service was removed) or the session breaking stops the reading at once.
import type * as grpc from '@grpc/grpc-js';
import { errorMessage, type Logger } from '../api/index.js';
import { PUBLISH_LOGS } from '../manager/dispatcher/index.js';
import type { LogSubscription, PublishLogsMessage } from '../manager/logs/index.js';
import type { Executor } from './executor/executor.js';
import type { TaskLogLine } from './executor/task-logs.js';

const BATCH_LINES = 500;
const BATCH_DELAY_MS = 20;

export class LogPublisher {
  private readonly active = new Map<string, AbortController>();

  constructor(
    private readonly executor: Executor | undefined,
    private readonly log: Logger,
  ) {}

  /** Subscriptions being published now (the worker-side streams). */
  get open(): number {
    return this.active.size;
  }

  publish(client: grpc.Client, sub: LogSubscription): void {
    if (this.active.has(sub.id)) return;
    const abort = new AbortController();
    this.active.set(sub.id, abort);
    const call = client.makeBidiStreamRequest(
      PUBLISH_LOGS.path,
      PUBLISH_LOGS.requestSerialize,
      PUBLISH_LOGS.responseDeserialize,
    );
    const finish = (): void => {
      if (this.active.get(sub.id) === abort) this.active.delete(sub.id);
      abort.abort();
    };
    call.on('data', () => undefined);
    call.on('end', finish);
    call.on('error', (err: Error) => {
      this.log.debug('log stream ended', { subscription: sub.id, err: err.message });
      finish();
    });
    const send = (m: PublishLogsMessage): void => {
      if (!abort.signal.aborted) call.write(m);
    };
    send({ subscriptionId: sub.id });

    let batch: TaskLogLine[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (let i = 0; i < batch.length; i += BATCH_LINES)
        send({ subscriptionId: sub.id, messages: batch.slice(i, i + BATCH_LINES) });
      batch = [];
    };
    const emit = (lines: TaskLogLine[]): void => {
      if (abort.signal.aborted) return;
      // Not push(...lines): a whole log's backlog comes as one array, too many arguments for one call.
      for (const line of lines) batch.push(line);
      if (batch.length >= BATCH_LINES) flush();
      else timer ??= setTimeout(flush, BATCH_DELAY_MS);
    };
    const reading = this.executor?.logs
      ? this.executor.logs(sub.selector, sub.options, emit, abort.signal)
      : Promise.resolve();
    reading
      .catch((err: unknown) =>
        this.log.warn('could not read task logs', { subscription: sub.id, err: errorMessage(err) }),
      )
      .finally(() => {
        if (abort.signal.aborted) return call.cancel();
        flush();
        send({ subscriptionId: sub.id, close: true });
        call.end();
      });
  }

  /** Stops every publication (the session is gone). */
  stopAll(): void {
    for (const a of this.active.values()) a.abort();
    this.active.clear();
  }
}
