import { FIXED_ENV, scriptEnv, setinfoText, type ExtAction } from '../../src/workers/drivers/extstorageEnv';

const ID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const base = { volumeId: ID, displayName: 'db disk', params: { dir: '/srv/v', nas_ip: '10.0.0.1' } };
const COMMON = ['LC_ALL', 'PATH', 'VOL_NAME', 'VOL_UUID', 'VOL_CNAME', 'EXTP_DIR', 'EXTP_NAS_IP'];

/** The variables each script gets beyond the common ones (ganeti-extstorage-interface(7)). */
const EXTRA: Record<ExtAction, string[]> = {
  create: ['VOL_SIZE'],
  grow: ['VOL_SIZE', 'VOL_NEW_SIZE'],
  setinfo: ['VOL_METADATA'],
  snapshot: ['VOL_SNAPSHOT_NAME', 'VOL_SNAPSHOT_SIZE'],
  open: ['VOL_OPEN_EXCLUSIVE'],
  attach: [],
  detach: [],
  remove: [],
  verify: [],
  close: [],
};

describe('ExtStorage script environment', () => {
  const full = { ...base, sizeGib: 3, newSizeGib: 5, metadata: 'originstname+srv1', snapshotId: 'snap-1', exclusive: true };

  it.each(Object.keys(EXTRA) as ExtAction[])('%s gets exactly the common variables and its own', (action) => {
    const env = scriptEnv(action, full);
    expect(Object.keys(env).sort()).toEqual([...COMMON, ...EXTRA[action]].sort());
  });

  it('names the volume stably from its id and passes sizes in MiB', () => {
    const env = scriptEnv('grow', full);
    expect(env).toMatchObject({
      VOL_NAME: `cairn-vol-${ID}`,
      VOL_UUID: ID,
      VOL_CNAME: 'db disk',
      VOL_SIZE: '3072',
      VOL_NEW_SIZE: '5120',
      EXTP_DIR: '/srv/v',
      EXTP_NAS_IP: '10.0.0.1',
    });
    expect(scriptEnv('create', full).VOL_NAME).toBe(env.VOL_NAME);
  });

  it('passes snapshot name and size, and open exclusivity as Python booleans', () => {
    expect(scriptEnv('snapshot', full)).toMatchObject({ VOL_SNAPSHOT_NAME: 'cairn-snap-snap-1', VOL_SNAPSHOT_SIZE: '3072' });
    expect(scriptEnv('open', full).VOL_OPEN_EXCLUSIVE).toBe('True');
    expect(scriptEnv('open', { ...full, exclusive: false }).VOL_OPEN_EXCLUSIVE).toBe('False');
  });

  it('leaves VOL_CNAME out for a volume without a name', () => {
    expect(scriptEnv('attach', { ...base, displayName: null })).not.toHaveProperty('VOL_CNAME');
  });

  it('takes nothing from the process environment', () => {
    process.env.CAIRN_CANARY = 'leak';
    try {
      const env = scriptEnv('create', { ...base, sizeGib: 1 });
      expect(Object.values(env)).not.toContain('leak');
      expect(env.PATH).toBe(FIXED_ENV.PATH);
    } finally {
      delete process.env.CAIRN_CANARY;
    }
  });

  it('refuses a call missing what its script needs', () => {
    expect(() => scriptEnv('create', base)).toThrow(/volume size/);
    expect(() => scriptEnv('grow', { ...base, sizeGib: 1 })).toThrow(/new size/);
  });

  it('cleans setinfo text as Ganeti does', () => {
    expect(setinfoText('originstname+web 1/a')).toBe('originstname+web_1_a');
    expect(setinfoText('-x')).toBe('_x');
    expect(setinfoText('a'.repeat(200))).toHaveLength(128);
  });
});

describe('VOL_CNAME and noauth hardening', () => {
  it('a display name reaches VOL_CNAME without control characters, at most 255 characters', () => {
    const { safeDisplayName } = jest.requireActual('../../src/workers/drivers/extstorageEnv');
    expect(safeDisplayName('db\n01\r\u0000\u001b[31m\u2028x')).toBe('db_01___[31m_x');
    expect(safeDisplayName('é😀 ok')).toBe('é😀 ok');
    expect(safeDisplayName('x'.repeat(300))).toHaveLength(255);
  });
  it('loopback addresses are the ones noauth does not warn about', () => {
    const { isLoopback } = jest.requireActual('../../src/auth/index');
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.5']) expect(isLoopback(h)).toBe(false);
  });
});
