/** A rule: which pushes (repos, refs, paths) start which CodeBuild project, and how. */
import { ComputeType } from '@aws-sdk/client-codebuild';
import { z } from 'zod';
import { GLOB_EXAMPLES, type GlobField, globProblem } from './globs.js';
import { looksLikeToken } from './secret-reference.js';
import { ENV_NAME, fail, referenceProblem } from './zod-helpers.js';

/** A glob or a list of globs; numbers are refused because YAML turns `1.10` into 1.1. */
function globList(field: GlobField) {
  const example = GLOB_EXAMPLES[field];
  return z.preprocess(
    (value) => (typeof value === 'string' ? [value] : value),
    z
      .array(z.string({ error: `each glob must be text; put it in quotes, e.g. ${example}` }), {
        error: `must be a glob or a list of globs, e.g. ${example}`,
      })
      .superRefine((globs, ctx) => {
        globs.forEach((glob, index) => {
          const problem = globProblem(glob, field);
          if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [index] });
        });
      }),
  );
}

export type BuildspecSource =
  | { kind: 'file'; path: string }
  | { kind: 'inline'; text: string }
  | { kind: 'project' };

const BUILDSPEC_FIX =
  'write buildspec: { file: buildspec.yml }, { inline: "version: 0.2 ..." } or { project: true }';

/** `{ file }` (read from the repository at the pushed sha), `{ inline }`, or `{ project: true }`. */
const BuildspecChoice = z
  .unknown()
  .optional()
  .transform((value, ctx): BuildspecSource => {
    if (value === undefined || value === null) return { kind: 'file', path: 'buildspec.yml' };
    if (typeof value === 'string' && !value.includes('\n')) value = { file: value };
    if (typeof value !== 'object' || Array.isArray(value))
      return fail(ctx, `must be a choice: ${BUILDSPEC_FIX}`);
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    const unknown = keys.find((k) => k !== 'file' && k !== 'inline' && k !== 'project');
    if (unknown) return fail(ctx, `unknown key "${unknown}": ${BUILDSPEC_FIX}`, [unknown]);
    if (keys.length !== 1)
      return fail(ctx, `give exactly one of file, inline or project: ${BUILDSPEC_FIX}`);
    if ('project' in record) {
      if (record.project !== true) {
        return fail(
          ctx,
          "project: true uses the CodeBuild project's own buildspec; remove it to read buildspec.yml",
          ['project'],
        );
      }
      return { kind: 'project' };
    }
    if ('inline' in record) {
      if (typeof record.inline !== 'string' || record.inline.trim() === '') {
        return fail(
          ctx,
          'must be the buildspec text, e.g. inline: |\n  version: 0.2\n  phases: ...',
          ['inline'],
        );
      }
      return { kind: 'inline', text: record.inline };
    }
    const path = record.file;
    if (typeof path !== 'string' || path.trim() === '') {
      return fail(ctx, 'must be a path in the repository, e.g. file: ci/buildspec.yml', ['file']);
    }
    const clean = path.replace(/^\.\/+/, '');
    if (clean.startsWith('/') || clean.split('/').includes('..')) {
      return fail(
        ctx,
        'must be a path inside the repository, relative to its root, e.g. ci/buildspec.yml',
        ['file'],
      );
    }
    return { kind: 'file', path: clean };
  });

const COMPUTE_TYPES = Object.values(ComputeType) as [string, ...string[]];

const Overrides = z.strictObject({
  /** The build image, e.g. aws/codebuild/standard:7.0 or an ECR image URI. */
  image: z
    .string({ error: 'must be an image, e.g. image: aws/codebuild/standard:7.0' })
    .min(1)
    .optional(),
  /** BUILD_GENERAL1_SMALL … 2XLARGE, BUILD_LAMBDA_*, ATTRIBUTE_BASED_COMPUTE, CUSTOM_INSTANCE_TYPE. */
  computeType: z
    .enum(COMPUTE_TYPES, { error: `must be one of ${COMPUTE_TYPES.join(', ')}` })
    .optional(),
  /** Needed to run Docker inside the build. */
  privilegedMode: z.boolean({ error: 'must be true or false' }).optional(),
  /** Build timeout, 5 to 2160 minutes. */
  timeoutInMinutes: z
    .int({ error: 'must be a whole number of minutes from 5 to 2160' })
    .min(5, { error: 'must be a whole number of minutes from 5 to 2160' })
    .max(2160, { error: 'must be a whole number of minutes from 5 to 2160 (36 hours)' })
    .optional(),
  /** How long the build may wait in the queue, 5 to 480 minutes. */
  queuedTimeoutInMinutes: z
    .int({ error: 'must be a whole number of minutes from 5 to 480' })
    .min(5, { error: 'must be a whole number of minutes from 5 to 480' })
    .max(480, { error: 'must be a whole number of minutes from 5 to 480 (8 hours)' })
    .optional(),
});

/** PLAINTEXT values: text, whole numbers and booleans; `1.10` must be quoted to stay `1.10`. */
const PlainValue = z
  .union([z.string(), z.int(), z.boolean()], {
    error: 'must be text; quote it so YAML keeps it as written, e.g. VERSION: "1.10"',
  })
  .transform(String)
  .superRefine((value, ctx) => {
    if (looksLikeToken(value)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'this looks like a token: env values are PLAINTEXT, readable by anyone who can see the build; store it in Secrets Manager and list it under secrets: instead',
      });
    }
  });

