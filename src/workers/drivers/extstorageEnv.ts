import { createHash } from 'node:crypto';
import { gibToMib } from '../../domain/units';

/**
 * The Ganeti ExtStorage interface (`ganeti-extstorage-interface(7)`): the
 * scripts a provider has and the environment each one gets. Pure; the
 * driver runs the scripts.
 */

export const REQUIRED_SCRIPTS = ['create', 'attach', 'detach', 'remove', 'grow', 'setinfo', 'verify'] as const;
export const OPTIONAL_SCRIPTS = ['snapshot', 'open', 'close'] as const;
export const PARAMETERS_FILE = 'parameters.list';
export type ExtAction = (typeof REQUIRED_SCRIPTS)[number] | (typeof OPTIONAL_SCRIPTS)[number];

/**
 * The only variables not from the interface, with fixed values (never
 * cairn's own environment). Ganeti providers call `lvcreate`, `rbd`, `zfs`…
 * by name and parse their output: under Ganeti they inherit the node
 * daemon's PATH (sbin included) and always get `LC_ALL=C` from its RunCmd,
 * so an unchanged Ganeti provider needs both.
 */
export const FIXED_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LC_ALL: 'C',
};

/** `VOL_NAME`: unique and stable for the volume's life (the id never changes). */
export const extVolumeName = (volumeId: string): string => `cairn-vol-${volumeId}`;
export const extSnapshotName = (snapshotId: string): string => `cairn-snap-${snapshotId}`;

/**
 * The temporary snapshot a clone copies from (see `ExtStorageDriver.copyFrom`):
 * its `VOL_SNAPSHOT_NAME`/`VOL_NAME` is `cairn-snap-clone-<new volume id>`
 * and its `VOL_UUID` a name-based UUID (RFC 4122 version 5 layout) derived
 * from the new volume's id: stable across retries, and never the id of a
 * volume or snapshot a provider may also key on.
 */
export function cloneSnapshot(volumeId: string): { readonly id: string; readonly volName: string } {
  const h = createHash('sha1').update(`cairn-clone-snapshot:${volumeId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  const id = `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  return { id, volName: extSnapshotName(`clone-${volumeId}`) };
}

/** What one script call is about; sizes in GiB, converted to MiB here (the driver edge). */
export interface ScriptInput {
  /** `VOL_UUID`; also names the volume (`VOL_NAME` = `cairn-vol-<id>`) unless `volName` is given. */
  readonly volumeId: string;
  /**
   * `VOL_NAME` when the scripts act on something other than a cairn volume:
   * a snapshot, which is an ExtStorage volume of its own named by the
   * `VOL_SNAPSHOT_NAME` its snapshot script got (as Ganeti's export reads
   * and removes it).
   */
  readonly volName?: string;
  /** `VOL_CNAME`: the volume's display name, passed only when it has one (optional in the interface). */
  readonly displayName?: string | null;
  /** ExtStorage parameters (the provider name excluded), exported as `EXTP_<NAME>`. */
  readonly params: Readonly<Record<string, string>>;
  readonly sizeGib?: number;
  readonly newSizeGib?: number;
  readonly metadata?: string;
  /** For `snapshot`: `VOL_SNAPSHOT_NAME` = `cairn-snap-<snapshotId>`. */
  readonly snapshotId?: string;
  readonly exclusive?: boolean;
}

/** Which extra variables each script gets, beyond the common ones (man page, per script). */
const NEEDS: Readonly<Record<ExtAction, readonly ('size' | 'newSize' | 'metadata' | 'snapshot' | 'exclusive')[]>> = {
  create: ['size'],
  grow: ['size', 'newSize'],
  setinfo: ['metadata'],
  snapshot: ['snapshot'],
  open: ['exclusive'],
  attach: [],
  detach: [],
  remove: [],
  verify: [],
  close: [],
};

function need<T>(value: T | undefined, what: string, action: ExtAction): T {
  if (value === undefined) throw new Error(`the ${action} script needs ${what}`);
  return value;
}

/**
 * A tenant's display name as a provider script may see it: control
 * characters (newlines, escapes, NUL) and Unicode format/separator marks
 * become `_`, at most 255 characters. Providers log it and pass it to
 * their tools; it must not split a log line or a command.
 */
export function safeDisplayName(name: string): string {
  return [...name]
    .slice(0, 255)
    .map((ch) => (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(ch) ? '_' : ch))
    .join('');
}

/**
 * The complete environment of one script call: `VOL_NAME`, `VOL_UUID`,
 * `VOL_CNAME` (if named), `EXTP_*`, the action's own variables, and
 * `FIXED_ENV`. Nothing else, whatever cairn's environment holds.
 */
export function scriptEnv(action: ExtAction, input: ScriptInput): Record<string, string> {
  const env: Record<string, string> = { ...FIXED_ENV, VOL_NAME: input.volName ?? extVolumeName(input.volumeId), VOL_UUID: input.volumeId };
  const cname = input.displayName ? safeDisplayName(input.displayName) : '';
  if (cname) env.VOL_CNAME = cname;
  for (const [name, value] of Object.entries(input.params)) env[`EXTP_${name.toUpperCase()}`] = String(value);
  for (const n of NEEDS[action]) {
    switch (n) {
      case 'size':
        env.VOL_SIZE = String(gibToMib(need(input.sizeGib, 'the volume size', action)));
        break;
      case 'newSize':
        env.VOL_NEW_SIZE = String(gibToMib(need(input.newSizeGib, 'the new size', action)));
        break;
      case 'metadata':
        env.VOL_METADATA = need(input.metadata, 'metadata', action);
        break;
      case 'snapshot':
        env.VOL_SNAPSHOT_NAME = extSnapshotName(need(input.snapshotId, 'a snapshot id', action));
        env.VOL_SNAPSHOT_SIZE = String(gibToMib(need(input.sizeGib, 'the volume size', action)));
        break;
      // Python's str(bool), as Ganeti passes it: providers test for "True"/"False".
      case 'exclusive':
        env.VOL_OPEN_EXCLUSIVE = need(input.exclusive, 'exclusive', action) ? 'True' : 'False';
        break;
    }
  }
  return env;
}

/**
 * `VOL_METADATA` text as Ganeti's SetInfo cleans it: only `[-A-Za-z0-9_+.]`,
 * not starting with `-`, at most 128 characters.
 */
export function setinfoText(text: string): string {
  return text
    .replace(/^[^A-Za-z0-9_+.]/, '_')
    .replace(/[^-A-Za-z0-9_+.]/g, '_')
    .slice(0, 128);
}

/** `attach`'s output: the first line is the device path (may be empty), further lines `<hypervisor>:<uri>`. */
export function parseAttach(stdout: string): { devicePath: string; uris: string[] } {
  const [first = '', ...rest] = stdout.replace(/\r/g, '').split('\n');
  return { devicePath: first.trim(), uris: rest.map((l) => l.trim()).filter(Boolean) };
}

/** `VolumeRef.params` key naming the provider (extra spec `extstorage:provider`); every other key is an ExtStorage parameter. */
export const PROVIDER_PARAM = 'provider';
