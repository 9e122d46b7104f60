/**
 * Which requests the edge answers at all, by their `Host` and `Origin` headers, on every HTTP route and on the
 * WebSocket upgrade — before any token is looked at.
 *
 * - **Host** defeats DNS rebinding: a page on evil.example that re-points its own name at 127.0.0.1 talks to a
 *   server on the victim's loopback as "same origin" (it may read the answers), but every request it makes says
 *   `Host: evil.example`. So a loopback bind answers only the loopback names with its own port unless told
 *   otherwise; a bind on another interface answers any name until an operator lists the names clients use (a
 *   public server is reachable directly anyway; listing them closes rebinding against an internal one).
 * - **Origin** is what a browser says about the page behind a request: it always sends it on a WebSocket upgrade
 *   and on cross-origin requests, so a page elsewhere cannot open a socket or call the API from a visitor's
 *   browser. Clients outside browsers (the SDK on Node, curl) send none and are not asked for one: a header they
 *   could set to anything proves nothing. Unless origins are listed, an Origin must be the Host the request was
 *   sent to (the page this server serves).
 */

export interface EdgeAccess {
  /** `host` (any port) or `host:port` items, `*` for any; undefined: the default described above. */
  allowedHosts?: readonly string[] | undefined;
  /** `http(s)://host[:port]` items, `*` for any; undefined: the Host the request was sent to. */
  allowedOrigins?: readonly string[] | undefined;
}

export type AccessRefusalCode = 'ERR_HOST_NOT_ALLOWED' | 'ERR_ORIGIN_NOT_ALLOWED';

export interface AccessRefusal {
  code: AccessRefusalCode;
  message: string;
}

/** The two headers as the request carried them ('' or undefined when absent). */
export interface AccessHeaders {
  host?: string | undefined;
  origin?: string | undefined;
}

export type AccessCheck = (headers: AccessHeaders) => AccessRefusal | undefined;

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** True for an interface only this machine can reach: localhost, 127.0.0.0/8, ::1 (bare or bracketed, or mapped). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

interface HostPort {
  name: string;
  port?: number | undefined;
}

/** `name`, `name:port`, `[v6]`, `[v6]:port` → lower-case name (brackets kept, trailing dot dropped) and port. */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]\s/]+)(?::(\d{1,5}))?$/i.exec(text.trim());
  if (m === null) return undefined;
  const name = m[1]!.toLowerCase().replace(/\.$/, '');
  if (name === '') return undefined;
  return m[2] === undefined ? { name } : { name, port: Number(m[2]) };
}

interface ParsedOrigin {
  /** Serialized: scheme://host[:port], lower-case, the scheme's default port left out. */
  origin: string;
  name: string;
  port: number;
}

function parseOrigin(text: string): ParsedOrigin | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined; // 'null' (sandboxed frames, file: pages) lands here too
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const defaultPort = url.protocol === 'https:' ? 443 : 80;
  return {
    origin: url.origin,
    name: url.hostname.toLowerCase(),
    port: url.port === '' ? defaultPort : Number(url.port),
  };
}

/** A Host header without a port was sent to the scheme's default port; we may sit behind TLS, so either. */
const portMatches = (wanted: number | undefined, given: number | undefined): boolean =>
  wanted === undefined || wanted === given || (given === undefined && (wanted === 80 || wanted === 443));

/**
 * The check for a server bound to `bindHost`; `boundPort` is asked at each request (a server started on port 0
 * learns its port only once it listens, before any request can arrive).
 */
export function createAccessCheck(bindHost: string, access: EdgeAccess, boundPort: () => number): AccessCheck {
  const anyHost = access.allowedHosts?.includes('*') ?? !isLoopbackHost(bindHost); // default: loopback binds are strict
  const hostEntries: (() => HostPort)[] =
    access.allowedHosts === undefined
      ? LOOPBACK_NAMES.map((name) => () => ({ name, port: boundPort() }))
      : access.allowedHosts.flatMap((item) => {
          const parsed = parseHostPort(item);
          return parsed === undefined ? [] : [() => parsed];
        });
  const anyOrigin = access.allowedOrigins?.includes('*') ?? false;
  const origins =
    access.allowedOrigins === undefined
      ? undefined
      : new Set(access.allowedOrigins.flatMap((item) => parseOrigin(item)?.origin ?? []));

  return ({ host, origin }) => {
    const hostHeader = host === undefined || host === '' ? undefined : parseHostPort(host);
    if (!anyHost) {
      const allowed =
        hostHeader !== undefined &&
        hostEntries.some((entry) => {
          const e = entry();
          return e.name === hostHeader.name && portMatches(e.port, hostHeader.port);
        });
      if (!allowed) {
        return {
          code: 'ERR_HOST_NOT_ALLOWED',
          message:
            'This server does not answer requests for that host name (Host header). An operator lists the names ' +
            'clients use in COLLAB_ALLOWED_HOSTS.',
        };
      }
    }
    if (origin === undefined || origin === '' || anyOrigin) return undefined;
    const o = parseOrigin(origin);
    const allowed =
      o !== undefined &&
      (origins !== undefined
        ? origins.has(o.origin)
        : hostHeader !== undefined && hostHeader.name === o.name && (hostHeader.port ?? o.port) === o.port);
    if (allowed) return undefined;
    return {
      code: 'ERR_ORIGIN_NOT_ALLOWED',
      message:
        'Pages from that origin may not use this server (Origin header). An operator lists the origins of the ' +
        'pages that may in COLLAB_ALLOWED_ORIGINS.',
    };
  };
}
