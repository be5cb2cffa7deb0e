import fs from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config';
import type { Db } from '../db/connection';
import * as imagesDb from '../db/images';
import { isoGlance } from '../http/glance/view';
import { LocalImageStore } from '../services/images/localStore';
import { CONTAINER_FORMATS, DISK_FORMATS, IMAGE_VISIBILITIES } from '../domain/image';
import { Transform } from 'node:stream';
import { progress } from './progress';

type WithDb = <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
type Table = (rows: Array<Record<string, unknown>>, cols: string[]) => string;

interface ImportOptions {
  diskFormat: string;
  containerFormat: string;
  visibility?: string;
  private?: boolean;
  project?: string;
  minDisk: string;
  minRam: string;
  property: string[];
  protected?: boolean;
}

/**
 * `cairn-manage image import | list`: cairn's own image store (when no
 * external Glance is configured), straight in the database and the image
 * folder. With the embedded PGlite database, run it while cairn is stopped
 * (PGlite is single-process); with PostgreSQL, any time.
 */
export function registerImageCommands(program: Command, withDb: WithDb, table: Table): void {
  const image = program.command('image').description("images of cairn's own store (the Glance v2 subset under /v2/images)");

  image
    .command('import')
    .argument('<name>')
    .argument('<file>')
    .description('store FILE as an active image named NAME (public unless --private)')
    .option('--disk-format <format>', `one of ${DISK_FORMATS.join(', ')}`, 'raw')
    .option('--container-format <format>', `one of ${CONTAINER_FORMATS.join(', ')}`, 'bare')
    .option('--visibility <v>', IMAGE_VISIBILITIES.join(', '))
    .option('--private', 'visibility private (needs --project)')
    .option('--project <id>', 'the owning project')
    .option('--min-disk <gib>', 'min_disk', '0')
    .option('--min-ram <mib>', 'min_ram', '0')
    .option('--protected', 'refuse deletes')
    .option('--property <k=v>', 'an extra property (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action((name: string, file: string, o: ImportOptions) =>
      withDb(async (db) => {
        const visibility = o.private ? 'private' : (o.visibility ?? 'public');
        if (!IMAGE_VISIBILITIES.includes(visibility)) throw new Error(`--visibility must be one of ${IMAGE_VISIBILITIES.join(', ')}`);
        if (visibility !== 'public' && visibility !== 'community' && !o.project) throw new Error(`a ${visibility} image needs --project`);
        if (!(DISK_FORMATS as readonly string[]).includes(o.diskFormat))
          throw new Error(`--disk-format must be one of ${DISK_FORMATS.join(', ')}`);
        if (!(CONTAINER_FORMATS as readonly string[]).includes(o.containerFormat))
          throw new Error(`--container-format must be one of ${CONTAINER_FORMATS.join(', ')}`);
        const int = (v: string, what: string) => {
          if (!/^\d+$/.test(v)) throw new Error(`${what} must be a non-negative integer`);
          return Number(v);
        };
        const properties = Object.fromEntries(
          o.property.map((kv) => {
            const i = kv.indexOf('=');
            if (i < 1) throw new Error(`--property wants key=value, got ${kv}`);
            return [kv.slice(0, i), kv.slice(i + 1)];
          }),
        );
        if (!fs.statSync(file).isFile()) throw new Error(`${file} is not a file`);
        const config = loadConfig();
        const store = new LocalImageStore(db, config.imageDir, config.imageLimits);
        const caller = { projectId: o.project ?? '', userId: 'cairn-manage', isAdmin: true };
        const created = await store.create(caller, {
          name,
          visibility,
          owner: o.project ?? null,
          disk_format: o.diskFormat,
          container_format: o.containerFormat,
          min_disk: int(o.minDisk, '--min-disk'),
          min_ram: int(o.minRam, '--min-ram'),
          protected: Boolean(o.protected),
          properties,
        });
        // The copy into the store, with its progress on stderr (a bar on a terminal).
        const bar = progress({ label: `image import ${name}`, total: fs.statSync(file).size, unit: 'bytes' });
        const source = fs.createReadStream(file);
        const counted = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            bar.increment(chunk.length);
            cb(null, chunk);
          },
        });
        source.on('error', (err) => counted.destroy(err));
        const stored = await store.upload(caller, created.id, source.pipe(counted)).finally(() => bar.stop());
        console.log(
          JSON.stringify({ id: stored.id, name: stored.name, status: stored.status, size: stored.size, checksum: stored.checksum }),
        );
      }),
    );

  image
    .command('list')
    .description('every image of the store')
    .option('--json', 'the images as JSON')
    .action((o: { json?: boolean }) =>
      withDb(async (db) => {
        const rows = await imagesDb.list(db, {
          scope: { projectId: undefined },
          filters: {},
          sort: [{ expr: 'images.created_at', dir: 'desc' }],
          limit: 100_000,
        });
        if (o.json) {
          console.log(JSON.stringify(rows, null, 2));
          return;
        }
        console.log(
          table(
            rows.map((r) => ({ ...r, created_at: isoGlance(r.created_at) })),
            ['id', 'name', 'status', 'visibility', 'owner', 'disk_format', 'size', 'min_disk', 'created_at'],
          ),
        );
      }),
    );
}
