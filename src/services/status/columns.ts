/** Each resource's status column, bound to its table's compare-and-set (db/*.ts `casStatus`), for move.ts. */
import * as attachmentsDb from '../../db/attachments';
import * as backupsDb from '../../db/backups';
import * as groupSnapshotsDb from '../../db/groupSnapshots';
import * as groupsDb from '../../db/groups';
import * as imagesDb from '../../db/images';
import * as serversDb from '../../db/servers';
import * as snapshotsDb from '../../db/snapshots';
import * as transfersDb from '../../db/transfers';
import * as volumesDb from '../../db/volumes';
import type {
  AttachStatus,
  BackupStatus,
  GroupSnapshotStatus,
  GroupStatus,
  ImageStatus,
  ServerVmState,
  SnapshotStatus,
  VolumeStatus,
} from '../../domain/status';
import type { StatusColumn } from './move';

/** The other fields a move of `cas` writes with its status (`key`). */
type With<F extends (...a: never[]) => unknown, K extends string> = Omit<Parameters<F>[3], K>;

export const volumeStatus = {
  cas: (conn, id, from, to, fields) => volumesDb.casStatus(conn, id, from, { ...fields, status: to }),
  casQuery: (conn, id, from, to, fields) => volumesDb.casStatusQuery(conn, id, from, { ...fields, status: to }),
} satisfies Required<StatusColumn<VolumeStatus, volumesDb.DbVolumeRow, With<typeof volumesDb.casStatus, 'status'>>>;

export const snapshotStatus: StatusColumn<SnapshotStatus, snapshotsDb.DbSnapshotRow, With<typeof snapshotsDb.casStatus, 'status'>> = {
  cas: (conn, id, from, to, fields) => snapshotsDb.casStatus(conn, id, from, { ...fields, status: to }),
};

export const backupStatus: StatusColumn<BackupStatus, backupsDb.DbBackupRow, With<typeof backupsDb.casStatus, 'status'>> = {
  cas: (conn, id, from, to, fields) => backupsDb.casStatus(conn, id, from, { ...fields, status: to }),
};

export const attachmentStatus: StatusColumn<
  AttachStatus,
  attachmentsDb.DbAttachmentRow,
  With<typeof attachmentsDb.casStatus, 'attach_status'>
> = {
  cas: (conn, id, from, to, fields) => attachmentsDb.casStatus(conn, id, from, { ...fields, attach_status: to }),
};

export const imageStatus: StatusColumn<ImageStatus, imagesDb.DbImageRow, With<typeof imagesDb.casStatus, 'status'>> = {
  cas: (conn, id, from, to, fields) => imagesDb.casStatus(conn, id, from, { ...fields, status: to }),
};

/** Groups' and group snapshots' tables answer whether the row moved; `true` stands for the row. */
export const groupStatus: StatusColumn<GroupStatus, true, Record<string, never>> = {
  cas: async (conn, id, from, to) => (await groupsDb.casStatus(conn, id, from, { status: to })) || undefined,
};

export const groupSnapshotStatus: StatusColumn<GroupSnapshotStatus, true, Record<string, never>> = {
  cas: async (conn, id, from, to) => (await groupSnapshotsDb.casStatus(conn, id, from, to)) || undefined,
};

/** A volume changing hands (a transfer accepted): its status moves with its project and user, which must be given. */
export const transferredVolumeStatus: StatusColumn<VolumeStatus, true, { projectId: string; userId: string }> = {
  cas: async (conn, id, from, to, owner) => (await transfersDb.moveVolume(conn, id, owner!, { from, to })) || undefined,
};

/** A server's vm_state, moved only while its task_state is `taskState` (null: idle; undefined: whatever it is). */
export const serverVmState = (
  taskState?: string | null,
): StatusColumn<ServerVmState, serversDb.DbServerRow, Omit<serversDb.ServerWritable, 'vm_state'>> => ({
  cas: (conn, id, from, to, fields) => serversDb.casServer(conn, id, from, { ...fields, vm_state: to }, taskState),
});
