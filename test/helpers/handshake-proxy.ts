// A TCP proxy on 127.0.0.1 that holds back the first bytes of each new connection for `setupMs`: the
// time a new connection's handshakes (TCP, then TLS) add to its first request's way to the server,
// which a request on a kept-alive connection does not pay.
import net from 'node:net';

export interface HandshakeProxy {
  url: string;
  /** Connections opened through the proxy so far. */
  connections: number;
  close(): Promise<void>;
}

export async function handshakeProxy(targetUrl: string, setupMs: number): Promise<HandshakeProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  const proxy: HandshakeProxy = { url: '', connections: 0, close: async () => undefined };
  const server = net.createServer((client) => {
    proxy.connections++;
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    const opened = Date.now();
    client.on('data', (chunk) => {
      const heldMs = opened + setupMs - Date.now();
      if (heldMs > 0) setTimeout(() => upstream.write(chunk), heldMs);
      else upstream.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  proxy.url = `http://127.0.0.1:${port}`;
  proxy.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
