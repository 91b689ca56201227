/**
 * `npm run build:wasm`: rebuilds src/em/backend/simd/module.ts from the kernel generators
 * (src/em/backend/simd/gen) and says whether it changed; the file records the SHA-256 of the
 * WebAssembly text it was built from. `--check`: writes nothing, exits 1 when the committed module
 * is stale (not this build's output).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { MODULE_PATH, renderModule, sourceHash } from '../src/em/backend/simd/gen/build.js';

const check = process.argv.includes('--check');
const hash = sourceHash().slice(0, 12);
const rendered = await renderModule();
if (readFileSync(MODULE_PATH, 'utf8') === rendered) {
  console.log(`${MODULE_PATH} is up to date (sources ${hash})`);
} else if (check) {
  console.error(`${MODULE_PATH} is stale (sources ${hash}): run npm run build:wasm and commit it`);
  process.exit(1);
} else {
  const tmp = `${MODULE_PATH}.${process.pid}.tmp`;
  writeFileSync(tmp, rendered);
  renameSync(tmp, MODULE_PATH);
  console.log(`wrote ${MODULE_PATH} (sources ${hash})`);
}
