/**
 * prepareStartBuild: the StartBuild request a planned build sends, which `explain` prints. The
 * repository reader and the BatchGetProjects answer are hand-written fakes at their interfaces.
 */
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { BatchGetProjectsCommand } from '@aws-sdk/client-codebuild';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { type ReadFileArgs, RepoReadError } from '../../src/git/read-file.js';
import { planBuilds } from '../../src/plan.js';
import { type PrepareDeps, prepareStartBuild } from '../../src/trigger.js';
import { type Harness, hexSha, pushEvent, startHarness, waitFor } from './harness.js';

const TOKEN = 'server-api-token-1';
const SPEC = 'version: 0.2\nphases:\n  build:\n    commands:\n      - npm test # the tests\n';

function configWith(buildspec: string, extra: string[] = []) {
  return parseConfig(
    [
      'hosts:',
      '  gh: { kind: github, apiToken: { env: GH_TOKEN }, cloneToken: "ci/github:token" }',
      'rules:',
      '  - name: ci',
      '    repos: ["octo/*"]',
      '    project: demo',
      `    buildspec: ${buildspec}`,
      ...extra.map((line) => `    ${line}`),
    ].join('\n'),
    'test config',
  );
}

interface Fakes {
  reads: ReadFileArgs[];
  /** The shas resolveCommit was asked about. */
  resolved?: string[];
  /** Annotated tag object → its commit, as the repository would answer. */
  tagCommits?: Record<string, string>;
  files: Record<string, string>;
  projectBuildspec?: string;
  tokens: string[];
  invalidations: number;
}

function depsFor(config: ReturnType<typeof configWith>, fakes: Fakes): PrepareDeps {
  return {
    config,
    codebuild: {
      send: async (command: unknown) => {
        if (!(command instanceof BatchGetProjectsCommand)) throw new Error('unexpected call');
        return fakes.projectBuildspec === undefined
          ? { projects: [], projectsNotFound: ['demo'] }
          : {
              projects: [
                { name: 'demo', source: { type: 'NO_SOURCE', buildspec: fakes.projectBuildspec } },
              ],
            };
      },
    } as unknown as CodeBuildClient,
    repoFiles: {
      readFile: async (args) => {
        fakes.reads.push(args);
        const text = fakes.files[args.path];
        return text ?? null;
      },
      resolveCommit: async (args) => {
        fakes.resolved?.push(args.sha);
        return fakes.tagCommits?.[args.sha] ?? args.sha;
      },
    },
    secrets: {
      resolve: async () => fakes.tokens[Math.min(fakes.invalidations, fakes.tokens.length - 1)]!,
      invalidate: () => {
        fakes.invalidations++;
      },
    },
  };
}

function planFor(config: ReturnType<typeof configWith>, sha: string) {
  const event = pushEvent(sha);
  const result = planBuilds(config, 'gh', event);
  if (!('builds' in result)) throw new Error(result.skipped);
  return { event, plan: result.builds[0]! };
}

