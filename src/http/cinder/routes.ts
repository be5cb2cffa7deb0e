import type { ServiceDeps } from '../../services/deps';
import { createServices, type Services } from '../../services';
import type { RouteTable } from '../shared/http';
import { infoRoutes } from './info';
import { volumeRoutes } from './volumes';
import { volumeActionRoutes } from './volumeActions';
import { attachmentRoutes } from './attachments';
import { attachActions } from './actions/attach';
import { volumeActions } from './actions/volume';
import { volumeTypeRoutes } from './volumeTypes';
import { messageRoutes } from './messages';
import { quotaRoutes } from './quotas';
import { snapshotRoutes } from './snapshots';
import { snapshotActionRoutes, snapshotAdminActions } from './snapshotActions';
import { revertActions } from './actions/revert';
import { hostRoutes } from './hosts';
import { poolRoutes } from './pools';
import { qosSpecsRoutes } from './qosSpecs';
import { transferRoutes } from './transfers';
import { encryptionRoutes } from './encryption';
import { groupRoutes } from './groups';
import { operatorRoutes } from './operator';
import { backupRoutes } from './backups';

/** Every operationId of the OpenAPI document, bound to its handler; `services` as src/services/index.ts wires them. */
export function buildRoutes(deps: ServiceDeps, s: Services = createServices(deps)): RouteTable {
  return {
    ...volumeRoutes(s.volumes),
    ...volumeActionRoutes(attachActions(s.legacyAttach), volumeActions(s.volumeActions, s.volumes, s.upload), revertActions(s.revert)),
    ...snapshotRoutes(s.snapshots),
    ...snapshotActionRoutes(snapshotAdminActions(s.snapshots)),
    ...attachmentRoutes(s.attachments),
    ...messageRoutes(s.messages),
    ...volumeTypeRoutes(s.volumeTypes),
    ...quotaRoutes(s.quotas),
    ...infoRoutes(s.limits, s.registry, deps.config.availabilityZone),
    ...hostRoutes(s.hosts),
    ...poolRoutes(s.pools),
    ...qosSpecsRoutes(s.qosSpecs),
    ...transferRoutes(s.transfers),
    ...encryptionRoutes(s.encryption),
    ...groupRoutes(deps, s),
    ...operatorRoutes(deps, s.registry),
    ...backupRoutes(s.backups),
  };
}
