import { expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { printSchemaFile } from '../src/graphql/print-schema.js';

test('schema.graphql is what the code generates (run `npm run schema` after changing the API)', async () => {
  const committed = await readFile(new URL('../schema.graphql', import.meta.url), 'utf8');
  expect(committed).toBe(await printSchemaFile());
});
