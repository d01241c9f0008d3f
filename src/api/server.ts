// One port, every protocol: HTTP/1.1 and h2c are told apart by the HTTP/2 connection preface,
// then handed to the matching Node server. Routing: health, metrics, REST (/api/v1), extra
// handlers (e.g. the demo page), and everything else to Connect (gRPC, gRPC-Web, Connect).
//
// Hostile clients: every connection has deadlines (preface/headers, whole request, idle), a
// client address may hold only so many connections, an HTTP/2 session only so many streams.
// Servers fed by emit('connection') get none of Node's own timeouts (those are armed by
// listen()), so each deadline is set here. The client address is always the real socket's.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { ConnectionLimits } from '../config.ts';
import type { AnyRequest, AnyResponse } from './rest.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** "::ffff:203.0.113.7" → "203.0.113.7"; the address as the socket reports it otherwise. */
export const normaliseAddress = (ip: string | undefined): string | undefined => ip?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

/** The real socket address of the client that sent `req` (undefined only for a request this
 * server did not receive, e.g. in a unit test). */
export const peerAddressOf = (req: AnyRequest): string | undefined => normaliseAddress(req.socket?.remoteAddress);

/** HTTP/2 deadlines: a stream must deliver its whole request within requestTimeoutMs and may not
 * sit silent for idleTimeoutMs; a session without open streams is closed after idleTimeoutMs
 * (PINGs and SETTINGS do not keep it alive). */
const guardSession = (s: http2.ServerHttp2Session, limits: ConnectionLimits) => {
  let open = 0;
  // One timer for the session's life, restarted when its last stream closes (a call on a kept-open
  // connection allocates no timer of its own for it); it lets a session with open streams be.
  const idle = setTimeout(() => {
    if (open > 0) return;
    s.close();
    setTimeout(() => s.destroy(), 1000).unref();
  }, limits.idleTimeoutMs).unref();
  s.once('close', () => clearTimeout(idle));
  s.on('stream', (stream) => {
    open++;
    stream.setTimeout(limits.idleTimeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    const deadline = setTimeout(() => {
      if (stream.closed || stream.state.remoteClose) return; // the request arrived in time
      if (!stream.headersSent) stream.respond({ ':status': 408 }, { endStream: true });
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, limits.requestTimeoutMs).unref();
    stream.once('close', () => {
      clearTimeout(deadline);
      if (--open === 0 && !s.closed) idle.refresh();
    });
  });
};

export type ServerHandle = {
  port: number;
  /** Stops accepting, lets in-flight calls finish (up to graceMs), then closes every connection. */
  close: (graceMs?: number) => Promise<void>;
  inFlight: () => number;
};

export const startServer = async (opts: {
  port: number;
  host: string;
  handle: (req: AnyRequest, res: AnyResponse) => void;
  limits: ConnectionLimits;
  /** A connection refused at the door (cap per client address, or no preface/headers in time). */
  onRefused?: (reason: 'client-connection-cap' | 'headers-timeout', peer: string) => void;
}): Promise<ServerHandle> => {
  const { limits } = opts;
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
  const h1 = http.createServer(
    {
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Deadlines are checked this often (Node's default is 30 s).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    track,
  );
  h1.timeout = limits.idleTimeoutMs;
  // Node arms headersTimeout/requestTimeout (its connection tracking) when a server emits
  // 'listening'; h1 never listens itself, it is fed sockets by the sniffer below.
  h1.emit('listening');
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: limits.maxStreamsPerSession } }, track);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    guardSession(s, limits);
  });
  const sockets = new Set<net.Socket>();
  const perClient = new Map<string, number>();

  // noDelay: HTTP/2 writes small frames (headers, then trailers) through the relay; with Nagle each
  // answer would wait for the client's delayed ACK (~40 ms).
  const server = net.createServer({ noDelay: true }, (socket) => {
    const peer = normaliseAddress(socket.remoteAddress) ?? 'unknown';
    socket.on('error', () => socket.destroy());
    const held = perClient.get(peer) ?? 0;
    if (limits.maxConnectionsPerClient > 0 && held >= limits.maxConnectionsPerClient) {
      opts.onRefused?.('client-connection-cap', peer);
      socket.destroy();
      return;
    }
    perClient.set(peer, held + 1);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      const n = (perClient.get(peer) ?? 1) - 1;
      if (n > 0) perClient.set(peer, n);
      else perClient.delete(peer);
    });
    // Until the protocol is known: the preface (or a request's first bytes) within headersTimeoutMs.
    const sniffDeadline = setTimeout(() => {
      opts.onRefused?.('headers-timeout', peer);
      socket.destroy();
    }, limits.headersTimeoutMs).unref();
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const n = Math.min(buf.length, PREFACE.length);
      const isH2 = buf.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && buf.length < PREFACE.length) return; // need the rest of the preface
      clearTimeout(sniffDeadline);
      socket.removeListener('data', onData);
      socket.pause();
      if (isH2) {
        // The http2 session reads the native handle itself (no JavaScript stream in between);
        // the bytes already read are put back, and the session takes them before any new ones.
        socket.unshift(buf);
        h2.emit('connection', socket);
      } else {
        socket.unshift(buf);
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => clearTimeout(sniffDeadline));
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
      h1.close(() => {}); // stops its deadline checks (it never listened: the callback gets an error)
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
};
