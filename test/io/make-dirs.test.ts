import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirs } from '../../src/io/index.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('makeDirs', () => {
  const root = tempDir('mkdirs');

  it('creates missing parents and accepts an existing directory', () => {
    const dir = join(root, 'a', 'b', 'c');
    makeDirs(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    makeDirs(dir);
    makeDirs(join(root, 'a'));
  });

  it('names the parent that is a file', () => {
    writeFileSync(join(root, 'f'), 'x');
    expect(() => makeDirs(join(root, 'f', 'x', 'y'))).toThrow(
      `cannot create ${join(root, 'f', 'x', 'y')}: ${join(root, 'f')} is not a directory`,
    );
    expect(existsSync(join(root, 'f', 'x'))).toBe(false);
  });

  // Node's recursive mkdir loops forever here: every mkdir under /proc answers ENOENT
  it.runIf(existsSync('/proc/self'))('ends with one line under /proc', () => {
    expect(() => makeDirs('/proc/gmoe-no-such/out')).toThrow(
      'cannot create /proc/gmoe-no-such/out: /proc does not accept new directories',
    );
  });
});
