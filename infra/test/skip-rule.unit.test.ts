/** The skipping rule and the image-name parsing, without Docker. */
import assert from 'node:assert/strict';
import { parseImageLines } from '../src/images.js';
import { decideSuite } from '../src/skip-rule.js';

const external = {
  source: 'external' as const,
  endpoints: {
    mode: 'external' as const,
    kafka: { brokers: ['127.0.0.1:1'] },
    cassandra: { contactPoints: ['127.0.0.1:2'], localDataCenter: 'datacenter1' },
    s3: { endpoint: 'http://127.0.0.1:3', region: 'us-east-1', accessKeyId: 'a', secretAccessKey: 'b' },
    redis: { url: 'redis://127.0.0.1:4' },
  },
};
const noDocker = { reachable: false as const, reason: 'unix:///nowhere: connect ENOENT' };

describe('decideSuite (skipping rule)', () => {
  it('runs when Docker answers, in CI or not', () => {
    assert.deepEqual(decideSuite({ source: 'local' }, { reachable: true }, false), { action: 'run' });
    assert.deepEqual(decideSuite({ source: 'public' }, { reachable: true }, true), { action: 'run' });
  });

  it('runs against given endpoints without asking Docker', () => {
    assert.deepEqual(decideSuite(external, undefined, true), { action: 'run' });
  });

  it('skips outside CI without Docker, saying how to enable the suite', () => {
    const d = decideSuite({ source: 'local' }, noDocker, false);
    assert.equal(d.action, 'skip');
    if (d.action !== 'skip') return;
    assert.match(d.message, /INTEGRATION TESTS SKIPPED/);
    assert.match(d.message, /npm run infra:images/);
    assert.match(d.message, /KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS, S3_ENDPOINT, REDIS_URL/);
    assert.match(d.message, /connect ENOENT/);
  });

  it('fails in CI without Docker: never a silent skip', () => {
    const d = decideSuite({ source: 'local' }, noDocker, true);
    assert.equal(d.action, 'fail');
    if (d.action === 'fail') assert.match(d.message, /CI=true: integration tests cannot be skipped/);
  });
});

describe('parseImageLines (build.sh --print)', () => {
  it('maps the KEY=image:tag lines to services', () => {
    const out = [
      'BASE_IMAGE=collab/base:bookworm-1',
      'KAFKA_IMAGE=collab/kafka:3.9.2-2',
      'KAFKA4_IMAGE=collab/kafka:4.4.0-3',
      'CASSANDRA_IMAGE=collab/cassandra:5.0.9-4',
      'S3PROXY_IMAGE=collab/s3proxy:4.1.0-5',
      'REDIS_IMAGE=collab/redis:bookworm-6',
      'SCHEMA_REGISTRY_IMAGE=collab/apicurio-registry:2.0.2.Final-7',
      '',
    ].join('\n');
    assert.deepEqual(parseImageLines(out), {
      kafka: 'collab/kafka:3.9.2-2',
      cassandra: 'collab/cassandra:5.0.9-4',
      s3: 'collab/s3proxy:4.1.0-5',
      redis: 'collab/redis:bookworm-6',
      schemaRegistry: 'collab/apicurio-registry:2.0.2.Final-7',
    });
  });

  it('names the missing key', () => {
    assert.throws(() => parseImageLines('KAFKA_IMAGE=k\nCASSANDRA_IMAGE=c\nREDIS_IMAGE=r\n'), /S3PROXY_IMAGE/);
  });
});
