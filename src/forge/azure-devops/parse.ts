/** Azure DevOps service hook event → host-neutral events. Pure: call only after verify. */
import { WebhookPayloadError } from '../../errors.js';
import { isZeroSha, parseJsonBody, splitRef } from '../payload.js';
import type { ParseResult, PushEvent, Repository, WebhookRequest } from '../types.js';
import { AzureGitPushEvent, AzureServiceHookEvent } from './schema.js';

const HOST = 'Azure DevOps';

/** The subscription dialog's Test button sends a sample event under the all-zero subscription. */
const TEST_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000000';

export function parseAzureDevOps(request: WebhookRequest): ParseResult {
  const envelope = parseJsonBody(request, AzureServiceHookEvent, HOST);
  const eventName = envelope.eventType;
  if (eventName !== 'git.push') {
    return {
      outcome: 'ignored',
      eventName,
      reason: `Azure DevOps "${eventName}" events are not pushes; subscribe the service hook to "Code pushed" only`,
    };
  }
  if (envelope.subscriptionId === TEST_SUBSCRIPTION_ID) {
    return {
      outcome: 'ignored',
      eventName,
      reason: 'Azure DevOps test notification (all-zero subscription id): nothing was pushed',
    };
  }
  const { id, resource } = parseJsonBody(request, AzureGitPushEvent, HOST);
  const repo = repositoryOf(resource.repository);
  const pusher = resource.pushedBy?.uniqueName || resource.pushedBy?.displayName || null;
  const events: PushEvent[] = [];
  for (const update of resource.refUpdates) {
    const ref = splitRef(update.name);
    if (!ref) continue;
    const created = isZeroSha(update.oldObjectId);
    const deleted = isZeroSha(update.newObjectId);
    events.push({
      host: 'azure-devops',
      // One event id covers every ref of the push; each ref gets its own id so that builds of
      // two refs at the same commit do not share an idempotency token.
      deliveryId: resource.refUpdates.length === 1 ? id : `${id}:${update.name}`,
      repo,
      ref: update.name,
      refName: ref.refName,
      refKind: ref.refKind,
      before: created ? null : update.oldObjectId,
      // Azure does not peel tags here: for an annotated tag this is the tag object, which git
      // checks out as the commit it points to.
      sha: deleted ? null : update.newObjectId,
      created,
      deleted,
      headCommitMessage:
        resource.commits.find((c) => c.commitId === update.newObjectId)?.comment ?? null,
      // The push event lists commits without their files.
      changedPaths: null,
      pusher,
    });
  }
  if (events.length === 0) {
    return {
      outcome: 'ignored',
      eventName,
      reason: `none of the pushed refs (${resource.refUpdates.map((u) => u.name).join(', ')}) is a branch or a tag`,
    };
  }
  return { outcome: 'push', events };
}

type AzureRepository = AzureGitPushEvent['resource']['repository'];

function repositoryOf(repository: AzureRepository): Repository {
  const url = new URL(repository.remoteUrl);
  // Some remote URLs carry `<org>@` before the host; git would take it as the user name.
  url.username = '';
  url.password = '';
  const organization = organizationOf(url, repository.project.name);
  if (!organization) {
    throw new WebhookPayloadError(
      `the Azure DevOps delivery's resource.repository.remoteUrl (${url.href}) names no organization or collection before /_git/`,
    );
  }
  const defaultBranch = repository.defaultBranch ? splitRef(repository.defaultBranch) : null;
  return {
    fullName: `${organization}/${repository.project.name}/${repository.name}`,
    id: repository.id,
    cloneUrl: url.href,
    webUrl: url.href,
    defaultBranch: defaultBranch?.refName ?? null,
    private: null,
  };
}

/**
 * The organization the status API wants in its path: the first segment on dev.azure.com, the
 * subdomain on <org>.visualstudio.com, and on Azure DevOps Server the collection, which comes
 * before the project (or right before /_git/ when the URL leaves the project out).
 */
function organizationOf(url: URL, project: string): string | null {
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (url.hostname === 'dev.azure.com') return segments[0] ?? null;
  const legacy = /^([^.]+)\.visualstudio\.com$/.exec(url.hostname);
  if (legacy) return legacy[1] ?? null;
  const git = segments.indexOf('_git');
  if (git < 1) return null;
  const collectionAt = segments[git - 1] === project ? git - 2 : git - 1;
  return segments[collectionAt] ?? null;
}
