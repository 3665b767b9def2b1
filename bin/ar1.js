#!/usr/bin/env node
// The `ar1` command. The suite ships as TypeScript and runs through tsx (no build step, so `npm ci`
// with scripts disabled leaves a working command on every machine).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../nodes/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
