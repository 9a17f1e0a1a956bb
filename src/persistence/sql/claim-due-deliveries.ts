import type { Queryable } from '../database-pool.js';
import { deliveryChangesNotification } from './notification-channels.js';
import type { RequestShape } from '../../domain/webhook-config.js';
import type { EventEntity, WebhookEntity } from '../entities.js';

export interface ClaimedDelivery {
  id: string;
  /** What the per-webhook concurrency limit counts by. */
  groupKey: string;
  projectId: string;
  eventId: string;
  webhookId: string | null;
  attemptCount: number;
  /** Set for a webhook with an ordering key: its finish may make the next delivery of the key due. */
  orderingKey: string | null;
  /** Claimed beyond its group's free slots: it waits for one, and its lease covers that wait. */
  waits: boolean;
  event: Pick<EventEntity, 'id' | 'type' | 'channel' | 'data' | 'createdAt' | 'callbackUrl' | 'callbackSecret' | 'callbackBodyFormat' | 'callbackBodyFields'>;
  /**
   * The webhook's request shape and signing secrets; null for a callback URL delivery (or a
   * deleted webhook). One object for all the deliveries of a webhook in a claim: read it, never
   * change it.
   */
  webhook:
    | (RequestShape &
        Pick<WebhookEntity, 'timeoutMs' | 'retryScheduleSeconds' | 'active' | 'secret' | 'previousSecret' | 'previousSecretExpiresAt' | 'updatedAt'>)
    | null;
}

export interface ClaimRequest {
  workerId: string;
  /** At most this many deliveries. */
  limit: number;
  /**
   * How many one group may take, by group (a webhook id, or 'callback:<scheme://host>' for
   * callback URLs): a group left out may take `defaultRoom`, one at 0 or below is left out of
   * the candidates.
   */
  roomByGroup: ReadonlyMap<string, number>;
  defaultRoom: number;
  /**
   * How many of a group's deliveries start at once (its free request slots), by group, with the
   * same default. Those it takes beyond that wait in this process for a slot, so their lease
   * covers one more timeout.
   */
  freeByGroup: ReadonlyMap<string, number>;
  leaseMarginMs: number;
}

/**
 * Claims due deliveries in one statement. `FOR UPDATE SKIP LOCKED` lets several dispatchers
 * claim at once without waiting on each other or taking the same row; the lease
 * (`locked_until`) lets the sweep hand a claim back if this process dies holding it.
 *
 * Fairness: webhooks (and callback hosts) with no room are left out of the candidates, and of
 * the others each gets at most its room, so a slow webhook's backlog cannot fill a batch.
 *
 * The lease is the webhook's timeout and the margin for a delivery that starts at once, and
 * one more timeout for one that waits in the process for a slot (at most one request of its
 * webhook is ahead of it).
 */
