/**
 * Glance's errors are webob's HTTP exceptions, not Cinder's fault envelope:
 * JSON `{"message", "code", "title"}` to clients that accept JSON
 * (openstacksdk, glanceclient), plain text otherwise. The image router
 * renders them (app.ts).
 */
export class GlanceError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export const glanceBadRequest = (m: string) => new GlanceError(400, m);
export const glanceForbidden = (m: string) => new GlanceError(403, m);
export const glanceNotFound = (m: string) => new GlanceError(404, m);
export const glanceConflict = (m: string) => new GlanceError(409, m);
/** Glance's text for an image that is missing or hidden from the caller (`_image_get`). */
export const noImage = (id: string) => glanceNotFound(`No image found with ID ${id}`);

/** webob's rendering of an HTTP exception with `explanation`, as a status, content type and body. */
export function renderGlanceError(status: number, message: string, accept: string | undefined): { type: string; body: string } {
  const title = TITLES[status] ?? 'Error';
  const code = `${status} ${title}`;
  if (accept && /application\/json/i.test(accept)) {
    return { type: 'application/json', body: JSON.stringify({ message: `${message}<br /><br />\n\n\n`, code, title }) };
  }
  return { type: 'text/plain; charset=UTF-8', body: `${code}\n\n${message}\n\n   ` };
}
