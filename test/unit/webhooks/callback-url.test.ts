/**
 * Which callbackUrls a deployment may name: https only, never a metadata, link-local, private,
 * loopback or special address (however it is spelled), no userinfo; loopback over http only
 * where configured (the local stack).
 */
import { describe, expect, it } from 'vitest';
import { addressProblem, callbackUrlProblem, classifyAddress } from '../../../functions/shared/webhooks/callback-url.ts';

const CLOUD = { allowLoopback: false };
const LOCAL = { allowLoopback: true };

describe('callbackUrlProblem in the cloud', () => {
  it.each([
    ['the IPv4 metadata address', 'https://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['the metadata address over http', 'http://169.254.169.254/', /cloud metadata/],
    ['the metadata address as one decimal number', 'https://2852039166/', /cloud metadata/],
    ['the metadata address mapped into IPv6', 'https://[::ffff:169.254.169.254]/', /cloud metadata/],
    ['the IPv6 metadata address', 'https://[fd00:ec2::254]/', /cloud metadata/],
    ['the ECS task metadata address', 'https://169.254.170.2/v2/credentials', /cloud metadata/],
    ['a link-local IPv4 address', 'https://169.254.10.20/', /link-local/],
    ['a link-local IPv6 address', 'https://[fe80::1]/', /link-local/],
    ['a private 10/8 address', 'https://10.1.2.3/hook', /private/],
    ['a private 172.16/12 address', 'https://172.20.0.1/hook', /private/],
    ['a private 192.168/16 address', 'https://192.168.1.1/hook', /private/],
    ['a carrier-grade NAT address', 'https://100.64.0.1/', /private/],
    ['a unique local IPv6 address', 'https://[fd12:3456::1]/', /private/],
    ['loopback', 'https://127.0.0.1:8443/', /loopback/],
    ['loopback in hex', 'https://0x7f.1/', /loopback/],
    ['IPv6 loopback', 'https://[::1]/', /loopback/],
    ['localhost', 'https://localhost/hook', /loopback/],
    ['a name under .localhost', 'https://receiver.localhost./hook', /loopback/],
    ['the unspecified address', 'https://0.0.0.0/', /unspecified/],
    ['a multicast address', 'https://224.0.0.1/', /multicast/],
    ['NAT64 of a private address', 'https://[64:ff9b::10.0.0.1]/', /private/],
    ['userinfo', 'https://user:secret@hooks.example.com/', /userinfo/],
    ['a user name alone', 'https://user@hooks.example.com/', /userinfo/],
    ['plain http', 'http://hooks.example.com/', /^must use https$/],
    ['another scheme', 'ftp://hooks.example.com/', /absolute https URL/],
    ['a relative URL', '/hook', /absolute https URL/],
    ['a very long URL', `https://hooks.example.com/${'a'.repeat(2100)}`, /at most 2048 characters/],
  ])('refuses %s', (_name, url, rule) => {
    // Prepare: the URL comes from the table

    // Act
    const problem = callbackUrlProblem(url, CLOUD);

    // Assert
    expect(problem).toMatch(rule);
  });

  it.each([
    ['a public https URL', 'https://hooks.example.com/coderunner?token=abc'],
    ['a public address', 'https://93.184.216.34/hook'],
    ['a public IPv6 address', 'https://[2606:2800:220:1:248:1893:25c8:1946]/hook'],
    ['a port', 'https://hooks.example.com:8443/hook'],
  ])('accepts %s', (_name, url) => {
    expect(callbackUrlProblem(url, CLOUD)).toBeUndefined();
  });
});

describe('callbackUrlProblem where loopback is allowed (the local stack)', () => {
  it.each(['http://127.0.0.1:4000/hook', 'http://localhost:4000/hook', 'http://[::1]:4000/', 'https://127.0.0.1/'])('accepts %s', (url) => {
    expect(callbackUrlProblem(url, LOCAL)).toBeUndefined();
  });

  it.each([
    ['the metadata address', 'http://169.254.169.254/', /cloud metadata/],
    ['a link-local address', 'http://169.254.1.1/', /link-local/],
    ['a private address', 'http://10.0.0.1/', /private/],
    ['http to a public host', 'http://hooks.example.com/', /http only to a loopback address/],
  ])('still refuses %s', (_name, url, rule) => {
    expect(callbackUrlProblem(url, LOCAL)).toMatch(rule);
  });
});

describe('addressProblem, as delivery checks each resolved address', () => {
  it.each([
    ['169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['fe80::abcd', 'link-local'],
    ['127.0.0.53', 'loopback'],
    ['172.31.255.255', 'private'],
    ['255.255.255.255', 'special'],
    ['8.8.8.8', 'public'],
    ['2001:4860:4860::8888', 'public'],
  ])('classifies %s as %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('refuses a resolved loopback address in the cloud and accepts it where allowed', () => {
    // Prepare
    const address = '127.0.0.1';

    // Act
    const answers = [addressProblem(address, CLOUD), addressProblem(address, LOCAL)];

    // Assert
    expect(answers).toEqual([expect.stringMatching(/loopback/), undefined]);
  });
});
