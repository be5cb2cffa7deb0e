/**
 * The machine's bare limits, measured with the same load generator as cairn: a Node HTTP server
 * answering a fixed JSON body, and a Node HTTP server doing one indexed single-row select through
 * `pg` per request (a volume by primary key, as json). Each runs as `processes` processes (node:cluster,
 * as `cairn api --processes N` does), so a cairn figure reads as a fraction of what these 2 cores do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CairnProcess } from './cairn';

const SERVER = String.raw`
const cluster = require('node:cluster');
const http = require('node:http');
const n = Number(process.env.BARE_PROCESSES || 1);
if (cluster.isPrimary && n > 1) {
  for (let i = 0; i < n; i++) cluster.fork();
  process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0); });
} else {
  const body = process.env.BARE_BODY;
  let handler;
  if (process.env.BARE_PG) {
    const { Pool } = require(process.env.BARE_PG);
    const pool = new Pool({ connectionString: process.env.BARE_DATABASE_URL, max: 10 });
    let ids = [];
    pool.query('SELECT id FROM volumes LIMIT 5000').then((r) => { ids = r.rows.map((x) => x.id); });
    let k = 0;
    handler = (req, res) => {
      if (ids.length === 0) { res.writeHead(503); res.end(); return; }
      k = (k + 7919) % ids.length;
      pool.query({ name: 'bare', text: 'SELECT row_to_json(v) AS v FROM volumes v WHERE v.id = $1', values: [ids[k]] }).then((r) => {
        const out = JSON.stringify({ volume: r.rows[0].v });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      }, (err) => { res.writeHead(500); res.end(String(err)); });
    };
  } else {
    const buf = Buffer.from(body);
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': buf.length });
      res.end(buf);
    };
  }
  http.createServer(handler).listen(Number(process.env.PORT), '127.0.0.1');
}
`;

export interface BareOptions {
  readonly port: number;
  readonly processes: number;
  /** The fixed answer (bare HTTP). */
  readonly body?: string;
  /** One select per request on this database, by a stride through 5,000 of its volumes' ids. */
  readonly pg?: { databaseUrl: string };
}

/** Starts a bare server (a child process; stop it with `stop()`). */
export function startBare(name: string, dir: string, o: BareOptions): CairnProcess {
  const script = path.join(dir, 'bare-server.js');
  fs.writeFileSync(script, SERVER);
  const env: Record<string, string> = { PORT: String(o.port), BARE_PROCESSES: String(o.processes), BARE_BODY: o.body ?? '{}' };
  if (o.pg) {
    env.BARE_PG = require.resolve('pg');
    env.BARE_DATABASE_URL = o.pg.databaseUrl;
  }
  return new CairnProcess(name, [], env, [], script);
}

/** Polls until the bare server answers 200. */
export async function waitForBare(proc: CairnProcess, origin: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    proc.assertAlive();
    if (
      await fetch(origin).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return;
    if (Date.now() > deadline) throw new Error(`${proc.name} did not answer: ${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
