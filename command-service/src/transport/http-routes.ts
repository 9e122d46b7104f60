/**
 * Plain HTTP routes beside the WebSocket endpoint (the read API, the page, health), framework-free: a handler
 * takes a request value and returns a response value, so it can be unit-tested without a server. This module
 * does the uWebSockets.js plumbing: copying the request out before the first await (uWS reuses it), reading a
 * bounded body, aborts, and corking the response (node-ws-server.ts does the same on node:http).
 */
import type { Logger } from 'pino';
import type uWS from 'uWebSockets.js';
import type { AccessCheck } from './edge-access.js';

export interface HttpRequest {
  method: string;
  /** The URL path, percent-decoded segments left as they are. */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

export interface HttpRoute {
  method: 'get' | 'post' | 'any';
  /** A uWebSockets.js pattern, e.g. '/v1/docs/*' or '/v1/docs/:docId/media' (a `:name` matches one segment). */
  pattern: string;
  handle(request: HttpRequest): Promise<HttpResponse> | HttpResponse;
  /**
   * Answer whatever the Host and Origin (liveness and readiness probes address an instance by its IP, which no
   * operator can list in advance). Only for routes that reveal nothing but up or down.
   */
  anyHost?: boolean;
  /**
   * The largest request body this route takes (default MAX_BODY_BYTES) and what a larger one is answered. Counted
   * as the bytes arrive, whatever Content-Length said: the answer goes out once the limit is passed, and nothing
   * of such a body reaches `handle`.
   */
  bodyLimit?: { maxBytes: number; tooLarge: HttpResponse };
  /**
   * Checked from the request line and headers before any of the body is kept (who may send it, in what type): a
   * refusal is answered at once and the body is dropped unread, so an upload nobody may make costs no memory.
   * `handle` still sees every request that passes.
   */
  admit?(request: Omit<HttpRequest, 'body'>): Promise<HttpResponse | undefined> | HttpResponse | undefined;
}

/**
 * Sent with every response; a route's own headers win (the page sets its own policy). Nothing served here may be
 * framed by another site, sniffed into another content type, or run anything when opened as a document.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** A request body larger than this is answered 413. */
export const MAX_BODY_BYTES = 64 * 1024;

const TOO_LARGE: HttpResponse = { status: 413, body: 'request body too large' };

/**
 * Collects a request's body for a route (both transports): nothing is kept once the route's `admit` refused or
 * the body passed its limit, and `handle` runs once the body has ended and `admit` passed. `refuse` answers a
 * refusal and drops the rest of the body (the transport's way).
 */
export class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private done = false;
  private ended = false;
  private admitted = false;
  private readonly limit: { maxBytes: number; tooLarge: HttpResponse };

  constructor(
    private readonly route: HttpRoute,
    private readonly request: Omit<HttpRequest, 'body'>,
    private readonly run: (body: Buffer) => void,
    private readonly refuse: (response: HttpResponse) => void,
    logger: Logger,
  ) {
    this.limit = bodyLimitOf(route);
    if (route.admit === undefined) {
      this.admitted = true;
      return;
    }
    Promise.resolve()
      .then(() => route.admit!(request))
      .then(
        (refusal) => (refusal === undefined ? this.admit() : this.stop(refusal)),
        (err: unknown) => {
          logger.error({ err, path: request.path }, 'HTTP admission check failed');
          this.stop(INTERNAL_ERROR);
        },
      );
  }

  /** A chunk arrived (`last`: the body has ended). */
  add(chunk: Buffer, last: boolean): void {
    if (this.done) return;
    this.size += chunk.byteLength;
    if (this.size > this.limit.maxBytes) return this.stop(this.limit.tooLarge);
    this.chunks.push(chunk);
    if (last) {
      this.ended = true;
      if (this.admitted) this.finish();
    }
  }

  private admit(): void {
    this.admitted = true;
    if (this.ended) this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.run(Buffer.concat(this.chunks));
    this.chunks.length = 0;
  }

  private stop(response: HttpResponse): void {
    if (this.done) return;
    this.done = true;
    this.chunks.length = 0;
    this.refuse(response);
  }
}

/** The body limit of a route: its own, or the default. */
export const bodyLimitOf = (route: HttpRoute): { maxBytes: number; tooLarge: HttpResponse } =>
  route.bodyLimit ?? { maxBytes: MAX_BODY_BYTES, tooLarge: TOO_LARGE };

/** What a route that threw answers (its error is logged, never sent). */
export const INTERNAL_ERROR: HttpResponse = {
  status: 500,
  headers: { 'content-type': 'application/json' },
  body: '{"code":"ERR_INTERNAL","message":"Something went wrong on the server."}',
};

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The JSON body of a 403 for a refused Host or Origin. */
export const refusalResponse = (refusal: { code: string; message: string }): HttpResponse => ({
  status: 403,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(refusal),
});

export function mountRoutes(
  app: uWS.TemplatedApp,
  routes: readonly HttpRoute[],
  logger: Logger,
  checkAccess: AccessCheck,
): void {
  for (const route of routes) {
    app[route.method](route.pattern, (res, req) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const headers: Record<string, string> = {};
      req.forEach((key, value) => {
        headers[key] = value;
      });
      const request = {
        method: req.getMethod().toUpperCase(),
        path: req.getUrl(),
        query: new URLSearchParams(req.getQuery() ?? ''),
        headers,
      };
      const respond = (response: HttpResponse): void => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus(`${response.status} ${STATUS_TEXT[response.status] ?? ''}`.trim());
          for (const [k, v] of Object.entries({ ...SECURITY_HEADERS, ...response.headers })) res.writeHeader(k, v);
          res.end(response.body);
        });
      };
      const run = (body: Buffer): void => {
        Promise.resolve()
          .then(() => route.handle({ ...request, body }))
          .then(respond, (err: unknown) => {
            logger.error({ err, path: request.path }, 'HTTP handler failed');
            respond(INTERNAL_ERROR);
          });
      };
      const refusal = route.anyHost === true ? undefined : checkAccess(headers);
      if (refusal !== undefined) {
        respond(refusalResponse(refusal));
        return;
      }
      if (request.method === 'GET' || request.method === 'HEAD') {
        run(Buffer.alloc(0));
        return;
      }
      const body = new BodyCollector(
        route,
        request,
        run,
        (refusal) => {
          respond(refusal);
          aborted = true; // whatever of the body still arrives is dropped
        },
        logger,
      );
      res.onData((chunk, isLast) => {
        if (aborted) return;
        body.add(Buffer.from(chunk.slice(0)), isLast); // uWS reuses the chunk's memory after this callback
      });
    });
  }
}