const basic = (token: string) =>
  `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;

describe('prepareStartBuild', () => {
  it('reads the buildspec file at the pushed sha with the API token, and injects the clone step', async () => {
    const config = configWith('{ file: ci/buildspec.yml }', [
      'overrides: { image: "aws/codebuild/standard:7.0", computeType: BUILD_GENERAL1_MEDIUM, timeoutInMinutes: 30 }',
    ]);
    const fakes: Fakes = {
      reads: [],
      files: { 'ci/buildspec.yml': SPEC },
      tokens: [TOKEN],
      invalidations: 0,
    };
    const sha = hexSha(40);
    const { event, plan } = planFor(config, sha);
    const request = await prepareStartBuild(depsFor(config, fakes), 'gh', event, plan);

    expect(fakes.reads).toEqual([
      {
        cloneUrl: 'https://github.com/octo/app.git',
        sha,
        path: 'ci/buildspec.yml',
        authHeader: basic(TOKEN),
      },
    ]);
    expect(request).toMatchObject({
      projectName: 'demo',
      sourceTypeOverride: 'NO_SOURCE',
      image: 'aws/codebuild/standard:7.0',
      computeType: 'BUILD_GENERAL1_MEDIUM',
      timeoutInMinutes: 30,
      idempotency: { repo: 'octo/app', sha, deliveryId: event.deliveryId },
      routing: {
        hostId: 'gh',
        host: 'github',
        repo: 'octo/app',
        repoId: null,
        sha,
        context: 'codebuild/demo',
        planId: plan.planId,
      },
    });
    // The user's text survives, comment included, after the clone step.
    expect(request.buildspecOverride).toContain('- npm test # the tests');
    expect(request.buildspecOverride!.indexOf('check out the pushed commit')).toBeLessThan(
      request.buildspecOverride!.indexOf('npm test'),
    );
    expect(request.environmentVariables).toContainEqual({
      name: 'CBR_GIT_TOKEN',
      value: 'ci/github:token',
      type: 'SECRETS_MANAGER',
    });
    expect(JSON.stringify(request)).not.toContain(TOKEN);
  });

  it('re-reads the API token once when the host refuses it for the file read', async () => {
    const config = configWith('{ file: buildspec.yml }');
    const fakes: Fakes = {
      reads: [],
      files: {},
      tokens: ['old-token', 'new-token'],
      invalidations: 0,
    };
    const deps = depsFor(config, fakes);
    deps.repoFiles = {
      ...deps.repoFiles,
      readFile: async (args) => {
        fakes.reads.push(args);
        if (args.authHeader === basic('old-token')) {
          throw new RepoReadError('refused the credentials', 'git.unauthorized', args.cloneUrl);
        }
        return SPEC;
      },
    };
    const { event, plan } = planFor(config, hexSha(41));
    const request = await prepareStartBuild(deps, 'gh', event, plan);

    expect(fakes.invalidations).toBe(1);
    expect(fakes.reads.map((r) => r.authHeader)).toEqual([basic('old-token'), basic('new-token')]);
    expect(request.buildspecOverride).toContain('npm test');
  });

  it("uses the project's own inline buildspec, or reads the path it names from the repository", async () => {
    const config = configWith('{ project: true }');
    const { event, plan } = planFor(config, hexSha(42));
    const inline: Fakes = {
      reads: [],
      files: {},
      projectBuildspec: SPEC,
      tokens: [TOKEN],
      invalidations: 0,
    };
    const fromProject = await prepareStartBuild(depsFor(config, inline), 'gh', event, plan);
    expect(inline.reads).toEqual([]);
    expect(fromProject.buildspecOverride).toContain('npm test');

    const path: Fakes = {
      reads: [],
      files: { 'ci/spec.yml': SPEC.replace('npm test', 'make all') },
      projectBuildspec: './ci/spec.yml',
      tokens: [TOKEN],
      invalidations: 0,
    };
    const fromRepo = await prepareStartBuild(depsFor(config, path), 'gh', event, plan);
    expect(path.reads.map((r) => r.path)).toEqual(['ci/spec.yml']);
    expect(fromRepo.buildspecOverride).toContain('make all');
  });

  it('builds and reports on the commit of an annotated tag the host sent as the tag object', async () => {
    const config = parseConfig(
      [
        'hosts:',
        '  gh: { kind: github, apiToken: { env: GH_TOKEN }, cloneToken: "ci/github:token" }',
        '  dc:',
        '    kind: bitbucket-dc',
        '    apiUrl: https://bitbucket.example.com',
        '    apiToken: { env: DC_TOKEN }',
        '    cloneToken: "ci/dc:token"',
        'rules:',
        '  - { name: ci, repos: ["octo/*"], project: demo, tags: ["v*"], buildspec: { file: buildspec.yml } }',
      ].join('\n'),
      'test config',
    );
    const tagObject = hexSha(50);
    const commit = hexSha(51);
    const fakes: Fakes = {
      reads: [],
      resolved: [],
      tagCommits: { [tagObject]: commit },
      files: { 'buildspec.yml': SPEC },
      tokens: [TOKEN],
      invalidations: 0,
    };
    const tagPush = (host: 'github' | 'bitbucket-dc') => {
      const event = { ...pushEvent(tagObject), host, ref: 'refs/tags/v1.0', refName: 'v1.0' };
      event.refKind = 'tag';
      const result = planBuilds(config, host === 'github' ? 'gh' : 'dc', event);
      if (!('builds' in result)) throw new Error(result.skipped);
      return { event, plan: result.builds[0]! };
    };
    const dc = tagPush('bitbucket-dc');
    const request = await prepareStartBuild(depsFor(config, fakes), 'dc', dc.event, dc.plan);

    expect(fakes.resolved).toEqual([tagObject]);
    expect(fakes.reads.map((r) => [r.sha, r.authHeader])).toEqual([[commit, `Bearer ${TOKEN}`]]);
    expect(request.environmentVariables).toContainEqual({
      name: 'CBR_SHA',
      value: commit,
      type: 'PLAINTEXT',
    });
    expect(request.routing?.sha).toBe(commit);
    // A redelivery of the same push dedupes on what the host sent.
    expect(request.idempotency?.sha).toBe(tagObject);

    // GitHub sends the commit for a tag: nothing to ask.
    const gh = tagPush('github');
    await prepareStartBuild(depsFor(config, fakes), 'gh', gh.event, gh.plan);
    expect(fakes.resolved).toEqual([tagObject]);
  });

  it('refuses a project buildspec kept in S3, naming the fix', async () => {
    const config = configWith('{ project: true }');
    const { event, plan } = planFor(config, hexSha(43));
    const fakes: Fakes = {
      reads: [],
      files: {},
      projectBuildspec: 'arn:aws:s3:::bucket/buildspec.yml',
      tokens: [TOKEN],
      invalidations: 0,
    };
    await expect(prepareStartBuild(depsFor(config, fakes), 'gh', event, plan)).rejects.toThrow(
      /keeps its buildspec in S3.*set buildspec: \{ file: … \} in rule "ci"/,
    );
  });
});

describe('a buildspec the user must fix', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  async function finalStatusWith(files: Record<string, string>): Promise<string[][]> {
    h = await startHarness({ buildspec: '{ file: ci/buildspec.yml }' });
    h.deps.repoFiles = { ...h.deps.repoFiles, readFile: async (args) => files[args.path] ?? null };
    const [job] = h.push(hexSha(44));
    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');
    expect(h.fake.count('StartBuild')).toBe(0);
    return h.statuses().map((s) => [s.state, s.description]);
  }

  it('posts an error naming the missing file and the rule', async () => {
    expect(await finalStatusWith({})).toEqual([
      [
        'error',
        `ci/buildspec.yml not found at ${hexSha(44).slice(0, 7)}: add it to the repository, or set buildspec in rule "ci"`,
      ],
    ]);
  });

  it('posts an error naming the line of a broken buildspec', async () => {
    const [[state, description]] = (await finalStatusWith({
      'ci/buildspec.yml': 'version: 0.2\nphases:\n  build:\n    comands: [make]\n',
    })) as [[string, string]];
    expect(state).toBe('error');
    expect(description).toMatch(/^ci\/buildspec\.yml: line 3: phases\.build/);
  });
});
