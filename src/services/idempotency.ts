import { createHash } from 'node:crypto';
import { ApiError, badRequest } from '../domain/errors';
import type { Db } from '../db/connection';
import type { Metrics } from '../metrics';

/**
 * The creates an `Idempotency-Key` header applies to (IETF draft
 * "The Idempotency-Key HTTP Header Field"; EBS's `ClientToken`), by
 * operation id of the OpenAPI documents. Backups join by their operation id
 * once they exist; an id no document has is simply never seen.
 */
export const IDEMPOTENT_OPERATIONS: ReadonlySet<string> = new Set([
  'createVolume',
  'createSnapshot',
  'createAttachment',
  'createBackup', // api-spec/openapi.yaml
  'createServer',
  'attachVolume', // api-spec/compute.yaml
]);

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const MAX_KEY_LENGTH = 255;
/** How long a retry waits for the first request with its key to be answered before a 409. */
const WAIT_FOR_FIRST_MS = 30_000;

export interface StoredReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

interface Row {
  fingerprint: string;
  operation: string;
  response_status: number | null;
  /** JSON text. */
  response_body: string | null;
  response_headers: string | null;
}

/** `Idempotency-Key: "abc"` (a structured-field string) or a bare token; undefined when absent. */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1);
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (key === '' || key.length > MAX_KEY_LENGTH || /[\u0000-\u001f\u007f]/.test(key)) {
    throw badRequest(`Invalid input received: Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} printable characters.`);
  }
  return key;
}

/**
 * One middleware for every idempotent create: the first request with a key
 * claims it (a row inserted before the create runs), runs, and stores its
 * answer; a retry with the same key and the same request waits for that
 * answer and repeats it (status, body, headers) without creating anything;
 * the same key with another request is refused (422). Keys belong to a
 * project. A server error (5xx) is not stored: the key is freed so the
 * client may retry for real.
 */
export class Idempotency {
  constructor(
    private readonly db: Db,
    private readonly metrics?: Metrics,
  ) {}

  async run(
    req: { projectId: string; key: string; operation: string; path: string; body: unknown },
    handler: () => Promise<StoredReply>,
  ): Promise<StoredReply> {
    const fingerprint = createHash('sha256')
      .update(`${req.operation}\n${req.path}\n${JSON.stringify(req.body ?? null)}`)
      .digest('hex');
    const now = new Date();
    // Claim the key; an expired row of the same key is taken over in the same statement.
    const claimed = (await this.db.raw(
      `INSERT INTO idempotency_keys (project_id, idempotency_key, operation, fingerprint, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (project_id, idempotency_key) DO UPDATE
         SET operation = EXCLUDED.operation, fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at,
             expires_at = EXCLUDED.expires_at, response_status = NULL, response_body = NULL, response_headers = NULL
         WHERE idempotency_keys.expires_at < EXCLUDED.created_at
       RETURNING 1 AS claimed`,
      [req.projectId, req.key, req.operation, fingerprint, now, new Date(now.getTime() + IDEMPOTENCY_TTL_MS)],
    )) as { rows: unknown[] };
    if (claimed.rows.length === 0) return this.replay(req, fingerprint);

    let reply: StoredReply;
    try {
      reply = await handler();
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) {
        const fault: Record<string, unknown> = { code: err.status, message: err.message };
        await this.store(req, { status: err.status, body: { [err.fault]: fault }, headers: { ...err.headers } });
      } else {
        await this.forget(req);
      }
      throw err;
    }
    if (reply.status >= 500) await this.forget(req);
    else await this.store(req, reply);
    return reply;
  }

  /** Deletes expired keys; returns how many. */
  async cleanup(): Promise<number> {
    return (await this.db('idempotency_keys').where('expires_at', '<', new Date()).delete().returning('project_id')).length;
  }

  private async replay(req: { projectId: string; key: string; operation: string }, fingerprint: string): Promise<StoredReply> {
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (let delay = 10; ; delay = Math.min(200, delay * 2)) {
      const row: Row | undefined = await this.db('idempotency_keys').where({ project_id: req.projectId, idempotency_key: req.key }).first();
      if (!row) {
        // The first request failed and freed its key meanwhile: the caller retries.
        throw new ApiError(409, 'conflictingRequest', `The request with Idempotency-Key ${req.key} failed and was not recorded; retry it.`);
      }
      if (row.fingerprint !== fingerprint) {
        throw new ApiError(
          422,
          'unprocessableEntity',
          `Idempotency-Key ${req.key} was already used in this project for a different request ` +
            `(${row.operation}); use a new key for a new request.`,
        );
      }
      if (row.response_status !== null) {
        this.metrics?.idempotentReplays.inc({ operation: req.operation });
        const body: unknown = row.response_body === null ? undefined : JSON.parse(row.response_body);
        const headers = {
          ...(row.response_headers ? (JSON.parse(row.response_headers) as Record<string, string>) : {}),
          'Idempotent-Replayed': 'true',
        };
        const stored = row.response_status >= 400 ? errorOf(row.response_status, body, headers) : undefined;
        if (stored) throw stored;
        return { status: row.response_status, ...(body === undefined ? {} : { body }), headers };
      }
      if (Date.now() > deadline) {
        throw new ApiError(409, 'conflictingRequest', `A request with Idempotency-Key ${req.key} is still being processed; retry later.`);
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private async store(req: { projectId: string; key: string }, reply: StoredReply): Promise<void> {
    await this.db('idempotency_keys')
      .where({ project_id: req.projectId, idempotency_key: req.key })
      .update({
        response_status: reply.status,
        response_body: reply.body === undefined ? null : JSON.stringify(reply.body),
        response_headers: JSON.stringify(reply.headers ?? {}),
      });
  }

  private async forget(req: { projectId: string; key: string }): Promise<void> {
    await this.db('idempotency_keys').where({ project_id: req.projectId, idempotency_key: req.key }).delete();
  }
}

/** A stored error answer, thrown again so the error middleware renders it as the first time. */
function errorOf(status: number, body: unknown, headers: Record<string, string>): ApiError | undefined {
  const [fault, inner] = Object.entries((body ?? {}) as Record<string, { message?: string }>)[0] ?? [];
  if (!fault || !inner) return undefined;
  return new ApiError(status, fault, inner.message ?? '', headers);
}
