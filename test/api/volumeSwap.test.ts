/**
 * Nova's swap volume (`PUT /servers/{id}/os-volume_attachments/{old}` with
 * another volumeId): the old volume's data ends on the new one, which takes
 * the old one's place (device, boot index, tag, delete_on_termination); the
 * old one ends available at the top level. Nova's refusals, and a swap that
 * fails in the worker gives everything back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { waitFor, type TestCairn } from '../helpers/cairn';
import { blankRoot, computeApi, novaHeaders, v21, v3, VOLUME_HEADERS, withComputeCairn } from '../helpers/compute';

let cairn: TestCairn;
let nova: ReturnType<typeof computeApi>;
withComputeCairn((c, n) => {
  cairn = c;
  nova = n;
});

const dir = () => path.join(cairn.dataDir, 'volumes', 'file');
const bfv = () => ({ imageRef: '', block_device_mapping_v2: [blankRoot()] });
const swap = (serverId: string, oldId: string, newId: string, v = '2.89') =>
  nova
    .api()
    .put(v21(`/servers/${serverId}/os-volume_attachments/${oldId}`))
    .set(novaHeaders(v))
    .send({ volumeAttachment: { volumeId: newId } });
const mappings = async (serverId: string) =>
  (
    await nova
      .api()
      .get(v21(`/servers/${serverId}/os-volume_attachments`))
      .set(novaHeaders('2.79'))
  ).body.volumeAttachments;
const MARK = Buffer.from("cairn swap: the old volume's data");

describe('swap volume', () => {
  it("202; the new volume gets the old one's data and its place (device, tag, delete_on_termination); the old one ends available at the top level", async () => {
    const s = await nova.boot(bfv());
    const oldVol = await nova.volume();
    const newVol = await nova.volume({ size: 2 });
    await nova.attach(s.id, { volumeId: oldVol.id, tag: 'data', delete_on_termination: true }, '2.79');
    const oldFile = path.join(dir(), s.id, `volume-${oldVol.id}`);
    const w = fs.openSync(oldFile, 'r+');
    fs.writeSync(w, MARK, 0, MARK.length, 0);
    fs.writeSync(w, MARK, 0, MARK.length, 512 * 1024 * 1024);
    fs.closeSync(w);

    const res = await swap(s.id, oldVol.id, newVol.id);
    expect(res.status).toBe(202);
    await nova.waitVolume(newVol.id, 'in-use');
    const old = await nova.waitVolume(oldVol.id, 'available');
    expect(old.attachments).toEqual([]);

    const newFile = path.join(dir(), s.id, `volume-${newVol.id}`);
    expect(fs.statSync(newFile).size).toBe(2 * 1024 ** 3);
    const fd = fs.openSync(newFile, 'r');
    const head = Buffer.alloc(MARK.length);
    const mid = Buffer.alloc(MARK.length);
    fs.readSync(fd, head, 0, MARK.length, 0);
    fs.readSync(fd, mid, 0, MARK.length, 512 * 1024 * 1024);
    fs.closeSync(fd);
    expect(head.equals(MARK) && mid.equals(MARK)).toBe(true);
    expect(fs.existsSync(path.join(dir(), `volume-${oldVol.id}`))).toBe(true);
    expect(fs.existsSync(oldFile)).toBe(false);

    const root = s['os-extended-volumes:volumes_attached'][0].id;
    expect(await mappings(s.id)).toEqual([
      { id: root, volumeId: root, serverId: s.id, device: '/dev/vda', tag: null, delete_on_termination: false },
      { id: newVol.id, volumeId: newVol.id, serverId: s.id, device: '/dev/vdb', tag: 'data', delete_on_termination: true },
    ]);
    const cinder = await nova.cinderVolume(newVol.id);
    expect(cinder.attachments).toEqual([expect.objectContaining({ server_id: s.id, device: '/dev/vdb' })]);

    // delete_on_termination moved with the mapping: the server's delete takes the new volume, not the old one.
    await nova.remove(s.id);
    await nova.waitGone(s.id);
    await nova.waitVolumeGone(newVol.id);
    expect((await nova.cinderVolume(oldVol.id)).status).toBe('available');
  });

  it('the root volume swaps too (boot index 0 stays, /dev/vda), before 2.85 as well; the server starts from the new root', async () => {
    const s = await nova.boot(bfv());
    const root = s['os-extended-volumes:volumes_attached'][0].id;
    const next = await nova.volume();
    expect((await swap(s.id, root, next.id, '2.60')).status).toBe(202);
    await nova.waitVolume(next.id, 'in-use');
    await nova.waitVolume(root, 'available');
    const shown = await nova.show(s.id);
    expect(shown['os-extended-volumes:volumes_attached'].map((v: any) => v.id)).toEqual([next.id]);
    expect((await mappings(s.id))[0]).toMatchObject({ volumeId: next.id, device: '/dev/vda' });
    await nova.action(s.id, 'os-stop');
    await nova.waitStatus(s.id, 'SHUTOFF');
    expect((await nova.action(s.id, 'os-start')).status).toBe(202);
  });

  it("Nova's refusals: unknown old (404) or new (400), not this server's, attached new, smaller new, same volume before 2.85, a server being deleted", async () => {
    const s = await nova.boot(bfv());
    const vol = await nova.volume({ size: 2 });
    await nova.attach(s.id, { volumeId: vol.id });
    const free = await nova.volume({ size: 2 });
    const small = await nova.volume();
    const missing = randomUUID();
    expect((await swap(s.id, missing, free.id)).body).toEqual({
      itemNotFound: { code: 404, message: `No volume Block Device Mapping with id ${missing}.` },
    });
    expect((await swap(s.id, missing, free.id, '2.84')).body).toEqual({
      itemNotFound: { code: 404, message: `Volume ${missing} could not be found.` },
    });
    expect((await swap(s.id, vol.id, missing)).body).toEqual({
      badRequest: { code: 400, message: `Volume ${missing} could not be found.` },
    });
    expect((await swap(s.id, free.id, small.id, '2.84')).body.badRequest.message).toBe(
      'Invalid volume: Old volume is attached to a different instance.',
    );
    expect((await swap(s.id, vol.id, small.id)).body.badRequest.message).toBe(
      'Invalid volume: New volume must be the same size or larger.',
    );
    expect((await swap(s.id, vol.id, vol.id, '2.84')).body.badRequest.message).toBe(
      'Invalid volume: New volume must be detached in order to swap.',
    );
    const root = s['os-extended-volumes:volumes_attached'][0].id;
    expect((await swap(s.id, vol.id, root)).body.badRequest.message).toBe('Invalid volume: New volume must be detached in order to swap.');
    // Nothing moved.
    expect((await nova.cinderVolume(vol.id)).status).toBe('in-use');
    expect((await nova.cinderVolume(free.id)).status).toBe('available');
    await nova.remove(s.id);
    const late = await swap(s.id, vol.id, free.id);
    expect([404, 409]).toContain(late.status);
  });

  it("a swap the worker cannot do (the new volume's data is gone) gives everything back: old in-use and mapped, new available, a user message", async () => {
    const s = await nova.boot(bfv());
    const oldVol = await nova.volume();
    const newVol = await nova.volume();
    await nova.attach(s.id, { volumeId: oldVol.id });
    fs.rmSync(path.join(dir(), `volume-${newVol.id}`));
    expect((await swap(s.id, oldVol.id, newVol.id)).status).toBe(202);
    await waitFor(
      async () => {
        const [o, n] = await Promise.all([nova.cinderVolume(oldVol.id), nova.cinderVolume(newVol.id)]);
        return o?.status === 'in-use' && n?.status === 'available' && n;
      },
      10_000,
      'the failed swap to be undone',
    );
    expect((await mappings(s.id)).map((m: any) => m.volumeId)).toContain(oldVol.id);
    expect((await nova.cinderVolume(oldVol.id)).attachments).toEqual([expect.objectContaining({ server_id: s.id, device: '/dev/vdb' })]);
    const messages = (
      await nova
        .api()
        .get(v3(`/messages?resource_uuid=${newVol.id}`))
        .set(VOLUME_HEADERS)
    ).body.messages;
    expect(messages.map((m: any) => m.user_message)).toEqual(['attach volume:The volume swap failed.']);
    // The old volume still detaches normally afterwards.
    expect((await nova.detach(s.id, oldVol.id)).status).toBe(202);
    await nova.waitVolume(oldVol.id, 'available');
  });
});
