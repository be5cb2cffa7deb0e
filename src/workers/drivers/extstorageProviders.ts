import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DriverDiagnosis } from './driver';
import { OPTIONAL_SCRIPTS, PARAMETERS_FILE, REQUIRED_SCRIPTS, type ExtAction, type ScriptInput } from './extstorageEnv';

/**
 * Finding and validating ExtStorage providers on this host, as Ganeti's
 * `ExtStorageFromDisk` does: a provider is the first directory named after
 * it in the search path; it is valid only if every required script is an
 * executable regular file, every optional one present is too, and
 * `parameters.list` is a readable regular file.
 */

export interface ProviderParameter {
  readonly name: string;
  readonly description: string;
}

export interface Provider {
  readonly name: string;
  readonly dir: string;
  /** Absolute script paths; optional scripts the provider lacks are absent. */
  readonly scripts: Readonly<Partial<Record<ExtAction, string>>>;
  readonly parameters: readonly ProviderParameter[];
}

export type ProviderLookup =
  { readonly ok: true; readonly provider: Provider } | { readonly ok: false; readonly reason: string; readonly dir?: string };

/** Provider names are directory names: no separators, no dot-files, nothing a shell would trip on. */
export const PROVIDER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `name description` per line, split at the first run of blanks; blank lines are skipped. */
export function parseParametersList(text: string): ProviderParameter[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\S+)\s*(.*)$/.exec(l)!;
      return { name: m[1]!, description: m[2]! };
    });
}

async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The provider's directory: the first match in the search path, or undefined. */
export async function findProviderDir(searchPath: readonly string[], name: string): Promise<string | undefined> {
  if (!PROVIDER_NAME.test(name)) return undefined;
  for (const base of searchPath) {
    const dir = path.join(base, name);
    if (await isDir(dir)) return dir;
  }
  return undefined;
}

/** Checks one file the way Ganeti's `_CheckExtStorageFile` does; returns why it fails, or undefined. */
async function checkFile(dir: string, file: string, executable: boolean): Promise<string | undefined> {
  const p = path.join(dir, file);
  let st;
  try {
    st = await fs.stat(p);
  } catch (err) {
    return `${file} is missing (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  if (!st.isFile()) return `${file} is not a regular file`;
  try {
    // X_OK rather than the owner bit: what matters is whether this worker can run it.
    await fs.access(p, executable ? fsc.X_OK : fsc.R_OK);
  } catch {
    return `${file} is not ${executable ? 'executable' : 'readable'}`;
  }
  return undefined;
}

/** Validates the provider in `dir`. */
export async function loadProvider(name: string, dir: string): Promise<ProviderLookup> {
  const problems: string[] = [];
  const scripts: Partial<Record<ExtAction, string>> = {};
  for (const s of REQUIRED_SCRIPTS) {
    const why = await checkFile(dir, s, true);
    if (why) problems.push(why);
    else scripts[s] = path.join(dir, s);
  }
  for (const s of OPTIONAL_SCRIPTS) {
    const p = path.join(dir, s);
    if (
      !(await fs.lstat(p).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const why = await checkFile(dir, s, true);
    if (why) problems.push(why);
    else scripts[s] = p;
  }
  const listWhy = await checkFile(dir, PARAMETERS_FILE, false);
  if (listWhy) problems.push(listWhy);
  if (problems.length) return { ok: false, reason: problems.join('; '), dir };
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, PARAMETERS_FILE), 'utf8');
  } catch (err) {
    // Changed between the check and the read: report it rather than fail the caller (e.g. a heartbeat).
    return { ok: false, reason: `${PARAMETERS_FILE} could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, dir };
  }
  return { ok: true, provider: { name, dir, scripts, parameters: parseParametersList(text) } };
}

/** Finds and validates a provider by name. */
export async function lookupProvider(searchPath: readonly string[], name: string): Promise<ProviderLookup> {
  if (!PROVIDER_NAME.test(name)) return { ok: false, reason: `'${name}' is not a valid provider name` };
  const dir = await findProviderDir(searchPath, name);
  if (!dir) return { ok: false, reason: `no directory ${name} in the ExtStorage search path ${searchPath.join(':')}` };
  return loadProvider(name, dir);
}

/**
 * sha256 over the provider's interface: the scripts Ganeti's
 * `ExtStorageFromDisk` looks for (required and optional, those present)
 * and `parameters.list`, in that fixed order — each with its name, its
 * mode's executable bits, its size and its contents (a symlink by what it
 * points at). Nothing else in the folder counts: a provider that writes
 * its log, state or lock files beside its scripts would otherwise differ
 * between two identical hosts.
 */
export async function providerChecksum(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of [...REQUIRED_SCRIPTS, ...OPTIONAL_SCRIPTS, PARAMETERS_FILE]) {
    const p = path.join(dir, f);
    const st = await fs.stat(p).catch(() => undefined);
    if (!st?.isFile()) {
      h.update(`${f}\0absent\0`);
      continue;
    }
    h.update(`${f}\0${(st.mode & 0o111).toString(8)}\0${st.size}\0`);
    h.update(await fs.readFile(p));
  }
  return h.digest('hex');
}

/**
 * Every provider in the search path (the first directory of each name
 * wins), with validity, reason, checksum and parameters: what a worker
 * reports in its heartbeat and `storage diagnose` compares across hosts.
 */
export async function diagnoseProviders(searchPath: readonly string[]): Promise<DriverDiagnosis[]> {
  const seen = new Map<string, string>();
  for (const base of searchPath) {
    const entries = await fs.readdir(base, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!PROVIDER_NAME.test(e.name) || seen.has(e.name)) continue;
      if (await isDir(path.join(base, e.name))) seen.set(e.name, path.join(base, e.name));
    }
  }
  const out: DriverDiagnosis[] = [];
  for (const [name, dir] of [...seen].sort(([a], [b]) => a.localeCompare(b))) {
    const found = await loadProvider(name, dir);
    const checksum = await providerChecksum(dir).catch(() => undefined);
    out.push(
      found.ok
        ? { name, valid: true, checksum, parameters: found.provider.parameters.map((p) => ({ ...p })) }
        : { name, valid: false, reason: found.reason, checksum },
    );
  }
  return out;
}

/**
 * One ExtStorage volume as the scripts see it: a cairn volume, a snapshot,
 * or a clone's temporary snapshot. Every call on it gets the same
 * `VOL_NAME`, `VOL_UUID`, `VOL_CNAME` (volumes with a name) and `EXTP_*`.
 */
export interface EsVolume {
  readonly provider: Provider;
  readonly params: Readonly<Record<string, string>>;
  readonly input: Pick<ScriptInput, 'volumeId' | 'volName' | 'displayName'>;
  /** For messages: `volume <id>`, `snapshot <id>`. */
  readonly label: string;
}
