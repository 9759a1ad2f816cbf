/** Every host driver, by kind. A new host is one folder under src/forge/ and one line here. */
import { azureDevOpsDriver } from './azure-devops/index.js';
import { bitbucketDriver } from './bitbucket/index.js';
import { bitbucketDcDriver } from './bitbucket-dc/index.js';
import { forgejoDriver, giteaDriver } from './gitea/index.js';
import { githubDriver } from './github/index.js';
import { gitlabDriver } from './gitlab/index.js';
import type { ForgeDriver, HostKind } from './types.js';

export const drivers: Readonly<Record<HostKind, ForgeDriver>> = {
  github: githubDriver,
  gitlab: gitlabDriver,
  bitbucket: bitbucketDriver,
  'bitbucket-dc': bitbucketDcDriver,
  gitea: giteaDriver,
  forgejo: forgejoDriver,
  'azure-devops': azureDevOpsDriver,
};

export const HOST_KINDS = Object.keys(drivers) as HostKind[];

export function driverFor(kind: HostKind): ForgeDriver {
  return drivers[kind];
}
