/**
 * Every rule the OT type enforces has a stable code, so callers (the command-service, the SDK) can map a
 * rejection to a protocol error without parsing messages. The message is a human sentence that says which
 * component broke which rule.
 */
export type OtErrorCode =
  | 'ERR_OP_NOT_ARRAY'
  | 'ERR_OP_COMPONENT_TYPE'
  | 'ERR_OP_SKIP_INVALID'
  | 'ERR_OP_INSERT_EMPTY'
  | 'ERR_OP_INSERT_INVALID_UNICODE'
  | 'ERR_OP_DELETE_INVALID'
  | 'ERR_OP_NOT_NORMALIZED'
  | 'ERR_OP_TRAILING_SKIP'
  | 'ERR_OP_TOO_LONG'
  | 'ERR_OP_DELETE_MISMATCH'
  | 'ERR_OP_NOT_INVERTIBLE'
  | 'ERR_TRANSFORM_SIDE'
  | 'ERR_SELECTION_INVALID'
  | 'ERR_POSITION_INVALID'
  | 'ERR_ANCHOR_INVALID'
  | 'ERR_SNAPSHOT_INVALID';

export class OtError extends Error {
  override readonly name = 'OtError';
  constructor(
    readonly code: OtErrorCode,
    message: string,
    /** Index of the offending op component, when the error is about one. */
    readonly component?: number,
  ) {
    super(message);
  }
}
