/**
 * Serves the web editor's built files (index.html at `/`, the bundle, the stylesheet).
 */
import type { Asset } from '@collab/web-editor';
import type { HttpRoute } from '../transport/http-routes.js';

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
      },
      body: asset.body,
    }),
  }));
}
