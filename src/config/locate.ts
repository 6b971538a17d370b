import { isMap, isScalar, isSeq, type Document, type Node } from 'yaml';

export type FieldPath = readonly (string | number)[];

/**
 * The source offset of the deepest node along `path` (a missing key points at its parent,
 * an unknown key at the key itself), so errors can name a line.
 */
export function locate(doc: Document, path: FieldPath): number | null {
  let node: unknown = doc.contents;
  let offset: number | null = rangeStart(node);
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
      if (pair.value !== null) offset = rangeStart(pair.value) ?? offset;
      continue;
    }
    if (isSeq(node) && typeof part === 'number') {
      const item: unknown = node.items[part];
      if (item === undefined) break;
      node = item;
      offset = rangeStart(item) ?? offset;
      continue;
    }
    break;
  }
  return offset;
}

function rangeStart(node: unknown): number | null {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as Node).range;
    return range ? range[0] : null;
  }
  return null;
}
