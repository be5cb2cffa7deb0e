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
export const unauthorized = (message = 'The request you have made requires authentication.') =>
  new ApiError(401, 'unauthorized', message);
export const forbidden = (action: string) =>
  new ApiError(403, 'forbidden', `Policy doesn't allow ${action} to be performed.`);
export const notFound = (message: string) => new ApiError(404, 'itemNotFound', message);
export const conflict = (message: string) => new ApiError(409, 'conflictingRequest', message);
/**
 * OSSA-2023-003 (Cinder bug #2004555): a user may not remove an attachment a
 * server still uses. Cinder's `ConflictNovaUsingAttachment` is `safe`, so its
 * fault middleware prefixes the class name.
 */
export const conflictNovaUsingAttachment = (instanceId: string | null) =>
  conflict(`ConflictNovaUsingAttachment: Detach volume from instance ${instanceId ?? 'None'} using the Compute API`);
export const overLimit = (message: string) =>
  new ApiError(413, 'overLimit', message, { 'Retry-After': '0' });
export const notImplemented = (message = 'The requested function is not supported.') =>
  new ApiError(501, 'notImplemented', message);

/** Fault names by status, for errors that are not ApiErrors (Cinder's table). */
export function faultName(status: number): string {
  switch (status) {
    case 400: return 'badRequest';
    case 401: return 'unauthorized';
    case 403: return 'forbidden';
    case 404: return 'itemNotFound';
    case 405: return 'badMethod';
    case 409: return 'conflictingRequest';
    case 413: return 'overLimit';
    case 415: return 'badMediaType';
    case 501: return 'notImplemented';
    case 503: return 'serviceUnavailable';
    default: return 'computeFault';
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
  constructor(message: string, readonly transient: boolean, readonly detail = '', readonly userDetail?: string) {
    super(message);
  }
}
