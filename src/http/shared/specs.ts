import fs from 'node:fs';
import path from 'node:path';

/**
 * The path of an OpenAPI document in `api-spec/` (the HTTP surface's one source of truth),
 * found by walking up from this module: it runs from src/ under jest and from dist/src/ when built.
 */
export function specFile(name: string): string {
  for (let dir = __dirname, up = 0; up < 6; dir = path.dirname(dir), up++) {
    const candidate = path.join(dir, 'api-spec', name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`api-spec/${name} not found above ${__dirname}`);
}
