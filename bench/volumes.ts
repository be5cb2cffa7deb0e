/** Realistic, varied, reproducible volume-create bodies for loading the database. */

/** mulberry32: a tiny seeded PRNG, so every run loads the same volumes. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const APPS = ['billing', 'search', 'auth', 'ledger', 'media', 'catalog', 'metrics', 'mail', 'ci', 'analytics', 'chat', 'geo'];
const ROLES = ['db', 'data', 'logs', 'cache', 'scratch', 'backup', 'root', 'queue', 'index', 'wal'];
const SIZES = [1, 1, 2, 5, 5, 10, 10, 10, 20, 20, 25, 40, 50, 50, 80, 100, 100];
const METADATA: ReadonlyArray<[string, readonly string[]]> = [
  ['env', ['prod', 'staging', 'dev', 'test']],
  ['team', ['payments', 'platform', 'growth', 'sre', 'data', 'mobile']],
  ['backup', ['daily', 'weekly', 'none']],
  ['tier', ['gold', 'silver', 'bronze']],
  ['cost_center', ['cc-1001', 'cc-1042', 'cc-2203', 'cc-3117']],
  ['owner', ['alice@example.org', 'bob@example.org', 'chen@example.org', 'dana@example.org']],
];

export interface VolumeCreateBody {
  volume: { size: number; name?: string; description?: string; metadata?: Record<string, string> };
}

export function volumeBodies(count: number, seed = 20261123): VolumeCreateBody[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: count }, (_, i) => {
    const app = pick(APPS);
    const role = pick(ROLES);
    const volume: VolumeCreateBody['volume'] = { size: pick(SIZES) };
    if (r() > 0.04) volume.name = `${app}-${role}-${String(i).padStart(5, '0')}`;
    if (r() < 0.3) volume.description = `${role} volume for ${app} (replica ${1 + Math.floor(r() * 3)})`;
    const nMeta = Math.floor(r() * 5);
    if (nMeta > 0) {
      const md: Record<string, string> = {};
      for (const [k, vs] of [...METADATA].sort(() => r() - 0.5).slice(0, nMeta)) md[k] = pick(vs);
      volume.metadata = md;
    }
    return { volume };
  });
}
