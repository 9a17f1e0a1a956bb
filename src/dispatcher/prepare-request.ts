/**
 * From a claimed delivery to the signed request to send: the webhook's request shape (or the
 * event's callback URL), rendered for the event, signed the Standard Webhooks way.
 */
import type { BuiltRequest, EventEnvelope } from '../domain/request-builder.js';
import { buildSignedRequest } from '../domain/signed-request.js';
import { defaultTimeoutMs, type KeyValue, type RequestShape } from '../domain/webhook-config.js';
import type { ClaimedDelivery } from '../persistence/sql/claim-due-deliveries.js';

export interface PreparedRequest extends BuiltRequest {
  timeoutMs: number;
  retryScheduleSeconds: number[] | null;
}

export function envelopeOf(event: ClaimedDelivery['event']): EventEnvelope {
  return { id: event.id, type: event.type, channel: event.channel, createdAt: event.createdAt.toISOString(), data: event.data };
}

const envelopeFields: KeyValue[] = ['id', 'type', 'channel', 'createdAt', 'data'].map((key) => ({ key, value: key, type: 'VARIABLE' }));

/**
 * A callback URL given with an event is a POST of the envelope (or of the fields given with
 * it); a callback secret travels as the `secret` body parameter, as a status_secret does.
 */
export function callbackShape(event: Pick<ClaimedDelivery['event'], 'callbackUrl' | 'callbackSecret' | 'callbackBodyFormat' | 'callbackBodyFields'>): RequestShape | null {
  if (!event.callbackUrl) return null;
  let bodyFields = event.callbackBodyFields;
  if (event.callbackSecret) bodyFields = [...(bodyFields ?? envelopeFields), { key: 'secret', value: event.callbackSecret, type: 'TEXT', secret: true }];
  return { url: event.callbackUrl, method: 'POST', queryParams: [], headers: [], auth: { type: 'NONE' }, bodyFormat: event.callbackBodyFormat ?? 'JSON', bodyFields };
}

function shapeOf(delivery: ClaimedDelivery): RequestShape | null {
  return delivery.webhook ?? callbackShape(delivery.event);
}

/** The secrets that sign a webhook's requests: the current one, and the previous one while it is still honoured. */
export function signingSecrets(webhook: Pick<NonNullable<ClaimedDelivery['webhook']>, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>, now: Date): string[] {
  const secrets = [webhook.secret];
  if (webhook.previousSecret && webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > now) secrets.push(webhook.previousSecret);
  return secrets;
}

/** How long a delivery's request may take: its webhook's timeout, or the default for a callback URL. */
export function timeoutMsOf(delivery: Pick<ClaimedDelivery, 'webhook'>): number {
  return delivery.webhook?.timeoutMs ?? defaultTimeoutMs;
}

/** null when there is nowhere to send (the webhook was deleted and there is no callback URL). */
export function prepareRequest(delivery: ClaimedDelivery, now: Date): PreparedRequest | null {
  const shape = shapeOf(delivery);
  if (!shape) return null;
  const built = buildSignedRequest({
    shape,
    envelope: envelopeOf(delivery.event),
    secrets: delivery.webhook ? signingSecrets(delivery.webhook, now) : [],
    messageId: delivery.id,
    now,
  });
  return {
    ...built,
    timeoutMs: timeoutMsOf(delivery),
    retryScheduleSeconds: delivery.webhook?.retryScheduleSeconds ?? null,
  };
}
