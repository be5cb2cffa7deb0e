import { KeystoneClient, KeystoneUnavailable } from '../../src/auth/keystone';
import { keystoneSettings } from '../../src/config/keystone';
import { TtlCache } from '../../src/auth/ttlCache';
import { FakeKeystone, SERVICE } from '../helpers/fakeKeystone';

/** One clock for cairn's cache and the fake Keystone's token expiry. */
let clock = Date.now();
const now = () => clock;
let ks: FakeKeystone;
beforeAll(async () => {
  ks = await FakeKeystone.start(now);
});
afterAll(async () => {
  await ks.stop();
});
beforeEach(() => {
  clock = Date.now();
  ks.failing = false;
  ks.serviceTokenMs = 3_600_000;
});

const client = (env: Record<string, string> = {}) => new KeystoneClient(keystoneSettings(ks.env(env)), now);
const member = { userId: 'u1', projectId: 'p1', roles: ['member', 'reader'] };

describe('KeystoneClient', () => {
  it('validates a token and returns user, project and roles', async () => {
    const c = client();
    expect(await c.validate(ks.issue(member))).toEqual({ userId: 'u1', projectId: 'p1', roles: ['member', 'reader'] });
  });

  it('logs in once and caches a validation: the second request does not ask Keystone', async () => {
    const c = client();
    const t = ks.issue(member);
    await c.validate(t);
    await c.validate(t);
    await c.validate(ks.issue(member));
    expect(c.stats).toEqual({ logins: 1, validations: 2 });
  });

  it('concurrent requests with one token share one validation', async () => {
    const c = client();
    const t = ks.issue(member);
    const all = await Promise.all(Array.from({ length: 20 }, () => c.validate(t)));
    expect(all.every((i) => i?.projectId === 'p1')).toBe(true);
    expect(c.stats.validations).toBe(1);
  });

  it('a validation is trusted for at most KEYSTONE_CACHE_SECONDS: a revoked token fails once that passed', async () => {
    const c = client({ KEYSTONE_CACHE_SECONDS: '300' });
    const t = ks.issue(member);
    await c.validate(t);
    ks.revoke(t);
    clock += 299_000;
    expect(await c.validate(t)).toBeDefined();
    clock += 2_000;
    expect(await c.validate(t)).toBeUndefined();
    expect(c.stats.validations).toBe(2);
  });

  it("a validation is not trusted past the token's own expiry", async () => {
    const c = client();
    const t = ks.issue(member, 10_000);
    await c.validate(t);
    clock += 11_000;
    expect(await c.validate(t)).toBeUndefined();
  });

  it('an unknown token is undefined, and that answer is cached too', async () => {
    const c = client();
    expect(await c.validate('bogus')).toBeUndefined();
    expect(await c.validate('bogus')).toBeUndefined();
    expect(c.stats.validations).toBe(1);
  });

  it('a token scoped to no project is refused', async () => {
    expect(await client().validate(ks.issue({ userId: 'u', roles: ['admin'] }))).toBeUndefined();
  });

  it('keeps its service token until shortly before it expires, then logs in again', async () => {
    ks.serviceTokenMs = 120_000;
    const c = client();
    await c.validate(ks.issue(member));
    clock += 30_000;
    await c.validate(ks.issue(member));
    expect(c.stats.logins).toBe(1);
    clock += 40_000; // within a minute of expiry
    await c.validate(ks.issue(member));
    expect(c.stats.logins).toBe(2);
  });

  it('logs in again when Keystone answers 401 to its service token, and retries the validation', async () => {
    const c = client();
    await c.validate(ks.issue(member));
    ks.revokeServiceTokens();
    expect(await c.validate(ks.issue(member))).toMatchObject({ projectId: 'p1' });
    expect(c.stats.logins).toBe(2);
  });

  it('Keystone down, failing, or refusing the service login → KeystoneUnavailable (never a silent 401)', async () => {
    ks.failing = true;
    await expect(client().validate(ks.issue(member))).rejects.toBeInstanceOf(KeystoneUnavailable);
    ks.failing = false;
    await expect(client({ KEYSTONE_SERVICE_PASSWORD: 'wrong' }).validate(ks.issue(member))).rejects.toThrow(
      /service login as cairn answered 401/,
    );
    const gone = new KeystoneClient(keystoneSettings(ks.env({ KEYSTONE_URL: 'http://127.0.0.1:9/v3', KEYSTONE_TIMEOUT_MS: '2000' })), now);
    await expect(gone.validate('x')).rejects.toBeInstanceOf(KeystoneUnavailable);
  });

  it('the cache is bounded: the least recently used validation goes first', async () => {
    const c = client({ KEYSTONE_CACHE_SIZE: '2' });
    const [a, b, d] = [ks.issue(member), ks.issue(member), ks.issue(member)];
    await c.validate(a);
    await c.validate(b);
    await c.validate(a); // a is now the most recent
    await c.validate(d); // evicts b
    expect(c.stats.validations).toBe(3);
    await c.validate(a);
    expect(c.stats.validations).toBe(3);
    await c.validate(b);
    expect(c.stats.validations).toBe(4);
  });
});

describe('keystoneSettings', () => {
  it("names what is missing, accepts the kit's KEYSTONE_AUTH_URL and derives the WWW-Authenticate uri", () => {
    expect(() => keystoneSettings({ KEYSTONE_URL: 'http://k/v3' })).toThrow(
      'AUTH_STRATEGY=keystone needs KEYSTONE_SERVICE_USER, KEYSTONE_SERVICE_PASSWORD, KEYSTONE_SERVICE_PROJECT',
    );
    const s = keystoneSettings({
      KEYSTONE_AUTH_URL: 'http://127.0.0.1:5000/v3/',
      KEYSTONE_SERVICE_USER: SERVICE.user,
      KEYSTONE_SERVICE_PASSWORD: 'x',
      KEYSTONE_SERVICE_PROJECT: 'service',
    });
    expect(s).toMatchObject({
      url: 'http://127.0.0.1:5000/v3',
      wwwAuthenticateUri: 'http://127.0.0.1:5000',
      userDomain: 'Default',
      cacheSeconds: 300,
    });
  });
});

describe('TtlCache', () => {
  it('drops expired entries and never stores one already expired', () => {
    let t = 0;
    const c = new TtlCache<number>(10, () => t);
    c.set('a', 1, 5);
    c.set('b', 2, 0);
    expect([c.get('a'), c.get('b')]).toEqual([1, undefined]);
    t = 5;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });
});
