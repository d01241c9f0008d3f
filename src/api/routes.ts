// The route table, derived once from the proto descriptors: every RPC with its REST route option.
// Connect registration, the REST transcoder and the OpenAPI document all read this one table.
import { getOption, type DescMethodUnary, type DescService } from '@bufbuild/protobuf';
import { AdminService } from '../gen/securekey/v1/admin_pb.js';
import { LimitsService } from '../gen/securekey/v1/limits_pb.js';
import { http, type HttpRoute } from '../gen/securekey/v1/options_pb.js';
import { EmailOtpService, SmsOtpService } from '../gen/securekey/v1/otp_pb.js';
import { PushService } from '../gen/securekey/v1/push_pb.js';
import { RecoveryService } from '../gen/securekey/v1/recovery_pb.js';
import { TotpService } from '../gen/securekey/v1/totp_pb.js';
import { UserService } from '../gen/securekey/v1/users_pb.js';
import { WebAuthnService } from '../gen/securekey/v1/webauthn_pb.js';

export const SERVICES: DescService[] = [SmsOtpService, EmailOtpService, TotpService, RecoveryService, WebAuthnService, PushService, UserService, LimitsService, AdminService];

export type Route = {
  /** "SmsOtpService.VerifySmsOtp": how metrics and logs name the method. */
  name: string;
  service: DescService;
  method: DescMethodUnary;
  verb: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  path: string;
  /** Path split into literal segments and {field} bindings (proto field names). */
  segments: ({ literal: string } | { field: string })[];
  option: HttpRoute;
};

const verbOf = (o: HttpRoute): [Route['verb'], string] | undefined => {
  if (o.post) return ['POST', o.post];
  if (o.get) return ['GET', o.get];
  if (o.delete) return ['DELETE', o.delete];
  if (o.patch) return ['PATCH', o.patch];
  return undefined;
};

export const buildRoutes = (services: DescService[] = SERVICES): Route[] => {
  const routes: Route[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      if (method.methodKind !== 'unary') throw new Error(`${service.typeName}.${method.name}: only unary methods are supported`);
      const option = getOption(method, http);
      const vp = verbOf(option);
      if (!vp) throw new Error(`${service.typeName}.${method.name} has no (securekey.v1.http) route option`);
      const [verb, path] = vp;
      const segments = path
        .split('/')
        .filter(Boolean)
        .map((s) => {
          const m = /^\{([a-z_][a-z0-9_]*)\}$/.exec(s);
          if (!m) return { literal: s };
          if (!method.input.fields.some((f) => f.name === m[1])) throw new Error(`${path}: {${m[1]}} is not a field of ${method.input.typeName}`);
          return { field: m[1]! };
        });
      routes.push({ name: `${service.name}.${method.name}`, service, method: method as DescMethodUnary, verb, path, segments, option });
    }
  }
  return routes;
};

/** The {field} values when `parts` (a path split on "/") is this route's path, else undefined. */
export const matchPath = (route: Route, parts: string[]): Record<string, string> | undefined => {
  if (route.segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const seg = route.segments[i]!;
    if ('literal' in seg) {
      if (seg.literal !== parts[i]) return undefined;
    } else {
      let v: string;
      try {
        v = decodeURIComponent(parts[i]!);
      } catch {
        return undefined;
      }
      params[seg.field] = v;
    }
  }
  return params;
};

/** Whether the route's path binds a {field}. */
export const hasParams = (route: Route) => route.segments.some((s) => 'field' in s);

/** The first route (in table order) for this verb and path, as `routes.find` over matchPath. */
const firstMatch = (routes: readonly Route[], method: string | undefined, path: string) => {
  const parts = path.split('/').filter(Boolean);
  return routes.find((r) => r.verb === method && matchPath(r, parts));
};

/** Finds the route a request is for: by REST path and verb, or by RPC path
 * ("/securekey.v1.SmsOtpService/SendSmsOtp"); undefined when none. A path without {field}s,
 * written as the table writes it, is found with one lookup (no split, no object per route). */
export const routeFinder = (routes: readonly Route[]) => {
  const byRpcPath = new Map(routes.map((r) => [`/${r.service.typeName}/${r.method.name}`, r]));
  const byVerbAndPath = new Map<string | undefined, Map<string, Route>>();
  for (const r of routes) {
    if (hasParams(r)) continue;
    const path = `/${r.segments.map((s) => ('literal' in s ? s.literal : '')).join('/')}`;
    if (firstMatch(routes, r.verb, path) !== r) continue; // an earlier route answers this path: the scan finds it
    if (!byVerbAndPath.has(r.verb)) byVerbAndPath.set(r.verb, new Map());
    byVerbAndPath.get(r.verb)!.set(path, r);
  }
  return (method: string | undefined, path: string): Route | undefined =>
    byRpcPath.get(path) ?? byVerbAndPath.get(method)?.get(path) ?? firstMatch(routes, method, path);
};
