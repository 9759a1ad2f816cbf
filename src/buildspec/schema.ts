/**
 * Buildspec 0.2 as CodeBuild documents it. Strict at the keys CodeBuild reads (an unknown key is
 * almost always a typo that CodeBuild would reject), loose inside sections this project only
 * passes through (reports, artifacts, cache, batch, proxy).
 */
import { z } from 'zod';

export const PHASE_NAMES = ['install', 'pre_build', 'build', 'post_build'] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** ABORT, CONTINUE, RETRY, RETRY-<n>, RETRY-<regex>, RETRY-<n>-<regex>. */
export const OnFailure = z.string().regex(/^(ABORT|CONTINUE|RETRY(-\d+)?(-.+)?)$/, {
  message: 'must be ABORT, CONTINUE, RETRY, RETRY-<n>, RETRY-<regex> or RETRY-<n>-<regex>',
});

const Command = z
  .union([z.string(), z.number(), z.boolean()], {
    message: 'a command must be a string',
  })
  .transform(String);

export const BuildspecPhase = z
  .object({
    'run-as': z.string().optional(),
    'on-failure': OnFailure.optional(),
    'runtime-versions': z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    commands: z.array(Command, { message: 'commands must be a list of commands' }),
    finally: z.array(Command, { message: 'finally must be a list of commands' }).optional(),
  })
  .strict();
export type BuildspecPhase = z.infer<typeof BuildspecPhase>;

const Scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const BuildspecEnv = z
  .object({
    shell: z.enum(['bash', '/bin/sh'], { message: 'env.shell must be bash or /bin/sh' }).optional(),
    variables: z.record(z.string(), Scalar).optional(),
    'parameter-store': z.record(z.string(), z.string()).optional(),
    'secrets-manager': z.record(z.string(), z.string()).optional(),
    'exported-variables': z.array(z.string()).optional(),
    'git-credential-helper': z.union([z.enum(['yes', 'no']), z.boolean()]).optional(),
  })
  .strict();
export type BuildspecEnv = z.infer<typeof BuildspecEnv>;

const Section = z.record(z.string(), z.unknown());

export const Buildspec = z
  .object({
    version: z.union([z.number(), z.string()]).transform(String),
    'run-as': z.string().optional(),
    env: BuildspecEnv.optional(),
    proxy: Section.optional(),
    batch: Section.optional(),
    phases: z
      .object({
        install: BuildspecPhase.optional(),
        pre_build: BuildspecPhase.optional(),
        build: BuildspecPhase.optional(),
        post_build: BuildspecPhase.optional(),
      })
      .strict()
      .optional(),
    reports: Section.optional(),
    artifacts: Section.optional(),
    cache: Section.optional(),
  })
  .strict();
export type Buildspec = z.infer<typeof Buildspec>;
