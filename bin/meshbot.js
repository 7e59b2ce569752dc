#!/usr/bin/env node
// Node 24 runs meshbot's TypeScript sources directly (type stripping); there is no build step.
import '../src/cli/main.ts';
