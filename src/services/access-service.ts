/**
 * Projects and API keys: who a request acts for. A key scopes every operation to its project;
 * the admin token (HOOKLINE_ADMIN_TOKEN) only creates projects. Keys are checked against the
 * database on every request, so a revoked key stops working at once.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { newId } from '../domain/ids.js';
import { generateApiKey, hashApiKey, looksLikeApiKey } from '../domain/api-keys.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { inTransaction, type Queryable } from '../persistence/database-pool.js';
import { apiKeyRevokedChannel } from '../persistence/sql/notification-channels.js';
import { decodeCursor, isUuid, pageSize, toPage, type Page, type PageRequest } from './pagination.js';

export interface ProjectCaller {
  kind: 'project';
  projectId: string;
  apiKeyId: string;
}

export interface AdminCaller {
  kind: 'admin';
}

export type Caller = ProjectCaller | AdminCaller;

export interface ApiKeyRecord {
  id: string;
  projectId: string;
  name: string | null;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface ProjectRecord {
  id: string;
  name: string;
  createdAt: Date;
}

function toApiKey(row: Record<string, any>): ApiKeyRecord {
  return { id: row.id, projectId: row.project_id, name: row.name, prefix: row.prefix, createdAt: row.created_at, lastUsedAt: row.last_used_at, revokedAt: row.revoked_at };
}

function checkName(name: string | null | undefined, field: string, required: boolean): string | null {
  const trimmed = name?.trim() ?? '';
  if (!trimmed) {
    if (required) throw new ValidationError(`${field} must not be empty`, { field });
    return null;
  }
  if (trimmed.length > 200 || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new ValidationError(`${field} must be at most 200 characters, without control characters`, { field });
  }
  return trimmed;
}

// Any fixed number: concurrent first starts take turns at creating the first project.
const bootstrapLockKey = 7_461_920_312;

async function insertApiKey(db: Queryable, projectId: string, name: string | null): Promise<{ key: string; record: ApiKeyRecord }> {
  const generated = generateApiKey();
  const result = await db.query(
    'insert into api_key (id, project_id, name, prefix, key_hash) values ($1, $2, $3, $4, $5) returning *',
    [newId(), projectId, name, generated.prefix, generated.hash],
  );
  return { key: generated.key, record: toApiKey(result.rows[0]) };
}

export class AccessService {
  constructor(private readonly pool: pg.Pool) {}

  /** The caller a key stands for, or null for an unknown or revoked key. */
  async authenticate(key: string): Promise<ProjectCaller | null> {
    if (!looksLikeApiKey(key)) return null;
    // last_used_at is written at most once a minute per key, to keep requests read-only.
    const result = await this.pool.query({
      name: 'authenticate-api-key',
      text: `with found as (select id, project_id, last_used_at from api_key where key_hash = $1 and revoked_at is null),
       touched as (update api_key set last_used_at = now()
                   where id = (select id from found) and (last_used_at is null or last_used_at < now() - interval '1 minute'))
       select id, project_id from found`,
      values: [hashApiKey(key)],
    });
    const row = result.rows[0];
    return row ? { kind: 'project', projectId: row.project_id, apiKeyId: row.id } : null;
  }

  async createProject(name: string): Promise<{ project: ProjectRecord; apiKey: string; key: ApiKeyRecord }> {
    const projectName = checkName(name, 'name', true)!;
    return inTransaction(this.pool, async (client) => {
      const project = (await client.query('insert into project (id, name) values ($1, $2) returning *', [newId(), projectName])).rows[0];
      const { key, record } = await insertApiKey(client, project.id, 'first key');
      return { project: { id: project.id, name: project.name, createdAt: project.created_at }, apiKey: key, key: record };
    });
  }

  async createApiKey(projectId: string, name: string | null | undefined): Promise<{ apiKey: string; key: ApiKeyRecord }> {
    const { key, record } = await insertApiKey(this.pool, projectId, checkName(name, 'name', false));
    return { apiKey: key, key: record };
  }

  async listApiKeys(projectId: string, request: PageRequest): Promise<Page<ApiKeyRecord>> {
    const size = pageSize(request.first);
    const after = request.after ? decodeCursor(request.after) : null;
    const result = await this.pool.query(
      'select * from api_key where project_id = $1 and ($2::uuid is null or id < $2) order by id desc limit $3',
      [projectId, after, size + 1],
    );
    return toPage(result.rows.map(toApiKey), size);
  }

  /** Revokes a key of this project; open subscriptions using it are closed (over NOTIFY, in every process). */
  async revokeApiKey(projectId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) throw new NotFoundError('ApiKey', id);
    const result = await this.pool.query(
      `with revoked as (
         update api_key set revoked_at = coalesce(revoked_at, now()) where id = $1 and project_id = $2 returning id)
       select id, pg_notify('${apiKeyRevokedChannel}', id::text) from revoked`,
      [id, projectId],
    );
    if (result.rowCount === 0) throw new NotFoundError('ApiKey', id);
    return true;
  }

  async findProject(projectId: string): Promise<ProjectRecord | null> {
    const row = (await this.pool.query('select * from project where id = $1', [projectId])).rows[0];
    return row ? { id: row.id, name: row.name, createdAt: row.created_at } : null;
  }

  /**
   * On the very first start (no project at all), creates the project "default" and its first
   * key, writes the key to `<dataDir>/api-key` (readable by the owner only) and returns it, so
   * the caller can show it once. Returns null when a project already exists.
   */
  async bootstrap(dataDir: string, logger: Logger): Promise<string | null> {
    const created = await inTransaction(this.pool, async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [bootstrapLockKey]);
      const existing = await client.query('select 1 from project limit 1');
      if (existing.rowCount) return null;
      const project = (await client.query(`insert into project (id, name) values ($1, 'default') returning id`, [newId()])).rows[0];
      return { projectId: project.id as string, ...(await insertApiKey(client, project.id, 'created on first start')) };
    });
    if (!created) return null;
    const file = path.join(dataDir, 'api-key');
    try {
      await mkdir(dataDir, { recursive: true });
      await writeFile(file, `${created.key}\n`, { mode: 0o600 });
      await chmod(file, 0o600);
      logger.info({ projectId: created.projectId, keyPrefix: created.record.prefix, file }, 'created the default project and its first API key');
    } catch (error) {
      logger.error({ err: error, file }, 'could not write the first API key to a file; it is printed once on standard output');
    }
    return created.key;
  }
}
