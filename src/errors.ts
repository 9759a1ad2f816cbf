/**
 * Errors a user can act on. Each names the bad input and, where there is one, the fix.
 * Messages never contain a secret: callers pass names of secrets, never values.
 */
export class CodebuildRunError extends Error {
  constructor(
    message: string,
    /** A stable machine-readable code, e.g. `webhook.bad-signature`. */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A webhook delivery failed verification: answer 401, parse nothing. */
export class WebhookVerificationError extends CodebuildRunError {
  constructor(
    readonly reason: 'no-secret-configured' | 'missing-header' | 'malformed-header' | 'mismatch',
    message: string,
  ) {
    super(message, `webhook.${reason}`);
  }
}

/** A verified delivery whose body is not what the host documents: answer 400. */
export class WebhookPayloadError extends CodebuildRunError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'webhook.bad-payload', options);
  }
}

/** A git host's API answered with an error (after any retries). */
export class HostApiError extends CodebuildRunError {
  constructor(
    readonly host: string,
    /** HTTP status, or 0 when no answer came (network error, deadline). */
    readonly status: number,
    /** What the host said, trimmed; never includes request headers. */
    readonly hostMessage: string,
    readonly method: string,
    /** The request URL; it never carries a token (tokens go in headers). */
    readonly url: string,
  ) {
    super(
      `${host} API ${method} ${url} failed${status ? ` with HTTP ${status}` : ''}: ${hostMessage}`,
      status === 401 || status === 403 ? 'host.unauthorized' : 'host.api-error',
    );
  }

  get unauthorized(): boolean {
    return this.status === 401;
  }
}
