import type { Conn } from '../../src/db/connection';
import { badRequest } from '../../src/domain/errors';
import { createAndDelete, resetTransition, SnapshotStatus, type Transition } from '../../src/domain/status';
import { moveIfStill, moveOrRefuse, refuseUnlessFrom, type StatusColumn } from '../../src/services/status/move';

/** A table of one row in memory, with the same compare-and-set contract as db/*.ts `casStatus`. */
function oneRow(status: string) {
  const row = { id: 'r1', status, note: '' };
  const column: StatusColumn<string, typeof row, { note?: string }> = {
    cas: async (_conn, id, from, to, fields) => {
      if (id !== row.id || !from.includes(row.status)) return undefined;
      Object.assign(row, fields, { status: to });
      return { ...row };
    },
  };
  return { row, column };
}

const conn = {} as Conn;
const t: Transition<string> = { name: 'delete', from: ['available', 'error'], to: 'deleting' };
const refuse = () => badRequest('Invalid snapshot: Snapshot status must be available or error.');

describe('moveOrRefuse / moveIfStill', () => {
  it('moves a row in one of `from`, with the other fields, and answers the moved row', async () => {
    const { row, column } = oneRow('error');
    await expect(moveOrRefuse(conn, column, 'r1', t, refuse, { note: 'x' })).resolves.toEqual({ id: 'r1', status: 'deleting', note: 'x' });
    expect(row.status).toBe('deleting');
  });

  it("refuses a row in another status with the caller's own error, and moves nothing", async () => {
    const { row, column } = oneRow('creating');
    await expect(moveOrRefuse(conn, column, 'r1', t, refuse)).rejects.toMatchObject({
      status: 400,
      message: 'Invalid snapshot: Snapshot status must be available or error.',
    });
    expect(row.status).toBe('creating');
  });

  it('moveIfStill answers undefined for a row moved meanwhile, without an error', async () => {
    const { row, column } = oneRow('deleted');
    await expect(moveIfStill(conn, column, 'r1', t)).resolves.toBeUndefined();
    expect(row.status).toBe('deleted');
  });

  it('refuseUnlessFrom checks the same `from` before the move', () => {
    expect(() => refuseUnlessFrom(t, 'available', refuse)).not.toThrow();
    expect(() => refuseUnlessFrom(t, 'in-use', refuse)).toThrow('Snapshot status must be available or error');
  });
});

describe('shared transition shapes', () => {
  it('createAndDelete gives a resource its create and delete moves from its own strings', () => {
    expect(createAndDelete(SnapshotStatus)).toEqual({
      createDone: { name: 'create-done', from: ['creating'], to: 'available' },
      createFailed: { name: 'create-failed', from: ['creating'], to: 'error' },
      delete: { name: 'delete', from: ['available', 'error'], to: 'deleting' },
      deleteFailed: { name: 'delete-failed', from: ['deleting'], to: 'error_deleting' },
    });
  });

  it('a reset moves from the statuses named to the target', () => {
    expect(resetTransition(['a', 'b'], 'b')).toEqual({ name: 'reset-status', from: ['a', 'b'], to: 'b' });
  });
});
