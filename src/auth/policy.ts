import { forbidden } from '../domain/errors';
import type { RequestContext } from '../domain/context';

/**
 * The role rule every operation passes before its handler, whatever the
 * service checks after it: a `reader` (or a token with no role cairn knows)
 * may only read; changing anything needs `member` or `admin`. Admin-only
 * operations are the services' to refuse (`requireAdmin`), with Cinder's
 * policy names.
 */
const READ_METHODS = new Set(['get', 'head']);

/** Cinder's policy names for the 403 text, where one exists; other operations are named by operationId. */
const POLICY_NAMES: Readonly<Record<string, string>> = {
  createVolume: 'volume:create',
  updateVolume: 'volume:update',
  deleteVolume: 'volume:delete',
  createVolumeMetadata: 'volume:create_volume_metadata',
  replaceVolumeMetadata: 'volume:update_volume_metadata',
  updateVolumeMetadataItem: 'volume:update_volume_metadata',
  deleteVolumeMetadataItem: 'volume:delete_volume_metadata',
  createAttachment: 'volume:attachment_create',
  updateAttachment: 'volume:attachment_update',
  deleteAttachment: 'volume:attachment_delete',
  updateQuotaSet: 'volume_extension:quotas:update',
  deleteQuotaSet: 'volume_extension:quotas:delete',
  updateQuotaClassSet: 'volume_extension:quota_classes',
};

export const mayWrite = (ctx: RequestContext): boolean => ctx.isAdmin || ctx.roles.includes('member');

/** Throws 403 `forbidden` when the caller's roles do not allow `method` at all. */
export function requireRoleFor(ctx: RequestContext, method: string, operationId: string): void {
  if (READ_METHODS.has(method.toLowerCase()) || mayWrite(ctx)) return;
  throw forbidden(POLICY_NAMES[operationId] ?? operationId);
}
