// A free TCP port on 127.0.0.1 for a test server (released before it is returned, so bind it promptly).
// Ports come from below the kernel's ephemeral range (32768+), so an outgoing connection elsewhere on the
// machine cannot take one between this check and the test's bind, or while a test restarts a member on it.
import { createServer } from 'node:net';

const LOW = 20_000;
const HIGH = 32_000;

function tryPort(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await tryPort(port)) return port;
  }
  throw new Error(`no free port found between ${LOW} and ${HIGH}`);
}
