/**
 * buildRequest (the exact request a webhook sends for an event, and its masked record) and the
 * validation that keeps unusable request shapes out. Pure functions: no database, no network.
 */
import { describe, expect, test } from '@jest/globals';
import qs from 'qs';
import { eventCatalog } from '../src/domain/event-catalog.js';
import { ValidationError } from '../src/domain/errors.js';
import { buildRequest, type EventEnvelope } from '../src/domain/request-builder.js';
import { httpMethods, type BodyFormat, type HttpMethod, type KeyValue, type RequestShape } from '../src/domain/webhook-config.js';
import { normalizeWebhookSettings, type WebhookSettingsInput } from '../src/domain/webhook-settings.js';

function envelope(data: Record<string, unknown>, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return { id: '0193a4f2-7c1e-7b2a-9d35-5f0c8e1a2b3c', type: 'message.received', channel: 'sms', createdAt: '2024-11-18T14:05:27.000Z', data, ...overrides };
}

function shape(overrides: Partial<RequestShape> = {}): RequestShape {
  return { url: 'https://receiver.example/hook', method: 'POST', queryParams: [], headers: [], auth: { type: 'NONE' }, bodyFormat: 'JSON', bodyFields: [], ...overrides };
}

const text = (key: string, value: string, secret = false): KeyValue => ({ key, value, type: 'TEXT', ...(secret ? { secret } : {}) });
const variable = (key: string, value: string): KeyValue => ({ key, value, type: 'VARIABLE' });

/** The JSON body of a built request, parsed. */
function jsonBody(shapeOverrides: Partial<RequestShape>, event: EventEnvelope): unknown {
  const { request } = buildRequest(shape(shapeOverrides), event);
  expect(request.headers['content-type']).toBe('application/json');
  return JSON.parse(request.body!);
}

/**
 * What a form or query-string decoder (qs, PHP's $_POST) gives back for a JSON value: every
 * leaf as a string, null as "" and empty arrays and objects left out (they have no key=value pair).
 */
function asFormValues(value: unknown): unknown {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.filter((item) => !isEmptyContainer(item)).map(asFormValues);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, item]) => !isEmptyContainer(item)).map(([key, item]) => [key, asFormValues(item)]));
  }
  return String(value);
}

function isEmptyContainer(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.keys(value as object).length === 0;
}

/** A masked secret shows at most its first 4 characters, then "********", and never the whole secret. */
function expectMasked(recorded: string | null | undefined, secret: string): void {
  expect(recorded).toMatch(/^.{0,4}\*{8}$/);
  expect(recorded).not.toContain(secret);
  const prefix = recorded!.slice(0, -8);
  expect(secret.startsWith(prefix)).toBe(true);
}

