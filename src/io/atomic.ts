// Atomic file writes: readers never see a half-written file.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { activeFaults, sleepSync } from './fault.js';
import { fsReason } from './fs-reason.js';

let tmpCounter = 0;

// writeSync may write fewer bytes than asked
function writeAll(fd: number, buf: Uint8Array): void {
  for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
}

/**
 * Writes a file atomically: the content goes to a temporary file in the same directory, is
 * flushed, then renamed over `path`, so readers never see a half-written file and a failure
 * leaves nothing behind. `content` may be an iterable of string chunks (for files larger than a
 * JavaScript string can hold).
 * @throws Error naming the path when the directory is missing or not writable
 */
export function writeFileAtomic(path: string, content: string | Uint8Array | Iterable<string>): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    const stall = activeFaults().stallWrite;
    if (stall && stall.name === basename(path) && typeof content === 'string') {
      // test-only (GMOE_TEST_FAULT): half the file is on disk while the process sleeps, a window for SIGTERM
      const buf = Buffer.from(content, 'utf8');
      writeAll(fd, buf.subarray(0, buf.length >> 1));
      process.stderr.write(`gmoe: stalling halfway through ${basename(path)}\n`);
      sleepSync(stall.ms);
      writeAll(fd, buf.subarray(buf.length >> 1));
    } else if (typeof content === 'string') writeAll(fd, Buffer.from(content, 'utf8'));
    else if (content instanceof Uint8Array) writeAll(fd, content);
    else for (const chunk of content) writeAll(fd, Buffer.from(chunk, 'utf8'));
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    const dir = dirname(path);
    const why = fsReason(e, dir, { ENOENT: `directory ${dir} does not exist`, EISDIR: 'it is a directory' });
    throw new Error(`cannot write ${path}: ${why}`);
  }
}
