/** What every resolver gets: the caller's project and request-scoped services. */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { DeliveryService } from '../services/delivery-service.js';
import { EventService } from '../services/event-service.js';
import { WebhookService } from '../services/webhook-service.js';
import { WebhookTrialService } from '../services/webhook-trial-service.js';
import type { Sender } from '../delivery/http-sender.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface GraphQLContext {
  projectId: string;
  webhooks: WebhookService;
  events: EventService;
  deliveries: DeliveryService;
  trials: WebhookTrialService;
  loaders: Loaders;
  logger: Logger;
}

export interface ContextDependencies {
  orm: MikroORM;
  pool: pg.Pool;
  logger: Logger;
  /** Sends testWebhook's requests: the dispatcher's sender, so tests go out exactly as deliveries do. */
  sender: Sender;
  limits: Config['limits'];
  /** Until API keys exist, every caller acts for the default project. */
  defaultProjectId: string;
}

export function createContext(dependencies: ContextDependencies, options: { subscription: boolean }): GraphQLContext {
  // One EntityManager per request (per subscription for live updates), never the global one.
  const em = dependencies.orm.em.fork() as EntityManager;
  const projectId = dependencies.defaultProjectId;
  const webhooks = new WebhookService(em, projectId);
  return {
    projectId,
    webhooks,
    trials: new WebhookTrialService(webhooks, dependencies.sender),
    events: new EventService(dependencies.pool, projectId, dependencies.limits.maximumEventDataBytes),
    deliveries: new DeliveryService(em, projectId),
    loaders: createLoaders(em, dependencies.pool, projectId, { cache: !options.subscription }),
    logger: dependencies.logger,
  };
}
