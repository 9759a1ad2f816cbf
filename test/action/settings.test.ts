import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { classifyBuildspec, readSettings, SettingsError } from '../../action/settings.js';
import { repoRoot } from '../support/fixtures.js';

const read = (inputs: Record<string, string>, env: Record<string, string> = {}) => {
  const warnings: string[] = [];
  const settings = readSettings(
    (name) => inputs[name] ?? '',
    env,
    (w) => warnings.push(w),
  );
  return { settings, warnings };
};

function problemsOf(inputs: Record<string, string>, env: Record<string, string> = {}): string[] {
  try {
    read(inputs, env);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  throw new Error('expected a SettingsError');
}

describe('readSettings', () => {
  it("applies action.yml's defaults when inputs are empty", () => {
    const declared = (
      parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as {
        inputs: Record<string, { default?: string }>;
      }
    ).inputs;
    const fromYml = read(
      Object.fromEntries(
        Object.entries(declared).map(([name, spec]) => [
          name,
          name === 'project-name' ? 'app' : (spec.default ?? ''),
        ]),
      ),
    ).settings;
    const fromNothing = read({ 'project-name': 'app' }).settings;
    expect(fromNothing).toEqual(fromYml);
    expect(fromNothing).toMatchObject({
      source: 'github',
      wait: true,
      hideLogs: false,
      stopOnCancel: true,
      privilegedMode: undefined,
      timeoutInMinutes: undefined,
    });
  });

  it('reads variables from env-vars, secrets, parameters and forward-env, typed', () => {
    const { settings, warnings } = read(
      {
        'project-name': 'app',
        'env-vars': 'STAGE=prod\n# a comment\n\nURL=https://x.test/?a=b=c',
        secrets: 'DB_PASSWORD=ci/db:password',
        parameters: 'REGION_NAME=/ci/region',
        'forward-env': 'GITHUB_REF, RUNNER_OS\nMISSING_ONE',
      },
      { GITHUB_REF: 'refs/heads/main', RUNNER_OS: 'Linux' },
    );
    expect(settings.variables).toEqual([
      { name: 'STAGE', value: 'prod', type: 'PLAINTEXT' },
      { name: 'URL', value: 'https://x.test/?a=b=c', type: 'PLAINTEXT' },
      { name: 'DB_PASSWORD', value: 'ci/db:password', type: 'SECRETS_MANAGER' },
      { name: 'REGION_NAME', value: '/ci/region', type: 'PARAMETER_STORE' },
      { name: 'GITHUB_REF', value: 'refs/heads/main', type: 'PLAINTEXT' },
      { name: 'RUNNER_OS', value: 'Linux', type: 'PLAINTEXT' },
    ]);
    expect(warnings).toEqual([
      'forward-env: MISSING_ONE is not set on the runner, so the build does not get it',
    ]);
  });

  it('forwards no runner variable that is not named', () => {
    const { settings } = read({ 'project-name': 'app' }, { GITHUB_SHA: 'abc', HOME: '/root' });
    expect(settings.variables).toEqual([]);
  });

  it('refuses credentials in forward-env, naming the safe way instead', () => {
    const problems = problemsOf({
      'project-name': 'app',
      'forward-env': 'GITHUB_TOKEN ACTIONS_RUNTIME_TOKEN NPM_TOKEN MY_SECRET DB_PASSWORD',
    });
    expect(problems).toHaveLength(5);
    for (const name of [
      'GITHUB_TOKEN',
      'ACTIONS_RUNTIME_TOKEN',
      'NPM_TOKEN',
      'MY_SECRET',
      'DB_PASSWORD',
    ]) {
      expect(
        problems.some((p) => p.startsWith(`forward-env: ${name} looks like a credential`)),
      ).toBe(true);
    }
    expect(problems[0]).toContain('pass it with the secrets input instead');
  });

  it('refuses reserved, malformed and duplicate variable names, naming input and line', () => {
    const problems = problemsOf({
      'project-name': 'app',
      'env-vars': 'CODEBUILD_FOO=1\n2BAD=x\nno equals sign\nDUP=1',
      parameters: 'DUP=/p',
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^env-vars line 1: CODEBUILD_FOO: names starting with CODEBUILD_ are reserved/,
      ),
      expect.stringMatching(/^env-vars line 2: "2BAD" is not a variable name/),
      expect.stringMatching(/^env-vars line 3 is not NAME=value/),
      'parameters: DUP is already set by env-vars; keep one',
    ]);
  });

  it('refuses a token pasted where a Secrets Manager reference belongs', () => {
    const token = `ghp_${'a'.repeat(36)}`;
    const problems = problemsOf({
      'project-name': 'app',
      source: 'clone',
      'clone-token-secret': token,
      secrets: `GH=${token}`,
    });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^clone-token-secret looks like a token itself/);
    expect(problems[1]).toMatch(/^secrets: GH looks like a token itself/);
    expect(problems.join('\n')).not.toContain(token);
  });

  it('reports every bad input at once, each with the fix', () => {
    const problems = problemsOf({
      source: 'gitlab',
      'clone-token-secret': 'ci/token',
      'compute-type': 'HUGE',
      'timeout-minutes': '4',
      wait: 'yes',
    });
    expect(problems).toEqual([
      'project-name is required: set it to the name of the CodeBuild project to start',
      expect.stringMatching(/^source "gitlab" is not one of github, clone, project/),
      expect.stringMatching(
        /^compute-type "HUGE" is not a CodeBuild compute type: use one of .*BUILD_GENERAL1_SMALL/,
      ),
      'timeout-minutes "4" must be a whole number of minutes from 5 to 2160 (36 hours)',
      'wait "yes" must be true or false',
    ]);
  });

  it('refuses clone-token-secret with another source', () => {
    expect(problemsOf({ 'project-name': 'app', 'clone-token-secret': 'ci/token' })).toEqual([
      'clone-token-secret is only read with source: clone (source is github); remove it, or set source: clone',
    ]);
  });

  it('reads overrides', () => {
    const { settings } = read({
      'project-name': 'arn:aws:codebuild:eu-west-1:123456789012:project/app',
      'compute-type': 'BUILD_GENERAL1_LARGE',
      image: 'aws/codebuild/standard:7.0',
      'privileged-mode': 'true',
      'timeout-minutes': '2160',
      'hide-logs': 'TRUE',
    });
    expect(settings).toMatchObject({
      computeType: 'BUILD_GENERAL1_LARGE',
      image: 'aws/codebuild/standard:7.0',
      privilegedMode: true,
      timeoutInMinutes: 2160,
      hideLogs: true,
    });
  });
});

describe('classifyBuildspec', () => {
  it('takes YAML with lines or a version key as inline, anything else as a path', () => {
    expect(classifyBuildspec('version: 0.2\nphases: {}')).toEqual({
      kind: 'inline',
      text: 'version: 0.2\nphases: {}',
    });
    expect(classifyBuildspec('{version: 0.2, phases: {build: {commands: [make]}}}').kind).toBe(
      'inline',
    );
    expect(classifyBuildspec('ci/buildspec.yml')).toEqual({
      kind: 'path',
      path: 'ci/buildspec.yml',
    });
  });
});
