// Writes the Action's inputs and outputs tables into README.md and docs/action.md from action.yml,
// between
//   <!-- action-inputs:start --> … <!-- action-inputs:end -->
//   <!-- action-outputs:start --> … <!-- action-outputs:end -->
// so the documentation cannot drift from the interface.
//   node scripts/action-docs.mjs          rewrite the tables
//   node scripts/action-docs.mjs --check  exit 1 (and say what to run) when they are stale
//   --doc <file>                          another file with the same markers (tests)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const actionPath = join(root, 'action.yml');
const docFlag = process.argv.indexOf('--doc');
const docPaths =
  docFlag > 0
    ? [process.argv[docFlag + 1]]
    : [join(root, 'README.md'), join(root, 'docs', 'action.md')];

/** One table cell: one line, no pipe breaking the row. */
const cell = (text) =>
  String(text ?? '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();

/** A Markdown table with its columns padded, as Biome formats Markdown (so it leaves it be). */
function table(header, rows) {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function tables(actionYml) {
  const action = parse(actionYml);
  const inputs = Object.entries(action.inputs ?? {}).map(([name, spec]) => [
    `\`${name}\``,
    spec.required ? 'yes' : 'no',
    spec.default === undefined ? '' : `\`${cell(spec.default)}\``,
    cell(spec.description),
  ]);
  const outputs = Object.entries(action.outputs ?? {}).map(([name, spec]) => [
    `\`${name}\``,
    cell(spec.description),
  ]);
  return {
    inputs: table(['Input', 'Required', 'Default', 'Description'], inputs),
    outputs: table(['Output', 'Description'], outputs),
  };
}

export function render(doc, actionYml, docPath = 'the document') {
  let out = doc;
  for (const [name, table] of Object.entries(tables(actionYml))) {
    const start = `<!-- action-${name}:start -->`;
    const end = `<!-- action-${name}:end -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) {
      throw new Error(`${docPath} has no ${start} … ${end} markers`);
    }
    out = `${out.slice(0, from + start.length)}\n${table}\n${out.slice(to)}`;
  }
  return out;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const actionYml = readFileSync(actionPath, 'utf8');
  let stale = false;
  for (const docPath of docPaths) {
    const doc = readFileSync(docPath, 'utf8');
    const fresh = render(doc, actionYml, docPath);
    if (fresh === doc) continue;
    if (process.argv.includes('--check')) {
      console.error(
        `${docPath}: the input/output tables differ from action.yml: run \`node scripts/action-docs.mjs\` and commit the file`,
      );
      stale = true;
    } else {
      writeFileSync(docPath, fresh);
      console.log(`${docPath}: tables updated from action.yml`);
    }
  }
  if (stale) process.exit(1);
}
