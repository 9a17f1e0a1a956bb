/**
 * Limits on what one GraphQL operation may ask (graphql-armor): depth, cost, aliases,
 * directives and tokens. Apollo applies them to HTTP operations; the same validation rules
 * guard subscriptions over graphql-ws. A refusal is a GRAPHQL_VALIDATION_FAILED error that
 * says which limit was hit.
 */
import { ApolloArmor } from '@escape.tech/graphql-armor';

export const operationLimits = {
  // The deepest useful query (deliveries → edges → node → event → deliveries → attempts → field) is 7.
  maxDepth: 10,
  // One full page (500 deliveries with their event, webhook and attempts) costs about 49,000.
  maxCost: 60_000,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 5000,
} as const;

export function createArmor() {
  return new ApolloArmor({
    maxDepth: { n: operationLimits.maxDepth, ignoreIntrospection: true },
    costLimit: { maxCost: operationLimits.maxCost, ignoreIntrospection: true },
    maxAliases: { n: operationLimits.maxAliases },
    maxDirectives: { n: operationLimits.maxDirectives },
    maxTokens: { n: operationLimits.maxTokens },
    // Suggestions help people write queries; this API is meant to be explored.
    blockFieldSuggestion: { enabled: false },
  }).protect();
}
