/**
 * `meshbot start` with no config at all (no --config, nothing in the environment) says what it
 * needs, not the schema's word for each missing key.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startCommand } from '../../../src/cli/start.ts';

describe('meshbot start', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('names --config and the environment when it is given neither', async () => {
    for (const name of ['MESHBOT_HOMESERVER_URL', 'MESHBOT_OWNER', 'MESHBOT_ACCESS_TOKEN'])
      vi.stubEnv(name, '');
    await expect(startCommand.handler({ _: [], $0: 'meshbot' })).rejects.toThrow(
      'meshbot start needs a config: --config meshbot.json (meshbot init writes one), ' +
        'or MESHBOT_HOMESERVER_URL, MESHBOT_OWNER and MESHBOT_ACCESS_TOKEN or ' +
        'MESHBOT_ACCESS_TOKEN_FILE in the environment',
    );
  });
});
