// /secrets and /configs routes. Secret data is stored for the workers but never returned by the API.
import type { FastifyInstance } from 'fastify';
import { Conflict, InvalidArgument, newId, type Config, type Secret, type Service } from '../../api/index.js';
import type { StoreSource } from './store-source.js';
import { matchLabels, matchNamePrefix, matchPrefix, parseFilters } from './filters.js';
import { lookup, parseVersion, requireBody } from './lookup.js';

const NAME_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/;

interface Kindly {
  kind: 'secret' | 'config';
  /** swarmkit's MaxSecretSize / MaxConfigSize. */
  maxBytes: number;
  limitText: string;
  usedBy: (s: Service, id: string) => boolean;
}

const SECRET: Kindly = {
  kind: 'secret',
  maxBytes: 500 * 1024,
  limitText: '500KB',
  usedBy: (s, id) => (s.Spec.TaskTemplate.ContainerSpec?.Secrets ?? []).some((r) => r.SecretID === id),
};
const CONFIG: Kindly = {
  kind: 'config',
  maxBytes: 1000 * 1024,
  limitText: '1000KB',
  usedBy: (s, id) => (s.Spec.TaskTemplate.ContainerSpec?.Configs ?? []).some((r) => r.ConfigID === id),
};

function validateName(kind: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64 || !NAME_RE.test(name)) {
    throw new InvalidArgument(
      `invalid ${kind} name "${String(name ?? '')}": only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]`,
    );
  }
}

function decodeData(k: Kindly, data: unknown): string {
  if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data))
    throw new InvalidArgument(`${k.kind} data must be base64-encoded`);
  const size = Buffer.from(data, 'base64').length;
  if (size === 0 || size > k.maxBytes)
    throw new InvalidArgument(`${k.kind} data must be larger than 0 and less than ${k.limitText}`);
  return data;
}

/** The object without its data, as inspect and list show secrets. Configs keep Data, as Docker's do. */
function present<T extends Secret | Config>(k: Kindly, o: T): T {
  if (k.kind === 'config') return o;
  const spec = { ...o.Spec };
  delete spec.Data;
  return { ...o, Spec: spec };
}

function routesFor(store: StoreSource, k: Kindly) {
  const base = `/${k.kind}s`;
  return (app: FastifyInstance): void => {
    app.post(`${base}/create`, async (req, reply) => {
      const spec = requireBody<Secret['Spec']>(req.body, `${k.kind} spec`);
      validateName(k.kind, spec.Name);
      const data = decodeData(k, spec.Data);
      const id = newId();
      await store().update((tx) => {
        const obj = {
          ID: id,
          Version: { Index: 0 },
          CreatedAt: '',
          UpdatedAt: '',
          Spec: { ...spec, Data: data, Labels: spec.Labels ?? {} },
        };
        tx.create(k.kind, obj as Secret & Config);
      });
      void reply.code(201);
      return { ID: id };
    });

    app.get(base, async (req) => {
      const f = parseFilters((req.query as { filters?: string }).filters, ['id', 'label', 'name', 'names']);
      return store().view((tx) =>
        (tx.all(k.kind) as (Secret | Config)[])
          .filter(
            (o) =>
              matchPrefix(f, 'id', o.ID) &&
              matchNamePrefix(f, 'name', o.Spec.Name) &&
              matchLabels(f, 'label', o.Spec.Labels),
          )
          .filter((o) => !f.get('names')?.length || f.get('names')!.includes(o.Spec.Name))
          .sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name))
          .map((o) => present(k, o)),
      );
    });

    app.get(`${base}/:id`, async (req) => {
      const { id } = req.params as { id: string };
      return store().view((tx) => present(k, lookup(tx, k.kind, id) as Secret | Config));
    });

    app.post(`${base}/:id/update`, async (req) => {
      const { id } = req.params as { id: string };
      const version = parseVersion((req.query as { version?: string }).version);
      const spec = requireBody<Secret['Spec']>(req.body, `${k.kind} spec`);
      await store().update((tx) => {
        const current = lookup(tx, k.kind, id) as Secret | Config;
        if (current.Version.Index !== version) throw new Conflict('update out of sequence');
        const sameData = spec.Data === undefined || spec.Data === current.Spec.Data;
        if (spec.Name !== current.Spec.Name || !sameData)
          throw new InvalidArgument('only updates to Labels are allowed');
        current.Spec.Labels = spec.Labels ?? {};
        tx.update(k.kind, current as Secret & Config);
      });
      return '';
    });

    app.delete(`${base}/:id`, async (req, reply) => {
      const { id } = req.params as { id: string };
      await store().update((tx) => {
        const obj = lookup(tx, k.kind, id) as Secret | Config;
        const users = tx.all('service').filter((s) => k.usedBy(s, obj.ID));
        if (users.length) {
          const names = users.map((s) => s.Spec.Name).join(', ');
          throw new InvalidArgument(
            `${k.kind} '${obj.Spec.Name}' is in use by the following service${users.length > 1 ? 's' : ''}: ${names}`,
          );
        }
        tx.delete(k.kind, obj.ID);
      });
      void reply.code(204);
      return '';
    });
  };
}

export const secretRoutes = (store: StoreSource) => routesFor(store, SECRET);
export const configRoutes = (store: StoreSource) => routesFor(store, CONFIG);
