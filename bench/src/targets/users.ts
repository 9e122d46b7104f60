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

export type Connector = (userId: string, recorder: Recorder) => Promise<SimConnection>;

export function userConnector(endpoint: UserEndpoint, clients: 'sdk' | 'light' = 'sdk'): Connector {
  if (endpoint.kind === 'sharedb') {
    registerShareDbClientType();
    return (_userId, recorder) => connectShareDbUser(endpoint.url, recorder);
  }
  const { url, secret } = endpoint;
  const connectUser = clients === 'light' ? connectLightUser : connectCollabUser;
  return (userId, recorder) =>
    Promise.resolve(
      connectUser(url, () => signDevToken({ secret, userId, docs: { '*': ['read', 'write'] } }), recorder),
    );
}
