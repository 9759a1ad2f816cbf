/**
 * Errors and answers of the webhook server: every error body is `{error: {code, message}}`, and
 * one table says which status each kind of error gets, so routes only throw.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CodebuildRunError, WebhookPayloadError, WebhookVerificationError } from '../src/errors.js';
import { SecretReadError } from '../src/secrets.js';
import { StoreError } from '../src/store/index.js';

/** An error whose HTTP status the route chose. */
export class HttpError extends CodebuildRunError {
  constructor(
    readonly status: ContentfulStatusCode,
    code: string,
    message: string,
  ) {
    super(message, code);
  }
}

export interface ErrorAnswer {
  status: ContentfulStatusCode;
  code: string;
  message: string;
  /** True when the error is ours, not the caller's: it is logged at error level. */
  internal: boolean;
}

/** The status and body for any error thrown while answering. Messages never carry a secret. */
export function answerFor(error: unknown, requestId: string): ErrorAnswer {
  if (error instanceof HttpError) {
    return { status: error.status, code: error.code, message: error.message, internal: false };
  }
  if (error instanceof WebhookVerificationError) {
    return { status: 401, code: error.code, message: error.message, internal: false };
  }
  if (error instanceof WebhookPayloadError) {
    return { status: 400, code: error.code, message: error.message, internal: false };
  }
  if (error instanceof SecretReadError) {
    // The host retries later; by then Secrets Manager (or the variable) may be back.
    return { status: 503, code: error.code, message: error.message, internal: true };
  }
  if (error instanceof StoreError) {
    return {
      status: 503,
      code: error.code,
      message: `the delivery could not be recorded, so it was not accepted; send it again later (request ${requestId})`,
      internal: true,
    };
  }
  if (error instanceof HTTPException) {
    return {
      status: error.status as ContentfulStatusCode,
      code: `http.${error.status}`,
      message: error.message || 'the request was refused',
      internal: false,
    };
  }
  return {
    status: 500,
    code: 'server.internal',
    message: `internal error; the server log has the details under request id ${requestId}`,
    internal: true,
  };
}

/** What a log line may say about an error: its name, code and message, never its fields. */
export function describeError(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    ...(typeof code === 'string' ? { code } : {}),
    message: error.message.split('\n')[0] ?? '',
  };
}
