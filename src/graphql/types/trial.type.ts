import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { JSONScalar } from './scalars.js';
import { WebhookInput } from './inputs.js';

@InputType({ description: 'A saved webhook (webhookId) or unsaved settings (webhook), and the event to try it with' })
export class TestWebhookInput {
  @Field(() => ID, { nullable: true })
  webhookId?: string | null;

  @Field(() => WebhookInput, { nullable: true, description: 'Settings not saved yet: "test before saving"' })
  webhook?: WebhookInput | null;

  @Field(() => String)
  eventType!: string;

  @Field(() => String, { nullable: true, description: 'Default: the catalog entry\'s first channel' })
  channel?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'The event data; default: the catalog\'s sample for eventType' })
  data?: unknown;
}

@ObjectType({ description: 'An HTTP request as Hookline sends it (auth and secret values masked)' })
export class WebhookRequest {
  @Field(() => String)
  method!: string;

  @Field(() => String)
  url!: string;

  @Field(() => JSONScalar)
  headers!: Record<string, string>;

  @Field(() => String, { nullable: true, description: 'null for GET and DELETE, whose fields travel in the query string' })
  body!: string | null;
}

@ObjectType({ description: 'What one test request did. Nothing is stored.' })
export class TestDeliveryResult {
  @Field(() => WebhookRequest)
  request!: WebhookRequest;

  @Field(() => Boolean)
  success!: boolean;

  @Field(() => Int, { nullable: true })
  responseStatus!: number | null;

  @Field(() => JSONScalar, { nullable: true })
  responseHeaders!: Record<string, string> | null;

  @Field(() => String, { nullable: true, description: 'The first 64 KB of the answer' })
  responseBody!: string | null;

  @Field(() => Int)
  durationMs!: number;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => String, { nullable: true, description: 'For unsaved settings: the throwaway secret that signed this request' })
  signingSecret!: string | null;
}

@ObjectType('EventStatus', { description: 'A status a message can take (data.status)' })
export class EventStatusObject {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => Boolean, { description: 'No further status follows a final one' })
  final!: boolean;

  @Field(() => [String])
  channels!: string[];
}

@ObjectType('EventSource', { description: 'A reference platform\'s event that this type stands for' })
export class EventSourceObject {
  @Field(() => String)
  platform!: string;

  @Field(() => String)
  reference!: string;

  @Field(() => String, { description: 'The platform\'s own name for the event' })
  event!: string;

  @Field(() => String, { nullable: true })
  notes!: string | null;
}

@ObjectType('EventType', { description: 'An entry of the built-in event catalog' })
export class EventTypeObject {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => [String])
  channels!: string[];

  @Field(() => [EventStatusObject])
  statuses!: EventStatusObject[];

  @Field(() => JSONScalar, { description: 'A realistic `data` for this type' })
  samplePayload!: Record<string, unknown>;

  @Field(() => [EventSourceObject])
  sources!: EventSourceObject[];
}
