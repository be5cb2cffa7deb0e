/** Servers (the Nova surface): vm_state, task_state, power_state and their moves. */
import type { Transition } from './transition';

/** Nova's vm_state (`nova/compute/vm_states.py`), the ones cairn's servers have. */
export const ServerVmState = {
  building: 'building',
  active: 'active',
  stopped: 'stopped',
  error: 'error',
  deleted: 'deleted',
} as const;
export type ServerVmState = (typeof ServerVmState)[keyof typeof ServerVmState];

/** Nova's task_state of an operation in flight (`nova/compute/task_states.py`); null when idle. */
export const ServerTaskState = {
  blockDeviceMapping: 'block_device_mapping',
  deleting: 'deleting',
} as const;
export type ServerTaskState = (typeof ServerTaskState)[keyof typeof ServerTaskState];

/** Nova's power_state numbers (`nova/compute/power_state.py`). */
export const ServerPowerState = { noState: 0, running: 1, shutdown: 4 } as const;

const SV = ServerVmState;

/** The API `status` of a vm_state (`nova/api/openstack/common.py:_STATE_MAP`). */
export function serverStatus(vmState: string): string {
  switch (vmState) {
    case SV.building:
      return 'BUILD';
    case SV.active:
      return 'ACTIVE';
    case SV.stopped:
      return 'SHUTOFF';
    case SV.error:
      return 'ERROR';
    case SV.deleted:
      return 'DELETED';
    default:
      return 'UNKNOWN';
  }
}

/** vm_state moves; each is a compare-and-set on `from` (and on an idle task_state, except build and delete). */
export const ServerTransitions = {
  buildDone: { name: 'build-done', from: [SV.building], to: SV.active },
  buildFailed: { name: 'build-failed', from: [SV.building], to: SV.error },
  /** `compute/api.py:stop`: from ACTIVE or ERROR; `start`: from STOPPED. */
  stop: { name: 'stop', from: [SV.active, SV.error], to: SV.stopped },
  start: { name: 'start', from: [SV.stopped], to: SV.active },
  deleteDone: { name: 'delete-done', from: [SV.building, SV.active, SV.stopped, SV.error], to: SV.deleted },
  deleteFailed: { name: 'delete-failed', from: [SV.building, SV.active, SV.stopped, SV.error], to: SV.error },
} satisfies Record<string, Transition<ServerVmState>>;

/** vm_states a volume may be attached to or detached from (`compute/api.py:attach_volume`, the states cairn has). */
export const SERVER_VOLUMES_CHANGEABLE: readonly ServerVmState[] = [SV.active, SV.stopped];
/** Root volumes change only while the server is stopped (CloudStack/EC2: detach, or attach to a root-less server). */
export const SERVER_ROOT_CHANGEABLE: readonly ServerVmState[] = [SV.stopped];
/** vm_states a server may be deleted from (Nova deletes from any; `deleted` is gone already). */
export const SERVER_DELETABLE: readonly ServerVmState[] = [SV.building, SV.active, SV.stopped, SV.error];

/** A delete begins: the vm_state stays what it is (task_state goes `deleting`) until the teardown ends. */
export const serverDeleteBegins = (vmState: ServerVmState): Transition<ServerVmState> => ({
  name: 'delete',
  from: SERVER_DELETABLE,
  to: vmState,
});
