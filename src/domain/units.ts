/** Sizes cross the API in GiB and drivers in bytes or MiB; convert only here. */
export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;
export const gibToBytes = (gib: number): number => gib * GiB;
export const gibToMib = (gib: number): number => gib * 1024;
