/**
 * Credentials (PasswordAuthenticator) and TLS for every cassandra-driver client the adapter and the services
 * create. The settings are plain data (PEM text, a user and password), as @collab/env-config loads them.
 */
import cassandra from 'cassandra-driver';
import type { ClientOptions } from 'cassandra-driver';

export interface CassandraSecurity {
  credentials?: { username: string; password: string };
  /** Present: TLS, verifying the nodes against `ca` (default: the system's roots); cert + key: a client certificate. */
  tls?: { ca?: string; cert?: string; key?: string };
}

/** The `authProvider` and `sslOptions` of a driver Client. */
export function cassandraSecurityOptions(
  security: CassandraSecurity | undefined,
): Pick<ClientOptions, 'authProvider' | 'sslOptions'> {
  const { credentials, tls } = security ?? {};
  return {
    ...(credentials === undefined
      ? {}
      : { authProvider: new cassandra.auth.PlainTextAuthProvider(credentials.username, credentials.password) }),
    ...(tls === undefined
      ? {}
      : {
          sslOptions: {
            // The driver defaults this to false (it would accept any certificate): always verify.
            rejectUnauthorized: true,
            ...(tls.ca === undefined ? {} : { ca: [tls.ca] }),
            ...(tls.cert === undefined || tls.key === undefined ? {} : { cert: tls.cert, key: tls.key }),
          },
        }),
  };
}
