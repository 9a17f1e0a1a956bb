/**
 * Claim → send → record. The dispatcher claims due deliveries in batches, sends each outside
 * any transaction, and records the attempt with the delivery's new state. Status changes reach
 * subscribers through NOTIFY, sent by the same SQL statements.
 *
 * A claim takes what the free request slots can start, and for a webhook whose requests are
 * coming back quickly, a few more: they wait in this process for the next free slot of their
 * webhook, so a finished request is followed by the next one at once instead of after a claim's
 * round trip to the database.
 */
import { newId } from '../domain/ids.js';
import { DeliveryStatus } from '../domain/delivery-status.js';
import { decideRetry, defaultRetryScheduleSeconds, parseRetryAfter } from '../domain/retry-policy.js';
import { SendCancellation, type Sender, type SendOutcome } from '../delivery/http-sender.js';
import type { Logger } from '../logger.js';
import type { Queryable } from '../persistence/database-pool.js';
import { claimDueDeliveries, type ClaimedDelivery } from '../persistence/sql/claim-due-deliveries.js';
import { handBackDeliveries, setAsideDelivery } from '../persistence/sql/hand-back-deliveries.js';
import type { AttemptOutcomeRecord } from '../persistence/sql/record-attempt-outcomes.js';
import { OutcomeWriter } from './outcome-writer.js';
import { prepareRequest, timeoutMsOf, type PreparedRequest } from './prepare-request.js';

export interface DispatcherOptions {
  workerId: string;
  concurrency: number;
  perWebhookConcurrency: number;
  leaseMarginMs: number;
  maximumResponseBodyBytes: number;
  /** Where claims are made, if not on the main connection pool (Database.claimPool: commits that do not wait for the disk). */
  claimDb?: Queryable;
  /** Overrides for tests: the clock and the jitter's random source. */
  now?: () => Date;
  random?: () => number;
}

interface InFlight {
  groupKey: string;
  cancellation: SendCancellation;
  done: Promise<void>;
}

/** A claimed delivery waiting in this process for a free slot of its group. */
interface Queued {
  delivery: ClaimedDelivery;
  queuedAt: number;
  /** How long it may wait and still be sent within its lease (see claim-due-deliveries.ts). */
  mayWaitMs: number;
}

/** Requests of one group that came back lately: how far ahead of its free slots a claim may take. */
interface Flow {
  windowStart: number;
  current: number;
  previous: number;
}

const maximumClaimBatch = 200;
/** How long finished sends may wait to share one claim, while other sends are in flight. */
const claimCoalescingMs = 5;
/**
 * A group may have as many deliveries waiting in this process as its requests that came back in
 * the last one to two of these windows, up to its per-webhook limit: under load, its limit,
 * which bridges a claim's round trip; for a webhook that does not answer at all, none, so its
 * backlog stays PENDING (and free for other processes) instead of waiting here.
 */
const flowWindowMs = 100;

