import type { components, operations } from './generated/openapi';
import type { JsonBody, RoutesOf } from '../shared/http';

/** The volume API's handlers by operationId, each with its body type from api-spec/openapi.yaml. */
export type CinderRoutes = RoutesOf<operations>;

/** The body of one operation of api-spec/openapi.yaml. */
export type CinderBody<Op extends keyof operations> = JsonBody<operations[Op]>;

/** A named schema of api-spec/openapi.yaml (`components.schemas`). */
export type CinderSchema<N extends keyof components['schemas']> = components['schemas'][N];
