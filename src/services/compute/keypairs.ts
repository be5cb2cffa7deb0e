import { createHash, generateKeyPairSync } from 'node:crypto';
import { badRequest, conflict, forbidden, notFound } from '../../domain/errors';
import * as keypairsDb from '../../db/keypairs';
import type { DbKeypairRow } from '../../db/keypairs';
import { requireWriter, type RequestContext } from '../../domain/context';
import type { ServiceDeps } from '../deps';
import { one, type RawQuery } from '../listQuery';

const keypairNotFound = (name: string, userId: string) => notFound(`Keypair ${name} not found for user ${userId}`);

/** The SSH wire encoding of a string or an mpint (RFC 4251). */
function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
function sshMpint(b: Buffer): Buffer {
  let v = b;
  while (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) v = v.subarray(1);
  return sshString(v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/** Nova's `crypto.generate_fingerprint`: MD5 of the key blob, colon-separated hex. */
function fingerprintOf(publicKey: string): string {
  const parts = publicKey.trim().split(/\s+/);
  const blob = parts.length >= 2 ? Buffer.from(parts[1]!, 'base64') : Buffer.alloc(0);
  const typeLen = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  // The blob starts with its own key type: a key that does not is not an OpenSSH public key.
  if (
    !/^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521))$/.test(parts[0] ?? '') ||
    typeLen !== parts[0]!.length ||
    blob.subarray(4, 4 + typeLen).toString('latin1') !== parts[0]
  ) {
    throw badRequest('Keypair data is invalid: failed to generate fingerprint');
  }
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}

/** A new RSA key pair: the OpenSSH public key and the PEM private key (`crypto.generate_key_pair`). */
function generate(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    sshMpint(Buffer.from(jwk.e!, 'base64url')),
    sshMpint(Buffer.from(jwk.n!, 'base64url')),
  ]);
  return {
    publicKey: `ssh-rsa ${blob.toString('base64')} Generated-by-Nova`,
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

/** What the compute microversion allows: naming another user's key pairs (`user_id`, 2.10). */
export interface KeypairOptions {
  readonly otherUsers: boolean;
}

/** Nova's key pairs (`os-keypairs`): per user, imported or generated; nothing uses them (there is no guest). */
export class KeypairService {
  constructor(private readonly deps: ServiceDeps) {}

  /** `user_id` with `opts.otherUsers` (2.10): an admin's look at another user's key pairs. */
  private owner(ctx: RequestContext, asked: string | undefined, opts: KeypairOptions): string {
    if (asked === undefined || asked === ctx.userId || !opts.otherUsers) return ctx.userId;
    if (!ctx.isAdmin) throw forbidden('os_compute_api:os-keypairs:index');
    return asked;
  }

  /** `paged`: `marker` and `limit` are read (2.35). */
  async list(ctx: RequestContext, q: RawQuery, opts: KeypairOptions & { paged: boolean }): Promise<DbKeypairRow[]> {
    const rows = await keypairsDb.listOf(this.deps.db, this.owner(ctx, one(q.user_id), opts));
    const marker = opts.paged ? one(q.marker) : undefined;
    let from = 0;
    if (marker !== undefined) {
      from = rows.findIndex((k) => k.name === marker) + 1;
      if (from === 0) throw badRequest(`marker [${marker}] not found`);
    }
    const rawLimit = opts.paged ? one(q.limit) : undefined;
    if (rawLimit !== undefined && !/^\d+$/.test(rawLimit)) throw badRequest('limit param must be an integer');
    return rows.slice(from, rawLimit === undefined ? undefined : from + Number(rawLimit));
  }

  async get(ctx: RequestContext, name: string, q: RawQuery, opts: KeypairOptions): Promise<DbKeypairRow> {
    const userId = this.owner(ctx, one(q.user_id), opts);
    const k = await keypairsDb.find(this.deps.db, userId, name);
    if (!k) throw keypairNotFound(name, userId);
    return k;
  }

  async create(
    ctx: RequestContext,
    body: { name: string; public_key?: string; type?: string; user_id?: string },
    opts: KeypairOptions,
  ): Promise<{ row: DbKeypairRow; privateKey?: string }> {
    requireWriter(ctx, 'os_compute_api:os-keypairs:create');
    const userId = this.owner(ctx, body.user_id, opts);
    const generated = body.public_key === undefined ? generate() : undefined;
    const publicKey = generated?.publicKey ?? body.public_key!;
    const row: DbKeypairRow = {
      user_id: userId,
      name: body.name,
      type: body.type ?? 'ssh',
      public_key: publicKey,
      fingerprint: fingerprintOf(publicKey),
      created_at: new Date(),
    };
    if (!(await keypairsDb.insert(this.deps.db, row))) throw conflict(`Key pair '${body.name}' already exists.`);
    return { row, privateKey: generated?.privateKey };
  }

  async delete(ctx: RequestContext, name: string, q: RawQuery, opts: KeypairOptions): Promise<void> {
    requireWriter(ctx, 'os_compute_api:os-keypairs:delete');
    const userId = this.owner(ctx, one(q.user_id), opts);
    if (!(await keypairsDb.remove(this.deps.db, userId, name))) throw keypairNotFound(name, userId);
  }
}
