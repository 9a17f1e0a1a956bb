/**
 * Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature), made by the
 * `standardwebhooks` package so that what we sign is exactly what its verifiers check.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const secretPrefix = 'whsec_';

export function generateSecret(): string {
  return secretPrefix + randomBytes(24).toString('base64');
}

// Decoding a secret into a key is done once per secret, not once per request.
const signers = new Map<string, Webhook>();
const maximumCachedSigners = 10_000;

function signerFor(secret: string): Webhook {
  let signer = signers.get(secret);
  if (!signer) {
    if (signers.size >= maximumCachedSigners) signers.clear();
    signer = new Webhook(secret);
    signers.set(secret, signer);
  }
  return signer;
}

export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  [name: string]: string;
}

/** Signs `body` (the empty string when a request has none) for the message `messageId`. */
export function signatureHeaders(secrets: readonly string[], messageId: string, timestamp: Date, body: string): SignatureHeaders {
  const signatures = secrets.map((secret) => signerFor(secret).sign(messageId, timestamp, body));
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
