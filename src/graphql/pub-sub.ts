/**
 * The typed in-process pub/sub behind subscriptions. Every delivery change, made by this
 * process or another on the same database, arrives by NOTIFY and is published here once.
 */
import { createPubSub } from '@graphql-yoga/subscription';
import type { DeliveryFields } from './mappers.js';

export interface DeliveryChange extends DeliveryFields {
  projectId: string;
}

/** A webhook's health changed, as the health sweep or the attempt recorder announced it. */
export interface WebhookHealthNotice {
  webhookId: string;
  projectId: string;
  state: 'FAILING' | 'DISABLED' | 'RECOVERED';
}

export const topics = { deliveryUpdated: 'DELIVERY_UPDATED', webhookHealthChanged: 'WEBHOOK_HEALTH_CHANGED' } as const;

export function createDeliveryPubSub() {
  return createPubSub<{ [topics.deliveryUpdated]: [DeliveryChange]; [topics.webhookHealthChanged]: [WebhookHealthNotice] }>();
}

export type DeliveryPubSub = ReturnType<typeof createDeliveryPubSub>;
