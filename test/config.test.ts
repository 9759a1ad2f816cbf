import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, 'config.yml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** A valid config with one host, to which a case appends a rule or host lines. */
const HOST = [
  'hosts:',
  '  gh:',
  '    kind: github',
  '    webhookSecret: { env: GH_WEBHOOK_SECRET }',
].join('\n');

const RULES = '\nrules: [{ repos: a/b, project: p1 }]';

function withRule(...lines: string[]): string {
  return [HOST, 'rules:', '  - repos: ["acme/*"]', ...lines.map((l) => `    ${l}`)].join('\n');
}

describe('parseConfig: a valid config', () => {
  const full = [
    'region: eu-west-1',
    'publicUrl: https://ci.example.com/',
    'hosts:',
    '  gh:',
    '    kind: github',
    '    webhookSecret: { secretsManager: "codebuild-run/gh:webhook" }',
    '    previousWebhookSecret: { env: GH_WEBHOOK_SECRET_OLD }',
    '    apiToken: { secretsManager: "codebuild-run/gh:token" }',
    '    cloneToken: "codebuild-run/gh:token"',
    '  gt:',
    '    kind: gitea',
    '    apiUrl: https://gitea.example.com/api/v1/',
    '    webhookSecret: { env: GITEA_WEBHOOK_SECRET }',
    '    cloneToken: { secretsManager: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ci/gitea-AbCdEf:token" }',
    '    account: ci-bot',
    'rules:',
    '  - name: ci',
    '    hosts: [gh]',
    '    repos: ["acme/*", "acme/tools/**"]',
    '    project: acme-ci',
    '    branches: [main, "release/*"]',
    '    tags: "v*"',
    '    paths: ["src/**"]',
    '    ignorePaths: ["src/**/*.md"]',
    '    skipCi: false',
    '    buildspec: { inline: "version: 0.2\\nphases:\\n  build:\\n    commands: [make]\\n" }',
    '    overrides: { image: "aws/codebuild/standard:7.0", computeType: BUILD_GENERAL1_LARGE, privilegedMode: true, timeoutInMinutes: 60, queuedTimeoutInMinutes: 30 }',
    '    env: { STAGE: ci, PORT: 8080, DEBUG: true }',
    '    secrets: { NPM_TOKEN: "ci/npm:token" }',
    '    parameters: { DB_HOST: /ci/db-host }',
    '    context: ci/acme',
    '    cancelSuperseded: true',
    '    submodules: true',
    '    lfs: true',
    '  - repos: acme/docs',
    '    project: acme-docs',
  ].join('\n');

  it('reads every key, as written', () => {
    const config = parseConfig(full, 'config.yml');
    expect(config.region).toBe('eu-west-1');
    expect(config.publicUrl).toBe('https://ci.example.com');
    expect(config.hosts.gh).toEqual({
      kind: 'github',
      apiUrl: null,
      webhookSecret: { from: 'secretsManager', reference: 'codebuild-run/gh:webhook' },
      previousWebhookSecret: { from: 'env', name: 'GH_WEBHOOK_SECRET_OLD' },
      apiToken: { from: 'secretsManager', reference: 'codebuild-run/gh:token' },
      cloneToken: 'codebuild-run/gh:token',
      account: null,
    });
    expect(config.hosts.gt).toMatchObject({
      apiUrl: 'https://gitea.example.com/api/v1',
      cloneToken: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ci/gitea-AbCdEf:token',
      account: 'ci-bot',
    });
    expect(config.rules[0]).toEqual({
      name: 'ci',
      hosts: ['gh'],
      repos: ['acme/*', 'acme/tools/**'],
      project: 'acme-ci',
      branches: ['main', 'release/*'],
      tags: ['v*'],
      paths: ['src/**'],
      ignorePaths: ['src/**/*.md'],
      skipCi: false,
      buildspec: {
        kind: 'inline',
        text: 'version: 0.2\nphases:\n  build:\n    commands: [make]\n',
      },
      overrides: {
        image: 'aws/codebuild/standard:7.0',
        computeType: 'BUILD_GENERAL1_LARGE',
        privilegedMode: true,
        timeoutInMinutes: 60,
        queuedTimeoutInMinutes: 30,
      },
      env: { STAGE: 'ci', PORT: '8080', DEBUG: 'true' },
      secrets: { NPM_TOKEN: 'ci/npm:token' },
      parameters: { DB_HOST: '/ci/db-host' },
      context: 'ci/acme',
      cancelSuperseded: true,
      submodules: true,
      lfs: true,
    });
  });

  it('fills the defaults of a minimal rule', () => {
    const config = parseConfig(full, 'config.yml');
    expect(config.rules[1]).toEqual({
      name: 'acme-docs',
      hosts: null,
      repos: ['acme/docs'],
      project: 'acme-docs',
      branches: null,
      tags: [],
      paths: null,
      ignorePaths: [],
      skipCi: true,
      buildspec: { kind: 'file', path: 'buildspec.yml' },
      overrides: {},
      env: {},
      secrets: {},
      parameters: {},
      context: 'codebuild/acme-docs',
      cancelSuperseded: false,
      submodules: false,
      lfs: false,
    });
  });

  it('reads JSON too', () => {
    const config = parseConfig(
      JSON.stringify({
        hosts: { gl: { kind: 'gitlab', webhookSecret: { env: 'GL_SECRET' } } },
        rules: [{ repos: ['group/sub/**'], project: 'gl-ci', buildspec: { project: true } }],
      }),
      'config.json',
    );
    expect(config.rules[0]?.buildspec).toEqual({ kind: 'project' });
    expect(config.hosts.gl?.kind).toBe('gitlab');
  });

  it.each([
    ['a path string', 'buildspec: ci/buildspec.yml', { kind: 'file', path: 'ci/buildspec.yml' }],
    ['a file', 'buildspec: { file: ./ci/build.yml }', { kind: 'file', path: 'ci/build.yml' }],
    ['the project', 'buildspec: { project: true }', { kind: 'project' }],
  ])('takes the buildspec as %s', (_, line, expected) => {
    expect(parseConfig(withRule('project: p1', line), 'config.yml').rules[0]?.buildspec).toEqual(
      expected,
    );
  });

  it('allows branches: [] when the rule builds tags', () => {
    const config = parseConfig(withRule('project: p1', 'branches: []', 'tags: ["v*"]'), 'c.yml');
    expect(config.rules[0]).toMatchObject({ branches: [], tags: ['v*'] });
  });
});

