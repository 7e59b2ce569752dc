/**
 * A bot that dies mid-run, for docker-runtime.test.ts: starts a Docker runtime (owner
 * argv[3], work folder argv[6]) on the socket argv[2], starts a container of image argv[5]
 * that would run for ever (wall limit argv[4] ms), prints `running` once it runs, and waits
 * to be SIGKILLed.
 */
import { createDockerRuntime } from '../../src/engines/docker/index.ts';
import { createEnginePackage } from '../../src/engines/manifest.ts';

const [socketPath, owner, wallMs, image, workDir] = process.argv.slice(2);
const runtime = createDockerRuntime({ socketPath, owner, workDir });
await runtime.start();
const pkg = await runtime.pin(
  createEnginePackage(
    {
      name: 'orphan',
      version: '0.0.0',
      runtime: 'docker',
      image,
      command: ['/bin/sh', '-c', 'sleep 100000'],
      description: 'runs until killed',
      limits: { memoryMb: 32, cpuMs: Number(wallMs), wallMs: Number(wallMs), maxOutputBytes: 1024 },
    },
    '',
  ),
);
void runtime
  .run({ engine: pkg, input: new Uint8Array(), params: {} })
  .catch((err: unknown) => process.stderr.write(`run failed: ${String(err)}\n`));
while (runtime.running === 0) await new Promise((r) => setTimeout(r, 50));
process.stdout.write('running\n');
setInterval(() => {}, 1000);
