/**
 * Every status string cairn stores or shows, and every transition between
 * them. Services move a resource only through a `Transition` from here
 * (compare-and-set on `from`), so this module — one file per resource, the
 * `Transition` shape in transition.ts — is the whole state machine.
 * Strings are Cinder's (`cinder/objects/fields.py`).
 */
export * from './transition';
export * from './task';
export * from './volume';
export * from './snapshot';
export * from './backup';
export * from './group';
export * from './server';
export * from './host';
export * from './image';
