/**
 * Putting the clone step into a user's buildspec: what is sent, what of the user's text survives,
 * and the CodeBuild size limits refused before the request with the limit named.
 */
import { describe, expect, it } from 'vitest';
import {
  BUILDSPEC_MAX_CHARS,
  BuildspecLimitError,
  type CloneSource,
  CloneSourceError,
  checkBuildspecLimits,
  cloneGuardCommand,
  clonePreludeScript,
  ENV_VALUE_MAX_CHARS,
  injectClonePrelude,
  parseBuildspec,
} from '../../src/buildspec/index.js';
import { CodebuildRunError } from '../../src/errors.js';

const SHA = 'a'.repeat(40);

function source(overrides: Partial<CloneSource> = {}): CloneSource {
  return {
    cloneUrl: 'https://git.example.com/team/app.git',
    sha: SHA,
    ref: 'refs/heads/main',
    refKind: 'branch',
    refName: 'main',
    host: 'gitea',
    before: 'b'.repeat(40),
    tokenSecretRef: 'ci/git-token:token',
    auth: { scheme: 'basic', username: 'ci-bot' },
    ...overrides,
  };
}

const inject = (text: string, overrides: Partial<CloneSource> = {}) =>
  injectClonePrelude(parseBuildspec(text), source(overrides));

const USER_BUILDSPEC = `# Build for the app: keep this comment
version: 0.2 # version comment

env:
  variables:
    MODE: "release" # quoted on purpose
phases:
  # before install
  install:
    runtime-versions:
      nodejs: 20
    commands:
      - npm ci # install
  build:
    on-failure: CONTINUE
    commands:
      - npm run build
      - |
        echo multi
        echo line
    finally:
      - echo done
artifacts:
  files: ['dist/**/*']
`;

describe('injectClonePrelude', () => {
  it('sends every value as a PLAINTEXT variable and the token only as its Secrets Manager reference', () => {
    const { environmentVariables } = inject(USER_BUILDSPEC);
    expect(environmentVariables).toEqual([
      { name: 'CBR_CLONE_URL', value: 'https://git.example.com/team/app.git', type: 'PLAINTEXT' },
      { name: 'CBR_SHA', value: SHA, type: 'PLAINTEXT' },
      { name: 'CBR_REF', value: 'refs/heads/main', type: 'PLAINTEXT' },
      { name: 'CBR_TRIGGER', value: 'branch/main', type: 'PLAINTEXT' },
      { name: 'CBR_HOST', value: 'gitea', type: 'PLAINTEXT' },
      { name: 'CBR_BEFORE', value: 'b'.repeat(40), type: 'PLAINTEXT' },
      { name: 'CBR_AUTH', value: 'basic', type: 'PLAINTEXT' },
      { name: 'CBR_AUTH_USER', value: 'ci-bot', type: 'PLAINTEXT' },
      { name: 'CBR_AUTH_URL', value: 'https://git.example.com/', type: 'PLAINTEXT' },
      { name: 'CBR_GIT_TOKEN', value: 'ci/git-token:token', type: 'SECRETS_MANAGER' },
    ]);
    expect(environmentVariables.every((v) => !v.name.startsWith('CODEBUILD_'))).toBe(true);
  });

  it('needs no token variable for a public repository', () => {
    const { environmentVariables } = inject(USER_BUILDSPEC, { tokenSecretRef: null });
    expect(environmentVariables.find((v) => v.name === 'CBR_AUTH')?.value).toBe('none');
    expect(environmentVariables.some((v) => v.type === 'SECRETS_MANAGER')).toBe(false);
  });

  it('keeps the user buildspec word for word around the clone step and the guards', () => {
    const { buildspec } = inject(USER_BUILDSPEC);
    const prelude = clonePreludeScript()
      .trimEnd()
      .split('\n')
      .map((line) => `        ${line}`)
      .join('\n');
    const guard = `'${cloneGuardCommand}'`;
    expect(buildspec).toBe(`# Build for the app: keep this comment
version: 0.2 # version comment

env:
  variables:
    MODE: "release" # quoted on purpose
phases:
  # before install
  install:
    runtime-versions:
      nodejs: 20
    commands:
      - |
${prelude}
      - npm ci # install
  build:
    on-failure: CONTINUE
    commands:
      - ${guard}
      - npm run build
      - |
        echo multi
        echo line
    finally:
      - ${guard}
      - echo done
artifacts:
  files: ['dist/**/*']
`);
  });

  it('adds an install phase first when the user has none, and reads back as the same commands', () => {
    const text = 'version: 0.2\nphases:\n  build:\n    commands: [make, make test]\n';
    const { buildspec } = inject(text);
    const { spec } = parseBuildspec(buildspec);
    expect(Object.keys(spec.phases ?? {})).toEqual(['install', 'build']);
    expect(spec.phases?.install?.commands).toEqual([clonePreludeScript()]);
    expect(spec.phases?.build?.commands).toEqual([cloneGuardCommand, 'make', 'make test']);
  });

  it('adds phases to a buildspec that has none', () => {
    const { spec } = parseBuildspec(inject('version: 0.2\nartifacts:\n  files: [a]\n').buildspec);
    expect(spec.phases?.install?.commands).toEqual([clonePreludeScript()]);
  });

  it('turns a flow list into a block list to hold the multi-line clone step', () => {
    const { spec } = parseBuildspec(
      inject('version: 0.2\nphases: {install: {commands: [npm ci]}}\n').buildspec,
    );
    expect(spec.phases?.install?.commands).toEqual([clonePreludeScript(), 'npm ci']);
  });

  it('gives an aliased command list its own copy, so the clone step runs once', () => {
    const text = [
      'version: 0.2',
      'phases:',
      '  install:',
      '    commands: &setup',
      '      - ./setup.sh',
      '  build:',
      '    commands: *setup',
      '',
    ].join('\n');
    const { spec } = parseBuildspec(inject(text).buildspec);
    expect(spec.phases?.install?.commands).toEqual([clonePreludeScript(), './setup.sh']);
    expect(spec.phases?.build?.commands).toEqual([cloneGuardCommand, './setup.sh']);
  });

  it('includes the submodule and LFS steps only when asked', () => {
    const plain = inject(USER_BUILDSPEC).buildspec;
    expect(plain).not.toContain('git submodule');
    expect(plain).not.toContain('git lfs');
    const both = inject(USER_BUILDSPEC, { submodules: true, lfs: true }).buildspec;
    expect(both).toContain('git submodule update --init --recursive --depth 1');
    expect(both).toContain('git lfs pull');
  });

  it('leaves the caller’s parsed buildspec untouched', () => {
    const parsed = parseBuildspec(USER_BUILDSPEC);
    const before = parsed.document.toString();
    const first = injectClonePrelude(parsed, source()).buildspec;
    expect(parsed.document.toString()).toBe(before);
    expect(injectClonePrelude(parsed, source({ sha: 'c'.repeat(40) })).buildspec).toBe(first);
  });

  it('refuses a buildspec that defines a CBR_ variable, naming it', () => {
    const text =
      'version: 0.2\nenv:\n  exported-variables: [CBR_GIT_TOKEN]\nphases:\n  build:\n    commands: [make]\n';
    expect(() => inject(text)).toThrow(
      /env\.exported-variables: CBR_GIT_TOKEN: names starting with CBR_ are used by codebuild-run's clone step/,
    );
  });

  it.each([
    ['ext::sh -c touch% /tmp/pwned', /must be http\(s\)/],
    ['file:///etc/repo.git', /must be http\(s\)/],
    ['https://user:secret@git.example.com/app.git', /carries credentials/],
    ['https://git.example.com/app\n.git', /control characters/],
    ['not a url', /not a URL/],
  ])('refuses the clone URL %j', (cloneUrl, message) => {
    expect(() => inject(USER_BUILDSPEC, { cloneUrl })).toThrow(message);
    expect(() => inject(USER_BUILDSPEC, { cloneUrl })).toThrow(CloneSourceError);
  });

  it('refuses a sha that is not a full commit id and a ref that does not match its name', () => {
    expect(() => inject(USER_BUILDSPEC, { sha: 'HEAD' })).toThrow(/sha must be a full/);
    expect(() => inject(USER_BUILDSPEC, { sha: '--upload-pack=x' })).toThrow(/sha must be a full/);
    expect(() => inject(USER_BUILDSPEC, { ref: 'refs/tags/main' })).toThrow(
      /does not match refKind branch and refName "main": expected "refs\/heads\/main"/,
    );
  });
});

