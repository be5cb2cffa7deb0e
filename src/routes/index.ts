import type { ServiceDeps } from '../services/deps';
import { LimitsService } from '../services/limits';
import { ServiceRegistry } from '../services/serviceRegistry';
import { VolumeService } from '../services/volumes';
import { VolumeTypeService } from '../services/volumeTypes';
import type { RouteTable } from './http';
import { infoRoutes } from './info';
import { volumeRoutes } from './volumes';
import { volumeActionRoutes } from './volumeActions';
import { volumeTypeRoutes } from './volumeTypes';

/** Every operationId of the OpenAPI document, bound to its handler. */
export function buildRoutes(deps: ServiceDeps): RouteTable {
  return {
    ...volumeRoutes(new VolumeService(deps)),
    ...volumeActionRoutes(),
    ...volumeTypeRoutes(new VolumeTypeService(deps)),
    ...infoRoutes(new LimitsService(deps), new ServiceRegistry(deps), deps.config.availabilityZone),
  };
}