describe('every catalog sample, every method and body format', () => {
  const spreadAndFields: KeyValue[] = [
    variable('*', 'data'),
    text('event', '{{type}}'),
    variable('meta.eventId', 'id'),
    variable('meta.channel', 'channel'),
    text('meta.at', '{{createdAt}}'),
  ];
  const cases = eventCatalog.flatMap((entry) =>
    httpMethods.flatMap((method) =>
      (['JSON', 'FORM'] as BodyFormat[]).flatMap((bodyFormat) =>
        [null, spreadAndFields].map((bodyFields) => ({ entry, method, bodyFormat, bodyFields })),
      ),
    ),
  );

  function expectedBody(event: EventEnvelope, bodyFields: KeyValue[] | null): Record<string, unknown> {
    if (bodyFields === null) return { id: event.id, type: event.type, channel: event.channel, createdAt: event.createdAt, data: event.data };
    return { ...event.data, event: event.type, meta: { eventId: event.id, channel: event.channel, at: event.createdAt } };
  }

  test.each(cases.map((c) => [c.entry.name, c.method, c.bodyFormat, c.bodyFields ? 'spread + fields' : 'envelope', c] as const))(
    '%s, %s, %s, %s',
    (_name, _method, _format, _fields, { entry, method, bodyFormat, bodyFields }) => {
      const event = envelope(structuredClone(entry.samplePayload), { type: entry.name, channel: entry.channels[0] ?? null });
      const { request, recorded } = buildRequest(shape({ url: 'https://receiver.example/hook?source=hookline', method, bodyFormat, bodyFields }), event);
      const expected = expectedBody(event, bodyFields);
      expect(request.method).toBe(method);
      expect(recorded).toEqual(request);
      const url = new URL(request.url);
      expect(url.origin + url.pathname).toBe('https://receiver.example/hook');
      if (method === 'GET' || method === 'DELETE') {
        expect(request.body).toBeNull();
        expect(request.headers['content-type']).toBeUndefined();
        const { source, ...query } = qs.parse(url.search.slice(1));
        expect(source).toBe('hookline');
        expect(query).toEqual(asFormValues(expected));
      } else if (bodyFormat === 'FORM') {
        expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
        expect(url.search).toBe('?source=hookline');
        expect(qs.parse(request.body!)).toEqual(asFormValues(expected));
      } else {
        expect(request.headers['content-type']).toBe('application/json');
        expect(url.search).toBe('?source=hookline');
        expect(JSON.parse(request.body!)).toEqual(expected);
      }
    },
  );

  test('FORM bodies use PHP-style nested keys: contact[name], media[0][url], contact[vars][customer_id]', () => {
    const received = eventCatalog.find((entry) => entry.name === 'message.received')!;
    const { request } = buildRequest(shape({ bodyFormat: 'FORM', bodyFields: [variable('*', 'data')] }), envelope(received.samplePayload));
    const pairs = new URLSearchParams(request.body!);
    expect(pairs.get('contact[name]')).toBe('Tomasz Okonkwo');
    expect(pairs.get('media[0][url]')).toBe('https://media.example.net/inbound/2024/11/18/f3c9a1d2.jpg');
    expect(pairs.get('media[0][size]')).toBe('48213');
    expect(pairs.get('contact[vars][customer_id]')).toBe('C-20871');
    expect(pairs.get('from_number')).toBe('+447700900358');
  });
});

