// sdk/node/src/api-types.ts: the proto3 JSON shape of every message the Node SDK sends or
// receives, written out as plain TypeScript so that the published package needs neither the
// proto nor @bufbuild/protobuf. The same shapes protobuf-es gives (test/sdk-api-types.pin.ts
// pins them type for type), with JSON values: Timestamp → RFC 3339 string, Struct → JSON object,
// int64 and bytes → string.
import { ScalarType, type DescField, type DescMessage, type DescService } from '@bufbuild/protobuf';
import { EmailOtpService, SmsOtpService } from '../../src/gen/securekey/v1/otp_pb.js';
import { PushService } from '../../src/gen/securekey/v1/push_pb.js';
import { RecoveryService } from '../../src/gen/securekey/v1/recovery_pb.js';
import { TotpService } from '../../src/gen/securekey/v1/totp_pb.js';
import { WebAuthnService } from '../../src/gen/securekey/v1/webauthn_pb.js';

/** The services the SDK wraps (the admin API is not part of it). */
export const SDK_SERVICES: DescService[] = [SmsOtpService, EmailOtpService, TotpService, RecoveryService, WebAuthnService, PushService];

const WKT: Record<string, string> = {
  'google.protobuf.Timestamp': 'string',
  'google.protobuf.Struct': 'JsonObject',
  'google.protobuf.Value': 'JsonValue',
};

const scalar = (s: ScalarType): string => {
  switch (s) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 'string';
    case ScalarType.BOOL:
      return 'boolean';
    default:
      return 'number';
  }
};

const messageType = (m: DescMessage) => WKT[m.typeName] ?? m.name;

/** The field's JSON type, and whether protobuf-es makes it optional (message fields, proto3 `optional`). */
const fieldType = (f: DescField): { type: string; optional: boolean } => {
  if (f.oneof && !f.proto.proto3Optional) throw new Error(`${f.parent.typeName}.${f.name}: oneof fields are not supported by the SDK type generator`);
  switch (f.fieldKind) {
    case 'scalar':
      return { type: scalar(f.scalar), optional: f.proto.proto3Optional === true };
    case 'enum':
      return { type: f.enum.values.map((v) => JSON.stringify(v.name)).join(' | '), optional: f.proto.proto3Optional === true };
    case 'message':
      return { type: messageType(f.message), optional: true };
    case 'list': {
      const item = f.listKind === 'scalar' ? scalar(f.scalar) : f.listKind === 'message' ? messageType(f.message) : 'string';
      return { type: `${item}[]`, optional: false };
    }
    case 'map': {
      const value = f.mapKind === 'scalar' ? scalar(f.scalar) : f.mapKind === 'message' ? messageType(f.message) : 'string';
      return { type: `{ [key: string]: ${value} }`, optional: false };
    }
  }
};

/** Every message the services use, in a stable order: each method's input then output, then what they refer to. */
export const sdkMessages = (services = SDK_SERVICES): DescMessage[] => {
  const out: DescMessage[] = [];
  const visit = (m: DescMessage) => {
    if (WKT[m.typeName] || out.includes(m)) return;
    out.push(m);
    for (const f of m.fields) {
      if (f.fieldKind === 'message') visit(f.message);
      if (f.fieldKind === 'list' && f.listKind === 'message') visit(f.message);
      if (f.fieldKind === 'map' && f.mapKind === 'message') visit(f.message);
    }
  };
  for (const s of services) for (const m of s.methods) (visit(m.input), visit(m.output));
  const names = out.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`two messages named ${dup}: the SDK types need unique names`);
  return out;
};

export const renderSdkTypes = (): string => {
  const lines = [
    '// GENERATED from proto/securekey/v1 by `npm run generate:files` (scripts/generate/sdk-types.ts): do not edit.',
    '// The proto3 JSON form of every message the SDK sends or receives (lowerCamelCase fields;',
    '// Timestamp → RFC 3339 string, Struct → JSON object, int64 and bytes → string).',
    '',
    'export type JsonValue = number | string | boolean | null | JsonObject | JsonValue[];',
    'export type JsonObject = { [k: string]: JsonValue };',
  ];
  for (const m of sdkMessages()) {
    lines.push('', `/** ${m.typeName} */`, `export type ${m.name} = {`);
    for (const f of m.fields) {
      const { type, optional } = fieldType(f);
      lines.push(`  ${f.jsonName}${optional ? '?' : ''}: ${type};`);
    }
    lines.push('};');
  }
  return lines.join('\n') + '\n';
};

/** test/sdk-api-types.pin.ts: tsc proves each generated type equals protobuf-es' type in JSON form. */
export const renderSdkTypePins = (): string => {
  const files = new Map<string, string>();
  const pins: string[] = [];
  for (const m of sdkMessages()) {
    const module = m.file.name.split('/').at(-1)!; // e.g. "otp"
    files.set(module, `import type * as ${module} from '../src/gen/securekey/v1/${module}_pb.js';`);
    pins.push(`  Equal<Api.${m.name}, Json<${module}.${m.name}>>,`);
  }
  return [
    '// GENERATED by `npm run generate:files` (scripts/generate/sdk-types.ts): do not edit.',
    '// Type-level proof, checked by tsc in `npm test`: every type in sdk/node/src/api-types.ts is',
    "// exactly protobuf-es' type for the same message in its proto3 JSON form.",
    "import type * as Api from '../sdk/node/src/api-types.ts';",
    ...[...files.values()].sort(),
    "import type { Equal, Json } from './helpers/json-type.ts';",
    '',
    'type AllTrue<T extends true[]> = T;',
    'export type SdkApiTypesArePinned = AllTrue<[',
    ...pins,
    ']>;',
    '',
  ].join('\n');
};
