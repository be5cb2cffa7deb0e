import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diagnoseProviders, lookupProvider, parseParametersList, providerChecksum } from '../../src/workers/drivers/extstorageProviders';

const EXAMPLES = path.resolve(__dirname, '../../examples/extstorage');

describe('ExtStorage providers', () => {
  let tmp: string;
  const copy = (name: string, to = name, base = tmp): string => {
    const dir = path.join(base, to);
    fs.cpSync(path.join(EXAMPLES, name), dir, { recursive: true });
    return dir;
  };
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-esp-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('finds both example providers valid, with their parameters', async () => {
    const diags = await diagnoseProviders([EXAMPLES]);
    expect(diags.map((d) => [d.name, d.valid])).toEqual([
      ['filevol', true],
      ['recorder', true],
    ]);
    expect(diags[0]!.parameters).toEqual([{ name: 'dir', description: expect.stringMatching(/^Absolute path/) }]);
    expect(diags[1]!.parameters!.map((p) => p.name)).toEqual(['log', 'fail', 'fail_code', 'dev']);
    expect(diags.every((d) => /^[0-9a-f]{64}$/.test(d.checksum!))).toBe(true);
  });

  it('a provider missing a required script is invalid, and says which', async () => {
    fs.rmSync(path.join(copy('filevol', 'nogrow'), 'grow'));
    const found = await lookupProvider([tmp], 'nogrow');
    expect(found).toMatchObject({ ok: false, reason: expect.stringContaining('grow is missing') });
    const [d] = await diagnoseProviders([tmp]);
    expect(d).toMatchObject({ name: 'nogrow', valid: false, reason: expect.stringContaining('grow is missing') });
  });

  it('a script that is not executable, or a missing parameters.list, makes it invalid', async () => {
    fs.chmodSync(path.join(copy('filevol', 'noexec'), 'attach'), 0o644);
    fs.rmSync(path.join(copy('filevol', 'nolist'), 'parameters.list'));
    expect(await lookupProvider([tmp], 'noexec')).toMatchObject({ ok: false, reason: 'attach is not executable' });
    expect(await lookupProvider([tmp], 'nolist')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('parameters.list is missing'),
    });
  });

  it('optional scripts may be absent, but one that is present must be executable', async () => {
    const dir = copy('recorder');
    fs.rmSync(path.join(dir, 'snapshot'));
    const ok = await lookupProvider([tmp], 'recorder');
    expect(ok.ok && ok.provider.scripts.snapshot).toBeUndefined();
    expect(ok.ok && ok.provider.scripts.open).toBe(path.join(dir, 'open'));
    fs.chmodSync(path.join(dir, 'open'), 0o644);
    expect(await lookupProvider([tmp], 'recorder')).toMatchObject({ ok: false, reason: 'open is not executable' });
  });

  it('the first directory of a name in the search path wins; unknown names are not found', async () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    copy('filevol', 'p', a);
    copy('recorder', 'p', b);
    const found = await lookupProvider([path.join(tmp, 'none'), a, b], 'p');
    expect(found.ok && found.provider.dir).toBe(path.join(a, 'p'));
    expect(await lookupProvider([a], 'nope')).toMatchObject({ ok: false, reason: expect.stringContaining('no directory nope') });
    expect(await lookupProvider([a], '../a/p')).toMatchObject({ ok: false, reason: expect.stringContaining('not a valid provider name') });
  });

  it('the checksum covers the interface (scripts and parameters.list, contents and modes), not what a provider writes beside them', async () => {
    const one = copy('filevol', 'one');
    const two = copy('filevol', 'two');
    const sum = await providerChecksum(one);
    expect(await providerChecksum(two)).toBe(sum);
    // Written at run time (a log, state, a lock) or kept beside (.git, helpers): the same provider still.
    fs.mkdirSync(path.join(two, '.git'));
    fs.writeFileSync(path.join(two, '.git', 'HEAD'), 'ref: x');
    fs.writeFileSync(path.join(two, 'lvm-thin.log'), 'attach cairn-vol-1 ok\n');
    fs.mkdirSync(path.join(two, 'state'));
    fs.writeFileSync(path.join(two, 'state', 'calls.log'), 'x');
    expect(await providerChecksum(two)).toBe(sum);
    // Any interface file's contents or mode, an optional script added, parameters.list changed: a different provider.
    fs.appendFileSync(path.join(two, 'create'), '# local change\n');
    expect(await providerChecksum(two)).not.toBe(sum);
    fs.chmodSync(path.join(one, 'parameters.list'), 0o755);
    expect(await providerChecksum(one)).not.toBe(sum);
    const three = copy('filevol', 'three');
    fs.writeFileSync(path.join(three, 'open'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    expect(await providerChecksum(three)).not.toBe(sum);
    const four = copy('filevol', 'four');
    fs.appendFileSync(path.join(four, 'parameters.list'), 'extra An extra parameter\n');
    expect(await providerChecksum(four)).not.toBe(sum);
  });

  it('parses parameters.list as name and description, skipping blank lines', () => {
    expect(parseParametersList('fromsnap Snapshot name to create the volume from\n\nnas_ip\tThe IP of the NAS\nbare\n')).toEqual([
      { name: 'fromsnap', description: 'Snapshot name to create the volume from' },
      { name: 'nas_ip', description: 'The IP of the NAS' },
      { name: 'bare', description: '' },
    ]);
  });
});
