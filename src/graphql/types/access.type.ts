import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeScalar } from './scalars.js';
import { connectionType } from './connection.js';

@ObjectType('Project', { description: 'A tenant: every webhook, event and delivery belongs to one' })
export class ProjectObject {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType('ApiKey', { description: 'An API key, without its secret part (shown once, when created)' })
export class ApiKeyObject {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The first characters of the key, to recognise it' })
  prefix!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'To the minute' })
  lastUsedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  revokedAt!: Date | null;
}

export const ApiKeyConnection = connectionType(ApiKeyObject, 'ApiKey');

@ObjectType({ description: 'A new project and its first API key, shown once' })
export class CreatedProject {
  @Field(() => ProjectObject)
  project!: ProjectObject;

  @Field(() => String, { description: 'Shown once: store it now' })
  apiKey!: string;
}

@ObjectType({ description: 'A new API key: `apiKey` is shown once' })
export class CreatedApiKey {
  @Field(() => String, { description: 'Shown once: store it now' })
  apiKey!: string;

  @Field(() => ApiKeyObject)
  key!: ApiKeyObject;
}
