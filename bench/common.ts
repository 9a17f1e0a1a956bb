/**
 * The per-delivery work that the graphile-worker baseline and the limit script share, so that
 * both do exactly what Hookline does for a webhook with default settings: the same JSON
 * envelope, the same Standard Webhooks signature, the same kind of `got` client. Any
 * difference in the figures then comes from how the work is queued and recorded, not from
 * what is sent.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { got, type Got } from 'got';
import { emptyCacheOptions, requestWithDefinedOptions } from '../src/delivery/http-sender.js';
import { signatureHeaders } from '../src/domain/signing.js';

/** What Hookline sends when a webhook has no bodyFields. */
export interface EventEnvelope {
  id: string;
  type: string;
  channel: string | null;
  createdAt: string;
  data: Record<string, unknown>;
}

/** A webhook as the baseline and the limit script know it: where to send, what to sign with. */
export interface BenchWebhook {
  url: string;
  secret: string;
}

export const benchEventType = 'message.status';
export const benchEventChannel = 'sms';
const userAgent = 'hookline-bench/1';

/**
 * The event every phase publishes. `publishedAt` (epoch ms) travels inside the data, so the
 * receiver can measure publish-to-receiver time without any shared state.
 */
export function benchEventData(sequence: number, publishedAt: number): Record<string, unknown> {
  return { messageId: `m-${sequence}`, status: 'delivered', to: '+15550100', publishedAt };
}

/** The body, with its keys in Hookline's order, so every sender puts the same bytes on the wire. */
export function envelopeBody(envelope: EventEnvelope): string {
  return JSON.stringify({ id: envelope.id, type: envelope.type, channel: envelope.channel, createdAt: envelope.createdAt, data: envelope.data });
}

/** Signs the Standard Webhooks way, with Hookline's own signing (node:crypto, the key decoded once per secret). */
export class Signer {
  constructor(private readonly secret: string) {}

  headers(messageId: string, at: Date, body: string): Record<string, string> {
    return { 'content-type': 'application/json', 'user-agent': userAgent, ...signatureHeaders([this.secret], messageId, at, body) };
  }
}

export interface PostOutcome {
  success: boolean;
  /** null when no answer came (refused, timed out). */
  status: number | null;
  durationMs: number;
  error: string | null;
}

export interface SenderClient {
  post(url: string, headers: Record<string, string>, body: string): Promise<PostOutcome>;
  close(): void;
}

/**
 * One `got` instance with a keep-alive agent for the whole process, configured like
 * Hookline's: no retries (the queue retries), HTTP errors as values, redirects not followed.
 */
export function createSenderClient(maximumSockets: number, timeoutMs = 10_000): SenderClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: maximumSockets, maxFreeSockets: maximumSockets, scheduling: 'lifo' });
  const client: Got = got.extend({
    agent: { http: agent },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    timeout: { request: timeoutMs },
    // The same tuning as Hookline's sender: without it got costs this process about 95 µs more
    // per request, and the limit would not be what this stack can do.
    hooks: { beforeRequest: [emptyCacheOptions] },
    request: requestWithDefinedOptions,
  });
  return {
    async post(url, headers, body) {
      const startedAt = performance.now();
      try {
        const response = await client.post(url, { headers, body });
        const success = response.statusCode >= 200 && response.statusCode < 300;
        return { success, status: response.statusCode, durationMs: Math.round(performance.now() - startedAt), error: success ? null : `HTTP ${response.statusCode}` };
      } catch (error) {
        return { success: false, status: null, durationMs: Math.round(performance.now() - startedAt), error: error instanceof Error ? error.message : String(error) };
      }
    },
    close() {
      agent.destroy();
    },
  };
}
