/** The parts of GitLab's Push Hook and Tag Push Hook bodies this driver reads. */
import { z } from 'zod';

/** A commit id: SHA-1 (40 hex digits) or SHA-256 (64). */
const Sha = z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'expected a 40 or 64 digit hex sha');

export const GitLabCommit = z.object({
  id: Sha,
  message: z.string(),
  added: z.array(z.string()).optional(),
  modified: z.array(z.string()).optional(),
  removed: z.array(z.string()).optional(),
});
export type GitLabCommit = z.infer<typeof GitLabCommit>;

export const GitLabProject = z.object({
  id: z.number().int(),
  /** `group/subgroup/name`: groups nest to any depth. */
  path_with_namespace: z.string().min(1),
  git_http_url: z.url(),
  web_url: z.url(),
  default_branch: z.string().nullish(),
  /** 0 private, 10 internal, 20 public. */
  visibility_level: z.number().int().optional(),
});
export type GitLabProject = z.infer<typeof GitLabProject>;

export const GitLabPushPayload = z.object({
  object_kind: z.enum(['push', 'tag_push']),
  before: Sha,
  /** For an annotated tag this is the tag object, not a commit. */
  after: Sha,
  ref: z.string().min(1),
  /** The commit to build; null when the ref was deleted. */
  checkout_sha: Sha.nullable(),
  user_username: z.string().nullish(),
  user_name: z.string().nullish(),
  project: GitLabProject,
  /** At most the newest 20 commits, oldest first. */
  commits: z.array(GitLabCommit),
  total_commits_count: z.number().int().nonnegative(),
});
export type GitLabPushPayload = z.infer<typeof GitLabPushPayload>;
