import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const OUTPUTS = ['src/http/cinder/generated/openapi.ts', 'src/http/nova/generated/compute.ts', 'src/http/glance/generated/image.ts'];

/** The committed types follow the OpenAPI documents: regenerating them changes nothing. */
describe('types generated from the OpenAPI documents', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'cairn-api-types-'));
    execFileSync(process.execPath, [join(root, 'scripts', 'generate-api-types.mjs'), out], { stdio: 'pipe' });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each(OUTPUTS)('%s is up to date (else: npm run generate:api-types)', (file) => {
    expect(readFileSync(join(out, file), 'utf8')).toBe(readFileSync(join(root, file), 'utf8'));
  });
});
