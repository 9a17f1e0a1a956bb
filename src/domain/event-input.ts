/** Checks an event a caller publishes, before anything is stored. */
import { ValidationError } from './errors.js';
import type { BodyFormat, KeyValue } from './webhook-config.js';
import { validateBodyFields, validateUrl } from './webhook-validation.js';

export interface PublishEventInput {
  type: string;
  channel?: string | null;
  data: unknown;
  idempotencyKey?: string | null;
  callbackUrl?: string | null;
  callbackSecret?: string | null;
  callbackBodyFormat?: BodyFormat | null;
  callbackBodyFields?: KeyValue[] | null;
}

export interface CheckedEventInput {
  type: string;
  channel: string | null;
  data: Record<string, unknown>;
  idempotencyKey: string | null;
  callbackUrl: string | null;
  callbackSecret: string | null;
  callbackBodyFormat: BodyFormat | null;
  callbackBodyFields: KeyValue[] | null;
}

const eventTypePattern = /^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$/;
const channelPattern = /^[a-z0-9_\-]+$/;
export const maximumEventsPerBatch = 1000;
/** The default for HOOKLINE_MAX_EVENT_DATA_BYTES: an event's data as JSON. */
export const defaultMaximumDataBytes = 256 * 1024;

export function checkEventInput(input: PublishEventInput, field = 'input', maximumDataBytes = defaultMaximumDataBytes): CheckedEventInput {
  const type = (input.type ?? '').trim();
  if (!type) throw new ValidationError(`${field}.type must not be empty`, { field: `${field}.type` });
  if (type.length > 200 || !eventTypePattern.test(type)) {
    const shown = type.length > 60 ? `${type.slice(0, 60)}… (${type.length} characters)` : type;
    throw new ValidationError(`${field}.type "${shown}" must be letters, digits, "_", "-", ":" and dots, at most 200 characters`, { field: `${field}.type` });
  }
  const channel = input.channel?.trim().toLowerCase() || null;
  if (channel !== null && (channel.length > 50 || !channelPattern.test(channel))) {
    throw new ValidationError(`${field}.channel "${channel}" must be a short lower-case name such as sms or whatsapp`, { field: `${field}.channel` });
  }
  const data = input.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ValidationError(`${field}.data must be a JSON object`, { field: `${field}.data` });
  }
  const dataBytes = Buffer.byteLength(JSON.stringify(data));
  if (dataBytes > maximumDataBytes) {
    throw new ValidationError(`${field}.data is ${dataBytes} bytes as JSON, over the limit of ${maximumDataBytes}`, { field: `${field}.data`, limitBytes: maximumDataBytes });
  }
  const idempotencyKey = input.idempotencyKey ?? null;
  if (idempotencyKey !== null && (idempotencyKey.length === 0 || idempotencyKey.length > 200)) {
    throw new ValidationError(`${field}.idempotencyKey must be 1 to 200 characters`, { field: `${field}.idempotencyKey` });
  }
  const callbackUrl = input.callbackUrl?.trim() || null;
  if (callbackUrl !== null) validateUrl(callbackUrl, `${field}.callbackUrl`);
  const callbackSecret = input.callbackSecret ?? null;
  const callbackBodyFormat = input.callbackBodyFormat ?? null;
  const callbackBodyFields = input.callbackBodyFields?.map((entry) => ({ key: entry.key, value: entry.value, type: entry.type ?? 'TEXT', ...(entry.secret ? { secret: true } : {}) })) ?? null;
  if (callbackUrl === null && (callbackSecret !== null || callbackBodyFormat !== null || callbackBodyFields !== null)) {
    throw new ValidationError(`${field}.callbackSecret, callbackBodyFormat and callbackBodyFields need a callbackUrl`, { field: `${field}.callbackUrl` });
  }
  if (callbackSecret !== null && (callbackSecret.length === 0 || callbackSecret.length > 500 || /\{\{|\}\}|[\u0000-\u001f]/.test(callbackSecret))) {
    throw new ValidationError(`${field}.callbackSecret must be 1 to 500 characters, without "{{", "}}" or control characters`, { field: `${field}.callbackSecret` });
  }
  if (callbackBodyFields !== null) validateBodyFields(callbackBodyFields);
  return { type, channel, data: data as Record<string, unknown>, idempotencyKey, callbackUrl, callbackSecret, callbackBodyFormat, callbackBodyFields };
}
