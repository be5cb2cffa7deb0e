import type { ServiceDeps } from '../../services/deps';
import { LimitsService } from '../../services/quotas/limits';
import { ServiceRegistry } from '../../services/backends/serviceRegistry';
import { VolumeService } from '../../services/volumes/volumes';
import { VolumeTypeService } from '../../services/types/volumeTypes';
import type { RouteTable } from '../shared/http';
import { infoRoutes } from './info';
import { volumeRoutes } from './volumes';
import { volumeActionRoutes } from './volumeActions';
import { attachmentRoutes } from './attachments';
import { AttachmentService } from '../../services/attachments/attachments';
import { LegacyAttachService } from '../../services/attachments/legacy';
import { attachActions } from './actions/attach';
import { volumeActions } from './actions/volume';
import { VolumeActionService } from '../../services/volumes/actions';
import { VolumeUploadService } from '../../services/volumes/upload';
import { volumeTypeRoutes } from './volumeTypes';
import { messageRoutes } from './messages';
import { MessageQueries } from '../../services/messages/queries';
import { quotaRoutes } from './quotas';
import { QuotaService } from '../../services/quotas/quotas';
import { snapshotRoutes } from './snapshots';
import { snapshotActionRoutes, snapshotAdminActions } from './snapshotActions';
import { SnapshotService } from '../../services/snapshots/snapshots';
import { revertActions } from './actions/revert';
import { VolumeRevertService } from '../../services/volumes/revert';
import { hostRoutes } from './hosts';
import { HostService } from '../../services/backends/hosts';
import { poolRoutes } from './pools';
import { PoolService } from '../../services/backends/pools';
import { qosSpecsRoutes } from './qosSpecs';
import { QosSpecsService } from '../../services/types/qosSpecs';
import { transferRoutes } from './transfers';
import { TransferService } from '../../services/transfers';
import { encryptionRoutes } from './encryption';
import { EncryptionService } from '../../services/types/encryption';
import { groupRoutes } from './groups';
import { GroupTypeService } from '../../services/groups/types';
import { operatorRoutes } from './operator';
import { backupRoutes } from './backups';
import { BackupService } from '../../services/backups/backups';

/** Every operationId of the OpenAPI document, bound to its handler. */
export function buildRoutes(deps: ServiceDeps): RouteTable {
  const attachments = new AttachmentService(deps);
  const volumes = new VolumeService(deps);
  const snapshots = new SnapshotService(deps);
  return {
    ...volumeRoutes(volumes),
    ...volumeActionRoutes(
      attachActions(new LegacyAttachService(deps, attachments)),
      volumeActions(new VolumeActionService(deps), volumes, new VolumeUploadService(deps)),
      revertActions(new VolumeRevertService(deps)),
    ),
    ...snapshotRoutes(snapshots),
    ...snapshotActionRoutes(snapshotAdminActions(snapshots)),
    ...attachmentRoutes(attachments),
    ...messageRoutes(new MessageQueries(deps)),
    ...volumeTypeRoutes(new VolumeTypeService(deps)),
    ...quotaRoutes(new QuotaService(deps)),
    ...infoRoutes(new LimitsService(deps), new ServiceRegistry(deps), deps.config.availabilityZone),
    ...hostRoutes(new HostService(deps)),
    ...poolRoutes(new PoolService(deps)),
    ...qosSpecsRoutes(new QosSpecsService(deps)),
    ...transferRoutes(new TransferService(deps)),
    ...encryptionRoutes(new EncryptionService(deps)),
    ...groupRoutes(deps, new GroupTypeService(deps)),
    ...operatorRoutes(deps),
    ...backupRoutes(new BackupService(deps)),
  };
}
