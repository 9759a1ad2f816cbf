/** Where a key is in a YAML document, so config and buildspec errors can name the line. */
import { type Document, isMap, isNode, isScalar, type LineCounter } from 'yaml';

/**
 * The line of the deepest key (or list item) of `path` present in the document; numeric
 * strings in `path` index lists. With an empty path, the document's first line.
 */
export function lineOfPath(
  document: Document,
  counter: LineCounter,
  path: ReadonlyArray<string | number>,
): number | null {
  const keys = path.map((k) => (typeof k === 'string' && /^\d+$/.test(k) ? Number(k) : k));
  for (let depth = keys.length; depth > 0; depth--) {
    const prefix = keys.slice(0, depth);
    // The key's own line is where the user looks: its value may start lines below.
    const parent = depth === 1 ? document.contents : document.getIn(prefix.slice(0, -1), true);
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (isScalar(item.key) && item.key.value === prefix.at(-1) && item.key.range) {
          return counter.linePos(item.key.range[0]).line;
        }
      }
    }
    const node = document.getIn(prefix, true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return keys.length === 0 && isNode(document.contents) && document.contents.range
    ? counter.linePos(document.contents.range[0]).line
    : null;
}
