// The code of a launcher thread, as a string: an eval'd worker runs the same under tsx and from dist/, with
// no loader to resolve a .ts entry file. It starts the child processes the main thread asks for and relays
// their output and end. Messages in: {op:'spawn', id, file, args, cwd, env, detached, stdin} (stdin: a
// string or Buffer written then closed, null to ignore, undefined for a pipe left open is not offered),
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
    child = spawn(m.file, m.args, {
      cwd: m.cwd,
      env: m.env,
      detached: m.detached,
      stdio: [m.stdin == null ? 'ignore' : 'pipe', m.stdout ? 'pipe' : 'ignore', 'pipe'],
    });
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
  if (child.stdout) child.stdout.on('data', (data) => parentPort.postMessage({ id: m.id, ev: 'out', data }));
  child.stderr.on('data', (data) => parentPort.postMessage({ id: m.id, ev: 'err', data }));
  if (child.stdin) {
    child.stdin.on('error', () => {});
    child.stdin.end(m.stdin);
  }
  child.on('close', (code, signal) => {
    children.delete(m.id);
    if (!failed) parentPort.postMessage({ id: m.id, ev: 'close', code, signal });
  });
  // A detached daemon (conmon) outlives our interest in it: its stderr pipe must not keep this thread busy.
  if (m.detached) child.unref();
});
`;
