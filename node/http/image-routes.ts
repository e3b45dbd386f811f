// Image routes as the Docker Engine API: list, inspect, import (POST /images/create?fromSrc=-), tag, delete, prune.
// Image names may contain slashes and a registry port, so the per-image routes take the rest of the path.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { InvalidArgument, NotFound, errorMessage, parseReference } from '../../api/index.js';
import { pullImage, type Credentials, type ImageStore } from '../../runtime/index.js';

type Query = Record<string, string | undefined>;

function parseFilters(text: string | undefined): Record<string, string[]> {
  if (!text) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InvalidArgument(`invalid filters: ${text}`);
  }
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    out[k] = Array.isArray(v) ? v.map(String) : Object.keys(v as object);
  }
  return out;
}

export async function inspectBody(store: ImageStore, ref: string): Promise<Record<string, unknown>> {
  const id = store.lookup(ref);
  const rec = store.record(id);
  const cfg = await store.configOf(id);
  const resolved = await store.resolve(id);
  return {
    Id: id,
    RepoTags: rec.repoTags,
    RepoDigests: [],
    Parent: '',
    Comment: cfg.history?.at(-1)?.comment ?? '',
    Created: cfg.created ?? rec.created,
    DockerVersion: '',
    Author: '',
    Config: cfg.config ?? {},
    Architecture: cfg.architecture,
    Os: cfg.os,
    Size: rec.size,
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: [...resolved.layerDirs].reverse().join(':') } },
    RootFS: { Type: 'layers', Layers: cfg.rootfs.diff_ids },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

function imageName(req: FastifyRequest, suffix: string): string {
  const rest = decodeURIComponent((req.params as { '*': string })['*']);
  if (!rest.endsWith(suffix)) throw new NotFound(`page not found`);
  return rest.slice(0, rest.length - suffix.length);
}

async function importImage(store: ImageStore, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const q = req.query as Query;
  if (q.fromSrc !== '-')
    throw new InvalidArgument('only fromSrc=- (the request body) is supported for import');
  if (!q.repo) throw new InvalidArgument('import needs a repository name (repo=…)');
  const ref = q.tag ? `${q.repo}:${q.tag}` : q.repo;
  const body = req.body instanceof Readable ? req.body : Buffer.from(JSON.stringify(req.body ?? ''));
  const id = await store.importRootfs(body, ref, q.message ?? '');
  reply.header('content-type', 'application/json');
  await reply.send(`${JSON.stringify({ status: id })}\r\n`);
}

/** X-Registry-Auth: base64url JSON {username, password} as the docker CLI sends it. */
function credentialsOf(req: FastifyRequest): Credentials | undefined {
  const header = req.headers['x-registry-auth'];
  if (typeof header !== 'string' || header === '') return undefined;
  try {
    const c = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Credentials;
    return c.username ? { username: c.username, password: c.password } : undefined;
  } catch {
    throw new InvalidArgument('invalid X-Registry-Auth header');
  }
}

/** Streams Docker's JSON progress lines; an error after the 200 went out becomes an errorDetail line. */
async function pull(store: ImageStore, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const q = req.query as Query;
  const ref = q.tag && !q.fromImage!.includes('@') ? `${q.fromImage}:${q.tag}` : q.fromImage!;
  parseReference(ref); // a bad reference is a 400 before any streaming
  const credentials = credentialsOf(req);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'application/json' });
  const line = (o: object) => res.write(`${JSON.stringify(o)}\r\n`);
  try {
    await pullImage(store, ref, { credentials, onProgress: line });
  } catch (err) {
    const message = errorMessage(err);
    line({ errorDetail: { message }, error: message });
  }
  res.end();
}

export function imageRoutes(store: ImageStore) {
  return (app: FastifyInstance): void => {
    app.get('/images/json', async (req) => {
      const filters = parseFilters((req.query as Query).filters);
      const dangling = filters.dangling?.[0];
      const refs = filters.reference ?? [];
      return store
        .list()
        .filter((i) => dangling === undefined || (dangling === 'true') === (i.repoTags.length === 0))
        .filter(
          (i) =>
            refs.length === 0 || i.repoTags.some((t) => refs.some((r) => t === r || t.split(':')[0] === r)),
        )
        .map((i) => ({
          Id: i.id,
          ParentId: '',
          RepoTags: i.repoTags,
          RepoDigests: [],
          Created: Math.floor(Date.parse(i.created) / 1000),
          Size: i.size,
          SharedSize: -1,
          Labels: {},
          Containers: -1,
        }));
    });

    app.get('/images/*', async (req) => inspectBody(store, imageName(req, '/json')));

    app.post('/images/create', async (req, reply) => {
      const q = req.query as Query;
      if (q.fromImage) await pull(store, req, reply);
      else await importImage(store, req, reply);
    });

    app.post('/images/*', async (req, reply) => {
      const name = imageName(req, '/tag');
      const q = req.query as Query;
      if (!q.repo) throw new InvalidArgument('repository name (repo=…) is required');
      await store.tag(name, q.tag ? `${q.repo}:${q.tag}` : q.repo);
      return reply.code(201).send();
    });

    app.delete('/images/*', async (req) => {
      const name = decodeURIComponent((req.params as { '*': string })['*']);
      const force = ['1', 'true'].includes((req.query as Query).force ?? '');
      return store.remove(name, force);
    });

    app.post('/images/prune', async () => {
      const { deleted, spaceReclaimed } = await store.prune();
      return { ImagesDeleted: deleted, SpaceReclaimed: spaceReclaimed };
    });
  };
}
