/**
 * A persistent (immutable) rope: a B+tree whose leaves hold chunks of text.
 *
 * Why: the reference `ot-text-unicode` keeps a document as one JS string, so every edit scans and copies the
 * whole text. Here an edit copies only the path from the root to the touched leaf — O(log n) — and every older
 * version stays valid and unchanged, because no node is ever mutated after it is built. The command-service keeps
 * recent versions around for catch-up and for readers without copying text.
 *
 * Shape invariants (checked by `checkRope` in tests):
 * - every leaf is at the same depth; a leaf holds at most MAX_LEAF UTF-16 units and never splits a surrogate pair;
 * - a branch holds 1..MAX_CHILDREN children; `n` (code points) and `u` (UTF-16 units) are the sums over children;
 * - nodes other than the root are "underfull" only transiently: an edit merges an underfull node with a sibling.
 *
 * Nodes are plain objects (no prototypes) so that a snapshot survives structured cloning, JSON-style deep copies
 * (ot-fuzzer clones snapshots) and worker messages.
 */
import { codePointLength, codePointToUtf16, safeCut, utf16ToCodePoint } from './unicode.js';

export interface RopeLeaf {
  /** The text of this chunk. */
  readonly t: string;
  /** Its length in code points. */
  readonly n: number;
}

export interface RopeBranch {
  readonly c: readonly RopeNode[];
  /** Total code points below. */
  readonly n: number;
  /** Total UTF-16 units below. */
  readonly u: number;
  /** Height: 1 for a branch whose children are leaves. */
  readonly h: number;
}

export type RopeNode = RopeLeaf | RopeBranch;

export const MAX_LEAF = 256;
const MIN_LEAF = MAX_LEAF / 4;
export const MAX_CHILDREN = 16;
const MIN_CHILDREN = MAX_CHILDREN / 4;

export const isLeaf = (node: RopeNode): node is RopeLeaf => (node as RopeLeaf).t !== undefined;
const unitsOf = (node: RopeNode): number => (isLeaf(node) ? node.t.length : node.u);
const heightOf = (node: RopeNode): number => (isLeaf(node) ? 0 : node.h);

const EMPTY: RopeLeaf = Object.freeze({ t: '', n: 0 });

function makeLeaf(t: string, n: number): RopeLeaf {
  return { t, n };
}

function makeBranch(children: readonly RopeNode[]): RopeBranch {
  let n = 0;
  let u = 0;
  for (const child of children) {
    n += child.n;
    u += unitsOf(child);
  }
  return { c: children, n, u, h: heightOf(children[0]!) + 1 };
}

/** Cut `text` (whose code point count is `n`) into leaves of at most MAX_LEAF units, of near-equal size. */
function chunkText(text: string, n: number): RopeLeaf[] {
  if (text.length <= MAX_LEAF) return text.length === 0 ? [] : [makeLeaf(text, n)];
  const count = Math.ceil(text.length / MAX_LEAF);
  const target = Math.ceil(text.length / count);
  const ascii = n === text.length; // No surrogate pairs: code points equal units, and any cut is safe.
  const leaves: RopeLeaf[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + target);
    if (!ascii) end = safeCut(text, end);
    if (end - start > MAX_LEAF) end -= 2; // Only possible when safeCut stepped over a pair at the limit.
    const chunk = text.slice(start, end);
    leaves.push(makeLeaf(chunk, ascii ? chunk.length : codePointLength(chunk)));
    start = end;
  }
  return leaves;
}

/** Group same-height nodes under as few branches as possible, spreading children evenly. */
function groupNodes(nodes: readonly RopeNode[]): RopeNode[] {
  if (nodes.length <= MAX_CHILDREN) return [makeBranch(nodes)];
  const count = Math.ceil(nodes.length / MAX_CHILDREN);
  const groups: RopeNode[] = [];
  for (let g = 0; g < count; g++) {
    const from = Math.floor((g * nodes.length) / count);
    const to = Math.floor(((g + 1) * nodes.length) / count);
    groups.push(makeBranch(nodes.slice(from, to)));
  }
  return groups;
}

