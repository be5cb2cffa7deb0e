/**
 * The setup api tests share when they act as Keystone users: a FakeKeystone,
 * a cairn validating against it, one token per persona, both stopped after
 * the file. `personas()` registers the beforeAll/afterAll itself, so call it
 * at the top level of a test file:
 *
 *   const team = personas({
 *     admin: { user: 'a1', project: P1, roles: ['admin', 'member', 'reader'] },
 *     member: { user: 'm2', project: P2, roles: ['member', 'reader'] },
 *   }, { mv: '3.70' });
 *   await team.call('member', 'post', '/volumes', { volume: { size: 1 } });
 */
import request from 'supertest';
import { startTestCairn, type TestCairn } from './cairn';
import { FakeKeystone } from './fakeKeystone';

export interface Persona {
  /** Keystone user id; the persona's name if not given. */
  readonly user?: string;
  readonly project: string;
  readonly roles: readonly string[];
}

export interface TeamOptions {
  /** Extra environment for the cairn, on top of the Keystone settings. */
  readonly env?: Record<string, string>;
  /** Default volume microversion of `call`; without it (and without a per-call one) no OpenStack-API-Version header is sent. */
  readonly mv?: string;
  /** Timeout of the beforeAll that starts Keystone and cairn (jest's default if not given). */
  readonly startTimeoutMs?: number;
}

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface Team<Who extends string> {
  /** The running cairn (from beforeAll on). */
  cairn(): TestCairn;
  token(who: Who): string;
  project(who: Who): string;
  /**
   * `method /v3/{project of who}{path}` as `who`, at microversion `mv` (the team's default if not given;
   * null: no OpenStack-API-Version header).
   */
  call(who: Who, method: Method, path: string, body?: object, mv?: string | null): request.Test;
}

/** The persona names of a team, as a string-literal union. */
export type WhoOf<T> = T extends Team<infer W> ? W : never;

export function personas<Who extends string>(people: Record<Who, Persona>, opts: TeamOptions = {}): Team<Who> {
  let ks: FakeKeystone | undefined;
  let cairn: TestCairn | undefined;
  const tokens = new Map<Who, string>();

  beforeAll(async () => {
    ks = await FakeKeystone.start();
    cairn = await startTestCairn(ks.env(opts.env));
    for (const who of Object.keys(people) as Who[]) {
      const p = people[who];
      tokens.set(who, ks.issue({ userId: p.user ?? who, projectId: p.project, roles: p.roles }));
    }
  }, opts.startTimeoutMs);
  afterAll(async () => {
    await cairn?.stop();
    await ks?.stop();
  });

  const team: Team<Who> = {
    cairn() {
      if (!cairn) throw new Error('cairn is not started (personas() starts it in beforeAll)');
      return cairn;
    },
    token(who) {
      const t = tokens.get(who);
      if (t === undefined) throw new Error(`no token for ${who} (personas() issues them in beforeAll)`);
      return t;
    },
    project: (who) => people[who].project,
    call(who, method, path, body, mv = opts.mv) {
      const headers: Record<string, string> = { 'X-Auth-Token': team.token(who) };
      if (mv != null) headers['OpenStack-API-Version'] = `volume ${mv}`;
      const agent = request(team.cairn().url);
      const req = agent[method](`/v3/${team.project(who)}${path}`).set(headers);
      return body ? req.send(body) : req;
    },
  };
  return team;
}
