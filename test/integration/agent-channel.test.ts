/**
 * The host's end of the agent channel against a real process that misbehaves on it, as a
 * sandbox whose tenant took its agent over could: the host closes handles it did not ask for,
 * ignores replies to nothing, and gives up on an agent that keeps sending garbage.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentChannel } from '../../infra/local/sandbox-host/bubblewrap/agent-channel.ts';

const HOSTILE_AGENT = fileURLToPath(new URL('../fixtures/agents/hostile-agent.mjs', import.meta.url));
const children: ChildProcess[] = [];
const servers: Server[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const server of servers.splice(0)) server.close();
});

function startAgent(...args: string[]): { child: ChildProcess; channel: AgentChannel } {
  const child = fork(HOSTILE_AGENT, args, { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json' });
  children.push(child);
  return { child, channel: new AgentChannel(child) };
}

describe('the agent channel', () => {
  it('gives up on an agent that keeps sending invalid messages', async () => {
    const { channel } = startAgent('garbage');
    const reasons: string[] = [];
    channel.onClosed((reason) => reasons.push(reason));

    await channel.whenReady(5_000);
    const deadline = Date.now() + 5_000;
    while (!channel.closed && Date.now() < deadline) await sleep(10);

    expect(reasons).toEqual(['it sent 50 invalid messages']);
  });

  it('closes a socket handed over with a message that asks for none', async () => {
    // Prepare: a listener whose accepted connection tells when the host closed its end
    let accepted!: Socket;
    const closedByHost = new Promise<void>((resolve) => {
      const server = createServer((socket) => {
        accepted = socket;
        socket.once('end', () => resolve());
        socket.resume();
      });
      servers.push(server);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        startAgent('unasked-socket', String(port));
      });
    });

    // Act / Assert
    await expect(Promise.race([closedByHost.then(() => 'closed'), sleep(5_000).then(() => 'still open')])).resolves.toBe('closed');
    accepted.destroy();
  });

  it('ignores a reply to a request it never sent', async () => {
    const { channel } = startAgent('fake-reply');

    await channel.whenReady(5_000);
    await sleep(100);

    expect(channel.closed).toBe(false);
  });
});
