/**
 * The attachments API (3.27+, os-complete 3.44+, mode 3.54+) driven by the real
 * Debian clients against the built all-in-one: `cinder attachment-*`
 * (python3-cinderclient 9.1, 3.70) and `openstack volume attachment *`
 * (python3-openstackclient 6.0, 3.54). The file backend moves a volume's file
 * under `<server>/` while it is attached to that one server (not when
 * multi-attached) and back to the top level on detach; the tests look on disk.
 * The tests of a describe block build on each other, in order.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { CliError, parseProperties, parseTable, parseTables, poll, PollAbort, startCairn, type CompatCairn } from './cli';

let cairn: CompatCairn;
let nova: http.Server;
let novaUrl: string;
beforeAll(async () => {
  cairn = await startCairn();
  [nova, novaUrl] = await novaStub(cairn.url);
}, 90_000);
afterAll(async () => {
  await new Promise((r) => (nova ? nova.close(r) : r(undefined)));
  await cairn?.stop();
}, 30_000);

/**
 * OSC's `volume attachment create` looks the server up in Nova (novaclient, on
 * the one endpoint a noauth cloud has). cairn is no Nova: this proxy answers
 * `GET …/servers/<uuid>` with that server and hands everything else to cairn.
 */
function novaStub(target: string): Promise<[http.Server, string]> {
  const t = new URL(target);
  const srv = http.createServer((req, res) => {
    const m = /^\/v3\/[0-9a-f-]+\/servers\/([0-9a-f-]{36})$/.exec(req.url ?? '');
    if (m && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ server: { id: m[1], name: `srv-${m[1]}` } }));
      return;
    }
    const up = http.request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (err) => res.writeHead(502).end(String(err)));
    req.pipe(up);
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => resolve([srv, `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`])),
  );
}

const cinder = (...args: string[]) => cairn.cinder(...args);
const fileDir = () => path.join(cairn.dataDir, 'volumes', 'file');
const top = (vol: string) => path.join(fileDir(), `volume-${vol}`);
const under = (server: string, vol: string) => path.join(fileDir(), server, `volume-${vol}`);
const props = (rows: Array<Record<string, string>>) => Object.fromEntries(rows.map((r) => [r.Property!, r.Value!]));

/** attachment-create/-update/-show print the attachment, then connection_info as a second table when it is not empty. */
function attachmentOut(text: string): { att: Record<string, string>; conn?: Record<string, string> } {
  const tables = parseTables(text).map(props);
  if (tables.length < 1 || tables.length > 2) throw new Error(`expected one or two tables in:\n${text}`);
  return { att: tables[0]!, conn: tables[1] };
}

async function cinderStatus(id: string, want: string): Promise<Record<string, string>> {
  return poll(`volume ${id} to be ${want}`, async () => {
    const vol = parseProperties(await cinder('show', id));
    if (vol.status === want) return vol;
    if (vol.status?.startsWith('error')) throw new PollAbort(`volume ${id} went to ${vol.status}, not ${want}`);
    return undefined;
  });
}

/** `cinder create ARGS… 1`, polled until available: `cinder show` of it. */
async function newVolume(...args: string[]): Promise<Record<string, string>> {
  return cinderStatus(parseProperties(await cinder('create', ...args, '1')).id!, 'available');
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the command to fail');
    },
    (e: unknown) => {
      if (!(e instanceof CliError)) throw e;
      return e.stdout + e.stderr;
    },
  );