describe('body fields', () => {
  const event = envelope({
    text: 'Hi there',
    count: 3,
    price: 12.5,
    urgent: false,
    vip: true,
    nothing: null,
    contact: { name: 'Tomasz Okonkwo', phone_number: '+447700900358', vars: { tier: 'gold' } },
    media: [
      { url: 'https://media.example.net/a.jpg', caption: 'first' },
      { url: 'https://media.example.net/b.jpg', caption: 'second' },
    ],
    tags: ['a', 'b'],
  });

  test('dots nest, [] appends to an array and a[].b appends a new element per field', () => {
    const body = jsonBody(
      {
        bodyFields: [
          variable('message.text', 'data.text'),
          variable('message.contact.phone', 'data.contact.phone_number'),
          variable('message.attachments[]', 'data.media[0].url'),
          variable('message.attachments[]', 'data.media[1].url'),
          variable('items[].url', 'data.media[0].url'),
          text('items[].caption', 'second: {{data.media[1].caption}}'),
          text('chatId', '{{data.contact.phone_number}}'),
        ],
      },
      event,
    );
    expect(body).toEqual({
      message: {
        text: 'Hi there',
        contact: { phone: '+447700900358' },
        attachments: ['https://media.example.net/a.jpg', 'https://media.example.net/b.jpg'],
      },
      items: [{ url: 'https://media.example.net/a.jpg' }, { caption: 'second: second' }],
      chatId: '+447700900358',
    });
  });

  test('a last segment * spreads an object into its parent; later fields add to it or override it', () => {
    expect(jsonBody({ bodyFields: [variable('*', 'data.contact'), text('name', 'Renamed'), text('source', 'hookline')] }, event)).toEqual({
      name: 'Renamed',
      phone_number: '+447700900358',
      vars: { tier: 'gold' },
      source: 'hookline',
    });
    expect(jsonBody({ bodyFields: [variable('payload.*', 'data.contact.vars'), variable('payload.id', 'id')] }, event)).toEqual({
      payload: { tier: 'gold', id: event.id },
    });
    expect(jsonBody({ bodyFields: [variable('*', 'data')] }, event)).toEqual(event.data);
  });

  test('spreading something that is not an object adds nothing', () => {
    expect(jsonBody({ bodyFields: [variable('*', 'data.tags'), variable('*', 'data.text'), variable('*', 'data.missing'), text('kept', 'yes')] }, event)).toEqual({ kept: 'yes' });
  });

  test('VARIABLE keeps the JSON type: number, boolean, null, object, array', () => {
    expect(
      jsonBody(
        {
          bodyFields: [
            variable('count', 'data.count'),
            variable('price', 'data.price'),
            variable('urgent', 'data.urgent'),
            variable('vip', 'data.vip'),
            variable('nothing', 'data.nothing'),
            variable('contact', 'data.contact'),
            variable('tags', 'data.tags'),
            variable('firstMedia', 'data.media[0]'),
            variable('secondCaption', 'data.media.1.caption'),
          ],
        },
        event,
      ),
    ).toEqual({
      count: 3,
      price: 12.5,
      urgent: false,
      vip: true,
      nothing: null,
      contact: event.data['contact'],
      tags: ['a', 'b'],
      firstMedia: { url: 'https://media.example.net/a.jpg', caption: 'first' },
      secondCaption: 'second',
    });
  });

  test('TEXT renders tokens as text: numbers and booleans as written, objects as JSON, envelope fields by name', () => {
    expect(
      jsonBody(
        {
          bodyFields: [
            text('line', '{{data.contact.name}} has {{data.count}} messages (urgent: {{data.urgent}})'),
            text('vars', '{{data.contact.vars}}'),
            text('envelope', '{{type}} on {{channel}} at {{createdAt}} as {{id}}'),
            text('spaced', '{{ data.text }}'),
          ],
        },
        event,
      ),
    ).toEqual({
      line: 'Tomasz Okonkwo has 3 messages (urgent: false)',
      vars: '{"tier":"gold"}',
      envelope: `message.received on sms at 2024-11-18T14:05:27.000Z as ${event.id}`,
      spaced: 'Hi there',
    });
  });

  test('an unresolved path renders as "" in TEXT and as null in VARIABLE', () => {
    expect(
      jsonBody(
        {
          bodyFields: [
            text('text', 'name=[{{data.contact.nickname}}] media=[{{data.media[5].url}}] deep=[{{data.text.length.x}}]'),
            variable('missing', 'data.contact.nickname'),
            variable('outOfRange', 'data.media[9]'),
            variable('throughNull', 'data.nothing.inner'),
          ],
        },
        event,
      ),
    ).toEqual({ text: 'name=[] media=[] deep=[]', missing: null, outOfRange: null, throughNull: null });
  });

  test('paths name only the event\'s own fields, never inherited object members', () => {
    expect(
      jsonBody({ bodyFields: [text('text', '[{{data.constructor}}][{{data.contact.toString}}][{{data.__proto__}}]'), variable('variable', 'data.constructor')] }, event),
    ).toEqual({ text: '[][][]', variable: null });
  });

  test('an empty field list sends an empty object, a null list the whole envelope', () => {
    expect(jsonBody({ bodyFields: [] }, event)).toEqual({});
    expect(jsonBody({ bodyFields: null }, event)).toEqual({ id: event.id, type: event.type, channel: 'sms', createdAt: event.createdAt, data: event.data });
  });
});

describe('methods without a body', () => {
  const event = envelope({ status: 'blacklisted', recipient: { phone: '+306900000000', firstName: 'José María' } });

  test.each(['GET', 'DELETE'] as HttpMethod[])('%s puts the body fields into the query string after the query params', (method) => {
    const { request } = buildRequest(
      shape({ url: 'https://receiver.example/cb?fixed=1', method, queryParams: [text('phone', '{{data.recipient.phone}}')], bodyFields: [variable('status', 'data.status'), variable('who.name', 'data.recipient.firstName')] }),
      event,
    );
    expect(request.body).toBeNull();
    const url = new URL(request.url);
    expect([...url.searchParams.keys()]).toEqual(['fixed', 'phone', 'status', 'who[name]']);
    expect(url.searchParams.get('phone')).toBe('+306900000000');
    expect(qs.parse(url.search.slice(1))).toEqual({ fixed: '1', phone: '+306900000000', status: 'blacklisted', who: { name: 'José María' } });
  });

  test('GET with an empty field list adds only the query params; with null it adds the envelope', () => {
    const base = { url: 'https://receiver.example/cb', method: 'GET' as const, queryParams: [text('status', '{{data.status}}')] };
    expect(buildRequest(shape({ ...base, bodyFields: [] }), event).request.url).toBe('https://receiver.example/cb?status=blacklisted');
    const withEnvelope = new URL(buildRequest(shape({ ...base, bodyFields: null }), event).request.url);
    expect(qs.parse(withEnvelope.search.slice(1))).toEqual({
      status: 'blacklisted',
      id: event.id,
      type: event.type,
      channel: 'sms',
      createdAt: event.createdAt,
      data: { status: 'blacklisted', recipient: { phone: '+306900000000', firstName: 'José María' } },
    });
  });
});

