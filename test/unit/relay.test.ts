import pino from 'pino';
import { migrateLatest, openPglite, type Db } from '../../src/db/connection';
import * as tasksDb from '../../src/db/tasks';
import { Relay } from '../../src/workers/relay';
import type { TaskMessage, Transport } from '../../src/workers/transport';

/** A broker whose confirms the test gives (or refuses) by hand. */
class HeldConfirms implements Transport {
  readonly sent: TaskMessage[] = [];
  private pending: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  async publish(_backend: string, messages: readonly TaskMessage[]): Promise<void> {
    this.sent.push(...messages);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  async consume(): Promise<void> {}
  async close(): Promise<void> {}
  get waiting(): number { return this.pending.length; }
  settle(ok: boolean): void {
    for (const p of this.pending.splice(0)) if (ok) p.resolve(); else p.reject(new Error('nack'));
  }
}

const publishedAt = async (db: Db, id: string) => (await tasksDb.find(db, id))?.published_at ?? null;

async function until(what: string, test: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Relay: the outbox is committed before the broker confirms', () => {
  let db: Db;
  beforeAll(async () => { db = openPglite(); await migrateLatest(db); });
  afterAll(async () => { await db.destroy(); });

  const newTask = async (id: string) => tasksDb.insert(db, {
    id, kind: 'volume.create', resource_type: 'volume', resource_id: id, backend: 'file', payload: {},
    max_attempts: 3, request_id: null, project_id: null,
  });

  it('marks the task published (no row lock held) while the confirm is outstanding; a confirm leaves it so', async () => {
    const transport = new HeldConfirms();
    const relay = new Relay(db, transport, pino({ level: 'silent' }), 60_000);
    const id = '3f1d6c2e-8a4b-4c5d-9e6f-7a8b9c0d1e2f';
    await newTask(id);
    relay.tasksWritten();
    await until('the publish', () => transport.waiting === 1);
    // Committed before the confirm: another connection reads it, and could lock it (a worker's claim).
    await until('the commit', async () => (await publishedAt(db, id)) !== null);
    expect(transport.sent.map((m) => m.taskId)).toEqual([id]);
    transport.settle(true);
    await relay.stop();
    expect(await publishedAt(db, id)).not.toBeNull();
  });

  it('a message the broker refuses after the commit is unmarked, so the relay sends it again', async () => {
    const transport = new HeldConfirms();
    const relay = new Relay(db, transport, pino({ level: 'silent' }), 60_000);
    const id = '4a2e7d3f-9b5c-4d6e-8f70-8b9cad1e2f30';
    await newTask(id);
    relay.tasksWritten();
    await until('the commit', async () => transport.waiting === 1 && (await publishedAt(db, id)) !== null);
    transport.settle(false);
    await until('the unmark', async () => (await publishedAt(db, id)) === null);
    relay.tasksWritten();
    await until('the second publish', () => transport.sent.filter((m) => m.taskId === id).length === 2);
    transport.settle(true);
    await relay.stop();
  });
});
