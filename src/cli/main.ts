import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeForChat, MeshError } from '../errors/index.ts';
import { addCommand } from './add.ts';
import { devCommand } from './dev.ts';
import { enginesCommand } from './engines.ts';
import { gcCommand } from './gc.ts';
import { initCommand } from './init.ts';
import { modelsCommand } from './models.ts';
import { startCommand } from './start.ts';

await yargs(hideBin(process.argv))
  .scriptName('meshbot')
  .usage('$0 <command> [options]\n\nTurn a Matrix room of friends into a compute mesh.')
  .command(initCommand)
  .command(startCommand)
  .command(addCommand)
  .command(devCommand)
  .command(enginesCommand)
  .command(modelsCommand)
  .command(gcCommand)
  .demandCommand(1, 'Name a command.')
  .strict()
  .help()
  .fail((msg, err, y) => {
    if (err) {
      const text = err instanceof MeshError ? describeForChat(err) : err.message;
      process.stderr.write(`meshbot: ${text}\n`);
    } else {
      process.stderr.write(`${y.help()}\n\n${msg}\n`);
    }
    process.exit(2);
  })
  .parseAsync();
