import type { Request, Response } from 'express';
import type { Context } from 'openapi-backend';
import type { Logger } from 'pino';
import { ApiError, badRequest, databaseUnavailable, invalidInput, isDatabaseUnavailable, notImplemented } from '../../domain/errors';
import { dbInputReason } from '../../db/errors';
import { PROBLEM_TEXT } from './input';
import type { Refusals } from './mount';
import { cinderValidationMessage } from './validationMessage';

/**
 * Cinder's and Nova's fault envelope `{"<fault>": {"code", "message"}}`:
 * the volume and compute wings' error rendering, and the app's for
 * everything outside the wings.
 */
export function faultRenderer(log: Logger): (err: unknown, req: Request, res: Response) => void {
  return (err, _req, res) => {
    const e = toApiError(err, log, (res.locals as { requestId: string }).requestId);
    res.set(e.headers);
    const fault: Record<string, unknown> = { code: e.status, message: e.message };
    if (e.status === 413 && e.headers['Retry-After']) fault.retryAfter = e.headers['Retry-After'];
    res.status(e.status).json({ [e.fault]: fault });
  };
}

/** The mount's refusals as Cinder and Nova word them (Nova's schema errors read like Cinder's: the same jsonschema texts). */
export const FAULT_REFUSALS: Pick<Refusals, 'invalid' | 'notImplemented' | 'input'> = {
  invalid: (c: Context) =>
    badRequest(
      cinderValidationMessage(c.validation.errors ?? [], c.request.requestBody, {
        root: 'requestBody',
        request: { query: c.request.query, params: c.request.params, path: c.request.params },
      }),
    ),
  notImplemented: () => notImplemented(),
  input: (problem) => {
    if (problem === 'json' || problem === 'depth') return badRequest('Malformed request body');
    if (problem === 'escape') return badRequest('Malformed request url');
    return invalidInput(PROBLEM_TEXT[problem]);
  },
};

/** Anything that is not an ApiError: bad input the database caught, or a bug (logged, generic 500). */
function toApiError(err: unknown, log: Logger, requestId: string): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { type?: string; status?: number; code?: string; message?: string };
  if (e.type === 'entity.too.large') return new ApiError(413, 'overLimit', 'Request is too large.');
  if (e.type === 'entity.parse.failed') return badRequest('Malformed request body');
  // PostgreSQL's data exceptions: the caller's input, answered without the statement or the value.
  const reason = dbInputReason(err);
  if (reason !== undefined) {
    log.info({ err, requestId }, 'database refused the input');
    return badRequest(`Invalid input received: ${reason}`);
  }
  // The database went away: the operation may have happened, so never a 500; 503 with Retry-After, as Cinder's.
  if (isDatabaseUnavailable(err)) {
    log.warn({ err: e.message, requestId }, 'database unreachable; answering 503');
    return databaseUnavailable();
  }
  log.error({ err, requestId }, 'unhandled error');
  return new ApiError(500, 'computeFault', 'The server has either erred or is incapable of performing the requested operation.');
}
