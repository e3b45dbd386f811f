// The code of a launcher thread, as a string: an eval'd worker runs the same under tsx and from dist/, with
// no loader to resolve a .ts entry file. It starts the child processes the main thread asks for (stdin on
// /dev/null) and relays their output and end. Messages in: {op:'spawn', id, file, args},
// {op:'kill', id, signal}. Messages out: {id, ev:'spawn', pid} | {id, ev:'out'|'err', data} |
// {id, ev:'error', message, code} | {id, ev:'close', code, signal}.
export const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const children = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'kill') {
    const c = children.get(m.id);
    if (c) { try { c.kill(m.signal); } catch {} }
    return;
  }
  let child;
  try {
    child = spawn(m.file, m.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    parentPort.postMessage({ id: m.id, ev: 'error', message: err.message, code: err.code });
    return;
  }
  children.set(m.id, child);
  let failed = false;
  child.on('error', (err) => {
    failed = true;
    children.delete(m.id);
    parentPort.postMessage({ id: m.id, ev: 'error', message: err.message, code: err.code });
  });
  if (child.pid !== undefined) parentPort.postMessage({ id: m.id, ev: 'spawn', pid: child.pid });
  child.stdout.on('data', (data) => parentPort.postMessage({ id: m.id, ev: 'out', data }));
  child.stderr.on('data', (data) => parentPort.postMessage({ id: m.id, ev: 'err', data }));
  child.on('close', (code, signal) => {
    children.delete(m.id);
    if (!failed) parentPort.postMessage({ id: m.id, ev: 'close', code, signal });
  });
});
`;
