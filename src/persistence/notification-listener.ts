/**
 * One dedicated connection that LISTENs for the other processes (and this one): wake-ups for
 * the dispatcher and delivery status changes for live subscriptions. It reconnects by itself
 * after the database goes away, and a listener that throws cannot break it.
 */
import pg from 'pg';
import type { Logger } from '../logger.js';
import { watchBarrierLockKey, watchersLockKey, watchLockClass } from './sql/notification-channels.js';

export type NotificationHandler = (payload: string) => void;

export class NotificationListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connectedOnce = false;
  private readonly handlers = new Map<string, NotificationHandler[]>();
  /** Live subscriptions to delivery changes in this process; while there are any, this connection holds the watchers lock. */
  private watchers = 0;
  /** Of those, the ones past the barrier: changes committed from now on reach them. */
  private activeWatchers = 0;
  /** The connection that holds the watchers lock, if any (a new connection after a reconnect does not). */
  private watchersLockHolder: pg.Client | null = null;
  /** Lock and unlock statements, one after another. */
  private watchWork: Promise<void> = Promise.resolve();
  /** Called after a reconnection: notifications sent while we were away are lost, so callers catch up. */
  onReconnected: () => void = () => undefined;

  constructor(private readonly databaseUrl: string, private readonly logger: Logger) {}

  on(channel: string, handler: NotificationHandler): void {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
  }

  get connected(): boolean {
    return this.client !== null;
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 5000 });
    client.on('notification', (message) => {
      for (const handler of this.handlers.get(message.channel) ?? []) {
        try {
          handler(message.payload ?? '');
        } catch (error) {
          this.logger.error({ err: error, channel: message.channel }, 'a notification handler failed');
        }
      }
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'the notification connection failed');
      this.dropAndReconnect(client);
    });
    client.on('end', () => this.dropAndReconnect(client));
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    this.client = client;
    await this.syncWatchersLock(false);
    if (this.connectedOnce) {
      this.logger.info('the notification connection is back');
      this.onReconnected();
    }
    this.connectedOnce = true;
  }

  /**
   * Declares one more live subscription to delivery changes. Resolves once every statement
   * committing from now on announces its changes (see notification-channels.ts); call the
   * returned function when the subscription ends. Without a connection it resolves at once: the
   * lock is taken when the connection is back.
   */
  async watchDeliveryChanges(): Promise<() => void> {
    this.watchers++;
    await this.syncWatchersLock(true);
    this.activeWatchers++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.watchers--;
      this.activeWatchers--;
      void this.syncWatchersLock(false);
    };
  }

  /** Live subscriptions to delivery changes that every change now reaches. */
  get deliveryWatchers(): number {
    return this.activeWatchers;
  }

  private syncWatchersLock(barrier: boolean): Promise<void> {
    const sync = async () => {
      const client = this.client;
      if (!client) return;
      const keys = [watchLockClass, watchersLockKey];
      try {
        if (this.watchers > 0 && this.watchersLockHolder !== client) {
          await client.query('select pg_advisory_lock_shared($1, $2)', keys);
          this.watchersLockHolder = client;
        } else if (this.watchers === 0 && this.watchersLockHolder === client) {
          await client.query('select pg_advisory_unlock_shared($1, $2)', keys);
          this.watchersLockHolder = null;
        }
        if (barrier && this.watchersLockHolder === client) {
          // Waits for the statements that checked for watchers before the lock above was taken.
          await client.query('select pg_advisory_lock($1, $2)', [watchLockClass, watchBarrierLockKey]);
          await client.query('select pg_advisory_unlock($1, $2)', [watchLockClass, watchBarrierLockKey]);
        }
      } catch (error) {
        // The connection is failing: its locks go with it, and the reconnect takes them again.
        this.logger.warn({ err: error }, 'could not update the delivery watchers lock');
      }
    };
    this.watchWork = this.watchWork.then(sync);
    return this.watchWork;
  }

  private dropAndReconnect(client: pg.Client): void {
    if (this.client !== client && this.client !== null) return;
    this.client = null;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.scheduleReconnect(250);
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().catch((error) => {
        this.logger.debug({ err: error }, 'the notification connection could not be made again yet');
        this.scheduleReconnect(Math.min(delayMs * 2, 5000));
      });
    }, delayMs);
    this.reconnectTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}
