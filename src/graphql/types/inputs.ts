import { Field, ID, InputType, Int } from 'type-graphql';
import { DateTimeScalar, JSONScalar } from './scalars.js';
import { ApiKeyLocationEnum, AuthTypeEnum, BodyFormatEnum, DeliveryStatusEnum, FieldTypeEnum, HttpMethodEnum } from './enums.js';
import type { DeliveryStatus } from '../../domain/delivery-status.js';
import type { BodyFormat, FieldType, HttpMethod } from '../../domain/webhook-config.js';

@InputType()
export class KeyValueInput {
  @Field(() => String, { description: 'The name; body field keys use dots to nest and [] to append to an array' })
  key!: string;

  @Field(() => String)
  value!: string;

  @Field(() => FieldTypeEnum, { defaultValue: 'TEXT' })
  type!: FieldType;

  @Field(() => Boolean, { defaultValue: false, description: 'A shared secret: masked in stored attempts and in queries' })
  secret!: boolean;
}

@InputType()
export class WebhookAuthInput {
  @Field(() => AuthTypeEnum)
  type!: 'NONE' | 'API_KEY' | 'BASIC' | 'BEARER';

  @Field(() => String, { nullable: true, description: 'BEARER' })
  token?: string | null;

  @Field(() => String, { nullable: true, description: 'BASIC' })
  username?: string | null;

  @Field(() => String, { nullable: true, description: 'BASIC' })
  password?: string | null;

  @Field(() => String, { nullable: true, description: 'API_KEY: the header or query parameter name' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'API_KEY: its value' })
  value?: string | null;

  @Field(() => ApiKeyLocationEnum, { nullable: true, description: 'API_KEY: HEADER (default) or QUERY' })
  in?: 'HEADER' | 'QUERY' | null;
}

@InputType()
export class WebhookInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'http or https; may hold {{path}} tokens' })
  url!: string;

  @Field(() => HttpMethodEnum, { defaultValue: 'POST' })
  method!: HttpMethod;

  @Field(() => [String], { description: 'Exact names or a trailing wildcard: "message.*"; ["*"] = all' })
  eventTypes!: string[];

  @Field(() => [String], { nullable: true, description: 'e.g. ["sms", "viber"]; empty or null = all' })
  channels?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Statuses wanted (the event data\'s status); empty or null = all' })
  statuses?: string[] | null;

  @Field(() => [KeyValueInput], { nullable: true })
  queryParams?: KeyValueInput[] | null;

  @Field(() => [KeyValueInput], { nullable: true })
  headers?: KeyValueInput[] | null;

  @Field(() => WebhookAuthInput, { nullable: true })
  auth?: WebhookAuthInput | null;

  @Field(() => BodyFormatEnum, { defaultValue: 'JSON' })
  bodyFormat!: BodyFormat;

  @Field(() => [KeyValueInput], { nullable: true, description: 'null = the whole event envelope' })
  bodyFields?: KeyValueInput[] | null;

  @Field(() => Int, { defaultValue: 10000 })
  timeoutMs!: number;

  @Field(() => [Int], { nullable: true, description: 'Delays between attempts in seconds; null = the default schedule (about a day in all)' })
  retryScheduleSeconds?: number[] | null;

  @Field(() => Boolean, { defaultValue: true })
  active!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'A path into the event, such as data.messageId: deliveries with the same value go strictly one after another, in publish order',
  })
  orderingKey?: string | null;
}

@InputType({ description: 'The fields to change; those left out keep their values' })
export class WebhookPatch {
  @Field(() => String, { nullable: true })
  name?: string;

  @Field(() => String, { nullable: true })
  url?: string;

  @Field(() => HttpMethodEnum, { nullable: true })
  method?: HttpMethod;

  @Field(() => [String], { nullable: true })
  eventTypes?: string[];

  @Field(() => [String], { nullable: true })
  channels?: string[] | null;

  @Field(() => [String], { nullable: true })
  statuses?: string[] | null;

  @Field(() => [KeyValueInput], { nullable: true })
  queryParams?: KeyValueInput[] | null;

  @Field(() => [KeyValueInput], { nullable: true })
  headers?: KeyValueInput[] | null;

  @Field(() => WebhookAuthInput, { nullable: true })
  auth?: WebhookAuthInput | null;

  @Field(() => BodyFormatEnum, { nullable: true })
  bodyFormat?: BodyFormat;

  @Field(() => [KeyValueInput], { nullable: true })
  bodyFields?: KeyValueInput[] | null;

  @Field(() => Int, { nullable: true })
  timeoutMs?: number | null;

  @Field(() => [Int], { nullable: true })
  retryScheduleSeconds?: number[] | null;

  @Field(() => Boolean, { nullable: true })
  active?: boolean;

  @Field(() => String, { nullable: true })
  orderingKey?: string | null;
}

@InputType()
export class PublishEventInput {
  @Field(() => String, { description: 'e.g. "message.status", "message.received", "contact.updated"' })
  type!: string;

  @Field(() => String, { nullable: true, description: '"sms", "mms", "viber", "whatsapp", "email", "ussd", "call", "chat"' })
  channel?: string | null;

  @Field(() => JSONScalar, { description: 'A JSON object' })
  data!: unknown;

  @Field(() => String, { nullable: true, description: 'The same key twice stores and delivers one event' })
  idempotencyKey?: string | null;

  @Field(() => String, { nullable: true, description: 'Send this event here instead of to the matching webhooks (like a status_url given with a message)' })
  callbackUrl?: string | null;

  @Field(() => String, { nullable: true, description: 'Sent to callbackUrl as the `secret` body parameter, so the receiver can check the sender' })
  callbackSecret?: string | null;

  @Field(() => BodyFormatEnum, { nullable: true, description: 'The callback body format; default JSON' })
  callbackBodyFormat?: BodyFormat | null;

  @Field(() => [KeyValueInput], { nullable: true, description: 'The callback body fields, as a webhook\'s bodyFields; default the whole envelope' })
  callbackBodyFields?: KeyValueInput[] | null;
}

@InputType()
export class DeliveryFilter {
  @Field(() => ID, { nullable: true })
  webhookId?: string | null;

  @Field(() => ID, { nullable: true })
  eventId?: string | null;

  @Field(() => String, { nullable: true })
  eventType?: string | null;

  @Field(() => DeliveryStatusEnum, { nullable: true })
  status?: DeliveryStatus | null;

  @Field(() => [DeliveryStatusEnum], { nullable: true, description: 'Any of these statuses' })
  statuses?: DeliveryStatus[] | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Created at or after' })
  createdAfter?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Created before' })
  createdBefore?: Date | null;
}

@InputType()
export class AttemptFilter {
  @Field(() => ID, { nullable: true })
  deliveryId?: string | null;

  @Field(() => ID, { nullable: true })
  webhookId?: string | null;

  @Field(() => ID, { nullable: true })
  eventId?: string | null;

  @Field(() => Boolean, { nullable: true })
  success?: boolean | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Started at or after' })
  startedAfter?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Started before' })
  startedBefore?: Date | null;
}

@InputType({ description: 'Which finished deliveries to queue again' })
export class ReplayFilter {
  @Field(() => ID, { nullable: true })
  webhookId?: string | null;

  @Field(() => String, { nullable: true })
  eventType?: string | null;

  @Field(() => [DeliveryStatusEnum], { nullable: true, description: 'FAILED, CANCELLED or SUCCEEDED; default FAILED (the dead-letter queue)' })
  statuses?: DeliveryStatus[] | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Created at or after' })
  createdAfter?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Created before' })
  createdBefore?: Date | null;
}
