/**
 * Connecting to clusters with security on: TLS (the server's certificate verified, optionally a client
 * certificate), SASL for Kafka, a user and password for Cassandra, `rediss://` and an ACL user for Redis.
 *
 * Each backend has a loader that takes the raw environment and returns what the adapters need plus every problem:
 * a value its schema refuses, combinations that do not make sense together, and PEM files that are missing,
 * unreadable, not PEM, or whose key does not belong to the certificate. Services call the loaders beside their own
 * schema (they do not spread these fragments into it, so nothing is reported twice) at start: a half-given
 * credential, a misspelt protocol or a wrong path stops the service with every problem named, instead of surfacing
 * later as a connection error, or worse, as a silent fall back to plaintext.
 *
 * The switches follow each system's own vocabulary: Kafka's `security.protocol` (KAFKA_SECURITY_PROTOCOL), the
 * Redis URL scheme, and CASSANDRA_TLS. TLS always verifies the server against the given CA (or the system's);
 * there is deliberately no variable that turns verification off.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** PEM text, read from the files at start. No `ca`: the system's trusted roots. */
export interface TlsSettings {
  ca?: string;
  /** A client certificate (mTLS), always with its key. */
  cert?: string;
  key?: string;
}

export interface KafkaSecurity {
  /** Present: connect with TLS (SSL, SASL_SSL). */
  tls?: TlsSettings;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export interface CassandraSecurity {
  /** PasswordAuthenticator (the driver's PlainTextAuthProvider). */
  credentials?: { username: string; password: string };
  tls?: TlsSettings;
}

export interface RedisConnection {
  /** redis:// or rediss://, with the ACL user and password in it when the server needs them. */
  url: string;
  /** Present exactly when the URL is rediss://. */
  tls?: TlsSettings;
}

/** Reads a file; the loaders' tests pass their own. */
export type ReadFile = (path: string) => string;
const readUtf8: ReadFile = (path) => readFileSync(path, 'utf8');

/** An empty variable (`KAFKA_SASL_PASSWORD=` in an env file) counts as not set, so the checks below name it. */
const blankIsUnset = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema);

const text = blankIsUnset(z.string().optional());
const path = text;

const tlsFiles = <P extends string>(prefix: P) =>
  ({
    [`${prefix}_TLS_CA_FILE`]: path,
    [`${prefix}_TLS_CERT_FILE`]: path,
    [`${prefix}_TLS_KEY_FILE`]: path,
  }) as Record<`${P}_TLS_CA_FILE` | `${P}_TLS_CERT_FILE` | `${P}_TLS_KEY_FILE`, typeof path>;

const tlsVariables = (prefix: string): string[] => ['CA', 'CERT', 'KEY'].map((what) => `${prefix}_TLS_${what}_FILE`);

export const kafkaSecurityEnv = {
  /** As Kafka's `security.protocol`: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. */
  KAFKA_SECURITY_PROTOCOL: blankIsUnset(
    z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']).default('PLAINTEXT'),
  ),
  KAFKA_SASL_MECHANISM: blankIsUnset(z.enum(['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN']).optional()),
  KAFKA_SASL_USERNAME: text,
  KAFKA_SASL_PASSWORD: text,
  ...tlsFiles('KAFKA'),
};

export const cassandraSecurityEnv = {
  CASSANDRA_USERNAME: text,
  CASSANDRA_PASSWORD: text,
  CASSANDRA_TLS: blankIsUnset(z.enum(['true', 'false']).default('false')),
  ...tlsFiles('CASSANDRA'),
};

/** redis://[user:password@]host[:port][/db] or rediss://... (TLS). */
export const redisUrl = z.string().superRefine((value, ctx) => {
  const problem = redisUrlProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

export const redisEnv = {
  /** Presence over Redis; without it the distributed command-service has no presence. */
  REDIS_URL: blankIsUnset(redisUrl.optional()),
  ...tlsFiles('REDIS'),
};

function redisUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'a URL: redis://[user:password@]host:port[/db] or rediss://... for TLS';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return `the scheme must be redis:// or rediss:// (TLS), not ${url.protocol}//`;
  }
  if (url.hostname === '') return 'give a host: redis://[user:password@]host:port[/db]';
  if (!/^(\/\d*)?$/.test(url.pathname)) return `the path is a database number (/0, /1, ...), not ${url.pathname}`;
  if (url.search !== '' || url.hash !== '') {
    // ioredis turns query parameters into connection options: a URL must not be able to change them unseen.
    return 'no query string or fragment: connection options are set by the service, not the URL';
  }
  return undefined;
}

