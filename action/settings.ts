/**
 * Every input of action.yml, read and checked in one place into one typed Settings. All problems
 * are reported together, each naming the input and the fix, before anything is sent to AWS.
 * Defaults here are action.yml's (the runner applies those; a direct run gets empty inputs).
 */
import { ComputeType } from '@aws-sdk/client-codebuild';
import { ENV_VALUE_MAX_CHARS } from '../src/buildspec/limits.js';
import type { EnvVar } from '../src/codebuild/index.js';
import { looksLikeToken, parseSecretReference } from '../src/config/secret-reference.js';
import { CodebuildRunError } from '../src/errors.js';

export type SourceMode = 'github' | 'clone' | 'project';
export type BuildspecInput = { kind: 'inline'; text: string } | { kind: 'path'; path: string };

export interface Settings {
  projectName: string;
  source: SourceMode;
  /** source-version, or undefined for the workflow's commit. */
  sourceVersion: string | undefined;
  /** The Secrets Manager reference the clone prelude reads its token from (clone only). */
  cloneTokenSecret: string | undefined;
  buildspec: BuildspecInput | undefined;
  /** env-vars, secrets, parameters and forward-env, in that order; names are unique. */
  variables: EnvVar[];
  computeType: string | undefined;
  image: string | undefined;
  privilegedMode: boolean | undefined;
  timeoutInMinutes: number | undefined;
  wait: boolean;
  hideLogs: boolean;
  stopOnCancel: boolean;
}

/** An input's value as the runner gives it (core.getInput: trimmed, '' when not set). */
export type InputReader = (name: string) => string;

export class SettingsError extends CodebuildRunError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? problems[0]!
        : `${problems.length} inputs need fixing:\n- ${problems.join('\n- ')}`,
      'action.bad-input',
    );
  }
}

