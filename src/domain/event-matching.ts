/**
 * Which webhooks want which events. Pure, so publishing can match in memory and tests can
 * cover every pattern without a database.
 */
export interface WebhookFilter {
  eventTypes: readonly string[];
  channels: readonly string[];
  statuses: readonly string[];
}

export interface MatchableEvent {
  type: string;
  channel: string | null;
  data: Record<string, unknown>;
}

const eventTypePattern = /^(\*|[A-Za-z0-9_][A-Za-z0-9_.:\-]*(\.\*)?)$/;

/** An event type pattern: "*", an exact name, or a name ending in ".*" for a whole family. */
export function isValidEventTypePattern(pattern: string): boolean {
  return pattern.length <= 200 && eventTypePattern.test(pattern);
}

export function eventTypeMatches(pattern: string, eventType: string): boolean {
  if (pattern === '*' || pattern === eventType) return true;
  if (pattern.endsWith('.*')) return eventType.startsWith(pattern.slice(0, -1));
  return false;
}

/** The status an event carries, for status filters: `data.status`, compared case-insensitively. */
export function eventStatus(event: MatchableEvent): string | null {
  const status = event.data['status'];
  return typeof status === 'string' || typeof status === 'number' ? String(status).toLowerCase() : null;
}

export function webhookWantsEvent(filter: WebhookFilter, event: MatchableEvent): boolean {
  if (!filter.eventTypes.some((pattern) => eventTypeMatches(pattern, event.type))) return false;
  if (filter.channels.length > 0) {
    if (event.channel === null) return false;
    const channel = event.channel.toLowerCase();
    if (!filter.channels.some((wanted) => wanted.toLowerCase() === channel)) return false;
  }
  if (filter.statuses.length > 0) {
    // A status filter speaks only of events that carry a status; the others pass on type alone.
    const status = eventStatus(event);
    if (status !== null && !filter.statuses.some((wanted) => wanted.toLowerCase() === status)) return false;
  }
  return true;
}
