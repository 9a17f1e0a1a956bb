/**
 * A real HTTP receiver on 127.0.0.1:0 that records every request as it arrived (raw body
 * included) and answers from a script: a fixed answer, a queue of answers, or a function.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query string, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (a slow receiver). */
  delayMs?: number;
  /** Never answer (until the receiver closes). */
  hang?: boolean;
}

export type Script = (request: ReceivedRequest, index: number) => Answer;

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Answers, in order; once used up, `fallback` answers. */
  queue(...answers: Answer[]): void;
  setScript(script: Script): void;
  close(): Promise<void>;
}

export async function startReceiver(fallback: Answer = { status: 200, body: 'ok' }): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const queued: Answer[] = [];
  let script: Script | null = null;
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: ReceivedRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      requests.push(received);
      const answer = queued.shift() ?? (script ? script(received, requests.length - 1) : fallback);
      if (answer.hang) return;
      const respond = () => {
        response.writeHead(answer.status ?? 200, answer.headers ?? {});
        response.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(respond, answer.delayMs);
      else respond();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    queue: (...answers) => queued.push(...answers),
    setScript: (next) => (script = next),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
