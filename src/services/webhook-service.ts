/** Webhook configuration: create, change, start, stop, delete, rotate the signing secret. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { newId } from '../domain/ids.js';
import { NotFoundError } from '../domain/errors.js';
import type { AddressPolicy } from '../delivery/address-policy.js';
import { generateSecret } from '../domain/signing.js';
import { applyWebhookPatch, normalizeWebhookSettings, type WebhookSettings, type WebhookSettingsInput, type WebhookSettingsPatch } from '../domain/webhook-settings.js';
import { Webhook, type WebhookEntity } from '../persistence/entities.js';
import { deliveryChangesNotification } from '../persistence/sql/notification-channels.js';
import { isUuid, pageSize, decodeCursor, toPage, type Page, type PageRequest } from './pagination.js';

/** How long the previous secret keeps signing after a rotation, so receivers can switch over. */
export const previousSecretLifetimeMs = 24 * 3600 * 1000;

export function settingsOf(webhook: WebhookEntity): WebhookSettings {
  const { name, url, method, eventTypes, channels, statuses, queryParams, headers, auth, bodyFormat, bodyFields, timeoutMs, retryScheduleSeconds, active, orderingKey } = webhook;
  return { name, url, method, eventTypes, channels, statuses, queryParams, headers, auth, bodyFormat, bodyFields, timeoutMs, retryScheduleSeconds, active, orderingKey };
}

export class WebhookService {
  constructor(
    private readonly em: EntityManager,
    private readonly projectId: string,
    private readonly addressPolicy: AddressPolicy,
  ) {}

  async find(id: string): Promise<WebhookEntity | null> {
    if (!isUuid(id)) return null;
    return this.em.findOne(Webhook, { id, projectId: this.projectId });
  }

  async get(id: string): Promise<WebhookEntity> {
    const webhook = await this.find(id);
    if (!webhook) throw new NotFoundError('Webhook', id);
    return webhook;
  }

  async list(request: PageRequest): Promise<Page<WebhookEntity>> {
    const size = pageSize(request.first);
    const where: Record<string, unknown> = { projectId: this.projectId };
    if (request.after) where['id'] = { $lt: decodeCursor(request.after) };
    const rows = await this.em.find(Webhook, where, { orderBy: { id: 'desc' }, limit: size + 1 });
    return toPage(rows, size);
  }

  async create(input: WebhookSettingsInput): Promise<WebhookEntity> {
    const settings = normalizeWebhookSettings(input);
    await this.addressPolicy.assertAllowedUrl(settings.url, 'url');
    const webhook = this.em.create(Webhook, { id: newId(), projectId: this.projectId, ...settings, secret: generateSecret(), previousSecret: null, previousSecretExpiresAt: null });
    await this.em.flush();
    return webhook;
  }

  async update(id: string, patch: WebhookSettingsPatch): Promise<WebhookEntity> {
    const webhook = await this.get(id);
    const settings = applyWebhookPatch(settingsOf(webhook), patch);
    if (settings.url !== webhook.url) await this.addressPolicy.assertAllowedUrl(settings.url, 'url');
    const wasActive = webhook.active;
    return this.em.transactional(async (em) => {
      em.assign(webhook, settings);
      if (!wasActive && settings.active) {
        // Started again (after a stop or an auto-disable): a fresh start, not the old failure streak.
        em.assign(webhook, { consecutiveFailures: 0, failingSince: null, failingNotifiedAt: null, disabledAt: null, disabledReason: null });
      }
      await em.flush();
      if (wasActive !== settings.active) await this.pauseOrResume(em, webhook.id, settings.active);
      return webhook;
    });
  }

  async setActive(id: string, active: boolean): Promise<WebhookEntity> {
    return this.update(id, { active });
  }

  /**
   * A stopped webhook's queued deliveries wait with no due time, out of the dispatcher's way;
   * starting it makes them due now. Nothing queued is dropped.
   */
  private async pauseOrResume(em: EntityManager, webhookId: string, active: boolean): Promise<void> {
    const connection = em.getConnection();
    const context = em.getTransactionContext();
    const nextAttemptAt = active ? 'now()' : 'null';
    const paused = active ? 'next_attempt_at is null' : 'next_attempt_at is not null';
    await connection.execute(
      `with changed as (
         update delivery set next_attempt_at = ${nextAttemptAt}, updated_at = now()
         where webhook_id = ? and status in ('PENDING', 'RETRYING') and ${paused}
         returning *),
       ${deliveryChangesNotification('changed')}
       select count(*) from notified`,
      [webhookId],
      'all',
      context,
    );
  }

  /** Deletes the webhook; its queued deliveries are cancelled, its history stays queryable. */
  async delete(id: string): Promise<boolean> {
    const webhook = await this.get(id);
    await this.em.transactional(async (em) => {
      await em.getConnection().execute(
        `with cancelled as (
           update delivery set status = 'CANCELLED', next_attempt_at = null, updated_at = now()
           where webhook_id = ? and status in ('PENDING', 'RETRYING')
           returning *),
         ${deliveryChangesNotification('cancelled')}
         select count(*) from notified`,
        [webhook.id],
        'all',
        em.getTransactionContext(),
      );
      em.remove(webhook);
      await em.flush();
    });
    return true;
  }

  async rotateSecret(id: string): Promise<WebhookEntity> {
    const webhook = await this.get(id);
    webhook.previousSecret = webhook.secret;
    webhook.previousSecretExpiresAt = new Date(Date.now() + previousSecretLifetimeMs);
    webhook.secret = generateSecret();
    await this.em.flush();
    return webhook;
  }
}
