import { negotiate, VOLUME_MAX, VOLUME_MIN } from '../../src/domain/microversion';
import { parsePyLiteral } from '../../src/domain/pyLiteral';
import { ApiError } from '../../src/domain/errors';
import { VolumeTransitions, VOLUME_DELETABLE, VolumeStatus } from '../../src/domain/status';
import { parsePaging } from '../../src/services/listQuery';
import { VOLUME_SORT_COLUMNS } from '../../src/services/volumes/listFilters';

describe('microversion negotiation', () => {
  const neg = (h?: string) => negotiate(h, 'volume', VOLUME_MIN, VOLUME_MAX);
  it('no header means 3.0, latest means 3.70', () => {
    expect(neg(undefined)).toEqual({ major: 3, minor: 0 });
    expect(neg('volume latest')).toEqual({ major: 3, minor: 70 });
  });
  it('picks the volume entry of a multi-service header', () => {
    expect(neg('compute 2.1, volume 3.42')).toEqual({ major: 3, minor: 42 });
  });
  it('bad format → 400, out of range → 406 computeFault', () => {
    expect(() => neg('volume 3.x')).toThrow(expect.objectContaining({ status: 400 }));
    const err = (() => {
      try {
        neg('volume 3.99');
      } catch (e) {
        return e as ApiError;
      }
    })();
    expect(err).toMatchObject({
      status: 406,
      fault: 'computeFault',
      message: 'Version 3.99 is not supported by the API. Minimum is 3.0 and maximum is 3.70.',
    });
    expect(() => neg('volume 2.0')).toThrow(expect.objectContaining({ status: 406 }));
  });
});

describe('Python literal filters', () => {
  it('parses what cinderclient sends', () => {
    expect(parsePyLiteral("{'k': 'v', 'n': 1, 't': True, 'x': None}")).toEqual({ k: 'v', n: 1, t: true, x: null });
    expect(parsePyLiteral('{"k": "it\'s"}')).toEqual({ k: "it's" });
    expect(parsePyLiteral("['a', ('b',)]")).toEqual(['a', ['b']]);
  });
  it('rejects anything else', () => {
    expect(parsePyLiteral("{'k': }")).toBeUndefined();
    expect(parsePyLiteral('__import__("os")')).toBeUndefined();
    expect(parsePyLiteral("{'a': 1} trailing")).toBeUndefined();
  });
});

describe('state machine', () => {
  it("a volume is deletable only from Cinder's statuses", () => {
    expect(VOLUME_DELETABLE).toEqual(['available', 'error', 'error_restoring', 'error_extending', 'error_managing']);
    expect(VolumeTransitions.delete.from).not.toContain(VolumeStatus.creating);
    expect(VolumeTransitions.delete.from).not.toContain(VolumeStatus.inUse);
  });
});

describe('paging', () => {
  const v = { strictFilters: true, withCount: true }; // the list rules of 3.70
  it('limit must be a non-negative integer; capped at 1000', () => {
    expect(() => parsePaging({ limit: '-1' }, VOLUME_SORT_COLUMNS, v)).toThrow('limit param must be positive');
    expect(() => parsePaging({ limit: 'x' }, VOLUME_SORT_COLUMNS, v)).toThrow('limit param must be an integer');
    expect(parsePaging({ limit: '5000' }, VOLUME_SORT_COLUMNS, v).limit).toBe(1000);
  });
  it('sort=key:dir pairs; unknown key → Invalid sort key; sort with sort_key → 400', () => {
    expect(parsePaging({ sort: 'name:asc,size' }, VOLUME_SORT_COLUMNS, v).sort.map((s) => s.dir)).toEqual(['asc', 'desc']);
    expect(() => parsePaging({ sort: 'bogus:asc' }, VOLUME_SORT_COLUMNS, v)).toThrow('Invalid input received: Invalid sort key');
    expect(() => parsePaging({ sort: 'name', sort_key: 'size' }, VOLUME_SORT_COLUMNS, v)).toThrow(/cannot be used with/);
  });
});
