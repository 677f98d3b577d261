import { Validator } from '@seriousme/openapi-schema-validator';
import type { OpenAPIV3_1 } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import everythingTools from '../test/fixtures/everything-tools.json' with { type: 'json' };
import { GatewayError } from './errors.ts';
import { clip, shortHash, toolOperationId } from './openapi-names.ts';
import { buildOpenApi, buildServerOpenApi, type OpenApiInput } from './openapi.ts';
import type { Tool } from './protocol.ts';

type Doc = OpenAPIV3_1.Document;
type Op = OpenAPIV3_1.OperationObject<{ 'x-openai-isConsequential'?: boolean }>;
type Obj = Record<string, any>;

const noAuth = { basic: false, bearer: false, jwt: false };
const input = (servers: OpenApiInput['servers'], extra: Partial<OpenApiInput> = {}): OpenApiInput => ({
  servers,
  serverUrl: 'https://gw.example.com',
  auth: noAuth,
  ...extra,
});
const tool = (name: string, extra: Obj = {}): Tool => ({ name, inputSchema: { type: 'object', properties: {} }, ...extra });

/** Every POST operation that calls a tool: path, operation. */
function toolOps(doc: Doc): [string, Op][] {
  return Object.entries(doc.paths ?? {})
    .filter(([path, item]) => item?.post && !path.includes('/prompts/'))
    .map(([path, item]) => [path, item!.post as Op]);
}
const op = (doc: Doc, path: string): Op => doc.paths?.[path]?.post as Op;
const bodySchema = (o: Op): Obj => (o.requestBody as Obj).content['application/json'].schema;
const okSchema = (o: Op): Obj => (o.responses as Obj)['200'].content['application/json'].schema;
const schemas = (doc: Doc): Obj => doc.components!.schemas as Obj;

/** What a JSON Pointer ref (`#/…`) reaches in `doc`. */
function deref(doc: unknown, ref: string): unknown {
  expect(ref.startsWith('#/')).toBe(true);
  return ref
    .slice(2)
    .split('/')
    .map((s) => decodeURIComponent(s).replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<any>((node, key) => node?.[key], doc);
}

function collect(node: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) node.forEach((n) => collect(n, key, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) out.push(v);
      collect(v, key, out);
    }
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

async function validate(doc: Doc): Promise<void> {
  const result = await new Validator().validate(structuredClone(doc) as Record<string, unknown>);
  expect(result.errors).toBeUndefined();
  expect(result.valid).toBe(true);
  // The validator resolves every $ref; check the component ones reach a component too.
  for (const ref of collect(doc, '$ref') as string[]) expect(deref(doc, ref), ref).toBeDefined();
}

const fixture = everythingTools as unknown as Tool[];

/** Synthetic tools exercising what real servers send. */
const longText = `${'Fetches the weather forecast for a place and a day. '.repeat(20)}End.`;
const synthetic: Tool[] = [
  {
    name: 'defs',
    title: 'Uses $defs',
    inputSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { address: { $ref: '#/$defs/Address' }, people: { type: 'array', items: { $ref: '#/$defs/Person' } } },
      required: ['address'],
      $defs: {
        Address: { type: 'object', properties: { street: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } } },
        Person: { type: 'object', properties: { name: { type: 'string' }, home: { $ref: '#/$defs/Address' }, friends: { type: 'array', items: { $ref: '#/$defs/Person' } } } },
      },
    },
  },
  {
    name: 'definitions',
    description: 'draft-07 definitions, and a tuple',
    inputSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        color: { $ref: '#/definitions/Color' },
        pair: { type: 'array', items: [{ type: 'string' }, { type: 'number' }], additionalItems: false },
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: false },
        first: { $ref: '#/properties/pair/items/0' },
      },
      dependencies: { a: ['b'], c: { required: ['d'] } },
      definitions: { Color: { type: 'string', enum: ['red', 'green', 'blue'], default: 'red' } },
    },
  },
  {
    name: 'tree',
    description: 'A recursive schema',
    inputSchema: {
      type: 'object',
      properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#' } }, copy: { $ref: '#/properties/value' } },
    },
  },
  {
    name: 'union',
    inputSchema: {
      type: 'object',
      properties: {
        target: {
          oneOf: [
            { type: 'object', properties: { kind: { const: 'url' }, url: { type: 'string', format: 'uri' } }, required: ['kind', 'url'] },
            { type: 'object', properties: { kind: { const: 'id' }, id: { type: 'string', format: 'uuid' } }, required: ['kind', 'id'] },
          ],
        },
        when: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
        mode: { allOf: [{ type: 'string' }, { enum: ['fast', 'slow'] }] },
        count: { type: 'integer', minimum: 1, maximum: 100, default: 10, multipleOf: 1 },
        tags: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, maxItems: 5 },
        extra: { type: 'object', additionalProperties: { type: 'number' } },
      },
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { result: { $ref: '#/$defs/Result' } },
      $defs: { Result: { type: 'object', properties: { ok: { type: 'boolean' } } } },
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: `very_long_tool_name_${'x'.repeat(120)}`,
    title: longText,
    description: longText,
    inputSchema: {
      type: 'object',
      properties: { 'odd key': { $ref: '#/$defs/odd%20name~1slash' } },
      $defs: { 'odd name/slash': { type: 'string' } },
    },
  },
  { name: 'weird.tool name', inputSchema: { type: 'object', properties: { x: { $ref: '#/$defs/Missing' }, y: { $ref: 'https://example.com/x.json' } } } },
  { name: 'tools', description: 'A tool named like the tools endpoint' },
];

