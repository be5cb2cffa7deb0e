/**
 * Domain errors. Each carries the HTTP status and the fault name of
 * Cinder's error envelope `{"<fault>": {"code", "message"}}`
 * (`cinder/api/openstack/wsgi.py:Fault`); one middleware renders them.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly fault: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new ApiError(400, 'badRequest', message);
export const invalidInput = (reason: string) => badRequest(`Invalid input received: ${reason}`);
export const invalidVolume = (reason: string) => badRequest(`Invalid volume: ${reason}`);
export const unauthorized = (message = 'The request you have made requires authentication.') => new ApiError(401, 'unauthorized', message);
export const forbidden = (action: string) => new ApiError(403, 'forbidden', `Policy doesn't allow ${action} to be performed.`);
export const notFound = (message: string) => new ApiError(404, 'itemNotFound', message);
export const conflict = (message: string) => new ApiError(409, 'conflictingRequest', message);
/**
 * OSSA-2023-003 (Cinder bug #2004555): a user may not remove an attachment a
 * server still uses. Cinder's `ConflictNovaUsingAttachment` is `safe`, so its
 * fault middleware prefixes the class name.
 */
export const conflictNovaUsingAttachment = (instanceId: string | null) =>
  conflict(`ConflictNovaUsingAttachment: Detach volume from instance ${instanceId ?? 'None'} using the Compute API`);
export const overLimit = (message: string) => new ApiError(413, 'overLimit', message, { 'Retry-After': '0' });
export const notImplemented = (message = 'The requested function is not supported.') => new ApiError(501, 'notImplemented', message);

/** Fault names by status, for errors that are not ApiErrors (Cinder's table). */
export function faultName(status: number): string {
  switch (status) {
    case 400:
      return 'badRequest';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'itemNotFound';
    case 405:
      return 'badMethod';
    case 409:
      return 'conflictingRequest';
    case 413:
      return 'overLimit';
    case 415:
      return 'badMediaType';
    case 501:
      return 'notImplemented';
    case 503:
      return 'serviceUnavailable';
    default:
      return 'computeFault';
  }
}

/**
 * A driver failure. `transient` failures are retried with backoff by the
 * task runner; final ones fail the task at once. `detail` is the tool's
 * output (e.g. a provider script's stderr), kept for the task row and the
 * log; `userDetail` names the fixed user-message text (services/messages.ts
 * `MessageDetail`) when the task kind's default does not say it.
 */
export class DriverError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly detail = '',
    readonly userDetail?: string,
  ) {
    super(message);
  }
}

/** How long a client is asked to wait (`Retry-After`, seconds) when the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 10;

/** Cinder's 503 (`serviceUnavailable`), with `Retry-After`: the request may be retried later. */
export const serviceUnavailable = (message: string, retryAfterSeconds = DATABASE_RETRY_AFTER_SECONDS) =>
  new ApiError(503, 'serviceUnavailable', message, { 'Retry-After': String(retryAfterSeconds) });

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTCONN', 'ECONNABORTED']);
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'Timeout acquiring a connection',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'connect ECONNREFUSED',
  'Connection ended unexpectedly',
  'the database system is shutting down',
  'the database system is starting up',
];

/**
 * Whether `err` says the database could not be reached or went away
 * mid-request (refused or reset connections, PostgreSQL's admin shutdown
 * 57P01-57P03 and connection exceptions 08xxx, knex's pool timeout): the
 * operation may or may not have happened, and a later retry may succeed.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0;
    e && depth < 4;
    depth++
  ) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (CONNECTION_CODES.has(code) || /^57P0[123]$/.test(code) || /^08/.test(code)) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (CONNECTION_MESSAGES.some((m) => message.includes(m))) return true;
    if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x))) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** The answer to a request the database outage interrupted: it may have happened; retry later. */
export const databaseUnavailable = () =>
  serviceUnavailable('The database is unreachable; the request may or may not have been carried out. Retry later.');

/**
 * A request whose work was committed (accepted) but whose outcome could not
 * be read back (the database went away while waiting): answered as accepted
 * where the route can (`row`), else as a 503 to retry later.
 */
export class OutcomeUnread extends ApiError {
  constructor(
    readonly row?: unknown,
    why = 'the database is unreachable',
  ) {
    super(503, 'serviceUnavailable', `The request was accepted, but its outcome could not be read (${why}). Retry later.`, {
      'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS),
    });
  }
}
