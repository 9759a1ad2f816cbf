// Bundles the Action's entries into dist/ (committed: the runner runs it without installing).
import { existsSync } from 'node:fs';
import { build } from 'esbuild';

const entries = ['action/main.ts', 'action/post.ts'].filter((f) => existsSync(f));
if (entries.length > 0) {
  await build({
    entryPoints: entries,
    outdir: 'dist',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    legalComments: 'none',
    // Some dependencies still call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
