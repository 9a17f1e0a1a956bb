import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { eventCatalog } from '../../domain/event-catalog.js';
import type { GraphQLContext } from '../context.js';
import { EventTypeObject, TestDeliveryResult, TestWebhookInput, WebhookRequest } from '../types/trial.type.js';

@Resolver()
export class WebhookTrialResolver {
  @Query(() => [EventTypeObject], { description: 'The built-in event catalog, with statuses and sample payloads' })
  eventTypes(): EventTypeObject[] {
    return eventCatalog.map((entry) => ({
      ...entry,
      statuses: entry.statuses.map((status) => ({ ...status })),
      sources: entry.sources.map((source) => ({ ...source, notes: source.notes ?? null })),
    }));
  }

  @Query(() => WebhookRequest, { description: 'The exact request an event would produce, without sending anything' })
  async previewWebhookRequest(@Arg('input', () => TestWebhookInput) input: TestWebhookInput, @Ctx() context: GraphQLContext): Promise<WebhookRequest> {
    return context.trials.preview(input);
  }

  @Mutation(() => TestDeliveryResult, { description: 'Sends one real, signed request now and reports what came back; stores nothing' })
  async testWebhook(@Arg('input', () => TestWebhookInput) input: TestWebhookInput, @Ctx() context: GraphQLContext): Promise<TestDeliveryResult> {
    return context.trials.test(input);
  }
}
