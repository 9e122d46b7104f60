/**
 * POST /v1/dev/token {"user": "alice"} → {"token": "..."}: the embedded mode's way for the page to get a token
 * for whoever opens it. Anyone who can reach the port gets a token for every document, so it exists only in the
 * embedded mode, and there by default only on a loopback bind (devTokensDecision in embedded-config.ts), where
 * the Host check keeps rebinding pages out and the Origin check keeps other sites' pages out.
 */
import type { HttpRoute } from '@collab/command-service';
import { signDevToken } from '@collab/command-service';
import { z } from 'zod';

const Body = z.object({ user: z.string().trim().min(1).max(64) }).strict();

const json = (status: number, body: unknown) => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export function devTokenRoute(secret: string): HttpRoute {
  return {
    method: 'post',
    pattern: '/v1/dev/token',
    handle: async (request) => {
      let raw: unknown;
      try {
        raw = JSON.parse(request.body.toString('utf8'));
      } catch {
        return json(400, { code: 'ERR_BAD_REQUEST', message: 'The body must be JSON: {"user": "name"}.' });
      }
      const parsed = Body.safeParse(raw);
      if (!parsed.success)
        return json(400, { code: 'ERR_BAD_REQUEST', message: 'Give {"user": "a name of 1-64 characters"}.' });
      const user = parsed.data.user;
      const token = await signDevToken({
        secret,
        userId: user,
        name: user,
        docs: { '*': ['read', 'write', 'comment'] },
      });
      return json(200, { token });
    },
  };
}
