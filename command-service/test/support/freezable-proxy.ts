/**
 * A TCP forwarder on 127.0.0.1 in front of a server of the shared stack, which a test can freeze: from then on
 * nothing moves in either direction and new connections are accepted but never answered — the server "went
 * away" without a reset, the worst case for a client — while the real server keeps serving everyone else.
 */
import net from 'node:net';

export interface FreezableProxy {
  /** host:port of the forwarder. */
  address: string;
  freeze(): void;
  close(): Promise<void>;
}

export async function startFreezableProxy(upstream: { host: string; port: number }): Promise<FreezableProxy> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (frozen) return client.pause(); // accepted, never answered
    const target = net.connect(upstream.port, upstream.host);
    track(target);
    client.on('close', () => target.destroy());
    target.on('close', () => client.destroy());
    client.pipe(target).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    freeze() {
      frozen = true;
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
