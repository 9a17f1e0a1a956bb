import { expect, test } from '@jest/globals';
import { catalogChannels, eventCatalog, findCatalogEventType } from '../src/domain/event-catalog.js';

const vocabulary: readonly string[] = catalogChannels;

/**
 * Every status the reference documents name, with the final flag Hookline gives it and the
 * channels each reference says it applies to. Octapush (000) flags come from its table;
 * Telerivet (001) gives no flags, so queued / sent / failed_queued are open and the rest final.
 */
const expectedStatuses: Array<{ source: string; status: string; final: boolean; channels: string[] }> = [
  // 000 Octapush status table (SMS and Viber).
  { source: '000', status: 'sent', final: false, channels: ['sms', 'viber'] },
  { source: '000', status: 'pending', final: false, channels: ['sms', 'viber'] },
  { source: '000', status: 'submitted', final: false, channels: ['sms', 'viber'] },
  { source: '000', status: 'scheduled', final: false, channels: ['sms', 'viber'] },
  { source: '000', status: 'fallbacksms', final: false, channels: ['viber'] },
  { source: '000', status: 'not_delivered', final: true, channels: ['sms', 'viber'] },
  { source: '000', status: 'unknown', final: true, channels: ['sms', 'viber'] },
  { source: '000', status: 'error', final: true, channels: ['sms', 'viber'] },
  { source: '000', status: 'expired', final: true, channels: ['sms', 'viber'] },
  { source: '000', status: 'failed', final: true, channels: ['sms', 'viber'] },
  { source: '000', status: 'rejected', final: true, channels: ['sms', 'viber'] },
  { source: '000', status: 'canceled', final: true, channels: ['sms', 'viber'] },
  { source: '000', status: 'seen', final: true, channels: ['viber'] },
  { source: '000', status: 'clicked', final: true, channels: ['sms', 'viber'] },
  { source: '000', status: 'blacklisted', final: true, channels: ['sms', 'viber'] },
  { source: '000', status: 'unsubscribed', final: true, channels: ['sms', 'viber'] },
  { source: '000', status: 'blocked', final: true, channels: ['viber'] },
  // 001 Telerivet send_status.
  ...['queued', 'sent', 'failed_queued'].map((status) => ({ source: '001', status, final: false, channels: ['sms', 'mms', 'ussd', 'call'] })),
  ...['failed', 'delivered', 'not_delivered', 'cancelled'].map((status) => ({ source: '001', status, final: true, channels: ['sms', 'mms', 'ussd', 'call'] })),
  // 002 e-mail and WhatsApp template events.
  { source: '002', status: 'sent', final: false, channels: ['email', 'whatsapp'] },
  { source: '002', status: 'bounced', final: true, channels: ['email', 'whatsapp'] },
  { source: '002', status: 'opened', final: false, channels: ['email'] },
  { source: '002', status: 'clicked', final: true, channels: ['email'] },
  { source: '002', status: 'complained', final: true, channels: ['email'] },
  { source: '002', status: 'delivered', final: true, channels: ['whatsapp'] },
  // 004 transactional SMS.
  { source: '004', status: 'sent', final: false, channels: ['sms'] },
  { source: '004', status: 'delivered', final: true, channels: ['sms'] },
  { source: '004', status: 'undelivered', final: true, channels: ['sms'] },
];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

test('event type names are unique, dotted and lower-case', () => {
  const names = eventCatalog.map((type) => type.name);
  expect(new Set(names).size).toBe(names.length);
  for (const name of names) expect(name).toMatch(/^[a-z_]+(\.[a-z_]+)+$/);
});

test('the decided types are all there and findCatalogEventType finds them', () => {
  const decided = [
    'message.status',
    'message.received',
    'message.metadata',
    'broadcast.sent',
    'contact.updated',
    'contact.created',
    'mailing_group.subscribed',
    'mailing_group.unsubscribed',
    'chat.ended',
  ];
  for (const name of decided) expect(findCatalogEventType(name)?.name).toBe(name);
  expect(findCatalogEventType('message.*')).toBeUndefined();
  expect(findCatalogEventType('send_status')).toBeUndefined();
});

