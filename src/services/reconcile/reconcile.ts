/**
 * `cairn-manage reconcile`: the database against what a backend's worker
 * holds on disk. This module is the comparison and the report, pure: the
 * worker's scan (workers/handlers/reconcile.ts) and the database rows come in, the
 * differences and the repair each one calls for come out.
 *
 * Kinds of difference:
 * - `missing`: a volume whose status says its data exists (not creating,
 *   deleting or already error) has no file → repair: the volume goes to
 *   `error` with a user message.
 * - `moved`: the file is elsewhere than provider_location says (a move whose
 *   outcome was never recorded) → repair: provider_location is updated.
 * - `orphan`: a file nobody knows (no such volume or snapshot) → repair: it
 *   goes to `<file_storage_dir>/.orphans/`; nothing is ever deleted.
 * - `stale_server_folder`: the folder of a deleted or unknown server →
 *   repair: removed once empty.
 * - `foreign`: the file of a volume the database places on another backend
 *   → reported only.
 */
import path from 'node:path';
import { isUuidLike } from '../../domain/ids';
import { VOLUME_DATA_EXPECTED, type VolumeStatus } from '../../domain/status';

export interface ScanReport {
  readonly root: string;
  readonly files: ReadonlyArray<{ readonly path: string; readonly bytes: number }>;
  readonly dirs: ReadonlyArray<{ readonly path: string; readonly entries: number }>;
}

/** What the database says, as far as the scan needs it. */
export interface DbView {
  /** Volumes of this backend. */
  readonly volumes: ReadonlyMap<string, { status: string; location: string | null }>;
  /** Volumes the scan names that live on another backend: id → backend. */
  readonly elsewhere: ReadonlyMap<string, string>;
  readonly snapshots: ReadonlySet<string>;
  /** Servers the scan names: id → deleted. */
  readonly servers: ReadonlyMap<string, boolean>;
}

export type RepairAction =
  | { readonly kind: 'missing'; readonly volume_id: string; readonly status: string; readonly location: string | null }
  | { readonly kind: 'moved'; readonly volume_id: string; readonly db_location: string | null; readonly disk_location: string }
  | { readonly kind: 'orphan'; readonly path: string }
  | { readonly kind: 'stale_server_folder'; readonly server_id: string; readonly path: string };

export type DifferenceKind = RepairAction['kind'] | 'foreign';

export interface Difference {
  readonly kind: DifferenceKind;
  /** The volume, snapshot or server the row is about ('' for an unknown file). */
  readonly id: string;
  readonly dbLocation: string;
  readonly diskLocation: string;
  /** What a repair does (report) or did (after a repair). */
  action: string;
  /** Repaired: the action was carried out. */
  repaired: boolean;
  readonly repair?: RepairAction;
}

export interface BackendReport {
  readonly backend: string;
  readonly differences: Difference[];
  /** The worker did not answer, or could not scan. */
  readonly error?: string;
}

const VOLUME_FILE = /^volume-([0-9a-f-]{36})$/;
const SNAPSHOT_FILE = /^snapshot-([0-9a-f-]{36})$/;
/** A copy's temporary file: `<name>.part`, or `<name>.part.<attempt token>` (one per attempt). */
const PART = /\.part(\.[0-9a-zA-Z-]+)?$/;

/** The ids a scan names, so the database is asked about those only. */
export function namesInScan(scan: ScanReport): { volumes: string[]; snapshots: string[]; servers: string[] } {
  const volumes = new Set<string>();
  const snapshots = new Set<string>();
  const servers = new Set<string>();
  for (const f of scan.files) {
    const base = path.basename(f.path).replace(PART, '');
    const v = VOLUME_FILE.exec(base)?.[1];
    const s = SNAPSHOT_FILE.exec(base)?.[1];
    if (v) volumes.add(v);
    if (s) snapshots.add(s);
  }
  for (const d of scan.dirs)
    if (path.dirname(d.path) === scan.root && isUuidLike(path.basename(d.path))) servers.add(path.basename(d.path));
  return { volumes: [...volumes], snapshots: [...snapshots], servers: [...servers] };
}

const diff = (
  kind: DifferenceKind,
  id: string,
  dbLocation: string | null,
  diskLocation: string,
  action: string,
  repair?: RepairAction,
): Difference => ({ kind, id, dbLocation: dbLocation ?? '', diskLocation, action, repaired: false, ...(repair ? { repair } : {}) });

