import * as net from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, for fault tests: `pause()` stops forwarding
 * bytes both ways (a network partition: connections stay open but go silent, new ones are
 * accepted and hear nothing), `cut()` destroys every connection and resets new ones (an outage),
 * `resume()` restores normal forwarding.
 */
export interface TcpProxy {
  port: number;
  pause(): void;
  resume(): void;
  cut(): void;
  /** Connections currently forwarded. */
  connections(): number;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  /** Bytes held back while paused, per direction. */
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export async function startTcpProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let state: 'open' | 'paused' | 'cut' = 'open';

  const flush = (p: Pair): void => {
    for (const chunk of p.toUpstream.splice(0)) p.upstream.write(chunk);
    for (const chunk of p.toClient.splice(0)) p.client.write(chunk);
  };

  const server = net.createServer((client) => {
    if (state === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (state === 'open') upstream.write(chunk);
      else pair.toUpstream.push(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (state === 'open') client.write(chunk);
      else pair.toClient.push(chunk);
    });
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    port,
    pause: () => {
      state = 'paused';
    },
    resume: () => {
      state = 'open';
      for (const p of pairs) flush(p);
    },
    cut: () => {
      state = 'cut';
      for (const p of [...pairs]) {
        pairs.delete(p);
        p.client.resetAndDestroy();
        p.upstream.destroy();
      }
    },
    connections: () => pairs.size,
    close: async () => {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
