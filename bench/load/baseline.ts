// The ceiling every scenario is compared with, run as its own process:
// - HTTP (PORT): a raw node:http server doing the least a JSON API must do — read the body,
//   JSON.parse it, answer a JSON envelope. It also serves as the local SMS gateway (`--sms http`).
// - gRPC (GRPC_PORT, optional): raw h2c on node:http2 answering every method of the services the
//   gRPC scenarios call with the default message (verified: false): the ceiling of the gRPC load
//   process itself.
// `node bench/load/baseline.ts` with PORT (and GRPC_PORT) set; GET /healthz answers when up.
import { createServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { create, fromBinary, toBinary, type DescMethod } from '@bufbuild/protobuf';
import { SmsOtpService } from '../../src/gen/securekey/v1/otp_pb.js';
import { TotpService } from '../../src/gen/securekey/v1/totp_pb.js';

const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const http = createServer((req, res) => {
  if (req.method === 'GET') return json(res, 200, { status: 'ok' });
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return json(res, 400, { success: false, error: 'malformed JSON', code: 'INVALID_ARGUMENT' });
    }
    const fields = body && typeof body === 'object' ? Object.keys(body).length : 0;
    json(res, 200, { success: true, message: 'ok', data: { fields, at: Date.now() } });
  });
});
http.keepAliveTimeout = 60_000;
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1');

if (process.env.GRPC_PORT) {
  // gRPC by hand on node:http2 (the HTTP/2 stack SecureKey serves h2c with): read the
  // length-prefixed request, decode it, answer the method's default message and grpc-status 0.
  const methods = new Map<string, DescMethod>();
  for (const service of [SmsOtpService, TotpService]) for (const m of service.methods) methods.set(`/${service.typeName}/${m.name}`, m);
  const h2 = createHttp2Server();
  h2.on('stream', (stream, headers) => {
    const method = methods.get(String(headers[':path']));
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      if (!method) return stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
      const request = Buffer.concat(chunks);
      fromBinary(method.input, request.subarray(5, 5 + request.readUInt32BE(1)));
      const answer = toBinary(method.output, create(method.output));
      const frame = Buffer.alloc(5 + answer.length);
      frame.writeUInt32BE(answer.length, 1);
      frame.set(answer, 5);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame);
    });
  });
  h2.listen(Number(process.env.GRPC_PORT), '127.0.0.1');
}

process.once('SIGTERM', () => process.exit(0));
