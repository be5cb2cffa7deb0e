import type { Knex } from 'knex';
import * as createCore from './20261123170000_create_core';
import * as seedDefaultType from './20261123170100_seed_default_type';
import * as createAttachments from './20261123180000_create_attachments';
import * as createQuotas from './20261123190000_create_quotas';
import * as createSnapshots from './20261123200000_create_snapshots';
import * as addVolumePendingSize from './20261123201000_add_volume_pending_size';
import * as createServers from './20261123210000_create_servers';
import * as createImages from './20261124100000_create_images';
import * as addTaskResult from './20261124120000_add_task_result';
import * as createQosSpecs from './20261124140000_create_qos_specs';
import * as createTransfers from './20261124141000_create_transfers';
import * as createTypeEncryption from './20261124142000_create_type_encryption';
import * as createGroups from './20261124150000_create_groups';
import * as taskFencing from './20261206130000_task_fencing';
import * as taskResourceKey from './20261206130100_task_resource_key';
import * as createInstanceActionsKeypairs from './20261206150000_create_instance_actions_keypairs';
import * as addServerAccessIps from './20261206150100_add_server_access_ips';
import * as createBackups from './20261206160000_create_backups';
import * as keysetSortIndexes from './20261206170000_keyset_sort_indexes';
import * as createIdempotencyKeys from './20261206180000_create_idempotency_keys';
import * as tasksPendingIndex from './20261207090000_tasks_pending_index';

/**
 * The migrations in order. Listed statically (not read from a folder) so
 * the same list runs from TypeScript sources under jest and from dist/.
 */
export const migrations: ReadonlyArray<{ name: string; up(k: Knex): Promise<void>; down(k: Knex): Promise<void> }> = [
  { name: '20261123170000_create_core', ...createCore },
  { name: '20261123170100_seed_default_type', ...seedDefaultType },
  { name: '20261123180000_create_attachments', ...createAttachments },
  { name: '20261123190000_create_quotas', ...createQuotas },
  { name: '20261123200000_create_snapshots', ...createSnapshots },
  { name: '20261123201000_add_volume_pending_size', ...addVolumePendingSize },
  { name: '20261123210000_create_servers', ...createServers },
  { name: '20261124100000_create_images', ...createImages },
  { name: '20261124120000_add_task_result', ...addTaskResult },
  { name: '20261124140000_create_qos_specs', ...createQosSpecs },
  { name: '20261124141000_create_transfers', ...createTransfers },
  { name: '20261124142000_create_type_encryption', ...createTypeEncryption },
  { name: '20261124150000_create_groups', ...createGroups },
  { name: '20261206130000_task_fencing', ...taskFencing },
  { name: '20261206130100_task_resource_key', ...taskResourceKey },
  { name: '20261206150000_create_instance_actions_keypairs', ...createInstanceActionsKeypairs },
  { name: '20261206150100_add_server_access_ips', ...addServerAccessIps },
  { name: '20261206160000_create_backups', ...createBackups },
  { name: '20261206170000_keyset_sort_indexes', ...keysetSortIndexes },
  { name: '20261206180000_create_idempotency_keys', ...createIdempotencyKeys },
  { name: '20261207090000_tasks_pending_index', ...tasksPendingIndex },
];
