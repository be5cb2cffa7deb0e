import request from 'supertest';
import { liftQuotas, PROJECT, startTestCairn, TOKEN, waitFor, type TestCairn } from './cairn';

/** Headers of a compute call at microversion `v` (Nova's default is 2.1). */
export const novaHeaders = (v = '2.89') => ({ 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': `compute ${v}` });
export const VOLUME_HEADERS = { 'X-Auth-Token': TOKEN, 'OpenStack-API-Version': 'volume 3.70' };
export const v21 = (p: string) => `/v2.1/${PROJECT}${p}`;
export const v3 = (p: string) => `/v3/${PROJECT}${p}`;

/** A blank boot volume of `size` GiB, the root of a boot-from-volume server. */
export const blankRoot = (size = 1, extra: Record<string, unknown> = {}) => ({
  source_type: 'blank',
  destination_type: 'volume',
  volume_size: size,
  boot_index: 0,
  ...extra,
});

export function computeApi(url: string) {
  const api = () => request(url);
  const self = {
    api,
    /** `POST /servers` with `networks: none` (required from 2.37), flavor 1 unless given. */
    create: (server: Record<string, unknown>, v = '2.89') =>
      api()
        .post(v21('/servers'))
        .set(novaHeaders(v))
        .send({ server: { name: 'srv', flavorRef: '1', networks: 'none', ...server } }),
    show: async (id: string, v = '2.89') =>
      (
        await api()
          .get(v21(`/servers/${id}`))
          .set(novaHeaders(v))
      ).body.server,
    /** Polls until the server leaves BUILD (or `deleting`) and has `status`; fails on another final status. */
    waitStatus: (id: string, status: string, timeoutMs = 20_000) =>
      waitFor(
        async () => {
          const s = await self.show(id);
          if (!s || s['OS-EXT-STS:task_state'] !== null) return undefined;
          if (s.status !== status && s.status !== 'BUILD')
            throw new Error(`server ${id} is ${s.status}, not ${status}: ${JSON.stringify(s.fault)}`);
          return s.status === status && s;
        },
        timeoutMs,
        `server ${id} to be ${status}`,
      ),
    /** Creates a server and waits for ACTIVE. */
    boot: async (server: Record<string, unknown>, v = '2.89', timeoutMs = 20_000) => {
      const res = await self.create(server, v);
      if (res.status !== 202) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
      return self.waitStatus(res.body.server.id, 'ACTIVE', timeoutMs);
    },
    action: (id: string, action: string, v = '2.89') =>
      api()
        .post(v21(`/servers/${id}/action`))
        .set(novaHeaders(v))
        .send({ [action]: null }),
    attach: (id: string, body: Record<string, unknown>, v = '2.89') =>
      api()
        .post(v21(`/servers/${id}/os-volume_attachments`))
        .set(novaHeaders(v))
        .send({ volumeAttachment: body }),
    detach: (id: string, volumeId: string, v = '2.89') =>
      api()
        .delete(v21(`/servers/${id}/os-volume_attachments/${volumeId}`))
        .set(novaHeaders(v)),
    remove: (id: string) =>
      api()
        .delete(v21(`/servers/${id}`))
        .set(novaHeaders()),
    waitGone: (id: string) =>
      waitFor(
        async () =>
          (
            await api()
              .get(v21(`/servers/${id}`))
              .set(novaHeaders())
          ).status === 404,
        20_000,
        `server ${id} to be deleted`,
      ),
    /** A Cinder volume (optionally bootable), polled until available. */
    volume: async (opts: { size?: number; bootable?: boolean } = {}) => {
      const res = await api()
        .post(v3('/volumes'))
        .set(VOLUME_HEADERS)
        .send({ volume: { size: opts.size ?? 1 } });
      if (res.status !== 202) throw new Error(`volume create answered ${res.status}: ${JSON.stringify(res.body)}`);
      const v = await self.waitVolume(res.body.volume.id, 'available');
      if (opts.bootable) {
        await api()
          .post(v3(`/volumes/${v.id}/action`))
          .set(VOLUME_HEADERS)
          .send({ 'os-set_bootable': { bootable: true } })
          .expect(200);
      }
      return v;
    },
    cinderVolume: async (id: string) => {
      const res = await api()
        .get(v3(`/volumes/${id}`))
        .set(VOLUME_HEADERS);
      return res.status === 200 ? res.body.volume : undefined;
    },
    waitVolume: (id: string, status: string) =>
      waitFor(
        async () => {
          const v = await self.cinderVolume(id);
          return v?.status === status && v;
        },
        20_000,
        `volume ${id} to be ${status}`,
      ),
    waitVolumeGone: (id: string) => waitFor(async () => (await self.cinderVolume(id)) === undefined, 20_000, `volume ${id} to be deleted`),
  };
  return self;
}

/**
 * A compute suite's world: a test cairn with the project's quotas lifted and a compute client, started in
 * beforeAll and stopped in afterAll; `use` receives them for the suite's own variables.
 */
export function withComputeCairn(use: (cairn: TestCairn, nova: ReturnType<typeof computeApi>) => void): void {
  let cairn: TestCairn | undefined;
  beforeAll(async () => {
    cairn = await startTestCairn();
    await liftQuotas(cairn.url);
    use(cairn, computeApi(cairn.url));
  });
  afterAll(async () => {
    await cairn?.stop();
  });
}
