import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';

export interface Health {
  healthy: boolean;
  [detail: string]: unknown;
}

export interface HttpServerOptions {
  port: number;
  host: string;
  logger: Logger;
  health(): Promise<Health>;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export interface HttpServer {
  /** The bound address, e.g. `http://127.0.0.1:9464` (the real port when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `/healthz` (200 when healthy, 503 when not, JSON either way) and `/metrics` (Prometheus text).
 * Nothing else: no request body is read, so there is nothing here to feed bad input to.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz') {
        const health = await options.health();
        res.writeHead(health.healthy ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(health));
        return;
      }
      if (path === '/metrics') {
        const { contentType, body } = await options.metrics();
        res.writeHead(200, { 'content-type': contentType }).end(body);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    };
    answer().catch((error: unknown) => {
      options.logger.error({ err: error, path }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