/** The differences between one backend's scan and the database; the scan must be older than `db` (read after it). */
export function compare(scan: ScanReport, db: DbView): Difference[] {
  const out: Difference[] = [];
  const filesOf = new Map<string, string[]>();
  const orphan = (p: string, id = '') => out.push(diff('orphan', id, null, p, 'quarantine', { kind: 'orphan', path: p }));
  for (const f of scan.files) {
    const name = path.basename(f.path);
    const isPart = PART.test(name);
    const base = name.replace(PART, '');
    const v = VOLUME_FILE.exec(base)?.[1];
    const s = SNAPSHOT_FILE.exec(base)?.[1];
    if (v && db.volumes.has(v)) {
      // A partial copy of a known volume is an operation in flight (or its leftover, which the next copy removes).
      if (!isPart) filesOf.set(v, [...(filesOf.get(v) ?? []), f.path]);
    } else if (v && db.elsewhere.has(v)) {
      out.push(diff('foreign', v, null, f.path, `none: volume ${v} is on backend ${db.elsewhere.get(v)}`));
    } else if (s && path.dirname(f.path) === scan.root && db.snapshots.has(s)) {
      // a snapshot's file (or its copy in flight)
    } else {
      orphan(f.path, v ?? s ?? '');
    }
  }
  for (const [id, vol] of [...db.volumes].sort(([a], [b]) => a.localeCompare(b))) {
    const files = filesOf.get(id) ?? [];
    if (!VOLUME_DATA_EXPECTED.includes(vol.status as VolumeStatus)) continue;
    if (files.length === 0) {
      out.push(
        diff('missing', id, vol.location, '', 'set error', { kind: 'missing', volume_id: id, status: vol.status, location: vol.location }),
      );
      continue;
    }
    // Names are unique, so two files of one volume means an interrupted move left a copy: keep the recorded one.
    const kept = files.includes(vol.location ?? '') ? vol.location! : files[0]!;
    for (const extra of files.filter((p) => p !== kept)) orphan(extra, id);
    if (kept !== vol.location) {
      out.push(
        diff('moved', id, vol.location, kept, 'update location', {
          kind: 'moved',
          volume_id: id,
          db_location: vol.location,
          disk_location: kept,
        }),
      );
    }
  }
  for (const d of scan.dirs) {
    const id = path.basename(d.path);
    if (path.dirname(d.path) !== scan.root || !isUuidLike(id) || db.servers.get(id) === false) continue;
    const state = db.servers.has(id) ? 'deleted' : 'unknown';
    out.push(
      diff('stale_server_folder', id, null, d.path, d.entries === 0 ? `remove (${state} server)` : `remove once empty (${state} server)`, {
        kind: 'stale_server_folder',
        server_id: id,
        path: d.path,
      }),
    );
  }
  return out;
}

/** Exit status of the command: 0 when every backend answered and nothing is left to repair. */
export const reconcileExitCode = (reports: readonly BackendReport[]): number =>
  reports.some((r) => r.error || r.differences.some((d) => !d.repaired)) ? 1 : 0;

/** The table `cairn-manage reconcile` prints: one row per difference, then a line per backend. */
export function formatReconcile(reports: readonly BackendReport[]): string {
  const cols = ['backend', 'kind', 'id', 'db location', 'disk location', 'action'] as const;
  const rows = reports.flatMap((r) =>
    r.differences.map((d) => ({
      backend: r.backend,
      kind: d.kind,
      id: d.id,
      'db location': d.dbLocation || '-',
      'disk location': d.diskLocation || '-',
      action: d.action,
    })),
  );
  const lines: string[] = [];
  if (rows.length) {
    const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
    const line = (vals: readonly string[]) =>
      vals
        .map((v, i) => v.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    lines.push(line(cols), ...rows.map((r) => line(cols.map((c) => r[c]))), '');
  }
  for (const r of reports) {
    const left = r.differences.filter((d) => !d.repaired).length;
    lines.push(
      r.error
        ? `${r.backend}: not checked — ${r.error}`
        : r.differences.length === 0
          ? `${r.backend}: consistent`
          : `${r.backend}: ${r.differences.length} difference(s), ${r.differences.length - left} repaired, ${left} left`,
    );
  }
  return lines.join('\n');
}
