import { atLeast, type ApiVersion } from '../../domain/microversion';
import type { ListRules } from '../../services/listQuery';

/** Cinder's list-query microversions (`api/common.py`, `api/v3/*`), decided here and passed to the services as flags. */
export const listRules = (v: ApiVersion): ListRules => ({ strictFilters: atLeast(v, 3, 31), withCount: atLeast(v, 3, 45) });
