/**
 * Reaping against a fake dockerode: two bots may share one dockerd and one owner label (the
 * owner is a hash of the data folder's path, and bots in containers of their own often all
 * keep their data at /data). Neither may remove a container the other still runs: a
 * container of this owner made elsewhere goes only once its deadline has passed.
 */
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { expect, it } from 'vitest';
import { LABEL, pidNamespace, reapContainers } from '../../../src/engines/docker/labels.ts';
import { silentLogger } from '../../../src/log/logger.ts';

const OWNER = 'node-0123456789abcdef';

/** A dockerd holding containers with these labels; records which ones were removed. */
function fakeDocker(containers: Record<string, Record<string, string>>) {
  const removed: string[] = [];
  const docker = {
    listContainers: async () =>
      Object.entries(containers).map(([Id, Labels]) => ({
        Id,
        Labels: { [LABEL.run]: Id, ...Labels },
      })),
    getContainer: (id: string) => ({
      remove: async () => {
        removed.push(id);
      },
    }),
  } as unknown as Docker;
  return { docker, removed };
}

// Another bot's run, in a container of its own (another host name, pid namespace), with the
// same owner label, and within its wall limit.
const otherBot = (deadline: number | undefined) => ({
  [LABEL.owner]: OWNER,
  [LABEL.host]: 'f00dfeed1234',
  [LABEL.pidns]: 'pid:[4026532000]',
  // Its pid in its own namespace; another number than this process's.
  [LABEL.pid]: String(process.pid + 1),
  ...(deadline === undefined ? {} : { [LABEL.deadline]: String(deadline) }),
});

it("leaves a live bot's running container alone, at a start or a stop of another with its owner", async () => {
  const { docker, removed } = fakeDocker({ running: otherBot(Date.now() + 60_000) });
  expect((await reapContainers(docker, OWNER, silentLogger)).removed).toBe(0);
  expect((await reapContainers(docker, OWNER, silentLogger, { all: true })).removed).toBe(0);
  expect(removed).toEqual([]);
});

it('removes a container of this owner made elsewhere once its deadline has passed, or when it has none', async () => {
  const { docker, removed } = fakeDocker({
    due: otherBot(Date.now() - 1),
    unlabelled: otherBot(undefined),
    'not-due': otherBot(Date.now() + 60_000),
  });
  expect((await reapContainers(docker, OWNER, silentLogger)).removed).toBe(2);
  expect(removed.sort()).toEqual(['due', 'unlabelled']);
});

it("removes this process's own containers at its stop, and those of a dead process of its pid namespace", async () => {
  const here = { [LABEL.host]: hostname(), [LABEL.pidns]: pidNamespace() };
  const later = String(Date.now() + 60_000);
  const { docker, removed } = fakeDocker({
    mine: {
      ...here,
      [LABEL.owner]: OWNER,
      [LABEL.pid]: String(process.pid),
      [LABEL.deadline]: later,
    },
    // Over Linux's largest pid: no process has it.
    orphan: { ...here, [LABEL.owner]: 'gone', [LABEL.pid]: '4194305', [LABEL.deadline]: later },
  });
  expect((await reapContainers(docker, OWNER, silentLogger)).removed).toBe(1);
  expect(removed).toEqual(['orphan']);
  expect((await reapContainers(docker, OWNER, silentLogger, { all: true })).removed).toBe(2);
  expect(removed).toEqual(['orphan', 'mine', 'orphan']);
});
