/**
 * Serves the web editor's built files (index.html at `/`, the bundle, the stylesheet), with a Content Security
 * Policy that lets the page run its own bundle and nothing else: an injected <script> or inline handler does not
 * run, the page talks only to this server, and no other site may frame it (clickjacking).
 */
import type { Asset } from '@collab/web-editor';
import type { HttpRoute } from '../transport/http-routes.js';

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // CodeMirror writes its theme into a <style> element (style-mod; constructed stylesheets only in shadow roots)
  // and remote selections carry each user's colour in a style attribute. A nonce would mean a page templated per
  // response for CodeMirror's cspNonce; inline *styles* can restyle the page but run nothing, scripts stay 'self'.
  "style-src 'self' 'unsafe-inline'",
  // fetch (dev token, read API) and the WebSocket: 'self' covers ws(s): to the same host (CSP level 3).
  "connect-src 'self'",
  // Images in documents are fetched with the token and shown from blob: URLs (docs/protocol.md, "Media").
  "img-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function webPageRoutes(assets: ReadonlyMap<string, Asset>): HttpRoute[] {
  return [...assets.entries()].map(([path, asset]) => ({
    method: 'get' as const,
    pattern: path,
    handle: () => ({
      status: 200,
      headers: {
        'content-type': asset.contentType,
        // The page itself must always be fresh; the bundle and styles can be cached briefly.
        'cache-control': path === '/' || path.endsWith('.html') ? 'no-cache' : 'public, max-age=300',
        'content-security-policy': PAGE_CSP,
        // The page's address may carry a token (?token=) until the page removes it: never send it elsewhere.
        // Not 'no-referrer': under it a browser sends `Origin: null` with the page's own POSTs (Fetch §3.1),
        // which the Origin check must refuse.
        'referrer-policy': 'same-origin',
      },
      body: asset.body,
    }),
  }));
}
