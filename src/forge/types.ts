/**
 * Host-neutral types. Every host driver turns its own wire format into these; nothing outside
 * src/forge/<host>/ knows what a host's payload looks like.
 */
import type { Clock, Fetch, Logger } from '../deps.js';

export type HostKind =
  | 'github'
  | 'gitlab'
  | 'bitbucket'
  | 'bitbucket-dc'
  | 'gitea'
  | 'forgejo'
  | 'azure-devops';

/** A webhook delivery as received: header names lower-cased, the body as the raw bytes. */
export interface WebhookRequest {
  headers: Readonly<Record<string, string | undefined>>;
  body: Uint8Array;
}

export interface Repository {
  /** `owner/name`; GitLab may nest groups (`group/sub/name`); Azure is `org/project/repo`. */
  fullName: string;
  /** The host's own id where its status API needs it (GitLab project id, Azure repo id). */
  id: string | null;
  /** HTTPS clone URL, with no credentials in it. */
  cloneUrl: string;
  webUrl: string;
  defaultBranch: string | null;
  private: boolean | null;
}

export interface PushEvent {
  host: HostKind;
  /** The host's delivery id (header), or a digest of the body when the host sends none. */
  deliveryId: string;
  repo: Repository;
  /** Full ref: `refs/heads/main`, `refs/tags/v1.0`. */
  ref: string;
  /** The short name: `main`, `v1.0`. */
  refName: string;
  refKind: 'branch' | 'tag';
  /** The previous commit; null when the ref was created. */
  before: string | null;
  /**
   * The commit to build; null when deleted. For an annotated tag, hosts whose driver has
   * `tagShaMayBeTagObject` may give the tag object here: the pipeline peels it to the commit.
   */
  sha: string | null;
  created: boolean;
  deleted: boolean;
  headCommitMessage: string | null;
  /**
   * Paths added, modified or removed across the pushed commits; null when the host sends none.
   * `truncated` is true when the host sent only part of the commits (GitLab 20, Bitbucket 5):
   * path filters must then fail open.
   */
  changedPaths: { paths: string[]; truncated: boolean } | null;
  pusher: string | null;
}

export type ParseResult =
  | { outcome: 'push'; events: PushEvent[] }
  | { outcome: 'ignored'; eventName: string; reason: string };

/** Our commit states; each driver maps every one to its host's word (compiler-checked). */
export type CommitState = 'pending' | 'running' | 'success' | 'failure' | 'error' | 'canceled';
export const COMMIT_STATES: readonly CommitState[] = [
  'pending',
  'running',
  'success',
  'failure',
  'error',
  'canceled',
];

export interface CommitStatus {
  state: CommitState;
  /** The status name (GitHub context, GitLab name, Bitbucket key). Drivers fit it to the host. */
  context: string;
  /** One line; drivers cut it to the host's limit. */
  description: string;
  targetUrl: string;
}

export interface StatusTarget {
  repo: Pick<Repository, 'fullName' | 'id'>;
  sha: string;
}

/** What a driver needs to call its host's API. */
export interface HostApi {
  /** API base, e.g. `https://api.github.com`, `https://gitlab.example.com/api/v4`. */
  baseUrl: string;
  token: string;
  fetch: Fetch;
  clock: Clock;
  logger?: Logger;
  /** Total time the retries of one call may take; default 30 s. */
  retryBudgetMs?: number;
}

/**
 * How git authenticates with an HTTPS token on this host, so the clone prelude can send it as
 * an `Authorization` header (never in the URL): Basic with a fixed username, or Bearer.
 */
export type CloneAuth = { scheme: 'basic'; username: string } | { scheme: 'bearer' };

export interface ForgeDriver {
  readonly kind: HostKind;
  readonly displayName: string;
  /** The SaaS API base, or null for hosts that are only self-hosted. */
  readonly defaultApiBaseUrl: string | null;
  readonly limits: { readonly description: number; readonly context: number };
  /**
   * For an annotated tag the payload gives the tag object's id, not its commit's (Bitbucket Data
   * Center's `toHash`, Azure DevOps' `newObjectId`): statuses posted there show nowhere, so the
   * pipeline asks the repository for the commit before it starts the build.
   */
  readonly tagShaMayBeTagObject: boolean;
  /** Throws WebhookVerificationError; fails closed when `secrets` holds no non-empty secret. */
  verify(request: WebhookRequest, secrets: readonly string[]): void;
  /** Only after verify. Throws WebhookPayloadError on a body that is not what the host sends. */
  parse(request: WebhookRequest): ParseResult;
  /** Retries 429/5xx; throws HostApiError otherwise. A repeated state the host refuses is done. */
  postCommitStatus(api: HostApi, target: StatusTarget, status: CommitStatus): Promise<void>;
  /** `account` is the token's user where the host needs it (Gitea, Forgejo). */
  cloneAuth(account?: string): CloneAuth;
}
