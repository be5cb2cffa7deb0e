/**
 * Parses the small Python literal subset that cinderclient and Tempest send
 * in filters (`metadata={'k': 'v'}` — Cinder `ast.literal_eval`s them): dicts,
 * lists, single- or double-quoted strings, numbers, True/False/None.
 * Returns undefined for anything else.
 */
export function parsePyLiteral(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (): never => {
    throw new SyntaxError(`bad literal at ${i}`);
  };

  function str(): string {
    const q = text[i++];
    let out = '';
    while (i < text.length && text[i] !== q) {
      if (text[i] === '\\') {
        i++;
        const c = text[i++];
        out += c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : (c ?? '');
      } else out += text[i++];
    }
    if (text[i] !== q) fail();
    i++;
    return out;
  }

  function value(): unknown {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        const k = value();
        ws();
        if (text[i++] !== ':') fail();
        obj[String(k)] = value();
        ws();
        const sep = text[i++];
        if (sep === '}') return obj;
        if (sep !== ',') fail();
        ws();
        if (text[i] === '}') {
          i++;
          return obj;
        }
      }
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === close) {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        const sep = text[i++];
        if (sep === close) return arr;
        if (sep !== ',') fail();
        ws();
        if (text[i] === close) {
          i++;
          return arr;
        }
      }
    }
    if (c === "'" || c === '"') return str();
    const m = /^(True|False|None|-?\d+(\.\d+)?)/.exec(text.slice(i));
    if (!m) return fail();
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0]);
  }

  try {
    const v = value();
    ws();
    return i === text.length ? v : undefined;
  } catch {
    return undefined;
  }
}
