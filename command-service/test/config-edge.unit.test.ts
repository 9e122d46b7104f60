/** The distributed command-service's configuration of its edge: allow-lists, caps and the auth deadline. */
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.js';

const BASE = { KAFKA_BROKERS: '127.0.0.1:9092', COLLAB_JWT_SECRET: 'x'.repeat(32) };

describe('command-service configuration: the edge', () => {
  it('defaults: no lists (the bind decides), 10,000 connections, 256 per address, 10 s to authenticate', () => {
    const config = loadConfig(BASE);
    assert.equal(config.host, '0.0.0.0');
    assert.deepEqual(config.access, { allowedHosts: undefined, allowedOrigins: undefined });
    assert.deepEqual(config.connections, { max: 10_000, maxPerAddress: 256, authTimeoutMs: 10_000 });
  });

  it('reads the lists and limits, and lists every bad one at once', () => {
    const config = loadConfig({
      ...BASE,
      COLLAB_ALLOWED_HOSTS: 'collab.example.com',
      COLLAB_ALLOWED_ORIGINS: 'https://collab.example.com',
      COLLAB_MAX_CONNECTIONS: '5000',
      COLLAB_MAX_CONNECTIONS_PER_IP: '5000',
      COLLAB_AUTH_TIMEOUT_MS: '3000',
    });
    assert.deepEqual(config.access, {
      allowedHosts: ['collab.example.com'],
      allowedOrigins: ['https://collab.example.com'],
    });
    assert.deepEqual(config.connections, { max: 5000, maxPerAddress: 5000, authTimeoutMs: 3000 });
    assert.throws(
      () => loadConfig({ ...BASE, COLLAB_ALLOWED_HOSTS: 'http://x', COLLAB_AUTH_TIMEOUT_MS: '0' }),
      (err: ConfigError) =>
        err.problems.some((p) => p.startsWith('COLLAB_ALLOWED_HOSTS')) &&
        err.problems.some((p) => p.startsWith('COLLAB_AUTH_TIMEOUT_MS')),
    );
  });
});
