import { expect, test } from '@jest/globals';
import { eventTypeMatches, isValidEventTypePattern, webhookWantsEvent } from '../src/domain/event-matching.js';

test('event type patterns: exact, family wildcard and everything', () => {
  expect(eventTypeMatches('message.status', 'message.status')).toBe(true);
  expect(eventTypeMatches('message.status', 'message.received')).toBe(false);
  expect(eventTypeMatches('message.*', 'message.status')).toBe(true);
  expect(eventTypeMatches('message.*', 'message.status.extra')).toBe(true);
  expect(eventTypeMatches('message.*', 'messages.status')).toBe(false);
  expect(eventTypeMatches('message.*', 'message')).toBe(false);
  expect(eventTypeMatches('*', 'contact.updated')).toBe(true);
});

test('only "*", names and trailing ".*" are valid patterns', () => {
  for (const valid of ['*', 'message.status', 'message.*', 'send_status', 'incoming_message']) expect(isValidEventTypePattern(valid)).toBe(true);
  for (const invalid of ['', 'mess*', '*.status', 'a b!', 'message.*.x', '.*']) expect(isValidEventTypePattern(invalid)).toBe(false);
});

test('channels and statuses narrow what a webhook wants', () => {
  const viberBlacklisted = { eventTypes: ['message.status'], channels: ['viber'], statuses: ['blacklisted'] };
  expect(webhookWantsEvent(viberBlacklisted, { type: 'message.status', channel: 'viber', data: { status: 'Blacklisted' } })).toBe(true);
  expect(webhookWantsEvent(viberBlacklisted, { type: 'message.status', channel: 'sms', data: { status: 'blacklisted' } })).toBe(false);
  expect(webhookWantsEvent(viberBlacklisted, { type: 'message.status', channel: 'viber', data: { status: 'seen' } })).toBe(false);
  expect(webhookWantsEvent(viberBlacklisted, { type: 'message.status', channel: null, data: { status: 'blacklisted' } })).toBe(false);
  // A status filter speaks only of events that carry a status.
  const anyWithStatuses = { eventTypes: ['*'], channels: [], statuses: ['delivered'] };
  expect(webhookWantsEvent(anyWithStatuses, { type: 'contact.updated', channel: null, data: {} })).toBe(true);
});