/** The URL with its password replaced, for logs and the printed configuration. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<not a URL>';
  }
}

type Env = NodeJS.ProcessEnv;
const issues = (error: z.ZodError): string[] => error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
const given = (env: Env, name: string): boolean => (env[name] ?? '') !== '';

/**
 * Reads and checks the PEM files of one prefix: the CA holds at least one certificate, the certificate parses,
 * the key parses (unencrypted: the file's permissions protect it) and belongs to the certificate.
 */
function loadTls(env: Env, prefix: string, read: ReadFile, problems: string[]): TlsSettings {
  const file = (what: 'CA' | 'CERT' | 'KEY'): string | undefined => {
    const name = `${prefix}_TLS_${what}_FILE`;
    const at = env[name];
    if (at === undefined || at === '') return undefined;
    try {
      const text = read(at);
      if (!text.includes('-----BEGIN ')) {
        problems.push(`${name}: ${at} is not PEM (no -----BEGIN line)`);
        return undefined;
      }
      return text;
    } catch (err) {
      problems.push(`${name}: cannot read ${at} (${(err as Error).message})`);
      return undefined;
    }
  };
  const [ca, cert, key] = [file('CA'), file('CERT'), file('KEY')];
  if (given(env, `${prefix}_TLS_CERT_FILE`) !== given(env, `${prefix}_TLS_KEY_FILE`)) {
    problems.push(`${prefix}_TLS_CERT_FILE and ${prefix}_TLS_KEY_FILE: give both (a client certificate) or neither`);
  }
  const parse = <T>(name: string, at: string | undefined, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      problems.push(`${name}: ${at ?? ''} does not parse (${(err as Error).message})`);
      return undefined;
    }
  };
  if (ca !== undefined) parse(`${prefix}_TLS_CA_FILE`, env[`${prefix}_TLS_CA_FILE`], () => new X509Certificate(ca));
  const certificate =
    cert === undefined
      ? undefined
      : parse(`${prefix}_TLS_CERT_FILE`, env[`${prefix}_TLS_CERT_FILE`], () => new X509Certificate(cert));
  const privateKey =
    key === undefined
      ? undefined
      : parse(`${prefix}_TLS_KEY_FILE`, env[`${prefix}_TLS_KEY_FILE`], () => createPrivateKey(key));
  if (certificate !== undefined && privateKey !== undefined && !certificate.checkPrivateKey(privateKey)) {
    problems.push(`${prefix}_TLS_KEY_FILE: the key does not belong to the certificate in ${prefix}_TLS_CERT_FILE`);
  }
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined || key === undefined ? {} : { cert, key }),
  };
}

/** Problems when TLS files are given but TLS is off: the operator believes the link is encrypted. */
function tlsFilesWithoutTls(env: Env, prefix: string, how: string): string[] {
  const set = tlsVariables(prefix).filter((name) => given(env, name));
  return set.length === 0 ? [] : [`${set.join(', ')}: only with TLS (${how})`];
}

export interface Loaded<T> {
  value: T;
  problems: string[];
}

