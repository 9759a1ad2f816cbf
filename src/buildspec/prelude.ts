// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings here are shell text, not templates
/**
 * The clone step a NO_SOURCE build runs first: a POSIX sh script whose text is constant (it
 * depends only on the submodules/lfs switches), with every value of the push read from CBR_*
 * environment variables sent as StartBuild overrides. Nothing from the push is ever pasted into
 * command text, so a branch named `$(curl …)` stays a string.
 *
 * The token arrives as CBR_GIT_TOKEN, a SECRETS_MANAGER override that CodeBuild resolves. The script
 * turns it into an `Authorization` header given to git through GIT_CONFIG_COUNT/KEY/VALUE variables
 * (git >= 2.31) that exist only in the script's subshell, scoped to the clone URL's origin: it is
 * never in argv, never in `.git/config`, never printed, and it is unset before the user's commands.
 */
import { CodebuildRunError } from '../errors.js';
import type { CloneAuth, HostKind } from '../forge/types.js';

export interface CloneSource {
  cloneUrl: string;
  sha: string;
  /** `refs/heads/x` or `refs/tags/y` */
  ref: string;
  refKind: 'branch' | 'tag';
  refName: string;
  host: HostKind;
  before: string | null;
  /** Secrets Manager reference (`secret-id` or `secret-id:json-key`); null for public repos. */
  tokenSecretRef: string | null;
  auth: CloneAuth;
  submodules?: boolean;
  lfs?: boolean;
}

export interface EnvironmentVariable {
  name: string;
  value: string;
  type: 'PLAINTEXT' | 'SECRETS_MANAGER';
}

/**
 * Prefix of every variable the clone step reads. Not `CODEBUILD_`: StartBuild refuses overrides
 * with that prefix.
 */
export const CLONE_VARIABLE_PREFIX = 'CBR_';

/** Names of the variables, for callers and tests; the script below spells the same names. */
export const CLONE_VARIABLES = {
  cloneUrl: 'CBR_CLONE_URL',
  sha: 'CBR_SHA',
  ref: 'CBR_REF',
  trigger: 'CBR_TRIGGER',
  host: 'CBR_HOST',
  before: 'CBR_BEFORE',
  auth: 'CBR_AUTH',
  authUser: 'CBR_AUTH_USER',
  authScope: 'CBR_AUTH_URL',
  token: 'CBR_GIT_TOKEN',
  /** Set to 1 by the clone step once the checkout is complete; read by the phase guards. */
  cloned: 'CBR_CLONE_OK',
} as const;