describe('URL and query parameters', () => {
  const awkward = 'R&D / Sales #1 100%?x=y';
  const event = envelope({ team: awkward, id: 'C-20871', plus: '+447700900358' });

  test('tokens in the URL are percent-encoded, in the path and in the query part', () => {
    const { request } = buildRequest(shape({ url: 'https://receiver.example/teams/{{data.team}}/contacts/{{data.id}}?team={{data.team}}&phone={{data.plus}}' }), event);
    const url = new URL(request.url);
    expect(url.hostname).toBe('receiver.example');
    expect(url.hash).toBe('');
    expect(url.pathname).toBe(`/teams/${encodeURIComponent(awkward)}/contacts/C-20871`);
    expect(decodeURIComponent(url.pathname.split('/')[2]!)).toBe(awkward);
    expect([...url.searchParams.entries()]).toEqual([
      ['team', awkward],
      ['phone', '+447700900358'],
    ]);
  });

  test('query params are encoded as values: &, /, space, #, + and unicode survive', () => {
    const { request } = buildRequest(
      shape({ queryParams: [text('team', '{{data.team}}'), text('phone', '{{data.plus}}'), text('name', 'José María Núñez'), variable('id', 'data.id'), text('empty', '{{data.missing}}')] }),
      event,
    );
    const params = new URL(request.url).searchParams;
    expect(params.get('team')).toBe(awkward);
    expect(params.get('phone')).toBe('+447700900358');
    expect(params.get('name')).toBe('José María Núñez');
    expect(params.get('id')).toBe('C-20871');
    expect(params.get('empty')).toBe('');
  });

  test('every method sends and records the URL in its normalized form, the same for every event; tokens still render per event', () => {
    const configured = 'HTTP://Receiver.EXAMPLE:80/a/../hooks/%7euser?x=1';
    const normalized = 'http://receiver.example/hooks/%7euser?x=1';
    for (const method of httpMethods) {
      for (const n of [1, 2]) {
        const { request, recorded } = buildRequest(shape({ url: configured, method, bodyFields: [] }), envelope({ n }));
        expect([method, request.url, recorded.url]).toEqual([method, normalized, normalized]);
      }
    }
    const withToken = shape({ url: 'HTTP://Receiver.EXAMPLE/contacts/{{data.id}}' });
    expect(buildRequest(withToken, envelope({ id: 'C-1' })).request.url).toBe('http://receiver.example/contacts/C-1');
    expect(buildRequest(withToken, envelope({ id: 'C-2' })).request.url).toBe('http://receiver.example/contacts/C-2');
    expect(() => buildRequest(shape({ url: 'not a url' }), envelope({}))).toThrow('Invalid URL');
  });
});

