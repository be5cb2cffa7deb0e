import type { BackendConfig, Config } from '../../config';

/** What a backend offers, matched against a volume type's extra specs (Cinder's CapabilitiesFilter). */
export function capabilitiesOf(b: BackendConfig): Record<string, string | boolean> {
  return {
    volume_backend_name: b.name,
    vendor_name: 'cairn',
    storage_protocol: b.driver === 'file' ? 'file' : b.driver,
    driver_version: '1.0',
    multiattach: true,
    thin_provisioning_support: true,
    thick_provisioning_support: false,
  };
}

export type Placement =
  | { ok: true; backend: string; host: string; multiattach: boolean }
  | { ok: false; backend: string; host: string; multiattach: boolean; reason: string };

/** `<is> True` and friends; a plain value must equal the capability. */
function satisfies(spec: string, cap: string | boolean): boolean {
  const s = spec.trim();
  const is = /^<is>\s+(\S+)$/i.exec(s);
  if (is) return String(cap).toLowerCase() === is[1]!.toLowerCase();
  const inOp = /^<in>\s+(.+)$/i.exec(s);
  if (inOp) return String(cap).includes(inOp[1]!);
  const or = /^<or>/i.test(s)
    ? s
        .split(/<or>/i)
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;
  if (or) return or.includes(String(cap));
  return String(cap) === s;
}

export const isMultiattachType = (specs: Record<string, string>): boolean =>
  specs.multiattach !== undefined && satisfies(specs.multiattach, true);

/**
 * Chooses a backend for a volume of a type: the first configured backend
 * whose capabilities satisfy every unscoped extra spec (scoped keys such as
 * `extstorage:x` are for drivers, as in Cinder). None → the volume goes to
 * `error` with a user message, as Cinder's scheduler does.
 */
export function placeVolume(config: Config, specs: Record<string, string>): Placement {
  const multiattach = isMultiattachType(specs);
  const wanted = Object.entries(specs)
    .map(([k, v]) => [k.startsWith('capabilities:') ? k.slice('capabilities:'.length) : k, v] as const)
    .filter(([k]) => !k.includes(':'));
  const candidates =
    specs.volume_backend_name === undefined
      ? [...config.backends].sort((a, b) => Number(b.name === config.defaultBackend) - Number(a.name === config.defaultBackend))
      : config.backends;
  for (const b of candidates) {
    const caps = capabilitiesOf(b);
    if (wanted.every(([k, v]) => k in caps && satisfies(v, caps[k]!))) {
      return { ok: true, backend: b.name, host: `${config.hostname}@${b.name}#${b.name}`, multiattach };
    }
  }
  return {
    ok: false,
    backend: config.defaultBackend,
    host: `${config.hostname}@${config.defaultBackend}#${config.defaultBackend}`,
    multiattach,
    reason: 'No valid backend was found. No weighed backends available',
  };
}
