/**
 * `cairn-manage reconcile [--repair]` (services/reconcileRun.ts) on a file
 * backend, through the same tasks the command sends (the all-in-one's
 * worker answers them): each kind of difference is reported, the repair
 * fixes it without deleting anything, and a second run finds none.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as volumesDb from '../../src/db/volumes';
import { formatReconcile, reconcileExitCode, type BackendReport } from '../../src/services/reconcile/reconcile';
import { reconcile } from '../../src/services/reconcile/run';
import { type TestCairn } from '../helpers/cairn';
import { blankRoot, computeApi, v3, VOLUME_HEADERS, withComputeCairn } from '../helpers/compute';

let cairn: TestCairn;
let nova: ReturnType<typeof computeApi>;
withComputeCairn((c, n) => {
  cairn = c;
  nova = n;
});

const dir = () => path.join(cairn.dataDir, 'volumes', 'file');
const run = (repair: boolean) => reconcile({ db: cairn.db, config: cairn.config, notifier: cairn.relay! }, { repair, timeoutMs: 20_000 });
const rows = (reports: BackendReport[]) =>
  reports
    .flatMap((r) => r.differences.map((d) => ({ kind: d.kind, id: d.id, db: d.dbLocation, disk: d.diskLocation, action: d.action })))
    .sort((a, b) => `${a.kind}${a.disk}`.localeCompare(`${b.kind}${b.disk}`));

describe('reconcile', () => {
  it('a consistent backend: no differences, exit 0', async () => {
    const v = await nova.volume();
    const s = await nova.boot({ imageRef: '', block_device_mapping_v2: [blankRoot()] });
    await nova.attach(s.id, { volumeId: v.id });
    const reports = await run(false);
    expect(reports).toEqual([{ backend: 'file', differences: [] }]);
    expect(reconcileExitCode(reports)).toBe(0);
    expect(formatReconcile(reports)).toBe('file: consistent');
  });

  it('reports missing, moved, orphan and stale-folder differences (exit 1); --repair fixes them, deleting nothing; then consistent', async () => {
    const live = await nova.boot({ imageRef: '', block_device_mapping_v2: [blankRoot()] });
    const gone = await nova.boot({ imageRef: '', block_device_mapping_v2: [blankRoot()] });
    await nova.remove(gone.id);
    await nova.waitGone(gone.id);
    const lost = await nova.volume();
    const moved = await nova.volume();
    fs.rmSync(path.join(dir(), `volume-${lost.id}`));
    const movedTo = path.join(dir(), live.id, `volume-${moved.id}`);
    fs.renameSync(path.join(dir(), `volume-${moved.id}`), movedTo);
    const strayId = randomUUID();
    const stray = path.join(dir(), `volume-${strayId}`);
    fs.writeFileSync(stray, "nobody's");
    fs.writeFileSync(path.join(dir(), 'notes.txt'), 'left by hand');
    const unknownFolder = path.join(dir(), randomUUID());
    fs.mkdirSync(unknownFolder);
    fs.mkdirSync(path.join(dir(), gone.id));

    const report = await run(false);
    expect(rows(report)).toEqual(
      [
        { kind: 'missing', id: lost.id, db: path.join(dir(), `volume-${lost.id}`), disk: '', action: 'set error' },
        { kind: 'moved', id: moved.id, db: path.join(dir(), `volume-${moved.id}`), disk: movedTo, action: 'update location' },
        { kind: 'orphan', id: '', disk: path.join(dir(), 'notes.txt'), db: '', action: 'quarantine' },
        { kind: 'orphan', id: strayId, disk: stray, db: '', action: 'quarantine' },
        { kind: 'stale_server_folder', id: path.basename(unknownFolder), disk: unknownFolder, db: '', action: 'remove (unknown server)' },
        { kind: 'stale_server_folder', id: gone.id, disk: path.join(dir(), gone.id), db: '', action: 'remove (deleted server)' },
      ].sort((a, b) => `${a.kind}${a.disk}`.localeCompare(`${b.kind}${b.disk}`)),
    );
    expect(reconcileExitCode(report)).toBe(1);
    const table = formatReconcile(report);
    expect(table.split('\n')[0]).toMatch(/^backend\s+kind\s+id\s+db location\s+disk location\s+action$/);
    expect(table).toContain('file: 6 difference(s), 0 repaired, 6 left');
    // A report changes nothing.
    expect(fs.existsSync(stray)).toBe(true);
    expect((await nova.cinderVolume(lost.id)).status).toBe('available');

    const repaired = await run(true);
    expect(reconcileExitCode(repaired)).toBe(0);
    expect(repaired[0]!.differences.every((d) => d.repaired)).toBe(true);
    expect(formatReconcile(repaired)).toContain('file: 6 difference(s), 6 repaired, 0 left');

    const lostNow = await nova.cinderVolume(lost.id);
    expect(lostNow.status).toBe('error');
    const messages = (
      await nova
        .api()
        .get(v3(`/messages?resource_uuid=${lost.id}`))
        .set(VOLUME_HEADERS)
    ).body.messages;
    expect(messages.map((m: any) => m.user_message)).toEqual([
      "check volume data:The volume's data is missing from its storage backend; the volume cannot be used.",
    ]);
    expect((await volumesDb.find(cairn.db, moved.id, { projectId: undefined }))!.provider_location).toBe(movedTo);
    const orphans = path.join(dir(), '.orphans');
    expect(fs.readdirSync(orphans).sort()).toEqual(['notes.txt', `volume-${strayId}`].sort());
    expect(fs.readFileSync(path.join(orphans, `volume-${strayId}`), 'utf8')).toBe("nobody's");
    expect(fs.existsSync(unknownFolder)).toBe(false);
    expect(fs.existsSync(path.join(dir(), gone.id))).toBe(false);
    expect(fs.existsSync(path.join(dir(), live.id))).toBe(true);

    // The recorded location is used from now on: the moved volume deletes cleanly.
    expect(
      (
        await nova
          .api()
          .delete(v3(`/volumes/${moved.id}`))
          .set(VOLUME_HEADERS)
      ).status,
    ).toBe(202);
    await nova.waitVolumeGone(moved.id);
    expect(fs.existsSync(movedTo)).toBe(false);

    const again = await run(false);
    expect(again).toEqual([{ backend: 'file', differences: [] }]);
    expect(reconcileExitCode(again)).toBe(0);
  });

  it('a folder of a deleted server that still holds data is not removed: reported, skipped, exit 1', async () => {
    const s = await nova.boot({ imageRef: '', block_device_mapping_v2: [blankRoot()] });
    await nova.remove(s.id);
    await nova.waitGone(s.id);
    const v = await nova.volume();
    // Moved under the deleted server's folder (a move whose outcome was never recorded).
    fs.mkdirSync(path.join(dir(), s.id));
    fs.renameSync(path.join(dir(), `volume-${v.id}`), path.join(dir(), s.id, `volume-${v.id}`));
    const repaired = await run(true);
    expect(rows(repaired)).toEqual([
      {
        kind: 'moved',
        id: v.id,
        db: path.join(dir(), `volume-${v.id}`),
        disk: path.join(dir(), s.id, `volume-${v.id}`),
        action: `location set to ${path.join(dir(), s.id, `volume-${v.id}`)}`,
      },
      { kind: 'stale_server_folder', id: s.id, db: '', disk: path.join(dir(), s.id), action: 'skipped: not empty' },
    ]);
    expect(reconcileExitCode(repaired)).toBe(1);
    expect(fs.existsSync(path.join(dir(), s.id, `volume-${v.id}`))).toBe(true);
  });

  it('an unknown backend, one no worker answers for, or an ExtStorage one is reported as not checked (exit 1)', async () => {
    const reports = await reconcile(
      { db: cairn.db, config: cairn.config, notifier: cairn.relay! },
      { repair: false, timeoutMs: 5_000, backends: ['nope'] },
    );
    expect(reports).toEqual([{ backend: 'nope', differences: [], error: 'no such backend is configured' }]);
    expect(reconcileExitCode(reports)).toBe(1);
    expect(formatReconcile(reports)).toBe('nope: not checked — no such backend is configured');

    const config = {
      ...cairn.config,
      backends: [...cairn.config.backends, { name: 'ghost', driver: 'file' as const, fileStorageDir: path.join(cairn.dataDir, 'ghost') }],
    };
    const silent = await reconcile(
      { db: cairn.db, config, notifier: cairn.relay! },
      { repair: false, timeoutMs: 1_000, backends: ['ghost'] },
    );
    expect(silent).toEqual([
      { backend: 'ghost', differences: [], error: expect.stringContaining('no worker of backend ghost answered in 1 s') },
    ]);
    expect(reconcileExitCode(silent)).toBe(1);

    // ExtStorage data lives in the providers' storage: left out unless named, and then refused.
    const ext = {
      ...cairn.config,
      backends: [...cairn.config.backends, { name: 'es', driver: 'extstorage' as const, fileStorageDir: path.join(cairn.dataDir, 'es') }],
    };
    const deps = { db: cairn.db, config: ext, notifier: cairn.relay! };
    expect((await reconcile(deps, { repair: false, timeoutMs: 5_000 })).map((r) => r.backend)).toEqual(['file']);
    expect(await reconcile(deps, { repair: false, timeoutMs: 5_000, backends: ['es'] })).toEqual([
      { backend: 'es', differences: [], error: 'reconcile covers file backends; es is extstorage' },
    ]);
  });
});
