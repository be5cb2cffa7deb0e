import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { accessLog, rememberingIdentity } from '../../src/http/shared/accessLog';

/** An app whose access log goes to `lines`; `/slow` answers after the client may have gone. */
function appLogging(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const app = express();
  const authenticate = rememberingIdentity(async () => ({ userId: 'u1', projectId: 'p1', roles: ['member'] }));
  app.use((req, res, next) => {
    res.set('x-openstack-request-id', 'req-1');
    next();
  });
  app.use(accessLog(pino({ level }, sink)));
  app.get('/v3/volumes', async (req, res) => {
    await authenticate(req, res);
    res.status(200).json({ volumes: [] });
  });
  app.get('/slow', (_req, res) => {
    setTimeout(() => res.status(200).end(), 300);
  });
  return { app, lines };
}

describe('accessLog', () => {
  it('logs one line per request: method, path without the query, status, request id, user, project, duration', async () => {
    const { app, lines } = appLogging('info');
    await request(app).get('/v3/volumes?limit=1').expect(200);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      access: true,
      method: 'GET',
      path: '/v3/volumes',
      status: 200,
      requestId: 'req-1',
      user: 'u1',
      project: 'p1',
      durationMs: expect.any(Number),
    });
    expect(lines[0]).not.toHaveProperty('aborted');
  });

  it('marks a request whose client went away before the answer', async () => {
    const { app, lines } = appLogging('info');
    const server = app.listen(0);
    try {
      const port = (server.address() as { port: number }).port;
      const controller = new AbortController();
      const pending = fetch(`http://127.0.0.1:${port}/slow`, { signal: controller.signal }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      controller.abort();
      await pending;
      await new Promise((r) => setTimeout(r, 100));
      expect(lines).toEqual([expect.objectContaining({ path: '/slow', aborted: true, user: null })]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('notes nothing below the info level', async () => {
    const { app, lines } = appLogging('warn');
    await request(app).get('/v3/volumes').expect(200);
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([]);
  });
});
