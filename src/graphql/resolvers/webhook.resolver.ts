import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { filter, pipe } from '@graphql-yoga/subscription';
import type { AttemptStatistics as AttemptCounts } from '../../persistence/sql/webhook-attempt-statistics.js';
import { topics, type WebhookHealthNotice } from '../pub-sub.js';
import { AttemptStatistics, WebhookHealth, WebhookHealthChange } from '../types/webhook-health.type.js';
import type { GraphQLContext } from '../context.js';
import { toConnection, toWebhookObject } from '../mappers.js';
import { WebhookInput, WebhookPatch } from '../types/inputs.js';
import { WebhookConnection, WebhookObject } from '../types/webhook.type.js';

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: 'Page size: 1 to 500, default 50' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page' })
  after?: string | null;
}

@Resolver(() => WebhookObject)
export class WebhookResolver {
  @Query(() => WebhookObject, { nullable: true })
  async webhook(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<WebhookObject | null> {
    const webhook = await context.webhooks.find(id);
    return webhook ? toWebhookObject(webhook) : null;
  }

  @Query(() => WebhookConnection, { description: 'Newest first' })
  async webhooks(@Args(() => PageArgs) page: PageArgs, @Ctx() context: GraphQLContext) {
    return toConnection(await context.webhooks.list(page), (webhook) => toWebhookObject(webhook));
  }

  @Mutation(() => WebhookObject, { description: 'The answer carries the signing secret in full' })
  async createWebhook(@Arg('input', () => WebhookInput) input: WebhookInput, @Ctx() context: GraphQLContext): Promise<WebhookObject> {
    return toWebhookObject(await context.webhooks.create(input), { revealSecret: true });
  }

  @Mutation(() => WebhookObject)
  async updateWebhook(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => WebhookPatch) input: WebhookPatch,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookObject> {
    return toWebhookObject(await context.webhooks.update(id, { ...input }));
  }

  @Mutation(() => Boolean, { description: 'Its queued deliveries are cancelled; past deliveries stay queryable' })
  async deleteWebhook(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<boolean> {
    return context.webhooks.delete(id);
  }

  @Mutation(() => WebhookObject, { description: 'Deliveries held while it was stopped become due now' })
  async startWebhook(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<WebhookObject> {
    return toWebhookObject(await context.webhooks.setActive(id, true));
  }

  @Mutation(() => WebhookObject, { description: 'Nothing is sent until it starts again; queued deliveries wait' })
  async stopWebhook(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<WebhookObject> {
    return toWebhookObject(await context.webhooks.setActive(id, false));
  }

  @FieldResolver(() => WebhookHealth, { description: 'Failure streak, auto-disable, and attempt figures over the last hour and day' })
  async health(@Root() webhook: WebhookObject, @Ctx() context: GraphQLContext): Promise<WebhookHealth> {
    const [entity, statistics] = await Promise.all([context.loaders.webhook.load(webhook.id), context.loaders.webhookStatistics.load(webhook.id)]);
    const stored = entity!;
    const state = stored.active ? (stored.consecutiveFailures > 0 ? 'FAILING' : 'HEALTHY') : stored.disabledAt ? 'DISABLED' : 'STOPPED';
    return Object.assign(new WebhookHealth(), {
      state,
      consecutiveFailures: stored.consecutiveFailures,
      failingSince: stored.failingSince,
      lastSuccessAt: statistics.lastSuccessAt,
      lastFailureAt: statistics.lastFailureAt,
      disabledAt: stored.disabledAt,
      disabledReason: stored.disabledReason,
      lastHour: toAttemptStatistics(statistics.lastHour),
      lastDay: toAttemptStatistics(statistics.lastDay),
    });
  }

  @Subscription(() => WebhookHealthChange, {
    description: 'A webhook was reported failing, was disabled after failing too long, or recovered',
    subscribe: async ({ args, context }) => {
      const { webhookId } = args as { webhookId?: string | null };
      const scope = context as GraphQLContext;
      if (webhookId) await scope.webhooks.get(webhookId);
      const projectId = scope.projectId;
      return pipe(
        scope.pubSub.subscribe(topics.webhookHealthChanged),
        filter((notice: WebhookHealthNotice) => notice.projectId === projectId && (!webhookId || notice.webhookId === webhookId)),
      );
    },
  })
  async webhookHealthChanged(
    @Root() notice: WebhookHealthNotice,
    @Arg('webhookId', () => ID, { nullable: true }) _webhookId: string | null,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookHealthChange> {
    const webhook = await context.loaders.webhook.load(notice.webhookId);
    return Object.assign(new WebhookHealthChange(), { webhookId: notice.webhookId, kind: notice.state, webhook: webhook ? toWebhookObject(webhook) : null });
  }

  @Mutation(() => WebhookObject, { description: 'A new secret, returned in full; the previous one keeps signing for 24 hours' })
  async rotateWebhookSecret(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<WebhookObject> {
    return toWebhookObject(await context.webhooks.rotateSecret(id), { revealSecret: true });
  }
}

function toAttemptStatistics(counts: AttemptCounts): AttemptStatistics {
  return Object.assign(new AttemptStatistics(), { ...counts, successRate: counts.attempts > 0 ? counts.successes / counts.attempts : null });
}
