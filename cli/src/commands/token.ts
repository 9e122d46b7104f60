/**
 * `collab token --user alice [--doc 'notes/*:read,write']...` — a development JWT signed with the configured
 * HS256 secret (COLLAB_JWT_SECRET, or the embedded server's generated one in its data folder).
 */
import type { Command } from 'commander';
import type { Permission } from '@collab/command-service';
import { signDevToken } from '@collab/command-service';
import { loadEmbeddedConfig } from '../embedded-config.js';

export function parseDocGrants(specs: readonly string[]): Record<string, Permission[]> {
  const docs: Record<string, Permission[]> = {};
  for (const spec of specs.length === 0 ? ['*'] : specs) {
    const cut = spec.lastIndexOf(':');
    const pattern = cut > 0 ? spec.slice(0, cut) : spec;
    const perms = (cut > 0 ? spec.slice(cut + 1) : 'read,write').split(',').map((p) => p.trim());
    const bad = perms.filter((p) => !['read', 'write', 'comment'].includes(p));
    if (bad.length > 0)
      throw new Error(`--doc ${spec}: unknown permission(s) ${bad.join(', ')} (use read, write, comment)`);
    docs[pattern] = perms as Permission[];
  }
  return docs;
}

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('print a development token (a JWT signed with the HS256 secret) for a user and documents')
    .requiredOption('--user <id>', 'the user id (the token subject)')
    .option('--name <name>', 'display name shown to others')
    .option(
      '--doc <pattern[:perms]>',
      "a document id or a prefix ending in * ('*': all), optionally :read,write,comment (repeatable; default '*:read,write')",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--expires <duration>',
      'lifetime, e.g. 30m, 12h (servers refuse tokens valid longer than COLLAB_JWT_MAX_LIFETIME_SECONDS, default 24h)',
      '12h',
    )
    .option('--data-dir <dir>', 'the embedded server data folder holding its generated secret (default ./data)')
    .action(async (opts: { user: string; name?: string; doc: string[]; expires: string; dataDir?: string }) => {
      const config = loadEmbeddedConfig(process.env, opts.dataDir === undefined ? {} : { dataDir: opts.dataDir });
      const token = await signDevToken({
        secret: config.jwtSecret,
        userId: opts.user,
        docs: parseDocGrants(opts.doc),
        expiresIn: opts.expires,
        ...(opts.name === undefined ? {} : { name: opts.name }),
      });
      process.stdout.write(`${token}\n`);
    });
}
