/**
 * CollabContainer: the embedded server (`collab serve`: SQLite, projections, snapshots, the read API and the page)
 * from the CLI image, for integration tests that want it as a separate process, as their app will meet it.
 * Tokens are minted inside the container by `collab token`, with the secret the server generated there, so the
 * server runs as in production (dev tokens stay off on its public interface).
 *
 *   const collab = await new CollabContainer('collab/cli:TAG').start();
 *   const token = await collab.token('alice');         // every document, read+write
 *   new CollabClient({ url: collab.wsUrl, token: () => collab.token('alice'), WebSocket });
 *   await collab.stop();
 */
import type { StartedTestContainer } from 'testcontainers';
import { AbstractStartedContainer, GenericContainer, Wait } from 'testcontainers';

/** Where `collab serve` listens inside the container (the image's COLLAB_PORT default). */
export const COLLAB_PORT = 8080;

export class CollabContainer extends GenericContainer {
  /** `image`: the CLI image (infra/images/services: `collab/cli:<version>-<hash>`). */
  constructor(image: string) {
    super(image);
    this.withExposedPorts(COLLAB_PORT)
      .withCommand(['serve'])
      .withWaitStrategy(Wait.forHttp('/readyz', COLLAB_PORT).forStatusCode(200))
      .withStartupTimeout(120_000);
  }

  /** Sign tokens with this secret (32 characters or more) instead of one the server generates at its first start. */
  withJwtSecret(secret: string): this {
    return this.withEnvironment({ COLLAB_JWT_SECRET: secret });
  }

  override async start(): Promise<StartedCollabContainer> {
    return new StartedCollabContainer(await super.start());
  }
}

export interface TokenOptions {
  /** Grants as `collab token --doc` takes them: 'notes:read', 'team-*:read,write,comment'. Default every document, read+write. */
  docs?: string[];
  /** The name others see. */
  name?: string;
  /** Lifetime, e.g. '30m' (default 12h). */
  expires?: string;
}

export class StartedCollabContainer extends AbstractStartedContainer {
  constructor(started: StartedTestContainer) {
    super(started);
  }

  /** http://HOST:PORT of the server: the read API (`/v1/docs/:id`), `/healthz`, the page. */
  get url(): string {
    return `http://${this.getHost()}:${this.getMappedPort(COLLAB_PORT)}`;
  }

  /** ws://HOST:PORT/v1/ws: where the SDK connects. */
  get wsUrl(): string {
    return `ws://${this.getHost()}:${this.getMappedPort(COLLAB_PORT)}/v1/ws`;
  }

  /** A token for `userId`, minted in the container by `collab token` with the server's own secret. */
  async token(userId: string, options: TokenOptions = {}): Promise<string> {
    const args = ['node', 'cli/dist/src/main.js', 'token', '--user', userId];
    for (const grant of options.docs ?? []) args.push('--doc', grant);
    if (options.name !== undefined) args.push('--name', options.name);
    if (options.expires !== undefined) args.push('--expires', options.expires);
    const { exitCode, stdout, stderr } = await this.exec(args);
    if (exitCode !== 0) throw new Error(`collab token --user ${userId} failed (${exitCode}): ${stderr.trim()}`);
    return stdout.trim();
  }
}
