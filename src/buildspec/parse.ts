/**
 * Reading a buildspec: YAML syntax errors and schema errors both come back as one BuildspecError
 * naming the line and the key, and the YAML document is kept so the user's content (comments,
 * order, quoting) survives when it is written back out.
 */
import { type Document, LineCounter, parseDocument } from 'yaml';
import { CodebuildRunError } from '../errors.js';
import { lineOfPath as lineOf } from '../yaml-lines.js';
import { Buildspec } from './schema.js';

export class BuildspecError extends CodebuildRunError {
  constructor(
    message: string,
    readonly source: string,
    readonly line: number | null,
    readonly key: string | null,
  ) {
    super(message, 'buildspec.invalid');
  }
}

export interface ParsedBuildspec {
  spec: Buildspec;
  /** The YAML document as written, for edits that keep the user's formatting. */
  document: Document;
}

/** `source` names the buildspec in errors: a path, `inline buildspec`, … */
export function parseBuildspec(text: string, source = 'buildspec'): ParsedBuildspec {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = document.errors[0];
  if (syntax) {
    const line = lineCounter.linePos(syntax.pos[0]).line;
    throw new BuildspecError(
      `${source}: line ${line}: YAML syntax error: ${syntax.message.split('\n')[0]}`,
      source,
      line,
      null,
    );
  }
  const raw: unknown = document.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BuildspecError(
      `${source}: a buildspec must be a YAML mapping with version: 0.2 and phases`,
      source,
      1,
      null,
    );
  }
  const version = String((raw as Record<string, unknown>).version ?? '');
  if (version !== '0.2') {
    const hint =
      version === '0.1'
        ? 'version 0.1 runs each command in its own shell, so variables and the clone step would not carry over; use version: 0.2'
        : 'set version: 0.2';
    throw new BuildspecError(
      `${source}: version must be 0.2 (found ${version ? `"${version}"` : 'none'}): ${hint}`,
      source,
      lineOf(document, lineCounter, ['version']),
      'version',
    );
  }
  const parsed = Buildspec.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    let path = issue.path.map(String);
    let message = issue.message;
    if (issue.code === 'invalid_type' && path.length === 2 && path[0] === 'phases') {
      message = 'a phase needs commands: a list of commands';
    }
    if (issue.code === 'unrecognized_keys') {
      path = [...path, issue.keys[0]!];
      message = `unknown key "${issue.keys[0]}"${path.length === 1 ? ' at the top level' : ''}`;
    }
    const key = path.join('.');
    throw new BuildspecError(
      `${source}: line ${lineOf(document, lineCounter, path) ?? '?'}: ${key}: ${message}`,
      source,
      lineOf(document, lineCounter, path),
      key,
    );
  }
  return { spec: parsed.data, document };
}