test('every status of every reference is in message.status with the right final flag and channels', () => {
  const statuses = findCatalogEventType('message.status')!.statuses;
  const byName = new Map(statuses.map((status) => [status.name, status]));
  expect(byName.size).toBe(statuses.length);
  for (const expected of expectedStatuses) {
    const status = byName.get(expected.status);
    expect({ ...expected, found: status !== undefined }).toEqual({ ...expected, found: true });
    expect({ status: expected.status, final: status!.final }).toEqual({ status: expected.status, final: expected.final });
    for (const channel of expected.channels) {
      expect({ status: expected.status, channels: status!.channels }).toEqual({
        status: expected.status,
        channels: expect.arrayContaining([channel]),
      });
    }
  }
  // Nothing in the catalog that no reference names.
  expect([...byName.keys()].sort()).toEqual([...new Set(expectedStatuses.map((expected) => expected.status))].sort());
});

test('only message.status carries statuses, and every status is described', () => {
  for (const type of eventCatalog) {
    if (type.name !== 'message.status') expect({ type: type.name, statuses: type.statuses }).toEqual({ type: type.name, statuses: [] });
    for (const status of type.statuses) {
      expect(status.name).toMatch(/^[a-z_]+$/);
      expect(status.description.length).toBeGreaterThan(10);
      expect(status.channels.length).toBeGreaterThan(0);
    }
  }
});

test('channels come only from the vocabulary, and a status only from its type\'s channels', () => {
  for (const type of eventCatalog) {
    // Hookline's own operational events (webhook.*) happen on no messaging channel.
    if (type.name.startsWith('webhook.')) expect(type.channels).toEqual([]);
    else expect(type.channels.length).toBeGreaterThan(0);
    for (const channel of type.channels) expect(vocabulary).toContain(channel);
    expect(new Set(type.channels).size).toBe(type.channels.length);
    for (const status of type.statuses) {
      for (const channel of status.channels) expect(type.channels).toContain(channel);
    }
  }
});

test('every sample is a plain object that survives a JSON round trip', () => {
  for (const type of eventCatalog) {
    expect(isPlainObject(type.samplePayload)).toBe(true);
    expect(Object.keys(type.samplePayload).length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(type.samplePayload))).toEqual(type.samplePayload);
    if (typeof type.samplePayload['status'] === 'string') {
      expect(type.statuses.map((status) => status.name)).toContain(type.samplePayload['status']);
    }
  }
});

test('samples carry what request builders need', () => {
  const received = findCatalogEventType('message.received')!.samplePayload as Record<string, any>;
  expect(received.contact).toEqual(expect.objectContaining({ name: expect.any(String), phone_number: expect.any(String), vars: expect.any(Object) }));
  expect(received.media[0]).toEqual(expect.objectContaining({ url: expect.any(String), type: expect.any(String), filename: expect.any(String), size: expect.any(Number) }));
  expect(received.state.id).toEqual(expect.any(String));
  expect(received.phone).toEqual(expect.objectContaining({ name: expect.any(String), phone_type: expect.any(String), country: expect.any(String) }));

  const status = findCatalogEventType('message.status')!.samplePayload as Record<string, any>;
  expect(status).toEqual(expect.objectContaining({ messageId: expect.any(String), status: expect.any(String), partCount: expect.any(Number), uniqueArgs: expect.any(Object) }));
  expect(Object.keys(status.recipient).sort()).toEqual(['custom', 'firstName', 'lastName', 'option1', 'option2', 'phone', 'title']);
  expect(status.recipient.custom.customerId).toEqual(expect.any(String));
  expect(status.reason).toEqual({ code: expect.any(Number), message: expect.any(String) });
});

test('every type names its sources', () => {
  for (const type of eventCatalog) {
    expect(type.description.length).toBeGreaterThan(20);
    expect(type.sources.length).toBeGreaterThan(0);
    for (const source of type.sources) {
      expect(source.reference).toMatch(/^00[0-4] /);
      expect(source.platform.length).toBeGreaterThan(0);
      expect(source.event.length).toBeGreaterThan(0);
    }
  }
  const statusSources = findCatalogEventType('message.status')!.sources.map((source) => source.event);
  for (const event of ['send_status', 'Not Delivered', 'undelivered', 'delivery bounce', 'complaint', 'whatsapp template bounce']) {
    expect(statusSources).toContain(event);
  }
});