describe('parseConfig: errors name the key, the line and the fix', () => {
  it.each([
    ['missing project', withRule(), 'rules[0].project', 6, 'required: the CodeBuild project'],
    ['missing repos', `${HOST}\nrules:\n  - project: p1`, 'rules[0].repos', 6, 'required: globs'],
    ['no rules', HOST, 'rules', null, 'required: the rules'],
    ['empty rules', `${HOST}\nrules: []`, 'rules', 5, 'no rules: add one'],
    ['no hosts', 'hosts: {}\nrules: [{ repos: a/b, project: p1 }]', 'hosts', 1, 'no hosts'],
    ['a file that is a list', '- a\n- b', null, 1, 'must be a mapping with hosts: and rules:'],
    ['a YAML syntax error', 'hosts: [\n', null, 2, 'YAML syntax error'],
    ['a duplicate host id', `${HOST}\n  gh:\n    kind: gitlab`, null, 5, 'YAML syntax error'],
    [
      'an unknown top-level key',
      `${withRule('project: p1')}\nrule: x`,
      'rule',
      8,
      'did you mean rules?',
    ],
    [
      'a misspelt rule key',
      withRule('project: p1', 'branch: main'),
      'rules[0].branch',
      8,
      'did you mean branches?',
    ],
    [
      'a misspelt host key',
      HOST.replace('kind:', 'knd: x\n    kind:') + RULES,
      'hosts.gh.knd',
      3,
      'did you mean kind?',
    ],
    [
      'an unknown override',
      withRule('project: p1', 'overrides: { imag: x }'),
      'rules[0].overrides.imag',
      8,
      'did you mean image?',
    ],
    [
      'a bad host id',
      HOST.replace('  gh:', '  "g h":') + RULES,
      'hosts["g h"]',
      2,
      'a host id goes in the webhook URL',
    ],
    [
      'a project name with spaces',
      withRule('project: my app'),
      'rules[0].project',
      7,
      '2 to 255 letters',
    ],
    [
      'a rule that is not a mapping',
      `${HOST}\nrules:\n  - acme-ci`,
      'rules[0]',
      6,
      'each rule must be a mapping',
    ],
    [
      'a bad region',
      `region: Virginia\n${withRule('project: p1')}`,
      'region',
      1,
      'e.g. region: us-east-1',
    ],
    [
      'a publicUrl that is not a URL',
      `publicUrl: ci.example.com\n${withRule('project: p1')}`,
      'publicUrl',
      1,
      'is not a URL',
    ],
    [
      'an apiUrl with credentials',
      HOST.replace('kind: github', 'kind: github\n    apiUrl: https://u:p@ghe.example.com/api/v3') +
        RULES,
      'hosts.gh.apiUrl',
      4,
      'must not carry credentials',
    ],
    [
      'a self-hosted kind without apiUrl',
      HOST.replace('kind: github', 'kind: bitbucket-dc') + RULES,
      'hosts.gh.apiUrl',
      2,
      'required for kind bitbucket-dc',
    ],
    [
      'gitea without account',
      HOST.replace('kind: github', 'kind: gitea\n    apiUrl: https://git.example.com/api/v1') +
        RULES,
      'hosts.gh.account',
      2,
      'required on gitea: git sends a token with its user name',
    ],
    [
      'previousWebhookSecret alone',
      'hosts:\n  gh:\n    kind: github\n    previousWebhookSecret: { env: OLD }\nrules: [{ repos: a/b, project: p1 }]',
      'hosts.gh.previousWebhookSecret',
      4,
      'set webhookSecret',
    ],
    [
      'a secret source with both keys',
      HOST.replace('{ env: GH_WEBHOOK_SECRET }', '{ env: A, secretsManager: b }') +
        '\nrules: [{ repos: a/b, project: p1 }]',
      'hosts.gh.webhookSecret',
      4,
      'exactly one of env or secretsManager',
    ],
    [
      'a secret source with neither',
      HOST.replace('{ env: GH_WEBHOOK_SECRET }', '{}') + RULES,
      'hosts.gh.webhookSecret',
      4,
      'exactly one of env or secretsManager',
    ],
    [
      'a secret source with an unknown key',
      HOST.replace('{ env: GH_WEBHOOK_SECRET }', '{ secretManager: x }') +
        '\nrules: [{ repos: a/b, project: p1 }]',
      'hosts.gh.webhookSecret.secretManager',
      4,
      'unknown key "secretManager"',
    ],
    [
      'an env secret source that is no variable name',
      HOST.replace('GH_WEBHOOK_SECRET', '"my secret"') + RULES,
      'hosts.gh.webhookSecret.env',
      4,
      'name of an environment variable',
    ],
    [
      'a cloneToken from env',
      HOST.replace('kind: github', 'kind: github\n    cloneToken: { env: GH_TOKEN }') +
        '\nrules: [{ repos: a/b, project: p1 }]',
      'hosts.gh.cloneToken',
      4,
      'an environment variable of the server is not visible',
    ],
    [
      'a malformed secret ARN',
      HOST.replace(
        '{ env: GH_WEBHOOK_SECRET }',
        '{ secretsManager: "arn:aws:secretsmanager:us-east-1:12:secret:x" }',
      ) + RULES,
      'hosts.gh.webhookSecret.secretsManager',
      4,
      'not a Secrets Manager ARN',
    ],
    [
      'too many reference parts',
      HOST.replace('{ env: GH_WEBHOOK_SECRET }', '{ secretsManager: "a:b:c:d:e" }') +
        '\nrules: [{ repos: a/b, project: p1 }]',
      'hosts.gh.webhookSecret.secretsManager',
      4,
      'too many ":" parts',
    ],
    [
      'an unknown host in a rule',
      withRule('project: p1', 'hosts: [gh, gl]'),
      'rules[0].hosts[1]',
      8,
      'no host "gl" under hosts: use one of gh',
    ],
    [
      'an empty hosts list',
      withRule('project: p1', 'hosts: []'),
      'rules[0].hosts',
      8,
      'remove hosts to listen to every host',
    ],
    [
      'two rules with one name',
      `${withRule('project: p1')}\n  - repos: b/c\n    project: p1`,
      'rules[1].name',
      8,
      '"p1" is also the name of rules[0]',
    ],
    [
      'a rule that never builds',
      withRule('project: p1', 'branches: []'),
      'rules[0].branches',
      8,
      'never builds',
    ],
    [
      'a glob given as a number',
      withRule('project: p1', 'branches: [1.10]'),
      'rules[0].branches[0]',
      8,
      'put it in quotes',
    ],
    [
      'a regular expression for a branch',
      withRule('project: p1', 'branches: ["release/.*"]'),
      'rules[0].branches[0]',
      8,
      'looks like a regular expression',
    ],
    [
      'a full ref for a tag',
      withRule('project: p1', 'tags: [refs/tags/v1]'),
      'rules[0].tags[0]',
      8,
      'write "v1"',
    ],
    [
      'an absolute path glob',
      withRule('project: p1', 'ignorePaths: [/docs/**]'),
      'rules[0].ignorePaths[0]',
      8,
      'write "docs/**"',
    ],
    [
      'an unclosed brace',
      withRule('project: p1', 'paths: ["src/{a,b"]'),
      'rules[0].paths[0]',
      8,
      'is not a valid glob (Missing closing: "}")',
    ],
    [
      'a double negation',
      withRule('project: p1', 'branches: ["!!wip"]'),
      'rules[0].branches[0]',
      8,
      'write a single !',
    ],
    [
      'an empty glob',
      withRule('project: p1', 'paths: [""]'),
      'rules[0].paths[0]',
      8,
      'an empty glob matches nothing',
    ],
    [
      'an absolute buildspec file',
      withRule('project: p1', 'buildspec: { file: /etc/passwd }'),
      'rules[0].buildspec.file',
      8,
      'inside the repository',
    ],
    [
      'a buildspec file outside the repository',
      withRule('project: p1', 'buildspec: { file: ../x.yml }'),
      'rules[0].buildspec.file',
      8,
      'inside the repository',
    ],
    [
      'two buildspec choices',
      withRule('project: p1', 'buildspec: { file: a.yml, project: true }'),
      'rules[0].buildspec',
      8,
      'exactly one of file, inline or project',
    ],
    [
      'buildspec project: false',
      withRule('project: p1', 'buildspec: { project: false }'),
      'rules[0].buildspec.project',
      8,
      "the CodeBuild project's own buildspec",
    ],
    [
      'an unknown buildspec key',
      withRule('project: p1', 'buildspec: { path: a.yml }'),
      'rules[0].buildspec.path',
      8,
      'unknown key "path"',
    ],
    [
      'an invalid inline buildspec',
      withRule('project: p1', 'buildspec: { inline: "version: 0.2\\nphases:\\n  build:\\n" }'),
      'rules[0].buildspec.inline',
      8,
      'inline buildspec: line 3: phases.build: a phase needs commands',
    ],
    [
      'a timeout too short',
      withRule('project: p1', 'overrides: { timeoutInMinutes: 3 }'),
      'rules[0].overrides.timeoutInMinutes',
      8,
      'from 5 to 2160',
    ],
    [
      'a queued timeout too long',
      withRule('project: p1', 'overrides: { queuedTimeoutInMinutes: 600 }'),
      'rules[0].overrides.queuedTimeoutInMinutes',
      8,
      'from 5 to 480',
    ],
    [
      'an unknown compute type',
      withRule('project: p1', 'overrides: { computeType: HUGE }'),
      'rules[0].overrides.computeType',
      8,
      'BUILD_GENERAL1_SMALL',
    ],
    [
      'privilegedMode as text',
      withRule('project: p1', 'overrides: { privilegedMode: "yes" }'),
      'rules[0].overrides.privilegedMode',
      8,
      'true or false',
    ],
    [
      'a float env value',
      withRule('project: p1', 'env: { VERSION: 1.10 }'),
      'rules[0].env.VERSION',
      8,
      'quote it',
    ],
    [
      'a reserved CODEBUILD_ name',
      withRule('project: p1', 'env: { CODEBUILD_SRC: x }'),
      'rules[0].env.CODEBUILD_SRC',
      8,
      'reserved by CodeBuild',
    ],
    [
      'a reserved CBR_ name',
      withRule('project: p1', 'parameters: { cbr_sha: /x }'),
      'rules[0].parameters.cbr_sha',
      8,
      "reserved for codebuild-run's clone step",
    ],
    [
      'a variable name with a dash',
      withRule('project: p1', 'secrets: { NPM-TOKEN: "ci/npm:token" }'),
      'rules[0].secrets.NPM-TOKEN',
      8,
      'is not a variable name',
    ],
    [
      'one variable in two sections',
      withRule('project: p1', 'env: { TOKEN: x }', 'secrets: { TOKEN: "ci/t:token" }'),
      'rules[0].secrets.TOKEN',
      9,
      'also set under env',
    ],
    [
      'a parameter name with a space',
      withRule('project: p1', 'parameters: { DB: "/ci/db host" }'),
      'rules[0].parameters.DB',
      8,
      'without spaces',
    ],
    [
      'a bad skipCi',
      withRule('project: p1', 'skipCi: sometimes'),
      'rules[0].skipCi',
      8,
      'true or false',
    ],
  ])('%s', (_, text, key, line, message) => {
    const error = errorOf(text);
    expect(error.issues[0]).toMatchObject({ key, line });
    expect(error.message).toContain(message);
    expect(error.message.startsWith('config.yml: ')).toBe(true);
  });

  it('lists every problem, in file order', () => {
    const error = errorOf(
      [
        'hosts:',
        '  gh: { kind: githb }',
        'rules:',
        '  - repos: ["acme/*"]',
        '    branches: ["^main$"]',
        '  - project: p2',
      ].join('\n'),
    );
    expect(error.issues.map((issue) => [issue.line, issue.key])).toEqual([
      [2, 'hosts.gh.kind'],
      [4, 'rules[0].project'],
      [5, 'rules[0].branches[0]'],
      [6, 'rules[1].repos'],
    ]);
  });

  it.each([
    ['webhookSecret', 'webhookSecret: s3cr3t-value-do-not-print'],
    ['apiToken', 'apiToken: ghp_s3cr3tValueDoNotPrint0000000000000'],
    ['cloneToken', 'cloneToken: ghp_s3cr3tValueDoNotPrint0000000000000'],
    ['cloneToken', 'cloneToken: "s3cr3t value do not print"'],
    ['secretsManager', 'apiToken: { secretsManager: "s3cr3t value do not print" }'],
    ['env', 'apiToken: { env: "s3cr3t-value-do-not-print" }'],
  ])('never repeats a secret pasted into %s', (_, line) => {
    const text = `hosts:\n  gh:\n    kind: github\n    ${line}\nrules: [{ repos: a/b, project: p1 }]`;
    const error = errorOf(text);
    expect(error.line).toBe(4);
    expect(error.message).not.toMatch(/s3cr3t/i);
  });

  it('never repeats a token pasted into env or secrets', () => {
    const error = errorOf(
      withRule(
        'project: p1',
        'env: { GH: ghp_s3cr3tValueDoNotPrint0000000000000 }',
        'secrets: { GL: glpat-s3cr3tValueDoNotPrint }',
      ),
    );
    expect(error.issues.map((issue) => issue.key)).toEqual([
      'rules[0].env.GH',
      'rules[0].secrets.GL',
    ]);
    expect(error.message).toContain('store it in Secrets Manager');
    expect(error.message).toContain('looks like a token itself');
    expect(error.message).not.toMatch(/s3cr3t/i);
  });

  it('explains the most common mistakes', () => {
    const error = errorOf(
      [
        'hosts:',
        '  github:',
        '    kind: GitHub',
        '    webhookSecret: my-webhook-secret',
        '    apiToken: { secretsManager: "codebuild-run/github:token" }',
        'rules:',
        '  - name: ci',
        '    repos: ["acme/[web"]',
        '    branches: [main, "release/*"]',
      ].join('\n'),
    );
    expect(error.message).toMatchInlineSnapshot(`
      "config.yml: line 3: hosts.github.kind: unknown kind "GitHub": use one of github, gitlab, bitbucket, bitbucket-dc, gitea, forgejo, azure-devops (did you mean github?)
      config.yml: line 4: hosts.github.webhookSecret: a secret must be given as a reference, never its value: write webhookSecret: { secretsManager: "<secret-id>[:json-key]" } or webhookSecret: { env: <VARIABLE> }
      config.yml: line 7: rules[0].project: required: the CodeBuild project to start, e.g. project: my-app-ci
      config.yml: line 8: rules[0].repos[0]: "acme/[web" is not a valid glob (Missing closing: "]"); escape a literal [ { ( with a backslash"
    `);
  });
});
