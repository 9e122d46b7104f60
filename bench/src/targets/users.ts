/**
 * A simulated user's connection built from a target's endpoint (plain data), so the users can live in any process:
 * our SDK with a dev token signed here, or ShareDB's client.
 */
import { signDevToken } from '@collab/command-service';
import type { Recorder } from '../recorder.js';
import type { SimConnection, UserEndpoint } from '../target.js';
import { connectCollabUser } from './collab-user.js';
import { connectLightUser } from './light-user.js';
import { connectShareDbUser, registerShareDbClientType } from './sharedb.js';

/** `index`: the user's global index, which picks its instance when there are several (default 0). */
export type Connector = (userId: string, recorder: Recorder, index?: number) => Promise<SimConnection>;

export function userConnector(endpoint: UserEndpoint, clients: 'sdk' | 'light' = 'sdk'): Connector {
  if (endpoint.kind === 'sharedb') {
    registerShareDbClientType();
    return (_userId, recorder) => connectShareDbUser(endpoint.url, recorder);
  }
  const { secret } = endpoint;
  const urls = endpoint.urls ?? [endpoint.url];
  const connectUser = clients === 'light' ? connectLightUser : connectCollabUser;
  return (userId, recorder, index = 0) =>
    Promise.resolve(
      connectUser(
        urls[index % urls.length]!,
        () => signDevToken({ secret, userId, docs: { '*': ['read', 'write'] } }),
        recorder,
      ),
    );
}
