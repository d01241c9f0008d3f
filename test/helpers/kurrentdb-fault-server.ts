// A TEST DOUBLE FOR FAILURE PATHS ONLY — not an event store, not a KurrentDB emulator.
//
// A small gRPC server built from @kurrent/kurrentdb-client's own generated service definitions
// (Streams, PersistentSubscriptions, ServerFeatures), so the real client (its Node gRPC channel and
// its Rust bridge for reads) talks to it exactly as it talks to a KurrentDB node. It exists to
// inject what a real server cannot be made to do on demand: an append that never answers, a
// NotLeader answer with a leader endpoint, a subscription dropped mid-stream, an append answered
// without a position, a read that never answers.
//
// Its behaviour is deliberately minimal: it remembers appended events in a list (so that reads and
// subscriptions have something to return), without expected-revision checks, filters, security,
// links or scavenging. A persistent subscription group pushes the list to its consumers, at most
// bufferSize un-answered at a time per consumer, re-sending nacked events before new ones (as the
// server does) and parking after maxRetryCount. Everything else a real server does is out of
// scope: the contract suites run against a real KurrentDB when KURRENTDB_URL is set.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import psGrpc from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/persistentsubscriptions_grpc_pb.js';
import psPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/persistentsubscriptions_pb.js';
import featuresGrpc from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_grpc_pb.js';
import featuresPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_pb.js';
import sharedPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb.js';
import statusPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/status_pb.js';
import codePb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/code_pb.js';
import anyPb from 'google-protobuf/google/protobuf/any_pb.js';
import streamsGrpc from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_grpc_pb.js';
import streamsPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb.js';

export type FaultEvent = { id: string; stream: string; revision: number; type: string; data: unknown; metadata: unknown; position: number };

/** What to get wrong. Mutable: tests flip these while the client runs. */
export type Faults = {
  /** Appends (Append and BatchAppend) received while > 0 never get an answer; each decrements it. */
  stallAppends: number;
  /** Successful appends are answered without a position (as for an idempotent re-append). */
  appendsWithoutPosition: boolean;
  /** Appends fail with a wrong-expected-version result (the stream's actual revision). */
  wrongExpectedVersion: boolean;
  /** Leader-only calls (appends, persistent subscriptions) answer NotLeader with this endpoint. */
  notLeader: { host: string; port: number } | undefined;
  /** Non-subscription reads (the Rust bridge's) never get an answer. */
  stallReads: boolean;
  /** Calls from the Node client's gRPC channel (ServerFeatures and reads: those with user-agent
   * grpc-node-js, not the Rust bridge's; persistent subscription calls) never get an answer. */
  stallNodeChannel: boolean;
  /** Stream reads report no positions (2^64-1), as servers before 22.6 did. */
  streamReadsWithoutPositions: boolean;
};

export type CallRecord = { method: string; at: number; deadlineMs: number | undefined; cancelled: boolean; fromNodeChannel: boolean };

type Group = {
  name: string;
  maxRetryCount: number;
  messageTimeoutMs: number;
  /** Indexes into the log not yet pushed, oldest first. */
  live: number[];
  /** Nacked (or dropped) and waiting to be re-sent: pushed before `live`. */
  retry: { index: number; retryCount: number }[];
  parked: { index: number; reason: string }[];
  acked: number[];
  consumers: Set<Consumer>;
};
type Consumer = { bufferSize: number; inFlight: Map<string, { index: number; retryCount: number }>; send: (r: InstanceType<typeof psPb.ReadResp>) => void; end: (err?: grpc.ServiceError) => void };

const UNKNOWN_POSITION = '18446744073709551615';
const TICKS_PER_MS = 10_000n;
const EPOCH_TICKS = 621_355_968_000_000_000n; // .NET ticks at 1970-01-01, as the server writes "created"

const serviceError = (code: grpc.status, details: string, md: Record<string, string> = {}): grpc.ServiceError => {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) metadata.set(k, v);
  return Object.assign(new Error(details), { code, details, metadata });
};