/** Build a root from a list of same-height nodes, adding levels as needed and dropping single-child roots. */
function buildRoot(nodes: readonly RopeNode[]): RopeNode {
  let level: readonly RopeNode[] = nodes;
  if (level.length === 0) return EMPTY;
  while (level.length > 1) level = groupNodes(level);
  let root = level[0]!;
  while (!isLeaf(root) && root.c.length === 1) root = root.c[0]!;
  return root;
}

export function ropeFromString(text: string): RopeNode {
  return buildRoot(chunkText(text, codePointLength(text)));
}

const isUnderfull = (node: RopeNode): boolean =>
  isLeaf(node) ? node.t.length < MIN_LEAF : node.c.length < MIN_CHILDREN;

/** Merge two adjacent same-height siblings into one node, or two balanced ones if one would overflow. */
function mergeSiblings(a: RopeNode, b: RopeNode): RopeNode[] {
  if (isLeaf(a) && isLeaf(b)) return chunkText(a.t + b.t, a.n + b.n);
  const children = [...(a as RopeBranch).c, ...(b as RopeBranch).c];
  if (children.length <= MAX_CHILDREN) return [makeBranch(children)];
  const half = children.length >> 1;
  return [makeBranch(children.slice(0, half)), makeBranch(children.slice(half))];
}

/** Merge underfull nodes in `nodes[from..to)` (the freshly rebuilt ones) with a neighbour. */
function mendUnderfull(nodes: RopeNode[], from: number, to: number): void {
  for (let i = Math.max(0, from); i < Math.min(to, nodes.length); i++) {
    const node = nodes[i]!;
    if (!isUnderfull(node) || nodes.length === 1) continue;
    const j = i + 1 < nodes.length ? i + 1 : i - 1;
    const [left, right] = j > i ? [node, nodes[j]!] : [nodes[j]!, node];
    const merged = mergeSiblings(left, right);
    nodes.splice(Math.min(i, j), 2, ...merged);
    // Re-examine from the merged position: the result can itself still be underfull.
    i = Math.min(i, j) - 1;
    to -= 2 - merged.length;
  }
}

/**
 * Replace `del` code points at `pos` in `node` by `ins` (whose code point count is `insN`). Returns the nodes
 * (all of the input's height) that take the input's place: none when everything was deleted, several when it split.
 */
function spliceNode(node: RopeNode, pos: number, del: number, ins: string, insN: number): RopeNode[] {
  if (isLeaf(node)) {
    const t = node.t;
    const ascii = node.n === t.length;
    const a = ascii ? pos : codePointToUtf16(t, pos);
    const b = ascii ? pos + del : a + codePointToUtf16(t.slice(a), del);
    const text = t.slice(0, a) + ins + t.slice(b);
    return chunkText(text, node.n - del + insN);
  }
  const children = node.c;
  // First child touched: for a pure insert, the one whose end is at or after `pos` (append to the left
  // neighbour rather than prepend to the right one); for a delete, the one that holds position `pos`.
  let i = 0;
  let start = 0;
  const end = pos + del;
  while (i < children.length - 1 && (del === 0 ? start + children[i]!.n < pos : start + children[i]!.n <= pos)) {
    start += children[i]!.n;
    i++;
  }
  const first = children[i]!;
  const firstDel = Math.min(del, first.n - (pos - start));
  const replaced = spliceNode(first, pos - start, firstDel, ins, insN);
  let j = i;
  let jStart = start + first.n;
  if (firstDel < del) {
    // The delete runs past the first child: drop the children it covers whole and trim the last one.
    j++;
    while (j < children.length && jStart + children[j]!.n <= end) {
      jStart += children[j]!.n;
      j++;
    }
    if (j < children.length && jStart < end) {
      replaced.push(...spliceNode(children[j]!, 0, end - jStart, '', 0));
    } else {
      j--;
    }
  }
  let next: RopeNode[];
  if (replaced.length === 1 && j === i) {
    // The common case, an edit inside one child: copy the children once and swap that child.
    next = children.slice();
    next[i] = replaced[0]!;
  } else {
    next = [];
    for (let k = 0; k < i; k++) next.push(children[k]!);
    for (const r of replaced) next.push(r);
    for (let k = j + 1; k < children.length; k++) next.push(children[k]!);
  }
  mendUnderfull(next, i - 1, i + replaced.length + 1);
  if (next.length === 0) return [];
  return next.length <= MAX_CHILDREN ? [makeBranch(next)] : groupNodes(next);
}

