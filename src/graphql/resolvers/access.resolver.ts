import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { ForbiddenError } from '../../domain/errors.js';
import type { ApiKeyRecord } from '../../services/access-service.js';
import type { GraphQLContext } from '../context.js';
import { toConnection } from '../mappers.js';
import { ApiKeyConnection, ApiKeyObject, CreatedApiKey, CreatedProject, ProjectObject } from '../types/access.type.js';
import { PageArgs } from './webhook.resolver.js';

function toApiKeyObject(key: ApiKeyRecord): ApiKeyObject {
  const { id, prefix, name, createdAt, lastUsedAt, revokedAt } = key;
  return Object.assign(new ApiKeyObject(), { id, prefix, name, createdAt, lastUsedAt, revokedAt });
}

@Resolver()
export class AccessResolver {
  @Query(() => ProjectObject, { description: 'The project the API key belongs to' })
  async project(@Ctx() context: GraphQLContext): Promise<ProjectObject> {
    const project = await context.access.findProject(context.projectId);
    return Object.assign(new ProjectObject(), project);
  }

  @Query(() => ApiKeyConnection, { description: 'This project\'s API keys, newest first, revoked ones included' })
  async apiKeys(@Args(() => PageArgs) page: PageArgs, @Ctx() context: GraphQLContext) {
    return toConnection(await context.access.listApiKeys(context.projectId, page), toApiKeyObject);
  }

  @Mutation(() => CreatedProject, { description: 'Admin only (Authorization: Bearer <HOOKLINE_ADMIN_TOKEN>): a new project and its first key' })
  async createProject(@Arg('name', () => String) name: string, @Ctx() context: GraphQLContext): Promise<CreatedProject> {
    if (context.caller.kind !== 'admin') throw new ForbiddenError('creating projects needs the admin token (HOOKLINE_ADMIN_TOKEN)');
    const created = await context.access.createProject(name);
    return Object.assign(new CreatedProject(), { project: Object.assign(new ProjectObject(), created.project), apiKey: created.apiKey });
  }

  @Mutation(() => CreatedApiKey, { description: 'A new key for this project; the key is shown once' })
  async createApiKey(@Arg('name', () => String, { nullable: true }) name: string | null, @Ctx() context: GraphQLContext): Promise<CreatedApiKey> {
    const created = await context.access.createApiKey(context.projectId, name);
    return Object.assign(new CreatedApiKey(), { apiKey: created.apiKey, key: toApiKeyObject(created.key) });
  }

  @Mutation(() => Boolean, { description: 'The key stops working at once, also on open subscriptions' })
  async revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<boolean> {
    return context.access.revokeApiKey(context.projectId, id);
  }
}
