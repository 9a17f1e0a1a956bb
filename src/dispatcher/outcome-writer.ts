/**
 * Writes attempt outcomes in batches: outcomes that finish while a write is under way are
 * written together by the next one, so under load one statement records many attempts and
 * at low load nothing waits.
 */
import type { Queryable } from '../persistence/database-pool.js';
import { recordAttemptOutcomes, type AttemptOutcomeRecord } from '../persistence/sql/record-attempt-outcomes.js';

interface Waiting {
  record: AttemptOutcomeRecord;
  resolve: (moved: boolean) => void;
  reject: (error: unknown) => void;
}

export class OutcomeWriter {
  private waiting: Waiting[] = [];
  private writing: Promise<void> | null = null;

  constructor(private readonly db: Queryable, private readonly workerId: string, private readonly maximumBatch = 500) {}

  /** Resolves once written: true if the delivery moved on, false if this worker no longer held it. */
  write(record: AttemptOutcomeRecord): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ record, resolve, reject });
      if (!this.writing) this.writing = this.writeAll();
    });
  }

  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeAll(): Promise<void> {
    // Let the outcomes that finish in this turn of the event loop join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maximumBatch);
      try {
        const moved = await recordAttemptOutcomes(this.db, this.workerId, batch.map((entry) => entry.record));
        for (const entry of batch) entry.resolve(moved.has(entry.record.deliveryId));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.writing = null;
  }
}
