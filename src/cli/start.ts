import type { CommandModule } from 'yargs';
import { startBot } from '../../bots/meshbot.ts';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../errors/index.ts';
import { createLogger } from '../log/logger.ts';
import { untilSignal } from './signals.ts';

interface Args {
  config?: string;
}

export const startCommand: CommandModule<object, Args> = {
  command: 'start',
  describe: 'run this node: join the rooms it is invited to and take work',
  builder: (y) =>
    y.option('config', {
      type: 'string',
      describe: 'a JSON config file (see config/example.json)',
    }),
  handler: async (args) => {
    // Else the schema would name each key it misses, and not where a config comes from.
    if (!args.config && !process.env.MESHBOT_HOMESERVER_URL) {
      throw new ConfigError(
        'meshbot start needs a config: --config meshbot.json (meshbot init writes one), ' +
          'or MESHBOT_HOMESERVER_URL, MESHBOT_OWNER and MESHBOT_ACCESS_TOKEN or ' +
          'MESHBOT_ACCESS_TOKEN_FILE in the environment',
      );
    }
    const log = createLogger();
    const config = await loadConfig({ file: args.config });
    const bot = await startBot(config, log);
    log.info('meshbot running; Ctrl-C stops it', { userId: bot.userId });
    await untilSignal();
    await bot.stop();
  },
};
