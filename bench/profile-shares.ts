/**
 * Where Hookline's CPU goes, from the profiles `npm run bench -- --profile-dir DIR` writes:
 *
 *   node dist/bench/profile-shares.js DIR/CPU.*.cpuprofile
 *
 * Every sample counts once (not weighted by the time since the previous sample: a process
 * that the scheduler set aside right after a socket write would otherwise have that whole
 * wait charged to the write). A sample is charged to the nearest library or Hookline module
 * on its stack, walking up from the function running, so Node's own code (http, net, crypto)
 * counts for whoever called it. Native JSON.parse and JSON.stringify count as JSON wherever
 * they were called from.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

const packageCategories: [RegExp, string][] = [
  [/^(pg|pg-protocol|pg-pool|pg-types|pg-connection-string|pgpass|postgres-(array|date|interval|bytea))$/, 'PostgreSQL driver (pg)'],
  [/^(@mikro-orm\/.*|knex)$/, 'MikroORM'],
  [
    /^(got|http2-wrapper|cacheable-lookup|cacheable-request|@szmarczak\/.*|@sindresorhus\/.*|responselike|lowercase-keys|decompress-response|form-data-encoder|p-cancelable|defer-to-connect|get-stream|mimic-response|normalize-url|keyv|http-cache-semantics|quick-lru|resolve-alpn)$/,
    'HTTP client (got and Node http)',
  ],
  [/^(@apollo\/.*|graphql|graphql-.*|type-graphql|@escape\.tech\/.*|@graphql-.*\/.*|dataloader|negotiator|ws|class-validator)$/, 'GraphQL and the API server'],
  [/^uuid$/, 'UUIDs'],
  // Hookline signed with these before it used node:crypto: older profiles still show them.
  [/^(standardwebhooks|fast-sha256|@stablelib\/.*)$/, 'signing'],
  [/^(pino|pino-.*|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify)$/, 'logging'],
];

function packageOf(url: string): string | null {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? null;
}

/** The category a frame stands for, or null for Node's internals and native code (look further up). */
function frameCategory({ url }: CallFrame): string | null {
  const name = packageOf(url);
  if (name !== null) return packageCategories.find(([pattern]) => pattern.test(name))?.[1] ?? 'other libraries';
  const source = /\/dist\/src\/(.*)$/.exec(url)?.[1];
  if (source === undefined) return null;
  if (/^domain\/(signing|signed-request)\.js$/.test(source)) return 'signing';
  // The sender is got's caller, and its request function calls Node's http.request itself.
  if (source === 'delivery/http-sender.js') return 'HTTP client (got and Node http)';
  // The API's own modules: the HTTP server, resolvers and context.
  if (/^(graphql|server)\//.test(source)) return 'GraphQL and the API server';
  return "Hookline's own code";
}

export function profileShares(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const categoryById = new Map<number, string>();
  const classify = (id: number): string => {
    const { functionName, url } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(program)') return 'V8 and Node, no JavaScript on the stack';
    if (url === '' && (functionName === 'parse' || functionName === 'stringify')) return 'JSON';
    const stack: string[] = [];
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      const frame = byId.get(current)!.callFrame;
      const category = frameCategory(frame);
      if (category !== null) return category;
      stack.push(frame.url);
    }
    if (stack.some((frameUrl) => /_http_(client|agent)/.test(frameUrl))) return 'HTTP client (got and Node http)';
    if (stack.some((frameUrl) => /_http_(server|incoming)/.test(frameUrl))) return 'GraphQL and the API server';
    return 'event loop and socket reads, no library on the stack';
  };
  const counts = new Map<string, number>();
  for (const id of profile.samples) {
    let category = categoryById.get(id);
    if (category === undefined) categoryById.set(id, (category = classify(id)));
    counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  return counts;
}

async function main(files: string[]): Promise<number> {
  if (files.length === 0) {
    process.stderr.write('usage: node dist/bench/profile-shares.js <file.cpuprofile> [...]\n');
    return 2;
  }
  const total = new Map<string, number>();
  for (const file of files) {
    for (const [category, count] of profileShares(JSON.parse(await readFile(file, 'utf8')) as CpuProfile)) {
      total.set(category, (total.get(category) ?? 0) + count);
    }
  }
  total.delete('idle');
  const busy = [...total.values()].reduce((sum, count) => sum + count, 0);
  process.stdout.write(`${busy} busy samples (idle left out)\n`);
  for (const [category, count] of [...total].sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`${((count / busy) * 100).toFixed(1).padStart(5)} %  ${category}\n`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
