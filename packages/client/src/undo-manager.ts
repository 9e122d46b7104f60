/**
 * Per-user undo and redo for one document. Undo inverts the user's OWN last edit, transformed through everything
 * that happened since (other people's edits included), and sends it as a new op — so it never removes anyone
 * else's text, and it is an ordinary edit for everyone else.
 *
 * Both stacks hold inverse ops relative to the current text: the top applies to the text as it is now, the one
 * below it to the text after the top is applied, and so on. A remote op is transformed down through each stack
 * (and each entry through it), which keeps that invariant. Quick successive edits are grouped into one step.
 */
import type { Doc, TextOp } from '@collab/ot-text';
import { codePointLength, type } from '@collab/ot-text';
import type { ClientDocument } from './client-document.js';
import type { ChangeEvent } from './document-sync.js';

export interface UndoOptions {
  /** Local edits closer together than this (ms) undo as one step. Default 800. */
  groupMs?: number;
  /** Steps kept. Default 500. */
  maxSteps?: number;
  now?: () => number;
}

/** Where to put the cursor after an undo or redo: UTF-16 offset just after the last change. */
export interface UndoResult {
  cursor: number;
}

export class UndoManager {
  private undoStack: TextOp[] = [];
  private redoStack: TextOp[] = [];
  private before: Doc;
  private applying: 'undo' | 'redo' | undefined;
  private lastLocalAt = -Infinity;
  private readonly off: () => void;
  private readonly groupMs: number;
  private readonly maxSteps: number;
  private readonly now: () => number;

  constructor(
    private readonly document: ClientDocument,
    options: UndoOptions = {},
  ) {
    this.groupMs = options.groupMs ?? 800;
    this.maxSteps = options.maxSteps ?? 500;
    this.now = options.now ?? Date.now;
    this.before = document.doc;
    this.off = document.on('change', (event) => this.onChange(event));
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Undo this user's last step; returns where the cursor should go, or undefined when there is nothing to undo. */
  undo(): UndoResult | undefined {
    return this.replay(this.undoStack, 'undo');
  }

  redo(): UndoResult | undefined {
    return this.replay(this.redoStack, 'redo');
  }

  /** Stop the next edit from joining the current undo step (e.g. after the cursor moved). */
  breakGroup(): void {
    this.lastLocalAt = -Infinity;
  }

  destroy(): void {
    this.off();
  }

  private replay(stack: TextOp[], mode: 'undo' | 'redo'): UndoResult | undefined {
    const op = stack.pop();
    if (op === undefined) return undefined;
    this.applying = mode;
    try {
      this.document.applyOp(op);
    } finally {
      this.applying = undefined;
    }
    this.breakGroup();
    return { cursor: this.document.doc.codePointToUtf16(cursorAfter(op)) };
  }

  private onChange(event: ChangeEvent): void {
    const before = this.before;
    this.before = this.document.doc;
    if (event.source === 'reload') {
      this.undoStack = [];
      this.redoStack = [];
      return;
    }
    if (event.source === 'remote') {
      this.undoStack = transformStack(this.undoStack, event.op);
      this.redoStack = transformStack(this.redoStack, event.op);
      return;
    }
    const inverse = type.invert(type.makeInvertible(event.op, before));
    if (this.applying === 'undo') {
      this.push(this.redoStack, inverse);
    } else if (this.applying === 'redo') {
      this.push(this.undoStack, inverse);
    } else {
      const t = this.now();
      const top = this.undoStack[this.undoStack.length - 1];
      if (top !== undefined && t - this.lastLocalAt < this.groupMs) {
        // One step: undoing it undoes the new edit, then the earlier ones.
        this.undoStack[this.undoStack.length - 1] = type.compose(inverse, top);
      } else {
        this.push(this.undoStack, inverse);
      }
      this.lastLocalAt = t;
      this.redoStack = [];
    }
  }

  private push(stack: TextOp[], op: TextOp): void {
    stack.push(op);
    if (stack.length > this.maxSteps) stack.shift();
  }
}

/**
 * Rewrite a stack (top last) so it applies after `op` (which applies to the current text). The top entry is
 * transformed by `op`, then `op` is transformed past the top entry for the entry below, and so on.
 */
function transformStack(stack: readonly TextOp[], op: TextOp): TextOp[] {
  const out = new Array<TextOp>(stack.length);
  let incoming = op;
  for (let i = stack.length - 1; i >= 0; i--) {
    const entry = stack[i]!;
    out[i] = type.transform(entry, incoming, 'left');
    incoming = type.transform(incoming, entry, 'right');
  }
  // A step whose every effect was overwritten by others is a no-op now: drop it rather than undo nothing.
  return out.filter((entry) => entry.length > 0);
}

/** Code point position just after the last component that changes something. */
function cursorAfter(op: TextOp): number {
  let pos = 0;
  let cursor = 0;
  for (const c of op) {
    if (typeof c === 'number') pos += c;
    else if (typeof c === 'string') {
      pos += codePointLength(c);
      cursor = pos;
    } else cursor = pos;
  }
  return cursor;
}
