/**
 * The server's structured JSON logs (pino). Routes never log headers or bodies; the redact list
 * is the second line of defence should a header, token or secret ever reach a log call.
 */
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys whose values never appear in a log line, wherever they are nested (up to 3 deep). */
const SENSITIVE_KEYS = [
  'authorization',
  'cookie',
  'x-gitlab-token',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-gitea-signature',
  'x-forgejo-signature',
  'token',
  'secret',
  'password',
  'webhookSecret',
  'previousWebhookSecret',
  'apiToken',
  'body',
];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SENSITIVE_KEYS) {
    const quoted = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    const dot = quoted.startsWith('[') ? '' : '.';
    paths.push(quoted, `*${dot}${quoted}`, `*.*${dot}${quoted}`, `*.*.*${dot}${quoted}`);
  }
  return paths;
}

export function createLogger(options: {
  level?: LogLevel;
  /** Where lines go; default stderr. */
  destination?: DestinationStream;
  bindings?: Record<string, unknown>;
}): PinoLogger {
  return pino(
    {
      level: options.level ?? 'info',
      // No `component` here: children set their own (http, worker, local-codebuild), once each.
      base: { pid: process.pid, ...options.bindings },
      redact: { paths: redactPaths(), censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination(2),
  );
}
