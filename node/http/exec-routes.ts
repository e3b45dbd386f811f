// Exec as the Docker Engine API: POST /containers/{id}/exec, POST /exec/{id}/start (the docker CLI asks for a
// protocol upgrade and reads the multiplexed stream from the raw connection; plain HTTP clients get a 200 stream),
// GET /exec/{id}/json. Non-interactive only: no stdin, no TTY.
import type { FastifyInstance } from 'fastify';
import { InvalidArgument, errorMessage } from '../../api/index.js';
import type { ExecConfig, ExecSessions } from '../../runtime/index.js';

function muxFrame(stream: 1 | 2, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

export function execRoutes(
  execs: ExecSessions,
  track: (s: { destroy(): void; once(e: 'close', f: () => void): unknown }) => void,
) {
  return (app: FastifyInstance): void => {
    app.post<{ Params: { id: string } }>('/containers/:id/exec', async (req, reply) => {
      const body = (req.body ?? {}) as ExecConfig;
      if (body.Tty) throw new InvalidArgument('exec with a TTY is not supported yet');
      if (body.AttachStdin) throw new InvalidArgument('interactive exec (stdin) is not supported yet');
      const id = execs.create(req.params.id, body);
      return reply.code(201).send({ Id: id });
    });

    app.post<{ Params: { id: string } }>('/exec/:id/start', async (req, reply) => {
      const body = (req.body ?? {}) as { Detach?: boolean; Tty?: boolean };
      if (body.Tty) throw new InvalidArgument('exec with a TTY is not supported yet');
      execs.checkStartable(req.params.id);
      if (body.Detach) {
        void execs.start(req.params.id).catch(() => undefined);
        return reply.code(200).send();
      }
      reply.hijack();
      const socket = req.raw.socket;
      track(socket);
      // The docker CLI half-closes its side once the request is sent (no stdin); Node's HTTP server would end
      // the connection on that FIN. The connection is ours now: drop its end handler (the server created the
      // socket half-open capable), so the output still goes out.
      socket.removeAllListeners('end');
      const upgrade = !!req.headers.upgrade;
      socket.write(
        (upgrade
          ? 'HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n'
          : 'HTTP/1.1 200 OK\r\nConnection: close\r\n') +
          'Content-Type: application/vnd.docker.multiplexed-stream\r\n\r\n',
      );
      try {
        await execs.start(req.params.id, {
          stdout: (b) => socket.write(muxFrame(1, b)),
          stderr: (b) => socket.write(muxFrame(2, b)),
        });
      } catch (err) {
        socket.write(muxFrame(2, Buffer.from(`${errorMessage(err)}\n`)));
      }
      socket.end();
    });

    app.get<{ Params: { id: string } }>('/exec/:id/json', async (req) => {
      const s = execs.get(req.params.id);
      const [entrypoint, ...args] = s.config.Cmd ?? [];
      return {
        ID: s.id,
        Running: s.running,
        ExitCode: s.exitCode,
        ProcessConfig: {
          tty: false,
          entrypoint,
          arguments: args,
          privileged: false,
          user: s.config.User ?? '',
        },
        OpenStdin: false,
        OpenStderr: s.config.AttachStderr !== false,
        OpenStdout: s.config.AttachStdout !== false,
        CanRemove: false,
        ContainerID: s.containerId,
        DetachKeys: '',
        Pid: s.pid,
      };
    });

    app.post<{ Params: { id: string } }>('/exec/:id/resize', async (req, reply) => {
      execs.get(req.params.id);
      return reply.code(200).send();
    });
  };
}
