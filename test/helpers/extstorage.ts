import fs from 'node:fs';
import path from 'node:path';

/** The repository's example providers (a search path directory). */
export const EXAMPLES = path.resolve(__dirname, '../../examples/extstorage');

export interface RecordedCall {
  action: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** The calls the `recorder` example provider appended to its log, oldest first. */
export function readCalls(log: string): RecordedCall[] {
  if (!fs.existsSync(log)) return [];
  const calls: RecordedCall[] = [];
  let cur: RecordedCall | undefined;
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    if (line === '=== end') {
      if (cur) calls.push(cur);
      cur = undefined;
      continue;
    }
    if (line.startsWith('=== ')) {
      const [action, ...args] = line.slice(4).split(' ');
      cur = { action: action!, args, cwd: '', env: {} };
    } else if (cur && line.startsWith('cwd ')) {
      cur.cwd = line.slice(4);
    } else if (cur && line.includes('=')) {
      const i = line.indexOf('=');
      cur.env[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return calls;
}

/** What README documents: the variables each script gets, for a volume with these parameters. */
export function documentedVariables(action: string, paramNames: readonly string[], named: boolean): string[] {
  const extra: Record<string, string[]> = {
    create: ['VOL_SIZE'],
    grow: ['VOL_SIZE', 'VOL_NEW_SIZE'],
    setinfo: ['VOL_METADATA'],
    snapshot: ['VOL_SNAPSHOT_NAME', 'VOL_SNAPSHOT_SIZE'],
    open: ['VOL_OPEN_EXCLUSIVE'],
  };
  return [
    'PATH',
    'LC_ALL',
    'VOL_NAME',
    'VOL_UUID',
    ...(named ? ['VOL_CNAME'] : []),
    ...paramNames.map((p) => `EXTP_${p.toUpperCase()}`),
    ...(extra[action] ?? []),
  ].sort();
}

/**
 * Whether file `a` holds `b`'s bytes followed only by zeros up to its own
 * length — compared 8 MiB at a time (volumes are GiBs, mostly holes).
 */
export function holds(a: string, b: string): boolean {
  const chunk = 8 * 1024 * 1024;
  const [fa, fb] = [fs.openSync(a, 'r'), fs.openSync(b, 'r')];
  try {
    const [ba, bb] = [Buffer.alloc(chunk), Buffer.alloc(chunk)];
    for (let pos = 0; ; pos += chunk) {
      const na = fs.readSync(fa, ba, 0, chunk, pos);
      const nb = fs.readSync(fb, bb, 0, chunk, pos);
      if (na === 0) return nb === 0;
      if (nb > na) return false;
      bb.fill(0, nb);
      if (!ba.subarray(0, na).equals(bb.subarray(0, na))) return false;
    }
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/** Writes `<tag>@<offset>` at a few places of a sparse file of `bytes` (created or resized), zeros between. */
export function writePattern(file: string, bytes: number, tag: string): void {
  const fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w');
  try {
    fs.ftruncateSync(fd, bytes);
    for (const at of [0, 3 * 1024 * 1024 + 17, bytes - 64]) fs.writeSync(fd, `${tag}@${at}`, at);
  } finally {
    fs.closeSync(fd);
  }
}
