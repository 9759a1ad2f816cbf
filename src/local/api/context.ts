/** What every operation of the local CodeBuild works with, and the ARNs it hands out. */
import type { Clock, Logger } from '../../deps.js';
import type { LocalStore } from '../store/index.js';

export interface EndpointContext {
  store: LocalStore;
  clock: Clock;
  logger: Logger;
  region: string;
  accountId: string;
}

export const projectArn = (ctx: EndpointContext, name: string) =>
  `arn:aws:codebuild:${ctx.region}:${ctx.accountId}:project/${name}`;

export const buildArn = (ctx: EndpointContext, id: string) =>
  `arn:aws:codebuild:${ctx.region}:${ctx.accountId}:build/${id}`;

export const batchArn = (ctx: EndpointContext, id: string) =>
  `arn:aws:codebuild:${ctx.region}:${ctx.accountId}:build-batch/${id}`;

export const defaultServiceRole = (ctx: EndpointContext) =>
  `arn:aws:iam::${ctx.accountId}:role/codebuild-run-local`;

/** `project:uuid` or its ARN → the id; anything else is returned as given (and not found). */
export function idFromArnOrId(value: string, kind: 'build' | 'build-batch'): string {
  const marker = `:${kind}/`;
  const at = value.startsWith('arn:') ? value.indexOf(marker) : -1;
  return at >= 0 ? value.slice(at + marker.length) : value;
}

/** A project name, or the name inside a project ARN. */
export function projectNameOf(value: string): string {
  const at = value.startsWith('arn:') ? value.indexOf(':project/') : -1;
  return at >= 0 ? value.slice(at + ':project/'.length) : value;
}
