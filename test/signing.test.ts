/**
 * Hookline signs with node:crypto; receivers verify with a Standard Webhooks library. These
 * tests hold the two together: every signature made here must pass the `standardwebhooks`
 * package's verifier, and be exactly the signature that package would make.
 */
import { describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { generateSecret, sign, signatureHeaders } from '../src/domain/signing.js';

const bodies = [
  '',
  '{"id":"e1","type":"message.status","data":{"status":"delivered"}}',
  // Multi-byte UTF-8: the HMAC is over the bytes, not over UTF-16 code units.
  '{"text":"Grüße, 你好, 👋🏽","to":"+15550100"}',
  'status=delivered&to%5B0%5D=%2B15550100',
  'x'.repeat(100_000),
];

describe('Standard Webhooks signatures', () => {
  test('are the ones the standardwebhooks package makes, for generated secrets, any body, id and time', () => {
    for (let round = 0; round < 20; round++) {
      const secret = generateSecret();
      const reference = new Webhook(secret);
      const messageId = `msg_${randomBytes(8).toString('hex')}`;
      const at = new Date(1_700_000_000_000 + round * 997_123);
      for (const body of bodies) {
        expect(sign(secret, messageId, Math.floor(at.getTime() / 1000), body)).toBe(reference.sign(messageId, at, body));
      }
    }
  });

  test('pass the verifier of every secret they were made with (rotation signs with both), and fail it for another secret or a changed body', () => {
    const current = generateSecret();
    const previous = generateSecret();
    const body = bodies[2]!;
    const headers = signatureHeaders([current, previous], 'msg_rotation', new Date(), body);

    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(current).verify(body.replace('Grüße', 'Grüsse'), headers)).toThrow(WebhookVerificationError);
  });

  test('take the secret with or without its whsec_ prefix, as the standard allows', () => {
    const secret = generateSecret();
    const bare = secret.slice('whsec_'.length);
    expect(sign(bare, 'msg_1', 1_700_000_000, 'hello')).toBe(sign(secret, 'msg_1', 1_700_000_000, 'hello'));
  });
});
