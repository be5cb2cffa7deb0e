import type { Conn } from './connection';
import { whereHost } from './hosts';

export interface DbServiceRow {
  id: string;
  binary: string;
  host: string;
  zone: string;
  disabled: boolean;
  disabled_reason: string | null;
  report: Record<string, unknown>;
  created_at: Date;
  heartbeat_at: Date;
}

/** Records a heartbeat, registering the service on its first beat. */
export async function heartbeat(conn: Conn, s: Pick<DbServiceRow, 'id' | 'binary' | 'host' | 'zone' | 'report'>): Promise<void> {
  const now = new Date();
  await conn('services')
    .insert({ ...s, report: JSON.stringify(s.report), created_at: now, heartbeat_at: now })
    .onConflict(['binary', 'host'])
    .merge({ heartbeat_at: now, report: JSON.stringify(s.report), zone: s.zone });
}

export async function list(conn: Conn, filter: { binary?: string; host?: string } = {}): Promise<DbServiceRow[]> {
  const q = conn<DbServiceRow>('services').orderBy(['binary', 'host']);
  if (filter.binary) q.where('binary', filter.binary);
  if (filter.host) whereHost(q, 'host', filter.host); // Cinder's: `host` also matches `host@backend`
  return q;
}
