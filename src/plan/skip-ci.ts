/**
 * "Do not build this push", as users write it in the head commit message. Case-insensitive;
 * inside brackets a space, `_` or `-` may separate the words (`[skip-ci]`), as GitLab allows.
 */

const BRACKETED = /\[(?:skip[ _-]ci|ci[ _-]skip|no[ _-]ci|skip[ _-]codebuild)\]/i;
const AZURE = /\*\*\*NO_CI\*\*\*/i;
/** GitHub's trailer: a `skip-checks: true` line in the message's last paragraph. */
const TRAILER = /^skip-checks:\s*true\s*$/im;

/** The marker as written in `message` (e.g. `[Skip CI]`), or null when it asks for a build. */
export function skipCiMarker(message: string | null): string | null {
  if (!message) return null;
  const marker = BRACKETED.exec(message) ?? AZURE.exec(message);
  if (marker) return marker[0];
  const paragraphs = message.trimEnd().split(/\r?\n[ \t]*\r?\n/);
  const trailer = TRAILER.exec(paragraphs.at(-1) ?? '');
  return trailer ? trailer[0].trim() : null;
}
