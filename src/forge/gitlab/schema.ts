/** The parts of GitLab's Push Hook and Tag Push Hook bodies this driver reads. */
import { z } from 'zod';

/** A commit id: SHA-1 (40 hex digits) or SHA-256 (64). */
const Sha = z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'expected a 40 or 64 digit hex sha');

export const GitlabCommit = z.object({
  id: Sha,
  message: z.string(),
  added: z.array(z.string()).optional(),
  modified: z.array(z.string()).optional(),
  removed: z.array(z.string()).optional(),
});
export type GitlabCommit = z.infer<typeof GitlabCommit>;

export const GitlabProject = z.object({
  id: z.number().int(),
  /** `group/subgroup/name`: groups nest to any depth. */
  path_with_namespace: z.string().min(1),
  git_http_url: z.url(),
  web_url: z.url(),
  default_branch: z.string().nullish(),
  /** 0 private, 10 internal, 20 public. */
  visibility_level: z.number().int().optional(),
});
export type GitlabProject = z.infer<typeof GitlabProject>;

export const GitlabPushPayload = z.object({
  object_kind: z.enum(['push', 'tag_push']),
  before: Sha,
  /** For an annotated tag this is the tag object, not a commit. */
  after: Sha,
  ref: z.string().min(1),
  /** The commit to build; null when the ref was deleted. */
  checkout_sha: Sha.nullable(),
  user_username: z.string().nullish(),
  user_name: z.string().nullish(),
  project: GitlabProject,
  /** At most the newest 20 commits, oldest first. */
  commits: z.array(GitlabCommit),
  total_commits_count: z.number().int().nonnegative(),
});
export type GitlabPushPayload = z.infer<typeof GitlabPushPayload>;
