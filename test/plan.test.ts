import { describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../src/config.js';
import type { PushEvent } from '../src/forge/types.js';
import { type PlannedBuild, type PlanResult, planBuilds } from '../src/plan.js';

const HOSTS = [
  'hosts:',
  '  gh: { kind: github, webhookSecret: { env: GH_SECRET } }',
  '  gl: { kind: gitlab, webhookSecret: { env: GL_SECRET } }',
].join('\n');

/** A config of HOSTS and the rules given as YAML list items. */
function config(...rules: string[]): Config {
  return parseConfig(`${HOSTS}\nrules:\n${rules.map((r) => `  - ${r}`).join('\n')}`, 'test.yml');
}

const SHA = 'a'.repeat(40);

function push(overrides: Partial<PushEvent> = {}): PushEvent {
  const ref = overrides.ref ?? 'refs/heads/main';
  const tag = ref.startsWith('refs/tags/');
  return {
    host: 'github',
    deliveryId: 'delivery-1',
    repo: {
      fullName: 'acme/web',
      id: null,
      cloneUrl: 'https://github.com/acme/web.git',
      webUrl: 'https://github.com/acme/web',
      defaultBranch: 'main',
      private: false,
    },
    ref,
    refName: ref.replace(/^refs\/(heads|tags)\//, ''),
    refKind: tag ? 'tag' : 'branch',
    before: 'b'.repeat(40),
    sha: SHA,
    created: false,
    deleted: false,
    headCommitMessage: 'Fix the thing',
    changedPaths: { paths: ['src/app.ts'], truncated: false },
    pusher: 'dev',
    ...overrides,
  };
}

function builds(result: PlanResult): PlannedBuild[] {
  if ('skipped' in result) throw new Error(`expected builds, got skipped: ${result.skipped}`);
  return result.builds;
}

function skipped(result: PlanResult): string {
  if ('builds' in result) throw new Error(`expected skipped, got ${result.builds.length} builds`);
  return result.skipped;
}

describe('planBuilds: what one matching rule yields', () => {
  const cfg = config(
    [
      '{ name: ci, repos: ["acme/*"], project: acme-ci,',
      '  buildspec: { file: ci/buildspec.yml },',
      '  overrides: { image: "aws/codebuild/standard:7.0", timeoutInMinutes: 30 },',
      '  env: { STAGE: ci, PORT: 8080 }, secrets: { NPM_TOKEN: "ci/npm:token" },',
      '  parameters: { DB: /ci/db }, cancelSuperseded: true, submodules: true, lfs: true }',
    ].join('\n    '),
  );

  it('carries the rule into the build', () => {
    const [build, ...rest] = builds(planBuilds(cfg, 'gh', push()));
    expect(rest).toEqual([]);
    expect(build).toEqual({
      planId: expect.stringMatching(/^[0-9a-f]{64}$/),
      ruleName: 'ci',
      projectName: 'acme-ci',
      statusContext: 'codebuild/acme-ci',
      buildspec: { kind: 'file', path: 'ci/buildspec.yml' },
      overrides: { image: 'aws/codebuild/standard:7.0', timeoutInMinutes: 30 },
      environmentVariables: [
        { name: 'STAGE', value: 'ci', type: 'PLAINTEXT' },
        { name: 'PORT', value: '8080', type: 'PLAINTEXT' },
        { name: 'DB', value: '/ci/db', type: 'PARAMETER_STORE' },
        { name: 'NPM_TOKEN', value: 'ci/npm:token', type: 'SECRETS_MANAGER' },
      ],
      cancelSuperseded: true,
      submodules: true,
      lfs: true,
    });
  });

  it('gives the same push the same planId, and another push another', () => {
    const id = (c: Config, host: string, event: PushEvent) =>
      builds(planBuilds(c, host, event))[0]!.planId;
    const first = id(cfg, 'gh', push());
    expect(id(cfg, 'gh', push({ deliveryId: 'redelivered' }))).toBe(first);
    expect(id(cfg, 'gh', push({ headCommitMessage: 'edited' }))).toBe(first);
    const others = [
      id(cfg, 'gl', push()),
      id(cfg, 'gh', push({ sha: 'c'.repeat(40) })),
      id(cfg, 'gh', push({ ref: 'refs/heads/dev' })),
      id(cfg, 'gh', push({ repo: { ...push().repo, fullName: 'acme/api' } })),
      id(config('{ name: ci, repos: ["acme/*"], project: other }'), 'gh', push()),
      id(config('{ name: cd, repos: ["acme/*"], project: acme-ci }'), 'gh', push()),
    ];
    expect(new Set([first, ...others]).size).toBe(others.length + 1);
  });

  it('yields one build per matching rule, in config order', () => {
    const result = planBuilds(
      config(
        '{ name: test, repos: ["acme/*"], project: acme-test, context: ci/test }',
        '{ name: docs, repos: ["other/*"], project: docs }',
        '{ name: lint, repos: ["acme/web"], project: acme-lint, buildspec: { project: true } }',
      ),
      'gh',
      push(),
    );
    expect(
      builds(result).map((b) => [b.ruleName, b.projectName, b.statusContext, b.buildspec]),
    ).toEqual([
      ['test', 'acme-test', 'ci/test', { kind: 'file', path: 'buildspec.yml' }],
      ['lint', 'acme-lint', 'codebuild/acme-lint', { kind: 'project' }],
    ]);
  });

  it('refuses a host id that is not in the config', () => {
    expect(() => planBuilds(cfg, 'bb', push())).toThrow('no host "bb" in the config');
  });
});

describe('planBuilds: deleted refs', () => {
  const cfg = config('{ repos: ["**"], project: p1, tags: ["*"] }');
  it.each([
    ['refs/heads/feature/x', 'the branch feature/x was deleted; nothing to build'],
    ['refs/tags/v1.0', 'the tag v1.0 was deleted; nothing to build'],
  ])('skips the deletion of %s', (ref, reason) => {
    expect(skipped(planBuilds(cfg, 'gh', push({ ref, deleted: true, sha: null })))).toBe(reason);
  });
});

describe('planBuilds: skip markers in the head commit message', () => {
  const cfg = config('{ repos: ["**"], project: p1 }');
  it.each([
    ['Fix [skip ci]', '[skip ci]'],
    ['Fix [ci skip]', '[ci skip]'],
    ['Fix [no ci]', '[no ci]'],
    ['Fix [skip codebuild]', '[skip codebuild]'],
    ['Fix ***NO_CI***', '***NO_CI***'],
    ['[SKIP CI] shouting', '[SKIP CI]'],
    ['Fix [Skip-CI]', '[Skip-CI]'],
    ['Fix [skip_codebuild]', '[skip_codebuild]'],
    ['Subject\n\nBody text\n\nskip-checks: true', 'skip-checks: true'],
    ['Subject\n\nSigned-off-by: a <a@b.c>\nSkip-Checks:true\n', 'Skip-Checks:true'],
  ])('skips %j', (message, marker) => {
    expect(skipped(planBuilds(cfg, 'gh', push({ headCommitMessage: message })))).toBe(
      `the head commit message says ${marker}; nothing to build for acme/web refs/heads/main (set skipCi: false on a rule to build anyway)`,
    );
  });

  it.each([
    'Fix the skip ci logic',
    'Fix [skipci]',
    'skip-checks: true\n\nonly trailers in the last paragraph count',
    'skip-checks: false',
    '',
  ])('builds %j', (message) => {
    expect(builds(planBuilds(cfg, 'gh', push({ headCommitMessage: message })))).toHaveLength(1);
  });

  it('builds when there is no head commit message', () => {
    expect(builds(planBuilds(cfg, 'gh', push({ headCommitMessage: null })))).toHaveLength(1);
  });

  it('builds the rules with skipCi: false, and only them', () => {
    const result = planBuilds(
      config('{ repos: ["**"], project: p1 }', '{ repos: ["**"], project: p2, skipCi: false }'),
      'gh',
      push({ headCommitMessage: 'docs [skip ci]' }),
    );
    expect(builds(result).map((b) => b.projectName)).toEqual(['p2']);
  });
});

describe('planBuilds: refs', () => {
  it.each([
    // rule (YAML), ref, builds?
    ['{ repos: ["**"], project: p1 }', 'refs/heads/any/thing', true],
    ['{ repos: ["**"], project: p1 }', 'refs/tags/v1', false],
    ['{ repos: ["**"], project: p1, branches: [main] }', 'refs/heads/main', true],
    ['{ repos: ["**"], project: p1, branches: [main] }', 'refs/heads/mainline', false],
    ['{ repos: ["**"], project: p1, branches: ["release/*"] }', 'refs/heads/release/1.0', true],
    [
      '{ repos: ["**"], project: p1, branches: ["release/*"] }',
      'refs/heads/release/1.0/fix',
      false,
    ],
    [
      '{ repos: ["**"], project: p1, branches: ["release/**"] }',
      'refs/heads/release/1.0/fix',
      true,
    ],
    ['{ repos: ["**"], project: p1, branches: ["feat-{a,b}"] }', 'refs/heads/feat-b', true],
    ['{ repos: ["**"], project: p1, branches: ["**", "!wip/**"] }', 'refs/heads/wip/x', false],
    ['{ repos: ["**"], project: p1, branches: ["!wip/**"] }', 'refs/heads/feature/x', true],
    ['{ repos: ["**"], project: p1, branches: [Main] }', 'refs/heads/main', false],
    ['{ repos: ["**"], project: p1, branches: [], tags: ["v*"] }', 'refs/heads/main', false],
    ['{ repos: ["**"], project: p1, branches: [], tags: ["v*"] }', 'refs/tags/v2.1', true],
    ['{ repos: ["**"], project: p1, tags: ["v*"] }', 'refs/tags/release-2', false],
    ['{ repos: ["**"], project: p1, branches: ["v*"] }', 'refs/tags/v1', false],
  ])('%s and %s: builds %s', (rule, ref, expected) => {
    const result = planBuilds(config(rule), 'gh', push({ ref }));
    expect('builds' in result).toBe(expected);
  });
});

describe('planBuilds: repositories and hosts', () => {
  it.each([
    ['["acme/*"]', 'acme/web', true],
    ['["acme/*"]', 'Acme/Web', true],
    ['["acme/*"]', 'acme/tools/cli', false],
    ['["acme/tools/**"]', 'acme/tools/cli/sub', true],
    ['["acme/*", "!acme/legacy"]', 'acme/legacy', false],
    ['acme/web', 'acme/web2', false],
  ])('repos %s and %s: builds %s', (repos, fullName, expected) => {
    const result = planBuilds(
      config(`{ repos: ${repos}, project: p1 }`),
      'gh',
      push({ repo: { ...push().repo, fullName } }),
    );
    expect('builds' in result).toBe(expected);
  });

  it('builds only rules that listen to the host', () => {
    const cfg = config(
      '{ hosts: [gl], repos: ["**"], project: p1 }',
      '{ repos: ["**"], project: p2 }',
    );
    expect(builds(planBuilds(cfg, 'gh', push())).map((b) => b.projectName)).toEqual(['p2']);
    expect(builds(planBuilds(cfg, 'gl', push())).map((b) => b.projectName)).toEqual(['p1', 'p2']);
  });
});

describe('planBuilds: path filters', () => {
  const changed = (...paths: string[]) => ({ changedPaths: { paths, truncated: false } });
  it.each([
    ['paths: ["src/**"]', changed('docs/a.md', 'src/app.ts'), true],
    ['paths: ["src/**"]', changed('src/.eslintrc'), true],
    ['paths: ["src/**"]', changed('docs/a.md', 'README.md'), false],
    ['ignorePaths: ["docs/**"]', changed('docs/a.md', 'docs/b.md'), false],
    ['ignorePaths: ["docs/**"]', changed('docs/a.md', 'src/app.ts'), true],
    ['paths: ["src/**"], ignorePaths: ["**/*.md"]', changed('src/README.md', 'other.txt'), false],
    ['paths: ["src/**"], ignorePaths: ["**/*.md"]', changed('src/README.md', 'src/a.ts'), true],
    ['paths: ["src/**", "!src/gen/**"]', changed('src/gen/x.ts'), false],
    // Fail open: the host did not say what changed, or said only part of it.
    ['paths: ["src/**"]', { changedPaths: null }, true],
    ['paths: ["src/**"]', { changedPaths: { paths: ['docs/a.md'], truncated: true } }, true],
    ['paths: ["src/**"]', changed(), true],
    ['ignorePaths: ["**"]', { changedPaths: null }, true],
  ])('%s with %j: builds %s', (filters, event, expected) => {
    const result = planBuilds(
      config(`{ repos: ["**"], project: p1, ${filters} }`),
      'gh',
      push(event),
    );
    expect('builds' in result).toBe(expected);
  });
});

describe('planBuilds: why nothing is built', () => {
  it.each([
    [
      'a branch the rule does not want',
      ['{ name: ci, repos: ["acme/*"], project: p1, branches: [main, "release/*"] }'],
      push({ ref: 'refs/heads/feature/x' }),
      'no rule matched acme/web refs/heads/feature/x: rule "ci" wants branches main, release/*',
    ],
    [
      'a tag when the rule builds none',
      ['{ name: ci, repos: ["acme/*"], project: p1 }'],
      push({ ref: 'refs/tags/v1' }),
      'no rule matched acme/web refs/tags/v1: rule "ci" builds no tags (add tags: ["*"] to build them)',
    ],
    [
      'a branch when the rule builds only tags',
      ['{ name: rel, repos: ["acme/*"], project: p1, branches: [], tags: ["v*"] }'],
      push(),
      'no rule matched acme/web refs/heads/main: rule "rel" builds no branches',
    ],
    [
      'a tag the rule does not want',
      ['{ name: rel, repos: ["acme/*"], project: p1, tags: ["v*"] }'],
      push({ ref: 'refs/tags/nightly' }),
      'no rule matched acme/web refs/tags/nightly: rule "rel" wants tags v*',
    ],
    [
      'only the rules for the repository, not the others',
      [
        '{ name: docs, repos: ["acme/docs"], project: p0 }',
        '{ name: ci, repos: ["acme/*"], project: p1, branches: [main] }',
        '{ name: cd, repos: ["acme/*"], project: p2, tags: ["v*"], branches: [] }',
      ],
      push({ ref: 'refs/heads/dev' }),
      'no rule matched acme/web refs/heads/dev: rule "ci" wants branches main; rule "cd" builds no branches',
    ],
    [
      'changed paths no rule wants',
      ['{ name: ci, repos: ["acme/*"], project: p1, paths: ["src/**"] }'],
      push({ changedPaths: { paths: ['a.md', 'b.md', 'c.md', 'd.md', 'e.md'], truncated: false } }),
      'no rule matched acme/web refs/heads/main: rule "ci" wants paths src/** (changed: a.md, b.md, c.md and 2 more)',
    ],
    [
      'changed paths all ignored',
      ['{ name: ci, repos: ["acme/*"], project: p1, ignorePaths: ["docs/**"] }'],
      push({ changedPaths: { paths: ['docs/a.md'], truncated: false } }),
      'no rule matched acme/web refs/heads/main: rule "ci" ignores paths docs/** (changed: docs/a.md)',
    ],
    [
      'a skip marker next to another near miss',
      [
        '{ name: ci, repos: ["acme/*"], project: p1 }',
        '{ name: nightly, repos: ["acme/*"], project: p2, branches: [nightly], skipCi: false }',
      ],
      push({ headCommitMessage: 'wip [skip ci]' }),
      'no rule matched acme/web refs/heads/main: the head commit message says [skip ci]; rule "nightly" wants branches nightly',
    ],
    [
      'a repository no rule covers',
      [
        '{ name: a, repos: ["acme/api"], project: p1 }',
        '{ name: b, repos: ["acme/cli", "acme/lib"], project: p2 }',
        '{ name: c, repos: ["other/*"], project: p3 }',
        '{ name: d, repos: ["more/*"], project: p4 }',
      ],
      push(),
      'no rule matched acme/web refs/heads/main: rule "a" wants repos acme/api; rule "b" wants repos acme/cli, acme/lib; rule "c" wants repos other/*; and 1 more rules',
    ],
    [
      'a host no rule listens to',
      ['{ name: ci, hosts: [gl], repos: ["acme/*"], project: p1 }'],
      push(),
      'no rule matched acme/web refs/heads/main: no rule listens to host "gh" (rule "ci" listens to hosts gl)',
    ],
  ])('%s', (_, rules, event, reason) => {
    expect(skipped(planBuilds(config(...rules), 'gh', event))).toBe(reason);
  });
});
