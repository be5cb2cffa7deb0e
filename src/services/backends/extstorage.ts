import type { Config } from '../../config';
import { badRequest } from '../../domain/errors';
import { VolumeStatus } from '../../domain/status';
import type { Conn } from '../../db/connection';
import * as servicesDb from '../../db/services';
import * as snapshotsDb from '../../db/snapshots';
import * as typesDb from '../../db/volumeTypes';
import * as volumesDb from '../../db/volumes';
import { placeVolume } from './placement';
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

const isExtStorage = (config: Config, backend: string): boolean => config.backends.find((b) => b.name === backend)?.driver === 'extstorage';

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
export async function checkExtStorageSpecs(
  conn: Conn,
  config: Config,
  backend: string,
  specs: Readonly<Record<string, string>>,
): Promise<void> {
  if (!isExtStorage(config, backend)) return;
  const { provider, ...params } = driverParamsFromSpecs(specs);
  if (!provider) {
    throw badRequest(
      `Invalid volume type: backend ${backend} keeps volumes with ExtStorage providers; the type's extra specs must name one (${PROVIDER_SPEC}=NAME).`,
    );
  }
  await checkProviderParams(conn, config, [backend], provider, Object.keys(params));
}

/**
 * The same check when a type's extra specs are created or changed (Cinder
 * answers 400 for invalid extra specs), so a wrong provider or parameter is
 * refused when it is written, not at the first create. Only requests that
 * set `extstorage:*` keys are checked, against the type's specs as they
 * will be (`merged`): the provider must be valid on a live worker of the
 * backend the type places volumes on (of any ExtStorage backend while the
 * type has no `volume_backend_name` for one yet), and every `extstorage:`
 * parameter the type has must be in its `parameters.list`. Deployments
 * without ExtStorage backends pass untouched, as Cinder lets scoped keys
 * of other drivers through.
 */
export async function checkTypeExtStorageSpecs(
  conn: Conn,
  config: Config,
  merged: Readonly<Record<string, string>>,
  changedKeys: readonly string[],
): Promise<void> {
  if (!changedKeys.some((k) => k.startsWith(SPEC_PREFIX))) return;
  const esBackends = config.backends.filter((b) => b.driver === 'extstorage').map((b) => b.name);
  if (esBackends.length === 0) return;
  const { provider, ...params } = driverParamsFromSpecs(merged);
  const names = Object.keys(params);
  if (!provider) {
    throw badRequest(
      `Invalid input received: ExtStorage parameters (${names.map((n) => SPEC_PREFIX + n).join(', ')}) ` +
        `belong to a provider; set ${PROVIDER_SPEC}=NAME in the same request or before them.`,
    );
  }
  const placed = placeVolume(config, merged);
  const backends = placed.ok && isExtStorage(config, placed.backend) ? [placed.backend] : esBackends;
  await checkProviderParams(conn, config, backends, provider, names);
}

/** 400 unless `provider` is valid on a live worker of `backends` and every valid copy lists each of `params`. */
async function checkProviderParams(
  conn: Conn,
  config: Config,
  backends: readonly string[],
  provider: string,
  params: readonly string[],
): Promise<void> {
  const where = backends.length === 1 ? `backend ${backends[0]}` : `backends ${backends.join(', ')}`;
  const workers = (await workerProviders(conn, config)).filter((w) => w.up && backends.includes(w.backend));
  const reports = workers.flatMap((w) => w.providers.filter((p) => p.name === provider).map((p) => ({ host: w.host, p })));
  const valid = reports.filter((r) => r.p.valid);
  if (valid.length === 0) {
    const why = reports.map((r) => `${r.host}: ${r.p.reason ?? 'invalid'}`).join('; ');
    throw badRequest(
      reports.length
        ? `ExtStorage provider ${provider} is not valid on any worker of ${where} (${why}).`
        : `Unknown ExtStorage provider ${provider}: no running worker of ${where} has it.`,
    );
  }
  for (const name of params) {
    const missing = valid.filter((r) => !(r.p.parameters ?? []).some((q) => q.name === name));
    if (missing.length) {
      const known = (missing[0]!.p.parameters ?? []).map((q) => q.name).join(', ') || 'none';
      throw badRequest(
        `Invalid input received: ExtStorage provider ${provider} has no parameter ${name} ` +
          `(${SPEC_PREFIX}${name}); its parameters.list on ${missing[0]!.host} declares: ${known}.`,
      );
    }
  }
}

/**
 * What every task of a volume on an ExtStorage backend carries to the
 * worker: the provider and parameters from the volume's type, the display
 * name (`VOL_CNAME`) and the size recorded now (`VOL_SIZE` for grow).
 * A volume being made from a snapshot or another volume also carries its
 * source's: the provider and parameters of the volume whose data it is
 * (`source_driver_params`: that volume's type may differ) and its size
 * (`source_volume_size`: a clone's temporary snapshot's `VOL_SNAPSHOT_SIZE`).
 * Empty for other backends, so their tasks cost no extra query.
 */
export async function volumeDriverPayload(conn: Conn, config: Config, backend: string, volumeId: string): Promise<Record<string, unknown>> {
  if (!isExtStorage(config, backend)) return {};
  const v = await volumesDb.find(conn, volumeId, { projectId: undefined });
  if (!v) return {};
  const origin = v.status === VolumeStatus.creating ? await originOf(conn, v) : undefined;
  const specs = await typesDb.extraSpecsOf(conn, origin ? [v.volume_type_id, origin.volume_type_id] : [v.volume_type_id]);
  const paramsOf = (typeId: string) => driverParamsFromSpecs(specs.get(typeId) ?? {});
  return {
    driver_params: paramsOf(v.volume_type_id),
    display_name: v.display_name,
    volume_size: v.size,
    ...(origin ? { source_driver_params: paramsOf(origin.volume_type_id), source_volume_size: origin.size } : {}),
  };
}

/** The volume whose data a volume being created from a source copies: the source volume, or the snapshot's volume. */
async function originOf(
  conn: Conn,
  v: { snapshot_id: string | null; source_volid: string | null },
): Promise<{ volume_type_id: string; size: number } | undefined> {
  const scope = { projectId: undefined };
  const originId = v.source_volid ?? (v.snapshot_id ? (await snapshotsDb.find(conn, v.snapshot_id, scope))?.volume_id : undefined);
  return originId ? volumesDb.find(conn, originId, scope) : undefined;
}
