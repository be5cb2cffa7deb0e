/**
 * Compat-suite support: the BUILT all-in-one (`node dist/src/cli/cairn.js
 * all-in-one`) as a child process on the embedded default (PGlite on disk in a
 * fresh temp dir, in-process transport), and the real Debian clients
 * (`/usr/bin/cinder` from python3-cinderclient, `/usr/bin/openstack` from
 * python3-openstackclient) run against it with execFile, no shell.
 * Needs `npm run build` first.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { poll as sharedPoll, PollAbort } from '../helpers/poll';

export const ROOT = path.resolve(__dirname, '../..');
export const CAIRN_JS = path.join(ROOT, 'dist/src/cli/cairn.js');
/** The conformance kit (a real Keystone, Horizon): `../shared/conformance` beside the checkout, or $CAIRN_CONFORMANCE_KIT. */
export const KIT = process.env.CAIRN_CONFORMANCE_KIT ?? path.resolve(ROOT, '../shared/conformance');
/** Where the kit keeps its Keystone's state (openrc files, pid). */
export const KEYSTONE_STATE = process.env.CAIRN_KEYSTONE_STATE_DIR ?? path.join(KIT, 'state');
/** The system's PATH for the kit's scripts (Debian's tools first). */
export const SYS_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Debian's python3 and its clients first, so a pyenv/venv python cannot shadow them. */
const CLI_PATH = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].join(':');
/** Host part of `os-vol-host-attr:host` and of services, so tests can name it. */
export const HOSTNAME = 'compat';

/** Thrown from a `poll` callback to stop at once: the awaited state can no longer come. */
export { PollAbort };

