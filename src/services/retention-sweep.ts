/**
 * Retention, run by the scheduler: events older than the configured age go, with their
 * deliveries and attempts, in small batches with a pause between them, so the sweep never
 * holds the locks or the I/O the dispatcher needs for long.
 */
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { purgeOldEvents } from '../persistence/sql/purge-old-events.js';

export class RetentionSweep {
  private running = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly settings: Config['retention'],
    private readonly logger: Logger,
    private readonly pauseBetweenBatchesMs = 50,
  ) {}

  /** Returns how many events were purged. `maximumBatches` bounds one run; the next run goes on. */
  async run(now: Date = new Date(), maximumBatches = 200): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const cutoff = new Date(now.getTime() - this.settings.maximumAgeMs);
      let purged = 0;
      for (let batch = 0; batch < maximumBatches; batch++) {
        const deleted = await purgeOldEvents(this.pool, cutoff, this.settings.batchSize);
        purged += deleted;
        if (deleted < this.settings.batchSize) break;
        await new Promise((resolve) => setTimeout(resolve, this.pauseBetweenBatchesMs));
      }
      if (purged > 0) this.logger.info({ purged, cutoff }, 'purged events past retention, with their deliveries and attempts');
      return purged;
    } finally {
      this.running = false;
    }
  }
}
