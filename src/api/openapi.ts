// OpenAPI 3.1, generated from the same descriptors and route table as the REST transcoder.
import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { ERROR_CODES } from '../domain/errors.ts';
import type { Route } from './routes.ts';

type Schema = Record<string, unknown>;

const WKT: Record<string, Schema> = {
  'google.protobuf.Timestamp': { type: 'string', format: 'date-time' },
  'google.protobuf.Struct': { type: 'object', additionalProperties: true },
  'google.protobuf.Value': {},
};

const scalarSchema = (s: ScalarType): Schema => {
  switch (s) {
    case ScalarType.STRING:
      return { type: 'string' };
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: 'integer', format: 'int32' };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: 'string', format: 'int64' };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: 'number' };
    case ScalarType.BYTES:
      return { type: 'string', contentEncoding: 'base64' };
  }
};

const ref = (m: DescMessage): Schema => WKT[m.typeName] ?? { $ref: `#/components/schemas/${m.typeName}` };

const fieldSchema = (f: DescField): Schema => {
  let s: Schema;
  switch (f.fieldKind) {
    case 'scalar':
      s = scalarSchema(f.scalar);
      break;
    case 'message':
      s = ref(f.message);
      break;
    case 'enum':
      s = { type: 'string', enum: f.enum.values.map((v) => v.name) };
      break;
    case 'list':
      s = { type: 'array', items: f.listKind === 'scalar' ? scalarSchema(f.scalar) : f.listKind === 'message' ? ref(f.message) : { type: 'string' } };
      break;
    case 'map':
      s = { type: 'object', additionalProperties: f.mapKind === 'scalar' ? scalarSchema(f.scalar) : f.mapKind === 'message' ? ref(f.message) : { type: 'string' } };
      break;
  }
  return s;
};

export const buildOpenApi = (routes: Route[], opts: { version: string }) => {
  const schemas: Record<string, Schema> = {};
  const visit = (m: DescMessage) => {
    if (WKT[m.typeName] || schemas[m.typeName]) return;
    schemas[m.typeName] = {};
    const properties: Record<string, Schema> = {};
    for (const f of m.fields) {
      properties[f.jsonName] = fieldSchema(f);
      if (f.fieldKind === 'message') visit(f.message);
      if ((f.fieldKind === 'list' || f.fieldKind === 'map') && f.message) visit(f.message);
    }
    schemas[m.typeName] = { type: 'object', properties };
  };
  schemas.Error = {
    type: 'object',
    required: ['success', 'error', 'code'],
    properties: {
      success: { const: false },
      error: { type: 'string' },
      code: { type: 'string', enum: [...ERROR_CODES] },
      requiredChannels: { type: 'array', items: { type: 'string' } },
      matchedPolicies: { type: 'array', items: { type: 'string' } },
      retryAfter: { type: 'integer' },
    },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    visit(r.method.input);
    visit(r.method.output);
    const oaPath = r.segments.map((s) => ('literal' in s ? s.literal : `{${r.method.input.fields.find((f) => f.name === s.field)!.jsonName}}`)).join('/');
    const pathFields = new Set(r.segments.flatMap((s) => ('field' in s ? [s.field] : [])));
    const parameters = [
      ...r.method.input.fields.filter((f) => pathFields.has(f.name)).map((f) => ({ name: f.jsonName, in: 'path', required: true, schema: fieldSchema(f) })),
      ...(r.verb === 'GET' ? r.method.input.fields.filter((f) => !pathFields.has(f.name)).map((f) => ({ name: f.jsonName, in: 'query', required: false, schema: fieldSchema(f) })) : []),
    ];
    const op: Record<string, unknown> = {
      operationId: `${r.service.name}_${r.method.name}`,
      tags: [r.service.name],
      summary: r.option.message || r.method.name,
      security: r.option.admin ? [{ adminToken: [] }] : [{ apiKey: [] }, { bearer: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(r.verb === 'GET' ? {} : { requestBody: { required: true, content: { 'application/json': { schema: ref(r.method.input) } } } }),
      responses: {
        200: {
          description: r.option.message || 'OK',
          content: {
            'application/json': {
              schema: { type: 'object', required: ['success', 'data'], properties: { success: { const: true }, message: { type: 'string' }, data: ref(r.method.output) } },
            },
          },
        },
        default: { description: 'Error envelope', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    (paths['/' + oaPath] ??= {})[r.verb.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'SecureKey API', version: opts.version, description: 'Verification engine: SMS/email OTP, TOTP, passkeys, push approval. Generated from proto/securekey/v1.' },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        bearer: { type: 'http', scheme: 'bearer' },
        adminToken: { type: 'apiKey', in: 'header', name: 'X-Admin-Token' },
      },
    },
  };
};
