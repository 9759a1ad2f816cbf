/**
 * The glob lists of a rule (repos, branches, tags, paths) and how they match. One place decides
 * both what the config accepts and how the planner matches, so they cannot disagree.
 *
 * Syntax (picomatch): `*` matches within one path segment, `**` across segments, `?` one
 * character, `[abc]` a class, `{a,b}` alternatives. A leading `!` excludes: a name matches a list
 * when it matches at least one positive glob (or the list has only exclusions) and no exclusion.
 */
import picomatch from 'picomatch';

export type GlobField = 'repos' | 'branches' | 'tags' | 'paths' | 'ignorePaths';

/**
 * Repository names are case-insensitive on every supported host; refs and file paths are not.
 * Paths match dotfiles too (`src/**` covers `src/.eslintrc`): a changed dotfile is a change.
 */
function optionsFor(field: GlobField): picomatch.PicomatchOptions {
  return {
    nocase: field === 'repos',
    dot: field === 'paths' || field === 'ignorePaths',
    strictBrackets: true,
  };
}

/** One example per field, for the fix in error messages. */
export const GLOB_EXAMPLES: Record<GlobField, string> = {
  repos: 'repos: ["acme/*"]',
  branches: 'branches: [main, "release/*"]',
  tags: 'tags: ["v*"]',
  paths: 'paths: ["src/**"]',
  ignorePaths: 'ignorePaths: ["docs/**"]',
};

/** Why `glob` is not a usable glob for `field`, with the fix; null when it is fine. */
export function globProblem(glob: string, field: GlobField): string | null {
  if (glob.trim() === '')
    return `an empty glob matches nothing: remove it or write e.g. ${GLOB_EXAMPLES[field]}`;
  const body = glob.startsWith('!') ? glob.slice(1) : glob;
  if (body.startsWith('!')) return `"${glob}": write a single ! to exclude`;
  const isPath = field === 'paths' || field === 'ignorePaths';
  // `.*` is a dotfile glob in a path, but in a name it is nearly always a regular expression.
  if (/^\^|\$$|\\[dws]/.test(body) || (!isPath && /(^|[^*])\.\*/.test(body))) {
    return `"${glob}" looks like a regular expression; globs use * within a segment and ** across, e.g. ${GLOB_EXAMPLES[field]}`;
  }
  if (field === 'branches' && body.startsWith('refs/')) {
    return `"${glob}": branches match the short name; write "${body.replace(/^refs\/heads\//, '')}"`;
  }
  if (field === 'tags' && body.startsWith('refs/')) {
    return `"${glob}": tags match the short name; write "${body.replace(/^refs\/tags\//, '')}"`;
  }
  if (isPath && (body.startsWith('/') || body.startsWith('./'))) {
    return `"${glob}": paths are relative to the repository root; write "${body.replace(/^\.?\/+/, '')}"`;
  }
  try {
    picomatch(body, optionsFor(field));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split(' - ')[0] : 'unparsable';
    return `"${glob}" is not a valid glob (${reason}); escape a literal [ { ( with a backslash`;
  }
  return null;
}

export type NameMatcher = (name: string) => boolean;

/** A matcher for a list already checked with globProblem. An empty list matches nothing. */
export function globMatcher(globs: readonly string[], field: GlobField): NameMatcher {
  const options = optionsFor(field);
  const include = globs.filter((g) => !g.startsWith('!'));
  const exclude = globs.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  if (globs.length === 0) return () => false;
  const included = include.length > 0 ? picomatch(include, options) : () => true;
  const excluded = exclude.length > 0 ? picomatch(exclude, options) : () => false;
  return (name) => included(name) && !excluded(name);
}
