/**
 * The one place the services are built and wired to each other: a service
 * names its collaborators in its constructor and never constructs them, so a
 * test can hand it doubles. The compute side's driver (ServerOps) needs a
 * process's logger and timings: src/http/nova builds it from these.
 */
import type { ServiceDeps } from './deps';
import { AttachmentService } from './attachments/attachments';
import { LegacyAttachService } from './attachments/legacy';
import { HostService } from './backends/hosts';
import { PoolService } from './backends/pools';
import { ServiceRegistry } from './backends/serviceRegistry';
import { BackupService } from './backups/backups';
import { InstanceActionService } from './compute/instanceActions';
import { KeypairService } from './compute/keypairs';
import { NovaVolumeProxy } from './compute/novaVolumeProxy';
import { ComputeQuotaService } from './compute/quotas';
import { TenantUsageService } from './compute/tenantUsage';
import { GroupService } from './groups/groups';
import { GroupSnapshotService } from './groups/snapshots';
import { GroupTypeService } from './groups/types';
import { MessageQueries } from './messages/queries';
import { LimitsService } from './quotas/limits';
import { QuotaService } from './quotas/quotas';
import { SnapshotService } from './snapshots/snapshots';
import { TransferService } from './transfers';
import { EncryptionService } from './types/encryption';
import { QosSpecsService } from './types/qosSpecs';
import { VolumeTypeService } from './types/volumeTypes';
import { VolumeActionService } from './volumes/actions';
import { VolumeRevertService } from './volumes/revert';
import { VolumeUploadService } from './volumes/upload';
import { VolumeService } from './volumes/volumes';

export function createServices(deps: ServiceDeps) {
  const attachments = new AttachmentService(deps);
  const backups = new BackupService(deps);
  const volumes = new VolumeService(deps, backups);
  const snapshots = new SnapshotService(deps);
  const quotas = new QuotaService(deps);
  const registry = new ServiceRegistry(deps);
  return {
    attachments,
    backups,
    volumes,
    snapshots,
    quotas,
    legacyAttach: new LegacyAttachService(deps, attachments),
    volumeActions: new VolumeActionService(deps),
    upload: new VolumeUploadService(deps),
    revert: new VolumeRevertService(deps),
    messages: new MessageQueries(deps),
    volumeTypes: new VolumeTypeService(deps),
    limits: new LimitsService(quotas),
    registry,
    hosts: new HostService(deps, registry),
    pools: new PoolService(deps, registry),
    qosSpecs: new QosSpecsService(deps),
    transfers: new TransferService(deps),
    encryption: new EncryptionService(deps),
    groupTypes: new GroupTypeService(deps),
    groups: new GroupService(deps),
    groupSnapshots: new GroupSnapshotService(deps),
    compute: {
      quotas: new ComputeQuotaService(deps),
      actions: new InstanceActionService(deps),
      keypairs: new KeypairService(deps),
      usage: new TenantUsageService(deps),
      proxy: new NovaVolumeProxy(volumes, snapshots),
    },
  };
}

export type Services = ReturnType<typeof createServices>;
