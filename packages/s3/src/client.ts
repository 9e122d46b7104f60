/**
 * Building an S3Client for an S3-compatible endpoint with every timeout set explicitly. The SDK's defaults are
 * unsuitable for a service with SLOs: no connection timeout, and a request timeout that only *logs a warning*
 * unless `throwOnRequestTimeout` is set.
 */
import { S3Client } from '@aws-sdk/client-s3';

export interface S3Timeouts {
  /** TCP (+TLS) connect, per attempt. Default 2000 ms. */
  connectMs?: number;
  /**
   * One attempt, from sending the request until the response headers arrive (the whole upload of a part, for a
   * multipart write). Exceeding it aborts the attempt with ERR_TIMEOUT. Default 30000 ms.
   */
  requestMs?: number;
  /** A socket that stays silent this long is torn down (covers a body download stalling). Default = requestMs. */
  socketIdleMs?: number;
}

export const DEFAULT_TIMEOUTS: Required<S3Timeouts> = { connectMs: 2_000, requestMs: 30_000, socketIdleMs: 30_000 };

export interface S3EndpointConfig {
  /** e.g. http://127.0.0.1:29080 for S3Proxy/MinIO; omit for AWS (then `region` picks the endpoint). */
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  timeouts?: S3Timeouts;
  /**
   * Attempts per operation, including the first (the SDK's standard retry strategy: exponential backoff with
   * jitter, only for retriable errors). Default 3. The worst case for one call is therefore about
   * maxAttempts × (connectMs or requestMs) plus backoff.
   */
  maxAttempts?: number;
}

export function createS3Client(config: S3EndpointConfig): S3Client {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...config.timeouts };
  return new S3Client({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
    // S3-compatible servers (S3Proxy, MinIO, Ceph) are addressed as http://host/bucket/key: no wildcard DNS.
    forcePathStyle: config.endpoint !== undefined,
    maxAttempts: config.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: timeouts.connectMs,
      requestTimeout: timeouts.requestMs,
      throwOnRequestTimeout: true,
      socketTimeout: config.timeouts?.socketIdleMs ?? timeouts.requestMs,
    },
  });
}
