// The @kurrent/kurrentdb-client KurrentDBClient as the event store (index.ts) and webhook delivery
// (src/webhooks/kurrent) hold it: one client at a time, replaced when it is stuck.
//
// Why replace rather than close its channel: the client caches its gRPC channel and only drops it
// after an Unavailable, Cancelled or NotLeader error. A channel closed under it stays cached, and
// every later call fails with "Channel has been shut down", forever. So when a call outlives its
// bound (the server or the network stopped answering), the caller takes a fresh client and the old
// one is disposed of: its streams are cancelled and its channel closed, which fails the calls
// still stuck on it. Reads go through the client's Rust bridge, which takes no deadline and cannot
// be cancelled: a read stuck there is abandoned with its client and ends when the server answers
// or the connection dies.
import type { KurrentDBClient } from '@kurrent/kurrentdb-client';
import featuresGrpc from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_grpc_pb.js';
import sharedPb from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb.js';
import * as grpc from '@grpc/grpc-js';

/** A call that outlived its local bound: the server or the connection stopped answering. */
export class OperationTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not complete within ${ms} ms`);
    this.name = 'OperationTimeoutError';
  }
}

/** Rejects with OperationTimeoutError when `p` takes longer than `ms`. */
export const withTimeout = <T>(what: string, ms: number, p: Promise<T>): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new OperationTimeoutError(what, ms)), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });

// The client keeps its gRPC channel behind a protected method; these two helpers are the only
// places that reach it (a cast is unavoidable: TypeScript hides protected members from callers).
const channelOf = (client: KurrentDBClient): Promise<grpc.Channel> => (client as unknown as { getChannel: () => Promise<grpc.Channel> }).getChannel();

/** Closes the client's gRPC channel (dispose() cancels its streams but leaves the channel open):
 * calls stuck on it fail and the process can exit. timeoutMs bounds the wait for the channel
 * (with +discover, getting it means discovering a node). Never throws. */
export const closeChannel = async (client: KurrentDBClient, timeoutMs = 1000): Promise<void> => {
  try {
    (await withTimeout('channel', timeoutMs, channelOf(client))).close();
  } catch {
    // no channel to close
  }
};

/** dispose() cancels the client's streams; closing its channel fails any call still stuck on it.
 * channel: false for a client that never used its gRPC channel (reads go through the bridge):
 * asking for its channel would open one (with +discover, discover a node) just to close it. */
export const disposeClient = async (client: KurrentDBClient, o: { channel?: boolean } = {}): Promise<void> => {
  await withTimeout('dispose', 2000, client.dispose()).catch(() => {});
  if (o.channel !== false) await closeChannel(client, 1000);
};

/** One round trip on the client's own gRPC channel (the one appends and subscriptions use),
 * with a server deadline: ServerFeatures.GetSupportedMethods. Resolves with the server's version
 * (undefined when the server predates the call, which is still an answer). */
export const probeChannel = async (client: KurrentDBClient, deadlineMs: number): Promise<string | undefined> => {
  const deadline = Date.now() + deadlineMs;
  const channel = await withTimeout('connecting', deadlineMs, channelOf(client));
  const stub = new featuresGrpc.ServerFeaturesClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  return new Promise<string | undefined>((resolve, reject) => {
    stub.getSupportedMethods(new sharedPb.Empty(), new grpc.Metadata(), { deadline }, (err, res) => {
      if (!err) resolve(res.getEventStoreServerVersion());
      else if (err.code === grpc.status.UNIMPLEMENTED) resolve(undefined);
      else reject(err);
    });
  });
};

export type ClientSlot = {
  /** The client for the next call; `channel`: the call uses its gRPC channel (not only reads). */
  current: (o?: { channel?: boolean }) => KurrentDBClient;
  /** Swaps `stuck` (when it is still the current one) for a fresh client and disposes of it. */
  replace: (stuck: KurrentDBClient) => void;
  /** Disposes of the current client and waits for earlier ones to be disposed of. */
  close: () => Promise<void>;
};

export const createClientSlot = (open: () => KurrentDBClient): ClientSlot => {
  let client = open();
  const withChannel = new WeakSet<KurrentDBClient>();
  const retiring = new Set<Promise<void>>();
  const retire = (c: KurrentDBClient) => {
    const p = disposeClient(c, { channel: withChannel.has(c) }).finally(() => retiring.delete(p));
    retiring.add(p);
  };
  return {
    current: (o) => {
      if (o?.channel) withChannel.add(client);
      return client;
    },
    replace: (stuck) => {
      if (stuck !== client) return; // already replaced by a concurrent caller
      client = open();
      retire(stuck);
    },
    close: async () => {
      retire(client);
      await Promise.allSettled([...retiring]);
    },
  };
};
