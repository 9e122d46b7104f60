export { COLLAB_PORT, CollabContainer, StartedCollabContainer, type TokenOptions } from './collab-container.js';
