import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { CommandModule } from 'yargs';
import { type DevMesh, startDevMesh } from '../dev/dev-mesh.ts';
import { createLogger } from '../log/logger.ts';
import { untilSignal } from './signals.ts';

interface Args {
  dir: string;
  bots: number;
}

export const devCommand: CommandModule<object, Args> = {
  command: 'dev',
  describe: 'run a local mesh: a homeserver, bots, and a room you can type commands into',
  builder: (y) =>
    y
      .option('dir', {
        type: 'string',
        default: '.meshbot/dev',
        describe: 'where the dev mesh keeps its state',
      })
      .option('bots', { type: 'number', default: 2, describe: 'how many bots' })
      // Checked before the homeserver starts: with no bots, no `!run` would ever be answered.
      .check((a) => {
        if (Number.isInteger(a.bots) && a.bots >= 1) return true;
        throw new Error('--bots: a whole number, at least 1');
      }),
  handler: async (args) => {
    const dir = resolve(args.dir);
    mkdirSync(dir, { recursive: true });
    const logFile = join(dir, 'meshbot.log');
    const logStream = createWriteStream(logFile, { flags: 'a' });
    const log = createLogger({ level: 'debug', write: (line) => logStream.write(`${line}\n`) });
    process.stdout.write(
      'meshbot dev: starting the homeserver and the bots (the first run takes longer)…\n',
    );
    const mesh = await startDevMesh({ dir, bots: args.bots, log });
    printWelcome(mesh, logFile);
    const rl = createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: process.stdin.isTTY === true,
    });
    // Input may end (a script piped in): the mesh keeps running until Ctrl-C, with no prompt.
    let inputOpen = true;
    rl.on('close', () => {
      inputOpen = false;
    });
    const prompt = (keep = false) => {
      if (inputOpen) rl.prompt(keep);
    };
    mesh.person.onMessage((m) => {
      if (
        m.roomId !== mesh.roomId ||
        m.sender === mesh.person.userId ||
        m.type !== 'm.room.message'
      )
        return;
      process.stdout.write(`\n[${m.sender}] ${m.body.replaceAll('\n', '\n    ')}\n`);
      prompt(true);
    });
    rl.setPrompt('you> ');
    rl.on('line', (line) => void handleLine(mesh, line.trim()).finally(() => prompt()));
    prompt();
    await untilSignal();
    process.stdout.write('\nmeshbot dev: stopping…\n');
    rl.close();
    await mesh.stop();
    logStream.end();
    process.exit(0);
  },
};

async function handleLine(mesh: DevMesh, line: string): Promise<void> {
  if (line === '') return;
  try {
    if (line.startsWith('/add ')) {
      const cid = await mesh.add(resolve(line.slice(5).trim()));
      process.stdout.write(`added: ${cid}\n  try: !run wordcount ${cid}\n`);
      return;
    }
    await mesh.person.send(mesh.roomId, line);
  } catch (err) {
    process.stdout.write(`error: ${(err as Error).message}\n`);
  }
}

function printWelcome(mesh: DevMesh, logFile: string): void {
  const hs = mesh.homeserver;
  process.stdout.write(
    [
      '',
      'meshbot dev: a local mesh is running.',
      `  homeserver  ${hs.url}  (server name ${hs.serverName})`,
      `  room        ${mesh.roomId}  "meshbot dev mesh"`,
      `  bots        ${mesh.bots.map((b) => b.userId).join(', ')}`,
      `  you         ${mesh.person.userId}`,
      '',
      'Log in with any Matrix client (e.g. Element: "Edit" homeserver) to watch or type there too:',
      `  homeserver ${hs.url}   user ${mesh.person.userId}   password ${mesh.personPassword}`,
      '',
      'Type a message and press Enter to post it in the mesh room. Try:',
      `  !run wordcount ${mesh.sampleCid}     (a sample text, already added)`,
      '  /add <file>                          (add a file to the mesh; prints its CID)',
      '  !help',
      `Ctrl-C stops everything. Bot logs: ${logFile}`,
      '',
    ].join('\n'),
  );
}
