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
    if (line === '=== end') { if (cur) calls.push(cur); cur = undefined; continue; }
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
    create: ['VOL_SIZE'], grow: ['VOL_SIZE', 'VOL_NEW_SIZE'], setinfo: ['VOL_METADATA'],
    snapshot: ['VOL_SNAPSHOT_NAME', 'VOL_SNAPSHOT_SIZE'], open: ['VOL_OPEN_EXCLUSIVE'],
  };
  return ['PATH', 'LC_ALL', 'VOL_NAME', 'VOL_UUID', ...(named ? ['VOL_CNAME'] : []),
    ...paramNames.map((p) => `EXTP_${p.toUpperCase()}`), ...(extra[action] ?? [])].sort();
}
