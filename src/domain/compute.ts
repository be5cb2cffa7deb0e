/**
 * The compute (Nova) surface's fixed facts: its microversion range, the
 * flavors cairn offers, block device mapping vocabulary and device names.
 * Imports nothing but the microversion type.
 */
import type { ApiVersion } from './microversion';

/**
 * 2.1 … 2.89: every microversion up to 2.89 changes nothing cairn serves or
 * is honoured (2.89 is the last one about volume attachments: attachment_id
 * and bdm_uuid); 2.90+ (hostname, unshelve, keypairs, rebuild of
 * volume-backed servers) are not implemented, so they are not advertised.
 */
export const COMPUTE_MIN: ApiVersion = { major: 2, minor: 1 };
export const COMPUTE_MAX: ApiVersion = { major: 2, minor: 89 };
/** Nova's `v2.1` version document date (`nova/api/openstack/compute/versions.py`). */
export const COMPUTE_UPDATED = '2013-07-23T11:33:21Z';

export interface Flavor {
  readonly id: string;
  readonly name: string;
  readonly ram: number;
  readonly disk: number;
  readonly vcpus: number;
}

/**
 * Nova's historical default flavors. They only name a server's size for the
 * clients (`--flavor`): cairn runs no guests, and a server's disks are its
 * volumes, so no flavor adds ephemeral or swap disks.
 */
export const FLAVORS: readonly Flavor[] = [
  { id: '1', name: 'm1.tiny', ram: 512, disk: 1, vcpus: 1 },
  { id: '2', name: 'm1.small', ram: 2048, disk: 20, vcpus: 1 },
  { id: '3', name: 'm1.medium', ram: 4096, disk: 40, vcpus: 2 },
  { id: '4', name: 'm1.large', ram: 8192, disk: 80, vcpus: 4 },
  { id: '5', name: 'm1.xlarge', ram: 16384, disk: 160, vcpus: 8 },
];

export const BdmSource = { volume: 'volume', image: 'image', snapshot: 'snapshot', blank: 'blank' } as const;
export type BdmSource = (typeof BdmSource)[keyof typeof BdmSource];
export const BdmDestination = { local: 'local', volume: 'volume' } as const;
export type BdmDestination = (typeof BdmDestination)[keyof typeof BdmDestination];

/** `nova/objects/fields.py:DiskBus.ALL`. */
export const DISK_BUSES: readonly string[] = ['fdc', 'ide', 'sata', 'scsi', 'usb', 'virtio', 'xen', 'lxc', 'uml'];

/** Nova's default root device (`_check_and_transform_bdm` assumes `vda`). */
export const ROOT_DEVICE_NAME = '/dev/vda';

/** `nova/block_device.py:match_device`: `/dev/vdb`, `/dev/xvdc1`, `sda`… */
export const DEVICE_RE = /^(\/dev\/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$/;

/** `/dev/vda` → `vda` (`block_device.strip_dev`). */
export const stripDev = (name: string): string => name.replace(/^\/dev\//, '');
/** `vdb` → `/dev/vdb` (`block_device.prepend_dev`). */
export const prependDev = (name: string): string => (name.startsWith('/dev/') ? name : `/dev/${name}`);

/** `a`, `b`, … `z`, `aa`, … (`block_device.generate_device_letter`). */
function deviceLetter(index: number): string {
  let letters = '';
  let i = index;
  do {
    letters = String.fromCharCode(97 + (i % 26)) + letters;
    i = Math.floor(i / 26) - 1;
  } while (i >= 0);
  return letters;
}

/**
 * The first `/dev/vdX` not in `used` (libvirt's `get_next_device_name`
 * picks the lowest free letter after the root's), compared without `/dev/`.
 */
export function nextDeviceName(used: readonly string[]): string {
  const taken = new Set(used.map(stripDev));
  for (let i = 1; ; i++) {
    const name = `vd${deviceLetter(i)}`;
    if (!taken.has(name)) return `/dev/${name}`;
  }
}
