import { registerEnumType } from 'type-graphql';
import { DeliveryStatus } from '../../domain/delivery-status.js';

export const HttpMethodEnum = { GET: 'GET', POST: 'POST', PUT: 'PUT', PATCH: 'PATCH', DELETE: 'DELETE' } as const;
export const BodyFormatEnum = { JSON: 'JSON', FORM: 'FORM' } as const;
export const FieldTypeEnum = { TEXT: 'TEXT', VARIABLE: 'VARIABLE' } as const;
export const AuthTypeEnum = { NONE: 'NONE', API_KEY: 'API_KEY', BASIC: 'BASIC', BEARER: 'BEARER' } as const;
export const ApiKeyLocationEnum = { HEADER: 'HEADER', QUERY: 'QUERY' } as const;
export const DeliveryStatusEnum = DeliveryStatus;

registerEnumType(HttpMethodEnum, { name: 'HttpMethod' });
registerEnumType(BodyFormatEnum, {
  name: 'BodyFormat',
  description: 'JSON, or FORM: application/x-www-form-urlencoded with nested keys as contact[name] and media[0][url]',
});
registerEnumType(FieldTypeEnum, {
  name: 'FieldType',
  description: 'TEXT: a literal that may hold {{path}} tokens; VARIABLE: a path into the event whose value keeps its JSON type',
});
registerEnumType(AuthTypeEnum, { name: 'AuthType' });
registerEnumType(ApiKeyLocationEnum, { name: 'ApiKeyLocation' });
registerEnumType(DeliveryStatusEnum, {
  name: 'DeliveryStatus',
  valuesConfig: {
    PENDING: { description: 'Queued, not attempted yet' },
    SENDING: { description: 'An attempt is in flight' },
    RETRYING: { description: 'Failed at least once; the next attempt is at nextAttemptAt' },
    SUCCEEDED: { description: 'The receiver answered 2xx' },
    FAILED: { description: 'The retry schedule is used up; retryDelivery sends it again' },
    CANCELLED: { description: 'Its webhook was deleted before it could be sent' },
  },
});
