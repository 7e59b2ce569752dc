#!/usr/bin/env node
// Node 24 runs meshbot's TypeScript sources directly (type stripping); there is no build step.

// matrix-bot-sdk's HTTP stack uses util._extend; the warning says nothing a user can act on.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const code = typeof rest[0] === 'object' ? rest[0]?.code : rest[1];
  if (code === 'DEP0060') return;
  emitWarning(warning, ...rest);
};

await import('../src/cli/main.ts');
