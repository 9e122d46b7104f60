/**
 * Servers with security on, each in its own container, for the tests that prove our adapters connect to secured
 * clusters (and that wrong credentials or an untrusted certificate fail): Kafka with a SASL_SSL listener
 * (SCRAM-SHA-512) and an mTLS listener, Cassandra with PasswordAuthenticator and client TLS, Redis with TLS, a
 * client certificate required and an ACL user (the default user off).
 *
 * The same local images as the stack, configured at container start (environment, a wrapper command), not
 * rebuilt. Each container makes its own test PKI at start with openssl (a CA, a server certificate for 127.0.0.1
 * and localhost, a client certificate); the test reads the CA and the client's certificate and key back. The
 * containers carry the harness labels of this run (collab.harness.run), so `npm run infra:down` and CI's teardown
 * remove them even when a test is killed; `stop()` removes them at once. Ports on 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import cassandra from 'cassandra-driver';
import type { Context } from 'mocha';
import type { StartedTestContainer } from 'testcontainers';
import { Wait, getContainerRuntimeClient } from 'testcontainers';
import { harnessTimeouts } from './config.js';
import { LABEL_HARNESS, LABEL_PURPOSE, LABEL_RUN, LoopbackContainer } from './containers.js';
import { dockerStatus, prepareTestcontainers } from './docker.js';
import { assertLocalImagesPresent, localImages, type StackImages } from './images.js';
import { banner } from './skip-rule.js';
import { RUN_ID } from './stack.js';
import { bestEffort } from '@collab/core';

/** PEM text made in the container: the CA every server certificate chains to, and a client certificate. */
export interface TestPki {
  ca: string;
  clientCert: string;
  clientKey: string;
}

interface Secured {
  pki: TestPki;
  /** Removes the container. Idempotent. */
  stop(): Promise<void>;
}

export interface SecureKafka extends Secured {
  /** The SASL_SSL listener (SCRAM-SHA-512; TLS without a client certificate). */
  saslSslBrokers: string[];
  /** The SSL listener that requires a client certificate (mTLS). */
  mtlsBrokers: string[];
  scram: { mechanism: 'scram-sha-512'; username: string; password: string };
}

export interface SecureCassandra extends Secured {
  /** TLS required; PasswordAuthenticator. */
  contactPoints: string[];
  localDataCenter: string;
  /** A login role made for the test (not the default superuser). */
  credentials: { username: string; password: string };
}

export interface SecureRedis extends Secured {
  /** rediss://user:password@127.0.0.1:port — the ACL user; the default user is off. */
  url: string;
  username: string;
  password: string;
  /** host:port, to build URLs with other credentials. */
  hostPort: string;
}

const PKI_DIR = '/tmp/pki';
const STORE_PASSWORD = 'collab-test-store';

/**
 * Shell that makes the PKI (EC P-256 keys: fast to generate on a busy machine), plus a PKCS12 keystore for the
 * JVM servers. Runs before the server starts, in the same container.
 */
const MAKE_PKI = [
  'set -e',
  `mkdir -p ${PKI_DIR} && cd ${PKI_DIR}`,
  'key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }',
  'key ca && openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=collab-test-ca ' +
    '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign',
  'sign() { openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" && printf "%s\\n" "$3" > "$1.ext" && ' +
    'openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null; }',
  'key server && sign server localhost "subjectAltName=IP:127.0.0.1,DNS:localhost"',
  'key client && sign client collab-test-client "extendedKeyUsage=clientAuth"',
  `openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name server -out server.p12 -passout pass:${STORE_PASSWORD}`,
  'chmod -R a+r .',
].join('\n');

const secret = (): string => randomBytes(12).toString('hex');

