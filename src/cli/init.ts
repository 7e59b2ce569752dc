import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { CommandModule } from 'yargs';
import { startBot } from '../../bots/meshbot.ts';
import { loadConfig } from '../config/load.ts';
import { configSchema } from '../config/schema.ts';
import { ConfigError } from '../errors/index.ts';
import { homeserverBase, loginUser } from '../homeserver/register.ts';
import { createLogger } from '../log/logger.ts';
import { readSecret } from './secret.ts';
import { untilSignal } from './signals.ts';

/** How long init waits for the homeserver to answer its login. */
const LOGIN_TIMEOUT_MS = 30_000;

interface Args {
  homeserver?: string;
  user?: string;
  password?: string;
  'password-file'?: string;
  owner?: string;
  config: string;
  'data-dir'?: string;
  start: boolean;
}

/**
 * `meshbot init`: a friend's first command. Asks for (or takes as flags) the homeserver,
 * the bot's account and the owner, logs in, writes the access token to a file only its
 * owner can read and a validated config next to it, and with `--start` runs the node, which
 * then joins the rooms its owner invites it into.
 */
export const initCommand: CommandModule<object, Args> = {
  command: 'init',
  describe: 'log the bot in, write a validated config, and (with --start) run the node',
  builder: (y) =>
    y
      .option('homeserver', {
        type: 'string',
        describe: 'the homeserver URL, e.g. https://matrix.org',
      })
      .option('user', { type: 'string', describe: "the bot account's user name or @user:server" })
      .option('password', {
        type: 'string',
        // Other users see a command line (ps, /proc): the prompt or a file keeps it private.
        describe:
          "the bot account's password; visible to other users in `ps`, so prefer the prompt or --password-file",
      })
      .option('password-file', { type: 'string', describe: 'a file holding the password' })
      .option('owner', { type: 'string', describe: 'your own Matrix id, e.g. @alice:matrix.org' })
      .option('config', {
        type: 'string',
        default: 'meshbot.json',
        describe: 'the config to write',
      })
      .option('data-dir', { type: 'string', describe: 'where the node keeps its data' })
      .option('start', { type: 'boolean', default: false, describe: 'start the node afterwards' }),
  handler: async (args) => {
    const answers = await ask(args);
    // Written as it is used: a config with `https://host/` would be asked at `//_matrix/…`.
    const homeserver = homeserverBase(answers.homeserver);
    // Checked before logging in: a login makes a device and a token, and writes the token.
    checkAnswers(homeserver, answers.owner);
    const file = resolve(args.config);
    const dir = dirname(file);
    const localpart = answers.user.replace(/^@/, '').split(':')[0] as string;
    // A homeserver that takes the connection and never answers would hold init for minutes.
    const signal = AbortSignal.timeout(LOGIN_TIMEOUT_MS);
    const login = await loginUser(homeserver, localpart, answers.password, signal).catch(
      (err: unknown) => {
        const why = signal.aborted
          ? `no answer from ${homeserver} within ${LOGIN_TIMEOUT_MS / 1000} s`
          : (err as Error).message;
        throw new ConfigError(`could not log in as ${answers.user}: ${why}`);
      },
    );
    await mkdir(dir, { recursive: true });
    const tokenFile = join(dir, 'bot-token.txt');
    await writeFile(tokenFile, `${login.accessToken}\n`, { mode: 0o600 });
    await chmod(tokenFile, 0o600);
    const config = {
      homeserver: { url: homeserver, accessTokenFile: relative(dir, tokenFile) || '.' },
      owner: answers.owner,
      dataDir: relative(dir, resolve(args['data-dir'] ?? join(dir, '.meshbot', 'node'))) || '.',
    };
    // Validated before it is written: a config that `meshbot start` would refuse never lands.
    await writeFile(`${file}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
    await loadConfig({ file: `${file}.tmp` });
    await rename(`${file}.tmp`, file);
    process.stdout.write(
      `logged in as ${login.userId}; config written to ${file}\n` +
        `next: invite ${login.userId} into your mesh room from ${answers.owner}` +
        (args.start ? '\n' : `, and run: meshbot start --config ${args.config}\n`),
    );
    if (!args.start) return;
    const log = createLogger();
    const bot = await startBot(await loadConfig({ file }), log);
    process.stdout.write(`node running as ${bot.userId}; Ctrl-C stops it\n`);
    await untilSignal();
    await bot.stop();
  },
};

interface Answers {
  homeserver: string;
  user: string;
  password: string;
  owner: string;
}

/** The answers the config takes as they are, checked by its schema and named by their flags. */
function checkAnswers(homeserver: string, owner: string): void {
  const checks = [
    ['--homeserver', configSchema.shape.homeserver.shape.url.safeParse(homeserver)],
    ['--owner', configSchema.shape.owner.safeParse(owner)],
  ] as const;
  const problems = checks.flatMap(([flag, r]) =>
    r.success ? [] : [`${flag}: ${r.error.issues[0]?.message}`],
  );
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
}

/** Flags first; what is missing is asked for on a terminal, or named as an error without one. */
async function ask(args: Args): Promise<Answers> {
  const password = args['password-file']
    ? (await readFile(args['password-file'], 'utf8')).trim()
    : args.password;
  const given = { homeserver: args.homeserver, user: args.user, password, owner: args.owner };
  const missing = Object.entries(given).filter(([, v]) => !v);
  if (missing.length === 0) return given as Answers;
  if (!process.stdin.isTTY) {
    const flags = missing.map(([k]) => `--${k}`).join(', ');
    throw new ConfigError(`meshbot init needs ${flags} (no terminal to ask on)`);
  }
  const prompts: Record<string, string> = {
    homeserver: 'Homeserver URL (e.g. https://matrix.org): ',
    user: "The bot's account (user name or @user:server): ",
    password: "The bot account's password (not shown): ",
    owner: 'Your own Matrix id (e.g. @alice:matrix.org): ',
  };
  for (const [key] of missing) {
    const prompt = prompts[key] ?? `${key}: `;
    (given as Record<string, string | undefined>)[key] =
      key === 'password'
        ? (await readSecret(prompt, process.stdin, process.stdout)).trim()
        : await question(prompt);
  }
  return given as Answers;
}

/**
 * One answer, read and echoed by readline. An interface per question: one left open while
 * the password is typed would echo it.
 */
async function question(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
  }
}
