/**
 * Volume actions through the real `cinder` client (python3-cinderclient,
 * 3.70) against the built all-in-one: `cinder extend` of an available volume
 * and of an attached one (3.42+), `cinder set-bootable`, `cinder
 * readonly-mode-update`. The file backend's sparse file shows the new size.
 * The tests build on each other, in order.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CliError, parseProperties, poll, PollAbort, startCairn, type CompatCairn } from './cli';

let cairn: CompatCairn;
beforeAll(async () => {
  cairn = await startCairn();
}, 90_000);
afterAll(async () => {
  await cairn?.stop();
}, 30_000);

const GIB = 1024 ** 3;
const cinder = (...args: string[]) => cairn.cinder(...args);
const fileDir = () => path.join(cairn.dataDir, 'volumes', 'file');

async function status(
  id: string,
  want: string,
  also: (v: Record<string, string>) => boolean = () => true,
): Promise<Record<string, string>> {
  return poll(`volume ${id} to be ${want}`, async () => {
    const v = parseProperties(await cinder('show', id));
    if (v.status?.startsWith('error')) throw new PollAbort(`volume ${id} went to ${v.status}, not ${want}`);
    return v.status === want && also(v) && v;
  });
}

/** The volume's file, at the top level or under a server's folder. */
function fileOf(id: string): string {
  const top = path.join(fileDir(), `volume-${id}`);
  if (fs.existsSync(top)) return top;
  const under = fs
    .readdirSync(fileDir())
    .map((d) => path.join(fileDir(), d, `volume-${id}`))
    .find((p) => fs.existsSync(p));
  if (!under) throw new Error(`no file for volume ${id} under ${fileDir()}`);
  return under;
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

describe('cinder volume actions (python3-cinderclient, 3.70)', () => {
  let vol: string;

  it("cinder extend of an available volume: size 2, the file grown to 2 GiB; a smaller size is Cinder's 400", async () => {
    vol = (await status(parseProperties(await cinder('create', '--name', 'grow-me', '1')).id!, 'available')).id!;
    expect(fs.statSync(fileOf(vol)).size).toBe(GIB);
    await cinder('extend', vol, '2');
    await status(vol, 'available', (v) => v.size === '2');
    expect(fs.statSync(fileOf(vol)).size).toBe(2 * GIB);
    expect(await failure(cinder('extend', vol, '1'))).toMatch(
      /New size for extend must be greater than current size\. \(current: 2, extended: 1\)\. \(HTTP 400\)/,
    );
  });

  it('cinder set-bootable true and false', async () => {
    await cinder('set-bootable', vol, 'true');
    expect(parseProperties(await cinder('show', vol)).bootable).toBe('true');
    await cinder('set-bootable', vol, 'false');
    expect(parseProperties(await cinder('show', vol)).bootable).toBe('false');
  });

  it('cinder readonly-mode-update True puts readonly in the metadata; False takes it back', async () => {
    await cinder('readonly-mode-update', vol, 'True');
    // cinderclient prints metadata as `key : value` lines.
    expect(parseProperties(await cinder('show', vol)).metadata).toMatch(/^readonly : True$/m);
    await cinder('readonly-mode-update', vol, 'False');
    expect(parseProperties(await cinder('show', vol)).metadata).toMatch(/^readonly : False$/m);
  });

  it('cinder extend of an attached volume (3.42+): in-use again at size 3, its file under the server grown', async () => {
    const server = randomUUID();
    const out = await cinder(
      'attachment-create',
      vol,
      server,
      '--connect',
      'True',
      '--initiator',
      'iqn.2026-11.test:h1',
      '--host',
      'h1',
      '--mountpoint',
      '/dev/vdb',
    );
    const att = /\|\s+id\s+\|\s+([0-9a-f-]{36})\s+\|/.exec(out)?.[1];
    if (!att) throw new Error(`no attachment id in:\n${out}`);
    await cinder('attachment-complete', att);
    await status(vol, 'in-use');
    expect(fileOf(vol)).toBe(path.join(fileDir(), server, `volume-${vol}`));
    await cinder('extend', vol, '3');
    await status(vol, 'in-use', (v) => v.size === '3');
    expect(fs.statSync(fileOf(vol)).size).toBe(3 * GIB);
    // Below 3.42 an attached volume is not extended (Cinder's 400 names the status).
    expect(await failure(cinder('--os-volume-api-version', '3.41', 'extend', vol, '4'))).toContain(
      `Invalid volume: Volume ${vol} status must be 'available' to extend, currently in-use. (HTTP 400)`,
    );
    await cinder('attachment-delete', att);
    await status(vol, 'available');
  });
});
