/**
 * Reading the config: YAML (or JSON, which YAML reads too) into a checked Config. Every problem
 * found, in syntax, shape or cross-references, comes back in one ConfigError, each line naming
 * the key, its line in the file, what is wrong and the fix.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { CodebuildRunError } from '../errors.js';
import { lineOfPath as lineOf } from '../yaml-lines.js';
import { crossReferenceIssues, type PathIssue } from './cross-references.js';
import { type Config, ConfigSchema } from './schema.js';

export interface ConfigIssue {
  /** The key path as the user writes it, e.g. `rules[0].project`; null for the whole file. */
  key: string | null;
  line: number | null;
  message: string;
}

export class ConfigError extends CodebuildRunError {
  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(issues.map((issue) => formatIssue(source, issue)).join('\n'), 'config.invalid');
  }

  /** The first problem's line and key, as BuildspecError has them. */
  get line(): number | null {
    return this.issues[0]?.line ?? null;
  }

  get key(): string | null {
    return this.issues[0]?.key ?? null;
  }
}

function formatIssue(source: string, issue: ConfigIssue): string {
  const line = issue.line === null ? '' : ` line ${issue.line}:`;
  const key = issue.key === null ? '' : ` ${issue.key}:`;
  return `${source}:${line}${key} ${issue.message}`;
}

/** At most this many problems are listed: past that, the first ones are what to fix. */
const MAX_ISSUES = 20;

/** `source` names the file in errors, e.g. `config.yml`. Throws ConfigError. */
export function parseConfig(text: string, source: string): Config {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.slice(0, MAX_ISSUES).map((error) => ({
        key: null,
        line: lineCounter.linePos(error.pos[0]).line,
        message: `YAML syntax error: ${error.message.split('\n')[0]}`,
      })),
    );
  }
  const raw: unknown = document.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [
      {
        key: null,
        line: 1,
        message:
          'the config must be a mapping with hosts: and rules:, e.g. hosts: { github: { kind: github } }',
      },
    ]);
  }
  const parsed = ConfigSchema.safeParse(raw);
  const pathIssues = parsed.success
    ? crossReferenceIssues(parsed.data)
    : parsed.error.issues.flatMap((issue) => describeZodIssue(issue, raw));
  if (pathIssues.length > 0 || !parsed.success) {
    throw new ConfigError(
      source,
      pathIssues
        .map((issue) => ({
          key: issue.path.length > 0 ? keyPath(issue.path) : null,
          line: lineOf(document, lineCounter, issue.path),
          message: issue.message,
        }))
        // In file order, as the user reads and fixes them (sort is stable within a line).
        .sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER))
        .slice(0, MAX_ISSUES),
    );
  }
  return parsed.data;
}

/** Turns one zod issue into what the user should read, using the raw input for context. */
function describeZodIssue(issue: z.core.$ZodIssue, raw: unknown): PathIssue[] {
  const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: [...path, key],
      message: unknownKeyMessage(key, knownKeys(path)),
    }));
  }
  if (issue.code === 'invalid_key') {
    return [{ path, message: issue.issues[0]?.message ?? issue.message }];
  }
  if (issue.code === 'invalid_type' && valueAt(raw, path) === undefined) {
    return [{ path, message: `required: ${REQUIRED_HINTS[hintKey(path)] ?? issue.message}` }];
  }
  if (issue.code === 'invalid_value' && path.at(-1) === 'kind' && path[0] === 'hosts') {
    const given = valueAt(raw, path);
    const kinds = issue.values.map(String);
    const guess = typeof given === 'string' ? closest(given, kinds) : null;
    return [
      {
        path,
        message: `unknown kind ${JSON.stringify(given)}: use one of ${kinds.join(', ')}${guess ? ` (did you mean ${guess}?)` : ''}`,
      },
    ];
  }
  return [{ path, message: issue.message }];
}

const REQUIRED_HINTS: Record<string, string> = {
  hosts:
    'one entry per git host, e.g. hosts: { github: { kind: github, webhookSecret: { env: GH_WEBHOOK_SECRET } } }',
  rules:
    'the rules that map pushes to CodeBuild projects, e.g. rules: [{ repos: ["acme/*"], project: acme-ci }]',
  'hosts.*.kind':
    'which git host this is, one of github, gitlab, bitbucket, bitbucket-dc, gitea, forgejo, azure-devops',
  'rules.*.project': 'the CodeBuild project to start, e.g. project: my-app-ci',
  'rules.*.repos': 'globs on the repository full name, e.g. repos: ["acme/*"]',
};

const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': ['region', 'publicUrl', 'hosts', 'rules'],
  'hosts.*': [
    'kind',
    'apiUrl',
    'webhookSecret',
    'previousWebhookSecret',
    'apiToken',
    'cloneToken',
    'account',
  ],
  'rules.*': [
    'name',
    'hosts',
    'repos',
    'project',
    'branches',
    'tags',
    'paths',
    'ignorePaths',
    'skipCi',
    'buildspec',
    'overrides',
    'env',
    'secrets',
    'parameters',
    'context',
    'cancelSuperseded',
    'submodules',
    'lfs',
  ],
  'rules.*.overrides': [
    'image',
    'computeType',
    'privilegedMode',
    'timeoutInMinutes',
    'queuedTimeoutInMinutes',
  ],
};

function hintKey(path: (string | number)[]): string {
  // Host ids and rule indexes vary; the key names after them do not.
  return path
    .map((p, i) => (typeof p === 'number' || (i === 1 && path[0] === 'hosts') ? '*' : p))
    .join('.');
}

function knownKeys(path: (string | number)[]): readonly string[] {
  return KNOWN_KEYS[hintKey(path)] ?? [];
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const guess = closest(key, known);
  if (guess) return `unknown key; did you mean ${guess}?`;
  return known.length > 0 ? `unknown key; the keys here are ${known.join(', ')}` : 'unknown key';
}

/** The known word within a small edit distance of `word` (typos, case, a missing s), if any. */
function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function valueAt(raw: unknown, path: (string | number)[]): unknown {
  let value = raw;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** `rules[0].env.NAME`, `hosts.github.kind`; odd keys quoted: `env["my var"]`. */
export function keyPath(path: (string | number)[]): string {
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${part}]`;
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) return index === 0 ? part : `.${part}`;
      return `[${JSON.stringify(part)}]`;
    })
    .join('');
}