const SecretValue = z
  .string({ error: 'must be a Secrets Manager reference, e.g. NPM_TOKEN: "ci/npm:token"' })
  .superRefine((reference, ctx) => {
    const problem = referenceProblem(reference);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * Build variable names: shell names, and not CodeBuild's reserved CODEBUILD_ prefix (StartBuild
 * refuses those overrides) nor CBR_, which the clone step uses for its own variables.
 */
const VariableName = z.string().superRefine((name, ctx) => {
  const upper = name.toUpperCase();
  const message = !ENV_NAME.test(name)
    ? 'is not a variable name: use letters, digits and _, not starting with a digit'
    : upper.startsWith('CODEBUILD_')
      ? 'names starting with CODEBUILD_ are reserved by CodeBuild, which refuses them as overrides: rename it'
      : upper.startsWith('CBR_')
        ? "names starting with CBR_ are reserved for codebuild-run's clone step: rename it"
        : null;
  if (message) ctx.addIssue({ code: 'custom', message });
});

function variables<T extends z.ZodType>(value: T, example: string) {
  return z.record(VariableName, value, {
    error: `must be a map of NAME: value, e.g. ${example}`,
  });
}

export const RuleSchema = z
  .strictObject(
    {
      /** Names the rule in logs and skip reasons; default: the project. Unique. */
      name: z.string({ error: 'must be text, e.g. name: ci' }).min(1).optional(),
      /** Host ids the rule listens to; default every host. */
      hosts: z
        .preprocess(
          (value) => (typeof value === 'string' ? [value] : value),
          z
            .array(z.string(), { error: 'must be a list of host ids, e.g. hosts: [github]' })
            .min(1, {
              error: 'an empty list matches no host: remove hosts to listen to every host',
            }),
        )
        .optional(),
      /** Globs on the repository full name (`owner/name`, GitLab `group/sub/name`), case-insensitive. */
      repos: globList('repos'),
      /** The CodeBuild project to start. */
      project: z
        .string({ error: 'must be the name of a CodeBuild project, e.g. project: my-app-ci' })
        .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/, {
          error:
            'must be a CodeBuild project name: 2 to 255 letters, digits, - and _, e.g. my-app-ci',
        }),
      /** Branch globs (short names); default every branch; [] builds no branch. */
      branches: globList('branches').optional(),
      /** Tag globs (short names); default no tag. */
      tags: globList('tags').optional(),
      /**
       * Build only when a changed path matches `paths` (default: any path) and not `ignorePaths`.
       * When the host does not list every changed path, the rule builds (fails open).
       */
      paths: globList('paths').optional(),
      ignorePaths: globList('ignorePaths').optional(),
      /** Honour [skip ci] and its variants in the head commit message. */
      skipCi: z.boolean({ error: 'must be true or false' }).optional(),
      /** { file: <path> } (default buildspec.yml), { inline: <text> } or { project: true }. */
      buildspec: BuildspecChoice,
      /** StartBuild overrides of the project's environment and timeouts. */
      overrides: Overrides.optional(),
      /** PLAINTEXT variables: readable by anyone who can see the build; never put secrets here. */
      env: variables(PlainValue, 'env: { STAGE: ci }').optional(),
      /** SECRETS_MANAGER variables, resolved and masked by CodeBuild: NAME: secret-id[:json-key]. */
      secrets: variables(SecretValue, 'secrets: { NPM_TOKEN: "ci/npm:token" }').optional(),
      /** PARAMETER_STORE variables: NAME: /parameter/name. */
      parameters: variables(
        z
          .string({ error: 'must be a parameter name, e.g. /ci/stage' })
          .regex(/^\S+$/, { error: 'must be a parameter name without spaces, e.g. /ci/stage' }),
        'parameters: { STAGE: /ci/stage }',
      ).optional(),
      /** The commit status name; default codebuild/<project>. */
      context: z.string({ error: 'must be text, e.g. context: codebuild/ci' }).min(1).optional(),
      /** Stop a running build of the same branch and rule when a newer push arrives. */
      cancelSuperseded: z.boolean({ error: 'must be true or false' }).optional(),
      /** Clone submodules too. */
      submodules: z.boolean({ error: 'must be true or false' }).optional(),
      /** Fetch Git LFS objects too. */
      lfs: z.boolean({ error: 'must be true or false' }).optional(),
    },
    { error: 'each rule must be a mapping, e.g. - { repos: ["acme/*"], project: acme-ci }' },
  )
  .transform((rule) => ({
    name: rule.name ?? rule.project,
    hosts: rule.hosts ?? null,
    repos: rule.repos,
    project: rule.project,
    branches: rule.branches ?? null,
    tags: rule.tags ?? [],
    paths: rule.paths ?? null,
    ignorePaths: rule.ignorePaths ?? [],
    skipCi: rule.skipCi ?? true,
    buildspec: rule.buildspec,
    overrides: rule.overrides ?? {},
    env: rule.env ?? {},
    secrets: rule.secrets ?? {},
    parameters: rule.parameters ?? {},
    context: rule.context ?? `codebuild/${rule.project}`,
    cancelSuperseded: rule.cancelSuperseded ?? false,
    submodules: rule.submodules ?? false,
    lfs: rule.lfs ?? false,
  }));
