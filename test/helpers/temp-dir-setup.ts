/** setupFiles entry (vitest.config.ts): at the end of each test file, remove the directories tempDir made for it. */
import { afterAll } from 'vitest';
import { removeFileTempDirs } from './temp-dir.js';

// vitest passes fixtures first (an object pattern is required), the file's suite second
afterAll(({}, file) => removeFileTempDirs(file));
