/**
 * A loopback port free at the moment of asking, for a process that must be told its port before it starts (a
 * metrics port to scrape, a broker's advertised port). Another process may take it in between: callers that can
 * bind port 0 themselves should.
 */
import net from 'node:net';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
