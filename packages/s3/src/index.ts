export { createS3SnapshotStore, type S3SnapshotStoreOptions } from './snapshot-store.js';
export { createS3Client, DEFAULT_TIMEOUTS, type S3EndpointConfig, type S3Timeouts } from './client.js';
export { ensureBucket } from './bucket.js';
export { snapshotKey, docPrefix, encodeDocId, latestPointerKey } from './keys.js';
export { createS3MediaStore, type S3MediaStoreOptions } from './media-store.js';
