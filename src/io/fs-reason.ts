// Why a file-system call failed, in words: the codes every writer of gmoe meets, said one way.

/**
 * The reason for error `e` of a call that worked in directory `dir`: `own` gives the words for the codes
 * that mean something particular to the caller (ENOENT when writing a file, when making a directory, …).
 */
export function fsReason(e: unknown, dir: string, own: Partial<Record<string, string>> = {}): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const mine = code === undefined ? undefined : own[code];
  if (mine !== undefined) return mine;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `permission denied in ${dir}`;
    case 'EROFS':
      return `${dir} is on a read-only file system`;
    case 'ENOSPC':
      return 'no space left on the device (ENOSPC)';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
