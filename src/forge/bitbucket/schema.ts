/** The parts of Bitbucket Cloud's `repo:push` body this driver reads. */
import { z } from 'zod';

const Sha = z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'expected a 40 or 64 digit hex sha');

export const BitbucketRefState = z.object({
  /** `branch` or `tag` (Mercurial's `named_branch`/`bookmark` are gone with Mercurial). */
  type: z.string(),
  name: z.string().min(1),
  /** The commit, also for an annotated tag (whose own message sits beside `target`). */
  target: z.object({
    hash: Sha,
    message: z.string().nullish(),
  }),
});
export type BitbucketRefState = z.infer<typeof BitbucketRefState>;

export const BitbucketChange = z.object({
  /** null when the ref was created. */
  old: BitbucketRefState.nullable(),
  /** null when the ref was deleted. */
  new: BitbucketRefState.nullable(),
  created: z.boolean(),
  closed: z.boolean(),
  /** More commits were pushed than `commits` lists (5); no file paths are sent either way. */
  truncated: z.boolean().optional(),
});
export type BitbucketChange = z.infer<typeof BitbucketChange>;

export const BitbucketAccount = z.object({
  nickname: z.string().nullish(),
  username: z.string().nullish(),
  display_name: z.string().nullish(),
});
export type BitbucketAccount = z.infer<typeof BitbucketAccount>;

export const BitbucketPushPayload = z.object({
  push: z.object({ changes: z.array(BitbucketChange) }),
  repository: z.object({
    /** `workspace/repo-slug`. */
    full_name: z.string().regex(/^[^/]+\/[^/]+$/, 'expected workspace/repo-slug'),
    uuid: z.string().nullish(),
    is_private: z.boolean().nullish(),
    mainbranch: z.object({ name: z.string() }).nullish(),
    links: z.object({ html: z.object({ href: z.url() }) }),
  }),
  actor: BitbucketAccount.nullish(),
});
export type BitbucketPushPayload = z.infer<typeof BitbucketPushPayload>;
