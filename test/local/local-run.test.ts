import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_RUN_USAGE, runLocalRun } from '../../cli/local-run.js';

let project: string;

beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), 'cbr-local-run-'));
});
afterEach(() => rm(project, { recursive: true, force: true }));

function capture() {
  return {
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

async function run(argv: string[], cwd = project) {
  const stdout = capture();
  const stderr = capture();
  const code = await runLocalRun(argv, { stdout, stderr, env: { PATH: process.env.PATH }, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('local run', () => {
  it('documents every flag with an example', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toBe(LOCAL_RUN_USAGE);
    for (const flag of [
      '--buildspec',
      '--src',
      '--env',
      '--secret',
      '--parameter',
      '--timeout',
      '--artifacts',
    ]) {
      expect(stdout).toMatch(new RegExp(`^  ${flag} `, 'm'));
      expect(stdout).toMatch(new RegExp(`^ {26}${flag} `, 'm'));
    }
  });

  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--env', 'STAGE'], '--env STAGE: expected NAME=VALUE'],
    [['--env', 'CODEBUILD_X=1'], 'CODEBUILD_* variables are reserved'],
    [['--env', 'A-B=1'], 'A-B is not a variable name'],
    [['--timeout', 'soon'], '--timeout soon: give minutes'],
    [['--buildspec', 'nope.yml'], `--buildspec nope.yml: cannot read `],
    [[], 'no buildspec.yml in '],
  ])('exits 2 with a clear message for %j', async (argv, message) => {
    const { code, stderr, stdout } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain('--help');
    expect(stdout).toBe('');
  });

  it('never echoes a malformed --secret', async () => {
    const { code, stderr } = await run(['--secret', 'ghp_abcdef123456']);
    expect(code).toBe(2);
    expect(stderr).not.toContain('ghp_abcdef123456');
  });

  it('runs buildspec.yml of the current directory with variables, secrets and parameters, masked', async () => {
    await writeFile(join(project, 'input.txt'), 'from the source');
    await writeFile(
      join(project, 'buildspec.yml'),
      [
        'version: 0.2',
        'env:',
        '  variables: { STAGE: from-buildspec }',
        '  secrets-manager: { DB_PASSWORD: "db:password", WHOLE: db }',
        '  parameter-store: { LICENSE: /team/license }',
        '  exported-variables: [VERSION, NPM_TOKEN]',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo "stage=$STAGE input=$(cat input.txt)"',
        '      - echo "npm=$NPM_TOKEN db=$DB_PASSWORD license=$LICENSE"',
        '      - echo "$WHOLE" | grep -q pw-42 && echo json-secret-read',
        '      - export VERSION=2.0.1; mkdir -p out; echo built > out/app.txt; echo changed > input.txt',
        'artifacts: { base-directory: out, files: ["**/*"] }',
      ].join('\n'),
    );
    const keep = join(project, 'kept');
    const { code, stdout } = await run([
      '--env',
      'STAGE=from-flag',
      '--secret',
      'NPM_TOKEN=npm_0123456789',
      '--secret',
      'db={"password":"pw-42"}',
      '--parameter',
      '/team/license=lic-77=x',
      '--artifacts',
      'kept',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('\nstage=from-flag input=from the source\n');
    expect(stdout).toContain('\nnpm=*** db=*** license=***\n');
    expect(stdout).toContain('\njson-secret-read\n');
    for (const secret of ['npm_0123456789', 'pw-42', 'lic-77=x'])
      expect(stdout).not.toContain(secret);
    expect(stdout).toMatch(/\nBuild local:[0-9a-f-]{36} SUCCEEDED in \d+s\n/);
    expect(stdout).toMatch(/\n {2}BUILD {13}SUCCEEDED {3}0s\n/);
    expect(stdout).toContain('\nExported variables:\n  VERSION=2.0.1\n  NPM_TOKEN=***\n');
    expect(stdout).toContain(`\nArtifacts: 1 file(s) copied to ${keep}\n`);
    expect(await readdir(keep)).toEqual(['app.txt']);
    expect(await readFile(join(project, 'input.txt'), 'utf8')).toBe('from the source');
  });

  it('exits 1 with the failed phase and its reason in the summary', async () => {
    await writeFile(
      join(project, 'ci.yml'),
      'version: 0.2\nphases:\n  build:\n    commands: ["exit 2"]\nartifacts: { files: ["**/*"] }\n',
    );
    const { code, stdout } = await run(['--buildspec', 'ci.yml', '--src', '.']);
    expect(code).toBe(1);
    expect(stdout).toContain(
      '  BUILD             FAILED      0s        COMMAND_EXECUTION_ERROR: Error while executing command: exit 2. Reason: exit status 2\n',
    );
    expect(stdout).toMatch(/\nBuild local:\S+ FAILED in/);
    expect(stdout).toContain('Artifacts: 1 file(s) not kept: pass --artifacts DIR to keep them');
  });

  it('times out after --timeout minutes', async () => {
    await writeFile(
      join(project, 'buildspec.yml'),
      'version: 0.2\nphases:\n  build:\n    commands: [sleep 30]\n',
    );
    const started = Date.now();
    const { code, stdout } = await run(['--timeout', '0.02']);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(code).toBe(1);
    expect(stdout).toMatch(/\nBuild local:\S+ TIMED_OUT in \ds\n/);
    expect(stdout).toContain('BUILD_TIMED_OUT: Build has timed out after 1.2 second(s)');
  });
});
