/** The parts of Gitea's (and Forgejo's) `push` payload this driver reads. */
import { z } from 'zod';
import { GitObjectId, HttpUrl } from '../payload.js';

/** Gitea is written in Go: an empty list may arrive as null. */
const PathList = z
  .array(z.string())
  .nullish()
  .transform((list) => list ?? []);

export const GiteaCommit = z.object({
  id: GitObjectId,
  message: z.string(),
  added: PathList,
  removed: PathList,
  modified: PathList,
});
export type GiteaCommit = z.infer<typeof GiteaCommit>;

export const GiteaPushPayload = z.object({
  ref: z.string().min(1),
  before: GitObjectId,
  /** For an annotated tag this is the tag object; head_commit is the commit. */
  after: GitObjectId,
  commits: z
    .array(GiteaCommit)
    .nullish()
    .transform((list) => list ?? []),
  /** How many commits the push had before Gitea cut `commits` to its feed limit. */
  total_commits: z.number().int().nonnegative().optional(),
  head_commit: GiteaCommit.nullish(),
  repository: z.object({
    full_name: z.string().min(1),
    clone_url: HttpUrl,
    html_url: HttpUrl,
    default_branch: z.string().nullish(),
    private: z.boolean().nullish(),
  }),
  pusher: z.object({ login: z.string().nullish(), username: z.string().nullish() }).nullish(),
});
export type GiteaPushPayload = z.infer<typeof GiteaPushPayload>;
