/**
 * One dedicated connection that LISTENs for the other processes (and this one): wake-ups for
 * the dispatcher and delivery status changes for live subscriptions. It reconnects by itself
 * after the database goes away, and a listener that throws cannot break it.
 */
import pg from 'pg';
import type { Logger } from '../logger.js';

export type NotificationHandler = (payload: string) => void;

export class NotificationListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connectedOnce = false;
  private readonly handlers = new Map<string, NotificationHandler[]>();
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
    if (this.connectedOnce) {
      this.logger.info('the notification connection is back');
      this.onReconnected();
    }
    this.connectedOnce = true;
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
