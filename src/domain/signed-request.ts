/** A request built for an event and signed the Standard Webhooks way: what every attempt, test and preview sends. */
import { buildRequest, type BuiltRequest, type EventEnvelope } from './request-builder.js';
import { signatureHeaders } from './signing.js';
import type { RequestShape } from './webhook-config.js';

export interface SigningInput {
  shape: RequestShape;
  envelope: EventEnvelope;
  /** Secrets to sign with; none for callback URLs, which carry their own secret parameter. */
  secrets: readonly string[];
  /** The webhook-id header: the delivery's id, the same on every retry, so receivers can deduplicate. */
  messageId: string;
  now: Date;
}

/** The request for one attempt: built from the shape and the event, then signed. */
export function buildSignedRequest(input: SigningInput): BuiltRequest {
  const built = buildRequest(input.shape, input.envelope);
  const signature: Record<string, string> =
    input.secrets.length > 0 ? signatureHeaders(input.secrets, input.messageId, input.now, built.request.body ?? '') : { 'webhook-id': input.messageId };
  Object.assign(built.request.headers, signature);
  Object.assign(built.recorded.headers, signature);
  return built;
}

