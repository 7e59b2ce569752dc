import { Direction, EventType, type MatrixClient, MsgType, Preset } from 'matrix-js-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { clientFor, registerUser, testHomeserver } from '../support/homeserver.ts';

describe('the test homeserver', () => {
  const clients: MatrixClient[] = [];
  const open = (client: MatrixClient): MatrixClient => {
    clients.push(client);
    return client;
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.stopClient();
  });

  it('lets Alice invite Bob into a room and Bob read her message', async () => {
    const alice = open(clientFor(await registerUser('alice')));
    const bobUser = await registerUser('bob');
    const bob = open(clientFor(bobUser));
    expect(bobUser.userId).toMatch(new RegExp(`:${testHomeserver().serverName}$`));

    const { room_id: roomId } = await alice.createRoom({
      name: 'mesh',
      preset: Preset.PrivateChat,
    });
    await alice.invite(roomId, bobUser.userId);
    await bob.joinRoom(roomId);
    await alice.sendEvent(roomId, EventType.RoomMessage, {
      msgtype: MsgType.Text,
      body: 'hello bob',
    });

    const page = await bob.createMessagesRequest(roomId, null, 20, Direction.Backward);
    const texts = page.chunk
      .filter((e) => e.type === EventType.RoomMessage && e.sender === alice.getUserId())
      .map((e) => (e.content as { body?: string }).body);
    expect(texts).toContain('hello bob');
  });

  it('logs an existing user in again with a fresh, working token', async () => {
    const first = await registerUser('carol');
    const again = await registerUser(first.localpart, { exact: true, password: first.password });

    expect(again.userId).toBe(first.userId);
    expect(again.accessToken).not.toBe(first.accessToken);
    const whoami = await open(clientFor(again)).whoami();
    expect(whoami.user_id).toBe(first.userId);
  });
});