export class CloneSourceError extends CodebuildRunError {
  constructor(message: string) {
    super(message, 'buildspec.bad-clone-source');
  }
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Refuses values the clone step must never be handed; names the field and what is expected. */
export function validateCloneSource(source: CloneSource): void {
  let url: URL;
  try {
    url = new URL(source.cloneUrl);
  } catch {
    throw new CloneSourceError(`clone URL is not a URL: use the repository's https:// clone URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CloneSourceError(
      `clone URL must be http(s) (found ${url.protocol}): the clone step fetches over HTTPS only`,
    );
  }
  if (url.username || url.password) {
    throw new CloneSourceError(
      'clone URL carries credentials: use the plain URL and give the token as a Secrets Manager reference',
    );
  }
  // The URL parser silently drops tabs and newlines; the value git gets must be what was checked.
  if (/[\u0000-\u001f\u007f]/.test(source.cloneUrl)) {
    throw new CloneSourceError('clone URL contains control characters');
  }
  if (!SHA.test(source.sha)) {
    throw new CloneSourceError(
      `sha must be a full lower-case commit id (40 or 64 hex digits), found "${source.sha.slice(0, 80)}"`,
    );
  }
  if (source.before !== null && !SHA.test(source.before)) {
    throw new CloneSourceError('before must be a full commit id or null');
  }
  const prefix = source.refKind === 'branch' ? 'refs/heads/' : 'refs/tags/';
  if (source.ref !== `${prefix}${source.refName}` || source.refName === '') {
    throw new CloneSourceError(
      `ref "${source.ref}" does not match refKind ${source.refKind} and refName "${source.refName}": expected "${prefix}${source.refName}"`,
    );
  }
  if (source.ref.includes('\u0000')) throw new CloneSourceError('ref contains a NUL character');
  if (source.tokenSecretRef !== null && source.tokenSecretRef.trim() === '') {
    throw new CloneSourceError('tokenSecretRef is empty: give a Secrets Manager reference or null');
  }
  if (source.auth.scheme === 'basic' && source.auth.username.includes(':')) {
    throw new CloneSourceError('the clone username may not contain ":" (HTTP Basic)');
  }
}

/** The overrides the clone step reads. The token is only ever its Secrets Manager reference. */
export function cloneEnvironment(source: CloneSource): EnvironmentVariable[] {
  validateCloneSource(source);
  const plain = (name: string, value: string): EnvironmentVariable => ({
    name,
    value,
    type: 'PLAINTEXT',
  });
  const v = CLONE_VARIABLES;
  const variables = [
    plain(v.cloneUrl, source.cloneUrl),
    plain(v.sha, source.sha),
    plain(v.ref, source.ref),
    plain(v.trigger, `${source.refKind}/${source.refName}`),
    plain(v.host, source.host),
    // CodeBuild reports a created ref's previous commit as zeros, as the hosts send it.
    plain(v.before, source.before ?? '0'.repeat(source.sha.length)),
  ];
  if (source.tokenSecretRef === null) {
    variables.push(plain(v.auth, 'none'));
    return variables;
  }
  variables.push(plain(v.auth, source.auth.scheme));
  if (source.auth.scheme === 'basic') variables.push(plain(v.authUser, source.auth.username));
  // The header goes only to the clone URL's origin, never to another host a submodule names.
  variables.push(plain(v.authScope, `${new URL(source.cloneUrl).origin}/`));
  variables.push({ name: v.token, value: source.tokenSecretRef, type: 'SECRETS_MANAGER' });
  return variables;
}

/**
 * The clone step: the first command of the install phase.
 *
 * Failure design. CodeBuild ends a phase's `commands` at the first failing command, runs its
 * `finally`, then goes to FINALIZING after an INSTALL/PRE_BUILD failure, or on to the next phase when
 * the phase says `on-failure: CONTINUE` (and after BUILD, whose failure still runs POST_BUILD).
 * So:
 *   1. the clone step is the first install command: when it fails (its last line is a test of
 *      CBR_CLONE_OK, and a multi-line command reports its last status) no later install command
 *      runs and the install phase, hence the build, is FAILED;
 *   2. every other `commands` and every `finally` list starts with `cloneGuardCommand`, which fails
 *      unless the clone step succeeded; so a user's CONTINUE (or a BUILD failure moving on to
 *      POST_BUILD) reaches no user command either: each later phase fails at its first command.
 *      For `finally` lists this relies on a failing command ending the block, as it ends
 *      `commands`.
 * All work happens in a subshell `( … )`: its `cd`, variables, functions and git settings die with
 * it. The outer shell only sets CBR_CLONE_OK, exports the CODEBUILD_* variables a native source
 * would have, and unsets the token, with no `set` option touched, so nothing leaks into the
 * user's commands (which share this shell in buildspec 0.2). The script uses `printf`, never
 * `echo` (dash's echo interprets backslashes in values), and no bash-only syntax.
 */
export function clonePreludeScript(options: { submodules?: boolean; lfs?: boolean } = {}): string {
  const lines = [
    '# codebuild-run: check out the pushed commit; every value comes from the CBR_* variables',
    'CBR_CLONE_OK=0; export CBR_CLONE_OK',
    'if (',
    '  cbr_fail() { printf "codebuild-run: clone failed: %s\\n" "$*" >&2; exit 1; }',
    '  cbr_say() { printf "codebuild-run: %s\\n" "$*"; }',
    '  unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES',
    '  unset GIT_ASKPASS SSH_ASKPASS GIT_TRACE GIT_TRACE_CURL GIT_TRACE_PACKET GIT_CURL_VERBOSE GIT_CONFIG_PARAMETERS',
    '  GIT_TERMINAL_PROMPT=0; GIT_LFS_SKIP_SMUDGE=1; export GIT_TERMINAL_PROMPT GIT_LFS_SKIP_SMUDGE',
    "  command -v git >/dev/null 2>&1 || cbr_fail 'git is not installed in the build image'",
    '  [ -n "${CODEBUILD_SRC_DIR:-}" ] || cbr_fail \'CODEBUILD_SRC_DIR is not set\'',
    '  case "${CBR_AUTH:-}" in',
    '    none) ;;',
    '    basic|bearer)',
    '      [ -n "${CBR_GIT_TOKEN:-}" ] || cbr_fail \'CBR_GIT_TOKEN is empty: check the Secrets Manager reference of the token\'',
    '      case "$(git version)" in',
    "        'git version 1.'*|'git version 2.'[0-9]|'git version 2.'[0-9].*|'git version 2.'[12][0-9]|'git version 2.'[12][0-9].*|'git version 2.30'*)",
    '          cbr_fail "$(git version) is too old: cloning with a token needs git 2.31 or later";;',
    '      esac',
    '      if [ "$CBR_AUTH" = basic ]; then',
    "        command -v base64 >/dev/null 2>&1 || cbr_fail 'base64 is not installed in the build image'",
    // printf is a builtin: the token reaches base64 on stdin, never in an argument list.
    '        cbr_header="Basic $(printf "%s:%s" "${CBR_AUTH_USER:-}" "$CBR_GIT_TOKEN" | base64 | tr -d "\\n")"',
    '      else',
    '        cbr_header="Bearer $CBR_GIT_TOKEN"',
    '      fi',
    '      GIT_CONFIG_COUNT=1; GIT_CONFIG_KEY_0="http.${CBR_AUTH_URL:-}.extraHeader"',
    '      GIT_CONFIG_VALUE_0="Authorization: $cbr_header"',
    '      export GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0; unset cbr_header;;',
    "    *) cbr_fail 'CBR_AUTH must be none, basic or bearer';;",
    '  esac',
    '  unset CBR_GIT_TOKEN',
    '  cbr_say "fetching $CBR_SHA ($CBR_REF) from $CBR_CLONE_URL"',
    '  mkdir -p "$CODEBUILD_SRC_DIR" && cd "$CODEBUILD_SRC_DIR" || cbr_fail "cannot enter $CODEBUILD_SRC_DIR"',
    "  git init --quiet . || cbr_fail 'git init failed'",
    '  git config remote.origin.url "$CBR_CLONE_URL" || cbr_fail "cannot set the remote URL"',
    '  if ! git fetch --no-tags --depth 1 origin "$CBR_SHA"; then',
    // Hosts that refuse a want of an unadvertised object: take the ref, deepen (bounded) to the sha.
    '    cbr_say "fetching the commit by its sha failed; fetching $CBR_REF and deepening to find it"',
    '    git fetch --no-tags --depth 1 origin "+$CBR_REF:refs/codebuild-run/ref" || cbr_fail "fetching $CBR_REF failed"',
    '    for cbr_deepen in 9 90 900; do',
    '      git cat-file -e "$CBR_SHA^{commit}" 2>/dev/null && break',
    '      git fetch --no-tags --deepen "$cbr_deepen" origin "+$CBR_REF:refs/codebuild-run/ref" || cbr_fail "deepening $CBR_REF failed"',
    '    done',
    '  fi',
    '  git cat-file -e "$CBR_SHA^{commit}" 2>/dev/null || cbr_fail "commit $CBR_SHA is not within 1000 commits of $CBR_REF (was it force-pushed away?)"',
    '  git checkout --quiet --force --detach "$CBR_SHA" || cbr_fail "checking out $CBR_SHA failed"',
    '  [ "$(git rev-parse HEAD)" = "$CBR_SHA" ] || cbr_fail "HEAD is not $CBR_SHA after the checkout"',
  ];
  if (options.submodules) {
    lines.push(
      "  git submodule update --init --recursive --depth 1 || cbr_fail 'fetching submodules failed'",
    );
  }
  if (options.lfs) {
    lines.push(
      "  git lfs version >/dev/null 2>&1 || cbr_fail 'git-lfs is not installed in the build image (lfs is on for this build)'",
      "  git lfs pull || cbr_fail 'git lfs pull failed'",
    );
  }
  lines.push(
    "  git log -1 --format='codebuild-run: checked out %H: %s'",
    '); then',
    '  CBR_CLONE_OK=1',
    '  export CODEBUILD_RESOLVED_SOURCE_VERSION="$CBR_SHA" CODEBUILD_SOURCE_VERSION="$CBR_SHA"',
    '  export CODEBUILD_SOURCE_REPO_URL="$CBR_CLONE_URL" CODEBUILD_WEBHOOK_EVENT=PUSH',
    '  export CODEBUILD_WEBHOOK_TRIGGER="$CBR_TRIGGER" CODEBUILD_WEBHOOK_HEAD_REF="$CBR_REF"',
    '  export CODEBUILD_WEBHOOK_PREV_COMMIT="$CBR_BEFORE"',
    '  unset CBR_GIT_TOKEN',
    'fi',
    '[ "$CBR_CLONE_OK" = 1 ]',
  );
  return `${lines.join('\n')}\n`;
}

/** The command at the head of every phase list after the clone step; see clonePreludeScript. */
export const cloneGuardCommand =
  '[ "${CBR_CLONE_OK:-}" = 1 ] || { printf "%s\\n" "codebuild-run: not running this phase: the clone step in the install phase failed" >&2; false; }';
