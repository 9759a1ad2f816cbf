/**
 * Puts the clone step into a user's buildspec for a NO_SOURCE build. The YAML Document is edited
 * in place (on a copy), so the user's comments, key order and quoting survive in what is sent.
 */
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  type Node,
  Pair,
  Scalar,
  YAMLMap,
  YAMLSeq,
} from 'yaml';
import { CodebuildRunError } from '../errors.js';
import { checkBuildspecLimits } from './limits.js';
import { type ParsedBuildspec, parseBuildspec } from './parse.js';
import {
  CLONE_VARIABLE_PREFIX,
  type CloneSource,
  cloneEnvironment,
  cloneGuardCommand,
  clonePreludeScript,
  type EnvironmentVariable,
} from './prelude.js';
import { PHASE_NAMES } from './schema.js';

export interface InjectedBuildspec {
  /** The buildspec text to send as `buildspecOverride`. */
  buildspec: string;
  /** The variables to send as `environmentVariablesOverride` with it. */
  environmentVariables: EnvironmentVariable[];
}

/**
 * Returns the user's buildspec with the clone step as its first install command and a guard at
 * the head of every other command list (see clonePreludeScript for why), and the variables the
 * step reads. Throws CloneSourceError for a bad source, CodebuildRunError when the buildspec uses a
 * CBR_ variable name, BuildspecLimitError when the result is over a CodeBuild limit.
 */
export function injectClonePrelude(
  buildspec: ParsedBuildspec,
  source: CloneSource,
): InjectedBuildspec {
  const environmentVariables = cloneEnvironment(source);
  refuseReservedNames(buildspec);
  const prelude = clonePreludeScript({ submodules: source.submodules, lfs: source.lfs });

  const document = buildspec.document.clone();
  const root = document.contents;
  if (!isMap(root)) {
    throw new CodebuildRunError('a buildspec must be a YAML mapping', 'buildspec.invalid');
  }
  root.flow = false;
  const existing = ownChild(document, root, 'phases');
  const phases = isMap(existing) ? existing : new YAMLMap();
  if (phases !== existing) root.set('phases', phases);
  phases.flow = false;
  // Copy every aliased phase or list first, so an edit below never reaches a node shared elsewhere.
  for (const name of PHASE_NAMES) {
    const phase = ownChild(document, phases, name);
    if (isMap(phase)) {
      ownChild(document, phase, 'commands');
      ownChild(document, phase, 'finally');
    }
  }

  let guards = 0;
  const found: unknown = phases.get('install', true);
  const install = isMap(found) ? found : new YAMLMap();
  if (install !== found) {
    install.set('commands', new YAMLSeq());
    phases.items.unshift(new Pair(new Scalar('install'), install));
  }
  install.flow = false;
  const installCommands: unknown = install.get('commands', true);
  if (!isSeq(installCommands)) {
    throw new CodebuildRunError(
      'buildspec phases.install.commands must be a list',
      'buildspec.invalid',
    );
  }
  installCommands.flow = false;
  const step = new Scalar(prelude);
  step.type = Scalar.BLOCK_LITERAL;
  installCommands.items.unshift(step);

  for (const name of PHASE_NAMES) {
    const phase: unknown = phases.get(name, true);
    if (!isMap(phase)) continue;
    for (const list of name === 'install' ? ['finally'] : ['commands', 'finally']) {
      const commands: unknown = phase.get(list, true);
      if (!isSeq(commands)) continue;
      commands.items.unshift(new Scalar(cloneGuardCommand));
      guards++;
    }
  }

  const text = document.toString({ lineWidth: 0, flowCollectionPadding: false });
  // The text must read back as a buildspec whose first command is the clone step, unchanged.
  const reread = parseBuildspec(text, 'buildspec with the clone step');
  if (reread.spec.phases?.install?.commands[0] !== prelude) {
    throw new CodebuildRunError(
      'the clone step did not survive writing the buildspec back out',
      'buildspec.inject-failed',
    );
  }
  checkBuildspecLimits(text, environmentVariables, {
    addedChars: prelude.length + guards * cloneGuardCommand.length,
  });
  return { buildspec: text, environmentVariables };
}

/** The value under `key`, an alias replaced by its own copy of the aliased node. */
function ownChild(document: Document, map: YAMLMap, key: string): unknown {
  const pair = map.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === key);
  if (!pair) return undefined;
  if (isAlias(pair.value)) {
    const target = pair.value.resolve(document);
    if (isCollection(target) || isScalar(target)) {
      const copy = (target as Node).clone() as Node;
      copy.anchor = undefined;
      pair.value = copy;
    }
  }
  return pair.value;
}

function refuseReservedNames({ spec }: ParsedBuildspec): void {
  const env = spec.env ?? {};
  const sections: Array<[string, string[]]> = [
    ['env.variables', Object.keys(env.variables ?? {})],
    ['env.parameter-store', Object.keys(env['parameter-store'] ?? {})],
    ['env.secrets-manager', Object.keys(env['secrets-manager'] ?? {})],
    ['env.exported-variables', env['exported-variables'] ?? []],
  ];
  for (const [section, names] of sections) {
    const name = names.find((n) => n.startsWith(CLONE_VARIABLE_PREFIX));
    if (name) {
      throw new CodebuildRunError(
        `buildspec ${section}: ${name}: names starting with ${CLONE_VARIABLE_PREFIX} are used by codebuild-run's clone step; rename the variable`,
        'buildspec.reserved-variable',
      );
    }
  }
}
