/**
 * CodeBuild and CloudWatch Logs failures as typed, readable errors. AWS errors are told apart by
 * their name (the wire `__type`), never by their message: messages change, names are the API.
 */
import { CodebuildRunError } from '../errors.js';

/** Every error this folder throws; `awsErrorName` is the service's error name when there was one. */
export class CodeBuildError extends CodebuildRunError {
  constructor(
    message: string,
    code: string,
    readonly awsErrorName: string | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}

/** ResourceNotFoundException on StartBuild: the project does not exist here. */
export class ProjectNotFoundError extends CodeBuildError {
  constructor(
    readonly projectName: string,
    serviceMessage: string,
    options?: { cause?: unknown },
  ) {
    super(
      `CodeBuild project "${projectName}" was not found (${serviceMessage}): check the project ` +
        'name, and that the AWS region and account the client uses are the project’s.',
      'codebuild.project-not-found',
      'ResourceNotFoundException',
      options,
    );
  }
}

/** AccountLimitExceededException: the account's build queue is full (new accounts may allow 0). */
export class QueueFullError extends CodeBuildError {
  constructor(
    readonly projectName: string,
    serviceMessage: string,
    options?: { cause?: unknown },
  ) {
    super(
      `CodeBuild refused to queue a build of "${projectName}": the account's limit of concurrent ` +
        `or queued builds is reached (${serviceMessage}). Wait for running builds to finish, or ` +
        'ask AWS to raise the "Concurrently running builds" quota.',
      'codebuild.queue-full',
      'AccountLimitExceededException',
      options,
    );
  }
}

/** The request is invalid: refused by CodeBuild (InvalidInputException) or before sending. */
export class InvalidBuildInputError extends CodeBuildError {
  constructor(
    message: string,
    /** What CodeBuild said, or null when the request was refused before it was sent. */
    readonly serviceMessage: string | null = null,
    options?: { cause?: unknown },
  ) {
    super(
      message,
      'codebuild.invalid-input',
      serviceMessage === null ? null : 'InvalidInputException',
      options,
    );
  }
}

/** CodeBuild answered "Rate exceeded" (after the SDK's own retries). */
export class ThrottledError extends CodeBuildError {
  constructor(operation: string, awsErrorName: string, options?: { cause?: unknown }) {
    super(
      `CodeBuild throttled ${operation} (${awsErrorName}): too many API calls in this account ` +
        'and region; retry later, or run fewer pollers at once.',
      'codebuild.throttled',
      awsErrorName,
      options,
    );
  }
}

/** BatchGetBuilds listed the id in `buildsNotFound` (or BatchGetBuildBatches likewise). */
export class BuildNotFoundError extends CodeBuildError {
  constructor(
    readonly buildId: string,
    kind: 'build' | 'build batch' = 'build',
  ) {
    super(
      `CodeBuild has no ${kind} "${buildId}" in this account and region: check the id and the ` +
        'region the client uses.',
      'codebuild.build-not-found',
    );
  }
}

/** Error names the AWS SDK itself treats as throttling. */
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'RequestThrottled',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'ProvisionedThroughputExceededException',
  'PriorRequestNotComplete',
  'SlowDown',
  'EC2ThrottledException',
  'TransactionInProgressException',
]);

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

interface AwsLikeError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

function fields(error: unknown): AwsLikeError {
  return typeof error === 'object' && error !== null ? (error as AwsLikeError) : {};
}

/** The AWS error name (`ThrottlingException`, …), or null for something that is not one. */
export function awsErrorName(error: unknown): string | null {
  const { name } = fields(error);
  return typeof name === 'string' && name !== 'Error' ? name : null;
}

export function isThrottling(error: unknown): boolean {
  if (error instanceof ThrottledError) return true;
  const e = fields(error);
  const name = awsErrorName(error);
  return (
    (name !== null && THROTTLING_NAMES.has(name)) ||
    e.$retryable?.throttling === true ||
    e.$metadata?.httpStatusCode === 429
  );
}

/** Worth retrying later: throttling, a 5xx, a timeout or a dropped connection. */
export function isTransient(error: unknown): boolean {
  if (isThrottling(error)) return true;
  const e = fields(error);
  const name = awsErrorName(error);
  const status = e.$metadata?.httpStatusCode;
  return (
    (name !== null && TRANSIENT_NAMES.has(name)) ||
    (typeof status === 'number' && status >= 500) ||
    (typeof e.code === 'string' && TRANSIENT_NODE_CODES.has(e.code))
  );
}

function serviceMessage(error: unknown): string {
  const { message } = fields(error);
  return typeof message === 'string' && message !== '' ? message : 'no message';
}

/**
 * Maps an error from a CodeBuild call to a typed error by its name. `projectName` is the project
 * the call was about, for the message. Errors already ours pass through.
 */
export function toCodeBuildError(
  error: unknown,
  operation: string,
  projectName?: string,
): CodeBuildError {
  if (error instanceof CodeBuildError) return error;
  const name = awsErrorName(error);
  const message = serviceMessage(error);
  const cause = { cause: error };
  if (isThrottling(error)) return new ThrottledError(operation, name ?? 'HTTP 429', cause);
  if (name === 'ResourceNotFoundException' && projectName !== undefined) {
    return new ProjectNotFoundError(projectName, message, cause);
  }
  if (name === 'AccountLimitExceededException') {
    return new QueueFullError(projectName ?? '(unknown project)', message, cause);
  }
  if (name === 'InvalidInputException') {
    const about = projectName === undefined ? '' : ` for project "${projectName}"`;
    return new InvalidBuildInputError(
      `CodeBuild refused ${operation}${about}: ${message}`,
      message,
      cause,
    );
  }
  return new CodeBuildError(
    `CodeBuild ${operation} failed: ${name ?? 'error'}: ${message}`,
    'codebuild.api-error',
    name,
    cause,
  );
}

/** GetLogEvents failed for a reason retrying will not fix (permissions, a deleted group). */
export class LogsUnavailableError extends CodeBuildError {
  constructor(groupName: string, streamName: string, error: unknown) {
    super(
      `Cannot read the build's CloudWatch logs (group "${groupName}", stream "${streamName}"): ` +
        `${awsErrorName(error) ?? 'error'}: ${serviceMessage(error)}. The build is not affected; ` +
        'allow logs:GetLogEvents on the group to see its output here.',
      'codebuild.logs-unavailable',
      awsErrorName(error),
      { cause: error },
    );
  }
}
