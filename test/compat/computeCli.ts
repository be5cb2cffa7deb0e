/**
 * The real Debian `nova` (python3-novaclient 18.1) and `openstack`
 * (python3-openstackclient 6.0 / openstacksdk 0.101) pointed at cairn's
 * compute API (`/v2.1`) in noauth mode. What it takes:
 *
 * - `nova`: the noauth plugin (cinderclient's, any keystoneauth client
 *   loads it) with `--endpoint <url>/v2.1`; novaclient still insists on
 *   OS_AUTH_URL, OS_USER_ID and OS_PROJECT_ID being set, so they are.
 * - `openstack`: keystoneauth's `admin_token` plugin (the token is noauth's
 *   `user:project`) with per-service endpoint overrides: compute at
 *   `/v2.1/<project>`, block-storage at `/v3/<project>`.
 * - openstacksdk discovers the block-storage version without a token;
 *   noauth answers that with 204 (as Cinder's noauth does; with Keystone the
 *   401 makes it retry with the token). So the block-storage override goes
 *   through a pass-through proxy that adds the token to requests that lack
 *   one, and changes nothing else.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CliError, type CompatCairn } from './cli';

export interface ComputeClis {
  nova(...args: string[]): Promise<string>;
  openstack(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const PATH = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].join(':');

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: 60_000, maxBuffer: 8 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new CliError([cmd, ...args], (err as { code?: number | string }).code ?? err.signal ?? null, stdout, stderr));
      else resolve(stdout);
    });
  });
}

/** Forwards everything to `target`, adding `X-Auth-Token: token` where there is none. */
function tokenProxy(target: string, token: string): Promise<[http.Server, string]> {
  const t = new URL(target);
  const srv = http.createServer((req, res) => {
    const headers = { ...req.headers, 'x-auth-token': req.headers['x-auth-token'] ?? token };
    const up = http.request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (err) => res.writeHead(502).end(String(err)));
    req.pipe(up);
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => resolve([srv, `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`])),
  );
}

export async function computeClis(cairn: CompatCairn, computeVersion = '2.89'): Promise<ComputeClis> {
  const { url, projectId: project, userId: user } = cairn;
  const [proxy, proxyUrl] = await tokenProxy(url, `${user}:${project}`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-compute-cli-'));
  const clouds = path.join(home, 'clouds.yaml');
  fs.writeFileSync(
    clouds,
    [
      'clouds:',
      '  cairn:',
      '    auth_type: admin_token',
      '    auth:',
      `      endpoint: ${url}/v2.1/${project}`,
      `      token: '${user}:${project}'`,
      `    compute_api_version: '${computeVersion}'`,
      `    compute_endpoint_override: ${url}/v2.1/${project}`,
      "    volume_api_version: '3.70'",
      `    block_storage_endpoint_override: ${proxyUrl}/v3/${project}`,
      `    volume_endpoint_override: ${proxyUrl}/v3/${project}`,
      '    has_image: false',
      '',
    ].join('\n'),
  );
  const base = { PATH, HOME: home, LANG: 'C.UTF-8' };
  const novaEnv = {
    ...base,
    OS_AUTH_URL: 'http://127.0.0.1:9/unused',
    OS_USER_ID: user,
    OS_PROJECT_ID: project,
    OS_COMPUTE_API_VERSION: computeVersion,
  };
  return {
    nova: (...args) =>
      run('nova', ['--os-auth-type', 'noauth', '--user-id', user, '--project-id', project, '--endpoint', `${url}/v2.1`, ...args], novaEnv),
    openstack: (...args) => run('openstack', ['--os-cloud', 'cairn', ...args], { ...base, OS_CLIENT_CONFIG_FILE: clouds }),
    async stop() {
      await new Promise((r) => proxy.close(r));
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