describe('auth and masking', () => {
  const event = envelope({ text: 'hello' });

  test('BASIC sends base64(user:password) and records it masked', () => {
    const { request, recorded } = buildRequest(shape({ auth: { type: 'BASIC', username: 'hookline', password: 's3cr3t-pässword' } }), event);
    expect(request.headers['authorization']).toBe(`Basic ${Buffer.from('hookline:s3cr3t-pässword').toString('base64')}`);
    expect(recorded.headers['authorization']).toMatch(/^Basic /);
    expect(recorded.headers['authorization']).not.toContain(Buffer.from('hookline:s3cr3t-pässword').toString('base64'));
    expectMasked(recorded.headers['authorization']!.slice('Basic '.length), Buffer.from('hookline:s3cr3t-pässword').toString('base64'));
  });

  test('BEARER sends the token and records it masked', () => {
    const token = 'tok_9f2c1e7a4b3d8e6f';
    const { request, recorded } = buildRequest(shape({ auth: { type: 'BEARER', token } }), event);
    expect(request.headers['authorization']).toBe(`Bearer ${token}`);
    expectMasked(recorded.headers['authorization']!.slice('Bearer '.length), token);
  });

  test('API_KEY in a header sends it under its name and records it masked', () => {
    const value = 'key_51b0e9c4d7a2f8';
    const { request, recorded } = buildRequest(shape({ auth: { type: 'API_KEY', name: 'X-Api-Key', value, in: 'HEADER' } }), event);
    expect(request.headers['x-api-key']).toBe(value);
    expectMasked(recorded.headers['x-api-key'], value);
    expect(new URL(request.url).search).toBe('');
  });

  test('API_KEY in the query sends it as a parameter and records it masked', () => {
    const value = 'key/with+odd&chars';
    const { request, recorded } = buildRequest(shape({ url: 'https://receiver.example/hook?a=1', method: 'GET', auth: { type: 'API_KEY', name: 'api_key', value, in: 'QUERY' } }), event);
    expect(new URL(request.url).searchParams.get('api_key')).toBe(value);
    expect(new URL(request.url).searchParams.get('a')).toBe('1');
    expectMasked(new URL(recorded.url).searchParams.get('api_key'), value);
    expect(recorded.url).not.toContain(encodeURIComponent(value));
    expect(request.headers['authorization']).toBeUndefined();
  });

  test('secret fields are sent in full and recorded masked: body (JSON and FORM), query string and headers', () => {
    const secret = 'tr_shared_secret_8c2e51';
    const fields = [text('event', 'incoming_message'), text('secret', secret, true), variable('text', 'data.text')];
    for (const bodyFormat of ['JSON', 'FORM'] as BodyFormat[]) {
      const { request, recorded } = buildRequest(shape({ bodyFormat, bodyFields: fields }), event);
      const sent = bodyFormat === 'JSON' ? JSON.parse(request.body!) : qs.parse(request.body!);
      const stored = bodyFormat === 'JSON' ? JSON.parse(recorded.body!) : qs.parse(recorded.body!);
      expect(sent).toEqual({ event: 'incoming_message', secret, text: 'hello' });
      expect(recorded.body).not.toContain(secret);
      expect(stored).toMatchObject({ event: 'incoming_message', text: 'hello' });
      expectMasked(stored.secret as string, secret);
    }

    const get = buildRequest(shape({ method: 'GET', queryParams: [text('token', secret, true), text('plain', 'visible')], bodyFields: fields }), event);
    const sentQuery = new URL(get.request.url).searchParams;
    const storedQuery = new URL(get.recorded.url).searchParams;
    expect(sentQuery.get('token')).toBe(secret);
    expect(sentQuery.get('secret')).toBe(secret);
    expect(get.recorded.url).not.toContain(secret);
    expectMasked(storedQuery.get('token'), secret);
    expectMasked(storedQuery.get('secret'), secret);
    expect(storedQuery.get('plain')).toBe('visible');
    expect(storedQuery.get('event')).toBe('incoming_message');

    const headers = buildRequest(shape({ headers: [text('X-Shared-Secret', secret, true), text('X-Visible', 'yes')] }), event);
    expect(headers.request.headers['x-shared-secret']).toBe(secret);
    expectMasked(headers.recorded.headers['x-shared-secret'], secret);
    expect(headers.recorded.headers['x-visible']).toBe('yes');
  });

  test('header values from event data cannot add headers: CR, LF and NUL are neutralised', () => {
    const hostile = envelope({ name: 'Eve\r\nX-Injected: 1\r\n\r\nbody', nul: 'a\u0000b' });
    const { request, recorded } = buildRequest(
      shape({ headers: [text('X-Contact', 'name {{data.name}}'), variable('X-Raw', 'data.name'), variable('X-Nul', 'data.nul')] }),
      hostile,
    );
    for (const headers of [request.headers, recorded.headers]) {
      for (const value of Object.values(headers)) expect(value).not.toMatch(/[\r\n\0]/);
      expect(headers['x-injected']).toBeUndefined();
      expect(headers['x-contact']).toMatch(/^name Eve +X-Injected: 1 +body$/);
      expect(headers['x-raw']).toMatch(/^Eve +X-Injected: 1 +body$/);
    }
  });

  test('header names are sent lower-case with user-agent set, and custom headers render tokens', () => {
    const { request } = buildRequest(shape({ headers: [text('X-Channel', '{{channel}}'), text('X-Account', 'acme')] }), event);
    expect(request.headers).toMatchObject({ 'x-channel': 'sms', 'x-account': 'acme', 'content-type': 'application/json' });
    expect(request.headers['user-agent']).toMatch(/^Hookline\//);
  });
});

describe('validation refuses unusable request shapes with BAD_USER_INPUT', () => {
  const valid: WebhookSettingsInput = {
    name: 'valid',
    url: 'https://receiver.example/hooks/{{data.contact.id}}',
    eventTypes: ['message.*'],
    headers: [text('X-Account', 'acme')],
    queryParams: [text('phone', '{{data.recipient.phone}}')],
    bodyFields: [variable('*', 'data'), text('event', 'incoming_message'), variable('media[].url', 'data.media[0].url')],
    retryScheduleSeconds: [1, 60],
    timeoutMs: 100,
  };

  test('the valid base settings are accepted', () => {
    expect(() => normalizeWebhookSettings(valid)).not.toThrow();
    expect(() => normalizeWebhookSettings({ ...valid, auth: { type: 'BASIC', username: 'user', password: '' } })).not.toThrow();
    expect(() => normalizeWebhookSettings({ ...valid, auth: { type: 'API_KEY', name: 'X-Api-Key', value: 'k' } })).not.toThrow();
    expect(() => normalizeWebhookSettings({ ...valid, retryScheduleSeconds: Array.from({ length: 20 }, () => 1) })).not.toThrow();
  });

  const refused: Array<[string, Partial<WebhookSettingsInput>]> = [
    ['a header name with a space', { headers: [text('X Account', 'acme')] }],
    ['the Host header', { headers: [text('Host', 'evil.example')] }],
    ['the Content-Length header', { headers: [text('Content-Length', '0')] }],
    ['the Transfer-Encoding header', { headers: [text('transfer-encoding', 'chunked')] }],
    ['the webhook-signature header', { headers: [text('Webhook-Signature', 'v1,forged')] }],
    ['a header value with CR LF', { headers: [text('X-Account', 'acme\r\nX-Injected: 1')] }],
    ['an unclosed template', { bodyFields: [text('name', 'Hello {{data.x')] }],
    ['a token that is not a path', { headers: [text('X-Name', '{{ not a path! }}')] }],
    ['a token that is not a path in the URL', { url: 'https://receiver.example/{{ not a path! }}' }],
    ['a VARIABLE value that is not a path', { bodyFields: [variable('x', 'data..x')] }],
    ['a body key with an empty segment', { bodyFields: [text('a..b', 'x')] }],
    ['a body key with a bracketed name', { bodyFields: [text('a[b]', 'x')] }],
    ['a body key __proto__', { bodyFields: [text('__proto__.polluted', 'yes')] }],
    ['an ftp URL', { url: 'ftp://x' }],
    ['a URL with credentials', { url: 'https://user:pass@receiver.example/hook' }],
    ['timeoutMs 50', { timeoutMs: 50 }],
    ['a retry delay of 0', { retryScheduleSeconds: [0] }],
    ['21 retry delays', { retryScheduleSeconds: Array.from({ length: 21 }, () => 1) }],
    ['BASIC auth without a username', { auth: { type: 'BASIC', password: 'p' } }],
    ['API_KEY auth without a value', { auth: { type: 'API_KEY', name: 'X-Api-Key' } }],
    ['BEARER auth without a token', { auth: { type: 'BEARER' } }],
  ];

  test.each(refused)('%s', (_description, change) => {
    let caught: unknown;
    try {
      normalizeWebhookSettings({ ...valid, ...change });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).code).toBe('BAD_USER_INPUT');
  });

});
