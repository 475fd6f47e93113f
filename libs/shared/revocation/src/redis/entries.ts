import { isStreamId } from '../stream-id';
import { parseRevocationEvent, revocationEventProblem, toRevocationEvent, type RevocationEvent } from '../types';

/** A live pub/sub message: the stream id it was written as, and the event; null for hints and garbage. */
export function parseBusMessage(message: string): { id: string; event: RevocationEvent } | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  // Messages without an event (rebuild hints) only trigger a catch-up read.
  if (!isStreamId(record['id']) || record['e'] === undefined) return null;
  if (revocationEventProblem(record['e']) !== null) return null;
  return { id: record['id'], event: toRevocationEvent(record['e']) };
}

/** The event of a stream entry's field list, or null if it holds none. */
export function decodeEntry(fields: string[]): RevocationEvent | null {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'e') return parseRevocationEvent(fields[i + 1]!);
  }
  return null;
}

/** The id of the first entry of an XRANGE/XREVRANGE reply. */
export function firstEntryId(reply: unknown): string | null {
  if (!Array.isArray(reply) || reply.length === 0) return null;
  const entry: unknown = reply[0];
  if (!Array.isArray(entry)) return null;
  const id: unknown = entry[0];
  return isStreamId(id) ? id : null;
}
