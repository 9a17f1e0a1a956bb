/**
 * The health sweep, run by the scheduler: tells each project about webhooks that keep failing
 * (webhook.failing, once per failure streak) and stops those that have failed without a
 * single success for too long (webhook.disabled). The operational events go through the
 * ordinary delivery path, in the same transaction as the change they report.
 */
import type pg from 'pg';
import { newId } from '../domain/ids.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { inTransaction } from '../persistence/database-pool.js';
import { disableLongFailingWebhooks, markFailingWebhooks, type WebhookHealthChange } from '../persistence/sql/webhook-health.js';
import { storeEvents } from './event-service.js';

export const webhookFailingEventType = 'webhook.failing';
export const webhookDisabledEventType = 'webhook.disabled';

export interface HealthSweepResult {
  failing: WebhookHealthChange[];
  disabled: WebhookHealthChange[];
}

function eventData(change: WebhookHealthChange, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    webhookId: change.id,
    name: change.name,
    url: change.url,
    consecutiveFailures: change.consecutiveFailures,
    failingSince: change.failingSince?.toISOString() ?? null,
    lastSuccessAt: change.lastSuccessAt?.toISOString() ?? null,
    lastFailureAt: change.lastFailureAt?.toISOString() ?? null,
    ...extra,
  };
}

export class WebhookHealthSweep {
  constructor(
    private readonly pool: pg.Pool,
    private readonly settings: Config['health'],
    private readonly logger: Logger,
  ) {}

  async run(now: Date = new Date()): Promise<HealthSweepResult> {
    const result = await inTransaction(this.pool, async (client) => {
      const failingBefore = new Date(now.getTime() - this.settings.disableAfterMs);
      const disabled = await disableLongFailingWebhooks(client, failingBefore, (since) => `failed without a single success since ${since.toISOString()}`);
      const failing = await markFailingWebhooks(client, this.settings.failingAfterFailures);
      const events = [
        ...failing.map((change) => ({ change, type: webhookFailingEventType, data: eventData(change) })),
        ...disabled.map((change) => ({ change, type: webhookDisabledEventType, data: eventData(change, { disabledAt: change.disabledAt?.toISOString() ?? null, reason: `failed without a single success since ${change.failingSince?.toISOString()}` }) })),
      ];
      for (const { change, type, data } of events) {
        await storeEvents(client, change.projectId, [
          { id: newId(), type, channel: null, data, idempotencyKey: null, callbackUrl: null, callbackSecret: null, callbackBodyFormat: null, callbackBodyFields: null },
        ]);
      }
      return { failing, disabled };
    });
    for (const change of result.failing) {
      this.logger.warn({ webhookId: change.id, consecutiveFailures: change.consecutiveFailures, failingSince: change.failingSince }, 'webhook is failing');
    }
    for (const change of result.disabled) {
      this.logger.warn({ webhookId: change.id, failingSince: change.failingSince }, 'webhook disabled after failing too long');
    }
    return result;
  }
}
