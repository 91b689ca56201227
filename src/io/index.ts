// File helpers shared by the library's writers and readers (models, datasets, sweeps) and by tools/.
export { formatJSON } from './json.js';
export { writeFileAtomic } from './atomic.js';
export { checkWritable } from './writable.js';
export { readTextFile } from './text.js';
export { makeDirs } from './make-dirs.js';
export { startCpuClock, threadCpuSeconds } from './cpu-clock.js';
export { packageInfo, checkoutRoot, type PackageInfo } from './package-info.js';
