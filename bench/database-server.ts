/**
 * The PostgreSQL server every phase runs on: DATABASE_URL's, or an embedded one in a
 * temporary directory. Each phase gets its own fresh database on it, dropped afterwards, so
 * the phases share the server (and its disk and CPU) but no data.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedDatabase } from '../src/persistence/embedded-database.js';
import { findOwnPostmaster } from './process-stats.js';

export interface BenchDatabase {
  name: string;
  url: string;
}

export interface DatabaseServer {
  /** How it was found, for the report. */
  description: string;
  /** The postmaster's pid when the server runs under this process (embedded), for its CPU time. */
  postmasterPid: number | null;
  /** A new, empty database named hookline_bench_<phase>_<random>. */
  createDatabase(phase: string): Promise<BenchDatabase>;
  dropDatabase(database: BenchDatabase): Promise<void>;
  /** Drops what is left and, if embedded, stops the server and removes its files. */
  close(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** A port nothing listens on right now, on 127.0.0.1. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function administer<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function openDatabaseServer(): Promise<DatabaseServer> {
  const configuredUrl = process.env['DATABASE_URL'];
  let adminUrl: string;
  let description: string;
  let stopServer = async () => {};
  let postmasterPid: number | null = null;

  if (configuredUrl) {
    // CREATE DATABASE can be issued from any database; the one named in the URL will do.
    adminUrl = configuredUrl;
    const { hostname, port } = new URL(configuredUrl);
    description = `DATABASE_URL (${hostname}:${port || 5432})`;
  } else {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'hookline-bench-'));
    try {
      // As root, PostgreSQL runs as the postgres user, which must be able to enter (not list) the directory.
      await chmod(directory, 0o711);
      // A port of our own rather than the default 54329, which a concurrent `npm start` or test run may hold.
      const embedded = await startEmbeddedDatabase({
        dataDir: path.join(directory, 'postgres'),
        preferredPort: await findFreePort(),
        log: (level, message, fields) => {
          // A statement's ERROR already reaches the client that sent it (graphile-worker's first start
          // logs one on purpose); only the server's own trouble is worth showing here.
          const serverTrouble = fields?.['source'] !== 'postgres' || /\b(FATAL|PANIC):/.test(message);
          if (level !== 'info' && serverTrouble) process.stderr.write(`[embedded-postgres] ${message}\n`);
        },
      });
      stopServer = async () => {
        await embedded.stop();
        await rm(directory, { recursive: true, force: true });
      };
      adminUrl = withDatabaseName(embedded.url, 'postgres');
      postmasterPid = findOwnPostmaster();
      description = `embedded PostgreSQL on 127.0.0.1:${embedded.port} (${directory})`;
    } catch (error) {
      await rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  const created = new Map<string, BenchDatabase>();
  const dropDatabase = async (database: BenchDatabase) => {
    // FORCE ends any connection a killed helper process may have left behind.
    await administer(adminUrl, (client) => client.query(`drop database if exists ${client.escapeIdentifier(database.name)} with (force)`));
    created.delete(database.name);
  };

  return {
    description,
    postmasterPid,
    async createDatabase(phase) {
      const name = `hookline_bench_${phase}_${randomBytes(4).toString('hex')}`;
      await administer(adminUrl, (client) => client.query(`create database ${client.escapeIdentifier(name)}`));
      const database = { name, url: withDatabaseName(adminUrl, name) };
      created.set(name, database);
      return database;
    },
    dropDatabase,
    async close() {
      for (const database of [...created.values()]) {
        await dropDatabase(database).catch((error) => process.stderr.write(`could not drop ${database.name}: ${error}\n`));
      }
      await stopServer();
    },
  };
}
