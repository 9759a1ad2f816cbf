/** The parts of Bitbucket Data Center's `repo:refs_changed` body this driver reads. */
import { z } from 'zod';

const Sha = z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'expected a 40 or 64 digit hex sha');

const Link = z.object({ href: z.string(), name: z.string().optional() });

export const BitbucketDcChange = z
  .object({
    /** `ref.id` and `refId` both hold the full ref name; older versions send only `refId`. */
    ref: z.object({ id: z.string().min(1) }).optional(),
    refId: z.string().min(1).optional(),
    /** All zeros when the ref was created. */
    fromHash: Sha,
    /** All zeros when the ref was deleted; for an annotated tag, the tag object. */
    toHash: Sha,
    type: z.enum(['ADD', 'UPDATE', 'DELETE']),
  })
  .refine((change) => change.ref !== undefined || change.refId !== undefined, {
    message: 'expected ref.id or refId',
    path: ['ref', 'id'],
  });
export type BitbucketDcChange = z.infer<typeof BitbucketDcChange>;

export const BitbucketDcRepository = z.object({
  id: z.number().int(),
  slug: z.string().min(1),
  public: z.boolean().optional(),
  project: z.object({ key: z.string().min(1), public: z.boolean().optional() }),
  links: z.object({
    clone: z.array(Link),
    self: z.array(Link).optional(),
  }),
});
export type BitbucketDcRepository = z.infer<typeof BitbucketDcRepository>;

export const BitbucketDcPushPayload = z.object({
  actor: z.object({ slug: z.string().nullish(), name: z.string().nullish() }).nullish(),
  repository: BitbucketDcRepository,
  changes: z.array(BitbucketDcChange),
  /**
   * Newer versions also send the commit pushed to; read only for its message, so a shape this
   * driver does not expect counts as absent rather than failing the delivery.
   */
  toCommit: z.object({ id: z.string(), message: z.string().nullish() }).nullish().catch(null),
});
export type BitbucketDcPushPayload = z.infer<typeof BitbucketDcPushPayload>;
