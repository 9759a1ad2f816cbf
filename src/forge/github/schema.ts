/** The parts of GitHub's `push` payload this driver reads; everything else is dropped. */
import { z } from 'zod';
import { GitObjectId, HttpUrl } from '../payload.js';

export const GitHubCommit = z.object({
  id: GitObjectId,
  message: z.string(),
  added: z.array(z.string()).optional(),
  removed: z.array(z.string()).optional(),
  modified: z.array(z.string()).optional(),
});
export type GitHubCommit = z.infer<typeof GitHubCommit>;

export const GitHubPushPayload = z.object({
  ref: z.string().min(1),
  before: GitObjectId,
  /** For an annotated tag this is the tag object, not the commit: see head_commit. */
  after: GitObjectId,
  commits: z.array(GitHubCommit),
  /** The pushed commit (an annotated tag resolved to its commit); null when the ref was deleted. */
  head_commit: GitHubCommit.nullish(),
  repository: z.object({
    full_name: z.string().min(1),
    clone_url: HttpUrl,
    html_url: HttpUrl,
    default_branch: z.string().nullish(),
    private: z.boolean().nullish(),
  }),
  pusher: z.object({ name: z.string() }).nullish(),
});
export type GitHubPushPayload = z.infer<typeof GitHubPushPayload>;
