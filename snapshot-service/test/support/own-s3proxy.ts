/**
 * An S3Proxy container of our own (from the locally built image, never pulled) that a test may stop and start,
 * behind a TCP forwarder on a fixed local port: `docker start` may give the container a different host port,
 * and the store under test must keep one endpoint, as it would in production.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
const docker = async (...args: string[]) => (await run('docker', args, { timeout: 60_000 })).stdout.trim();

export interface OwnS3Proxy {
  /** The forwarder's endpoint: stable across stop/start. */
  endpoint: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  remove(): Promise<void>;
}

export async function startOwnS3Proxy(): Promise<OwnS3Proxy> {
  const images = await docker('images', '--format', '{{.Repository}}:{{.Tag}}', 'collab/s3proxy');
  const image = images.split('\n').find((l) => l.length > 0);
  if (image === undefined) throw new Error('no local collab/s3proxy image (npm run infra:images builds it)');
  const id = await docker(
    'run',
    '-d',
    '--pull',
    'never',
    '--label',
    'collab.test=snapshot-s3-down',
    '-p',
    '127.0.0.1::8080',
    image,
  );
  let upstreamPort = 0;
  const refreshPort = async () => {
    const mapping = await docker('port', id, '8080/tcp'); // e.g. "127.0.0.1:32781"
    upstreamPort = Number(mapping.split('\n')[0]!.split(':').at(-1));
  };
  await refreshPort();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      await docker('stop', '-t', '2', id);
      for (const s of sockets) s.destroy(); // kept-alive connections would otherwise linger half-open
    },
    async start() {
      await docker('start', id);
      await refreshPort();
    },
    async remove() {
      server.close();
      for (const s of sockets) s.destroy();
      await docker('rm', '-f', '-v', id).catch(() => '');
    },
  };
}