const uuid = (id: string) => new sharedPb.UUID().setString(id);
const streamId = (name: string) => new sharedPb.StreamIdentifier().setStreamName(Buffer.from(name));
const streamName = (s: InstanceType<typeof sharedPb.StreamIdentifier> | undefined) => Buffer.from(s?.getStreamName_asU8() ?? []).toString('utf8');
const uuidString = (u: InstanceType<typeof sharedPb.UUID> | undefined) => u?.getString() ?? '';

export const startFaultServer = async (o: { version?: string; batchAppend?: boolean } = {}) => {
  const faults: Faults = { stallAppends: 0, appendsWithoutPosition: false, wrongExpectedVersion: false, notLeader: undefined, stallReads: false, stallNodeChannel: false, streamReadsWithoutPositions: false };
  const log: FaultEvent[] = [];
  const calls: CallRecord[] = [];
  const groups = new Map<string, Group>();
  const subscriptions = new Set<{ send: (e: FaultEvent) => void; end: () => void }>();
  const stalled = new Set<{ end: () => void }>();

  const fromNodeChannel = (call: { metadata: grpc.Metadata }) => String(call.metadata.get('user-agent')[0] ?? '').startsWith('grpc-node-js');
  type AnyCall = { getDeadline: () => grpc.Deadline; on: (event: 'cancelled', listener: () => void) => unknown; metadata: grpc.Metadata };
  const record = (method: string, call: AnyCall) => {
    const deadline = call.getDeadline();
    const r: CallRecord = {
      method,
      at: Date.now(),
      deadlineMs: deadline instanceof Date ? deadline.getTime() - Date.now() : Number.isFinite(deadline) ? Number(deadline) - Date.now() : undefined,
      cancelled: false,
      fromNodeChannel: fromNodeChannel(call),
    };
    calls.push(r);
    call.on('cancelled', () => (r.cancelled = true));
    return r;
  };
  /** Keeps a call open without answering, until the server stops. */
  const stall = (call: AnyCall, end: () => void) => {
    const h = { end };
    stalled.add(h);
    call.on('cancelled', () => stalled.delete(h));
  };
  const notLeaderError = () =>
    serviceError(grpc.status.NOT_FOUND, 'Leader info available', { exception: 'not-leader', 'leader-endpoint-host': faults.notLeader!.host, 'leader-endpoint-port': String(faults.notLeader!.port) });

  const recorded = (e: FaultEvent, withPosition: boolean) => {
    const r = new streamsPb.ReadResp.ReadEvent.RecordedEvent()
      .setId(uuid(e.id))
      .setStreamIdentifier(streamId(e.stream))
      .setStreamRevision(String(e.revision))
      .setCommitPosition(withPosition ? String(e.position) : UNKNOWN_POSITION)
      .setPreparePosition(withPosition ? String(e.position) : UNKNOWN_POSITION)
      .setData(Buffer.from(JSON.stringify(e.data)))
      .setCustomMetadata(Buffer.from(JSON.stringify(e.metadata)));
    const md = r.getMetadataMap();
    md.set('type', e.type);
    md.set('content-type', 'application/json');
    md.set('created', String(EPOCH_TICKS + BigInt(Date.now()) * TICKS_PER_MS));
    return r;
  };
  const readResp = (e: FaultEvent, withPosition = true) => {
    const ev = new streamsPb.ReadResp.ReadEvent().setEvent(recorded(e, withPosition));
    if (withPosition) ev.setCommitPosition(String(e.position));
    else ev.setNoPosition(new sharedPb.Empty());
    return new streamsPb.ReadResp().setEvent(ev);
  };

  /** Appends to the list; returns [revision of the last event, its position]. */
  const write = (stream: string, events: { id: string; type: string; data: unknown; metadata: unknown }[]) => {
    let revision = log.filter((e) => e.stream === stream).length - 1;
    for (const e of events) {
      const stored = { ...e, stream, revision: ++revision, position: (log.length + 1) * 100 };
      log.push(stored);
      for (const s of subscriptions) s.send(stored);
      for (const g of groups.values()) {
        g.live.push(log.length - 1);
        pushTo(g);
      }
    }
    return [revision, log[log.length - 1].position] as const;
  };
  const proposed = (m: { getId: () => InstanceType<typeof sharedPb.UUID> | undefined; getMetadataMap: () => { get: (k: string) => string | undefined }; getData_asU8: () => Uint8Array; getCustomMetadata_asU8: () => Uint8Array }) => {
    const json = (b: Uint8Array) => (b.length ? JSON.parse(Buffer.from(b).toString('utf8')) : {});
    return { id: uuidString(m.getId()), type: m.getMetadataMap().get('type') ?? '', data: json(m.getData_asU8()), metadata: json(m.getCustomMetadata_asU8()) };
  };
  const currentRevision = (stream: string) => log.filter((e) => e.stream === stream).length - 1;

  // ── persistent subscription groups ─────────────────────────────────────────────────────
  const psEvent = (index: number, retryCount: number) => {
    const e = log[index];
    const r = new psPb.ReadResp.ReadEvent.RecordedEvent()
      .setId(uuid(e.id))
      .setStreamIdentifier(streamId(e.stream))
      .setStreamRevision(String(e.revision))
      .setCommitPosition(String(e.position))
      .setPreparePosition(String(e.position))
      .setData(Buffer.from(JSON.stringify(e.data)))
      .setCustomMetadata(Buffer.from(JSON.stringify(e.metadata)));
    r.getMetadataMap().set('type', e.type);
    r.getMetadataMap().set('content-type', 'application/json');
    r.getMetadataMap().set('created', String(EPOCH_TICKS + BigInt(Date.now()) * TICKS_PER_MS));
    return new psPb.ReadResp().setEvent(new psPb.ReadResp.ReadEvent().setEvent(r).setCommitPosition(String(e.position)).setRetryCount(retryCount));
  };
  /** Pushes to consumers with room: re-sends first, then new events (round robin over consumers). */
  const pushTo = (g: Group) => {
    for (;;) {
      const next = g.retry[0] ?? (g.live.length ? { index: g.live[0], retryCount: 0 } : undefined);
      if (!next) return;
      const c = [...g.consumers].sort((a, b) => a.inFlight.size - b.inFlight.size).find((x) => x.inFlight.size < x.bufferSize);
      if (!c) return;
      if (g.retry[0]) g.retry.shift();
      else g.live.shift();
      c.inFlight.set(log[next.index].id, next);
      c.send(psEvent(next.index, next.retryCount));
    }
  };
  const retryOrPark = (g: Group, m: { index: number; retryCount: number }, reason: string) => {
    if (m.retryCount >= g.maxRetryCount) g.parked.push({ index: m.index, reason: `Reached retry count of ${g.maxRetryCount}` });
    else g.retry.push({ index: m.index, retryCount: m.retryCount + 1 });
    void reason;
  };

  const server = new grpc.Server();
  server.addService(featuresGrpc.ServerFeaturesService, {
    getSupportedMethods: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<InstanceType<typeof featuresPb.SupportedMethods>>) => {
      record('ServerFeatures.GetSupportedMethods', call);
      if (faults.stallNodeChannel && fromNodeChannel(call)) return stall(call, () => cb(serviceError(grpc.status.UNAVAILABLE, 'server stopping')));
      const m = new featuresPb.SupportedMethods().setEventStoreServerVersion(o.version ?? '24.10.0');
      const add = (service: string, method: string, features: string[] = []) => m.addMethods(new featuresPb.SupportedMethod().setServiceName(service).setMethodName(method).setFeaturesList(features));
      if (o.batchAppend !== false) add('event_store.client.streams.streams', 'batchappend');
      for (const x of ['create', 'read', 'getinfo', 'update', 'replayparked', 'delete']) add('event_store.client.persistent_subscriptions.persistentsubscriptions', x, ['all']);
      cb(null, m);
    },
  });

  server.addService(streamsGrpc.StreamsService, {
    append: (call: grpc.ServerReadableStream<InstanceType<typeof streamsPb.AppendReq>, unknown>, cb: grpc.sendUnaryData<InstanceType<typeof streamsPb.AppendResp>>) => {
      record('Streams.Append', call);
      let stream = '';
      const events: ReturnType<typeof proposed>[] = [];
      call.on('data', (req: InstanceType<typeof streamsPb.AppendReq>) => {
        if (req.hasOptions()) stream = streamName(req.getOptions()!.getStreamIdentifier());
        else if (req.hasProposedMessage()) events.push(proposed(req.getProposedMessage()!));
      });
      call.on('end', () => {
        if (faults.notLeader) return cb(notLeaderError());
        if (faults.stallAppends > 0) {
          faults.stallAppends--;
          return stall(call, () => cb(serviceError(grpc.status.UNAVAILABLE, 'server stopping')));
        }
        const res = new streamsPb.AppendResp();
        if (faults.wrongExpectedVersion) {
          const w = new streamsPb.AppendResp.WrongExpectedVersion().setExpectedAny(new sharedPb.Empty());
          const cur = currentRevision(stream);
          if (cur >= 0) w.setCurrentRevision(String(cur));
          else w.setCurrentNoStream(new sharedPb.Empty());
          return cb(null, res.setWrongExpectedVersion(w));
        }
        const [revision, position] = write(stream, events);
        const ok = new streamsPb.AppendResp.Success().setCurrentRevision(String(revision));
        if (faults.appendsWithoutPosition) ok.setNoPosition(new sharedPb.Empty());
        else ok.setPosition(new streamsPb.AppendResp.Position().setCommitPosition(String(position)).setPreparePosition(String(position)));
        cb(null, res.setSuccess(ok));
      });
    },
    batchAppend: (call: grpc.ServerDuplexStream<InstanceType<typeof streamsPb.BatchAppendReq>, InstanceType<typeof streamsPb.BatchAppendResp>>) => {
      const rec = record('Streams.BatchAppend', call);
      const pending = new Map<string, { stream: string; events: ReturnType<typeof proposed>[] }>();
      call.on('error', () => {});
      call.on('data', (req: InstanceType<typeof streamsPb.BatchAppendReq>) => {
        const id = uuidString(req.getCorrelationId());
        if (req.hasOptions()) {
          const opts = req.getOptions()!;
          const deadline = opts.getDeadline21100();
          if (deadline) rec.deadlineMs = deadline.toDate().getTime() - Date.now();
          pending.set(id, { stream: streamName(opts.getStreamIdentifier()), events: [] });
        }
        const p = pending.get(id);
        if (!p) return;
        p.events.push(...req.getProposedMessagesList().map(proposed));
        if (!req.getIsFinal()) return;
        pending.delete(id);
        // The server ends the whole call with NotLeader (it throws RpcExceptions.LeaderInfo).
        if (faults.notLeader) return call.emit('error', notLeaderError());
        if (faults.stallAppends > 0) {
          faults.stallAppends--;
          return;
        }
        const res = new streamsPb.BatchAppendResp().setCorrelationId(uuid(id)).setStreamIdentifier(streamId(p.stream));
        if (faults.wrongExpectedVersion) {
          const w = new sharedPb.WrongExpectedVersion().setExpectedAny(new sharedPb.Empty());
          const cur = currentRevision(p.stream);
          if (cur >= 0) w.setCurrentStreamRevision(String(cur));
          else w.setCurrentNoStream(new sharedPb.Empty());
          const details = new anyPb.Any();
          details.pack(w.serializeBinary(), 'event_store.client.WrongExpectedVersion');
          return call.write(res.setError(new statusPb.Status().setCode(codePb.Code.FAILED_PRECONDITION).setMessage('wrong expected version').setDetails(details)));
        }
        const [revision, position] = write(p.stream, p.events);
        const ok = new streamsPb.BatchAppendResp.Success().setCurrentRevision(String(revision));
        if (faults.appendsWithoutPosition) ok.setNoPosition(new sharedPb.Empty());
        else ok.setPosition(new sharedPb.AllStreamPosition().setCommitPosition(String(position)).setPreparePosition(String(position)));
        call.write(res.setSuccess(ok));
      });
      stall(call, () => call.end());
    },
    read: (call: grpc.ServerWritableStream<InstanceType<typeof streamsPb.ReadReq>, InstanceType<typeof streamsPb.ReadResp>>) => {
      const opts = call.request.getOptions()!;
      const subscription = opts.hasSubscription();
      record(subscription ? 'Streams.Read(subscription)' : 'Streams.Read', call);
      call.on('error', () => {});
      if ((faults.stallNodeChannel && fromNodeChannel(call)) || (faults.stallReads && !subscription)) return stall(call, () => call.end());
      const backwards = opts.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
      const count = subscription ? Infinity : Number(opts.getCount());
      let selected: FaultEvent[];
      let withPosition = true;
      if (opts.hasStream()) {
        const s = opts.getStream()!;
        const name = streamName(s.getStreamIdentifier());
        const events = log.filter((e) => e.stream === name);
        if (events.length === 0 && !subscription) {
          call.write(new streamsPb.ReadResp().setStreamNotFound(new streamsPb.ReadResp.StreamNotFound().setStreamIdentifier(streamId(name))));
          return call.end();
        }
        const from = s.hasRevision() ? Number(s.getRevision()) : s.hasEnd() ? Infinity : backwards ? Infinity : 0;
        selected = backwards ? events.filter((e) => e.revision <= from).reverse() : events.filter((e) => e.revision >= from);
        withPosition = !faults.streamReadsWithoutPositions;
      } else {
        const a = opts.getAll()!;
        const from = a.hasPosition() ? Number(a.getPosition()!.getCommitPosition()) : a.hasEnd() ? Infinity : backwards ? Infinity : 0;
        selected = backwards ? log.filter((e) => e.position <= from).reverse() : log.filter((e) => e.position >= from);
      }
      if (subscription) {
        call.write(new streamsPb.ReadResp().setConfirmation(new streamsPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID())));
        for (const e of selected) call.write(readResp(e));
        const sub = { send: (e: FaultEvent) => call.write(readResp(e)), end: () => call.emit('error', serviceError(grpc.status.UNAVAILABLE, 'subscription dropped by the server')) };
        subscriptions.add(sub);
        call.on('cancelled', () => subscriptions.delete(sub));
        return;
      }
      for (const e of selected.slice(0, count)) call.write(readResp(e, withPosition));
      call.end();
    },
    delete: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(serviceError(grpc.status.UNIMPLEMENTED, 'not in this test double')),
    tombstone: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(serviceError(grpc.status.UNIMPLEMENTED, 'not in this test double')),
  });

  server.addService(psGrpc.PersistentSubscriptionsService, {
    create: (call: grpc.ServerUnaryCall<InstanceType<typeof psPb.CreateReq>, unknown>, cb: grpc.sendUnaryData<InstanceType<typeof psPb.CreateResp>>) => {
      record('PersistentSubscriptions.Create', call);
      if (faults.stallNodeChannel) return stall(call, () => cb(serviceError(grpc.status.UNAVAILABLE, 'server stopping')));
      if (faults.notLeader) return cb(notLeaderError());
      const opts = call.request.getOptions()!;
      const name = opts.getGroupName();
      if (groups.has(name)) return cb(serviceError(grpc.status.ALREADY_EXISTS, `group ${name} exists`, { exception: 'persistent-subscription-exists', 'stream-name': '$all', 'group-name': name }));
      const s = opts.getSettings()!;
      const fromStart = opts.getAll()?.hasStart() ?? true;
      groups.set(name, { name, maxRetryCount: s.getMaxRetryCount(), messageTimeoutMs: s.getMessageTimeoutMs(), live: fromStart ? log.map((_, i) => i) : [], retry: [], parked: [], acked: [], consumers: new Set() });
      cb(null, new psPb.CreateResp());
    },
    getInfo: (call: grpc.ServerUnaryCall<InstanceType<typeof psPb.GetInfoReq>, unknown>, cb: grpc.sendUnaryData<InstanceType<typeof psPb.GetInfoResp>>) => {
      record('PersistentSubscriptions.GetInfo', call);
      if (faults.stallNodeChannel) return stall(call, () => cb(serviceError(grpc.status.UNAVAILABLE, 'server stopping')));
      if (faults.notLeader) return cb(notLeaderError());
      const g = groups.get(call.request.getOptions()!.getGroupName());
      if (!g) return cb(serviceError(grpc.status.NOT_FOUND, 'no such group', { exception: 'persistent-subscription-does-not-exist' }));
      const info = new psPb.SubscriptionInfo().setEventSource('$all').setGroupName(g.name).setStatus('Live').setStartFrom('C:0/P:0').setMessageTimeoutMilliseconds(g.messageTimeoutMs).setMaxRetryCount(g.maxRetryCount).setNamedConsumerStrategy('RoundRobin');
      cb(null, new psPb.GetInfoResp().setSubscriptionInfo(info));
    },
    read: (call: grpc.ServerDuplexStream<InstanceType<typeof psPb.ReadReq>, InstanceType<typeof psPb.ReadResp>>) => {
      record('PersistentSubscriptions.Read', call);
      call.on('error', () => {});
      let group: Group | undefined;
      let consumer: Consumer | undefined;
      const leave = () => {
        if (!group || !consumer) return;
        group.consumers.delete(consumer);
        for (const m of consumer.inFlight.values()) retryOrPark(group, m, 'consumer left');
        consumer.inFlight.clear();
        pushTo(group);
      };
      call.on('cancelled', leave);
      call.on('data', (req: InstanceType<typeof psPb.ReadReq>) => {
        if (req.hasOptions()) {
          if (faults.stallNodeChannel) return stall(call, () => call.end());
          if (faults.notLeader) return call.emit('error', notLeaderError());
          const opts = req.getOptions()!;
          group = groups.get(opts.getGroupName());
          if (!group) return call.emit('error', serviceError(grpc.status.NOT_FOUND, 'no such group', { exception: 'persistent-subscription-does-not-exist' }));
          consumer = {
            bufferSize: opts.getBufferSize(),
            inFlight: new Map(),
            send: (r) => call.write(r),
            end: (err) => {
              leave();
              if (err) call.emit('error', err);
              else call.end();
            },
          };
          group.consumers.add(consumer);
          call.write(new psPb.ReadResp().setSubscriptionConfirmation(new psPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID())));
          return pushTo(group);
        }
        if (!group || !consumer) return;
        const answered = (req.hasAck() ? req.getAck()!.getIdsList() : req.getNack()!.getIdsList()).map(uuidString);
        for (const id of answered) {
          const m = consumer.inFlight.get(id);
          if (!m) continue;
          consumer.inFlight.delete(id);
          if (req.hasAck()) group.acked.push(m.index);
          else if (req.getNack()!.getAction() === psPb.ReadReq.Nack.Action.PARK) group.parked.push({ index: m.index, reason: req.getNack()!.getReason() });
          else retryOrPark(group, m, req.getNack()!.getReason());
        }
        pushTo(group);
      });
    },
    update: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(serviceError(grpc.status.UNIMPLEMENTED, 'not in this test double')),
    delete: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(serviceError(grpc.status.UNIMPLEMENTED, 'not in this test double')),
    replayParked: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(serviceError(grpc.status.UNIMPLEMENTED, 'not in this test double')),
    list: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(serviceError(grpc.status.UNIMPLEMENTED, 'not in this test double')),
    restartSubsystem: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(serviceError(grpc.status.UNIMPLEMENTED, 'not in this test double')),
  });

  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));

  return {
    port,
    /** A connection string for this server. */
    url: (params = '') => `kurrentdb://127.0.0.1:${port}?tls=false${params}`,
    faults,
    /** Every event appended or published, in order. */
    log,
    calls,
    /** Adds events as if another node appended them. */
    publish: (stream: string, events: { type: string; data: unknown; metadata?: unknown }[]) => write(stream, events.map((e) => ({ id: randomUUID(), metadata: {}, ...e }))),
    group: (name: string) => groups.get(name),
    /** Creates a group with given settings (as another node, or an earlier version of ours, did). */
    createGroup: (name: string, s: { maxRetryCount: number; messageTimeoutMs: number }) =>
      groups.set(name, { name, ...s, live: log.map((_, i) => i), retry: [], parked: [], acked: [], consumers: new Set() }),
    /** Ends every subscription ($all catch-up and persistent) with UNAVAILABLE, as a restarting node does. */
    dropSubscriptions: () => {
      for (const s of subscriptions) s.end();
      subscriptions.clear();
      for (const g of groups.values()) for (const c of g.consumers) c.end(serviceError(grpc.status.UNAVAILABLE, 'subscription dropped by the server'));
    },
    stop: async () => {
      for (const s of stalled) s.end();
      server.forceShutdown();
    },
  };
};

export type FaultServer = Awaited<ReturnType<typeof startFaultServer>>;
