/**
 * The only module that imports node-cron. It is only a clock: each tick calls the dispatcher
 * or a sweep, which tests call directly.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.js';

export interface ScheduledJob {
  name: string;
  /** A six-field cron expression (seconds first). */
  expression: string;
  run: () => Promise<unknown> | unknown;
}

export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];

  constructor(private readonly logger: Logger) {}

  start(jobs: readonly ScheduledJob[]): void {
    for (const job of jobs) {
      const task = cron.schedule(
        job.expression,
        async () => {
          try {
            await job.run();
          } catch (error) {
            this.logger.warn({ err: error, job: job.name }, 'a scheduled job failed; it runs again at its next tick');
          }
        },
        { name: job.name, noOverlap: true },
      );
      this.tasks.push(task);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.tasks.map((task) => task.destroy()));
    this.tasks.length = 0;
  }
}
