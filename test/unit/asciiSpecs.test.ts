import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const specDir = join(__dirname, '..', '..', 'api-spec');

/**
 * The OpenAPI documents are ASCII. V8 reads a text holding any other character
 * (an en dash in a description) as a two-byte string, and the property names
 * js-yaml slices out of it (consistencygroup_id, provider_id, …) are the first
 * of their kind the process internalizes: every object built afterwards with
 * such a key, the views' replies included, carries the two-byte name, and
 * JSON.stringify of a reply turns two-byte and is copied again to be sent.
 * With one en dash in the documents, a detail page of 100 volumes cost 4.1 ms
 * of CPU instead of 2.7 (issue 17, README "Benchmarks").
 */
describe('api-spec documents', () => {
  it.each(readdirSync(specDir).filter((f) => f.endsWith('.yaml')))('%s holds ASCII only', (file) => {
    const lines = readFileSync(join(specDir, file), 'utf8').split('\n');
    const offending = lines
      .map((line, i) => ({ line: i + 1, text: line }))
      .filter(({ text }) => [...text].some((ch) => ch.charCodeAt(0) > 0x7f));
    expect(offending).toEqual([]);
  });
});
