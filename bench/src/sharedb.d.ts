// ShareDB 7, @teamwork/websocket-json-stream and sharedb-postgres ship no types; the bench uses a few calls.
declare module 'sharedb';
declare module 'sharedb/lib/client/index.js';
declare module '@teamwork/websocket-json-stream';
declare module 'sharedb-postgres';
