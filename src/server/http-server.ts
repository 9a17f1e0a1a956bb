/**
 * One port for everything: GraphQL over HTTP (Apollo), graphql-ws over WebSocket, both at
 * /graphql, and GET /healthz. Apollo 5 has no bundled framework integration, so a small
 * node:http handler feeds it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { GraphQLError, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { UnauthenticatedError } from '../domain/errors.js';
import type { Caller } from '../services/access-service.js';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from '../logger.js';
import type { GraphQLContext } from '../graphql/context.js';
import { createErrorFormatter } from '../graphql/errors.js';
import { createArmor } from '../graphql/limits.js';

export interface HealthReport {
  healthy: boolean;
  checks: Record<string, string>;
}

export interface HttpServerOptions {
  schema: GraphQLSchema;
  logger: Logger;
  /** Who an Authorization header value stands for; throws UnauthenticatedError when no one. */
  authenticate: (authorization: string | undefined) => Promise<Caller>;
  createContext: (caller: Caller, options: { subscription: boolean }) => GraphQLContext;
  health: () => Promise<HealthReport>;
  maximumBodyBytes?: number;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  /** Closes the subscriptions opened with this API key (it was revoked). */
  closeSubscriptionsOfKey(apiKeyId: string): void;
  close(): Promise<void>;
}

/** graphql-ws close code for a connection whose key stopped working. */
export const revokedKeyCloseCode = 4401;

const graphqlPath = '/graphql';

class BodyTooLargeError extends Error {}

async function readBody(request: http.IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(`request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

export async function startHttpServer(options: HttpServerOptions, port: number, host: string): Promise<RunningHttpServer> {
  const { logger } = options;
  const maximumBodyBytes = options.maximumBodyBytes ?? 5 * 1024 * 1024;
  const httpServer = http.createServer();
  const formatError = createErrorFormatter(logger);

  const armor = createArmor();
  const webSocketServer = new WebSocketServer({ server: httpServer, path: graphqlPath, maxPayload: maximumBodyBytes });
  const callers = new WeakMap<object, Caller>();
  const subscriptionServer = useServer<Record<string, unknown> | undefined, { caller?: Caller }>(
    {
      schema: options.schema,
      // A connection carries its key in connectionParams.authorization; a refusal closes it (4403).
      onConnect: async (context) => {
        const authorization = context.connectionParams?.['authorization'];
        try {
          const caller = await options.authenticate(typeof authorization === 'string' ? authorization : undefined);
          context.extra.caller = caller;
          callers.set(context.extra.socket, caller);
          return true;
        } catch (error) {
          if (!(error instanceof UnauthenticatedError)) logger.error({ err: error }, 'authenticating a WebSocket connection failed');
          return false;
        }
      },
      // Subscriptions meet the same operation limits as HTTP requests, refused with the same code.
      validate: (schema, document, rules) =>
        validate(schema, document, [...(rules ?? specifiedRules), ...armor.validationRules]).map(
          (error) => new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, originalError: error.originalError, extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } }),
        ),
      context: (context) => options.createContext(context.extra.caller!, { subscription: true }),
      onNext: (_context, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) } : undefined,
      onError: (_context, _id, _payload, errors) => errors.map((error) => formatError(error.toJSON(), error)),
    },
    webSocketServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema,
    formatError,
    csrfPrevention: true,
    // main.ts owns the signals and the shutdown order; Apollo's own handlers would re-raise the signal.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    validationRules: armor.validationRules,
    plugins: [
      // graphql-armor's typings come from Apollo's CommonJS build; the plugin objects are the same.
      ...(armor.plugins as unknown as ApolloServerPlugin<GraphQLContext>[]),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { async serverWillStart() { return { async drainServer() { await subscriptionServer.dispose(); } }; } },
    ],
  });
  await apollo.start();

  httpServer.on('request', (request, response) => {
    void handle(request, response).catch((error) => {
      logger.error({ err: error }, 'an HTTP request failed');
      if (!response.headersSent) sendJson(response, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else response.destroy();
    });
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
      const report = await options.health();
      sendJson(response, report.healthy ? 200 : 503, { status: report.healthy ? 'ok' : 'unavailable', checks: report.checks });
      return;
    }
    if (url.pathname !== graphqlPath) {
      sendJson(response, 404, { error: `nothing at ${url.pathname}: GraphQL is at ${graphqlPath}, health at /healthz` });
      return;
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown = undefined;
    if (request.method === 'POST') {
      let text: string;
      try {
        text = await readBody(request, maximumBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          sendJson(response, 413, { errors: [{ message: `The request body is over ${maximumBodyBytes} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
          return;
        }
        throw error;
      }
      if ((headers.get('content-type') ?? '').includes('application/json')) {
        try {
          body = text.length ? JSON.parse(text) : undefined;
        } catch {
          sendJson(response, 400, { errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
          return;
        }
      } else {
        body = text;
      }
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: request.method ?? 'GET', headers, search: url.search, body },
      context: async () => {
        try {
          return options.createContext(await options.authenticate(headers.get('authorization')), { subscription: false });
        } catch (error) {
          if (error instanceof UnauthenticatedError) {
            throw new GraphQLError(error.message, { extensions: { code: error.code, http: { status: 401 } } });
          }
          throw error;
        }
      },
    });
    for (const [name, value] of result.headers) response.setHeader(name, value);
    response.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      response.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const address = httpServer.address() as AddressInfo;
  const displayHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    port: address.port,
    url: `http://${displayHost}:${address.port}${graphqlPath}`,
    closeSubscriptionsOfKey(apiKeyId) {
      for (const socket of webSocketServer.clients) {
        const caller = callers.get(socket);
        if (caller?.kind === 'project' && caller.apiKeyId === apiKeyId) socket.close(revokedKeyCloseCode, 'API key revoked');
      }
    },
    async close() {
      // Apollo's drain plugin stops the HTTP server and disposes the subscription server.
      for (const client of webSocketServer.clients) client.close(1001, 'server shutting down');
      await apollo.stop();
      await new Promise<void>((resolve) => webSocketServer.close(() => resolve()));
    },
  };
}
