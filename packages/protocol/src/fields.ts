/**
 * Field schemas that client and server messages share. Ids are refused where they arrive when they could not
 * survive the round trip through storage unchanged (see well-formed.ts).
 */
import { z } from 'zod';
import { hasLoneSurrogate, UNPAIRED_SURROGATE } from './well-formed.js';

export const docId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\w.:@~-]+$/, 'document ids use letters, digits and . : @ ~ _ -');

/** A document version: 0 is the empty document, each committed op adds one. */
export const version = z.number().int().nonnegative().safe();

/** A position in the text, in code points. */
export const position = z.number().int().nonnegative().safe();

// Stored in the log as UTF-8: a lone surrogate would come back as U+FFFD, a different id (and dedupe key).
export const clientId = z
  .string()
  .min(1)
  .max(128)
  .refine((s) => !hasLoneSurrogate(s), UNPAIRED_SURROGATE);

/** An op in the ottypes text-unicode format (@collab/ot-text's TextOp): skip N, insert "str", delete {d}. */
export const textOp = z.array(
  z.union([z.number(), z.string(), z.object({ d: z.union([z.number(), z.string()]) }).strict()]),
);

/** A cursor or selection: `anchor` stays put, `head` moves; equal for a caret. Code points. */
export const cursor = z.object({ anchor: position, head: position }).strict();
