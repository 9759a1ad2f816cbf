/**
 * Size limits StartBuild enforces on what this project sends. Neither is in the API model; both
 * are known from users who hit them, so they are checked here, before the request, with an error
 * that says which limit and what to do instead of CodeBuild's bare InvalidInputException.
 *
 * Lengths are counted in UTF-16 code units (JavaScript's `length`, as a JVM service counts them):
 * for text outside the Basic Multilingual Plane that overcounts, which errs on the safe side.
 */
import { CodebuildRunError } from '../errors.js';

/** The most characters CodeBuild accepts in an inline `buildspecOverride`. */
export const BUILDSPEC_MAX_CHARS = 25_600;
/** The most characters CodeBuild accepts in one environment variable's value. */
export const ENV_VALUE_MAX_CHARS = 4096;

export class BuildspecLimitError extends CodebuildRunError {
  constructor(
    readonly limit: 'buildspec-size' | 'env-value-size',
    message: string,
  ) {
    super(message, `buildspec.${limit}-exceeded`);
  }
}

export interface LimitOptions {
  /** Characters of the buildspec this project added (the clone step), to say what the user owns. */
  addedChars?: number;
}

/**
 * Throws BuildspecLimitError when `buildspec` is over BUILDSPEC_MAX_CHARS or any variable's value
 * is over ENV_VALUE_MAX_CHARS. The message names the variable, never its value.
 */
export function checkBuildspecLimits(
  buildspec: string,
  environmentVariables: ReadonlyArray<{ name: string; value: string }>,
  options: LimitOptions = {},
): void {
  if (buildspec.length > BUILDSPEC_MAX_CHARS) {
    const added = options.addedChars
      ? ` (${format(options.addedChars)} of them are the clone step codebuild-run adds)`
      : '';
    throw new BuildspecLimitError(
      'buildspec-size',
      `the buildspec is ${format(buildspec.length)} characters${added}, over CodeBuild's limit of ` +
        `${format(BUILDSPEC_MAX_CHARS)} characters for an inline buildspec (buildspecOverride). ` +
        'Shorten it by at least ' +
        `${format(buildspec.length - BUILDSPEC_MAX_CHARS)} characters: move long commands into a ` +
        'script in the repository and call it from the buildspec.',
    );
  }
  for (const variable of environmentVariables) {
    if (variable.value.length > ENV_VALUE_MAX_CHARS) {
      throw new BuildspecLimitError(
        'env-value-size',
        `environment variable ${variable.name} is ${format(variable.value.length)} characters, over ` +
          `CodeBuild's limit of ${format(ENV_VALUE_MAX_CHARS)} characters for one variable's value. ` +
          'Shorten the value, or pass it another way (a file in the repository, a Parameter Store ' +
          'or Secrets Manager reference).',
      );
    }
  }
}

function format(n: number): string {
  return n.toLocaleString('en-US');
}
