// Listen and advertise addresses as `docker swarm init` takes them.
import os from 'node:os';
import { InvalidArgument } from '../../api/index.js';

export const DEFAULT_SWARM_PORT = 2377;

/** "host", "host:port", ":port" or an interface name → host:port (port defaulting to 2377). */
export function parseHostPort(
  text: string | undefined,
  fallbackHost: string,
  what: string,
): { host: string; port: number } {
  const t = (text ?? '').trim();
  if (t === '') return { host: fallbackHost, port: DEFAULT_SWARM_PORT };
  const iface = os.networkInterfaces()[t.split(':')[0]!];
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]*)(?::(\d+))?$/.exec(t);
  if (!m) throw new InvalidArgument(`invalid ${what} address "${t}"`);
  let host = m[1] || fallbackHost;
  if (iface) {
    const v4 = iface.find((a) => a.family === 'IPv4');
    if (!v4) throw new InvalidArgument(`interface ${host} has no IPv4 address`);
    host = v4.address;
  }
  const port = m[2] ? Number(m[2]) : DEFAULT_SWARM_PORT;
  if (port < 1 || port > 65535) throw new InvalidArgument(`invalid ${what} port ${port}`);
  return { host, port };
}

/** The address to advertise when none is given: the only non-loopback IPv4 address, as Docker requires. */
export function defaultAdvertiseHost(listenHost: string): string {
  if (listenHost !== '0.0.0.0' && listenHost !== '::' && listenHost !== '') return listenHost;
  const addrs = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => !!a && a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
  const unique = [...new Set(addrs)];
  if (unique.length === 1) return unique[0]!;
  if (unique.length === 0)
    throw new InvalidArgument(
      'could not find an address to advertise: please specify one with --advertise-addr',
    );
  throw new InvalidArgument(
    `could not choose an IP address to advertise since this system has multiple addresses (${unique.join(', ')}): please specify one with --advertise-addr`,
  );
}
