/**
 * A tool's JSON Schema (often draft-07) made a Schema Object of an OpenAPI 3.1 document
 * (JSON Schema 2020-12), keeping every constraint:
 * - `$defs` and `definitions` of the root move to `components.schemas`, and every `$ref` into
 *   them, or anywhere else in the schema (`#`, `#/properties/a`), points into the components;
 * - `$schema` and `$id` go (the document's dialect applies, and identifiers would clash);
 * - draft-04 boolean `exclusiveMinimum`/`exclusiveMaximum`, draft-07 array `items`,
 *   `additionalItems` and `dependencies` become their 2020-12 forms.
 * A `$ref` that leads nowhere in the tool's schema (or outside it) is kept as `x-unresolved-ref`.
 */
import { claimName, componentName, MAX_COMPONENT_NAME } from './openapi-names.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Keywords whose value is one schema, an array of schemas, or an object of schemas. */
const ONE_SCHEMA = new Set([
  'additionalProperties', 'propertyNames', 'contains', 'not', 'if', 'then', 'else',
  'unevaluatedItems', 'unevaluatedProperties', 'contentSchema', 'additionalItems', 'items',
]);
const SCHEMA_ARRAY = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const SCHEMA_MAP = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const DROPPED = new Set(['$schema', '$id', '$anchor']);
const DEFS_KEYWORDS = ['$defs', 'definitions'] as const;

export const COMPONENT_REF_PREFIX = '#/components/schemas/';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Components a tool's schemas add to the document, and the names the document has taken. */
export interface SchemaSink {
  schemas: Record<string, Json>;
  taken: Set<string>;
}

/**
 * `schema` converted. `nameParts` start the names of its components: [server, tool] for an
 * inputSchema, [server, tool, 'output'] for an outputSchema. The input is not modified.
 */
