import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Command } from 'commander';
import { loadComputeApi } from '../http/nova/app';
import { loadConfig } from '../config';
import { COMPUTE_MAX } from '../domain/compute';
import { serverStatus } from '../domain/status';
import type { Db } from '../db/connection';
import * as serversDb from '../db/servers';
import { isoCinder } from '../domain/time';
import * as volumesDb from '../db/volumes';
import { cinderValidationMessage } from '../http/shared/validationMessage';
import { createServer, type ServerCreateBody } from '../services/compute/serverCreate';
import { createServices } from '../services';
import { driverFor } from '../workers/drivers';

type WithDb = <T>(fn: (db: Db) => Promise<T>) => Promise<T>;

/** `k=v,k=v` as `openstack server create --block-device` takes it. */
function keyValues(s: string): Record<string, string> {
  return Object.fromEntries(
    s
      .split(',')
      .filter(Boolean)
      .map((kv) => {
        const i = kv.indexOf('=');
        if (i < 1) throw new Error(`--block-device wants key=value pairs, got ${kv}`);
        return [kv.slice(0, i), kv.slice(i + 1)];
      }),
  );
}

/** The body checked against api-spec/compute.yaml, as the API would (the service trusts a validated body). */
function validated(body: { server: ServerCreateBody }): { server: ServerCreateBody } {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(loadComputeApi() as object, 'compute');
  const check = ajv.getSchema('compute#/components/schemas/ServerCreateRequest')!;
  if (!check(body)) throw new Error(cinderValidationMessage(check.errors ?? [], body, { root: '' }));
  return body;
}

/**
 * `cairn-manage server create | list | inspect`. Create records the server
 * as the API does (same checks, volumes, quota) and leaves the build to a
 * running API, whose sweep takes any build nobody drives; `--wait` polls.
 */
export function registerServerCommands(
  program: Command,
  withDb: WithDb,
  table: (rows: Array<Record<string, unknown>>, cols: string[]) => string,
): void {
  const server = program.command('server').description("servers (the compute API's) and their volumes");

  server
    .command('create')
    .requiredOption('--project <id>', 'the owning project (hex)')
    .option('--user <id>', 'the owning user', 'cairn-manage')
    .requiredOption('--name <name>', 'server name')
    .option('--flavor <id>', 'flavor id', '1')
    .option('--image <uuid>', 'an image root (no volume)')
    .option(
      '--block-device <k=v,...>',
      'a block_device_mapping_v2 entry (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--wait', 'wait until the build ends (needs a running cairn api and worker)')
    .description('create a server with its volumes, as POST /servers does')
    .action((o: { project: string; user: string; name: string; flavor: string; image?: string; blockDevice: string[]; wait?: boolean }) =>
      withDb(async (db) => {
        const config = loadConfig();
        const body = validated({
          server: {
            name: o.name,
            flavorRef: o.flavor,
            networks: 'none',
            imageRef: o.image ?? '',
            block_device_mapping_v2: o.blockDevice.map(keyValues),
          },
        });
        const ctx = {
          requestId: `req-${randomUUID()}`,
          userId: o.user,
          projectId: o.project,
          roles: ['admin', 'member'],
          isAdmin: true,
          version: COMPUTE_MAX,
        };
        const deps = { db, config, notifier: { tasksWritten: () => undefined } };
        const { volumes, attachments } = createServices(deps);
        // As a request at COMPUTE_MAX: networks required (2.37), multi-attach volumes allowed (2.60).
        const { server: s } = await createServer(deps, { volumes, attachments }, ctx, body.server, {
          requireNetworks: true,
          multiattach: true,
        });
        let row = s;
        while (o.wait && row.task_state !== null) {
          await new Promise((r) => setTimeout(r, 200));
          row = (await serversDb.findServer(db, s.id)) ?? row;
        }
        console.log(
          JSON.stringify({ id: row.id, status: serverStatus(row.vm_state), task_state: row.task_state, fault: row.fault }, null, 2),
        );
      }),
    );

  server
    .command('list')
    .description('every server of every project, with its volumes')
    .option('--json', 'the servers as JSON')
    .action((o: { json?: boolean }) =>
      withDb(async (db) => {
        const rows = await serversDb.listAllServers(db);
        const bdms = await serversDb.bdmsOfServers(
          db,
          rows.map((s) => s.id),
        );
        const listed = rows.map((s) => {
          const mine = bdms.filter((b) => b.server_id === s.id && b.volume_id);
          return {
            ...s,
            status: serverStatus(s.vm_state),
            root: mine.find((b) => b.boot_index === 0)?.volume_id ?? (s.image_ref ? `image ${s.image_ref}` : '-'),
            volumes: mine.length,
            created_at: isoCinder(s.created_at),
          };
        });
        if (o.json) {
          console.log(
            JSON.stringify(
              listed.map((s) => ({ ...s, volume_ids: bdms.filter((b) => b.server_id === s.id && b.volume_id).map((b) => b.volume_id) })),
              null,
              2,
            ),
          );
          return;
        }
        console.log(table(listed, ['id', 'project_id', 'name', 'status', 'task_state', 'root', 'volumes', 'created_at']));
      }),
    );

  server
    .command('inspect')
    .argument('<id>')
    .description('the server, its mappings and attachments, and what each backend holds for it on disk')
    .action((id: string) =>
      withDb(async (db) => {
        const s = await serversDb.findServer(db, id);
        if (!s) {
          console.error(`server ${id} not found`);
          process.exitCode = 1;
          return;
        }
        const config = loadConfig();
        const mappings = await Promise.all(
          (await serversDb.bdmsOf(db, id)).map(async (b) => {
            const v = b.volume_id ? await volumesDb.find(db, b.volume_id, { projectId: undefined }) : undefined;
            const backend = v && config.backends.find((x) => x.name === v.backend);
            const disk = v && backend ? await driverFor(backend).inspect({ id: v.id, location: v.provider_location }) : undefined;
            return { ...b, volume: v && { status: v.status, size: v.size, backend: v.backend, location: v.provider_location }, disk };
          }),
        );
        // The compute driver's folder per file backend: what deleting the server would remove.
        const folders = await Promise.all(
          config.backends
            .filter((b) => b.driver === 'file')
            .map(async (b) => {
              const dir = path.join(b.fileStorageDir, id);
              return { backend: b.name, dir, entries: await fs.readdir(dir).catch(() => null) };
            }),
        );
        console.log(
          JSON.stringify(
            { server: s, status: serverStatus(s.vm_state), mappings, attachments: await serversDb.attachmentsOfServer(db, id), folders },
            null,
            2,
          ),
        );
      }),
    );
}