describe('buildOpenApi: document', () => {
  it('is OpenAPI 3.1.0 with info and the absolute server URL', () => {
    const doc = buildOpenApi(input([]));
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('MCP gateway');
    expect(doc.info.version).toMatch(/\S/);
    expect(doc.servers?.[0]?.url).toBe('https://gw.example.com');
    const custom = buildOpenApi(input([], { serverUrl: 'http://127.0.0.1:3000', title: 'Mine', version: '2.3.4' }));
    expect(custom.info).toMatchObject({ title: 'Mine', version: '2.3.4' });
    expect(custom.servers?.[0]?.url).toBe('http://127.0.0.1:3000');
    expect(buildOpenApi(input([], { serverUrl: 'https://gw.example.com/' })).servers?.[0]?.url).toBe('https://gw.example.com');
    expect(() => buildOpenApi(input([], { serverUrl: '/relative' }))).toThrow();
  });

  it('has no security at all when no authentication is on', () => {
    const doc = buildOpenApi(input([{ name: 's', tools: [tool('t')] }]));
    expect(doc.security).toBeUndefined();
    expect(doc.components?.securitySchemes).toBeUndefined();
    expect(op(doc, '/api/s/t').responses).not.toHaveProperty('401');
  });

  it('lists the enabled security schemes as alternatives', () => {
    const all = buildOpenApi(input([{ name: 's', tools: [tool('t')] }], { auth: { basic: true, bearer: true, jwt: true } }));
    expect(all.components?.securitySchemes).toMatchObject({
      basicAuth: { type: 'http', scheme: 'basic' },
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
    expect(all.security).toEqual([{ basicAuth: [] }, { bearerAuth: [] }]);
    expect(op(all, '/api/s/t').responses).toHaveProperty('401');

    const basic = buildOpenApi(input([], { auth: { basic: true, bearer: false, jwt: false } }));
    expect(Object.keys(basic.components?.securitySchemes ?? {})).toEqual(['basicAuth']);
    expect(basic.security).toEqual([{ basicAuth: [] }]);

    const bearer = buildOpenApi(input([], { auth: { basic: false, bearer: true, jwt: false } }));
    expect(bearer.components?.securitySchemes).toEqual({ bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    expect(bearer.components?.securitySchemes?.bearerAuth).not.toHaveProperty('bearerFormat');

    const oauth = { authorizationUrl: 'https://gw.example/authorize', tokenUrl: 'https://gw.example/oauth/token', scopes: { mcp: 'every server', 'mcp:s': 'the server s only' } };
    const signIn = buildOpenApi(input([{ name: 's', tools: [tool('t')] }], { auth: { basic: true, bearer: false, jwt: false, oauth } }));
    expect(signIn.components?.securitySchemes?.oauth2).toMatchObject({ type: 'oauth2', flows: { authorizationCode: { authorizationUrl: oauth.authorizationUrl, tokenUrl: oauth.tokenUrl, refreshUrl: oauth.tokenUrl, scopes: oauth.scopes } } });
    expect(signIn.security).toEqual([{ basicAuth: [] }, { oauth2: [] }]);

    const jwt = buildOpenApi(input([], { auth: { basic: false, bearer: false, jwt: true } }));
    expect(jwt.components?.securitySchemes?.bearerAuth).toMatchObject({ scheme: 'bearer', bearerFormat: 'JWT' });
    expect(jwt.security).toEqual([{ bearerAuth: [] }]);
  });
});

describe('buildOpenApi: tool operations', () => {
  it('has one POST per tool at its literal path, with valid unique operationIds', () => {
    const doc = buildOpenApi(input([{ name: 'everything', tools: fixture }, { name: 'syn', tools: synthetic }]));
    const ops = toolOps(doc);
    expect(ops).toHaveLength(fixture.length + synthetic.length);
    expect(ops.map(([path]) => path)).toContain('/api/everything/echo');
    expect(ops.map(([path]) => path)).toContain('/api/syn/weird.tool%20name');
    for (const [path] of ops) expect(path).not.toMatch(/[{}]/);
    const ids = Object.values(doc.paths ?? {}).flatMap((item) => Object.values(item ?? {}).map((o) => (o as Op).operationId));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(op(doc, '/api/everything/echo').operationId).toBe('everything__echo');
    // A server name of the longest kind still gives valid ids to its other endpoints.
    const longServer = buildOpenApi(input([{ name: 'S'.repeat(64), tools: [tool('t')] }]));
    const longIds = Object.values(longServer.paths ?? {}).flatMap((item) => Object.values(item ?? {}).map((o) => (o as Op).operationId));
    // getSessionId, deleteSessionId, and per server: tools, resources, resource, prompts, prompt, the tool.
    expect(longIds).toHaveLength(8);
    for (const id of longIds) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(new Set(longIds).size).toBe(longIds.length);
  });

  it('lists a server or tool given twice once', () => {
    const doc = buildOpenApi(input([{ name: 's', tools: [tool('t'), tool('t', { description: 'again' })] }, { name: 's', tools: [tool('u')] }]));
    expect(toolOps(doc).map(([path]) => path)).toEqual(['/api/s/t']);
    expect(doc.tags?.filter((t) => t.name === 's')).toHaveLength(1);
  });

  it('derives operationIds from server and tool names only, hashing long, invalid or ambiguous ones', () => {
    const long = toolOperationId('srv', 'a'.repeat(100));
    expect(long).toHaveLength(64);
    expect(long).toBe(`srv__${'a'.repeat(51)}_${shortHash(`srv/${'a'.repeat(100)}`)}`);
    expect(toolOperationId('srv', 'a'.repeat(100))).toBe(long);
    expect(toolOperationId('srv', 'a'.repeat(101))).not.toBe(long);
    expect(toolOperationId('s', 'do.it now')).toMatch(/^s__do_it_now_[0-9a-z]{7}$/);
    // "a" + "b__c" and "a__b" + "c" would both read a__b__c: the second gets a hash.
    expect(toolOperationId('a', 'b__c')).toBe('a__b__c');
    expect(toolOperationId('a__b', 'c')).toMatch(/^a__b__c_[0-9a-z]{7}$/);
    expect(toolOperationId('a_', '_b')).not.toBe(toolOperationId('a', '__b'));
  });

  it('keeps every operationId when another server is added, or servers are reordered', () => {
    const ids = (doc: Doc) => Object.fromEntries(toolOps(doc).map(([path, o]) => [path, o.operationId]));
    const before = ids(buildOpenApi(input([{ name: 'a', tools: [tool('b__c'), tool('x'.repeat(70))] }])));
    const servers = [{ name: 'a__b', tools: [tool('c')] }, { name: 'z', tools: fixture }, { name: 'a', tools: [tool('b__c'), tool('x'.repeat(70))] }];
    const after = ids(buildOpenApi(input(servers)));
    expect(after).toMatchObject(before);
    expect(ids(buildOpenApi(input([...servers].reverse())))).toEqual(after);
  });

  it('documents the optional sessionId query parameter', () => {
    const doc = buildOpenApi(input([{ name: 'everything', tools: fixture }]));
    for (const [, o] of toolOps(doc)) {
      const param = (o.parameters as OpenAPIV3_1.ParameterObject[]).find((p) => p.name === 'sessionId');
      expect(param).toMatchObject({ in: 'query', required: false, schema: { type: 'string' } });
      expect(param?.description).toMatch(/GET \/api\/sessionid/);
      expect(param?.description).toMatch(/fresh instance/);
      expect(param?.description?.length).toBeLessThanOrEqual(700);
    }
  });

  it('clips summary and description to 300 characters at a word boundary', () => {
    const doc = buildOpenApi(input([{ name: 'syn', tools: synthetic }, { name: 'everything', tools: fixture }]));
    const [, long] = toolOps(doc).find(([path]) => path.includes('very_long'))!;
    for (const text of [long.summary!, long.description!]) {
      expect(text.length).toBeLessThanOrEqual(300);
      expect(text.endsWith('…')).toBe(true);
      expect(longText.startsWith(text.slice(0, -1))).toBe(true);
      expect(longText[text.length - 1]).toMatch(/\s/); // cut before a space, not mid-word
    }
    expect(op(doc, '/api/everything/echo')).toMatchObject({ summary: 'Echo Tool', description: 'Echoes back the input string' });
    expect(op(doc, '/api/syn/weird.tool%20name').summary).toBe('weird.tool name');
    for (const [, o] of toolOps(doc)) {
      expect(o.summary!.length).toBeLessThanOrEqual(300);
      expect(o.description!.length).toBeLessThanOrEqual(300);
      for (const p of (o.parameters ?? []) as OpenAPIV3_1.ParameterObject[]) expect(p.description!.length).toBeLessThanOrEqual(700);
    }
    expect(clip('a b', 300)).toBe('a b');
    expect(clip(`${'x'.repeat(299)}😀`, 300)).toBe(`${'x'.repeat(299)}…`);
    expect(clip('y'.repeat(400), 300)).toBe(`${'y'.repeat(299)}…`);
  });

  it('sets x-openai-isConsequential from readOnlyHint', () => {
    const doc = buildOpenApi(input([{ name: 'everything', tools: fixture }]));
    for (const t of fixture) {
      const readOnly = (t as Obj).annotations?.readOnlyHint === true;
      expect(op(doc, `/api/everything/${t.name}`)['x-openai-isConsequential']).toBe(!readOnly);
    }
    const other = buildOpenApi(input([{ name: 's', tools: [tool('plain'), tool('ro', { annotations: { readOnlyHint: false } })] }]));
    expect(op(other, '/api/s/plain')['x-openai-isConsequential']).toBe(true);
    expect(op(other, '/api/s/ro')['x-openai-isConsequential']).toBe(true);
  });
});

describe('buildOpenApi: request and response schemas', () => {
  it('passes the input schema through without loss, dropping only $schema, and does not modify the input', () => {
    const tools = deepFreeze(structuredClone(synthetic));
    const doc = buildOpenApi(input([{ name: 'syn', tools }]));
    expect(tools).toEqual(synthetic);
    const union = synthetic.find((t) => t.name === 'union')!;
    expect(bodySchema(op(doc, '/api/syn/union'))).toEqual(union.inputSchema);
    const fx = buildOpenApi(input([{ name: 'everything', tools: fixture }]));
    for (const t of fixture) {
      const { $schema, ...rest } = t.inputSchema as Obj;
      expect($schema).toBeDefined();
      expect(bodySchema(op(fx, `/api/everything/${t.name}`))).toEqual(rest);
    }
  });

  it('hoists $defs into components.schemas and rewrites every $ref to them', () => {
    const doc = buildOpenApi(input([{ name: 'syn', tools: synthetic }]));
    const body = bodySchema(op(doc, '/api/syn/defs'));
    expect(body).not.toHaveProperty('$defs');
    expect(body.properties.address).toEqual({ $ref: '#/components/schemas/syn__defs__Address' });
    expect(body.properties.people.items).toEqual({ $ref: '#/components/schemas/syn__defs__Person' });
    expect(schemas(doc).syn__defs__Person.properties).toEqual({
      name: { type: 'string' },
      home: { $ref: '#/components/schemas/syn__defs__Address' },
      friends: { type: 'array', items: { $ref: '#/components/schemas/syn__defs__Person' } },
    });
    expect(schemas(doc).syn__defs__Address.properties.zip).toEqual({ type: 'string', pattern: '^[0-9]{5}$' });
    // Odd def names get a valid name, and encoded refs still reach them.
    const odd = bodySchema(toolOps(doc).find(([path]) => path.includes('very_long'))![1]).properties['odd key'].$ref as string;
    expect(odd).toMatch(/^#\/components\/schemas\/[a-zA-Z0-9._-]+$/);
    expect(deref(doc, odd)).toEqual({ type: 'string' });
    for (const name of Object.keys(schemas(doc))) expect(name).toMatch(/^[a-zA-Z0-9._-]+$/);
    for (const ref of collect(doc, '$ref') as string[]) expect(ref).toMatch(/^#\/components\/(schemas|responses)\//);
    expect(collect(doc, '$defs')).toEqual([]);
    expect(collect(doc, '$schema')).toEqual([]);
  });

  it('converts draft-07 definitions, tuples, dependencies and draft-04 exclusive bounds', () => {
    const doc = buildOpenApi(input([{ name: 'syn', tools: synthetic }]));
    // `first` points into the root schema, so the root is a component too.
    expect(bodySchema(op(doc, '/api/syn/definitions'))).toEqual({ $ref: '#/components/schemas/syn__definitions__input' });
    const body = schemas(doc).syn__definitions__input;
    expect(body).not.toHaveProperty('definitions');
    expect(body.properties.first).toEqual({ $ref: '#/components/schemas/syn__definitions__input/properties/pair/prefixItems/0' });
    expect(deref(doc, body.properties.first.$ref)).toEqual({ type: 'string' });
    expect(body.properties.color).toEqual({ $ref: '#/components/schemas/syn__definitions__Color' });
    expect(schemas(doc).syn__definitions__Color).toEqual({ type: 'string', enum: ['red', 'green', 'blue'], default: 'red' });
    expect(body.properties.pair).toEqual({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false });
    expect(body.properties.ratio).toEqual({ type: 'number', exclusiveMinimum: 0, maximum: 1 });
    expect(body.dependentRequired).toEqual({ a: ['b'] });
    expect(body.dependentSchemas).toEqual({ c: { required: ['d'] } });
    const numeric = buildOpenApi(input([{ name: 's', tools: [tool('t', { inputSchema: { type: 'number', exclusiveMinimum: 3 } })] }]));
    expect(bodySchema(op(numeric, '/api/s/t'))).toEqual({ type: 'number', exclusiveMinimum: 3 });
  });

  it('points recursive and in-schema refs at a component holding the root schema', () => {
    const doc = buildOpenApi(input([{ name: 'syn', tools: synthetic }]));
    const body = bodySchema(op(doc, '/api/syn/tree'));
    expect(body).toEqual({ $ref: '#/components/schemas/syn__tree__input' });
    const root = schemas(doc).syn__tree__input;
    expect(root.properties.children.items).toEqual({ $ref: '#/components/schemas/syn__tree__input' });
    expect(root.properties.copy).toEqual({ $ref: '#/components/schemas/syn__tree__input/properties/value' });
    expect(deref(doc, root.properties.copy.$ref)).toEqual({ type: 'integer' });
  });

  it('gives $defs and definitions of the same name separate components', () => {
    const both = tool('t', {
      inputSchema: {
        type: 'object',
        properties: { a: { $ref: '#/$defs/X' }, b: { $ref: '#/definitions/X' } },
        $defs: { X: { type: 'string' } },
        definitions: { X: { type: 'number' } },
      },
    });
    const doc = buildOpenApi(input([{ name: 's', tools: [both] }]));
    const { a, b } = bodySchema(op(doc, '/api/s/t')).properties;
    expect(a.$ref).not.toBe(b.$ref);
    expect(deref(doc, a.$ref)).toEqual({ type: 'string' });
    expect(deref(doc, b.$ref)).toEqual({ type: 'number' });
  });

  it('keeps refs that lead nowhere as x-unresolved-ref', () => {
    const doc = buildOpenApi(input([{ name: 'syn', tools: synthetic }]));
    expect(bodySchema(op(doc, '/api/syn/weird.tool%20name')).properties).toEqual({
      x: { 'x-unresolved-ref': '#/$defs/Missing' },
      y: { 'x-unresolved-ref': 'https://example.com/x.json' },
    });
  });

  it('answers 200 with CallToolResult, and errors with the Error and ValidationError components', () => {
    const doc = buildOpenApi(input([{ name: 'syn', tools: synthetic }], { auth: { basic: true, bearer: false, jwt: false } }));
    const plain = op(doc, '/api/syn/defs');
    expect(okSchema(plain)).toEqual({ $ref: '#/components/schemas/CallToolResult' });
    const result = schemas(doc).CallToolResult;
    expect(result.required).toEqual(['content', 'isError']);
    expect(result.properties.isError).toMatchObject({ type: 'boolean' });
    expect(result.properties.structuredContent).toMatchObject({ type: 'object' });
    const block = deref(doc, result.properties.content.items.$ref) as Obj;
    const kinds = block.oneOf.map((r: Obj) => deref(doc, r.$ref) as Obj);
    expect(kinds.map((k: Obj) => k.properties.type.const)).toEqual(['text', 'image', 'audio', 'resource_link', 'resource']);
    expect(kinds[0].required).toEqual(['type', 'text']);
    expect(kinds[1].required).toEqual(['type', 'data', 'mimeType']);
    expect(kinds[2].required).toEqual(['type', 'data', 'mimeType']);
    expect(kinds[3].required).toEqual(['type', 'uri', 'name']);
    expect(kinds[4].required).toEqual(['type', 'resource']);

    const statuses = Object.keys(plain.responses ?? {});
    expect(statuses).toEqual(['200', '400', '401', '404', '409', '413', '422', '429', '502', '503', '504']);
    for (const status of statuses.slice(1)) {
      const response = deref(doc, (plain.responses as Obj)[status].$ref) as Obj;
      expect(response.content['application/json'].schema).toEqual({
        $ref: `#/components/schemas/${status === '422' ? 'ValidationError' : 'Error'}`,
      });
    }
    expect(schemas(doc).Error.properties.error.required).toEqual(['code', 'message']);
    expect(schemas(doc).ValidationError.properties.error.properties.fields.items.required).toEqual(['path', 'message']);
    expect(schemas(doc).ValidationError.properties.error.properties.code.const).toBe('INVALID_ARGUMENTS');
  });

  it('adds the output schema, its $defs hoisted too, as structuredContent', () => {
    const doc = buildOpenApi(input([{ name: 'syn', tools: synthetic }, { name: 'everything', tools: fixture }]));
    expect(okSchema(op(doc, '/api/syn/union'))).toEqual({
      allOf: [
        { $ref: '#/components/schemas/CallToolResult' },
        { type: 'object', properties: { structuredContent: { type: 'object', properties: { result: { $ref: '#/components/schemas/syn__union__output__Result' } } } } },
      ],
    });
    expect(schemas(doc).syn__union__output__Result).toEqual({ type: 'object', properties: { ok: { type: 'boolean' } } });
    const structured = fixture.find((t) => t.name === 'get-structured-content') as Obj;
    const { $schema, ...outputSchema } = structured.outputSchema;
    expect(okSchema(op(doc, '/api/everything/get-structured-content')).allOf[1].properties.structuredContent).toEqual(outputSchema);
  });
});

describe('buildOpenApi: other endpoints', () => {
  it('has the session, tools, resources and prompts endpoints', () => {
    const doc = buildOpenApi(input([{ name: 'syn', tools: synthetic }]));
    const paths = doc.paths as Obj;
    expect(paths['/api/sessionid'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/SessionId' });
    expect(paths['/api/syn/tools'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ListToolsResult' });
    // A tool named "tools" shares the path with the listing.
    expect(paths['/api/syn/tools'].post.operationId).toBe('syn__tools');
    expect(paths['/api/syn/resources'].get.operationId).toBe('listResources_syn');
    const read = paths['/api/syn/resources/read'].get;
    expect(read.parameters.map((p: Obj) => [p.name, p.in, p.required])).toEqual([['uri', 'query', true], ['sessionId', 'query', false]]);
    expect(read.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ReadResourceResult' });
    expect(paths['/api/syn/prompts'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ListPromptsResult' });
    const prompt = paths['/api/syn/prompts/{name}'].post;
    expect(prompt.parameters.map((p: Obj) => [p.name, p.in, p.required])).toEqual([['name', 'path', true], ['sessionId', 'query', false]]);
    expect(prompt.requestBody.content['application/json'].schema).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
    expect(prompt.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/GetPromptResult' });
    expect(Object.keys(prompt.responses)).toEqual(['200', '400', '404', '409', '413', '422', '429', '502', '503', '504']);
    expect(Object.keys(paths['/api/syn/tools'].get.responses)).toEqual(['200', '400', '404', '429', '502', '503', '504']);
  });
});

describe('buildServerOpenApi', () => {
  const servers = [{ name: 'everything', tools: fixture }, { name: 'syn', tools: synthetic }];

  it('restricts the document to one server, with the same names', () => {
    const full = buildOpenApi(input(servers));
    const one = buildServerOpenApi(input(servers), 'syn');
    expect(Object.keys(one.paths ?? {}).every((p) => p.startsWith('/api/sessionid') || p.startsWith('/api/syn/'))).toBe(true);
    for (const [path, item] of Object.entries(one.paths ?? {})) expect(item).toEqual(full.paths?.[path]);
    expect(Object.keys(one.paths ?? {})).toEqual(Object.keys(full.paths ?? {}).filter((p) => !p.startsWith('/api/everything/')));
    expect(Object.keys(schemas(one)).some((n) => n.startsWith('everything'))).toBe(false);
    expect(schemas(one).syn__defs__Person).toEqual(schemas(full).syn__defs__Person);
    expect(one.tags?.map((t) => t.name)).not.toContain('everything');
  });

  it('throws SERVER_NOT_FOUND for an unknown server', () => {
    expect(() => buildServerOpenApi(input(servers), 'nope')).toThrow(GatewayError);
    try {
      buildServerOpenApi(input(servers), 'nope');
    } catch (err) {
      expect((err as GatewayError).code).toBe('SERVER_NOT_FOUND');
    }
  });
});

describe('OpenAPI 3.1 validation', () => {
  it('the validator rejects a broken document', async () => {
    const doc = buildOpenApi(input([{ name: 's', tools: [tool('t')] }])) as Obj;
    expect((await new Validator().validate({ ...doc, info: { title: 'no version' } })).valid).toBe(false);
    const dangling = structuredClone(doc);
    dangling.paths['/api/s/t'].post.requestBody.content['application/json'].schema = { $ref: '#/components/schemas/Nope' };
    expect((await new Validator().validate(dangling)).valid).toBe(false);
  });

  it('accepts the document of server-everything', async () => {
    await validate(buildOpenApi(input([{ name: 'everything', tools: fixture }])));
    await validate(buildOpenApi(input([{ name: 'everything', tools: fixture }], { auth: { basic: true, bearer: true, jwt: true } })));
  });

  it('accepts the document of synthetic tools, whole and per server', async () => {
    const servers = [{ name: 'everything', tools: fixture }, { name: 'syn', tools: synthetic }, { name: 'a__b_', tools: synthetic }];
    const auth = { basic: true, bearer: false, jwt: true };
    await validate(buildOpenApi(input(servers, { auth })));
    await validate(buildServerOpenApi(input(servers, { auth }), 'syn'));
    await validate(buildServerOpenApi(input(servers), 'a__b_'));
  });
});
