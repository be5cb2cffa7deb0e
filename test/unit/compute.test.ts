import { loadComputeApi } from '../../src/http/nova/app';
import { checkVersionedProperties, existsAt } from '../../src/http/nova/versionGate';
import { nextDeviceName } from '../../src/domain/compute';
import { computeRoutes } from '../../src/http/nova/routes';
import { checkBootSequence, fromApi, type Bdm } from '../../src/services/compute/bdm';

const v = (s: string) => ({ major: Number(s.split('.')[0]), minor: Number(s.split('.')[1]) });

describe('compute OpenAPI document', () => {
  const doc = loadComputeApi() as any;
  const ids = Object.values<any>(doc.paths).flatMap((item) =>
    Object.entries<any>(item)
      .filter(([m]) => ['get', 'put', 'post', 'delete', 'patch'].includes(m))
      .map(([, op]) => op.operationId),
  );
  const routes = computeRoutes({} as any, {} as any, {} as any, {} as any);

  it('binds a handler to every operationId, and has no handler without an operation', () => {
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !routes[id])).toEqual([]);
    expect(Object.keys(routes).filter((id) => !ids.includes(id))).toEqual([]);
  });

  it('a property exists only at the versions it is marked with', () => {
    const schema = doc.paths['/servers'].post.requestBody.content['application/json'].schema;
    const body = (tag: unknown) => ({ server: { name: 'x', flavorRef: '1', block_device_mapping_v2: [{ source_type: 'blank', tag }] } });
    for (const ok of ['2.32', '2.42', '2.89']) expect(() => checkVersionedProperties(doc, schema, body('t'), v(ok))).not.toThrow();
    for (const no of ['2.31', '2.33', '2.41']) {
      expect(() => checkVersionedProperties(doc, schema, body('t'), v(no))).toThrow(
        "Invalid input for field/attribute 0. Value: {'source_type': 'blank', 'tag': 't'}. Additional properties are not allowed ('tag' was unexpected)",
      );
    }
  });
});

describe('compute domain', () => {
  it('existsAt reads min, max and ranges', () => {
    expect(existsAt({ 'x-min-version': '2.49' }, v('2.48'))).toBe(false);
    expect(existsAt({ 'x-max-version': '2.56' }, v('2.56'))).toBe(true);
    expect(existsAt({ 'x-max-version': '2.56' }, v('2.57'))).toBe(false);
    expect(existsAt({}, v('2.1'))).toBe(true);
  });

  it('nextDeviceName takes the first free /dev/vdX after the root, whatever the prefix of the used ones', () => {
    expect(nextDeviceName(['/dev/vda'])).toBe('/dev/vdb');
    expect(nextDeviceName(['/dev/vda', 'vdb', '/dev/vdd'])).toBe('/dev/vdc');
    const used = ['vda', ...'bcdefghijklmnopqrstuvwxyz'.split('').map((c) => `vd${c}`)];
    expect(nextDeviceName(used)).toBe('/dev/vdaa');
  });

  it('from_api: ids from uuid by source, numeric strings parsed, delete_on_termination default false', () => {
    const [b] = fromApi(
      [{ source_type: 'volume', uuid: 'u1', boot_index: '0', volume_size: '2', delete_on_termination: 'yes', device_name: 'vdc' }],
      false,
    );
    expect(b).toEqual({
      bootIndex: 0,
      source: 'volume',
      destination: 'volume',
      volumeId: 'u1',
      size: 2,
      deleteOnTermination: true,
      deviceName: '/dev/vdc',
    });
    expect(fromApi([{ source_type: 'blank', destination_type: 'volume', volume_size: 1 }], false)[0]!.deleteOnTermination).toBe(false);
    expect(fromApi([{ no_device: true }], false)).toEqual([]);
  });

  it('the boot sequence must be 0..n-1; negative and null indexes do not count', () => {
    const at = (...i: Array<number | null>) => i.map((bootIndex) => ({ bootIndex }) as Bdm);
    expect(() => checkBootSequence(at(0, null, -1, 1))).not.toThrow();
    expect(() => checkBootSequence(at(1))).toThrow(/Boot sequence/);
    expect(() => checkBootSequence(at(null))).toThrow(/Boot sequence/);
  });
});
