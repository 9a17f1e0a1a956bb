/**
 * The typed in-process pub/sub behind subscriptions. Every delivery change, made by this
 * process or another on the same database, arrives by NOTIFY and is published here once.
 */
import { createPubSub } from '@graphql-yoga/subscription';
import type { DeliveryFields } from './mappers.js';

export interface DeliveryChange extends DeliveryFields {
  projectId: string;
}

export const topics = { deliveryUpdated: 'DELIVERY_UPDATED' } as const;

export function createDeliveryPubSub() {
  return createPubSub<{ [topics.deliveryUpdated]: [DeliveryChange] }>();
}

export type DeliveryPubSub = ReturnType<typeof createDeliveryPubSub>;
