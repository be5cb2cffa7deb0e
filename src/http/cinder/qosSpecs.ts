import type { DbQosSpecsRow } from '../../db/qosSpecs';
import { one } from '../../services/listQuery';
import type { QosSpecsService } from '../../services/types/qosSpecs';
import { accepted, ok, type RouteTable } from '../shared/http';
import { listRules } from './listRules';
import type { CinderRoutes } from './cinderRoutes';

/** Cinder's `views/qos_specs.py` summary: the set without its links. */
const qosView = (q: DbQosSpecsRow) => ({ id: q.id, name: q.name, consumer: q.consumer, specs: q.specs });

/** `qos-specs` (Cinder's `contrib/qos_specs_manage.py`); associate/disassociate are GETs there, and here. */
export function qosSpecsRoutes(qos: QosSpecsService): RouteTable {
  return {
    listQosSpecs: async (r) => ok({ qos_specs: (await qos.list(r.ctx, r.query, listRules(r.ctx.version))).map(qosView) }),
    createQosSpecs: async (r) => {
      const q = await qos.create(r.ctx, r.body.qos_specs);
      return ok({ qos_specs: qosView(q), links: r.links.resource('qos-specs', q.id) });
    },
    showQosSpecs: async (r) => {
      const q = await qos.get(r.ctx, r.params.qos_id!);
      return ok({ qos_specs: qosView(q), links: r.links.resource('qos-specs', q.id) });
    },
    setQosSpecsKeys: async (r) => {
      await qos.setKeys(r.ctx, r.params.qos_id!, r.body.qos_specs);
      return ok({ qos_specs: r.body.qos_specs });
    },
    unsetQosSpecsKeys: async (r) => {
      await qos.unsetKeys(r.ctx, r.params.qos_id!, r.body.keys);
      return accepted();
    },
    deleteQosSpecs: async (r) => {
      await qos.delete(r.ctx, r.params.qos_id!, one(r.query.force));
      return accepted();
    },
    listQosSpecsAssociations: async (r) =>
      ok({
        qos_associations: (await qos.associations(r.ctx, r.params.qos_id!)).map((t) => ({
          association_type: 'volume_type',
          name: t.name,
          id: t.id,
        })),
      }),
    associateQosSpecs: async (r) => {
      await qos.associate(r.ctx, r.params.qos_id!, one(r.query.vol_type_id));
      return accepted();
    },
    disassociateQosSpecs: async (r) => {
      await qos.disassociate(r.ctx, r.params.qos_id!, one(r.query.vol_type_id));
      return accepted();
    },
    disassociateAllQosSpecs: async (r) => {
      await qos.disassociateAll(r.ctx, r.params.qos_id!);
      return accepted();
    },
  } satisfies CinderRoutes;
}
