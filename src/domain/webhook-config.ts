/** A webhook's request shape, as the domain sees it (no ORM, no GraphQL). */
export const httpMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof httpMethods)[number];

export const bodyFormats = ['JSON', 'FORM'] as const;
export type BodyFormat = (typeof bodyFormats)[number];

export const fieldTypes = ['TEXT', 'VARIABLE'] as const;
export type FieldType = (typeof fieldTypes)[number];

export interface KeyValue {
  key: string;
  value: string;
  type: FieldType;
  /** A shared secret (such as a `secret` form field): masked in stored attempts and in the API. */
  secret?: boolean;
}

export type WebhookAuth =
  | { type: 'NONE' }
  | { type: 'API_KEY'; name: string; value: string; in: 'HEADER' | 'QUERY' }
  | { type: 'BASIC'; username: string; password: string }
  | { type: 'BEARER'; token: string };

export interface RequestShape {
  url: string;
  method: HttpMethod;
  queryParams: KeyValue[];
  headers: KeyValue[];
  auth: WebhookAuth;
  bodyFormat: BodyFormat;
  /** null: the whole event envelope is the body. */
  bodyFields: KeyValue[] | null;
}

export const defaultTimeoutMs = 10_000;
export const minimumTimeoutMs = 100;
export const maximumTimeoutMs = 60_000;
