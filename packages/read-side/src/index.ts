export {
  createDocumentReader,
  type DocumentReader,
  type DocumentReaderOptions,
  type DocumentText,
  type LoadedState,
  type TailSource,
  nextTurn,
} from './document-reader.js';
export { concurrencyLimiter, limitConcurrency, ReadsBusy, type ReadConcurrency } from './limited-reader.js';
export { fold, historyGap, type DocumentState } from './replay.js';
export { handleReadRequest } from './http/handle-read-request.js';
export { BadRequest, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from './http/params.js';
export type {
  Authorize,
  CommentsBody,
  CommentsReader,
  DocumentBody,
  ErrorBody,
  HistoryBody,
  ReadHandlerDeps,
  ReadRequest,
  ReadResponse,
} from './http/types.js';
export {
  bearerToken,
  decodeDocId,
  failure,
  invalidDocId,
  json,
  MAX_DOC_ID_LENGTH,
  refusalOf,
  retryAfter,
} from './http/request-parts.js';
