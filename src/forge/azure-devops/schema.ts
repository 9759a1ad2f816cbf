/** The parts of an Azure DevOps service hook event (and its `git.push` resource) this driver reads. */
import { z } from 'zod';
import { GitObjectId, HttpUrl } from '../payload.js';

/** The envelope every service hook event shares. */
export const AzureServiceHookEvent = z.object({
  /** The event's id: the same on every retry of this notification. */
  id: z.string().min(1),
  eventType: z.string().min(1),
  subscriptionId: z.string().nullish(),
});
export type AzureServiceHookEvent = z.infer<typeof AzureServiceHookEvent>;

export const AzureRefUpdate = z.object({
  name: z.string().min(1),
  oldObjectId: GitObjectId,
  /** What the ref points to now: for an annotated tag, the tag object. */
  newObjectId: GitObjectId,
});
export type AzureRefUpdate = z.infer<typeof AzureRefUpdate>;

export const AzureGitPushEvent = AzureServiceHookEvent.extend({
  resource: z.object({
    refUpdates: z.array(AzureRefUpdate).min(1),
    commits: z
      .array(z.object({ commitId: GitObjectId, comment: z.string().nullish() }))
      .nullish()
      .transform((list) => list ?? []),
    repository: z.object({
      id: z.string().min(1),
      name: z.string().min(1),
      remoteUrl: HttpUrl,
      defaultBranch: z.string().nullish(),
      project: z.object({ name: z.string().min(1) }),
    }),
    pushedBy: z
      .object({ uniqueName: z.string().nullish(), displayName: z.string().nullish() })
      .nullish(),
  }),
});
export type AzureGitPushEvent = z.infer<typeof AzureGitPushEvent>;
