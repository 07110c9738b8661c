import { AddressInfo, createServer, connect, Server, Socket } from 'node:net';

/**
 * A TCP relay to a real service, which a test can cut and restore: the shared
 * Redis keeps running for everyone else while one cache loses it.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  /** While stalled, what clients send is held back (not lost), as on a Redis that stopped answering. */
  private held: Array<() => void> | undefined;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await proxy.restore();
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether clients can connect right now. */
  get open(): boolean {
    return this.server !== undefined;
  }

  /** Stops accepting connections and drops every open one, as if the service went away. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk: Buffer) => {
        if (this.held) this.held.push(() => upstream.write(chunk));
        else upstream.write(chunk);
      });
      client.on('end', () => upstream.end());
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Keeps connections open but forwards nothing until `resume()`: commands time out instead of failing. */
  stall(): void {
    this.held ??= [];
  }

  /** Forwards what was held back, in order, and everything after. */
  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const forward of held) forward();
  }

  async close(): Promise<void> {
    this.resume();
    await this.cut();
  }
}
