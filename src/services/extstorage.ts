import type { Config } from '../config';
import { badRequest } from '../domain/errors';
import type { Conn } from '../db/connection';
import * as servicesDb from '../db/services';
import * as typesDb from '../db/volumeTypes';
import * as volumesDb from '../db/volumes';
import { Binary } from './serviceRegistry';

/**
 * ExtStorage on the API side: a volume type picks the provider and its
 * parameters with extra specs `extstorage:provider=NAME` and
 * `extstorage:<param>=<value>`. The API has no provider files; it checks a
 * create against what the backend's workers report in their heartbeats.
 */

export const SPEC_PREFIX = 'extstorage:';
export const PROVIDER_SPEC = `${SPEC_PREFIX}provider`;

/** One provider as a worker reports it (`DriverDiagnosis`, as JSON in `services.report.providers`). */
export interface ProviderReport {
  name: string;
  valid: boolean;
  reason?: string;
  checksum?: string;
  parameters?: Array<{ name: string; description: string }>;
}

/** One worker service (`<host>@<backend>`) and what it reported. */
export interface WorkerProviders {
  host: string;
  backend: string;
  up: boolean;
  providers: ProviderReport[];
}

/** `extstorage:*` extra specs without the prefix: `{ provider, <param>… }`, as `VolumeRef.params` carries them. */
export function driverParamsFromSpecs(specs: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(specs)) if (k.startsWith(SPEC_PREFIX)) out[k.slice(SPEC_PREFIX.length)] = v;
  return out;
}

const isExtStorage = (config: Config, backend: string): boolean =>
  config.backends.find((b) => b.name === backend)?.driver === 'extstorage';

/** Workers that report ExtStorage providers, optionally of one backend, with up/down from their heartbeat's age. */
export async function workerProviders(conn: Conn, config: Config, backend?: string): Promise<WorkerProviders[]> {
  const cutoff = Date.now() - config.serviceDownSeconds * 1000;
  const rows = await servicesDb.list(conn, { binary: Binary.volume });
  return rows.flatMap((r) => {
    const at = r.host.lastIndexOf('@');
    const b = at < 0 ? '' : r.host.slice(at + 1);
    const providers = (r.report as { providers?: unknown }).providers;
    if (!Array.isArray(providers) || (backend !== undefined && b !== backend)) return [];
    return [{ host: r.host, backend: b, up: new Date(r.heartbeat_at).getTime() >= cutoff, providers: providers as ProviderReport[] }];
  });
}

/**
 * Refuses (400) a create on an ExtStorage backend whose type names no
 * provider, a provider no live worker of the backend has valid, or a
 * parameter missing from the provider's `parameters.list`. A parameter
 * must be listed by every valid copy, since any of those workers may run
 * the task. Other backends pass untouched.
 */
export async function checkExtStorageSpecs(conn: Conn, config: Config, backend: string, specs: Readonly<Record<string, string>>): Promise<void> {
  if (!isExtStorage(config, backend)) return;
  const { provider, ...params } = driverParamsFromSpecs(specs);
  if (!provider) {
    throw badRequest(`Invalid volume type: backend ${backend} keeps volumes with ExtStorage providers; the type's extra specs must name one (${PROVIDER_SPEC}=NAME).`);
  }
  const workers = (await workerProviders(conn, config, backend)).filter((w) => w.up);
  const reports = workers.flatMap((w) => w.providers.filter((p) => p.name === provider).map((p) => ({ host: w.host, p })));
  const valid = reports.filter((r) => r.p.valid);
  if (valid.length === 0) {
    const why = reports.map((r) => `${r.host}: ${r.p.reason ?? 'invalid'}`).join('; ');
    throw badRequest(reports.length
      ? `ExtStorage provider ${provider} is not valid on any worker of backend ${backend} (${why}).`
      : `Unknown ExtStorage provider ${provider}: no running worker of backend ${backend} has it.`);
  }
  for (const name of Object.keys(params)) {
    const missing = valid.filter((r) => !(r.p.parameters ?? []).some((q) => q.name === name));
    if (missing.length) {
      const known = (missing[0]!.p.parameters ?? []).map((q) => q.name).join(', ') || 'none';
      throw badRequest(`Invalid input received: ExtStorage provider ${provider} has no parameter ${name} ` +
        `(${SPEC_PREFIX}${name}); its parameters.list on ${missing[0]!.host} declares: ${known}.`);
    }
  }
}

/**
 * What every task of a volume on an ExtStorage backend carries to the
 * worker: the provider and parameters from the volume's type, the display
 * name (`VOL_CNAME`) and the size recorded now (`VOL_SIZE` for grow).
 * Empty for other backends, so their tasks cost no extra query.
 */
export async function volumeDriverPayload(conn: Conn, config: Config, backend: string, volumeId: string): Promise<Record<string, unknown>> {
  if (!isExtStorage(config, backend)) return {};
  const v = await volumesDb.find(conn, volumeId, { projectId: undefined });
  if (!v) return {};
  const specs = (await typesDb.extraSpecsOf(conn, [v.volume_type_id])).get(v.volume_type_id) ?? {};
  return { driver_params: driverParamsFromSpecs(specs), display_name: v.display_name, volume_size: v.size };
}
