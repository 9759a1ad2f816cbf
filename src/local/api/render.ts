/** Stored builds and batches → the JSON BatchGetBuilds and BatchGetBuildBatches answer. */
import type { StoredBatch, StoredBuild, StoredPhase } from '../store/index.js';
import type { EndpointContext } from './context.js';
import { defined, seconds } from './wire.js';

function renderPhase(phase: StoredPhase): object {
  return defined({
    phaseType: phase.phaseType,
    phaseStatus: phase.phaseStatus,
    startTime: seconds(phase.startTime),
    endTime: seconds(phase.endTime),
    durationInSeconds: phase.durationInSeconds,
    contexts: phase.contexts,
  });
}

/**
 * Before the stream exists CodeBuild shows `null` in the ARN and link and no group or stream;
 * after, the link here opens the build's log as plain text from this endpoint.
 */
function renderLogs(ctx: EndpointContext, build: StoredBuild, origin: string): object {
  const { region, accountId } = ctx;
  const configs = {
    cloudWatchLogs: { status: 'ENABLED' },
    s3Logs: { status: 'DISABLED', encryptionDisabled: false },
  };
  if (!build.logs.started) {
    return {
      deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${region}#logEvent:group=null;stream=null`,
      cloudWatchLogsArn: `arn:aws:logs:${region}:${accountId}:log-group:null:log-stream:null`,
      ...configs,
    };
  }
  const { groupName, streamName } = build.logs;
  return {
    groupName,
    streamName,
    deepLink: `${origin}/_local/builds/${encodeURIComponent(build.id)}/log`,
    cloudWatchLogsArn: `arn:aws:logs:${region}:${accountId}:log-group:${groupName}:log-stream:${streamName}`,
    ...configs,
  };
}

export function renderBuild(ctx: EndpointContext, build: StoredBuild, origin: string): object {
  return defined({
    id: build.id,
    arn: build.arn,
    buildNumber: build.buildNumber,
    startTime: seconds(build.startTime),
    endTime: seconds(build.endTime),
    currentPhase: build.currentPhase,
    buildStatus: build.buildStatus,
    sourceVersion: build.sourceVersion,
    projectName: build.projectName,
    phases: build.phases.map(renderPhase),
    source: build.source,
    secondarySources: [],
    secondarySourceVersions: [],
    artifacts: { location: build.artifactsLocation ?? '' },
    secondaryArtifacts: [],
    cache: { type: 'NO_CACHE' },
    environment: build.environment,
    serviceRole: build.serviceRole,
    logs: renderLogs(ctx, build, origin),
    timeoutInMinutes: build.timeoutInMinutes,
    queuedTimeoutInMinutes: build.queuedTimeoutInMinutes,
    buildComplete: build.buildComplete,
    initiator: build.initiator,
    encryptionKey: `arn:aws:kms:${ctx.region}:${ctx.accountId}:alias/aws/s3`,
    exportedEnvironmentVariables: build.exportedEnvironmentVariables,
    buildBatchArn: build.buildBatchArn,
  });
}

export function renderBatch(ctx: EndpointContext, batch: StoredBatch): object {
  return defined({
    id: batch.id,
    arn: batch.arn,
    startTime: seconds(batch.startTime),
    endTime: seconds(batch.endTime),
    currentPhase: batch.currentPhase,
    buildBatchStatus: batch.buildBatchStatus,
    sourceVersion: batch.sourceVersion,
    projectName: batch.projectName,
    phases: batch.phases.map(renderPhase),
    source: batch.source,
    secondarySources: [],
    secondarySourceVersions: [],
    artifacts: { location: '' },
    secondaryArtifacts: [],
    cache: { type: 'NO_CACHE' },
    environment: batch.environment,
    serviceRole: batch.serviceRole,
    logConfig: { cloudWatchLogs: { status: 'ENABLED' }, s3Logs: { status: 'DISABLED' } },
    buildTimeoutInMinutes: batch.buildTimeoutInMinutes,
    queuedTimeoutInMinutes: batch.queuedTimeoutInMinutes,
    complete: batch.complete,
    initiator: batch.initiator,
    encryptionKey: `arn:aws:kms:${ctx.region}:${ctx.accountId}:alias/aws/s3`,
    buildBatchNumber: batch.buildBatchNumber,
    buildGroups: batch.buildGroups.map((group) =>
      defined({
        identifier: group.identifier,
        dependsOn: group.dependsOn,
        ignoreFailure: group.ignoreFailure,
        currentBuildSummary: group.buildId
          ? defined({
              arn: `arn:aws:codebuild:${ctx.region}:${ctx.accountId}:build/${group.buildId}`,
              requestedOn: seconds(group.requestedOn),
              buildStatus: group.buildStatus,
            })
          : undefined,
        priorBuildSummaryList: [],
      }),
    ),
  });
}
