import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { FIXED_ENV } from '../../src/workers/drivers/extstorageEnv';
import { EXAMPLES, documentedVariables, holds, readCalls, writePattern } from '../helpers/extstorage';
import { PROJECT, TOKEN, startTestCairn, waitFor, type TestCairn } from '../helpers/cairn';

const MV = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };
const v3 = (p: string) => `/v3/${PROJECT}${p}`;
const MiB = 1024 ** 2;
const CANARY = 'cairn-env-canary-4b1d';

/**
 * `filevol-traced`: the filevol example unchanged, each script behind a
 * wrapper that first records its call and its exact environment (as the
 * recorder does) — the file-backed provider, observed.
 */
function tracedFilevol(providers: string, log: string): void {
  const dir = path.join(providers, 'filevol-traced');
  fs.cpSync(path.join(EXAMPLES, 'filevol'), dir, { recursive: true });
  for (const s of ['create', 'attach', 'detach', 'remove', 'grow', 'setinfo', 'verify', 'snapshot']) {
    fs.renameSync(path.join(dir, s), path.join(dir, `${s}.real`));
    fs.writeFileSync(
      path.join(dir, s),
      [
        '#!/bin/sh',
        `entry=$(printf '=== %s' "\${0##*/}"; [ $# -eq 0 ] || printf ' %s' "$@"; printf '\\ncwd %s\\n' "$(pwd)"; tr '\\000' '\\n' < /proc/$$/environ; printf '=== end')`,
        `printf '%s\\n' "$entry" >> '${log}'`,
        `exec ./${s}.real "$@"`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
  }
}

describe('ExtStorage backend through the API', () => {
  let cairn: TestCairn;
  let tmp: string;
  const api = () => request(cairn.url);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-esapi-'));
    const providers = path.join(tmp, 'providers');
    tracedFilevol(providers, path.join(tmp, 'filevol.log'));
    fs.cpSync(path.join(EXAMPLES, 'recorder'), path.join(providers, 'broken'), { recursive: true });
    fs.rmSync(path.join(providers, 'broken', 'grow'));
    // In cairn's own environment, so a leak into a script would show.
    process.env.CAIRN_CANARY = CANARY;
    cairn = await startTestCairn({
      CAIRN_BACKENDS: 'ext',
      CAIRN_BACKEND_EXT_DRIVER: 'extstorage',
      CAIRN_EXTSTORAGE_PATH: `${EXAMPLES}:${providers}`,
      CAIRN_TASK_MAX_ATTEMPTS: '3',
    });
    const types: Record<string, Record<string, string>> = {
      rec: { 'extstorage:provider': 'recorder', 'extstorage:log': path.join(tmp, 'recorder.log') },
      fv: { 'extstorage:provider': 'filevol-traced', 'extstorage:dir': path.join(tmp, 'vols') },
      failing: { 'extstorage:provider': 'recorder', 'extstorage:log': path.join(tmp, 'failing.log'), 'extstorage:fail': 'create' },
      flaky: {
        'extstorage:provider': 'recorder',
        'extstorage:log': path.join(tmp, 'flaky.log'),
        'extstorage:fail': 'create',
        'extstorage:fail_code': '75',
      },
      fv2: { 'extstorage:provider': 'filevol-traced', 'extstorage:dir': path.join(tmp, 'vols2') },
      noprovider: {},
    };
    for (const [name, specs] of Object.entries(types)) {
      const res = await api()
        .post(v3('/types'))
        .set(MV)
        .send({ volume_type: { name, extra_specs: { volume_backend_name: 'ext', ...specs } } });
      expect(res.status).toBe(200);
      typeIds[name] = res.body.volume_type.id;
    }
    // Types whose specs were valid when written and are not now (the API refuses them as they are written):
    // the create must still refuse them. Written past the API, as an older cairn or a vanished provider leaves them.
    const stale: Record<string, Record<string, string>> = {
      nosuch: { 'extstorage:provider': 'nosuch' },
      badparam: { 'extstorage:provider': 'filevol', 'extstorage:colour': 'blue' },
      broken: { 'extstorage:provider': 'broken' },
    };
    for (const [name, specs] of Object.entries(stale)) {
      const id = (
        await api()
          .post(v3('/types'))
          .set(MV)
          .send({ volume_type: { name, extra_specs: { volume_backend_name: 'ext' } } })
      ).body.volume_type.id;
      await cairn.db('volume_type_extra_specs').insert(Object.entries(specs).map(([key, value]) => ({ volume_type_id: id, key, value })));
    }
  });
  const typeIds: Record<string, string> = {};
  afterAll(async () => {
    delete process.env.CAIRN_CANARY;
    await cairn.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const create = (type: string, name = 'web-data') =>
    api()
      .post(v3('/volumes'))
      .set(MV)
      .send({ volume: { size: 1, name, volume_type: type } });
  const status = async (id: string) =>
    (
      await api()
        .get(v3(`/volumes/${id}`))
        .set(MV)
    ).body.volume?.status as string | undefined;
  const until = (id: string, want: string) => waitFor(async () => (await status(id)) === want, 15_000, `volume ${id} ${want}`);
  const attach = async (volumeId: string, server: string) => {
    const res = await api()
      .post(v3('/attachments'))
      .set(MV)
      .send({
        attachment: {
          volume_uuid: volumeId,
          instance_uuid: server,
          connector: { host: 'compute-1', initiator: 'iqn.2026-11.test:c1', multipath: false },
        },
      });
    expect(res.status).toBe(200);
    expect(
      (
        await api()
          .post(v3(`/attachments/${res.body.attachment.id}/action`))
          .set(MV)
          .send({ 'os-complete': {} })
      ).status,
    ).toBe(204);
    return res.body.attachment;
  };
  /** os-extend of the attached volume (3.42), through the API and the worker like any other operation. */
  const grow = async (id: string, newSize: number) => {
    const res = await api()
      .post(v3(`/volumes/${id}/action`))
      .set({ ...MV, 'OpenStack-API-Version': 'volume 3.42' })
      .send({ 'os-extend': { new_size: newSize } });
    expect(res.status).toBe(202);
    await waitFor(
      async () => {
        const v = (
          await api()
            .get(v3(`/volumes/${id}`))
            .set(MV)
        ).body.volume;
        return v.status === 'in-use' && v.size === newSize;
      },
      15_000,
      `volume ${id} extended to ${newSize}`,
    );
  };

  it.each([
    [
      'rec',
      'recorder.log',
      ['log'],
      ['verify', 'create', 'attach', 'setinfo', 'open', 'grow', 'close', 'detach', 'attach', 'detach', 'remove'],
    ],
    ['fv', 'filevol.log', ['dir'], ['verify', 'create', 'attach', 'setinfo', 'grow', 'detach', 'attach', 'detach', 'remove']],
  ])(
    'create → attach → grow → detach → remove on type %s: each script saw exactly the documented variables',
    async (type, logName, params, sequence) => {
      const res = await create(type);
      expect(res.status).toBe(202);
      const id: string = res.body.volume.id;
      await until(id, 'available');
      const volName = `cairn-vol-${id}`;
      const file = path.join(tmp, 'vols', volName);
      if (type === 'fv') expect(fs.statSync(file).size).toBe(1024 * MiB);

      const server = randomUUID();
      const att = await attach(id, server);
      expect(att.connection_info).toMatchObject({
        driver_volume_type: 'local',
        device_path: type === 'fv' ? file : `/dev/recorder/${volName}`,
      });
      await grow(id, 2);
      if (type === 'fv') expect(fs.statSync(file).size).toBe(2048 * MiB);
      expect(
        (
          await api()
            .delete(v3(`/attachments/${att.id}`))
            .set(MV)
        ).status,
      ).toBe(200);
      await until(id, 'available');
      expect(
        (
          await api()
            .delete(v3(`/volumes/${id}`))
            .set(MV)
        ).status,
      ).toBe(202);
      await waitFor(
        async () =>
          (
            await api()
              .get(v3(`/volumes/${id}`))
              .set(MV)
          ).status === 404,
        15_000,
        'volume gone',
      );
      if (type === 'fv') expect(fs.existsSync(file)).toBe(false);

      const calls = readCalls(path.join(tmp, logName)).filter((c) => c.env.VOL_UUID === id);
      expect(calls.map((c) => c.action)).toEqual(sequence);
      for (const c of calls) {
        expect([c.action, Object.keys(c.env).sort()]).toEqual([c.action, documentedVariables(c.action, params, true)]);
        expect(Object.values(c.env)).not.toContain(CANARY);
        expect(c.env).toMatchObject({ VOL_NAME: volName, VOL_UUID: id, VOL_CNAME: 'web-data', PATH: FIXED_ENV.PATH });
      }
      const env = (a: string) => calls.find((c) => c.action === a)!.env;
      expect(env('create').VOL_SIZE).toBe('1024');
      expect(env('grow')).toMatchObject({ VOL_SIZE: '1024', VOL_NEW_SIZE: '2048' });
      expect(env('setinfo').VOL_METADATA).toBe(`originstname+${server}`);
    },
  );

  it('one server can use volumes of two providers; the provider and parameters travel in each task payload', async () => {
    const ids: string[] = [];
    for (const type of ['rec', 'fv']) {
      const id: string = (await create(type, `two-${type}`)).body.volume.id;
      await until(id, 'available');
      ids.push(id);
    }
    const server = randomUUID();
    const [onRec, onFv] = [await attach(ids[0]!, server), await attach(ids[1]!, server)];
    expect(onRec.connection_info.device_path).toBe(`/dev/recorder/cairn-vol-${ids[0]}`);
    expect(onFv.connection_info.device_path).toBe(path.join(tmp, 'vols', `cairn-vol-${ids[1]}`));
    const payloads = await cairn.db('tasks').whereIn('resource_id', ids).where({ kind: 'volume.create' }).select('resource_id', 'payload');
    const byId = Object.fromEntries(payloads.map((t) => [t.resource_id, t.payload]));
    expect(byId[ids[0]!]).toMatchObject({
      driver_params: { provider: 'recorder', log: path.join(tmp, 'recorder.log') },
      display_name: 'two-rec',
      volume_size: 1,
    });
    expect(byId[ids[1]!]).toMatchObject({
      driver_params: { provider: 'filevol-traced', dir: path.join(tmp, 'vols') },
      display_name: 'two-fv',
    });
  });

  it("a failing create ends in error; the script's stderr goes into the task row, the user message is a fixed text", async () => {
    const res = await create('failing');
    expect(res.status).toBe(202);
    const id: string = res.body.volume.id;
    await until(id, 'error');
    const [msg] = await cairn.db('messages').where({ resource_uuid: id });
    expect(msg.user_message).toBe('create volume from backend storage:The storage backend failed to complete the operation.');
    expect(msg.event_id).toBe('VOLUME_VOLUME_008_101');
    expect(await cairn.db('tasks').where({ resource_id: id, kind: 'volume.create' }).first()).toMatchObject({
      state: 'failed',
      attempts: 1,
      last_error:
        'ExtStorage provider recorder: create script failed (exit code 1): ' +
        `recorder: create of cairn-vol-${id} failed as asked (fail=create)`,
    });
    // A volume in error can be deleted: remove probes with attach first, as Ganeti's Remove does.
    expect(
      (
        await api()
          .delete(v3(`/volumes/${id}`))
          .set(MV)
      ).status,
    ).toBe(202);
    await waitFor(
      async () =>
        (
          await api()
            .get(v3(`/volumes/${id}`))
            .set(MV)
        ).status === 404,
      15_000,
      'volume gone',
    );
  });

  it('a script asking for a retry (exit 75) is retried, then ends in error after the last attempt', async () => {
    const id: string = (await create('flaky')).body.volume.id;
    await until(id, 'error');
    expect(await cairn.db('tasks').where({ resource_id: id, kind: 'volume.create' }).first()).toMatchObject({
      state: 'failed',
      attempts: 3,
    });
    expect(readCalls(path.join(tmp, 'flaky.log')).filter((c) => c.action === 'create')).toHaveLength(3);
  });

  it.each([
    ['nosuch', /^Unknown ExtStorage provider nosuch: no running worker of backend ext has it\.$/],
    [
      'badparam',
      /ExtStorage provider filevol has no parameter colour \(extstorage:colour\); its parameters\.list on testhost@ext declares: dir\./,
    ],
    ['broken', /ExtStorage provider broken is not valid on any worker of backend ext \(testhost@ext: grow is missing/],
    ['noprovider', /the type's extra specs must name one \(extstorage:provider=NAME\)/],
  ])('a create of type %s is refused with 400 and no volume', async (type, message) => {
    const before = (await cairn.db('volumes').count({ n: '*' }))[0]!.n;
    const res = await create(type);
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toMatch(message);
    expect((await cairn.db('volumes').count({ n: '*' }))[0]!.n).toBe(before);
  });

  it.each([
    [
      'an unknown provider',
      { 'extstorage:provider': 'nosuch' },
      /^Unknown ExtStorage provider nosuch: no running worker of backend ext has it\.$/,
    ],
    [
      'a parameter the provider does not list',
      { 'extstorage:provider': 'filevol', 'extstorage:colour': 'blue' },
      /^Invalid input received: ExtStorage provider filevol has no parameter colour \(extstorage:colour\); its parameters\.list on testhost@ext declares: dir\.$/,
    ],
    [
      'a provider invalid on every worker',
      { 'extstorage:provider': 'broken' },
      /^ExtStorage provider broken is not valid on any worker of backend ext \(testhost@ext: grow is missing/,
    ],
    [
      'parameters without a provider',
      { 'extstorage:dir': '/srv' },
      /^Invalid input received: ExtStorage parameters \(extstorage:dir\) belong to a provider; set extstorage:provider=NAME in the same request or before them\.$/,
    ],
  ])('extra specs naming %s are refused with 400 when a type is created or its specs are set', async (_what, specs, message) => {
    const name = `bad-${randomUUID().slice(0, 8)}`;
    const created = await api()
      .post(v3('/types'))
      .set(MV)
      .send({ volume_type: { name, extra_specs: { volume_backend_name: 'ext', ...specs } } });
    expect(created.status).toBe(400);
    expect(created.body.badRequest.message).toMatch(message);
    expect(await cairn.db('volume_types').where({ name }).first()).toBeUndefined();

    const id: string = (
      await api()
        .post(v3('/types'))
        .set(MV)
        .send({ volume_type: { name, extra_specs: { volume_backend_name: 'ext' } } })
    ).body.volume_type.id;
    const set = await api()
      .post(v3(`/types/${id}/extra_specs`))
      .set(MV)
      .send({ extra_specs: specs });
    expect(set.status).toBe(400);
    expect(set.body.badRequest.message).toMatch(message);
    // One key at a time (PUT …/extra_specs/<key>): a parameter alone has no provider, or the wrong one.
    const [key, value] = Object.entries(specs).at(-1)!;
    const one = await api()
      .put(v3(`/types/${id}/extra_specs/${encodeURIComponent(key)}`))
      .set(MV)
      .send({ [key]: value });
    expect(one.status).toBe(400);
    expect(
      (
        await api()
          .get(v3(`/types/${id}/extra_specs`))
          .set(MV)
      ).body.extra_specs,
    ).toEqual({ volume_backend_name: 'ext' });
  });

  it('valid extstorage specs can be set in steps: the provider first, then its parameters; a later change of provider is checked too', async () => {
    const id: string = (
      await api()
        .post(v3('/types'))
        .set(MV)
        .send({ volume_type: { name: 'steps', extra_specs: { volume_backend_name: 'ext' } } })
    ).body.volume_type.id;
    const put = (specs: Record<string, string>) =>
      api()
        .post(v3(`/types/${id}/extra_specs`))
        .set(MV)
        .send({ extra_specs: specs });
    expect((await put({ 'extstorage:provider': 'filevol' })).status).toBe(200);
    expect((await put({ 'extstorage:dir': path.join(tmp, 'steps') })).status).toBe(200);
    // The recorder has no `dir`: switching the provider under the type's parameters is refused.
    const res = await put({ 'extstorage:provider': 'recorder' });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toMatch(/ExtStorage provider recorder has no parameter dir/);
    expect((await put({ multiattach: '<is> False' })).status).toBe(200); // other keys are not checked
  });

  it('snapshot → volume from it → clones → revert → snapshot delete → delete, the bytes checked in the filevol files', async () => {
    const c = { ...MV, 'OpenStack-API-Version': 'volume 3.70' };
    const file = (id: string, dir = 'vols') => path.join(tmp, dir, `cairn-vol-${id}`);
    const snapFile = (id: string) => path.join(tmp, 'vols', `cairn-snap-${id}`);
    const volumeCreate = async (body: Record<string, unknown>) => {
      const res = await api()
        .post(v3('/volumes'))
        .set(c)
        .send({ volume: { size: 1, volume_type: 'fv', ...body } });
      expect(res.status).toBe(202);
      // Copies of whole GiB volumes: generous on a loaded machine.
      await waitFor(async () => (await status(res.body.volume.id)) === 'available', 60_000, 'volume available');
      return res.body.volume.id as string;
    };
    const snapStatus = async (id: string) =>
      (
        await api()
          .get(v3(`/snapshots/${id}`))
          .set(c)
      ).body.snapshot?.status as string | undefined;

    const a = await volumeCreate({ name: 'origin' });
    writePattern(file(a), 1024 * MiB, 'first');
    const snap = await api()
      .post(v3('/snapshots'))
      .set(c)
      .send({ snapshot: { volume_id: a, name: 's1' } });
    expect(snap.status).toBe(202);
    const s: string = snap.body.snapshot.id;
    await waitFor(async () => (await snapStatus(s)) === 'available', 30_000, 'snapshot available');
    expect(holds(snapFile(s), file(a))).toBe(true);

    const fromSnap = await volumeCreate({ snapshot_id: s, size: 2 });
    expect(fs.statSync(file(fromSnap)).size).toBe(2048 * MiB);
    expect(holds(file(fromSnap), snapFile(s))).toBe(true);
    const clone = await volumeCreate({ source_volid: a });
    expect(holds(file(clone), file(a))).toBe(true);
    // A clone of another type on the same backend: the source is read with its own type's parameters (dir=vols).
    const elsewhere = await volumeCreate({ source_volid: a, volume_type: 'fv2' });
    expect(holds(file(elsewhere, 'vols2'), file(a))).toBe(true);
    expect(fs.readdirSync(path.join(tmp, 'vols')).filter((f) => f.includes('clone'))).toEqual([]);

    writePattern(file(a), 1024 * MiB, 'second');
    expect(holds(file(a), snapFile(s))).toBe(false);
    const revert = await api()
      .post(v3(`/volumes/${a}/action`))
      .set(c)
      .send({ revert: { snapshot_id: s } });
    expect(revert.status).toBe(202);
    await waitFor(async () => (await status(a)) === 'available', 60_000, 'revert done');
    expect(holds(file(a), snapFile(s))).toBe(true);

    expect(
      (
        await api()
          .delete(v3(`/snapshots/${s}`))
          .set(c)
      ).status,
    ).toBe(202);
    await waitFor(
      async () =>
        (
          await api()
            .get(v3(`/snapshots/${s}`))
            .set(c)
        ).status === 404,
      15_000,
      'snapshot gone',
    );
    expect(fs.existsSync(snapFile(s))).toBe(false);
    expect(fs.existsSync(file(a))).toBe(true);

    for (const id of [a, fromSnap, clone, elsewhere])
      expect(
        (
          await api()
            .delete(v3(`/volumes/${id}`))
            .set(c)
        ).status,
      ).toBe(202);
    for (const id of [a, fromSnap, clone, elsewhere]) {
      await waitFor(
        async () =>
          (
            await api()
              .get(v3(`/volumes/${id}`))
              .set(c)
          ).status === 404,
        15_000,
        `volume ${id} gone`,
      );
    }
    expect([file(a), file(fromSnap), file(clone), file(elsewhere, 'vols2')].filter((f) => fs.existsSync(f))).toEqual([]);

    // The snapshot's delete: Ganeti's Remove of the volume cairn-snap-<id>, with its volume's parameters.
    const calls = readCalls(path.join(tmp, 'filevol.log')).filter((x) => x.env.VOL_UUID === s);
    // Read (attach, detach) for the volume made from it and for the revert; then removed.
    expect(calls.map((x) => x.action)).toEqual(['attach', 'detach', 'attach', 'detach', 'attach', 'detach', 'remove']);
    for (const x of calls) {
      expect(Object.keys(x.env).sort()).toEqual(documentedVariables(x.action, ['dir'], false));
      expect(x.env).toMatchObject({ VOL_NAME: `cairn-snap-${s}`, EXTP_DIR: path.join(tmp, 'vols') });
    }
  }, 240_000);

  it("the worker's heartbeat reports its providers with validity, checksum and parameters", async () => {
    const [svc] = await cairn.db('services').where({ binary: 'cinder-volume', host: 'testhost@ext' });
    const byName = Object.fromEntries((svc.report.providers as Array<{ name: string }>).map((p) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual(['broken', 'filevol', 'filevol-traced', 'recorder']);
    expect(byName.filevol).toMatchObject({ valid: true, checksum: expect.stringMatching(/^[0-9a-f]{64}$/), parameters: [{ name: 'dir' }] });
    expect(byName.broken).toMatchObject({ valid: false, reason: 'grow is missing (ENOENT)' });
  });
});
