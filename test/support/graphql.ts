/** Talking to a running Hookline the way clients do: GraphQL over HTTP, and graphql-ws. */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { waitFor } from './wait.js';

export interface GraphQLResult<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string; [key: string]: unknown }; path?: string[] }[];
}

/**
 * The API key each server URL is called with. startTestApp registers its app; a test that
 * starts a server process registers it with registerApiKey.
 */
const apiKeysByUrl = new Map<string, string>();

export function registerApiKey(url: string, apiKey: string): void {
  apiKeysByUrl.set(url, apiKey);
}

export function apiKeyFor(url: string): string | undefined {
  return apiKeysByUrl.get(url);
}

export async function graphql<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { apiKey?: string | null } = {},
): Promise<GraphQLResult<T>> {
  const apiKey = options.apiKey === undefined ? apiKeysByUrl.get(url) : options.apiKey;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResult<T>;
}

/** Like graphql(), but fails on any error and returns the data. */
export async function graphqlData<T = any>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await graphql<T>(url, query, variables);
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data!;
}

export function webSocketClient(httpUrl: string, options: { apiKey?: string | null } = {}): Client {
  const apiKey = options.apiKey === undefined ? apiKeysByUrl.get(httpUrl) : options.apiKey;
  return createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
}

/** Subscribes and collects what arrives; `ready` resolves once the server has registered the subscription. */
export function subscribe<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const received: T[] = [];
  const errors: unknown[] = [];
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(value.errors);
        if (value.data) received.push(value.data as T);
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return { received, errors, unsubscribe };
}

export const webhookFields = `id name url method eventTypes channels statuses active timeoutMs secret retryScheduleSeconds bodyFormat
  auth { type token username password name value in } headers { key value type } queryParams { key value type } bodyFields { key value type }`;

export const createWebhookMutation = `mutation ($input: WebhookInput!) { createWebhook(input: $input) { ${webhookFields} } }`;
export const publishEventMutation = `mutation ($input: PublishEventInput!) { publishEvent(input: $input) { id type channel data createdAt } }`;

export async function createWebhook(url: string, input: Record<string, unknown>): Promise<any> {
  return (await graphqlData(url, createWebhookMutation, { input: { name: 'test', eventTypes: ['*'], ...input } })).createWebhook;
}

export async function publishEvent(url: string, input: Record<string, unknown>): Promise<any> {
  return (await graphqlData(url, publishEventMutation, { input })).publishEvent;
}

/** Watches the client's socket: `code` is the close code once the server has closed it. */
export function watchClose(client: Client): { code: number | null } {
  const state: { code: number | null } = { code: null };
  client.on('closed', (event) => (state.code = (event as { code: number }).code));
  return state;
}

/** Waits until the server has closed the watched socket, and returns its close code. */
export async function closedWith(state: { code: number | null }): Promise<number> {
  await waitFor(() => state.code !== null, { description: 'the server to close the socket' });
  return state.code!;
}
