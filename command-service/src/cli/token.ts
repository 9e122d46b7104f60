/**
 * `npm run token -w @collab/command-service -- --user alice --doc 'notes/*:read,write'` — a development JWT,
 * signed with COLLAB_JWT_SECRET (or --secret). For local use only: it grants exactly what you ask.
 */
import { parseArgs } from 'node:util';
import type { Permission } from '../auth/tokens.js';
import { signDevToken } from '../auth/tokens.js';

const HELP = `usage: token --user ID [--name NAME] [--doc PATTERN[:PERMS]]... [--expires 12h] [--secret S]

  --user ID         the user id (the token's subject)
  --name NAME       display name shown to others
  --doc PATTERN     a document id, or a prefix ending in * ('*' alone: every document), optionally followed by
                    :PERMS, a comma-separated subset of read,write,comment (default read,write). Repeatable;
                    default: '*:read,write'
  --expires T       lifetime, e.g. 30m, 12h (default 12h; servers refuse tokens valid for longer than
                    COLLAB_JWT_MAX_LIFETIME_SECONDS, default 24h)
  --secret S        HS256 secret (default: $COLLAB_JWT_SECRET)
  -h, --help        this help`;

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    name: { type: 'string' },
    doc: { type: 'string', multiple: true },
    expires: { type: 'string', default: '12h' },
    secret: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const problems: string[] = [];
const secret = values.secret ?? process.env.COLLAB_JWT_SECRET;
if (values.user === undefined) problems.push('--user is required');
if (secret === undefined || secret.length < 32)
  problems.push('an HS256 secret of at least 32 characters is required (--secret or COLLAB_JWT_SECRET)');
const docs: Record<string, Permission[]> = {};
for (const spec of values.doc ?? ['*']) {
  const cut = spec.lastIndexOf(':');
  const pattern = cut > 0 ? spec.slice(0, cut) : spec;
  const perms = (cut > 0 ? spec.slice(cut + 1) : 'read,write').split(',').map((p) => p.trim());
  const bad = perms.filter((p) => !['read', 'write', 'comment'].includes(p));
  if (bad.length > 0) problems.push(`--doc ${spec}: unknown permission(s) ${bad.join(', ')}`);
  docs[pattern] = perms as Permission[];
}
if (problems.length > 0) {
  console.error(`${problems.map((p) => `error: ${p}`).join('\n')}\n\n${HELP}`);
  process.exit(2);
}
console.log(
  await signDevToken({
    secret: secret!,
    userId: values.user!,
    docs,
    expiresIn: values.expires,
    ...(values.name === undefined ? {} : { name: values.name }),
  }),
);
