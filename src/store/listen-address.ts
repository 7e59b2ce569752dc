import { multiaddr } from '@multiformats/multiaddr';

/**
 * The hosts a listen address may name: those of the addresses a node announces to its peers
 * (src/protocol/hpcp.ts), so that what it listens on can be said in the room.
 */
const HOSTS = new Set(['ip4', 'ip6', 'dns4', 'dns6']);

/**
 * Why `addr` is not a TCP address libp2p can listen on (`/<ip4|ip6|dns4|dns6>/<host>/tcp/<port>`),
 * or undefined when it is one. Checked when the config is read: libp2p finds out only when the
 * node starts, with an error such as "Value must be an integer" that names no setting.
 */
export function listenAddressProblem(addr: string): string | undefined {
  let components: { name: string }[];
  try {
    components = multiaddr(addr).getComponents();
  } catch (err) {
    return `not a multiaddr (${(err as Error).message})`;
  }
  const [host, transport, ...rest] = components.map((c) => c.name);
  if (!host || !HOSTS.has(host) || transport !== 'tcp' || rest.length > 0) {
    return 'a TCP address like /ip4/0.0.0.0/tcp/4011 (ip4, ip6, dns4 or dns6, then tcp and a port)';
  }
  return undefined;
}
