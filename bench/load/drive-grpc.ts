// gRPC (h2c) load: a load process of its own (`node bench/load/drive-grpc.ts WORKLOAD_JSON`).
// `connections` calls in flight, each connection with one call at a time like wrk's (or spread
// over --grpc-channels connections), for the duration. Two clients:
// - h2 (default): the gRPC wire protocol by hand on node:http2 — POST, application/grpc,
//   length-prefixed messages, grpc-status in the trailers — lean enough not to be the bottleneck;
// - grpc-js: @grpc/grpc-js, an independent gRPC stack, but its client costs ~3× more CPU per
//   call, so on a 2-core machine it caps the rate it can measure (the raw-grpc row shows where).
// Messages are protobuf-es encoded from the server's descriptors; an answer is checked against
// `expect` as proto3 JSON with default values (e.g. "verified":true).
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { fromBinary, fromJsonString, toBinary, toJsonString, type DescMethod, type Message } from '@bufbuild/protobuf';
import { SmsOtpService } from '../../src/gen/securekey/v1/otp_pb.js';
import { PushService } from '../../src/gen/securekey/v1/push_pb.js';
import { TotpService } from '../../src/gen/securekey/v1/totp_pb.js';
import { bodiesOf, loadProcessArgs, percentile, runLoadProcess, type LoadOptions, type LoadResult, type Workload } from './drivers.ts';

export const driveGrpc = (w: Workload, o: LoadOptions) => runLoadProcess(fileURLToPath(import.meta.url), w, o);

const TIMEOUT_MS = 5000;

const methodAt = (path: string): DescMethod => {
  for (const service of [SmsOtpService, TotpService, PushService]) {
    for (const m of service.methods) if (`/${service.typeName}/${m.name}` === path) return m;
  }
  throw new Error(`no such gRPC method in the load process: ${path}`);
};

/** One call's outcome: the gRPC status (-1: no answer) and the answer (JSON) or error text. */
type Outcome = { code: number; answer: string };
type Channel = { call: (body: string) => Promise<Outcome>; close: () => void };

const h2Channel = async (w: Workload, method: DescMethod): Promise<Channel> => {
  const session: ClientHttp2Session = connect(`http://${w.target}`);
  await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
  const headers = {
    ':method': 'POST',
    ':path': w.path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...Object.fromEntries(Object.entries(w.headers).map(([k, v]) => [k.toLowerCase(), v])),
  };
  const call = (body: string) =>
    new Promise<Outcome>((resolve) => {
      const message = toBinary(method.input, fromJsonString(method.input, body));
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      const req = session.request(headers);
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let details = '';
      const timer = setTimeout(() => req.close(constants.NGHTTP2_CANCEL), TIMEOUT_MS);
      const grpcStatus = (h: Record<string, unknown>) => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
        if (h['grpc-message'] !== undefined) details = decodeURIComponent(String(h['grpc-message']));
      };
      req.on('response', grpcStatus); // a trailers-only answer carries its status in the headers
      req.on('trailers', grpcStatus);
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', () => {});
      req.on('close', () => {
        clearTimeout(timer);
        if (status === undefined) return resolve({ code: -1, answer: 'no answer' });
        const code = Number(status);
        if (code !== 0) return resolve({ code, answer: `${grpc.status[code]} ${details}` });
        const bytes = Buffer.concat(chunks);
        resolve({ code, answer: toJsonString(method.output, fromBinary(method.output, bytes.subarray(5)), { alwaysEmitImplicit: true }) });
      });
      req.end(frame);
    });
  return { call, close: () => session.close() };
};

const grpcJsChannel = async (w: Workload, method: DescMethod): Promise<Channel> => {
  // A local subchannel pool: each channel really has its own HTTP/2 connection.
  const client = new grpc.Client(w.target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())));
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(w.headers)) metadata.set(k.toLowerCase(), v);
  const serialize = (m: Message) => Buffer.from(toBinary(method.input, m));
  const deserialize = (b: Buffer) => fromBinary(method.output, b);
  const call = (body: string) =>
    new Promise<Outcome>((resolve) => {
      client.makeUnaryRequest(w.path, serialize, deserialize, fromJsonString(method.input, body), metadata, { deadline: Date.now() + TIMEOUT_MS }, (err, value) => {
        if (err) resolve({ code: err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.UNAVAILABLE ? -1 : err.code, answer: `${grpc.status[err.code]} ${err.details}` });
        else resolve({ code: 0, answer: toJsonString(method.output, value!, { alwaysEmitImplicit: true }) });
      });
    });
  return { call, close: () => client.close() };
};

if (import.meta.main) {
  const { workload: w, options: o } = loadProcessArgs();
  const method = methodAt(w.path);
  const bodyAt = bodiesOf(w);
  const open = o.grpcClient === 'grpc-js' ? grpcJsChannel : h2Channel;
  const channels = await Promise.all(Array.from({ length: Math.min(o.grpcChannels ?? o.connections, o.connections) }, () => open(w, method)));

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  let unexpected = 0;
  let socketErrors = 0;
  let sample = '';
  const started = performance.now();
  const end = started + o.durationS * 1000;
  await Promise.all(
    Array.from({ length: o.connections }, async (_, i) => {
      const channel = channels[i % channels.length]!;
      while (performance.now() < end) {
        const t0 = performance.now();
        const { code, answer } = await channel.call(bodyAt(next++));
        latencies.push(performance.now() - t0);
        if (code === -1) socketErrors++;
        else statuses[`grpc-${code}`] = (statuses[`grpc-${code}`] ?? 0) + 1;
        const ok = code === 0 && answer.includes(w.expect);
        if (code === 0 && !ok) unexpected++;
        if (!ok && !sample) sample = answer.slice(0, 300);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const c of channels) c.close();
  latencies.sort((a, b) => a - b);
  const out: LoadResult = {
    tool: o.grpcClient === 'grpc-js' ? 'grpc-js' : 'h2 (gRPC by hand)',
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies[latencies.length - 1] ?? NaN,
    statuses,
    socketErrors,
    unexpected,
    sample,
  };
  console.log(JSON.stringify(out));
}
