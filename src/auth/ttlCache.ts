/**
 * A bounded map whose entries expire: token validations are kept until the
 * earlier of the token's expiry and a TTL, and the oldest-used entry goes
 * first when the cache is full (Map keeps insertion order; a hit re-inserts).
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.until <= this.now()) return undefined;
    this.entries.set(key, e);
    return e.value;
  }

  /** Keeps `value` until `until` (epoch ms); an already expired entry is not stored. */
  set(key: string, value: V, until: number): void {
    this.entries.delete(key);
    if (until <= this.now() || this.maxEntries <= 0) return;
    this.entries.set(key, { value, until });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
