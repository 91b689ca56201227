/**
 * Where a worker thread starts (sweeps' cell pool, the bootstraps' pool). From the sources (.ts, under
 * tsx or vitest) a worker does not inherit the TypeScript loader, so it starts at worker-boot.mjs, which
 * registers tsx and imports `workerData.workerModule`; compiled (.js) it starts at the module itself.
 */
export function workerEntry(workerModule: string): URL {
  return workerModule.endsWith('.ts') ? new URL('./worker-boot.mjs', import.meta.url) : new URL(workerModule);
}