const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const PROJECT_ARN =
  /^arn:[a-z-]+:codebuild:[a-z0-9-]+:\d{12}:project\/[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const COMPUTE_TYPES: readonly string[] = Object.values(ComputeType);
const SOURCES: readonly SourceMode[] = ['github', 'clone', 'project'];
/** Runner variables that hold credentials whatever their name says. */
const NEVER_FORWARDED = /^(GITHUB_TOKEN|ACTIONS_\w*|AWS_ACCESS_KEY_ID)$/;
const SECRET_WORDS = /TOKEN|SECRET|PASSWORD/i;

/** YAML with lines, or with `version:`, is a buildspec; anything else is a path to one. */
export function classifyBuildspec(value: string): BuildspecInput {
  return value.includes('\n') || /\bversion\s*:/.test(value)
    ? { kind: 'inline', text: value }
    : { kind: 'path', path: value };
}

export function readSettings(
  input: InputReader,
  runnerEnv: Readonly<Record<string, string | undefined>>,
  warn: (message: string) => void = () => {},
): Settings {
  const problems: string[] = [];
  const problem = (message: string) => problems.push(message);
  const optional = (name: string) => input(name) || undefined;

  const projectName = input('project-name');
  if (projectName === '') {
    problem('project-name is required: set it to the name of the CodeBuild project to start');
  } else if (!PROJECT_NAME.test(projectName) && !PROJECT_ARN.test(projectName)) {
    problem(
      `project-name ${JSON.stringify(projectName)} is not a CodeBuild project name: use 2-255 ` +
        'letters, digits, - and _, starting with a letter or digit (or the project ARN)',
    );
  }

  const sourceText = input('source') || 'github';
  const source = SOURCES.find((s) => s === sourceText.toLowerCase());
  if (!source) {
    problem(
      `source ${JSON.stringify(sourceText)} is not one of github, clone, project: github builds ` +
        "the workflow's commit with the project's GitHub source, clone clones it in a NO_SOURCE " +
        "build, project keeps the project's own source",
    );
  }

  const cloneTokenSecret = optional('clone-token-secret');
  if (cloneTokenSecret !== undefined) {
    if (source !== undefined && source !== 'clone') {
      problem(
        `clone-token-secret is only read with source: clone (source is ${source}); remove it, or set source: clone`,
      );
    } else if (looksLikeToken(cloneTokenSecret)) {
      problem(
        'clone-token-secret looks like a token itself: store the token in AWS Secrets Manager ' +
          'and give its name (secret-id or secret-id:json-key); then rotate this token, it is ' +
          "in the workflow's history",
      );
    } else {
      const parsed = parseSecretReference(cloneTokenSecret);
      if ('problem' in parsed) problem(`clone-token-secret is ${parsed.problem}`);
    }
  }

  const buildspecText = optional('buildspec');
  const buildspec = buildspecText === undefined ? undefined : classifyBuildspec(buildspecText);

  const variables: EnvVar[] = [];
  const seen = new Map<string, string>();
  const add = (inputName: string, variable: EnvVar) => {
    const earlier = seen.get(variable.name);
    if (earlier !== undefined) {
      problem(
        `${inputName}: ${variable.name} is already set by ${earlier === inputName ? 'an earlier line' : earlier}; keep one`,
      );
      return;
    }
    seen.set(variable.name, inputName);
    variables.push(variable);
  };
  for (const [inputName, type] of [
    ['env-vars', 'PLAINTEXT'],
    ['secrets', 'SECRETS_MANAGER'],
    ['parameters', 'PARAMETER_STORE'],
  ] as const) {
    for (const variable of readVariableLines(input(inputName), inputName, type, problem)) {
      add(inputName, variable);
    }
  }
  for (const name of readForwardNames(input('forward-env'), problem)) {
    const value = runnerEnv[name];
    if (value === undefined) {
      warn(`forward-env: ${name} is not set on the runner, so the build does not get it`);
      continue;
    }
    if (value.length > ENV_VALUE_MAX_CHARS) problem(tooLong('forward-env', name, value));
    else add('forward-env', { name, value, type: 'PLAINTEXT' });
  }

  const computeType = optional('compute-type');
  if (computeType !== undefined && !COMPUTE_TYPES.includes(computeType)) {
    problem(
      `compute-type ${JSON.stringify(computeType)} is not a CodeBuild compute type: use one of ${COMPUTE_TYPES.join(', ')}`,
    );
  }

  const timeoutText = optional('timeout-minutes');
  let timeoutInMinutes: number | undefined;
  if (timeoutText !== undefined) {
    timeoutInMinutes = Number(timeoutText);
    if (!/^\d+$/.test(timeoutText) || timeoutInMinutes < 5 || timeoutInMinutes > 2160) {
      problem(
        `timeout-minutes ${JSON.stringify(timeoutText)} must be a whole number of minutes from 5 to 2160 (36 hours)`,
      );
    }
  }

  const settings: Settings = {
    projectName,
    source: source ?? 'github',
    sourceVersion: optional('source-version'),
    cloneTokenSecret,
    buildspec,
    variables,
    computeType,
    image: optional('image'),
    privilegedMode: readBoolean(input, 'privileged-mode', undefined, problem),
    timeoutInMinutes,
    wait: readBoolean(input, 'wait', true, problem),
    hideLogs: readBoolean(input, 'hide-logs', false, problem),
    stopOnCancel: readBoolean(input, 'stop-on-cancel', true, problem),
  };
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}

function readBoolean<D extends boolean | undefined>(
  input: InputReader,
  name: string,
  fallback: D,
  problem: (message: string) => void,
): boolean | D {
  const value = input(name);
  if (value === '') return fallback;
  if (/^(true|True|TRUE)$/.test(value)) return true;
  if (/^(false|False|FALSE)$/.test(value)) return false;
  problem(`${name} ${JSON.stringify(value)} must be true or false`);
  return fallback;
}

/** The meaningful lines of a multi-line input: blank lines and `# comments` are skipped. */
function lines(text: string): { line: string; number: number }[] {
  return text
    .split(/\r?\n/)
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'));
}

function tooLong(inputName: string, name: string, value: string): string {
  return (
    `${inputName}: ${name} is ${value.length} characters, over CodeBuild's limit of ` +
    `${ENV_VALUE_MAX_CHARS} for a variable's value; shorten it or pass a file in the repository`
  );
}

function nameProblem(name: string): string | null {
  if (!VARIABLE_NAME.test(name)) {
    return `${JSON.stringify(name)} is not a variable name: use letters, digits and _, not starting with a digit`;
  }
  if (name.startsWith('CODEBUILD_')) {
    return `${name}: names starting with CODEBUILD_ are reserved by CodeBuild, which refuses them as overrides; rename it`;
  }
  return null;
}

const VALUE_HINT = {
  PLAINTEXT: 'NAME=value',
  SECRETS_MANAGER: 'NAME=secret-id or NAME=secret-id:json-key',
  PARAMETER_STORE: 'NAME=/parameter/name',
} as const;

function readVariableLines(
  text: string,
  inputName: string,
  type: EnvVar['type'],
  problem: (message: string) => void,
): EnvVar[] {
  const variables: EnvVar[] = [];
  for (const { line, number } of lines(text)) {
    const at = line.indexOf('=');
    if (at <= 0) {
      problem(`${inputName} line ${number} is not ${VALUE_HINT[type]} (one variable a line)`);
      continue;
    }
    const name = line.slice(0, at).trim();
    const value = type === 'PLAINTEXT' ? line.slice(at + 1) : line.slice(at + 1).trim();
    const bad = nameProblem(name);
    if (bad) {
      problem(`${inputName} line ${number}: ${bad}`);
      continue;
    }
    if (value.length > ENV_VALUE_MAX_CHARS) {
      problem(tooLong(inputName, name, value));
      continue;
    }
    if (type !== 'PLAINTEXT' && value === '') {
      problem(`${inputName}: ${name} needs ${VALUE_HINT[type]}`);
      continue;
    }
    if (type === 'SECRETS_MANAGER') {
      if (looksLikeToken(value)) {
        problem(
          `secrets: ${name} looks like a token itself: store it in AWS Secrets Manager and give the secret's name; then rotate it`,
        );
        continue;
      }
      const parsed = parseSecretReference(value);
      if ('problem' in parsed) {
        problem(`secrets: ${name} is ${parsed.problem}`);
        continue;
      }
    }
    variables.push({ name, value, type });
  }
  return variables;
}

function readForwardNames(text: string, problem: (message: string) => void): string[] {
  const names: string[] = [];
  for (const name of text.split(/[\s,]+/).filter((n) => n !== '')) {
    const bad = nameProblem(name);
    if (bad) {
      problem(`forward-env: ${bad}`);
    } else if (NEVER_FORWARDED.test(name) || SECRET_WORDS.test(name)) {
      problem(
        `forward-env: ${name} looks like a credential and is never forwarded (it would be readable ` +
          'as PLAINTEXT by anyone who can see the build): store it in AWS Secrets Manager and ' +
          'pass it with the secrets input instead',
      );
    } else if (!names.includes(name)) {
      names.push(name);
    }
  }
  return names;
}
