import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planStart } from '../../action/request.js';
import { type RunnerContext, readRunnerContext } from '../../action/runner-context.js';
import { readSettings } from '../../action/settings.js';
import { toStartBuildInput } from '../../src/codebuild/index.js';

const dir = mkdtempSync(join(tmpdir(), 'action-request-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHA = 'c'.repeat(40);
const HEAD = 'd'.repeat(40);
const BUILDSPEC = 'version: 0.2\nphases:\n  build:\n    commands:\n      - make\n';

function context(env: Record<string, string> = {}): RunnerContext {
  return readRunnerContext({
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'org/app',
    GITHUB_SHA: SHA,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_WORKSPACE: dir,
    ...env,
  });
}

const plan = (inputs: Record<string, string>, ctx = context()) =>
  planStart(
    readSettings((name) => ({ 'project-name': 'app', ...inputs })[name] ?? '', {}),
    ctx,
  );

describe('planStart, source: github', () => {
  it("builds the workflow's commit with GitHub as the source location", async () => {
    const { request, batch, description } = await plan({ buildspec: 'ci/buildspec.yml' });
    const input = toStartBuildInput(request);
    expect(input).toMatchObject({
      projectName: 'app',
      sourceTypeOverride: 'GITHUB',
      sourceLocationOverride: 'https://github.com/org/app.git',
      sourceVersion: SHA,
      buildspecOverride: 'ci/buildspec.yml',
    });
    expect(input.idempotencyToken).toMatch(/^cbr-[0-9a-f]{48}$/);
    expect(input.environmentVariablesOverride).toBeUndefined();
    expect(batch).toBe(false);
    expect(description).toBe(
      `org/app at ${SHA.slice(0, 12)} (the workflow's commit) from https://github.com`,
    );
  });

  it('uses a GitHub Enterprise Server source on any other server', async () => {
    const { request } = await plan({}, context({ GITHUB_SERVER_URL: 'https://git.corp.example/' }));
    expect(request.sourceTypeOverride).toBe('GITHUB_ENTERPRISE');
    expect(request.sourceLocationOverride).toBe('https://git.corp.example/org/app.git');
  });

  it('builds the pull request head on pull_request, and source-version over both', async () => {
    const eventPath = join(dir, 'pr.json');
    writeFileSync(eventPath, JSON.stringify({ pull_request: { head: { sha: HEAD } } }));
    const pr = context({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: eventPath });
    expect((await plan({}, pr)).request.sourceVersion).toBe(HEAD);
    expect((await plan({ 'source-version': 'release/1.2' }, pr)).request.sourceVersion).toBe(
      'release/1.2',
    );
    const target = context({
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_EVENT_PATH: eventPath,
    });
    expect((await plan({}, target)).request.sourceVersion).toBe(SHA);
  });

  it('runs a batch build when the inline buildspec has a batch: section', async () => {
    const spec = `${BUILDSPEC}batch:\n  build-list:\n    - identifier: a\n`;
    const { batch, request } = await plan({ buildspec: spec });
    expect(batch).toBe(true);
    expect(request.buildspecOverride).toBe(spec);
  });

  it('peeks at the checked-out buildspec.yml for a batch: section', async () => {
    writeFileSync(join(dir, 'buildspec.yml'), `${BUILDSPEC}batch:\n  build-list: []\n`);
    try {
      expect((await plan({})).batch).toBe(true);
      expect((await plan({})).request.buildspecOverride).toBeUndefined();
    } finally {
      rmSync(join(dir, 'buildspec.yml'));
    }
  });

  it('refuses an inline buildspec CodeBuild would refuse, naming the line', async () => {
    await expect(
      plan({ buildspec: 'version: 0.2\nphases:\n  biuld:\n    commands: [make]\n' }),
    ).rejects.toThrow(/the buildspec input: line 3: phases.biuld: unknown key "biuld"/);
  });

  it('knows which exported variables hold secrets', async () => {
    const spec = `version: 0.2\nenv:\n  secrets-manager:\n    API_KEY: ci/api:key\n  parameter-store:\n    DB_URL: /ci/db\n  exported-variables: [API_KEY, DB_URL, PLAIN]\nphases:\n  build:\n    commands: [make]\n`;
    const { secretNames } = await plan({ buildspec: spec, secrets: 'NPM=ci/npm' });
    expect([...secretNames].sort()).toEqual(['API_KEY', 'DB_URL', 'NPM']);
  });
});

describe('planStart, source: clone', () => {
  it('sends NO_SOURCE with the clone step first and the token only as a reference', async () => {
    const { request, description } = await plan({
      source: 'clone',
      buildspec: BUILDSPEC,
      'clone-token-secret': 'ci/git:token',
      'env-vars': 'STAGE=prod',
    });
    const input = toStartBuildInput(request);
    expect(input.sourceTypeOverride).toBe('NO_SOURCE');
    expect(input.sourceLocationOverride).toBeUndefined();
    expect(input.buildspecOverride).toMatch(
      /install:\n\s+commands:\n\s+- \|\n\s+# codebuild-run: check out/,
    );
    expect(input.buildspecOverride).toContain('- make');
    const variables = Object.fromEntries(
      (input.environmentVariablesOverride ?? []).map((v) => [v.name, v]),
    );
    expect(variables.STAGE).toEqual({ name: 'STAGE', value: 'prod', type: 'PLAINTEXT' });
    expect(variables.CBR_CLONE_URL?.value).toBe('https://github.com/org/app.git');
    expect(variables.CBR_SHA?.value).toBe(SHA);
    expect(variables.CBR_REF?.value).toBe('refs/heads/main');
    expect(variables.CBR_AUTH_USER?.value).toBe('x-access-token');
    expect(variables.CBR_GIT_TOKEN).toEqual({
      name: 'CBR_GIT_TOKEN',
      value: 'ci/git:token',
      type: 'SECRETS_MANAGER',
    });
    expect(description).toBe(
      `cloning org/app at ${SHA.slice(0, 12)} (the workflow's commit) in a NO_SOURCE build`,
    );
  });

  it("reads the repository's buildspec.yml (or the named file) from the workspace", async () => {
    writeFileSync(join(dir, 'other.yml'), BUILDSPEC.replace('make', 'make other'));
    expect(
      (await plan({ source: 'clone', buildspec: 'other.yml' })).request.buildspecOverride,
    ).toContain('- make other');
    await expect(plan({ source: 'clone' })).rejects.toThrow(
      /buildspec: buildspec.yml is not in the workspace .* check the repository out first \(actions\/checkout\)/,
    );
    await expect(plan({ source: 'clone', buildspec: '../outside.yml' })).rejects.toThrow(
      /must be a path inside the repository/,
    );
  });

  it('needs a full commit sha and a branch or tag', async () => {
    await expect(
      plan({ source: 'clone', buildspec: BUILDSPEC, 'source-version': 'main' }),
    ).rejects.toThrow(/source-version "main": source: clone checks out an exact commit/);
    await expect(
      plan({ source: 'clone', buildspec: BUILDSPEC }, context({ GITHUB_REF: 'refs/pull/3/merge' })),
    ).rejects.toThrow(/GITHUB_REF "refs\/pull\/3\/merge" names neither/);
  });

  it('refuses variables named like the clone step’s own', async () => {
    await expect(
      plan({ source: 'clone', buildspec: BUILDSPEC, 'env-vars': 'CBR_SHA=x' }),
    ).rejects.toThrow(/CBR_SHA: names starting with CBR_ are used by the clone step/);
  });
});

describe('planStart, overrides', () => {
  it('passes compute type, image, privileged mode, timeout and typed variables to StartBuild', async () => {
    const { request } = await plan({
      source: 'project',
      'compute-type': 'BUILD_GENERAL1_LARGE',
      image: 'aws/codebuild/standard:7.0',
      'privileged-mode': 'false',
      'timeout-minutes': '90',
      secrets: 'NPM_TOKEN=ci/npm:token',
      parameters: 'STAGE=/ci/stage',
    });
    expect(toStartBuildInput(request)).toMatchObject({
      computeTypeOverride: 'BUILD_GENERAL1_LARGE',
      imageOverride: 'aws/codebuild/standard:7.0',
      privilegedModeOverride: false,
      timeoutInMinutesOverride: 90,
      environmentVariablesOverride: [
        { name: 'NPM_TOKEN', value: 'ci/npm:token', type: 'SECRETS_MANAGER' },
        { name: 'STAGE', value: '/ci/stage', type: 'PARAMETER_STORE' },
      ],
    });
  });
});

describe('planStart, source: project', () => {
  it('overrides no source and only the version asked for', async () => {
    const { request, description } = await plan({ source: 'project' });
    expect(request.sourceTypeOverride).toBeUndefined();
    expect(request.sourceLocationOverride).toBeUndefined();
    expect(request.sourceVersion).toBeUndefined();
    expect(description).toBe("the project's own source and version");
    expect((await plan({ source: 'project', 'source-version': 'v2' })).request.sourceVersion).toBe(
      'v2',
    );
  });
});
