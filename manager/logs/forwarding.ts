// Logs from any manager: the leader's broker serves them; a follower forwards the subscription to the leader
// over the cluster RPC (manager-only `tsswarm.Logs/Subscribe`, a server stream of message batches).
import * as grpc from '@grpc/grpc-js';
import { errorMessage, Unavailable, type Logger } from '../../api/index.js';
import {
  ClusterChannel,
  MANAGER_ROLE,
  rpcMethod,
  type Authorizer,
  type CertificateStore,
} from '../../pki/index.js';
import type { LogBroker } from './broker.js';
import type { LogMessage, LogOptions, LogSelector } from './messages.js';

export const LOGS_SERVICE = 'tsswarm.Logs';
const SUBSCRIBE = rpcMethod(LOGS_SERVICE, 'Subscribe', { response: true });

interface SubscribeRequest {
  selector: LogSelector;
  options: LogOptions;
}

/** Leader side: serves other managers' subscriptions from the local broker while this manager leads. */
export function addLogService(
  server: grpc.Server,
  broker: () => LogBroker | undefined,
  authz: Authorizer,
): void {
  server.addService(
    { Subscribe: SUBSCRIBE },
    {
      Subscribe: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const abort = new AbortController();
        call.on('cancelled', () => abort.abort());
        authz
          .require(call as never, [MANAGER_ROLE])
          .then(async () => {
            const b = broker();
            if (!b) throw new Unavailable('this manager is not the leader');
            const req = call.request as SubscribeRequest;
            await b.subscribe(req.selector, req.options, (m) => call.write(m), abort.signal);
            call.end();
          })
          .catch((err: unknown) =>
            call.emit('error', { code: grpc.status.UNAVAILABLE, details: errorMessage(err) }),
          );
      },
    },
  );
}

/** The logs source of one manager: its own broker when leading, the leader's Logs service otherwise. */
export class LogService {
  private channel?: ClusterChannel;

  constructor(
    private readonly o: {
      /** The local broker while this manager leads. */
      broker: () => LogBroker | undefined;
      leaderAddress: () => string | undefined;
      certificates: CertificateStore;
      clusterId: string;
      log: Logger;
    },
  ) {}

  subscribe(
    selector: LogSelector,
    options: LogOptions,
    onMessages: (m: LogMessage[]) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const local = this.o.broker();
    if (local) return local.subscribe(selector, options, onMessages, signal);
    const addr = this.o.leaderAddress();
    if (!addr) return Promise.reject(new Unavailable('no leader to read logs from'));
    if (this.channel?.address !== addr) {
      this.channel?.close();
      this.channel = new ClusterChannel(addr, this.o.certificates, this.o.clusterId);
    }
    const call = this.channel.client.makeServerStreamRequest(
      SUBSCRIBE.path,
      SUBSCRIBE.requestSerialize,
      SUBSCRIBE.responseDeserialize,
      { selector, options } satisfies SubscribeRequest,
    );
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      call.on('data', (m: LogMessage[]) => onMessages(m));
      call.on('end', () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      call.on('error', (err: grpc.ServiceError) => {
        signal.removeEventListener('abort', onAbort);
        if (err.code === grpc.status.CANCELLED) return resolve();
        this.o.log.warn('log forwarding to the leader failed', { leader: addr, err: err.message });
        reject(new Unavailable(`could not read logs through the leader: ${err.details || err.message}`));
      });
    });
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
  }
}
