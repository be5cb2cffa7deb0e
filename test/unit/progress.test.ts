import { Writable } from 'node:stream';
import { progress } from '../../src/cli/progress';

/** A stream that keeps what it is given; `isTTY` as asked. */
function sink(isTTY: boolean) {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY, columns: 100 });
  return { stream, text: () => text };
}

describe('cairn-manage progress', () => {
  it('prints one plain line per tenth of the bytes when not on a terminal', () => {
    const out = sink(false);
    const p = progress({ label: 'image import cirros', total: 10 * 1048576, unit: 'bytes', stream: out.stream });
    for (let i = 0; i < 40; i++) p.increment(262144);
    p.stop();
    const lines = out.text().trimEnd().split('\n');
    expect(lines[0]).toBe('image import cirros: 2% (0.3 MiB of 10.0 MiB)');
    expect(lines.at(-1)).toBe('image import cirros: 100% (10.0 MiB of 10.0 MiB)');
    expect(lines).toHaveLength(11); // 0.25 MiB steps: one line per tenth, the first at 2%
    // eslint-disable-next-line no-control-regex -- ESC is what must not be there
    expect(out.text()).not.toMatch(/\u001b/); // no escapes in logs
  });

  it('prints a line per step', () => {
    const out = sink(false);
    const p = progress({ label: 'reconcile', total: 2, unit: 'steps', stream: out.stream });
    p.update(0, 'backend a');
    p.update(1, 'backend b');
    p.update(2, 'done');
    p.stop();
    expect(out.text()).toBe('reconcile: 0% (0/2) backend a\nreconcile: 50% (1/2) backend b\nreconcile: 100% (2/2) done\n');
  });

  it('draws a bar (cli-progress) on a terminal', () => {
    const out = sink(true);
    const p = progress({ label: 'image import x', total: 4 * 1048576, unit: 'bytes', stream: out.stream });
    p.increment(4 * 1048576);
    p.stop();
    expect(out.text()).toMatch(/image import x \[[█░]+\] 100% \| 4\.0 MiB of 4\.0 MiB/);
  });
});