/** The Kafka client's TLS and SASL settings; see the file comment. */
export function loadKafkaSecurity(env: Env, read: ReadFile = readUtf8): Loaded<KafkaSecurity> {
  const parsed = z.object(kafkaSecurityEnv).safeParse(env);
  if (!parsed.success) return { value: {}, problems: issues(parsed.error) };
  const e = parsed.data;
  const problems: string[] = [];
  const protocol = e.KAFKA_SECURITY_PROTOCOL;
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const sasl = protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT';
  if (!tls) problems.push(...tlsFilesWithoutTls(env, 'KAFKA', 'KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL'));
  const saslVariables = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];
  if (!sasl) {
    const set = saslVariables.filter((name) => given(env, name));
    if (set.length > 0)
      problems.push(`${set.join(', ')}: only with KAFKA_SECURITY_PROTOCOL=SASL_SSL or SASL_PLAINTEXT`);
  } else {
    const missing = saslVariables.filter((name) => !given(env, name));
    if (missing.length > 0) problems.push(`${missing.join(', ')}: required with KAFKA_SECURITY_PROTOCOL=${protocol}`);
    if (protocol === 'SASL_PLAINTEXT' && e.KAFKA_SASL_MECHANISM === 'PLAIN') {
      problems.push(
        'KAFKA_SASL_MECHANISM: PLAIN over SASL_PLAINTEXT sends the password in clear; use SASL_SSL or a SCRAM mechanism',
      );
    }
  }
  const value: KafkaSecurity = {
    ...(tls ? { tls: loadTls(env, 'KAFKA', read, problems) } : {}),
    ...(sasl && e.KAFKA_SASL_MECHANISM !== undefined && e.KAFKA_SASL_USERNAME !== undefined
      ? {
          sasl: {
            mechanism: e.KAFKA_SASL_MECHANISM.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512',
            username: e.KAFKA_SASL_USERNAME,
            password: e.KAFKA_SASL_PASSWORD ?? '',
          },
        }
      : {}),
  };
  return { value, problems };
}

/** The Cassandra driver's credentials and TLS settings; see the file comment. */
export function loadCassandraSecurity(env: Env, read: ReadFile = readUtf8): Loaded<CassandraSecurity> {
  const parsed = z.object(cassandraSecurityEnv).safeParse(env);
  if (!parsed.success) return { value: {}, problems: issues(parsed.error) };
  const e = parsed.data;
  const problems: string[] = [];
  if (given(env, 'CASSANDRA_USERNAME') !== given(env, 'CASSANDRA_PASSWORD')) {
    problems.push('CASSANDRA_USERNAME and CASSANDRA_PASSWORD: give both or neither');
  }
  const tls = e.CASSANDRA_TLS === 'true';
  if (!tls) problems.push(...tlsFilesWithoutTls(env, 'CASSANDRA', 'CASSANDRA_TLS=true'));
  const value: CassandraSecurity = {
    ...(e.CASSANDRA_USERNAME !== undefined && e.CASSANDRA_PASSWORD !== undefined
      ? { credentials: { username: e.CASSANDRA_USERNAME, password: e.CASSANDRA_PASSWORD } }
      : {}),
    ...(tls ? { tls: loadTls(env, 'CASSANDRA', read, problems) } : {}),
  };
  return { value, problems };
}

/** The Redis connection (undefined without REDIS_URL); see the file comment. */
export function loadRedisConnection(env: Env, read: ReadFile = readUtf8): Loaded<RedisConnection | undefined> {
  const parsed = z.object(redisEnv).safeParse(env);
  if (!parsed.success) return { value: undefined, problems: issues(parsed.error) };
  const url = parsed.data.REDIS_URL;
  const tls = url?.startsWith('rediss:') === true;
  const problems = tls ? [] : tlsFilesWithoutTls(env, 'REDIS', 'a rediss:// REDIS_URL');
  if (url === undefined) return { value: undefined, problems };
  return { value: { url, ...(tls ? { tls: loadTls(env, 'REDIS', read, problems) } : {}) }, problems };
}

/** What a printed configuration shows of TLS: on or off, whose CA, whether a client certificate. No PEM text. */
export function describeTls(tls: TlsSettings | undefined): string {
  if (tls === undefined) return 'off';
  return `on (CA: ${tls.ca === undefined ? 'system roots' : 'given'}${tls.cert === undefined ? '' : ', client certificate'})`;
}

export const redactedKafkaSecurity = (s: KafkaSecurity) => ({
  tls: describeTls(s.tls),
  sasl:
    s.sasl === undefined ? 'off' : { mechanism: s.sasl.mechanism, username: s.sasl.username, password: '[redacted]' },
});

export const redactedCassandraSecurity = (s: CassandraSecurity) => ({
  credentials: s.credentials === undefined ? 'none' : { username: s.credentials.username, password: '[redacted]' },
  tls: describeTls(s.tls),
});

export const redactedRedis = (r: RedisConnection | undefined) =>
  r === undefined ? undefined : { url: redactedUrl(r.url), tls: describeTls(r.tls) };
