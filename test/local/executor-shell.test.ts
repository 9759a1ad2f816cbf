import { afterEach, describe, expect, it } from 'vitest';
import { removeTempDirs, runBuild, yaml } from './executor-harness.js';

afterEach(removeTempDirs);

describe('executeBuild: one shell for the whole build', () => {
  it('keeps exported variables and shell variables from INSTALL to POST_BUILD', async () => {
    const { result, messages } = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  install:',
        '    commands:',
        '      - export FROM_INSTALL=installed',
        '      - PLAIN=plain-shell-variable',
        '  build:',
        '    commands:',
        '      - echo "build sees $FROM_INSTALL and $PLAIN"',
        '  post_build:',
        '    commands:',
        '      - echo "shell pid $$" > /dev/null; echo "post sees $FROM_INSTALL"',
      ),
    );
    expect(result.buildStatus).toBe('SUCCEEDED');
    expect(messages).toContain('build sees installed and plain-shell-variable');
    expect(messages).toContain('post sees installed');
  });

  it('runs every command in the same process', async () => {
    const { messages } = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  install: { commands: [echo "pid:$$"] }',
        '  build: { commands: [echo "pid:$$"] }',
      ),
    );
    const pids = messages.filter((line) => line.startsWith('pid:'));
    expect(pids).toHaveLength(2);
    expect(pids[0]).toBe(pids[1]);
  });

  it('runs a multi-line command as written and reports its last status only', async () => {
    const { result, phase, messages } = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        '      - |',
        '        false',
        '        echo "first line failed, the block goes on"',
        '      - |',
        '        for i in 1 2; do',
        '          echo "loop $i"',
        '        done',
        '        exit_code=3',
        '        test $exit_code -eq 0',
      ),
    );
    expect(messages).toContain('first line failed, the block goes on');
    expect(messages).toEqual(expect.arrayContaining(['loop 1', 'loop 2']));
    expect(result.buildStatus).toBe('FAILED');
    expect(phase('BUILD')?.contexts).toEqual([
      {
        statusCode: 'COMMAND_EXECUTION_ERROR',
        message:
          'Error while executing command: for i in 1 2; do\n  echo "loop $i"\ndone\nexit_code=3\ntest $exit_code -eq 0. Reason: exit status 1',
      },
    ]);
  });

  it('uses bash by default and /bin/sh when env.shell says so', async () => {
    const probe = `echo "bash=\${BASH_VERSION:-none}"`;
    const bash = await runBuild(
      yaml('version: 0.2', 'phases:', `  build: { commands: ['${probe}'] }`),
    );
    expect(bash.messages.find((m) => m.startsWith('bash='))).toMatch(/^bash=\d/);
    const sh = await runBuild(
      yaml(
        'version: 0.2',
        'env: { shell: /bin/sh }',
        'phases:',
        `  build: { commands: ['${probe}'] }`,
      ),
    );
    expect(sh.messages).toContain('bash=none');
  });

  it('streams stdout and stderr in order, before the agent reports the status', async () => {
    const { messages } = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo out-1; echo err-1 >&2; echo out-2; printf "no newline at the end"; exit_status=2; (exit $exit_status)',
      ),
    );
    const at = (text: string) => messages.indexOf(text);
    expect(at('out-1')).toBeGreaterThan(-1);
    expect(at('out-1')).toBeLessThan(at('err-1'));
    expect(at('err-1')).toBeLessThan(at('out-2'));
    expect(at('out-2')).toBeLessThan(at('no newline at the end'));
    const failure = messages.findIndex((m) => m.startsWith('Command did not exit successfully'));
    expect(at('no newline at the end')).toBeLessThan(failure);
    expect(messages[failure]).toMatch(/ exit status 2$/);
  });

  it('fails the command with a clear line when the shell cannot start', async () => {
    const { result, phase, messages } = await runBuild(
      yaml('version: 0.2', 'phases:', '  build: { commands: [echo never] }'),
      { baseEnvironment: { PATH: '/nonexistent' } },
    );
    expect(result.buildStatus).toBe('FAILED');
    expect(messages).toContain('bash: cannot start the build shell: spawn bash ENOENT');
    expect(phase('BUILD')?.contexts?.[0]?.message).toBe(
      'Error while executing command: echo never. Reason: exit status 127',
    );
  });

  it('gives commands an empty stdin, so reading stdin cannot swallow the next commands', async () => {
    const { result, messages } = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        '      - cat',
        '      - echo still-running',
      ),
    );
    expect(result.buildStatus).toBe('SUCCEEDED');
    expect(messages).toContain('still-running');
  });

  it.each(['bash', '/bin/sh'])(
    'fails the command that ends the shell (%s) and keeps the saved state for the next ones',
    async (shell) => {
      const { result, phase, messages } = await runBuild(
        yaml(
          'version: 0.2',
          `env: { shell: ${shell}, variables: { SPACED: "a  'quoted'  value" } }`,
          'phases:',
          '  install:',
          '    commands:',
          '      - export KEPT=yes; mkdir -p sub; cd sub',
          '  build:',
          '    commands:',
          '      - exit 4',
          '  post_build:',
          '    commands:',
          '      - echo "kept=$KEPT dir=$(basename "$PWD")"',
          '      - echo "spaced=$SPACED"',
        ),
      );
      expect(result.buildStatus).toBe('FAILED');
      expect(phase('BUILD')?.contexts?.[0]?.message).toBe(
        'Error while executing command: exit 4. Reason: exit status 4',
      );
      expect(messages).toContain('kept=yes dir=sub');
      expect(messages).toContain(`spaced=a  'quoted'  value`);
    },
  );
});