// Scratch stacks for `spliceInLeaf`: the branches on the path to the leaf and the child index taken in each.
const pathNodes: Array<RopeBranch | undefined> = [];
const pathIndexes: number[] = [];

/** True when `nodes[i]` or a neighbour is underfull, i.e. when `mendUnderfull` around `i` would change something. */
const underfullAround = (nodes: readonly RopeNode[], i: number): boolean =>
  nodes.length > 1 &&
  ((i > 0 && isUnderfull(nodes[i - 1]!)) ||
    isUnderfull(nodes[i]!) ||
    (i + 1 < nodes.length && isUnderfull(nodes[i + 1]!)));

/**
 * The common case of `spliceNode` without its intermediate arrays: the edit falls inside one leaf, which stays
 * within its size limits, and nothing along the path needs mending. Builds exactly the tree `spliceNode` would
 * (each branch on the path copied with one child swapped, its sums adjusted); undefined when the case does not apply.
 */
function spliceInLeaf(root: RopeNode, pos: number, del: number, ins: string, insN: number): RopeNode | undefined {
  const depth = descend(root, pos, del);
  if (depth < 0) return undefined;
  const built = rebuildPath(depth, ins, insN, del);
  pathNodes.fill(undefined, 0, depth); // don't keep old versions alive
  return built;
}

/** Leaf reached by `spliceInLeaf`'s descent, and the position and deletion inside it. */
let pathLeaf: RopeLeaf = EMPTY;
let pathPos = 0;

/** Walk to the one leaf the edit falls in, filling the scratch path; -1 when the edit spans several children. */
function descend(root: RopeNode, pos: number, del: number): number {
  let depth = 0;
  let node = root;
  while (!isLeaf(node)) {
    const children = node.c;
    let i = 0;
    while (i < children.length - 1 && (del === 0 ? children[i]!.n < pos : children[i]!.n <= pos)) {
      pos -= children[i]!.n;
      i++;
    }
    const child = children[i]!;
    if (del > child.n - pos) {
      pathNodes.fill(undefined, 0, depth);
      return -1; // the edit spans several children
    }
    pathNodes[depth] = node;
    pathIndexes[depth] = i;
    depth++;
    node = child;
  }
  pathLeaf = node;
  pathPos = pos;
  return depth;
}

/** Rebuild the scratch path with the edit applied to its leaf; undefined when that needs splitting or mending. */
function rebuildPath(depth: number, ins: string, insN: number, del: number): RopeNode | undefined {
  const node = pathLeaf;
  const pos = pathPos;
  pathLeaf = EMPTY;
  const t = node.t;
  const ascii = node.n === t.length;
  const a = ascii ? pos : codePointToUtf16(t, pos);
  const b = ascii ? pos + del : a + codePointToUtf16(t.slice(a), del);
  const text = t.slice(0, a) + ins + t.slice(b);
  if (text.length === 0 || text.length > MAX_LEAF || (depth > 0 && text.length < MIN_LEAF)) return undefined;
  for (let k = 0; k < depth; k++) {
    const children = pathNodes[k]!.c;
    // The rebuilt child has as many children as the old one, and its neighbours are unchanged: mending around it
    // would be a no-op exactly when it is one here (checked on the old nodes; the new leaf was checked above).
    if (children.length > MAX_CHILDREN || underfullAround(children, pathIndexes[k]!)) return undefined;
  }
  const dn = insN - del;
  const du = text.length - t.length;
  let built: RopeNode = makeLeaf(text, node.n + dn);
  for (let k = depth - 1; k >= 0; k--) {
    const branch = pathNodes[k]!;
    const next = branch.c.slice();
    next[pathIndexes[k]!] = built;
    built = { c: next, n: branch.n + dn, u: branch.u + du, h: branch.h };
  }
  while (!isLeaf(built) && built.c.length === 1) built = built.c[0]!;
  return built;
}

/** Replace `del` code points at `pos` by `ins`. The caller has checked that `pos + del <= root.n`. */
export function ropeSplice(
  root: RopeNode,
  pos: number,
  del: number,
  ins: string,
  insN = codePointLength(ins),
): RopeNode {
  if (del === 0 && insN === 0) return root;
  return spliceInLeaf(root, pos, del, ins, insN) ?? buildRoot(spliceNode(root, pos, del, ins, insN));
}

