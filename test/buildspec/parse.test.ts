import { describe, expect, it } from 'vitest';
import { BuildspecError, parseBuildspec } from '../../src/buildspec/index.js';

function errorOf(text: string): BuildspecError {
  try {
    parseBuildspec(text, 'buildspec.yml');
  } catch (error) {
    if (error instanceof BuildspecError) return error;
    throw error;
  }
  throw new Error('expected a BuildspecError');
}

describe('parseBuildspec', () => {
  it('reads phases, env and commands, numbers and booleans as strings', () => {
    const { spec } = parseBuildspec(
      [
        'version: 0.2',
        'env:',
        '  shell: /bin/sh',
        '  variables: { COUNT: 3, DEBUG: true }',
        '  exported-variables: [OUT]',
        'phases:',
        '  build:',
        '    on-failure: RETRY-2',
        '    commands: [make, 42]',
        '    finally: [echo done]',
      ].join('\n'),
    );
    expect(spec.env?.shell).toBe('/bin/sh');
    expect(spec.env?.variables).toEqual({ COUNT: '3', DEBUG: 'true' });
    expect(spec.phases?.build).toEqual({
      'on-failure': 'RETRY-2',
      commands: ['make', '42'],
      finally: ['echo done'],
    });
  });

  it('explains why version 0.1 is refused', () => {
    const error = errorOf('version: 0.1\nphases:\n  build:\n    commands: [make]\n');
    expect(error.key).toBe('version');
    expect(error.message).toMatch(/0\.1 runs each command in its own shell/);
  });

  it('names the line of a YAML syntax error', () => {
    const error = errorOf('version: 0.2\nphases: [\n');
    expect(error.line).toBe(3);
    expect(error.message).toMatch(/^buildspec\.yml: line 3: YAML syntax error/);
  });

  it('names an unknown top-level key on its own line', () => {
    const error = errorOf('version: 0.2\nphase:\n  build:\n    commands: [make]\n');
    expect(error).toMatchObject({ line: 2, key: 'phase' });
    expect(error.message).toContain('unknown key "phase" at the top level');
  });

  it('names a misspelt key inside a phase', () => {
    const error = errorOf(
      'version: 0.2\nphases:\n  build:\n    commands: [make]\n    finaly: [x]\n',
    );
    expect(error).toMatchObject({ line: 5, key: 'phases.build.finaly' });
  });

  it('names the item of a wrong type', () => {
    const error = errorOf(
      'version: 0.2\nphases:\n  build:\n    commands:\n      - ok\n      - {a: b}\n',
    );
    expect(error).toMatchObject({ line: 6, key: 'phases.build.commands.1' });
  });

  it('refuses an on-failure value CodeBuild does not know', () => {
    const error = errorOf(
      'version: 0.2\nphases:\n  build:\n    on-failure: IGNORE\n    commands: [make]\n',
    );
    expect(error).toMatchObject({ line: 4, key: 'phases.build.on-failure' });
  });

  it('refuses a phase without commands', () => {
    const error = errorOf('version: 0.2\nphases:\n  build:\n');
    expect(error.message).toContain('a phase needs commands');
  });
});