describe('buildspec limits', () => {
  /** A buildspec whose injected text is exactly `target` characters long. */
  function buildspecOfInjectedLength(target: number): string {
    const base = (padding: number) =>
      `version: 0.2\nphases:\n  build:\n    commands:\n      - echo ${'x'.repeat(padding)}\n`;
    const without = inject(base(1)).buildspec.length - 1;
    return base(target - without);
  }

  it('accepts a buildspec of exactly 25,600 characters and refuses one more, naming the limit', () => {
    const atLimit = inject(buildspecOfInjectedLength(BUILDSPEC_MAX_CHARS));
    expect(atLimit.buildspec.length).toBe(BUILDSPEC_MAX_CHARS);
    let error: unknown;
    try {
      inject(buildspecOfInjectedLength(BUILDSPEC_MAX_CHARS + 1));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BuildspecLimitError);
    expect(error).toBeInstanceOf(CodebuildRunError);
    expect((error as BuildspecLimitError).limit).toBe('buildspec-size');
    expect((error as Error).message).toMatch(
      /^the buildspec is 25,601 characters \([\d,]+ of them are the clone step codebuild-run adds\), over CodeBuild's limit of 25,600 characters for an inline buildspec \(buildspecOverride\)\. Shorten it by at least 1 characters: move long commands into a script/,
    );
  });

  it('accepts a 4,096-character variable and refuses a 4,097-character one, naming the variable but not its value', () => {
    const url = (length: number) => {
      const head = 'https://git.example.com/';
      return `${head}${'r'.repeat(length - head.length)}`;
    };
    expect(() => inject(USER_BUILDSPEC, { cloneUrl: url(ENV_VALUE_MAX_CHARS) })).not.toThrow();
    const long = url(ENV_VALUE_MAX_CHARS + 1);
    let message = '';
    try {
      inject(USER_BUILDSPEC, { cloneUrl: long });
    } catch (error) {
      expect(error).toBeInstanceOf(BuildspecLimitError);
      expect((error as BuildspecLimitError).code).toBe('buildspec.env-value-size-exceeded');
      message = (error as Error).message;
    }
    expect(message).toBe(
      "environment variable CBR_CLONE_URL is 4,097 characters, over CodeBuild's limit of 4,096 characters for one variable's value. Shorten the value, or pass it another way (a file in the repository, a Parameter Store or Secrets Manager reference).",
    );
  });

  it('checks any other variables a caller adds', () => {
    expect(() =>
      checkBuildspecLimits('version: 0.2\n', [{ name: 'ROUTING', value: 'x'.repeat(5000) }]),
    ).toThrow(/environment variable ROUTING is 5,000 characters/);
    expect(() => checkBuildspecLimits('x'.repeat(BUILDSPEC_MAX_CHARS + 10), [])).toThrow(
      /^the buildspec is 25,610 characters, over CodeBuild's limit/,
    );
  });
});
