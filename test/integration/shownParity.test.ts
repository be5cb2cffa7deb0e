/**
 * A volume show and a detail page read the same on both drivers: PGlite hands the page
 * over as one json value, PostgreSQL as rows (src/db/volumes.ts, `paysPerField`), so
 * the two paths are compared here on the same rows, timestamps, metadata and attachments.
 */
import { randomUUID } from 'node:crypto';
import { migrateLatest, openDb, openPglite, type Db } from '../../src/db/connection';
import { findShown, listShown, type ListedVolume } from '../../src/db/volumes';
import { isoCinder } from '../../src/domain/time';
import { DEFAULT_TYPE_ID } from '../../src/domain/volumeType';
import { PROJECT, Suite, USER } from './support';

let suite: Suite;
let pg: Db;
let lite: Db;
const volumeIds: string[] = [];
const attachmentIds = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
const SERVER = randomUUID();

const STATUSES = ['attached', 'attaching'];

async function fill(db: Db): Promise<void> {
  const base = Date.parse('2026-12-01T10:00:00.123456Z');
  for (let i = 0; i < 7; i++) {
    await db('volumes').insert({
      id: volumeIds[i],
      project_id: i === 6 ? 'another-project' : PROJECT,
      user_id: USER,
      display_name: i === 2 ? null : `v-${i} «ünïcode»`,
      display_description: i % 2 ? 'described' : null,
      size: i + 1,
      status: 'available',
      attach_status: 'detached',
      availability_zone: 'nova',
      volume_type_id: DEFAULT_TYPE_ID,
      bootable: i === 3,
      multiattach: i === 4,
      host: 'h@file#file',
      backend: 'file',
      metadata: i === 1 ? { a: '1', 'key with space': 'x' } : {},
      admin_metadata: i === 4 ? { readonly: 'True' } : {},
      image_metadata: i === 3 ? { image_id: 'img', min_disk: '1' } : null,
      created_at: new Date(base + i * 1000).toISOString(),
      updated_at: i === 0 ? null : new Date(base + i * 1000 + 500).toISOString(),
      launched_at: new Date(base + i * 1000 + 30).toISOString(),
    });
  }
  // Attachments: two on one volume (oldest first), one in a status not shown, one detached.
  const attach = (n: number, volume: number, status: string, second: number) =>
    db('volume_attachments').insert({
      id: attachmentIds[n],
      volume_id: volumeIds[volume],
      project_id: PROJECT,
      user_id: USER,
      instance_uuid: SERVER,
      attached_host: 'compute-1',
      mountpoint: '/dev/vdb',
      attach_mode: 'rw',
      attach_status: status,
      connector: { host: 'compute-1', multipath: false },
      connection_info: { driver_volume_type: 'file', data: { path: '/x' } },
      attach_time: status === 'attached' ? new Date(base + second * 1000).toISOString() : null,
      created_at: new Date(base + second * 1000).toISOString(),
      updated_at: null,
    });
  await attach(0, 4, 'attached', 20);
  await attach(1, 4, 'attaching', 10);
  await attach(2, 5, 'detached', 30);
  await attach(3, 1, 'reserved', 40);
}

beforeAll(async () => {
  for (let i = 0; i < 7; i++) volumeIds.push(randomUUID());
  suite = await Suite.create();
  pg = openDb({ databaseUrl: suite.databaseUrl, dataDir: suite.dataDir });
  lite = openPglite();
  for (const db of [pg, lite]) {
    await migrateLatest(db);
    await fill(db);
  }
}, 60_000);

afterAll(async () => {
  await pg?.destroy();
  await lite?.destroy();
  await suite?.cleanup();
}, 60_000);

const page = (projectId: string | undefined, limit: number, markerId?: string) => ({
  scope: { projectId },
  filters: {},
  sort: [{ expr: 'volumes.created_at', dir: 'desc' as const }],
  limit,
  markerId,
});

/**
 * A page's timestamps stay each driver's text (a row's `… 10:00:04.123456+00`, json's `…T10:00:04.123456+00:00`):
 * compared as the view writes them.
 */
const asWritten = (volumes: ListedVolume[]) =>
  volumes.map((v) => ({
    ...v,
    created_at: isoCinder(v.created_at),
    updated_at: isoCinder(v.updated_at),
    launched_at: isoCinder(v.launched_at),
    attachments: v.attachments!.map((a) => ({
      ...a,
      attach_time: isoCinder(a.attach_time),
      detach_time: isoCinder(a.detach_time),
      created_at: isoCinder(a.created_at),
      updated_at: isoCinder(a.updated_at),
    })),
  }));

test('a detail page: the same volumes, fields and attachments from PostgreSQL rows as from the PGlite json', async () => {
  const fromPg = await listShown(pg, page(PROJECT, 10), STATUSES);
  const fromLite = await listShown(lite, page(PROJECT, 10), STATUSES);
  expect(fromPg).toHaveLength(6);
  expect(asWritten(fromPg)).toEqual(asWritten(fromLite));
  const multi = asWritten(fromPg).find((v) => v.id === volumeIds[4])!;
  expect(multi.attachments.map((a) => a.attach_status)).toEqual(['attaching', 'attached']);
  expect(multi.created_at).toBe('2026-12-01T10:00:04.123000');
  expect(multi.attachments[1]!.attach_time).toMatch(/^2026-12-01T\d\d:\d\d:\d\d\.\d{3}000$/);
  // Every timestamp as the show (Dates) writes it.
  for (const v of fromPg) {
    const shown = (await findShown(pg, v.id, { projectId: PROJECT }, STATUSES))!;
    expect(isoCinder(v.created_at)).toBe(isoCinder(shown.created_at));
    expect(isoCinder(v.updated_at)).toBe(isoCinder(shown.updated_at));
  }
});

test('the next page by marker, and every project (no scope), agree too', async () => {
  expect(asWritten(await listShown(pg, page(PROJECT, 2, volumeIds[3]), STATUSES))).toEqual(
    asWritten(await listShown(lite, page(PROJECT, 2, volumeIds[3]), STATUSES)),
  );
  const all = await listShown(pg, page(undefined, 10), STATUSES);
  expect(all).toHaveLength(7);
  expect(asWritten(all)).toEqual(asWritten(await listShown(lite, page(undefined, 10), STATUSES)));
});

test('a show agrees, and another project’s volume is not found on either', async () => {
  for (const id of volumeIds.slice(0, 6)) {
    expect(await findShown(pg, id, { projectId: PROJECT }, STATUSES)).toEqual(await findShown(lite, id, { projectId: PROJECT }, STATUSES));
  }
  expect(await findShown(pg, volumeIds[6]!, { projectId: PROJECT }, STATUSES)).toBeUndefined();
  expect(await findShown(lite, volumeIds[6]!, { projectId: PROJECT }, STATUSES)).toBeUndefined();
});