async function readPki(container: StartedTestContainer): Promise<TestPki> {
  const cat = async (file: string): Promise<string> => {
    const result = await container.exec(['cat', `${PKI_DIR}/${file}`]);
    if (result.exitCode !== 0) throw new Error(`reading ${PKI_DIR}/${file} failed: ${result.output}`);
    return result.stdout;
  };
  const [ca, clientCert, clientKey] = await Promise.all([cat('ca.pem'), cat('client.pem'), cat('client.key')]);
  return { ca, clientCert, clientKey };
}

/** The PKI as files, the way an operator gives it (KAFKA_TLS_CA_FILE, ...); `remove()` deletes them. */
export async function writePkiFiles(
  pki: TestPki,
): Promise<{ ca: string; cert: string; key: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'collab-pki-'));
  const file = async (name: string, text: string): Promise<string> => {
    const at = join(dir, name);
    await writeFile(at, text, { mode: 0o600 });
    return at;
  };
  return {
    ca: await file('ca.pem', pki.ca),
    cert: await file('client.pem', pki.clientCert),
    key: await file('client.key', pki.clientKey),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

const labels = (): Record<string, string> => ({ [LABEL_HARNESS]: '1', [LABEL_RUN]: RUN_ID, [LABEL_PURPOSE]: 'test' });

function secured(image: string, port: number, name: string): LoopbackContainer {
  return new LoopbackContainer(image, port)
    .withName(`collab-it-${RUN_ID}-${name}-${randomBytes(3).toString('hex')}`)
    .withLabels(labels())
    .withStartupTimeout(harnessTimeouts(process.env).startupMs);
}

async function started(
  container: LoopbackContainer,
  what: string,
): Promise<{ running: StartedTestContainer; stop: () => Promise<void> }> {
  let running: StartedTestContainer;
  try {
    running = await container.start();
  } catch (err) {
    throw new Error(`${what} did not start: ${(err as Error).message}\nlast log lines:\n${container.logTail()}`, {
      cause: err,
    });
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= running
      .stop({ remove: true, removeVolumes: true, timeout: 0 })
      .then(() => undefined)
      .catch(() => undefined));
  return { running, stop };
}

let images: Promise<StackImages> | undefined;

/**
 * Whether the secured servers can start here: they need Docker and our local images even when the stack itself
 * is given by endpoint variables. Like the stack's rule: skip loudly on a developer machine, fail in CI.
 */
export async function requireSecureServers(ctx: Context): Promise<void> {
  const docker = await dockerStatus(process.env);
  let problem = docker.reachable ? undefined : `no Docker engine (${docker.reason})`;
  if (problem === undefined) {
    try {
      images ??= localImages();
      await assertLocalImagesPresent(await getContainerRuntimeClient(), await images);
    } catch (err) {
      problem = (err as Error).message;
    }
  }
  if (problem === undefined) return;
  const message = `The secured-server tests (TLS, SASL, passwords) need Docker and the local images: ${problem}`;
  if (process.env.CI === 'true') throw new Error(banner(`CI=true: they cannot be skipped.\n${message}`));
  process.stderr.write(banner(`SKIPPED: ${message}`));
  ctx.skip();
}

async function image(service: keyof StackImages): Promise<string> {
  prepareTestcontainers(process.env);
  images ??= localImages();
  return (await images)[service];
}

/**
 * Kafka 3.9 (KRaft) with SECURE (SASL_SSL, SCRAM-SHA-512) on 9092 and MTLS (SSL, client certificate required) on
 * 9094, both mapped to 127.0.0.1; the broker-internal listener stays plaintext inside the container. The SCRAM
 * credential is written at storage format time (`--add-scram`), so it exists before the broker serves anyone.
 */
export async function startSecureKafka(): Promise<SecureKafka> {
  const scram = { mechanism: 'scram-sha-512' as const, username: 'collab', password: secret() };
  const advertise = '/tmp/advertise.env';
  const container = secured(await image('kafka'), 9092, 'kafka-secure')
    .withExposedPorts(9094)
    .withEnvironment({
      KAFKA_LISTENERS: 'SECURE://0.0.0.0:9092,MTLS://0.0.0.0:9094,INTERNAL://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'SECURE:SASL_SSL,MTLS:SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
      KAFKA_SASL_ENABLED_MECHANISMS: 'SCRAM-SHA-512',
      // listener.name.secure.scram-sha-512.sasl.jaas.config (the image's naming: ___ is -, _ is .)
      KAFKA_LISTENER_NAME_SECURE_SCRAM___SHA___512_SASL_JAAS_CONFIG:
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      KAFKA_LISTENER_NAME_MTLS_SSL_CLIENT_AUTH: 'required',
      KAFKA_SSL_KEYSTORE_TYPE: 'PKCS12',
      KAFKA_SSL_KEYSTORE_LOCATION: `${PKI_DIR}/server.p12`,
      KAFKA_SSL_KEYSTORE_PASSWORD: STORE_PASSWORD,
      KAFKA_SSL_KEY_PASSWORD: STORE_PASSWORD,
      // A PEM truststore takes no password.
      KAFKA_SSL_TRUSTSTORE_TYPE: 'PEM',
      KAFKA_SSL_TRUSTSTORE_LOCATION: `${PKI_DIR}/ca.pem`,
      KAFKA_WAIT_FOR_FILE: advertise,
      // Not a KAFKA_ variable, so the entrypoint does not turn it into a broker property.
      SCRAM_CREDENTIAL: `SCRAM-SHA-512=[name=${scram.username},password=${scram.password}]`,
    })
    .withEntrypoint([
      'bash',
      '-c',
      `${MAKE_PKI}\n` +
        // The image's entrypoint formats the storage with --ignore-formatted; add the SCRAM credential to it.
        `sed 's|--ignore-formatted$|--ignore-formatted --add-scram "$SCRAM_CREDENTIAL"|' /opt/kafka/entrypoint.sh > /tmp/entrypoint.sh\n` +
        `grep -q -- '--add-scram' /tmp/entrypoint.sh || { echo 'entrypoint.sh: no format line to extend' >&2; exit 1; }\n` +
        'exec bash /tmp/entrypoint.sh',
    ])
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .onStarting(async (securePort, containerId) => {
      const client = await getContainerRuntimeClient();
      const handle = client.container.getById(containerId);
      const inspect = await client.container.inspect(handle);
      const mtlsPort = inspect.NetworkSettings.Ports['9094/tcp']?.find((b) => b.HostIp === '127.0.0.1')?.HostPort;
      if (mtlsPort === undefined) throw new Error('no host port for 9094');
      // $(hostname) expands when the entrypoint sources the file.
      const line = `export KAFKA_ADVERTISED_LISTENERS=SECURE://127.0.0.1:${securePort},MTLS://127.0.0.1:${mtlsPort},INTERNAL://$(hostname):19092`;
      const result = await client.container.exec(handle, [
        'sh',
        '-c',
        `printf '%s\\n' '${line}' > ${advertise}.tmp && mv ${advertise}.tmp ${advertise}`,
      ]);
      if (result.exitCode !== 0) throw new Error(`writing ${advertise} failed: ${result.output}`);
    });
  const { running, stop } = await started(container, 'secured Kafka');
  return {
    saslSslBrokers: [`127.0.0.1:${running.getMappedPort(9092)}`],
    mtlsBrokers: [`127.0.0.1:${running.getMappedPort(9094)}`],
    scram,
    pki: await readPki(running),
    stop,
  };
}

/**
 * Cassandra 5.0 with PasswordAuthenticator and client TLS required (no client certificate asked), and a login
 * role for the test, created through the default superuser (cassandra/cassandra) once the node takes logins.
 */
export async function startSecureCassandra(): Promise<SecureCassandra> {
  const template = '/opt/cassandra/conf/cassandra.yaml.template';
  const encryption = [
    'client_encryption_options:',
    '  enabled: true',
    '  optional: false',
    `  keystore: ${PKI_DIR}/server.p12`,
    `  keystore_password: ${STORE_PASSWORD}`,
    '  store_type: PKCS12',
    '  require_client_auth: false',
  ].join('\\n');
  const container = secured(await image('cassandra'), 9042, 'cassandra-secure')
    .withEnvironment({ CASSANDRA_BROADCAST_RPC_ADDRESS: '127.0.0.1', CASSANDRA_FAST_JIT: '1' })
    .withEntrypoint([
      'bash',
      '-c',
      `${MAKE_PKI}\n` +
        `sed -i 's/^authenticator: AllowAllAuthenticator$/authenticator: PasswordAuthenticator/' ${template}\n` +
        `grep -q '^authenticator: PasswordAuthenticator$' ${template} || { echo 'no authenticator line' >&2; exit 1; }\n` +
        `printf '${encryption}\\n' >> ${template}\n` +
        'exec /opt/cassandra/entrypoint.sh',
    ])
    .withWaitStrategy(Wait.forLogMessage(/Startup complete/));
  const { running, stop } = await started(container, 'secured Cassandra');
  const server = {
    contactPoints: [`127.0.0.1:${running.getMappedPort(9042)}`],
    localDataCenter: 'datacenter1',
    credentials: { username: 'collab_test', password: secret() },
    pki: await readPki(running),
    stop,
  };
  try {
    await createLoginRole(server);
  } catch (err) {
    await stop();
    throw err;
  }
  return server;
}

/**
 * The default superuser appears a moment after "Startup complete" (the role manager sets it up asynchronously):
 * connect until it is accepted, bounded by the startup timeout, then create the test's role.
 */
async function createLoginRole(server: Omit<SecureCassandra, 'stop'>): Promise<void> {
  const deadline = Date.now() + harnessTimeouts(process.env).startupMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new cassandra.Client({
      contactPoints: server.contactPoints,
      localDataCenter: server.localDataCenter,
      authProvider: new cassandra.auth.PlainTextAuthProvider('cassandra', 'cassandra'),
      sslOptions: { ca: [server.pki.ca], rejectUnauthorized: true },
      socketOptions: { connectTimeout: 5_000, readTimeout: 20_000 },
    });
    try {
      await client.connect();
      const { username, password } = server.credentials;
      await client.execute(`CREATE ROLE IF NOT EXISTS ${username} WITH PASSWORD = '${password}' AND LOGIN = true`);
      return;
    } catch (err) {
      lastError = err;
      await delay(500); // the node is not ready for logins yet: nothing to await but time
    } finally {
      await bestEffort(client.shutdown());
    }
  }
  throw new Error(`the secured Cassandra never accepted the superuser: ${(lastError as Error)?.message}`, {
    cause: lastError,
  });
}

/**
 * Redis 7 with TLS only (no plaintext port), a client certificate required, the default user off and one ACL
 * user that may do everything presence needs.
 */
export async function startSecureRedis(): Promise<SecureRedis> {
  const username = 'presence';
  const password = secret();
  const container = secured(await image('redis'), 6379, 'redis-secure')
    .withEntrypoint([
      'bash',
      '-c',
      `${MAKE_PKI}\n` +
        'exec redis-server --protected-mode no --bind 0.0.0.0 --save "" --appendonly no ' +
        `--port 0 --tls-port 6379 --tls-cert-file ${PKI_DIR}/server.pem --tls-key-file ${PKI_DIR}/server.key ` +
        `--tls-ca-cert-file ${PKI_DIR}/ca.pem --tls-auth-clients yes ` +
        `--user default off --user ${username} on '>${password}' '~*' '&*' '+@all'`,
    ])
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/));
  const { running, stop } = await started(container, 'secured Redis');
  const hostPort = `127.0.0.1:${running.getMappedPort(6379)}`;
  return {
    url: `rediss://${username}:${password}@${hostPort}`,
    username,
    password,
    hostPort,
    pki: await readPki(running),
    stop,
  };
}
