/**
 * Request input that no handler should see: NUL characters (PostgreSQL's
 * text and jsonb cannot hold them), bodies nested deeper than any API
 * document allows (every recursive consumer — validation messages,
 * jsonb — stays bounded), and path segments whose percent-escapes do not
 * decode. Each check is iterative: the input's shape cannot exhaust the
 * stack. The API apps turn a problem into their own 400.
 */

/** No body of the three API documents nests beyond a handful of levels; Python's json gives up near 1000. */
export const MAX_BODY_DEPTH = 64;

export type InputProblem = 'nul' | 'depth' | 'escape';

export const PROBLEM_TEXT: Readonly<Record<InputProblem, string>> = {
  nul: 'NUL characters are not allowed',
  depth: 'the request body is nested too deeply',
  escape: 'the URL has a malformed percent-escape',
};

/** The first problem of a parsed JSON value: a NUL in a key or string, or nesting beyond `MAX_BODY_DEPTH`. */
export function bodyProblem(value: unknown): InputProblem | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) return 'nul';
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) return 'depth';
    if (Array.isArray(v)) {
      for (const x of v) stack.push([x, depth + 1]);
      continue;
    }
    for (const [k, x] of Object.entries(v)) {
      if (k.includes('\0')) return 'nul';
      stack.push([x, depth + 1]);
    }
  }
  return undefined;
}

/** A raw (still percent-encoded) URL path whose segments do not decode, or decode to a NUL. */
export function pathProblem(rawPath: string): InputProblem | undefined {
  for (const seg of rawPath.split('/')) {
    if (!seg.includes('%')) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      return 'escape';
    }
    if (decoded.includes('\0')) return 'nul';
  }
  return undefined;
}

/** A NUL in any key or value of a parsed query string. */
export function queryProblem(query: Record<string, unknown>): InputProblem | undefined {
  for (const [k, v] of Object.entries(query)) {
    if (k.includes('\0')) return 'nul';
    for (const s of Array.isArray(v) ? v : [v]) if (typeof s === 'string' && s.includes('\0')) return 'nul';
  }
  return undefined;
}
