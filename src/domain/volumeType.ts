/** Cinder creates `__DEFAULT__` in a migration too; its id is fixed so every cluster agrees. */
export const DEFAULT_TYPE_ID = '0a7c3ad1-2b1e-4d7a-9b5e-3f3e2d1c0b00';