describe('cinder attachment-* (python3-cinderclient 9.1, 3.70)', () => {
  const server = randomUUID();
  const server2 = randomUUID();
  let vol: string;
  let att: string;

  it('attachment-create without --connect reserves: attachment and volume reserved, no connection_info, file untouched', async () => {
    vol = (await newVolume()).id!;
    expect(fs.existsSync(top(vol))).toBe(true);
    const { att: a, conn } = attachmentOut(await cinder('attachment-create', vol, server));
    expect(a).toMatchObject({ status: 'reserved', instance: server, volume_id: vol, attach_mode: 'null', attached_at: '' });
    expect(conn).toBeUndefined();
    att = a.id!;
    expect(parseProperties(await cinder('show', vol)).status).toBe('reserved');
    expect(fs.existsSync(top(vol))).toBe(true);
  });

  it("a second attachment-create of a volume that is not multi-attach is refused with Cinder's message", async () => {
    expect(await failure(cinder('attachment-create', vol, server2))).toContain(
      `Invalid volume: Volume ${vol} status must be available or downloading to reserve, but the current status is reserved. (HTTP 400)`,
    );
  });

  it("attachment-update with a connector connects: device_path under the server's folder, where the file now is", async () => {
    const { att: a, conn } = attachmentOut(
      await cinder('attachment-update', att, '--initiator', 'iqn.2026-11.test:h1', '--host', 'h1', '--mountpoint', '/dev/vdb'),
    );
    expect(a.id).toBe(att);
    expect(conn).toMatchObject({ driver_volume_type: 'local', device_path: under(server, vol), access_mode: 'rw', attachment_id: att });
    expect(fs.existsSync(under(server, vol))).toBe(true);
    expect(fs.existsSync(top(vol))).toBe(false);
    const [v, shownOut] = await Promise.all([cinder('show', vol), cinder('attachment-show', att)]);
    expect(parseProperties(v).status).toBe('attaching');
    const shown = attachmentOut(shownOut);
    expect(shown.att).toMatchObject({ id: att, status: 'attaching', instance: server, volume_id: vol });
    expect(shown.conn).toEqual(conn);
  });

  it('attachment-complete makes the volume in-use; show lists the server and the attachment', async () => {
    await cinder('attachment-complete', att);
    const [v, shown] = await Promise.all([cinderStatus(vol, 'in-use'), cinder('attachment-show', att)]);
    expect(v.attached_servers).toBe(`['${server}']`);
    expect(v.attachment_ids).toBe(`['${att}']`);
    const { att: a } = attachmentOut(shown);
    expect(a.status).toBe('attached');
    expect(a.attached_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  });

  it('attachment-list shows it; --volume-id filters by volume', async () => {
    const row = { ID: att, 'Volume ID': vol, Status: 'attached', 'Server ID': server };
    const lists = await Promise.all([
      cinder('attachment-list'),
      cinder('attachment-list', '--volume-id', vol),
      cinder('attachment-list', '--volume-id', randomUUID()),
    ]);
    expect(lists.map(parseTable)).toEqual([[row], [row], []]);
  });

  it('attachment-delete detaches: volume available, file back at the top level, the attachment gone', async () => {
    await cinder('attachment-delete', att);
    await cinderStatus(vol, 'available');
    expect(fs.existsSync(top(vol))).toBe(true);
    expect(fs.existsSync(under(server, vol))).toBe(false);
    expect(await failure(cinder('attachment-show', att))).toContain(
      `Volume attachment could not be found with filter: attachment_id = ${att}.`,
    );
  });

  it('attachment-create --connect True reserves and connects in one step; complete and delete as before', async () => {
    const { att: a, conn } = attachmentOut(
      await cinder('attachment-create', '--connect', 'True', '--host', 'h2', '--mountpoint', '/dev/vdc', vol, server2),
    );
    expect(a).toMatchObject({ instance: server2, volume_id: vol });
    expect(conn).toMatchObject({ device_path: under(server2, vol), access_mode: 'rw', attachment_id: a.id });
    expect(fs.existsSync(under(server2, vol))).toBe(true);
    await cinder('attachment-complete', a.id!);
    expect((await cinderStatus(vol, 'in-use')).attached_servers).toBe(`['${server2}']`);
    await cinder('attachment-delete', a.id!);
    await cinderStatus(vol, 'available');
    expect(fs.existsSync(top(vol))).toBe(true);
  });

  it('a multi-attach volume attaches --mode rw to one server and --mode ro to another, and stays at the top level', async () => {
    await cinder('type-create', 'ma');
    await cinder('type-key', 'ma', 'set', 'multiattach=<is> True');
    const created = await newVolume('--volume-type', 'ma');
    expect(created.multiattach).toBe('True');
    const ma = created.id!;
    const [s1, s2] = [randomUUID(), randomUUID()];
    // As in Cinder, a multi-attach volume takes a new reservation when available or in-use, not while attaching.
    const rw = attachmentOut(await cinder('attachment-create', '--connect', 'True', '--host', 'h1', '--mode', 'rw', ma, s1));
    await cinder('attachment-complete', rw.att.id!);
    const ro = attachmentOut(await cinder('attachment-create', '--connect', 'True', '--host', 'h2', '--mode', 'ro', ma, s2));
    expect([rw.att.attach_mode, ro.att.attach_mode]).toEqual(['rw', 'ro']);
    expect([rw.conn?.access_mode, ro.conn?.access_mode]).toEqual(['rw', 'ro']);
    expect([rw.conn?.device_path, ro.conn?.device_path]).toEqual([top(ma), top(ma)]);
    await cinder('attachment-complete', ro.att.id!);
    const v = await cinderStatus(ma, 'in-use');
    for (const s of [s1, s2]) expect(v.attached_servers).toContain(s);
    expect(parseTable(await cinder('attachment-list', '--volume-id', ma)).map((r) => r.Status)).toEqual(['attached', 'attached']);
    expect(fs.existsSync(top(ma))).toBe(true);
    // Detaching one keeps the volume in use for the other.
    await cinder('attachment-delete', rw.att.id!);
    expect(parseProperties(await cinder('show', ma)).status).toBe('in-use');
    await cinder('attachment-delete', ro.att.id!);
    await cinderStatus(ma, 'available');
    expect(fs.existsSync(top(ma))).toBe(true);
  });
});

describe('openstack volume attachment * (python3-openstackclient 6.0, 3.54)', () => {
  const server = randomUUID();
  const server2 = randomUUID();
  let vol: string;
  let att: string;
  const osc = async (...args: string[]) =>
    cairn.openstackBare(
      '--os-auth-type',
      'noauth',
      '--os-endpoint',
      `${novaUrl}/v3`,
      '--os-project-id',
      cairn.projectId,
      '--os-user-id',
      cairn.userId,
      '--os-volume-api-version',
      '3.54',
      ...args,
    );
  const json = async (...args: string[]) => JSON.parse(await osc(...args, '-f', 'json'));

  it('create without --connect reserves the volume for the server', async () => {
    vol = (await newVolume()).id!;
    const a = await json('volume', 'attachment', 'create', vol, server);
    expect(a).toMatchObject({ 'Volume ID': vol, 'Instance ID': server, Status: 'reserved', 'Attach Mode': 'null', Properties: {} });
    att = a.ID;
    expect(parseProperties(await cinder('show', vol)).status).toBe('reserved');
  });

  it('set --initiator --host connects; show and list report it', async () => {
    const a = await json(
      'volume',
      'attachment',
      'set',
      '--initiator',
      'iqn.2026-11.test:h3',
      '--host',
      'h3',
      '--mountpoint',
      '/dev/vdd',
      att,
    );
    expect(a.Properties).toMatchObject({
      driver_volume_type: 'local',
      device_path: under(server, vol),
      access_mode: 'rw',
      attachment_id: att,
    });
    expect(fs.existsSync(under(server, vol))).toBe(true);
    expect(await json('volume', 'attachment', 'show', att)).toMatchObject({ ID: att, Status: 'attaching', Properties: a.Properties });
    expect(await json('volume', 'attachment', 'list', '--volume-id', vol)).toEqual([
      { ID: att, 'Volume ID': vol, 'Server ID': server, Status: 'attaching' },
    ]);
  });

  it('complete makes the volume in-use; delete makes it available with the file back at the top level', async () => {
    await osc('volume', 'attachment', 'complete', att);
    const [v, a] = await Promise.all([cinderStatus(vol, 'in-use'), json('volume', 'attachment', 'show', att)]);
    expect(v.attachment_ids).toBe(`['${att}']`);
    expect(a.Status).toBe('attached');
    await osc('volume', 'attachment', 'delete', att);
    await cinderStatus(vol, 'available');
    expect(fs.existsSync(top(vol))).toBe(true);
    expect(fs.existsSync(under(server, vol))).toBe(false);
    expect(await json('volume', 'attachment', 'list', '--volume-id', vol)).toEqual([]);
  });

  it('create --connect --host --mode ro reserves and connects in one step', async () => {
    const a = await json(
      'volume',
      'attachment',
      'create',
      '--connect',
      '--host',
      'h4',
      '--mountpoint',
      '/dev/vde',
      '--mode',
      'ro',
      vol,
      server2,
    );
    expect(a).toMatchObject({ 'Volume ID': vol, 'Instance ID': server2, 'Attach Mode': 'ro' });
    expect(a.Properties).toMatchObject({ device_path: under(server2, vol), access_mode: 'ro', attachment_id: a.ID });
    expect(fs.existsSync(under(server2, vol))).toBe(true);
    await osc('volume', 'attachment', 'complete', a.ID);
    await cinderStatus(vol, 'in-use');
    await osc('volume', 'attachment', 'delete', a.ID);
    await cinderStatus(vol, 'available');
    expect(fs.existsSync(top(vol))).toBe(true);
  });
});
