// A service as the API serves it: the proto's descriptor and its implementation typed by it
// (ServiceImpl: tsc fails on a missing or misspelt method and on a renamed request field).
// Connect gets it through router.service; the REST transcoder calls the same implementation.
import type { DescService } from '@bufbuild/protobuf';
import { type ConnectRouter, createServiceImplSpec, type ServiceImpl, type ServiceImplSpec } from '@connectrpc/connect';
import type { UniversalHandlerOptions } from '@connectrpc/connect/protocol';

export type ServiceEntry = {
  service: DescService;
  /** Registers the implementation on a Connect router (the server's, or an in-process test transport's). */
  register: (router: ConnectRouter, options?: Partial<UniversalHandlerOptions>) => void;
  /** The same implementation by method local name ("sendSmsOtp"), for the REST transcoder. */
  methods: ServiceImplSpec['methods'];
};

export const serviceOf = <S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceEntry => ({
  service,
  register: (router, options) => void router.service(service, impl, options),
  methods: createServiceImplSpec<S>(service, impl).methods,
});
