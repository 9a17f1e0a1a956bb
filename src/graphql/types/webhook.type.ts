import { Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar } from './scalars.js';
import { ApiKeyLocationEnum, AuthTypeEnum, BodyFormatEnum, FieldTypeEnum, HttpMethodEnum } from './enums.js';
import { connectionType } from './connection.js';

@ObjectType({ description: 'A query parameter, header or body field of a webhook request' })
export class KeyValue {
  @Field(() => String)
  key!: string;

  @Field(() => String)
  value!: string;

  @Field(() => FieldTypeEnum)
  type!: string;

  @Field(() => Boolean, { description: 'A secret value, shown masked' })
  secret!: boolean;
}

@ObjectType({ description: 'How requests authenticate to the receiver. Secret values are shown masked.' })
export class WebhookAuth {
  @Field(() => AuthTypeEnum)
  type!: string;

  @Field(() => String, { nullable: true, description: 'BEARER: the token, masked' })
  token!: string | null;

  @Field(() => String, { nullable: true, description: 'BASIC: the user name' })
  username!: string | null;

  @Field(() => String, { nullable: true, description: 'BASIC: the password, masked' })
  password!: string | null;

  @Field(() => String, { nullable: true, description: 'API_KEY: the header or query parameter name' })
  name!: string | null;

  @Field(() => String, { nullable: true, description: 'API_KEY: its value, masked' })
  value!: string | null;

  @Field(() => ApiKeyLocationEnum, { nullable: true, description: 'API_KEY: where it goes' })
  in!: string | null;
}

@ObjectType('Webhook', { description: 'A configured destination for events' })
export class WebhookObject {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'http or https; may hold {{path}} tokens' })
  url!: string;

  @Field(() => HttpMethodEnum)
  method!: string;

  @Field(() => [String], { description: 'Exact names, "family.*" or "*"' })
  eventTypes!: string[];

  @Field(() => [String], { description: 'Channels wanted; empty means all' })
  channels!: string[];

  @Field(() => [String], { description: 'Statuses wanted (data.status); empty means all' })
  statuses!: string[];

  @Field(() => [KeyValue])
  queryParams!: KeyValue[];

  @Field(() => [KeyValue])
  headers!: KeyValue[];

  @Field(() => WebhookAuth)
  auth!: WebhookAuth;

  @Field(() => BodyFormatEnum)
  bodyFormat!: string;

  @Field(() => [KeyValue], { nullable: true, description: 'null: the body is the whole event envelope' })
  bodyFields!: KeyValue[] | null;

  @Field(() => Int)
  timeoutMs!: number;

  @Field(() => [Int], { nullable: true, description: 'Delays between attempts, in seconds; null: the default schedule' })
  retryScheduleSeconds!: number[] | null;

  @Field(() => [Int], { description: 'The schedule in force: retryScheduleSeconds or the default' })
  effectiveRetryScheduleSeconds!: number[];

  @Field(() => Boolean)
  active!: boolean;

  @Field(() => String, { nullable: true, description: 'A path into the event (data.messageId): deliveries with the same value go one after another, in publish order' })
  orderingKey!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The "whsec_..." signing secret: in full from createWebhook and rotateWebhookSecret, masked elsewhere',
  })
  secret!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Until when the previous secret still signs, after a rotation' })
  previousSecretExpiresAt!: Date | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;
}

export const WebhookConnection = connectionType(WebhookObject, 'Webhook');