/** Visit the text of the leaves overlapping code points [start, end), in order. */
function eachChunk(node: RopeNode, start: number, end: number, visit: (text: string) => void): void {
  if (start >= end) return;
  if (isLeaf(node)) {
    if (start === 0 && end >= node.n) visit(node.t);
    else if (node.n === node.t.length) visit(node.t.slice(start, end));
    else {
      const a = codePointToUtf16(node.t, start);
      visit(node.t.slice(a, a + codePointToUtf16(node.t.slice(a), end - start)));
    }
    return;
  }
  let offset = 0;
  for (const child of node.c) {
    if (offset >= end) break;
    const childEnd = offset + child.n;
    if (childEnd > start) eachChunk(child, Math.max(0, start - offset), Math.min(child.n, end - offset), visit);
    offset = childEnd;
  }
}

export function ropeSlice(root: RopeNode, start: number, end: number): string {
  const parts: string[] = [];
  eachChunk(root, start, Math.min(end, root.n), (t) => parts.push(t));
  return parts.join('');
}

export function ropeToString(root: RopeNode): string {
  if (isLeaf(root)) return root.t;
  return ropeSlice(root, 0, root.n);
}

export const ropeUnits = unitsOf;

/** UTF-16 offset of code point `cp`. */
export function ropeCodePointToUtf16(root: RopeNode, cp: number): number {
  let node = root;
  let units = 0;
  while (!isLeaf(node)) {
    let k = 0;
    while (k < node.c.length - 1 && node.c[k]!.n < cp) {
      cp -= node.c[k]!.n;
      units += unitsOf(node.c[k]!);
      k++;
    }
    node = node.c[k]!;
  }
  return units + (node.n === node.t.length ? Math.min(cp, node.n) : codePointToUtf16(node.t, cp));
}

/** Code point index of UTF-16 offset `u` (an offset inside a surrogate pair rounds down). */
export function ropeUtf16ToCodePoint(root: RopeNode, u: number): number {
  let node = root;
  let cps = 0;
  while (!isLeaf(node)) {
    let k = 0;
    while (k < node.c.length - 1 && unitsOf(node.c[k]!) < u) {
      u -= unitsOf(node.c[k]!);
      cps += node.c[k]!.n;
      k++;
    }
    node = node.c[k]!;
  }
  return cps + (node.n === node.t.length ? Math.min(u, node.n) : utf16ToCodePoint(node.t, u));
}

/** Validate the structural invariants; returns a list of problems (empty when healthy). For tests. */
export function checkRope(root: RopeNode): string[] {
  const problems: string[] = [];
  const visit = (node: RopeNode, depth: number, isRoot: boolean, leafDepth: { d: number | null }): void => {
    if (isLeaf(node)) {
      if (leafDepth.d === null) leafDepth.d = depth;
      else if (leafDepth.d !== depth) problems.push(`leaf at depth ${depth}, expected ${leafDepth.d}`);
      if (node.t.length > MAX_LEAF) problems.push(`leaf of ${node.t.length} units exceeds ${MAX_LEAF}`);
      if (node.n !== codePointLength(node.t)) problems.push(`leaf n=${node.n} but text has ${codePointLength(node.t)}`);
      if (!isRoot && node.t.length === 0) problems.push('empty non-root leaf');
      return;
    }
    if (node.c.length === 0 || node.c.length > MAX_CHILDREN) problems.push(`branch with ${node.c.length} children`);
    if (isRoot && node.c.length === 1) problems.push('root branch with a single child');
    let n = 0;
    let u = 0;
    for (const child of node.c) {
      if (heightOf(child) !== node.h - 1) problems.push(`child height ${heightOf(child)} under height ${node.h}`);
      n += child.n;
      u += unitsOf(child);
      visit(child, depth + 1, false, leafDepth);
    }
    if (n !== node.n || u !== node.u) problems.push(`branch sums n=${node.n}/${n} u=${node.u}/${u}`);
  };
  visit(root, 0, true, { d: null });
  return problems;
}
