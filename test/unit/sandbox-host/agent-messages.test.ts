/** The host reads every message from a sandbox's agent as untrusted: only the protocol's shapes pass. */
import { describe, expect, it } from 'vitest';
import { parseAgentMessage } from '../../../infra/local/sandbox-host/bubblewrap/agent-channel.ts';
import { MAX_CHUNK_BYTES } from '../../../infra/local/sandbox-host/bubblewrap/agent/agent-protocol.ts';

describe('parseAgentMessage', () => {
  it.each([
    [{ t: 'ready' }],
    [{ t: 'egress' }],
    [{ t: 'reply', id: 3, ok: true, value: { pid: 12 } }],
    [{ t: 'out', id: 3, fd: 2, data: Buffer.from('hello').toString('base64') }],
    [{ t: 'exit', id: 3, code: 0, signal: null }],
    [{ t: 'exit', id: 3, code: null, signal: 'SIGKILL' }],
    [{ t: 'chunk', id: 4, data: '' }],
    [{ t: 'end', id: 4 }],
  ])('takes %j', (message) => {
    expect(parseAgentMessage(message)).toEqual(message);
  });

  it.each([
    ['an unknown type', { t: 'spawn', id: 1 }],
    ['no type', { id: 1 }],
    ['an id that is not a positive integer', { t: 'end', id: -1 }],
    ['a string id', { t: 'end', id: '1' }],
    ['an output descriptor other than 1 or 2', { t: 'out', id: 1, fd: 3, data: '' }],
    ['data that is not base64', { t: 'out', id: 1, fd: 1, data: 'not base64!' }],
    ['more data than one chunk', { t: 'chunk', id: 1, data: 'A'.repeat(Math.ceil(MAX_CHUNK_BYTES / 3) * 4 + 4) }],
    ['an exit code out of range', { t: 'exit', id: 1, code: 256, signal: null }],
    ['an unknown signal', { t: 'exit', id: 1, code: null, signal: 'SIGNOPE' }],
    ['a failed reply without an error', { t: 'reply', id: 1, ok: false }],
    ['an array', ['ready']],
    ['null', null],
  ])('refuses a message with %s', (_case, message) => {
    expect(parseAgentMessage(message)).toBeUndefined();
  });

  it("bounds an error's code and message", () => {
    const parsed = parseAgentMessage({ t: 'reply', id: 1, ok: false, error: { code: 'not a code\n', message: 'x'.repeat(10_000) } });

    expect(parsed).toMatchObject({ error: { code: 'EUNKNOWN' } });
    expect((parsed as { error: { message: string } }).error.message).toHaveLength(2_000);
  });
});
