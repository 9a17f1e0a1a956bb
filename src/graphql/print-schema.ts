import { printSchema } from 'graphql';
import { createDeliveryPubSub } from './pub-sub.js';
import { createSchema } from './schema.js';

const header = '# Generated from the type-graphql code by `npm run schema`. Do not edit by hand.\n\n';

/** The schema as committed in schema.graphql. */
export async function printSchemaFile(): Promise<string> {
  return header + printSchema(await createSchema(createDeliveryPubSub())) + '\n';
}
