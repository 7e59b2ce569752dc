/**
 * The deadline keeper: a small process the Docker runtime starts beside the bot, detached
 * from it (its own session), which outlives it. While the bot lives it only takes notes: the
 * containers running, when each must end and its run folder. When the bot's channel closes
 * (it exited or was killed), it removes each container it still holds at that container's
 * deadline, then its run folder, and exits. Without it, a crashed bot's containers run until
 * the node starts again.
 *
 * argv: the Docker socket, the API version.
 */
import Docker from 'dockerode';
import { silentLogger } from '../../log/logger.ts';
import { isRunFolder, removeRunFolder } from './run-folders.ts';

const [socketPath, version] = process.argv.slice(2);
if (!process.send || !socketPath || !version) {
  process.stderr.write('keeper-process must be forked by the Docker runtime\n');
  process.exit(2);
}
const docker = new Docker({ socketPath, version });

/** Container id → when it must be gone (epoch ms), and its run's folder. */
const runs = new Map<string, { deadline: number; dir: string }>();
const ID = /^[a-f0-9]{12,64}$/;

process.on('message', (m: unknown) => {
  const msg = m as { type?: unknown; id?: unknown; deadline?: unknown; dir?: unknown };
  if (typeof msg?.id !== 'string' || !ID.test(msg.id)) return;
  if (msg.type === 'watch' && typeof msg.deadline === 'number' && isRunFolder(msg.dir)) {
    runs.set(msg.id, { deadline: msg.deadline, dir: msg.dir });
  } else if (msg.type === 'done') runs.delete(msg.id);
});

process.on('disconnect', () => {
  void (async () => {
    const due = [...runs].sort((a, b) => a[1].deadline - b[1].deadline);
    for (const [id, { deadline, dir }] of due) {
      const wait = deadline - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await docker
        .getContainer(id)
        .remove({ force: true, v: true })
        .catch(() => {});
      await removeRunFolder(dir, silentLogger);
    }
    process.exit(0);
  })();
});
