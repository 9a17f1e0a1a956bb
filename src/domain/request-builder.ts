/**
 * Turns a webhook's request shape and an event into the exact HTTP request to send, and a
 * copy of it with auth values masked for storing and logging. Pure: no clock, no I/O.
 */
import qs from 'qs';
import { renderTemplate, resolvePath, valueAsText } from './event-path.js';
import { memoizedByString } from './memo.js';
import type { KeyValue, RequestShape } from './webhook-config.js';

export interface EventEnvelope {
  id: string;
  type: string;
  channel: string | null;
  createdAt: string;
  data: Record<string, unknown>;
}

export interface OutgoingRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** null for GET and DELETE, whose fields travel in the query string. */
  body: string | null;
}

export interface BuiltRequest {
  request: OutgoingRequest;
  /** The same request with auth values masked: what attempts store and logs show. */
  recorded: OutgoingRequest;
}

export const userAgent = 'Hookline/0.1 (+webhooks)';
const masked = '********';

export function maskSecret(value: string): string {
  return value.length <= 8 ? masked : `${value.slice(0, 4)}${masked}`;
}

/** The value of one configured field: TEXT renders tokens, VARIABLE keeps the JSON type. */
function fieldValue(field: KeyValue, envelope: EventEnvelope): unknown {
  return field.type === 'VARIABLE' ? resolvePath(envelope, field.value) ?? null : renderTemplate(field.value, envelope);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Builds a nested object from output keys: dots nest (`multimedia.url`), a trailing `[]`
 * appends to an array (`tags[]`), `[]` inside a key appends a new element (`media[].url`),
 * and a last segment `*` spreads an object value into its parent (`*` = `data` sends the
 * event's data as the whole body). `mask` replaces secret fields' values (for records).
 */
export function buildBodyObject(fields: readonly KeyValue[], envelope: EventEnvelope, mask = false): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const field of fields) {
    const value = mask && field.secret ? masked : fieldValue(field, envelope);
    const segments = field.key.split('.');
    let container: Record<string, unknown> = root;
    segments.forEach((segment, index) => {
      const last = index === segments.length - 1;
      if (last && segment === '*') {
        if (isPlainObject(value)) {
          for (const [key, item] of Object.entries(value)) if (key !== '__proto__') container[key] = item;
        }
        return;
      }
      const appends = segment.endsWith('[]');
      const name = appends ? segment.slice(0, -2) : segment;
      // Validation refuses such keys; this keeps the builder safe on its own.
      if (name === '__proto__') return;
      if (appends) {
        const list = Array.isArray(container[name]) ? (container[name] as unknown[]) : [];
        container[name] = list;
        if (last) list.push(value);
        else {
          const element: Record<string, unknown> = {};
          list.push(element);
          container = element;
        }
      } else if (last) {
        container[name] = value;
      } else {
        const next = container[name];
        container = isPlainObject(next) ? next : (container[name] = {});
      }
    });
  }
  return root;
}

/** Header values come from configuration and event data: line breaks would split the header. */
function headerSafe(value: string): string {
  return value.replace(/[\r\n\0]+/g, ' ');
}

/**
 * A token's value in a URL is percent-encoded; "." and ".." render empty, because URL parsing
 * would read them (even encoded) as path steps and move the request to another path.
 */
function encodeUrlToken(text: string): string {
  return text === '.' || text === '..' ? '' : encodeURIComponent(text);
}

function appendQuery(url: URL, query: string): void {
  if (query) url.search = url.search ? `${url.search}&${query}` : `?${query}`;
}

/**
 * The normalized form of a webhook URL with no tokens, worked out once per URL rather than
 * parsed and serialized again for every delivery.
 */
const normalizedUrl = memoizedByString((text) => new URL(text).toString());

/** A request that adds nothing to its URL: no query parameters, no key in the query, fields in the body. */
function keepsUrlAsConfigured(shape: RequestShape): boolean {
  return shape.queryParams.length === 0 && !(shape.auth.type === 'API_KEY' && shape.auth.in === 'QUERY') && shape.method !== 'GET' && shape.method !== 'DELETE';
}

export function buildRequest(shape: RequestShape, envelope: EventEnvelope): BuiltRequest {
  const renderedUrl = renderTemplate(shape.url, envelope, encodeUrlToken);
  // URLs to add to; null when nothing is added, and then the URL's text is all there is to work out.
  const url = keepsUrlAsConfigured(shape) ? null : new URL(renderedUrl);
  const recordedUrl = url && new URL(url);
  const asConfigured = url ? null : renderedUrl === shape.url ? normalizedUrl(renderedUrl) : new URL(renderedUrl).toString();
  for (const param of shape.queryParams) {
    const value = valueAsText(fieldValue(param, envelope));
    url!.searchParams.append(param.key, value);
    recordedUrl!.searchParams.append(param.key, param.secret ? masked : value);
  }

  const headers: Record<string, string> = { 'user-agent': userAgent };
  const recordedHeaders: Record<string, string> = { 'user-agent': userAgent };
  for (const header of shape.headers) {
    const name = header.key.toLowerCase();
    headers[name] = headerSafe(valueAsText(fieldValue(header, envelope)));
    recordedHeaders[name] = header.secret ? masked : headers[name];
  }

  const auth = shape.auth;
  if (auth.type === 'BASIC') {
    headers['authorization'] = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    recordedHeaders['authorization'] = `Basic ${masked}`;
  } else if (auth.type === 'BEARER') {
    headers['authorization'] = `Bearer ${auth.token}`;
    recordedHeaders['authorization'] = `Bearer ${masked}`;
  } else if (auth.type === 'API_KEY' && auth.in === 'QUERY') {
    url!.searchParams.set(auth.name, auth.value);
    recordedUrl!.searchParams.set(auth.name, masked);
  } else if (auth.type === 'API_KEY') {
    headers[auth.name.toLowerCase()] = auth.value;
    recordedHeaders[auth.name.toLowerCase()] = masked;
  }

  const fields = shape.bodyFields;
  const bodyObject = fields === null ? { ...envelope } : buildBodyObject(fields, envelope);
  // Secret fields are masked in the record: the body is built a second time only when there are any.
  const recordedBodyObject = fields?.some((field) => field.secret) ? buildBodyObject(fields, envelope, true) : bodyObject;
  let body: string | null = null;
  let recordedBody: string | null = null;
  if (shape.method === 'GET' || shape.method === 'DELETE') {
    appendQuery(url!, qs.stringify(bodyObject));
    appendQuery(recordedUrl!, qs.stringify(recordedBodyObject));
  } else if (shape.bodyFormat === 'FORM') {
    body = qs.stringify(bodyObject);
    recordedBody = recordedBodyObject === bodyObject ? body : qs.stringify(recordedBodyObject);
    headers['content-type'] = recordedHeaders['content-type'] = 'application/x-www-form-urlencoded';
  } else {
    body = JSON.stringify(bodyObject);
    recordedBody = recordedBodyObject === bodyObject ? body : JSON.stringify(recordedBodyObject);
    headers['content-type'] = recordedHeaders['content-type'] = 'application/json';
  }

  return {
    request: { method: shape.method, url: asConfigured ?? url!.toString(), headers, body },
    recorded: { method: shape.method, url: asConfigured ?? recordedUrl!.toString(), headers: recordedHeaders, body: recordedBody },
  };
}
