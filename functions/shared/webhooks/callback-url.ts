/**
 * Which webhook targets (a deployment's callbackUrl) we POST to. Checked twice: on the request,
 * for the URL as written, and at delivery, for every address its host name resolves to then (a
 * name may resolve elsewhere later: DNS rebinding). Never a metadata, link-local, private,
 * loopback or otherwise special address; https only. `allowLoopback` (CALLBACK_URL_ALLOW_LOOPBACK,
 * set by the local stack) lets loopback targets in, over http too, for receivers on this machine.
 */
import { BlockList, isIP } from 'node:net';

export interface CallbackUrlPolicy {
  /** Loopback targets (127.0.0.0/8, ::1, localhost) allowed, over http or https. */
  allowLoopback: boolean;
}

/** The cloud's policy: what the API enforces unless configured otherwise. */
export const DEFAULT_CALLBACK_URL_POLICY: CallbackUrlPolicy = { allowLoopback: false };

export const MAX_CALLBACK_URL_LENGTH = 2_048;

export type AddressClass = 'metadata' | 'link-local' | 'loopback' | 'private' | 'special' | 'public';

/** The rule each refused class breaks, as the API's 400 and the delivery log name it. */
const RULES: Record<Exclude<AddressClass, 'public'>, string> = {
  metadata: 'must not point to a cloud metadata address (169.254.169.254, fd00:ec2::254)',
  'link-local': 'must not point to a link-local address (169.254.0.0/16, fe80::/10)',
  loopback: 'must not point to a loopback address (127.0.0.0/8, ::1, localhost)',
  private: 'must not point to a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7)',
  special: 'must not point to an unspecified, broadcast, multicast or reserved address',
};

function blockList(entries: readonly [string, number][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of entries) list.addSubnet(network, prefix, isIP(network) === 6 ? 'ipv6' : 'ipv4');
  return list;
}

// Checked in this order: the first class that holds an address names it. IPv4-mapped IPv6
// addresses (::ffff:a.b.c.d) match the IPv4 networks (BlockList does that).
const CLASSES: readonly [Exclude<AddressClass, 'public'>, BlockList][] = [
  // EC2's instance metadata (IMDS) and its IPv6 endpoint; ECS task metadata; Amazon DNS and NTP.
  ['metadata', blockList([['169.254.169.254', 32], ['169.254.170.2', 32], ['169.254.169.253', 32], ['169.254.169.123', 32], ['fd00:ec2::254', 128], ['fd00:ec2::23', 128]])],
  ['link-local', blockList([['169.254.0.0', 16], ['fe80::', 10]])],
  ['loopback', blockList([['127.0.0.0', 8], ['::1', 128]])],
  ['private', blockList([['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['fc00::', 7]])],
  [
    'special',
    blockList([
      ['0.0.0.0', 8],
      ['192.0.0.0', 24],
      ['192.0.2.0', 24],
      ['198.18.0.0', 15],
      ['198.51.100.0', 24],
      ['203.0.113.0', 24],
      ['224.0.0.0', 4],
      ['240.0.0.0', 4],
      ['::', 128],
      ['100::', 64],
      ['2001:db8::', 32],
      ['ff00::', 8],
    ]),
  ],
];

/** NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits: judged by that address. */
const NAT64 = blockList([['64:ff9b::', 96]]);

export function classifyAddress(address: string): AddressClass {
  const version = isIP(address);
  if (version === 0) throw new TypeError(`${address} is not an IP address`);
  const type = version === 6 ? 'ipv6' : 'ipv4';
  for (const [name, list] of CLASSES) if (list.check(address, type)) return name;
  if (version === 6 && NAT64.check(address, 'ipv6')) return classifyAddress(embeddedIpv4(address));
  return 'public';
}

/** Why an address may not receive webhooks, or undefined when it may. */
export function addressProblem(address: string, policy: CallbackUrlPolicy = DEFAULT_CALLBACK_URL_POLICY): string | undefined {
  const kind = classifyAddress(address);
  if (kind === 'public' || (kind === 'loopback' && policy.allowLoopback)) return undefined;
  return RULES[kind];
}

/** Why a callbackUrl is refused, or undefined when it is fine as written (its name is resolved at delivery). */
export function callbackUrlProblem(value: string, policy: CallbackUrlPolicy = DEFAULT_CALLBACK_URL_POLICY): string | undefined {
  if (value.length > MAX_CALLBACK_URL_LENGTH) return `must be at most ${MAX_CALLBACK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an absolute https URL';
  if (url.username || url.password) return 'must not contain userinfo (user:password@)';
  const host = hostOf(url);
  const kind = isIP(host) ? classifyAddress(host) : isLoopbackName(host) ? 'loopback' : 'public';
  if (kind === 'loopback' && policy.allowLoopback) return undefined;
  if (kind !== 'public') return RULES[kind];
  if (url.protocol !== 'https:') return policy.allowLoopback ? 'must use https (http only to a loopback address)' : 'must use https';
  return undefined;
}

/** The URL's host as an address or a name: without IPv6 brackets and a trailing dot, lower case. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

/** `localhost` and `*.localhost` always name this machine (RFC 6761). */
function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

function embeddedIpv4(address: string): string {
  const groups = address.split(':');
  const last = groups.at(-1)!;
  if (last.includes('.')) return last;
  const high = Number.parseInt(groups.at(-2) || '0', 16);
  const low = Number.parseInt(last || '0', 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}
