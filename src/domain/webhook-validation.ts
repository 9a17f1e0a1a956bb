/**
 * Checks a webhook's configuration before anything is stored. Each problem becomes one
 * ValidationError naming the field, so a caller knows what to fix.
 */
import { isValidEventTypePattern } from './event-matching.js';
import { isValidPath, templateProblems } from './event-path.js';
import { ValidationError } from './errors.js';
import { maximumTimeoutMs, minimumTimeoutMs, type KeyValue, type WebhookAuth } from './webhook-config.js';

const headerNamePattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers that belong to the connection or that Hookline itself sets. */
const reservedHeaders = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'webhook-id', 'webhook-timestamp', 'webhook-signature',
]);
const controlCharacters = /[\u0000-\u0008\u000a-\u001f\u007f]/;

export const maximumRetrySlots = 20;
export const maximumRetryDelaySeconds = 7 * 24 * 3600;

function fail(field: string, problem: string): never {
  throw new ValidationError(`${field} ${problem}`, { field });
}

export function validateName(name: string): void {
  if (!name.trim()) fail('name', 'must not be empty');
  if (name.length > 200) fail('name', 'must be at most 200 characters');
  if (controlCharacters.test(name)) fail('name', 'must not contain control characters');
}

/** A destination URL: http or https, no credentials; `{{path}}` tokens are allowed. */
export function validateUrl(url: string, field = 'url'): void {
  if (url.length > 2048) fail(field, 'must be at most 2048 characters');
  const problems = templateProblems(url);
  if (problems.length) fail(field, problems[0]!);
  let parsed: URL;
  try {
    parsed = new URL(url.replace(/\{\{[^{}]*\}\}/g, 'token'));
  } catch {
    fail(field, `"${url}" is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(field, `must use http or https, not ${parsed.protocol.replace(':', '')}`);
  if (parsed.username || parsed.password) fail(field, 'must not carry credentials: use auth instead');
  if (!parsed.hostname) fail(field, 'must name a host');
}

export function validateEventTypes(eventTypes: readonly string[]): void {
  if (eventTypes.length === 0) fail('eventTypes', 'must name at least one event type (or "*")');
  if (eventTypes.length > 100) fail('eventTypes', 'must name at most 100 event types');
  for (const pattern of eventTypes) {
    if (!isValidEventTypePattern(pattern)) fail('eventTypes', `has "${pattern}", which is neither an event type, "family.*" nor "*"`);
  }
}

export function validateStringList(field: string, values: readonly string[]): void {
  if (values.length > 100) fail(field, 'must have at most 100 entries');
  for (const value of values) {
    if (!value.trim() || value.length > 100 || controlCharacters.test(value)) fail(field, `has an invalid entry "${value}"`);
  }
}

function validateField(field: string, entry: KeyValue): void {
  if (entry.type === 'VARIABLE') {
    if (!isValidPath(entry.value)) fail(field, `"${entry.key}" has "${entry.value}", which is not a path such as data.contact.name`);
  } else {
    const problems = templateProblems(entry.value);
    if (problems.length) fail(field, `"${entry.key}" ${problems[0]}`);
  }
  if (entry.value.length > 4096) fail(field, `"${entry.key}" has a value over 4096 characters`);
}

export function validateHeaders(headers: readonly KeyValue[]): void {
  if (headers.length > 50) fail('headers', 'must have at most 50 entries');
  for (const header of headers) {
    if (!headerNamePattern.test(header.key)) fail('headers', `has an invalid header name "${header.key}"`);
    if (reservedHeaders.has(header.key.toLowerCase())) fail('headers', `may not set "${header.key}": Hookline or the connection owns it`);
    if (controlCharacters.test(header.value)) fail('headers', `"${header.key}" has a control character (such as CR or LF) in its value`);
    validateField('headers', header);
  }
}

export function validateQueryParams(params: readonly KeyValue[]): void {
  if (params.length > 100) fail('queryParams', 'must have at most 100 entries');
  for (const param of params) {
    if (!param.key || param.key.length > 200 || controlCharacters.test(param.key)) fail('queryParams', `has an invalid name "${param.key}"`);
    validateField('queryParams', param);
  }
}

const bodyKeySegments = '[A-Za-z0-9_$\\-]+(\\[\\])?(\\.[A-Za-z0-9_$\\-]+(\\[\\])?)*';
/** `a.b`, `tags[]`, `media[].url`, and `*` or `a.*` to spread an object into its parent. */
const bodyKeyPattern = new RegExp(`^(\\*|${bodyKeySegments}(\\.\\*)?)$`);

export function validateBodyFields(fields: readonly KeyValue[]): void {
  if (fields.length > 200) fail('bodyFields', 'must have at most 200 entries');
  for (const field of fields) {
    if (!bodyKeyPattern.test(field.key)) fail('bodyFields', `has an invalid key "${field.key}": use names joined by dots, [] to append to an array, or * to spread an object`);
    // Assigning to a "__proto__" key would reach Object.prototype while the body is built.
    if (field.key.split('.').some((segment) => segment.replace(/\[\]$/, '') === '__proto__')) fail('bodyFields', `may not use "__proto__" in the key "${field.key}"`);
    validateField('bodyFields', field);
  }
}

export function validateAuth(auth: WebhookAuth): void {
  switch (auth.type) {
    case 'NONE':
      return;
    case 'BEARER':
      if (!auth.token || controlCharacters.test(auth.token)) fail('auth.token', 'must be a non-empty token without control characters');
      return;
    case 'BASIC':
      if (!auth.username || auth.username.includes(':') || controlCharacters.test(auth.username + auth.password)) {
        fail('auth.username', 'must be non-empty, without ":" or control characters');
      }
      return;
    case 'API_KEY':
      if (!auth.name || !headerNamePattern.test(auth.name)) fail('auth.name', 'must be a header or query parameter name');
      if (auth.in === 'HEADER' && reservedHeaders.has(auth.name.toLowerCase())) fail('auth.name', `may not be "${auth.name}"`);
      if (!auth.value || controlCharacters.test(auth.value)) fail('auth.value', 'must be non-empty, without control characters');
      return;
  }
}

export function validateTimeoutMs(timeoutMs: number): void {
  if (!Number.isInteger(timeoutMs) || timeoutMs < minimumTimeoutMs || timeoutMs > maximumTimeoutMs) {
    fail('timeoutMs', `must be a whole number of milliseconds from ${minimumTimeoutMs} to ${maximumTimeoutMs}`);
  }
}

export function validateRetrySchedule(schedule: readonly number[]): void {
  if (schedule.length > maximumRetrySlots) fail('retryScheduleSeconds', `must have at most ${maximumRetrySlots} delays`);
  for (const delay of schedule) {
    if (!Number.isInteger(delay) || delay < 1 || delay > maximumRetryDelaySeconds) {
      fail('retryScheduleSeconds', `must hold whole seconds from 1 to ${maximumRetryDelaySeconds}, not ${delay}`);
    }
  }
}

/** A path into the event whose value orders deliveries: `data.messageId`, `data.contact.id`. */
export function validateOrderingKey(path: string): void {
  if (!isValidPath(path)) fail('orderingKey', `"${path}" is not a path into the event such as data.messageId`);
}
