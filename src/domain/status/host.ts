/** `os-hosts` service-status (Cinder's `contrib/hosts.py`): a view of the heartbeat, not a resource's status. */
export const HostServiceStatus = { available: 'available', unavailable: 'unavailable' } as const;
