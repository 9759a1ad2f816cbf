/**
 * Azure Repos commit statuses:
 * POST {base}/{org}/{project}/_apis/git/repositories/{repoId}/commits/{sha}/statuses?api-version=7.1
 */
import { CodebuildRunError } from '../../errors.js';
import { truncate } from '../payload.js';
import { apiUrl, sendStatusRequest } from '../status-request.js';
import type { CommitState, CommitStatus, HostApi, StatusTarget } from '../types.js';

type AzureState = 'pending' | 'succeeded' | 'failed' | 'error' | 'notApplicable';

/**
 * No "running" or "canceled" here. Canceled maps to error: a canceled build says nothing
 * about the commit, and unlike notApplicable, error does not satisfy a required status policy.
 */
const AZURE_STATE: Record<CommitState, AzureState> = {
  pending: 'pending',
  running: 'pending',
  success: 'succeeded',
  failure: 'failed',
  error: 'error',
  canceled: 'error',
};

/** Azure documents no limits; 255 keeps both to one readable line like the other hosts. */
export const AZURE_DEVOPS_LIMITS = { description: 255, context: 255 } as const;

/** Used when the context has no `/` to split into Azure's genre and name. */
const DEFAULT_GENRE = 'codebuild-run';

export async function postAzureDevOpsStatus(
  api: HostApi,
  target: StatusTarget,
  status: CommitStatus,
): Promise<void> {
  const [organization, project] = organizationAndProject(target.repo.fullName);
  const repositoryId = target.repo.id;
  if (!repositoryId) {
    throw new CodebuildRunError(
      `Azure DevOps statuses are posted by repository id, and none is known for ${target.repo.fullName}`,
      'host.bad-repository',
    );
  }
  const e = encodeURIComponent;
  const path = `${e(organization)}/${e(project)}/_apis/git/repositories/${e(repositoryId)}/commits/${e(target.sha)}/statuses`;
  await sendStatusRequest(api, {
    host: 'Azure DevOps',
    method: 'POST',
    url: apiUrl(api.baseUrl, `${path}?api-version=7.1`),
    // A personal access token goes as the password of Basic auth with an empty user name.
    headers: { authorization: `Basic ${Buffer.from(`:${api.token}`).toString('base64')}` },
    body: {
      state: AZURE_STATE[status.state],
      description: truncate(status.description, AZURE_DEVOPS_LIMITS.description),
      ...(status.targetUrl ? { targetUrl: status.targetUrl } : {}),
      context: statusContext(truncate(status.context, AZURE_DEVOPS_LIMITS.context)),
    },
  });
}

/**
 * Azure shows a status as `genre/name`: splitting our context at its last `/` makes it read
 * the same as on the other hosts (`codebuild/app` → genre `codebuild`, name `app`).
 */
function statusContext(context: string): { name: string; genre: string } {
  const slash = context.lastIndexOf('/');
  if (slash <= 0 || slash === context.length - 1) return { name: context, genre: DEFAULT_GENRE };
  return { name: context.slice(slash + 1), genre: context.slice(0, slash) };
}

function organizationAndProject(fullName: string): [string, string] {
  const parts = fullName.split('/');
  if (parts.length !== 3 || parts.some((part) => !part)) {
    throw new CodebuildRunError(
      `"${fullName}" is not an Azure DevOps repository name of the form organization/project/repository`,
      'host.bad-repository',
    );
  }
  return [parts[0]!, parts[1]!];
}