export class Dispatcher {
  /** Deliveries whose request is out: they hold a concurrency slot. */
  private readonly inFlight = new Map<string, InFlight>();
  /** Every claimed delivery not yet recorded (or handed back): sends out and outcomes being written. */
  private readonly unfinished = new Set<Promise<void>>();
  private readonly inFlightByGroup = new Map<string, number>();
  /** Claimed, not started yet: per group, in claim order. */
  private readonly queued = new Map<string, Queued[]>();
  private queuedCount = 0;
  /** Set while a startQueued() is due on the next turn of the event loop. */
  private startScheduled = false;
  private readonly flowByGroup = new Map<string, Flow>();
  private readonly writer: OutcomeWriter;
  /** Where claims are made (DispatcherOptions.claimDb). */
  private readonly claimDb: Queryable;
  private readonly now: () => Date;
  private readonly random: () => number;
  private stopping = false;
  private wanted = false;
  private loop: Promise<void> | null = null;
  /** Set when the last claim found work: a finished send may then make room for more. */
  private workMayRemain = false;
  /** Set when a claim found no room because too many outcomes were waiting to be written. */
  private heldBackByWrites = false;
  private lastClaimAt = 0;
  /** Wake-ups for retries due soon, so a short retry does not wait for the next tick. */
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly db: Queryable,
    private readonly sender: Sender,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
  ) {
    this.writer = new OutcomeWriter(db, options.workerId);
    this.claimDb = options.claimDb ?? db;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
  }

  get workerId(): string {
    return this.options.workerId;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Asks for a claim soon. Calls made while one runs are folded into one more round. */
  poke(): void {
    if (this.stopping) return;
    this.wanted = true;
    if (!this.loop) this.loop = this.claimWhileWanted().finally(() => (this.loop = null));
  }

  /** One claim round, started now; resolves once the claimed sends have started. For the tick and tests. */
  async runOnce(): Promise<number> {
    if (this.loop) await this.loop;
    return this.claimAndStart();
  }

  /** Resolves when nothing is in flight (tests and shutdown). */
  async whenIdle(): Promise<void> {
    while (this.loop || this.unfinished.size > 0 || (this.queuedCount > 0 && !this.stopping)) {
      if (this.loop) await this.loop;
      if (this.unfinished.size > 0) await Promise.allSettled([...this.unfinished]);
      else if (this.queuedCount > 0 && !this.stopping) {
        // Freed slots are refilled on the next turn of the event loop (startQueuedSoon).
        this.startQueuedSoon();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await this.writer.flush();
  }

  private async claimWhileWanted(): Promise<void> {
    while (this.wanted && !this.stopping) {
      // Under load, sends finish one by one; a claim per finished send would be a statement per
      // delivery. While sends are in flight, finishes within a few milliseconds share one claim.
      // An idle dispatcher claims at once, so a quiet system adds no delay.
      const sinceLastClaimMs = Date.now() - this.lastClaimAt;
      if (this.inFlight.size > 0 && sinceLastClaimMs < claimCoalescingMs) {
        await new Promise((resolve) => setTimeout(resolve, claimCoalescingMs - sinceLastClaimMs));
      }
      this.wanted = false;
      this.lastClaimAt = Date.now();
      try {
        await this.claimAndStart();
      } catch (error) {
        // The database may be away; the scheduler's tick tries again.
        this.logger.warn({ err: error }, 'claiming due deliveries failed');
        return;
      }
    }
  }

  private async claimAndStart(): Promise<number> {
    if (this.stopping) return 0;
    const { concurrency, perWebhookConcurrency: perWebhook } = this.options;
    const now = Date.now();
    // Per group: its room for this claim (free slots, plus as many to wait for a slot as the
    // group's flow allows), and how many of those start at once.
    const roomByGroup = new Map<string, number>();
    const freeByGroup = new Map<string, number>();
    let aheadInAll = 0;
    for (const groupKey of new Set([...this.inFlightByGroup.keys(), ...this.queued.keys(), ...this.flowByGroup.keys()])) {
      const ahead = this.aheadFor(groupKey, now);
      aheadInAll += ahead;
      const free = perWebhook - (this.inFlightByGroup.get(groupKey) ?? 0) - (this.queued.get(groupKey)?.length ?? 0);
      roomByGroup.set(groupKey, free + ahead);
      freeByGroup.set(groupKey, Math.max(0, free));
    }
    // Sends out, outcomes waiting to be written and deliveries waiting for a slot are all
    // bounded, so a slow database holds the dispatcher back instead of letting outcomes pile up
    // in memory.
    const unfinishedRoom = 2 * concurrency - this.unfinished.size - this.queuedCount;
    const room = Math.min(concurrency - this.inFlight.size - this.queuedCount + Math.min(aheadInAll, concurrency), unfinishedRoom);
    if (room <= 0) {
      this.workMayRemain = true;
      // Held back by outcomes not yet written: the next one written asks again (see start()).
      if (unfinishedRoom <= 0) this.heldBackByWrites = true;
      return 0;
    }
    const limit = Math.min(room, maximumClaimBatch);
    const claimed = await claimDueDeliveries(this.claimDb, {
      workerId: this.options.workerId,
      limit,
      roomByGroup,
      defaultRoom: perWebhook,
      freeByGroup,
      leaseMarginMs: this.options.leaseMarginMs,
    });
    // Stopped while claiming: stop() hands back everything this process holds, these too.
    if (this.stopping) return claimed.length;
    if (claimed.length === limit) this.wanted = true;
    const claimedAt = this.now().getTime();
    for (const delivery of claimed) {
      const queue = this.queued.get(delivery.groupKey);
      // A delivery that waits for a slot may wait one timeout of its webhook; any other only
      // for a slot of the process, within half the lease's margin. Past that it goes back.
      const mayWaitMs = (delivery.waits ? timeoutMsOf(delivery) : 0) + this.options.leaseMarginMs / 2;
      const entry: Queued = { delivery, queuedAt: claimedAt, mayWaitMs };
      if (queue) queue.push(entry);
      else this.queued.set(delivery.groupKey, [entry]);
      this.queuedCount++;
    }
    this.workMayRemain = this.claimMayHaveLeftWork(claimed, limit, roomByGroup);
    this.startQueued();
    return claimed.length;
  }

  /**
   * Freed slots are refilled after the answers read in this turn of the event loop have all
   * been handled: the next requests then go out together, in one burst of socket writes.
   */
  private startQueuedSoon(): void {
    if (this.startScheduled || this.queuedCount === 0) return;
    this.startScheduled = true;
    setImmediate(() => {
      this.startScheduled = false;
      this.startQueued();
    });
  }

  /** Starts waiting deliveries while their groups and the process have free slots. */
  private startQueued(): void {
    if (this.stopping) return;
    const { concurrency, perWebhookConcurrency } = this.options;
    const now = this.now().getTime();
    for (const [groupKey, queue] of this.queued) {
      while (queue.length > 0 && this.inFlight.size < concurrency && (this.inFlightByGroup.get(groupKey) ?? 0) < perWebhookConcurrency) {
        const entry = queue.shift()!;
        this.queuedCount--;
        if (now - entry.queuedAt > entry.mayWaitMs) this.handBackStale(entry.delivery);
        else this.start(entry.delivery);
      }
      if (queue.length === 0) this.queued.delete(groupKey);
      if (this.inFlight.size >= concurrency) return;
    }
  }

  /** A delivery that waited longer than its lease allows is not sent: it goes back to the queue. */
  private handBackStale(delivery: ClaimedDelivery): void {
    this.logger.warn({ deliveryId: delivery.id }, 'a claimed delivery waited too long for a slot; handing it back');
    const done: Promise<void> = handBackDeliveries(this.db, this.options.workerId, [delivery.id])
      .then(() => undefined)
      .catch((error) => this.logger.error({ err: error, deliveryId: delivery.id }, 'handing back a delivery failed; its lease will'))
      .finally(() => {
        this.unfinished.delete(done);
        this.poke();
      });
    this.unfinished.add(done);
  }

  /** How many of a group's deliveries may wait for its slots: its requests that came back lately. */
  private aheadFor(groupKey: string, now: number): number {
    const flow = this.flowByGroup.get(groupKey);
    if (!flow) return 0;
    rollFlow(flow, now);
    const finished = flow.current + flow.previous;
    if (finished === 0) {
      this.flowByGroup.delete(groupKey);
      return 0;
    }
    return Math.min(finished, this.options.perWebhookConcurrency);
  }

  private noteFinished(groupKey: string): void {
    const now = Date.now();
    let flow = this.flowByGroup.get(groupKey);
    if (!flow) this.flowByGroup.set(groupKey, (flow = { windowStart: now, current: 0, previous: 0 }));
    else rollFlow(flow, now);
    flow.current++;
  }

  /**
   * Due work can only have been left behind by a claim that took as many as it could: its
   * limit in all, or a group's room (a group with none was left out). Then each freed slot
   * claims again. Otherwise the claim took all there was, and new work announces itself
   * (NOTIFY, a retry's timer, the tick): at low load a finished send costs no empty claim.
   */
  private claimMayHaveLeftWork(claimed: readonly ClaimedDelivery[], limit: number, roomByGroup: ReadonlyMap<string, number>): boolean {
    if (claimed.length === limit) return true;
    for (const room of roomByGroup.values()) if (room <= 0) return true;
    const claimedByGroup = new Map<string, number>();
    for (const delivery of claimed) {
      const count = (claimedByGroup.get(delivery.groupKey) ?? 0) + 1;
      claimedByGroup.set(delivery.groupKey, count);
      if (count >= (roomByGroup.get(delivery.groupKey) ?? this.options.perWebhookConcurrency)) return true;
    }
    return false;
  }

  /**
   * A delivery holds its concurrency slot while its request is out, not while its attempt is
   * being written: the writer batches outcomes, and a slot waiting on it would idle. The
   * delivery stays claimed (SENDING) until the write, so nothing else takes it meanwhile.
   */
  private start(delivery: ClaimedDelivery): void {
    const groupKey = delivery.groupKey;
    const cancellation = new SendCancellation();
    this.inFlightByGroup.set(groupKey, (this.inFlightByGroup.get(groupKey) ?? 0) + 1);
    const entry: InFlight = { groupKey, cancellation, done: Promise.resolve() };
    this.inFlight.set(delivery.id, entry);
    let slotReleased = false;
    const releaseSlot = () => {
      if (slotReleased) return;
      slotReleased = true;
      this.inFlight.delete(delivery.id);
      const left = (this.inFlightByGroup.get(groupKey) ?? 1) - 1;
      if (left > 0) this.inFlightByGroup.set(groupKey, left);
      else this.inFlightByGroup.delete(groupKey);
      this.noteFinished(groupKey);
      this.startQueuedSoon();
      if (this.workMayRemain) this.poke();
    };
    const done = this.deliver(delivery, cancellation, releaseSlot)
      .catch((error) => this.logger.error({ err: error, deliveryId: delivery.id }, 'a delivery failed unexpectedly; its lease will hand it back'))
      .finally(() => {
        releaseSlot();
        this.unfinished.delete(done);
        // Claim again after a write only when a claim was held back by unwritten outcomes (their
        // slots were freed with no room to use them), or when this delivery was ordered (the next
        // of its key may now be due). After every write, most claims would find the webhooks full
        // and read the whole due backlog looking for other work.
        if (this.heldBackByWrites || delivery.orderingKey !== null) {
          this.heldBackByWrites = false;
          this.poke();
        }
      });
    entry.done = done;
    this.unfinished.add(done);
  }

  private async deliver(delivery: ClaimedDelivery, cancellation: SendCancellation, releaseSlot: () => void): Promise<void> {
    const { workerId } = this.options;
    if (delivery.webhook && !delivery.webhook.active) {
      // Stopped after this delivery was queued: it waits, undue, until the webhook starts again.
      await setAsideDelivery(this.db, workerId, delivery.id, 'PAUSE');
      return;
    }
    const startedAt = this.now();
    let prepared: PreparedRequest | null;
    try {
      prepared = prepareRequest(delivery, startedAt);
    } catch (error) {
      this.logger.error({ err: error, deliveryId: delivery.id }, 'the request could not be built');
      prepared = null;
    }
    if (!prepared) {
      await setAsideDelivery(this.db, workerId, delivery.id, 'CANCELLED');
      return;
    }
    const outcome = await this.sender.send(prepared.request, prepared.timeoutMs, cancellation);
    if (outcome.kind === 'cancelled') {
      // Shutdown cut the request short: the delivery goes back to the queue, unattempted.
      await handBackDeliveries(this.db, workerId, [delivery.id]);
      return;
    }
    const record = this.attemptRecord(delivery, prepared, outcome, startedAt);
    releaseSlot();
    await this.writeWithRetries(record);
    if (record.nextAttemptAt) this.wakeAt(record.nextAttemptAt);
    this.logger.debug(
      { deliveryId: delivery.id, webhookId: delivery.webhookId, attempt: record.number, status: record.status, responseStatus: record.responseStatus, durationMs: record.durationMs },
      'attempt recorded',
    );
  }

  private attemptRecord(delivery: ClaimedDelivery, prepared: PreparedRequest, outcome: Exclude<SendOutcome, { kind: 'cancelled' }>, startedAt: Date): AttemptOutcomeRecord {
    const number = delivery.attemptCount + 1;
    const success = outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300;
    let status: DeliveryStatus = DeliveryStatus.SUCCEEDED;
    let nextAttemptAt: Date | null = null;
    let error: string | null = null;
    if (!success) {
      if (outcome.kind === 'error') error = outcome.error;
      else if (outcome.status >= 300 && outcome.status < 400) error = `redirect (HTTP ${outcome.status}${outcome.headers['location'] ? ` to ${outcome.headers['location']}` : ''}) not followed`;
      else error = `HTTP ${outcome.status}`;
      const retryAfterSeconds =
        outcome.kind === 'response' && (outcome.status === 429 || outcome.status === 503) ? parseRetryAfter(outcome.headers['retry-after'], startedAt) : null;
      const decision = decideRetry({
        attemptNumber: number,
        schedule: prepared.retryScheduleSeconds ?? defaultRetryScheduleSeconds,
        now: this.now(),
        retryAfterSeconds,
        random: this.random,
      });
      if (decision.kind === 'retry') {
        status = DeliveryStatus.RETRYING;
        nextAttemptAt = decision.nextAttemptAt;
      } else {
        status = DeliveryStatus.FAILED;
      }
    }
    return {
      deliveryId: delivery.id,
      attemptId: newId(),
      projectId: delivery.projectId,
      webhookId: delivery.webhookId,
      eventId: delivery.eventId,
      number,
      status,
      nextAttemptAt,
      startedAt,
      durationMs: outcome.durationMs,
      requestMethod: prepared.recorded.method,
      requestUrl: prepared.recorded.url,
      requestHeaders: prepared.recorded.headers,
      requestBody: prepared.recorded.body,
      responseStatus: outcome.kind === 'response' ? outcome.status : null,
      responseHeaders: outcome.kind === 'response' ? outcome.headers : null,
      responseBody: outcome.kind === 'response' ? outcome.body : null,
      error,
      success,
    };
  }

  private wakeAt(dueAt: Date): void {
    const delayMs = dueAt.getTime() - Date.now();
    if (this.stopping || delayMs > 60_000) return;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.poke();
    }, Math.max(0, delayMs) + 5);
    timer.unref();
    this.retryTimers.add(timer);
  }

  /**
   * The request went out, so its record matters: a brief database outage should not turn it
   * into a duplicate. If writing keeps failing, the lease sweep hands the delivery back later.
   */
  private async writeWithRetries(record: AttemptOutcomeRecord): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const moved = await this.writer.write(record);
        if (!moved) this.logger.warn({ deliveryId: record.deliveryId }, 'attempt recorded, but the claim had already been handed back');
        return;
      } catch (error) {
        if (attempt >= 5 || this.stopping) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt).unref());
      }
    }
  }

  /**
   * Stops claiming, lets sends in flight finish within `graceMs`, cancels the rest and hands
   * their deliveries back to the queue. Nothing claimed by this process stays claimed.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    // Deliveries waiting for a slot are not started; the hand-back below returns them.
    this.queued.clear();
    this.queuedCount = 0;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    if (this.loop) await this.loop;
    const everything = Promise.allSettled([...this.unfinished]);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => (timer = setTimeout(() => resolve('grace-over'), graceMs)));
    const result = await Promise.race([everything, graceOver]);
    clearTimeout(timer);
    if (result === 'grace-over') {
      this.logger.info({ inFlight: this.inFlight.size }, 'cancelling the attempts still in flight');
      for (const entry of this.inFlight.values()) entry.cancellation.cancel();
      await everything;
    }
    await this.writer.flush();
    const handedBack = await handBackDeliveries(this.db, this.options.workerId, null);
    if (handedBack > 0) this.logger.info({ handedBack }, 'handed claimed deliveries back to the queue');
  }
}

function rollFlow(flow: Flow, now: number): void {
  const elapsed = now - flow.windowStart;
  if (elapsed < flowWindowMs) return;
  flow.previous = elapsed < 2 * flowWindowMs ? flow.current : 0;
  flow.current = 0;
  flow.windowStart = elapsed < 2 * flowWindowMs ? flow.windowStart + flowWindowMs : now;
}
