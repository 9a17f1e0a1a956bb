import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from './scalars.js';
import { WebhookObject } from './webhook.type.js';

export const WebhookHealthStateEnum = { HEALTHY: 'HEALTHY', FAILING: 'FAILING', DISABLED: 'DISABLED', STOPPED: 'STOPPED' } as const;
registerEnumType(WebhookHealthStateEnum, {
  name: 'WebhookHealthState',
  valuesConfig: {
    HEALTHY: { description: 'Active, and its last attempt succeeded (or none failed yet)' },
    FAILING: { description: 'Active, and its latest attempts failed' },
    DISABLED: { description: 'Stopped by Hookline after failing too long; startWebhook starts it again' },
    STOPPED: { description: 'Stopped by a user' },
  },
});

export const WebhookHealthChangeKindEnum = { FAILING: 'FAILING', DISABLED: 'DISABLED', RECOVERED: 'RECOVERED' } as const;
registerEnumType(WebhookHealthChangeKindEnum, { name: 'WebhookHealthChangeKind' });

@ObjectType({ description: 'Attempts to a webhook over a time window' })
export class AttemptStatistics {
  @Field(() => Int)
  attempts!: number;

  @Field(() => Int)
  successes!: number;

  @Field(() => Float, { nullable: true, description: 'successes / attempts; null without attempts' })
  successRate!: number | null;

  @Field(() => Float, { nullable: true })
  latencyP50Ms!: number | null;

  @Field(() => Float, { nullable: true })
  latencyP95Ms!: number | null;

  @Field(() => Float, { nullable: true })
  latencyP99Ms!: number | null;
}

@ObjectType({ description: 'How a webhook is doing' })
export class WebhookHealth {
  @Field(() => WebhookHealthStateEnum)
  state!: string;

  @Field(() => Int, { description: 'Failed attempts since the last success' })
  consecutiveFailures!: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'The first failure since the last success' })
  failingSince!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  lastSuccessAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  lastFailureAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  disabledAt!: Date | null;

  @Field(() => String, { nullable: true })
  disabledReason!: string | null;

  @Field(() => AttemptStatistics)
  lastHour!: AttemptStatistics;

  @Field(() => AttemptStatistics)
  lastDay!: AttemptStatistics;
}

@ObjectType({ description: 'A webhook was reported failing, was disabled, or recovered' })
export class WebhookHealthChange {
  @Field(() => ID)
  webhookId!: string;

  @Field(() => WebhookHealthChangeKindEnum)
  kind!: string;

  @Field(() => WebhookObject, { nullable: true, description: 'The webhook as it is now (null if deleted since)' })
  webhook!: WebhookObject | null;
}
