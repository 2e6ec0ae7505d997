/**
 * Which TCP ports the sandbox's own processes listen on, read inside the sandbox from /proc with
 * one command: the kernel's socket tables (/proc/net/tcp, tcp6) joined with the sockets each
 * visible process holds (/proc/<pid>/fd). Sockets no sandbox process holds (another network's,
 * or the daemon's own when it runs as another user) do not count.
 */
import type { SandboxHandle } from '../sandbox/sandbox-provider.ts';

/** Ports of the sandbox's own services, never the app's. */
export const SANDBOX_SERVICE_PORTS: ReadonlySet<number> = new Set([49983, 3128]);

export interface ListeningSocket {
  port: number;
  /** The bound address as text: `0.0.0.0`, `127.0.0.1`, `::`, `::1`, ... */
  address: string;
  pids: number[];
}

const LISTEN_STATE = '0A';

export const LISTENING_PORTS_SCRIPT = [
  'for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && awk \'NR>1 && $4=="0A" {print "L", $2, $10}\' "$f"; done',
  "find /proc/[0-9]*/fd -maxdepth 1 -lname 'socket:*' -printf 'S %h %l\\n' 2>/dev/null",
  'exit 0',
].join('\n');

export async function listeningSockets(sandbox: SandboxHandle, timeoutMs = 5_000): Promise<ListeningSocket[]> {
  const result = await sandbox.run(LISTENING_PORTS_SCRIPT, { timeoutMs });
  return parseListeningSockets(result.stdout);
}

/** The app's candidates: held by a sandbox process, not a service port, lowest port first. */
export function appPorts(sockets: readonly ListeningSocket[]): ListeningSocket[] {
  const byPort = new Map<number, ListeningSocket>();
  for (const socket of sockets) {
    if (socket.pids.length === 0 || SANDBOX_SERVICE_PORTS.has(socket.port)) continue;
    const seen = byPort.get(socket.port);
    // One port bound on several addresses (0.0.0.0 and ::) is one candidate.
    if (!seen || socket.address === '0.0.0.0' || socket.address === '::') byPort.set(socket.port, seen ? { ...socket, pids: [...new Set([...seen.pids, ...socket.pids])] } : socket);
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

export function parseListeningSockets(output: string): ListeningSocket[] {
  const listening = new Map<string, { port: number; address: string }>();
  const holders = new Map<string, number[]>();
  for (const line of output.split('\n')) {
    const [kind, first, second] = line.trim().split(/\s+/);
    if (kind === 'L' && first && second) {
      const socket = parseAddress(first);
      if (socket && second !== '0') listening.set(second, socket);
    } else if (kind === 'S' && first && second) {
      const pid = Number(/^\/proc\/(\d+)\/fd$/.exec(first)?.[1]);
      const inode = /^socket:\[(\d+)\]$/.exec(second)?.[1];
      if (pid && inode) holders.set(inode, [...(holders.get(inode) ?? []), pid]);
    }
  }
  return [...listening.entries()].map(([inode, socket]) => ({ ...socket, pids: holders.get(inode) ?? [] }));
}

/** `0100007F:0BB8` (IPv4, little-endian words) or 32 hex digits (IPv6) and the port in hex. */
function parseAddress(text: string): { port: number; address: string } | undefined {
  const [hex, portHex] = text.split(':');
  if (!hex || !portHex) return undefined;
  const port = Number.parseInt(portHex, 16);
  if (!Number.isInteger(port) || port <= 0) return undefined;
  if (hex.length === 8) return { port, address: ipv4(hex) };
  if (hex.length === 32) return { port, address: ipv6(hex) };
  return undefined;
}

function ipv4(hex: string): string {
  const bytes = hex.match(/../g)!.map((pair) => Number.parseInt(pair, 16));
  return bytes.reverse().join('.');
}

/** Four 32-bit words, each in host (little-endian) byte order. */
function ipv6(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(''));
  const groups = words.join('').match(/.{4}/g)!.map((group) => Number.parseInt(group, 16).toString(16));
  const text = groups.join(':');
  if (text === '0:0:0:0:0:0:0:0') return '::';
  if (text === '0:0:0:0:0:0:0:1') return '::1';
  if (text.startsWith('0:0:0:0:0:ffff:')) return `::ffff:${ipv4(hex.slice(24))}`;
  return text;
}

export function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
