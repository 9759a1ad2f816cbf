/**
 * CloudWatch Logs GetLogEvents. Tokens are `f/<n>/s` (read on after event n) and `b/<n>/s` (read
 * back from before event n). At the end of a stream the forward token given comes back unchanged,
 * which is how a tailer knows it has everything for now.
 */
import type { LogEventRow } from '../store/index.js';
import type { EndpointContext } from './context.js';
import { AwsError, type Input, InputReader } from './wire.js';

const MAX_EVENTS = 10_000;
const MAX_BYTES = 1_048_576;
/** CloudWatch counts 26 bytes of overhead per event toward the 1 MB of a response. */
const EVENT_OVERHEAD = 26;

const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);

const token = (direction: 'f' | 'b', position: number) =>
  `${direction}/${String(position).padStart(56, '0')}/s`;

function parseToken(value: string): { direction: 'f' | 'b'; position: number } {
  const match = /^([fb])\/(\d{1,56})\/s$/.exec(value);
  if (!match) throw invalidParameter('The specified nextToken is invalid.');
  return { direction: match[1] as 'f' | 'b', position: Number(match[2]) };
}

function groupFromIdentifier(identifier: string): string {
  const at = identifier.startsWith('arn:') ? identifier.indexOf(':log-group:') : -1;
  if (at < 0) return identifier;
  return identifier.slice(at + ':log-group:'.length).replace(/:\*$/, '');
}

/** Keeps what fits in 1 MB, from the start (forward) or from the end (backward). */
function withinSize(events: LogEventRow[], fromEnd: boolean): LogEventRow[] {
  let bytes = 0;
  const ordered = fromEnd ? [...events].reverse() : events;
  const kept: LogEventRow[] = [];
  for (const event of ordered) {
    bytes += Buffer.byteLength(event.message) + EVENT_OVERHEAD;
    if (bytes > MAX_BYTES && kept.length > 0) break;
    kept.push(event);
  }
  return fromEnd ? kept.reverse() : kept;
}

export function getLogEvents(ctx: EndpointContext, input: Input): object {
  const reader = new InputReader(input);
  const name = reader.optionalString('logGroupName');
  const identifier = reader.optionalString('logGroupIdentifier');
  if (name !== undefined && identifier !== undefined) {
    throw invalidParameter('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  }
  const group = name ?? (identifier === undefined ? undefined : groupFromIdentifier(identifier));
  if (group === undefined) {
    throw invalidParameter('Either logGroupName or logGroupIdentifier must be specified.');
  }
  const stream = reader.optionalString('logStreamName');
  if (stream === undefined) {
    throw invalidParameter(
      "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null",
    );
  }
  const limitValue = input.limit ?? MAX_EVENTS;
  if (
    typeof limitValue !== 'number' ||
    !Number.isInteger(limitValue) ||
    limitValue < 1 ||
    limitValue > MAX_EVENTS
  ) {
    throw invalidParameter(
      `1 validation error detected: Value '${String(limitValue)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${MAX_EVENTS}`,
    );
  }
  const { logs } = ctx.store;
  if (!logs.groupExists(group)) {
    throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
  }
  if (!logs.streamExists(group, stream)) {
    throw new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');
  }
  const window = {
    limit: limitValue,
    ...(typeof input.startTime === 'number' ? { startTime: input.startTime } : {}),
    ...(typeof input.endTime === 'number' ? { endTime: input.endTime } : {}),
  };
  const given = reader.optionalString('nextToken');
  const position = given
    ? parseToken(given)
    : reader.optionalBoolean('startFromHead')
      ? { direction: 'f' as const, position: 0 }
      : { direction: 'b' as const, position: logs.lastId() + 1 };

  if (position.direction === 'f') {
    const events = withinSize(logs.forward(group, stream, position.position, window), false);
    return answer(
      events,
      events.at(-1)?.id ?? position.position,
      events[0]?.id ?? position.position + 1,
    );
  }
  const events = withinSize(logs.backward(group, stream, position.position, window), true);
  return answer(
    events,
    events.at(-1)?.id ?? Math.max(0, position.position - 1),
    events[0]?.id ?? position.position,
  );
}

function answer(events: LogEventRow[], forwardAfter: number, backwardBefore: number): object {
  return {
    events: events.map((e) => ({
      timestamp: e.timestamp,
      message: e.message,
      ingestionTime: e.timestamp,
    })),
    nextForwardToken: token('f', forwardAfter),
    nextBackwardToken: token('b', backwardBefore),
  };
}
