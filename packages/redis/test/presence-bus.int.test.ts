import { randomUUID } from 'node:crypto';
import { presenceBusContract } from '@collab/contracts';
import { useStack } from '@collab/infra';
import { Redis } from 'ioredis';
import { createRedisPresenceBus } from '../src/index.js';

describe('@collab/adapter-redis against the stack Redis', function () {
  // One prefix per run: every bus of the run shares it (they stand for several instances), no other run sees it.
  const keyPrefix = `test-${randomUUID()}:`;
  let url: string;
  before(async function () {
    url = (await useStack()).redis.url;
  });
  after(async function () {
    const redis = new Redis(url);
    try {
      const keys = await redis.keys(`${keyPrefix}*`); // a test prefix holds a handful of keys
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  presenceBusContract('Redis (own connections)', () => createRedisPresenceBus({ url, keyPrefix }));
});
