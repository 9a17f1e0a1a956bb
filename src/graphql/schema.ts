import { buildSchema } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import type { DeliveryPubSub } from './pub-sub.js';
import { AccessResolver } from './resolvers/access.resolver.js';
import { DeliveryResolver } from './resolvers/delivery.resolver.js';
import { EventResolver } from './resolvers/event.resolver.js';
import { WebhookResolver } from './resolvers/webhook.resolver.js';
import { WebhookTrialResolver } from './resolvers/webhook-trial.resolver.js';

export const resolvers = [WebhookResolver, WebhookTrialResolver, EventResolver, DeliveryResolver, AccessResolver] as const;

export async function createSchema(pubSub: DeliveryPubSub): Promise<GraphQLSchema> {
  return buildSchema({ resolvers, pubSub, validate: false });
}
