/**
 * Gitea and Forgejo (Codeberg included): one driver, two flavours that differ only in their
 * header names. Both are self-hosted by nature, so the API base (the instance root, e.g.
 * `https://codeberg.org`) is always configured.
 */
import { CodebuildRunError } from '../../errors.js';
import type { ForgeDriver } from '../types.js';
import { verifyHmacSha256 } from '../verify.js';
import { flavourHeader, type GiteaFlavour, parseGitea } from './parse.js';
import { GITEA_LIMITS, postGiteaStatus } from './status.js';

export function createGiteaDriver(flavour: GiteaFlavour): ForgeDriver {
  const host = flavour.displayName;
  return {
    kind: flavour.kind,
    displayName: host,
    defaultApiBaseUrl: null,
    limits: GITEA_LIMITS,
    tagShaMayBeTagObject: false,
    verify(request, secrets) {
      // A bare hex HMAC-SHA256 of the body, no `sha256=` prefix.
      const { name } = flavourHeader(request, flavour, 'Signature');
      verifyHmacSha256(request, secrets, { header: name, prefix: '', host });
    },
    parse: (request) => parseGitea(request, flavour),
    postCommitStatus: (api, target, status) => postGiteaStatus(host, api, target, status),
    cloneAuth(account) {
      if (!account) {
        throw new CodebuildRunError(
          `cloning from ${host} with a token needs the account the token belongs to: set \`account\` on this ${host} connection`,
          'config.missing-account',
        );
      }
      return { scheme: 'basic', username: account };
    },
  };
}

export const giteaDriver = createGiteaDriver({
  kind: 'gitea',
  displayName: 'Gitea',
  headerPrefixes: ['X-Gitea'],
});

export const forgejoDriver = createGiteaDriver({
  kind: 'forgejo',
  displayName: 'Forgejo',
  headerPrefixes: ['X-Forgejo', 'X-Gitea'],
});
