/**
 * Trying a webhook without storing anything: `preview` shows the exact request an event would
 * produce; `test` sends one real, signed request now and reports what came back. Either works
 * for a saved webhook or for settings not saved yet ("test before saving").
 */
import { newId } from '../domain/ids.js';
import type { AddressPolicy } from '../delivery/address-policy.js';
import type { Sender } from '../delivery/http-sender.js';
import { ValidationError } from '../domain/errors.js';
import { findCatalogEventType } from '../domain/event-catalog.js';
import { checkEventInput } from '../domain/event-input.js';
import type { EventEnvelope, OutgoingRequest } from '../domain/request-builder.js';
import { buildSignedRequest } from '../domain/signed-request.js';
import { generateSecret } from '../domain/signing.js';
import { normalizeWebhookSettings, type WebhookSettings, type WebhookSettingsInput } from '../domain/webhook-settings.js';
import type { WebhookService } from './webhook-service.js';

export interface WebhookTrialInput {
  webhookId?: string | null;
  webhook?: WebhookSettingsInput | null;
  eventType: string;
  channel?: string | null;
  /** The event's data; default: the catalog's sample for eventType. */
  data?: unknown;
}

export interface PreparedTrial {
  request: OutgoingRequest;
  recorded: OutgoingRequest;
  timeoutMs: number;
  /** The secret that signed the request: the webhook's, or a throwaway one for unsaved settings. */
  signingSecret: string;
  envelope: EventEnvelope;
}

export interface TrialResult {
  request: OutgoingRequest;
  signingSecret: string | null;
  success: boolean;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  durationMs: number;
  error: string | null;
}

export class WebhookTrialService {
  constructor(
    private readonly webhooks: WebhookService,
    private readonly sender: Sender,
    private readonly addressPolicy: AddressPolicy,
    private readonly maximumDataBytes: number,
  ) {}

  private async settingsAndSecret(input: WebhookTrialInput): Promise<{ settings: WebhookSettings; secret: string; saved: boolean }> {
    if (input.webhookId && input.webhook) throw new ValidationError('give webhookId or webhook, not both', { field: 'webhookId' });
    if (input.webhookId) {
      const webhook = await this.webhooks.get(input.webhookId);
      return { settings: webhook, secret: webhook.secret, saved: true };
    }
    if (input.webhook) {
      const settings = normalizeWebhookSettings(input.webhook);
      await this.addressPolicy.assertAllowedUrl(settings.url, 'webhook.url');
      return { settings, secret: generateSecret(), saved: false };
    }
    throw new ValidationError('give a saved webhook\'s webhookId or unsaved webhook settings', { field: 'webhookId' });
  }

  async prepare(input: WebhookTrialInput): Promise<PreparedTrial & { saved: boolean }> {
    const { settings, secret, saved } = await this.settingsAndSecret(input);
    const catalogType = findCatalogEventType(input.eventType);
    const data = input.data ?? catalogType?.samplePayload;
    if (data === undefined) {
      throw new ValidationError(`"${input.eventType}" is not in the event catalog, so give data for it`, { field: 'data' });
    }
    const event = checkEventInput({ type: input.eventType, channel: input.channel ?? catalogType?.channels[0] ?? null, data }, 'input', this.maximumDataBytes);
    const now = new Date();
    const messageId = `test_${newId()}`;
    const envelope: EventEnvelope = { id: messageId, type: event.type, channel: event.channel, createdAt: now.toISOString(), data: event.data };
    const built = buildSignedRequest({ shape: settings, envelope, secrets: [secret], messageId, now });
    return { ...built, timeoutMs: settings.timeoutMs, signingSecret: secret, envelope, saved };
  }

  async preview(input: WebhookTrialInput): Promise<OutgoingRequest> {
    return (await this.prepare(input)).recorded;
  }

  async test(input: WebhookTrialInput): Promise<TrialResult> {
    const prepared = await this.prepare(input);
    const outcome = await this.sender.send(prepared.request, prepared.timeoutMs);
    const base = {
      request: prepared.recorded,
      // A saved webhook's secret is not shown again here; a throwaway one is, so the receiver's check can be tried.
      signingSecret: prepared.saved ? null : prepared.signingSecret,
      durationMs: outcome.durationMs,
    };
    if (outcome.kind !== 'response') {
      return { ...base, success: false, responseStatus: null, responseHeaders: null, responseBody: null, error: outcome.kind === 'error' ? outcome.error : 'cancelled' };
    }
    const success = outcome.status >= 200 && outcome.status < 300;
    return {
      ...base,
      success,
      responseStatus: outcome.status,
      responseHeaders: outcome.headers,
      responseBody: outcome.body,
      error: success ? null : outcome.status >= 300 && outcome.status < 400 ? `redirect (HTTP ${outcome.status}) not followed` : `HTTP ${outcome.status}`,
    };
  }
}
