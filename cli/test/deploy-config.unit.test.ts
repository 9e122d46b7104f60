/**
 * The Kubernetes ConfigMaps (deploy/kubernetes: base/config.env merged with each overlay's config.env, as
 * kustomize's `behavior: merge` does) must be configurations the services accept: a misspelled value (say
 * KAFKA_SASL_MECHANISM=scram) would otherwise surface only as pods exiting 2 in the cluster, and a misspelled
 * variable name would be ignored silently. Each service's own loader is run on the ConfigMap plus stand-ins for
 * the Secrets and the per-container variables the manifests set (copied here by hand); every variable in the files must be one the
 * code reads.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandServiceProcess } from '@collab/command-service';
import { loadConfig as loadProjectionConfig } from '@collab/projection-service';
import { loadConfig as loadSnapshotConfig } from '@collab/snapshot-service';
import { loadCommandConfig } from '../src/config/load.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const KUBE = join(REPO, 'deploy/kubernetes');
const OVERLAYS = ['staging', 'production'];

function envFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `${path}: not NAME=value: ${line}`);
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/**
 * What the Secrets named in the manifests hold (stand-in values of valid shape). `collab-kafka-sasl` is optional
 * in the manifests and must exist only where the ConfigMap turns SASL on: the services refuse SASL credentials
 * without it.
 */
function secrets(configMap: Record<string, string>): Record<string, string> {
  const sasl = (configMap.KAFKA_SECURITY_PROTOCOL ?? '').startsWith('SASL_');
  return {
    COLLAB_JWT_SECRET: 'k8s-test-secret-0123456789abcdef0123456789',
    S3_ACCESS_KEY_ID: 'access',
    S3_SECRET_ACCESS_KEY: 'secret',
    ...(sasl ? { KAFKA_SASL_USERNAME: 'collab', KAFKA_SASL_PASSWORD: 'sasl-password' } : {}),
    CASSANDRA_USERNAME: 'collab',
    CASSANDRA_PASSWORD: 'cassandra-password',
  };
}

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

describe('deploy/kubernetes ConfigMaps', () => {
  for (const overlay of OVERLAYS) {
    const configMap = {
      ...envFile(join(KUBE, 'base/config.env')),
      ...envFile(join(KUBE, 'overlays', overlay, 'config.env')),
    };
    const pod = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
      ...configMap,
      ...secrets(configMap),
      ...extra,
    });

    it(`${overlay}: every service and the migrations Job accept the configuration`, () => {
      const command = commandServiceProcess(
        pod({
          COLLAB_INSTANCE_ID: 'command-service-0',
          COLLAB_PORT: '8080',
          COLLAB_METRICS_PORT: '9464',
          COLLAB_SHUTDOWN_DRAIN_MS: '10000',
        }),
      ).loadConfig();
      assert.equal(command.port, 8080);
      assert.equal(command.shutdown.timeoutMs, 25_000, 'the grace periods in the manifests assume 25 s');
      assert.ok(command.shutdown.drainMs < command.shutdown.timeoutMs, 'the drain fits in the deadline');
      const projection = loadProjectionConfig(pod({ COLLAB_INSTANCE_ID: 'p-0', COLLAB_METRICS_PORT: '9465' }));
      const snapshot = loadSnapshotConfig(pod({ COLLAB_INSTANCE_ID: 's-0', COLLAB_METRICS_PORT: '9466' }));
      assert.equal(command.kafka.partitions, Number(configMap.COLLAB_OPS_PARTITIONS));
      assert.equal(projection.kafka.partitions, command.kafka.partitions);
      assert.equal(snapshot.kafka.partitions, command.kafka.partitions);
      const migrate = loadCommandConfig(pod({}), { mode: 'distributed' }, ['kafka', 'cassandra', 's3']);
      assert.equal(migrate.mode, 'distributed');
    });
  }

  it('name only variables the code reads', () => {
    const sources = ['packages', 'command-service/src', 'projection-service/src', 'snapshot-service/src', 'cli/src']
      .flatMap((root) => [...sourceFiles(join(REPO, root))].filter((f) => f.includes('/src/')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const names = new Set(
      ['base', ...OVERLAYS.map((o) => `overlays/${o}`)].flatMap((d) =>
        Object.keys(envFile(join(KUBE, d, 'config.env'))),
      ),
    );
    assert.ok(names.size >= 15, `only ${names.size} variables found`);
    // Whole words: KAFKA_BROKER must not pass because KAFKA_BROKERS is read.
    for (const name of names) assert.ok(new RegExp(`\\b${name}\\b`).test(sources), `${name} is read by no service`);
  });
});
