/**
 * `meshbot models add|list|fetch`: the Whisper models of a node. `add` takes a model file you
 * have (a fine-tuned or generated one) under a name; `fetch` gets a configured model ahead of
 * its first use (from the public source, checked against its sha256).
 */
import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { loadConfig } from '../config/load.ts';
import { createLogger, silentLogger } from '../log/logger.ts';
import { createStore, type Store } from '../store/index.ts';
import { createModels, type Models } from '../whisper/models.ts';

interface Args {
  config?: string;
  'data-dir'?: string;
}

const common = <T>(y: Argv<T>) =>
  y.option('config', { type: 'string', describe: "the node's config file" }).option('data-dir', {
    type: 'string',
    describe: "the node's data dir (overrides the config's)",
  });

async function withModels<T>(args: Args, fn: (models: Models) => Promise<T>): Promise<T> {
  // Only the data dir and the whisper section matter here: the rest may be left out.
  const config = await loadConfig({
    file: args.config,
    overrides: {
      homeserver: { url: 'http://unused.invalid', accessToken: 'unused' },
      owner: '@unused:unused.invalid',
      ...(args['data-dir'] ? { dataDir: resolve(args['data-dir']) } : {}),
    },
  });
  const store: Store = createStore({ dir: join(config.dataDir, 'store'), logger: silentLogger });
  await store.start();
  try {
    const models = createModels({
      dir: join(config.dataDir, 'models'),
      store,
      sources: config.whisper.models,
      allowDownload: config.whisper.download,
      log: createLogger({ level: 'warn' }),
      progressBar: process.stderr.isTTY,
    });
    return await fn(models);
  } finally {
    await store.stop();
  }
}

const line = (m: { name: string; sha256: string; cid?: string; bytes?: number }) =>
  `${m.name}\t${m.sha256}\t${m.cid ?? '-'}\t${m.bytes ?? '-'}\n`;

const add: CommandModule<object, Args & { name: string; file: string }> = {
  command: 'add <name> <file>',
  describe: 'add a ggml model file under a name; prints name, sha256, CID and size',
  builder: (y) =>
    common(y)
      .positional('name', { type: 'string', demandOption: true })
      .positional('file', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const m = await withModels(args, (models) => models.add(args.name, resolve(args.file)));
    process.stdout.write(line(m));
  },
};

const list: CommandModule<object, Args> = {
  command: 'list',
  describe: 'the models this node has: name, sha256, CID, size',
  builder: (y) => common(y),
  handler: async (args) => {
    for (const m of await withModels(args, (models) => models.local()))
      process.stdout.write(line(m));
  },
};

const fetchModel: CommandModule<object, Args & { name: string }> = {
  command: 'fetch <name>',
  describe: 'get a configured model now (from its public source), checked against its sha256',
  builder: (y) => common(y).positional('name', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const m = await withModels(args, (models) => models.ensure(args.name));
    process.stdout.write(line(m));
  },
};

export const modelsCommand: CommandModule = {
  command: 'models',
  describe: "the node's Whisper models",
  builder: (y) =>
    y
      .command(add)
      .command(list)
      .command(fetchModel)
      .demandCommand(1, 'Name a command: add, list or fetch.'),
  handler: () => {},
};
