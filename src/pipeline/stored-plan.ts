/**
 * A job's plan comes back from the store as JSON: checked here against PlannedBuild, so a row
 * written by another version (or edited by hand) fails with a named error, not half-way through
 * a StartBuild.
 */
import { z } from 'zod';
import { CodebuildRunError } from '../errors.js';
import type { PlannedBuild } from '../plan.js';

const Buildspec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('file'), path: z.string().min(1) }),
  z.object({ kind: z.literal('inline'), text: z.string().min(1) }),
  z.object({ kind: z.literal('project') }),
]);

const StoredPlan = z.object({
  planId: z.string().min(1),
  ruleName: z.string().min(1),
  projectName: z.string().min(1),
  statusContext: z.string().min(1),
  buildspec: Buildspec,
  overrides: z.object({
    image: z.string().optional(),
    computeType: z.string().optional(),
    privilegedMode: z.boolean().optional(),
    timeoutInMinutes: z.number().optional(),
    queuedTimeoutInMinutes: z.number().optional(),
  }),
  environmentVariables: z.array(
    z.object({
      name: z.string(),
      value: z.string(),
      type: z.enum(['PLAINTEXT', 'PARAMETER_STORE', 'SECRETS_MANAGER']),
    }),
  ),
  cancelSuperseded: z.boolean(),
  submodules: z.boolean(),
  lfs: z.boolean(),
});

/** Throws `pipeline.bad-plan` naming the job and the first bad key. */
export function readStoredPlan(jobId: string, plan: Record<string, unknown>): PlannedBuild {
  const parsed = StoredPlan.safeParse(plan);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : '(plan)';
  throw new CodebuildRunError(
    `job ${jobId}: the stored plan is not a planned build (${where}: ${issue?.message}); it was written by another version or edited: push again to plan it anew`,
    'pipeline.bad-plan',
  );
}
