/**
 * What every resolver gets: who is calling (a project's API key, or the admin token) and
 * request-scoped services bound to the caller's project. Nothing project-scoped can be reached
 * without a project caller: the getters refuse the admin token.
 */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { AddressPolicy } from '../delivery/address-policy.js';
import type { Sender } from '../delivery/http-sender.js';
import { ForbiddenError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import type { AccessService, Caller } from '../services/access-service.js';
import { DeliveryService } from '../services/delivery-service.js';
import { EventService } from '../services/event-service.js';
import { WebhookService } from '../services/webhook-service.js';
import { WebhookTrialService } from '../services/webhook-trial-service.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { DeliveryPubSub } from './pub-sub.js';

export interface ProjectScope {
  projectId: string;
  webhooks: WebhookService;
  events: EventService;
  deliveries: DeliveryService;
  trials: WebhookTrialService;
  loaders: Loaders;
}

export interface GraphQLContext extends ProjectScope {
  caller: Caller;
  access: AccessService;
  pubSub: DeliveryPubSub;
  /** Call when a deliveryUpdated subscription starts; resolves once changes are announced to it, with what to call when it ends. */
  watchDeliveryChanges: () => Promise<() => void>;
  logger: Logger;
}

export interface ContextDependencies {
  orm: MikroORM;
  pool: pg.Pool;
  logger: Logger;
  /** Sends testWebhook's requests: the dispatcher's sender, so tests go out exactly as deliveries do. */
  sender: Sender;
  addressPolicy: AddressPolicy;
  access: AccessService;
  pubSub: DeliveryPubSub;
  watchDeliveryChanges: () => Promise<() => void>;
  limits: Config['limits'];
}

/** A value made on first use: most operations need one or two of a scope's services. */
function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

function createProjectScope(dependencies: ContextDependencies, projectId: string, options: { subscription: boolean }): ProjectScope {
  // One EntityManager per request (per subscription for live updates), never the global one.
  const em = lazy(() => dependencies.orm.em.fork() as EntityManager);
  const webhooks = lazy(() => new WebhookService(em(), projectId, dependencies.addressPolicy));
  const events = lazy(() => new EventService(dependencies.pool, projectId, dependencies.limits.maximumEventDataBytes, dependencies.addressPolicy));
  const deliveries = lazy(() => new DeliveryService(em(), projectId));
  const trials = lazy(() => new WebhookTrialService(webhooks(), dependencies.sender, dependencies.addressPolicy, dependencies.limits.maximumEventDataBytes));
  const loaders = lazy(() => createLoaders(em(), dependencies.pool, projectId, { cache: !options.subscription }));
  return {
    projectId,
    get webhooks() {
      return webhooks();
    },
    get events() {
      return events();
    },
    get deliveries() {
      return deliveries();
    },
    get trials() {
      return trials();
    },
    get loaders() {
      return loaders();
    },
  };
}

export function createContext(dependencies: ContextDependencies, caller: Caller, options: { subscription: boolean }): GraphQLContext {
  let scope: ProjectScope | null = null;
  const project = (): ProjectScope => {
    if (caller.kind !== 'project') {
      throw new ForbiddenError('the admin token only creates projects: call this with a project\'s API key');
    }
    return (scope ??= createProjectScope(dependencies, caller.projectId, options));
  };
  // Apollo Server copies the context before each operation (Object.assign, which calls every
  // own getter): the project-scoped getters live on a prototype instead, so they stay lazy (the
  // admin token's createProject never touches them) and the copy shares this one scope.
  const projectScoped = Object.create(Object.prototype, {
    projectId: { get: () => project().projectId },
    webhooks: { get: () => project().webhooks },
    events: { get: () => project().events },
    deliveries: { get: () => project().deliveries },
    trials: { get: () => project().trials },
    loaders: { get: () => project().loaders },
  }) as ProjectScope;
  return Object.assign(Object.create(projectScoped) as GraphQLContext, {
    caller,
    access: dependencies.access,
    pubSub: dependencies.pubSub,
    watchDeliveryChanges: dependencies.watchDeliveryChanges,
    logger: dependencies.logger,
  });
}
