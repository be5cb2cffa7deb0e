import type { DbTypeEncryptionRow } from '../../db/encryption';
import { isoCinder } from '../../domain/time';
import type { EncryptionService } from '../../services/types/encryption';
import { accepted, ok, type RouteTable } from '../shared/http';
import type { CinderRoutes } from './cinderRoutes';

/** Cinder's encryption dict as `GET /types/{id}/encryption` shows it (no wrapper; `{}` without specs). */
function shown(e: DbTypeEncryptionRow) {
  return {
    volume_type_id: e.volume_type_id,
    encryption_id: e.encryption_id,
    key_size: e.key_size,
    provider: e.provider,
    control_location: e.control_location,
    cipher: e.cipher,
    deleted: false,
    created_at: isoCinder(e.created_at),
    updated_at: isoCinder(e.updated_at),
    deleted_at: null,
  };
}

/** `types/{type_id}/encryption` (Cinder's `contrib/volume_type_encryption.py`). */
export function encryptionRoutes(enc: EncryptionService): RouteTable {
  return {
    showTypeEncryption: async (r) => {
      const e = await enc.get(r.ctx, r.params.type_id!);
      return ok(e ? shown(e) : {});
    },
    createTypeEncryption: async (r) => {
      const e = await enc.create(r.ctx, r.params.type_id!, r.body.encryption);
      return ok({
        encryption: {
          volume_type_id: e.volume_type_id,
          encryption_id: e.encryption_id,
          provider: e.provider,
          cipher: e.cipher,
          key_size: e.key_size,
          control_location: e.control_location,
        },
      });
    },
    showTypeEncryptionItem: async (r) => ok(await enc.item(r.ctx, r.params.type_id!, r.params.encryption_key!)),
    // The path's last part names the specs in Cinder's client (tempest sends `provider`); a type has one set.
    updateTypeEncryption: async (r) => ok({ encryption: await enc.update(r.ctx, r.params.type_id!, r.body.encryption) }),
    deleteTypeEncryption: async (r) => {
      await enc.delete(r.ctx, r.params.type_id!);
      return accepted();
    },
  } satisfies CinderRoutes;
}
