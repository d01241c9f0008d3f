// One port, every protocol: HTTP/1.1 and h2c are told apart by the HTTP/2 connection preface,
// then handed to the matching Node server. Routing: health, metrics, REST (/api/v1), extra
// handlers (e.g. the demo page), and everything else to Connect (gRPC, gRPC-Web, Connect).
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import type { AnyRequest, AnyResponse } from './rest.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** A duplex over `socket` whose readable side starts with `head` (already-read bytes). */
const relay = (socket: net.Socket, head: Buffer): Duplex => {
  const d = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, _enc, cb) => void socket.write(chunk, cb),
    final: (cb) => void socket.end(cb),
    destroy: (err, cb) => {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  for (const p of ['remoteAddress', 'remotePort', 'remoteFamily', 'localAddress', 'localPort'] as const) {
    Object.defineProperty(d, p, { get: () => socket[p] });
  }
  d.push(head);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('close', () => d.destroy());
  socket.resume();
  return d;
};

export type Route = (req: AnyRequest, res: AnyResponse) => boolean | Promise<boolean>;

export type ServerHandle = {
  port: number;
  /** Stops accepting, lets in-flight calls finish (up to graceMs), then closes every connection. */
  close: (graceMs?: number) => Promise<void>;
  inFlight: () => number;
};

export const startServer = async (opts: { port: number; host: string; handle: (req: AnyRequest, res: AnyResponse) => void }): Promise<ServerHandle> => {
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const track = (req: AnyRequest, res: AnyResponse) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    opts.handle(req, res);
  };
  const h1 = http.createServer({ keepAliveTimeout: 5000 }, track);
  const h2 = http2.createServer({}, track);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const n = Math.min(buf.length, PREFACE.length);
      const isH2 = buf.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && buf.length < PREFACE.length) return; // need the rest of the preface
      socket.removeListener('data', onData);
      socket.pause();
      if (isH2) {
        // The http2 session reads the native handle directly, so bytes already read cannot be
        // unshifted back; hand it a duplex that replays them and then relays the socket.
        h2.emit('connection', relay(socket, buf));
      } else {
        socket.unshift(buf);
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    inFlight: () => inFlight,
    close: async (graceMs = 10_000) => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      h1.closeIdleConnections();
      for (const s of sessions) s.close(); // GOAWAY: no new streams, running ones finish
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((r) => (drained = r)), new Promise((r) => setTimeout(r, graceMs).unref())]);
      }
      h1.closeAllConnections();
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
};
