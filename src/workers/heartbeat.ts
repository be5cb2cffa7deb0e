import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../db/connection';
import * as servicesDb from '../db/services';

/** Keeps a services row fresh so `os-services` can say up or down. */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly id = randomUUID();

  constructor(
    private readonly db: Db,
    private readonly service: {
      binary: string;
      host: string;
      zone: string;
      report: () => Record<string, unknown> | Promise<Record<string, unknown>>;
    },
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((err) => this.log.warn({ err }, 'heartbeat failed'));
    }, this.intervalMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const { binary, host, zone, report } = this.service;
    await servicesDb.heartbeat(this.db, { id: this.id, binary, host, zone, report: await report() });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
