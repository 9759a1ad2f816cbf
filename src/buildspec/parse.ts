/**
 * Reading a buildspec: YAML syntax errors and schema errors both come back as one BuildspecError
 * naming the line and the key, and the YAML document is kept so the user's content (comments,
 * order, quoting) survives when it is written back out.
 */
import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import { CodebuildRunError } from '../errors.js';
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

/** The line of the deepest key (or list item) of `path` that exists in the document. */
function lineOf(document: Document, counter: LineCounter, path: string[]): number | null {
  for (let depth = path.length; depth > 0; depth--) {
    const keys = path.slice(0, depth).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    // Prefer the key itself: `phase:` is on the line the user must fix, its value may be below.
    const parent = depth === 1 ? document.contents : document.getIn(keys.slice(0, -1), true);
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (isScalar(item.key) && item.key.value === keys.at(-1) && item.key.range) {
          return counter.linePos(item.key.range[0]).line;
        }
      }
    }
    const node = document.getIn(keys, true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return null;
}
