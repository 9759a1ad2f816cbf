import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeTempDirs, runBuild, yaml } from './executor-harness.js';

afterEach(removeTempDirs);

const MAKE_FILES = yaml(
  '  build:',
  '    commands:',
  '      - mkdir -p dist/js dist/css docs',
  '      - echo a > dist/index.html; echo b > dist/js/app.js; echo c > dist/css/app.css',
  '      - echo d > dist/.env.example; echo e > docs/readme.md; echo f > top.txt',
);

async function listTree(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(dir, entry.name));
      else found.push(relative(root, join(dir, entry.name)));
    }
  };
  await walk(root);
  return found.sort();
}

describe('executeBuild: artifacts', () => {
  it('copies **/* under base-directory, dot files included, keeping paths', async () => {
    const { result, workRoot, messages } = await runBuild(
      `${yaml('version: 0.2', 'phases:')}${MAKE_FILES}${yaml(
        'artifacts:',
        '  base-directory: dist',
        "  files: ['**/*']",
        '  name: site',
      )}`,
    );
    expect(result.buildStatus).toBe('SUCCEEDED');
    expect(result.artifactsDir).toBe(join(workRoot, 'artifacts'));
    expect(await listTree(result.artifactsDir!)).toEqual([
      '.env.example',
      'css/app.css',
      'index.html',
      'js/app.js',
    ]);
    expect(messages).toEqual(
      expect.arrayContaining([
        'Expanding base directory path: dist',
        'Found 4 file(s)',
        'Artifact name: site',
      ]),
    );
  });

  it('selects by several globs, honours exclude-paths and discard-paths', async () => {
    const { result } = await runBuild(
      `${yaml('version: 0.2', 'phases:')}${MAKE_FILES}${yaml(
        'artifacts:',
        '  files:',
        "    - 'dist/**/*.js'",
        "    - 'dist/**/*.css'",
        '    - top.txt',
        '    - ./docs/readme.md',
        "  exclude-paths: ['**/*.css']",
        '  discard-paths: yes',
      )}`,
    );
    expect(result.buildStatus).toBe('SUCCEEDED');
    expect(await listTree(result.artifactsDir!)).toEqual(['app.js', 'readme.md', 'top.txt']);
  });

  it('fails UPLOAD_ARTIFACTS when nothing matches, as CodeBuild does', async () => {
    const run = await runBuild(
      `${yaml('version: 0.2', 'phases:')}${MAKE_FILES}${yaml('artifacts:', "  files: ['build/**/*']")}`,
    );
    expect(run.result.buildStatus).toBe('FAILED');
    expect(run.result.artifactsDir).toBeNull();
    expect(run.phase('UPLOAD_ARTIFACTS')).toMatchObject({
      phaseStatus: 'FAILED',
      contexts: [{ statusCode: 'CLIENT_ERROR', message: 'no matching artifact paths found' }],
    });
    expect(run.phase('FINALIZING')?.phaseStatus).toBe('SUCCEEDED');
  });

  it('fails UPLOAD_ARTIFACTS when the base directory is missing', async () => {
    const run = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build: { commands: [true] }',
        'artifacts:',
        '  base-directory: out',
        "  files: ['**/*']",
      ),
    );
    expect(run.phase('UPLOAD_ARTIFACTS')?.contexts).toEqual([
      { statusCode: 'CLIENT_ERROR', message: 'no matching base directory path found for out' },
    ]);
  });

  it('reports no artifacts directory when the buildspec has no artifacts section', async () => {
    const run = await runBuild(yaml('version: 0.2', 'phases:', '  build: { commands: [touch x] }'));
    expect(run.result.artifactsDir).toBeNull();
    expect(run.phase('UPLOAD_ARTIFACTS')?.phaseStatus).toBe('SUCCEEDED');
  });
});
