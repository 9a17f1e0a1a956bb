import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { filter, pipe } from '@graphql-yoga/subscription';
import { eventTypeMatches } from '../../domain/event-matching.js';
import type { GraphQLContext } from '../context.js';
import { toAttemptObject, toConnection, toDeliveryObject, toEventObject, toWebhookObject } from '../mappers.js';
import { topics, type DeliveryChange } from '../pub-sub.js';
import { AttemptConnection, AttemptObject, DeliveryConnection, DeliveryObject, EventObject } from '../types/delivery.type.js';
import { AttemptFilter, DeliveryFilter, ReplayFilter } from '../types/inputs.js';
import { WebhookObject } from '../types/webhook.type.js';
import { PageArgs } from './webhook.resolver.js';

/** The same items; `ended` runs once when the consumer stops (return or throw) or the source ends. */
function whenEnded<T>(source: AsyncIterable<T>, ended: () => void): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    ended();
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      const result = await iterator.next();
      if (result.done) end();
      return result;
    },
    async return(value?: unknown) {
      end();
      return iterator.return ? iterator.return(value) : { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      end();
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
  };
}

@Resolver(() => DeliveryObject)
export class DeliveryResolver {
  @Query(() => DeliveryObject, { nullable: true })
  async delivery(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<DeliveryObject | null> {
    const delivery = await context.deliveries.find(id);
    return delivery ? toDeliveryObject(delivery) : null;
  }

  @Query(() => DeliveryConnection, { description: 'Newest first' })
  async deliveries(
    @Arg('filter', () => DeliveryFilter, { nullable: true }) filter: DeliveryFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() context: GraphQLContext,
  ) {
    return toConnection(await context.deliveries.list(filter ?? {}, page), toDeliveryObject);
  }

  @Query(() => AttemptConnection, { description: 'Newest first' })
  async deliveryAttempts(
    @Arg('filter', () => AttemptFilter, { nullable: true }) filter: AttemptFilter | null,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() context: GraphQLContext,
  ) {
    return toConnection(await context.deliveries.listAttempts(filter ?? {}, page), toAttemptObject);
  }

  @Mutation(() => DeliveryObject, { description: 'Makes the delivery due now: a FAILED one gets one more attempt' })
  async retryDelivery(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<DeliveryObject> {
    return toDeliveryObject(await context.deliveries.retry(id));
  }

  @Mutation(() => Int, { description: 'Queues the finished deliveries the filter selects again, due now; returns how many' })
  async replayDeliveries(@Arg('filter', () => ReplayFilter) filter: ReplayFilter, @Ctx() context: GraphQLContext): Promise<number> {
    return context.deliveries.replay(filter);
  }

  @Mutation(() => DeliveryObject, { description: 'Cancels a PENDING or RETRYING delivery' })
  async cancelDelivery(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<DeliveryObject> {
    return toDeliveryObject(await context.deliveries.cancel(id));
  }

  @Subscription(() => DeliveryObject, {
    description: 'Every status change of the deliveries wanted: PENDING, SENDING, RETRYING, SUCCEEDED, FAILED, CANCELLED',
    subscribe: async ({ args, context }) => {
      const { webhookId, eventType } = args as { webhookId?: string | null; eventType?: string | null };
      const scope = context as GraphQLContext;
      // A webhook of another project (or none) is NOT_FOUND, as in every other operation.
      if (webhookId) await scope.webhooks.get(webhookId);
      const projectId = scope.projectId;
      // From here on, every statement announces its changes (nobody watching, they skip that).
      const stopWatching = await scope.watchDeliveryChanges();
      return whenEnded(
        pipe(
          scope.pubSub.subscribe(topics.deliveryUpdated),
          filter((change: DeliveryChange) => change.projectId === projectId && (!webhookId || change.webhookId === webhookId) && (!eventType || eventTypeMatches(eventType, change.eventType))),
        ),
        stopWatching,
      );
    },
  })
  deliveryUpdated(
    @Root() change: DeliveryChange,
    @Arg('webhookId', () => ID, { nullable: true }) _webhookId: string | null,
    @Arg('eventType', () => String, { nullable: true, description: 'An event type, "family.*" or "*"' }) _eventType: string | null,
  ): DeliveryObject {
    return toDeliveryObject(change);
  }

  @FieldResolver(() => EventObject)
  async event(@Root() delivery: DeliveryObject, @Ctx() context: GraphQLContext): Promise<EventObject> {
    const event = await context.loaders.event.load(delivery.eventId);
    return toEventObject(event!);
  }

  @FieldResolver(() => WebhookObject, { nullable: true, description: 'null for a callback URL delivery, or once the webhook is deleted' })
  async webhook(@Root() delivery: DeliveryObject, @Ctx() context: GraphQLContext): Promise<WebhookObject | null> {
    if (!delivery.webhookId) return null;
    const webhook = await context.loaders.webhook.load(delivery.webhookId);
    return webhook ? toWebhookObject(webhook) : null;
  }

  @FieldResolver(() => [AttemptObject], { description: 'In the order they were made' })
  async attempts(@Root() delivery: DeliveryObject, @Ctx() context: GraphQLContext): Promise<AttemptObject[]> {
    // Only the attempts this snapshot of the delivery counts: a live update for SENDING must not
    // show the attempt that finished while the update was on its way.
    const attempts = await context.loaders.attemptsOfDelivery.load(delivery.id);
    return attempts.filter((attempt) => attempt.number <= delivery.attemptCount).map(toAttemptObject);
  }
}