/** test/helpers/poll.ts's `poll`, every 100 ms unless told (a CLI call is slow anyway). */
export function poll<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  return sharedPoll(what, fn, { ...opts, intervalMs: opts.intervalMs ?? 100 });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A non-zero exit of a client: its arguments, exit code, stdout and stderr. */
export class CliError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${args.join(' ')} exited ${code}\n--- stderr ---\n${stderr.trim()}\n--- stdout ---\n${stdout.trim()}`);
  }
}

/** The parent's environment minus anything that configures an OpenStack client, cairn or node. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(OS_|CINDER_|CINDERCLIENT_|NOVA_|CAIRN_|DATABASE_URL$|AMQP_URL$|PORT$|HOST$|LOG_LEVEL$|NODE_OPTIONS$|PYTHON)/.test(k),
    ),
  );
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new CliError([cmd, ...args], (err as { code?: number | string }).code ?? err.signal ?? null, stdout, stderr));
      else resolve(stdout);
    });
  });
}

export interface CompatCairn {
  readonly url: string;
  readonly projectId: string;
  readonly userId: string;
  readonly dataDir: string;
  /** `cinder ARGS…` with noauth for this project at microversion 3.70; resolves stdout, rejects with CliError. */
  cinder(...args: string[]): Promise<string>;
  /** `openstack --os-cloud cairn ARGS…` through a clouds.yaml noauth cloud; resolves stdout, rejects with CliError. */
  openstack(...args: string[]): Promise<string>;
  /** `openstack ARGS…` with nothing but the clean environment (pass every --os-* option yourself). */
  openstackBare(...args: string[]): Promise<string>;
  /**
   * `openstack --os-cloud cairn-image ARGS…`: a cloud with an image service (cairn's own Glance subset
   * under /v2), so `image …` commands and `volume create --image NAME` resolve images.
   */
  openstackImage(...args: string[]): Promise<string>;
  /** `node dist/src/cli/manage.js ARGS…` on this cairn's data dir (with PGlite: only while cairn is stopped). */
  manage(...args: string[]): Promise<string>;
  /** cairn's stdout and stderr so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the built all-in-one on a free port with a fresh data dir and
 * waits until `GET /` answers 300. Project and user ids are random 32-hex
 * (Cinder routes only `[0-9a-f-]+` as a project id).
 */
export async function startCairn(opts: { startTimeoutMs?: number; dataDir?: string } = {}): Promise<CompatCairn> {
  if (!fs.existsSync(CAIRN_JS))
    throw new Error(`${path.relative(ROOT, CAIRN_JS)} is missing: run \`npm run build\` before the compat tests`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // A given data dir (prepared with `cairn-manage` before the start) is the test's; it is removed at stop too.
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-compat-'));
  const confDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-compat-conf-'));
  const projectId = randomBytes(16).toString('hex');
  const userId = randomBytes(16).toString('hex');

  const child: ChildProcess = spawn(process.execPath, [CAIRN_JS, 'all-in-one'], {
    cwd: ROOT,
    env: { ...cleanEnv(), PORT: String(port), HOST: '127.0.0.1', CAIRN_DATA_DIR: dataDir, CAIRN_HOSTNAME: HOSTNAME, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-32_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  const killOnExit = () => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const output = () =>
    `--- cairn all-in-one (pid ${child.pid}, ${exit ? `exited code=${exit.code} signal=${exit.signal}` : 'running'}) ---\n${out || '(no output)'}`;

  const stop = async () => {
    if (!exit) {
      child.kill('SIGTERM');
      const late = new Promise<'late'>((r) => setTimeout(() => r('late'), 10_000).unref());
      if ((await Promise.race([exited, late])) === 'late') child.kill('SIGKILL');
      await exited;
    }
    process.removeListener('exit', killOnExit);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(confDir, { recursive: true, force: true });
  };

  try {
    await poll(
      'cairn to answer GET / with 300',
      async () => {
        if (exit) throw new PollAbort(`cairn exited before it answered\n${output()}`);
        return (await fetch(`${url}/`)).status === 300;
      },
      { timeoutMs: opts.startTimeoutMs ?? 60_000, intervalMs: 100 },
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output()}`, { cause: err });
  }

  const cinderEnv: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    PATH: CLI_PATH,
    OS_AUTH_TYPE: 'noauth',
    OS_PROJECT_ID: projectId,
    OS_USER_ID: userId,
    CINDER_ENDPOINT: `${url}/v3/${projectId}`,
    OS_VOLUME_API_VERSION: '3.70',
  };
  // OSC builds an image client (openstacksdk) in `volume create` even without --image; with a noauth
  // endpoint that client cannot discover anything and the command fails, so the cloud says it has none.
  // The noauth plugin (python3-cinderclient's) appends the project id to its endpoint itself.
  const cloudsYaml = path.join(confDir, 'clouds.yaml');
  fs.writeFileSync(
    cloudsYaml,
    [
      'clouds:',
      '  cairn:',
      '    auth_type: noauth',
      '    auth:',
      `      endpoint: ${url}/v3`,
      `      project_id: '${projectId}'`,
      `      user_id: '${userId}'`,
      "    volume_api_version: '3.70'",
      '    has_image: false',
      // The image-capable cloud: keystoneauth's admin_token (noauth's `user:project` token) with endpoint
      // overrides, since the noauth plugin above cannot run openstacksdk's image version discovery.
      '  cairn-image:',
      '    auth_type: admin_token',
      '    auth:',
      `      endpoint: ${url}/v3/${projectId}`,
      `      token: '${userId}:${projectId}'`,
      `    block_storage_endpoint_override: ${url}/v3/${projectId}`,
      `    volume_endpoint_override: ${url}/v3/${projectId}`,
      "    volume_api_version: '3'",
      "    image_api_version: '2'",
      `    image_endpoint_override: ${url}/v2`,
      '',
    ].join('\n'),
  );
  const oscEnv: NodeJS.ProcessEnv = { ...cleanEnv(), PATH: CLI_PATH, OS_CLIENT_CONFIG_FILE: cloudsYaml };
  const bareEnv: NodeJS.ProcessEnv = { ...cleanEnv(), PATH: CLI_PATH };

  return {
    url,
    projectId,
    userId,
    dataDir,
    output,
    stop,
    cinder: (...args) => run('cinder', args, cinderEnv),
    openstack: (...args) => run('openstack', ['--os-cloud', 'cairn', ...args], oscEnv),
    openstackBare: (...args) => run('openstack', args, bareEnv),
    openstackImage: (...args) => run('openstack', ['--os-cloud', 'cairn-image', ...args], oscEnv),
    manage: (...args) => runManage(dataDir, ...args),
  };
}

/** `cairn-manage ARGS…` (the built one) on `dataDir`, in the clean environment. */
export function runManage(dataDir: string, ...args: string[]): Promise<string> {
  return run(
    process.execPath,
    [path.join(ROOT, 'dist/src/cli/manage.js'), ...args],
    { ...cleanEnv(), CAIRN_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    120_000,
  );
}

/**
 * The tables prettytable prints (cinderclient has no JSON output): one array
 * of rows per table, each row keyed by the header. Columns are cut at the `+`
 * of the border line, so a `|` inside a value does not split it; a line whose
 * first cell is empty continues the row above (multi-line cells such as
 * metadata), its cells appended with a newline.
 */
export function parseTables(text: string): Array<Array<Record<string, string>>> {
  const tables: Array<Array<Record<string, string>>> = [];
  let cuts: number[] | undefined;
  let borders = 0;
  let header: string[] | undefined;
  let rows: Array<Record<string, string>> = [];
  const cells = (line: string) => cuts!.slice(0, -1).map((c, i) => line.slice(c + 1, cuts![i + 1]).trim());
  const finish = () => {
    if (header) tables.push(rows);
    cuts = undefined;
    borders = 0;
    header = undefined;
    rows = [];
  };
  for (const line of text.split('\n').map((l) => l.replace(/\s+$/, ''))) {
    if (/^\+[-+]*\+$/.test(line)) {
      // border, header, border, rows…, border: the third border closes the table.
      if (!cuts) cuts = [...line].flatMap((ch, i) => (ch === '+' ? [i] : []));
      if (++borders === 3) finish();
      continue;
    }
    if (cuts && line.startsWith('|')) {
      const values = cells(line);
      if (!header) {
        header = values;
        continue;
      }
      const prev = rows[rows.length - 1];
      if (values[0] === '' && prev) {
        header.forEach((h, i) => {
          if (values[i] !== '') prev[h] = prev[h] === '' ? values[i]! : `${prev[h]}\n${values[i]}`;
        });
      } else {
        rows.push(Object.fromEntries(header.map((h, i) => [h, values[i] ?? ''])));
      }
      continue;
    }
    if (cuts) finish();
  }
  if (cuts) finish();
  return tables;
}

/** The one table in `text` (throws if there is none or more than one). */
export function parseTable(text: string): Array<Record<string, string>> {
  const tables = parseTables(text);
  if (tables.length !== 1) throw new Error(`expected one table, found ${tables.length} in:\n${text}`);
  return tables[0]!;
}

/** A two-column table (`Property | Value`, `Name | Value`, …) as an object. */
export function parseProperties(text: string): Record<string, string> {
  const rows = parseTable(text);
  if (rows.length === 0) return {};
  const [k, v] = Object.keys(rows[0]!);
  if (!k || !v) throw new Error(`not a two-column table:\n${text}`);
  return Object.fromEntries(rows.map((r) => [r[k]!, r[v]!]));
}

/** A flat Python dict repr of strings as cinderclient prints it (`{'a': 'b', 'k': 'v'}`). */
export function parsePyStrDict(s: string): Record<string, string> {
  const t = s.trim();
  if (!/^\{.*\}$/s.test(t)) throw new Error(`not a dict: ${s}`);
  return Object.fromEntries([...t.matchAll(/'((?:[^'\\]|\\.)*)'\s*:\s*'((?:[^'\\]|\\.)*)'/g)].map((m) => [m[1]!, m[2]!]));
}