export function convertToolSchema(schema: unknown, nameParts: string[], sink: SchemaSink): Json {
  if (typeof schema === 'boolean') return schema;
  if (!isObject(schema)) return { type: 'object' };
  const root = schema;

  // Component names of the root's definitions, in the order they appear.
  const defNames = new Map<string, string>();
  for (const keyword of DEFS_KEYWORDS) {
    const defs = root[keyword];
    if (!isObject(defs)) continue;
    for (const [name, def] of Object.entries(defs)) {
      if (isObject(def) || typeof def === 'boolean') {
        defNames.set(`${keyword}/${name}`, claimName(componentName([...nameParts, name]), sink.taken, MAX_COMPONENT_NAME));
      }
    }
  }
  let rootName: string | undefined;
  const rootComponent = (): string =>
    (rootName ??= claimName(componentName([...nameParts, nameParts.length === 2 ? 'input' : 'root']), sink.taken, MAX_COMPONENT_NAME));

  /** Where `ref` points in the document, or undefined when it leads nowhere in this schema. */
  const translateRef = (ref: string): string | undefined => {
    if (!ref.startsWith('#')) return undefined;
    if (ref === '#') return COMPONENT_REF_PREFIX + rootComponent();
    if (!ref.startsWith('#/')) return undefined;
    const segments = ref.slice(2).split('/').map(decodeSegment);
    if (segments.some((s) => s === undefined)) return undefined;
    const [first, second] = segments as string[];
    const defName = defNames.get(`${first}/${second}`);
    if (defName !== undefined) {
      const def = (root[first as string] as JsonObject)[second as string] as Json;
      const rest = translatePath(def, segments.slice(2) as string[]);
      return rest && COMPONENT_REF_PREFIX + defName + rest.map((s) => `/${encodeSegment(s)}`).join('');
    }
    if (first === '$defs' || first === 'definitions') return undefined;
    const rest = translatePath(root, segments as string[]);
    return rest && COMPONENT_REF_PREFIX + rootComponent() + rest.map((s) => `/${encodeSegment(s)}`).join('');
  };

  const convert = (node: Json, isRoot = false): Json => {
    if (!isObject(node)) return structuredClone(node);
    const out: JsonObject = {};
    const tuple = Array.isArray(node.items);
    for (const [key, value] of Object.entries(node)) {
      if (DROPPED.has(key) || (isRoot && (key === '$defs' || key === 'definitions'))) continue;
      if (key === '$ref' && typeof value === 'string') {
        const ref = translateRef(value);
        if (ref === undefined) out['x-unresolved-ref'] = value;
        else out.$ref = ref;
      } else if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value === 'boolean') {
        // draft-04: a flag on minimum/maximum, taken care of there.
      } else if ((key === 'minimum' || key === 'maximum') && node[key === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum'] === true) {
        out[key === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum'] = structuredClone(value);
      } else if (key === 'items' && tuple) {
        out.prefixItems = (value as Json[]).map((item) => convert(item));
      } else if (key === 'additionalItems' && tuple) {
        out.items = convert(value);
      } else if (key === 'dependencies' && isObject(value)) {
        for (const [name, dep] of Object.entries(value)) {
          const target = Array.isArray(dep) ? 'dependentRequired' : 'dependentSchemas';
          const map = isObject(out[target]) ? (out[target] as JsonObject) : (out[target] = {});
          map[name] = Array.isArray(dep) ? structuredClone(dep) : convert(dep);
        }
      } else if ((key === 'dependentRequired' || key === 'dependentSchemas') && isObject(value) && isObject(out[key])) {
        Object.assign(out[key] as JsonObject, key === 'dependentSchemas' ? mapValues(value, (v) => convert(v)) : structuredClone(value));
      } else if (ONE_SCHEMA.has(key)) {
        out[key] = convert(value);
      } else if (SCHEMA_ARRAY.has(key) && Array.isArray(value)) {
        out[key] = value.map((item) => convert(item));
      } else if (SCHEMA_MAP.has(key) && isObject(value)) {
        out[key] = mapValues(value, (v) => convert(v));
      } else {
        out[key] = structuredClone(value);
      }
    }
    return out;
  };

  for (const keyword of DEFS_KEYWORDS) {
    const defs = root[keyword];
    if (!isObject(defs)) continue;
    for (const [name, def] of Object.entries(defs)) {
      const componentKey = defNames.get(`${keyword}/${name}`);
      if (componentKey !== undefined) sink.schemas[componentKey] = convert(def);
    }
  }
  const converted = convert(root, true);
  if (rootName === undefined) return converted;
  sink.schemas[rootName] = converted;
  return { $ref: COMPONENT_REF_PREFIX + rootName };
}

/**
 * The path, in the converted schema, of what `path` reaches in the original schema `node`; or
 * undefined when it reaches nothing there (or something that conversion drops).
 */
function translatePath(node: Json, path: string[]): string[] | undefined {
  const out: string[] = [];
  let kind: 'schema' | 'array' | 'map' | 'data' = 'schema';
  let current: Json = node;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as string;
    const next = child(current, segment);
    if (next === undefined) return undefined;
    if (kind !== 'schema') {
      out.push(segment);
      kind = kind === 'data' ? 'data' : 'schema';
    } else if (DROPPED.has(segment)) {
      return undefined;
    } else if (segment === 'items' && Array.isArray(next)) {
      out.push('prefixItems');
      kind = 'array';
    } else if (segment === 'additionalItems' && isObject(current) && Array.isArray(current.items)) {
      out.push('items');
      kind = 'schema';
    } else if (segment === 'dependencies' && isObject(next)) {
      const name = path[++i];
      const dep = name === undefined ? undefined : child(next, name);
      if (name === undefined || dep === undefined) return undefined;
      out.push(Array.isArray(dep) ? 'dependentRequired' : 'dependentSchemas', name);
      kind = Array.isArray(dep) ? 'data' : 'schema';
      current = dep;
      continue;
    } else {
      out.push(segment);
      kind = ONE_SCHEMA.has(segment) ? 'schema' : SCHEMA_ARRAY.has(segment) ? 'array' : SCHEMA_MAP.has(segment) ? 'map' : 'data';
    }
    current = next;
  }
  return out;
}

function child(node: Json, segment: string): Json | undefined {
  if (Array.isArray(node)) return /^(0|[1-9]\d*)$/.test(segment) ? node[Number(segment)] : undefined;
  return isObject(node) && Object.hasOwn(node, segment) ? node[segment] : undefined;
}

function mapValues(object: JsonObject, fn: (value: Json) => Json): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) out[key] = fn(value);
  return out;
}

/** A JSON Pointer segment of a URI fragment, unescaped; undefined when badly encoded. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment).replaceAll('~1', '/').replaceAll('~0', '~');
  } catch {
    return undefined;
  }
}

/** A JSON Pointer segment escaped for a URI fragment. */
function encodeSegment(segment: string): string {
  return segment
    .replaceAll('~', '~0')
    .replaceAll('/', '~1')
    .replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]/g, (c) => encodeURIComponent(c));
}