const claimSql = `
with candidate as (
  select d.id, d.webhook_id, d.next_attempt_at, grouping.group_key
  from delivery d
  -- Callback deliveries (no webhook) are grouped by their URL's host; the subquery runs for those only.
  cross join lateral (
    select coalesce(d.webhook_id::text,
                    (select 'callback:' || substring(e.callback_url from '^[a-zA-Z]+://[^/?#]+') from event e where e.id = d.event_id),
                    '') as group_key
  ) grouping
  where d.status in ('PENDING', 'RETRYING')
    and d.next_attempt_at <= now()
    and not (grouping.group_key = any($3::text[]))
    -- An ordered delivery waits until every earlier one with its key has succeeded or failed for good.
    and (d.ordering_key is null or not exists (
      select 1 from delivery earlier
      where earlier.webhook_id = d.webhook_id and earlier.ordering_key = d.ordering_key and earlier.id < d.id
        and earlier.status in ('PENDING', 'SENDING', 'RETRYING')))
  order by d.next_attempt_at
  -- Every candidate is locked (a write to its row), so take no more than can be claimed; rows a
  -- group has no room for are left for the next claim, which leaves the full group out.
  limit $2
  for update of d skip locked
), ranked as (
  select id, webhook_id, next_attempt_at, group_key,
         row_number() over (partition by group_key order by next_attempt_at) as position_in_group,
         coalesce(($4::jsonb ->> group_key)::int, $5::int) as room,
         coalesce(($7::jsonb ->> group_key)::int, $5::int) as free
  from candidate
), chosen as (
  select id, webhook_id, group_key, position_in_group > free as waits from ranked
  where position_in_group <= room
  order by next_attempt_at
  limit $2
), claimed as (
  update delivery d
  set status = 'SENDING', locked_by = $1, updated_at = now(),
      locked_until = now() + make_interval(secs => (coalesce(w.timeout_ms, 10000) * (case when c.waits then 2 else 1 end) + $6::int) / 1000.0)
  from chosen c left join webhook w on w.id = c.webhook_id
  where d.id = c.id
  returning d.*, c.group_key, c.waits
), ${deliveryChangesNotification('claimed')}
select c.id, c.group_key, c.waits, c.project_id, c.event_id, c.webhook_id, c.attempt_count, c.ordering_key,
       e.type as event_type, e.channel as event_channel, e.data as event_data, e.created_at as event_created_at,
       e.callback_url, e.callback_secret, e.callback_body_format, e.callback_body_fields,
       w.url, w.method, w.query_params, w.headers, w.auth, w.body_format, w.body_fields, w.timeout_ms,
       w.retry_schedule_seconds, w.active, w.secret, w.previous_secret, w.previous_secret_expires_at,
       w.updated_at as webhook_updated_at,
       (select count(*) from notified) as notifications
from (select claimed.*, row_number() over (partition by claimed.webhook_id) = 1 as webhook_first from claimed) c
-- Each claimed row's event by its primary key, whatever the planner guesses the claim's size
-- to be (the limit kept in the subquery stops it from becoming a join that could read the
-- whole event table): the claim runs on its generic plan (Database.claimPool).
cross join lateral (select * from event e where e.id = c.event_id limit 1) e
-- A webhook's settings come once per claim, on the first of its rows (null on the others): the
-- driver parses them once (four JSON columns, an array, dates), not once per delivery.
left join webhook w on w.id = c.webhook_id and c.webhook_first
`;

export async function claimDueDeliveries(db: Queryable, request: ClaimRequest): Promise<ClaimedDelivery[]> {
  if (request.limit <= 0) return [];
  const full = [...request.roomByGroup].filter(([, room]) => room <= 0).map(([key]) => key);
  // A named statement: planned once per connection, not on every claim.
  const result = await db.query({
    name: 'claim-due-deliveries',
    text: claimSql,
    values: [
      request.workerId,
      request.limit,
      full,
      JSON.stringify(Object.fromEntries(request.roomByGroup)),
      request.defaultRoom,
      request.leaseMarginMs,
      JSON.stringify(Object.fromEntries(request.freeByGroup)),
    ],
  });
  type Webhook = NonNullable<ClaimedDelivery['webhook']>;
  const webhooks = new Map<string, Webhook>();
  for (const row of result.rows) {
    // Null on a webhook's other rows, and for a deleted webhook.
    if (row.url === null) continue;
    webhooks.set(row.webhook_id, {
      url: row.url,
      method: row.method,
      queryParams: row.query_params,
      headers: row.headers,
      auth: row.auth,
      bodyFormat: row.body_format,
      bodyFields: row.body_fields,
      timeoutMs: row.timeout_ms,
      retryScheduleSeconds: row.retry_schedule_seconds,
      active: row.active,
      secret: row.secret,
      previousSecret: row.previous_secret,
      previousSecretExpiresAt: row.previous_secret_expires_at,
      updatedAt: row.webhook_updated_at,
    });
  }
  return result.rows.map((row) => ({
    id: row.id,
    groupKey: row.group_key,
    waits: row.waits,
    projectId: row.project_id,
    eventId: row.event_id,
    webhookId: row.webhook_id,
    attemptCount: row.attempt_count,
    orderingKey: row.ordering_key,
    event: {
      id: row.event_id,
      type: row.event_type,
      channel: row.event_channel,
      data: row.event_data,
      createdAt: row.event_created_at,
      callbackUrl: row.callback_url,
      callbackSecret: row.callback_secret,
      callbackBodyFormat: row.callback_body_format,
      callbackBodyFields: row.callback_body_fields,
    },
    webhook: (row.webhook_id !== null && webhooks.get(row.webhook_id)) || null,
  }));
}
