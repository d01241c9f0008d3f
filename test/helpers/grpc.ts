// A plain @grpc/grpc-js client (an independent gRPC stack) for any of our unary methods,
// with messages encoded by protobuf-es from the same descriptors.
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary, type DescMethodUnary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { BinaryReader } from '@bufbuild/protobuf/wire';

export const grpcCall = <I extends import('@bufbuild/protobuf').DescMessage, O extends import('@bufbuild/protobuf').DescMessage>(
  address: string,
  method: DescMethodUnary<I, O>,
  input: MessageInitShape<I>,
  metadata: Record<string, string> = {},
): Promise<{ ok: true; message: MessageShape<O> } | { ok: false; code: number; details: string; metadata: grpc.Metadata }> =>
  new Promise((resolve) => {
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (m: MessageShape<I>) => Buffer.from(toBinary(method.input, m)),
      (b: Buffer) => fromBinary(method.output, b),
      create(method.input, input),
      md,
      (err, value) => {
        client.close();
        if (err) resolve({ ok: false, code: err.code, details: err.details, metadata: err.metadata });
        else resolve({ ok: true, message: value! });
      },
    );
  });

/** The value bytes of the first google.rpc.Status detail (an Any) of type `typeName` in a gRPC
 * error's grpc-status-details-bin trailer, undefined when there is none. Wire-level only, so a
 * caller decodes them with the toolchain it tests (protobuf-es, ts-proto…). */
export const statusDetailBytes = (md: grpc.Metadata | undefined, typeName: string): Uint8Array | undefined => {
  const bin = md?.get('grpc-status-details-bin')[0];
  if (!(bin instanceof Uint8Array)) return undefined;
  const rpcStatus = new BinaryReader(bin);
  while (rpcStatus.pos < rpcStatus.len) {
    const [field, wireType] = rpcStatus.tag();
    if (field !== 3) {
      rpcStatus.skip(wireType);
      continue;
    }
    const any = new BinaryReader(rpcStatus.bytes());
    let typeUrl = '';
    let value: Uint8Array = new Uint8Array();
    while (any.pos < any.len) {
      const [f, w] = any.tag();
      if (f === 1) typeUrl = any.string();
      else if (f === 2) value = any.bytes();
      else any.skip(w);
    }
    if (typeUrl.endsWith(`/${typeName}`)) return value;
  }
  return undefined;
};
