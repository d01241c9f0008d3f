// A plain @grpc/grpc-js client (an independent gRPC stack) for any of our unary methods,
// with messages encoded by protobuf-es from the same descriptors.
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary, type DescMethodUnary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';

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
