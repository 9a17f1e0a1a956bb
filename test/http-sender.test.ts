/**
 * The sender against real HTTP servers on 127.0.0.1: how an answer's body is read (whole, cut
 * at the limit, broken off), and what a timeout or a cancellation comes back as.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { AddressPolicy } from '../src/delivery/address-policy.js';
import { createHttpSender, SendCancellation, type Sender } from '../src/delivery/http-sender.js';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

const limit = 1024;
let server: http.Server;
let base = '';
const handlers = new Map<string, Handler>();
let sender: Sender;
let requestCount = 0;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    requestCount++;
    request.resume();
    handlers.get(request.url ?? '')?.(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sender = createHttpSender({ maximumResponseBodyBytes: limit, maximumSocketsPerHost: 4, addressPolicy: new AddressPolicy({ allowPrivateNetworks: ['127.0.0.1'] }) });
});

afterAll(async () => {
  sender.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function post(path: string, timeoutMs = 5000, cancellation?: SendCancellation) {
  return sender.send({ method: 'POST', url: `${base}${path}`, headers: { 'content-type': 'application/json' }, body: '{}' }, timeoutMs, cancellation);
}

describe('the HTTP sender', () => {
  test('reads a body sent in several chunks whole, with a multi-byte character split between two of them', async () => {
    const text = 'délivré ✓ 👋';
    const bytes = Buffer.from(text, 'utf8');
    handlers.set('/chunks', (_request, response) => {
      response.writeHead(201, { 'x-answer': 'yes' });
      // Split inside the four bytes of the last character.
      response.write(bytes.subarray(0, bytes.length - 2));
      setImmediate(() => response.end(bytes.subarray(bytes.length - 2)));
    });

    const outcome = await post('/chunks');

    expect(outcome).toMatchObject({ kind: 'response', status: 201, body: text, bodyTruncated: false });
    expect(outcome.kind === 'response' && outcome.headers['x-answer']).toBe('yes');
  });

  test('cuts a large body at the limit, and does not wait for the rest of an answer that never ends', async () => {
    handlers.set('/endless', (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      // 3 KB at once, then nothing more and no end: only the timeout would finish it.
      response.write('a'.repeat(3 * limit));
    });
    handlers.set('/large', (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('b'.repeat(1024 * 1024));
    });

    const endless = await post('/endless', 20_000);
    const large = await post('/large');

    expect(endless).toMatchObject({ kind: 'response', status: 200, body: 'a'.repeat(limit), bodyTruncated: true });
    expect(endless.durationMs).toBeLessThan(20_000);
    expect(large).toMatchObject({ kind: 'response', status: 200, body: 'b'.repeat(limit), bodyTruncated: true });
  });

  test('an answer broken off in the middle of its body is an error, not a short body', async () => {
    handlers.set('/broken', (_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('only ten b');
      setImmediate(() => response.socket?.destroy());
    });

    const outcome = await post('/broken');

    expect(outcome.kind).toBe('error');
  });

  test('no answer within the timeout is an error that says so; a cancelled request is reported as cancelled', async () => {
    handlers.set('/silent', () => undefined);
    const cancellation = new SendCancellation();
    // Cancelled once the request has arrived, while it waits for its answer.
    handlers.set('/cancelled', () => cancellation.cancel());
    const cancelledBefore = new SendCancellation();
    cancelledBefore.cancel();

    const timedOut = await post('/silent', 300);
    const cancelled = post('/cancelled', 10_000, cancellation);

    expect(timedOut).toMatchObject({ kind: 'error', error: 'no answer within 300 ms', code: 'ETIMEDOUT' });
    expect(await cancelled).toMatchObject({ kind: 'cancelled' });
    // One cancelled before it starts is not sent at all.
    const requestsSoFar = requestCount;
    expect(await post('/cancelled', 10_000, cancelledBefore)).toEqual({ kind: 'cancelled', durationMs: 0 });
    expect(requestCount).toBe(requestsSoFar);
  });

  test('an https URL goes over TLS through the guarded https agent: a self-signed certificate is refused, a private address is not connected to', async () => {
    // A certificate made for these tests only (openssl req -x509, CN=127.0.0.1), not trusted by anyone.
    const tls = { cert: readFileSync(new URL('./support/tls/self-signed-cert.pem', import.meta.url)), key: readFileSync(new URL('./support/tls/self-signed-key.pem', import.meta.url)) };
    const tlsServer = https.createServer(tls, (_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/hook`;
    const refusing = createHttpSender({ maximumResponseBodyBytes: limit, maximumSocketsPerHost: 4, addressPolicy: new AddressPolicy({ allowPrivateNetworks: [] }) });
    try {
      const untrusted = await sender.send({ method: 'POST', url, headers: {}, body: '{}' }, 5000);
      const refused = await refusing.send({ method: 'POST', url, headers: {}, body: '{}' }, 5000);

      expect(untrusted).toMatchObject({ kind: 'error', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
      expect(refused).toMatchObject({ kind: 'error', code: 'ADDRESS_NOT_ALLOWED' });
    } finally {
      refusing.close();
      tlsServer.closeAllConnections();
      await new Promise((resolve) => tlsServer.close(resolve));
    }
  });
});
