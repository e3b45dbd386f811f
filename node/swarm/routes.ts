// /swarm routes: init, leave, inspect.
import type { FastifyInstance } from 'fastify';
import type { SwarmSpec } from '../../api/index.js';
import { parseVersion, requireBody } from '../../manager/controlapi/lookup.js';
import type { SwarmMembership, InitRequest, JoinRequest } from './membership.js';

export function swarmRoutes(swarm: SwarmMembership) {
  return (app: FastifyInstance): void => {
    // Docker answers with the node ID as a JSON string.
    app.post('/swarm/init', async (req, reply) => {
      const id = await swarm.init((req.body as InitRequest | undefined) ?? {});
      return reply.type('application/json').send(JSON.stringify(id));
    });
    app.post('/swarm/join', async (req) => {
      await swarm.join((req.body as JoinRequest | undefined) ?? {});
      return '';
    });
    app.post('/swarm/leave', async (req) => {
      const force = ['1', 'true'].includes((req.query as { force?: string }).force ?? '');
      await swarm.leave(force);
      return '';
    });
    app.get('/swarm', async () => swarm.swarm());
    app.post('/swarm/update', async (req) => {
      const q = req.query as { version?: string; rotateWorkerToken?: string; rotateManagerToken?: string };
      const yes = (v?: string) => v === 'true' || v === '1';
      await swarm.update(parseVersion(q.version), requireBody<Partial<SwarmSpec>>(req.body, 'swarm spec'), {
        worker: yes(q.rotateWorkerToken),
        manager: yes(q.rotateManagerToken),
      });
      return '';
    });
  };
}
