// Atomic file writes: readers never see a half-written file.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let tmpCounter = 0;

// writeSync may write fewer bytes than asked
function writeAll(fd: number, buf: Uint8Array): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
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
    if (typeof content === 'string') writeAll(fd, Buffer.from(content, 'utf8'));
    else if (content instanceof Uint8Array) writeAll(fd, content);
    else for (const chunk of content) writeAll(fd, Buffer.from(chunk, 'utf8'));
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try { closeSync(fd); } catch { /* already failing */ }
    }
    try { unlinkSync(tmp); } catch { /* never created */ }
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    const why =
      code === 'ENOENT' ? `directory ${dirname(path)} does not exist`
      : code === 'EACCES' || code === 'EPERM' ? `permission denied in ${dirname(path)}`
      : code === 'EISDIR' ? 'it is a directory'
      : e instanceof Error ? e.message : String(e);
    throw new Error(`cannot write ${path}: ${why}`);
  }
}
