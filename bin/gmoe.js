#!/usr/bin/env node
// In a clone, runs the TypeScript CLI through tsx's loader, so `npx gmoe` works right after `npm ci` and
// sees edits to src/ without a build. An installed package has neither src/ nor tsx (a devDependency):
// it runs the compiled CLI in build/lib.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let tsx = null;
if (existsSync(source))
  tsx = await import('tsx/esm/api').catch((e) => {
    if (e?.code === 'ERR_MODULE_NOT_FOUND') return null; // a clone installed without devDependencies
    throw e;
  });
if (tsx) {
  tsx.register();
  await import(source.href);
} else {
  await import('../build/lib/cli/main.js');
}
