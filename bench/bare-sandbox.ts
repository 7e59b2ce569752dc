/**
 * The floor under the isolated-vm runtime, for `npm run bench -- engines`: a forked process
 * that runs an engine's `main` in one plain isolate with a synchronous call and answers,
 * and does nothing else: no hardening, no fresh scope per task, no limits but the CPU
 * timeout, no checks, no logs, no wall timer. The bench times a task through it next to a
 * task through the runtime. What the runtime costs on top of this is its own; what this
 * costs over running the code directly is the crossing between two processes here.
 */
import ivm from 'isolated-vm';

interface Task {
  code: string;
  input: Uint8Array;
  params: Record<string, string>;
}

if (!process.send) throw new Error('bare-sandbox must be forked by the engines benchmark');

const isolate = new ivm.Isolate({ memoryLimit: 128 });
const context = isolate.createContextSync();
const mains = new Map<string, ivm.Reference>();

process.on('message', (task: Task) => {
  let main = mains.get(task.code);
  if (!main) {
    main = isolate.compileScriptSync(`${task.code}\n;main`).runSync(context, { reference: true });
    mains.set(task.code, main);
  }
  const value = main.applySync(undefined, [task.input, task.params], {
    timeout: 5000,
    arguments: { copy: true },
    result: { copy: true },
  });
  process.send?.({ output: Buffer.from(String(value)) });
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
