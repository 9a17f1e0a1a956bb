/** Writes schema.graphql from the type-graphql code: `npm run schema`. A test fails when it is stale. */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { printSchemaFile } from '../graphql/print-schema.js';

const target = new URL('../../../schema.graphql', import.meta.url);
await writeFile(target, await printSchemaFile());
console.log(`wrote ${target.pathname}`);
