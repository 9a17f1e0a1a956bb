import { Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar, JSONScalar } from './scalars.js';
import { DeliveryStatusEnum } from './enums.js';
import { connectionType } from './connection.js';

@ObjectType('Event', { description: 'Something that happened on the messaging platform, stored once' })
export class EventObject {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  type!: string;

  @Field(() => String, { nullable: true })
  channel!: string | null;

  @Field(() => JSONScalar)
  data!: Record<string, unknown>;

  @Field(() => String, { nullable: true })
  idempotencyKey!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType('Attempt', { description: 'One HTTP request of a delivery and what came back' })
export class AttemptObject {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  deliveryId!: string;

  @Field(() => ID, { nullable: true })
  webhookId!: string | null;

  @Field(() => ID)
  eventId!: string;

  @Field(() => Int, { description: '1 for the first attempt of a delivery' })
  number!: number;

  @Field(() => DateTimeScalar)
  startedAt!: Date;

  @Field(() => Int, { nullable: true })
  durationMs!: number | null;

  @Field(() => String)
  requestMethod!: string;

  @Field(() => String, { description: 'As sent, with auth values masked' })
  requestUrl!: string;

  @Field(() => JSONScalar, { description: 'As sent, with auth values masked' })
  requestHeaders!: Record<string, string>;

  @Field(() => String, { nullable: true })
  requestBody!: string | null;

  @Field(() => Int, { nullable: true })
  responseStatus!: number | null;

  @Field(() => JSONScalar, { nullable: true })
  responseHeaders!: Record<string, string> | null;

  @Field(() => String, { nullable: true, description: 'The first 64 KB of the answer' })
  responseBody!: string | null;

  @Field(() => String, { nullable: true, description: 'Why the attempt failed, when it did' })
  error!: string | null;

  @Field(() => Boolean)
  success!: boolean;
}

@ObjectType('Delivery', { description: 'One event on its way to one webhook, or to the callback URL given with the event' })
export class DeliveryObject {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  eventId!: string;

  @Field(() => ID, { nullable: true })
  webhookId!: string | null;

  @Field(() => String)
  eventType!: string;

  @Field(() => DeliveryStatusEnum)
  status!: string;

  @Field(() => Int)
  attemptCount!: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the next attempt is due, while one is' })
  nextAttemptAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  lastAttemptAt!: Date | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;
}

export const DeliveryConnection = connectionType(DeliveryObject, 'Delivery');
export const AttemptConnection = connectionType(AttemptObject, 'Attempt');
