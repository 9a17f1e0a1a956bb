/**
 * A webhook's settings as callers give them (optional fields, auth as a loose record) turned
 * into the complete, checked settings that are stored. Updates merge a patch into the stored
 * settings and go through the same checks, so no path stores something a create would refuse.
 */
import { ValidationError } from './errors.js';
import { defaultTimeoutMs, type BodyFormat, type HttpMethod, type KeyValue, type WebhookAuth } from './webhook-config.js';
import {
  validateAuth,
  validateBodyFields,
  validateEventTypes,
  validateHeaders,
  validateName,
  validateOrderingKey,
  validateQueryParams,
  validateRetrySchedule,
  validateStringList,
  validateTimeoutMs,
  validateUrl,
} from './webhook-validation.js';

export interface WebhookAuthInput {
  type: WebhookAuth['type'];
  token?: string | null;
  username?: string | null;
  password?: string | null;
  name?: string | null;
  value?: string | null;
  in?: 'HEADER' | 'QUERY' | null;
}

export interface WebhookSettingsInput {
  name: string;
  url: string;
  method?: HttpMethod | null;
  eventTypes: string[];
  channels?: string[] | null;
  statuses?: string[] | null;
  queryParams?: KeyValue[] | null;
  headers?: KeyValue[] | null;
  auth?: WebhookAuthInput | null;
  bodyFormat?: BodyFormat | null;
  bodyFields?: KeyValue[] | null;
  timeoutMs?: number | null;
  retryScheduleSeconds?: number[] | null;
  active?: boolean | null;
  orderingKey?: string | null;
}

export interface WebhookSettings {
  name: string;
  url: string;
  method: HttpMethod;
  eventTypes: string[];
  channels: string[];
  statuses: string[];
  queryParams: KeyValue[];
  headers: KeyValue[];
  auth: WebhookAuth;
  bodyFormat: BodyFormat;
  bodyFields: KeyValue[] | null;
  timeoutMs: number;
  retryScheduleSeconds: number[] | null;
  active: boolean;
  orderingKey: string | null;
}

export type WebhookSettingsPatch = Partial<WebhookSettingsInput>;

function required(value: string | null | undefined, field: string): string {
  if (!value) throw new ValidationError(`${field} is required for this auth type`, { field });
  return value;
}

export function normalizeAuth(input: WebhookAuthInput | null | undefined): WebhookAuth {
  if (!input || input.type === 'NONE') return { type: 'NONE' };
  switch (input.type) {
    case 'BEARER':
      return { type: 'BEARER', token: required(input.token, 'auth.token') };
    case 'BASIC':
      return { type: 'BASIC', username: required(input.username, 'auth.username'), password: input.password ?? '' };
    case 'API_KEY':
      return { type: 'API_KEY', name: required(input.name, 'auth.name'), value: required(input.value, 'auth.value'), in: input.in ?? 'HEADER' };
    default:
      throw new ValidationError(`auth.type "${String(input.type)}" is not one of NONE, API_KEY, BASIC, BEARER`, { field: 'auth.type' });
  }
}

function fields(list: KeyValue[] | null | undefined): KeyValue[] {
  return (list ?? []).map((entry) => ({ key: entry.key, value: entry.value, type: entry.type ?? 'TEXT', ...(entry.secret ? { secret: true } : {}) }));
}

export function normalizeWebhookSettings(input: WebhookSettingsInput): WebhookSettings {
  const settings: WebhookSettings = {
    name: input.name,
    url: input.url.trim(),
    method: input.method ?? 'POST',
    eventTypes: [...new Set(input.eventTypes.map((type) => type.trim()))],
    channels: [...new Set((input.channels ?? []).map((channel) => channel.trim().toLowerCase()))],
    statuses: [...new Set((input.statuses ?? []).map((status) => status.trim().toLowerCase()))],
    queryParams: fields(input.queryParams),
    headers: fields(input.headers),
    auth: normalizeAuth(input.auth),
    bodyFormat: input.bodyFormat ?? 'JSON',
    bodyFields: input.bodyFields === null || input.bodyFields === undefined ? null : fields(input.bodyFields),
    timeoutMs: input.timeoutMs ?? defaultTimeoutMs,
    retryScheduleSeconds: input.retryScheduleSeconds ?? null,
    active: input.active ?? true,
    orderingKey: input.orderingKey?.trim() || null,
  };
  validateName(settings.name);
  validateUrl(settings.url);
  validateEventTypes(settings.eventTypes);
  validateStringList('channels', settings.channels);
  validateStringList('statuses', settings.statuses);
  validateQueryParams(settings.queryParams);
  validateHeaders(settings.headers);
  validateAuth(settings.auth);
  if (settings.bodyFields) validateBodyFields(settings.bodyFields);
  validateTimeoutMs(settings.timeoutMs);
  if (settings.retryScheduleSeconds) validateRetrySchedule(settings.retryScheduleSeconds);
  if (settings.orderingKey !== null) validateOrderingKey(settings.orderingKey);
  return settings;
}

/** Fields the patch names replace the stored ones; an explicit null resets a nullable one. */
export function applyWebhookPatch(current: WebhookSettings, patch: WebhookSettingsPatch): WebhookSettings {
  const merged: WebhookSettingsInput = { ...current, auth: current.auth as WebhookAuthInput };
  for (const [key, value] of Object.entries(patch) as [keyof WebhookSettingsInput, unknown][]) {
    if (value === undefined) continue;
    if (value === null && (key === 'name' || key === 'url' || key === 'eventTypes')) {
      throw new ValidationError(`${key} cannot be null`, { field: key });
    }
    (merged as unknown as Record<string, unknown>)[key] = value;
  }
  return normalizeWebhookSettings(merged);
}
