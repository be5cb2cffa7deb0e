import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { startRuntime, type Runtime } from '../../src/runtime';
import pino from 'pino';

export const PROJECT = '0a1b2c3d4e5f40718293a4b5c6d7e8f9';
export const USER = '1d2c3b4a59687f6e5d4c3b2a1f0e9d8c';
export const TOKEN = `${USER}:${PROJECT}`;

export interface TestCairn extends Runtime {
  readonly dataDir: string;
  readonly url: string;
}

/** An all-in-one cairn on an ephemeral port, in-memory PGlite and a temp data dir, unless env overrides. */
export async function startTestCairn(env: Record<string, string> = {}): Promise<TestCairn> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-test-'));
  const config: Config = loadConfig({
    CAIRN_DATA_DIR: dataDir,
    DATABASE_URL: 'pglite://memory',
    PORT: '0',
    HOST: '127.0.0.1',
    CAIRN_HOSTNAME: 'testhost',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const roles = { api: true, workerBackends: config.backends.map((b) => b.name), migrate: true, backupWorker: true };
  const rt = await startRuntime(config, roles, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  const stopRuntime = rt.stop.bind(rt);
  return Object.assign(rt, {
    dataDir,
    url: rt.url!,
    async stop() {
      await stopRuntime();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Polls `fn` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Lifts the test project's volume and gigabyte quotas (Cinder's default allows 10 volumes), through the API. */
export async function liftQuotas(url: string, project = PROJECT): Promise<void> {
  const res = await fetch(`${url}/v3/${project}/os-quota-sets/${project}`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': `${USER}:${project}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ quota_set: { volumes: -1, gigabytes: -1, snapshots: -1 } }),
  });
  if (res.status !== 200) throw new Error(`lifting quotas failed: ${res.status} ${await res.text()}`);
}
