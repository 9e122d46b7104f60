/**
 * TLS and SASL for every kafkajs client the adapter (and the services' admin clients) create. The settings are
 * plain data (PEM text, a mechanism and credentials), the shape @collab/env-config loads from the environment.
 */
import type { KafkaConfig, SASLOptions } from 'kafkajs';

export interface KafkaSecurity {
  /** Present: TLS, verifying the brokers against `ca` (default: the system's roots); cert + key: mTLS. */
  tls?: { ca?: string; cert?: string; key?: string };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

/** The `ssl` and `sasl` fields of a kafkajs client config. */
export function kafkaSecurityConfig(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const tls = security?.tls;
  const sasl = security?.sasl;
  return {
    ...(tls === undefined
      ? {}
      : {
          // Spelled out: verification must never depend on a library default.
          ssl: {
            rejectUnauthorized: true,
            ...(tls.ca === undefined ? {} : { ca: [tls.ca] }),
            ...(tls.cert === undefined || tls.key === undefined ? {} : { cert: tls.cert, key: tls.key }),
          },
        }),
    // kafkajs types each mechanism separately; the union of our three is exactly theirs.
    ...(sasl === undefined ? {} : { sasl: { ...sasl } as SASLOptions }),
  };
}
