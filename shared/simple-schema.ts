/**
 * A quick yes for the arguments of the most common tool schemas: an object of named properties
 * of the primitive types, some required, maybe no others allowed, and nothing else but
 * annotations. The general validator walks its whole machinery (and builds a JSON pointer for
 * every property it visits) on every call; this one only answers "valid" for schemas it fully
 * understands, and says nothing otherwise, so the general validator still decides every
 * refusal and every other schema.
 */

type Primitive = 'string' | 'number' | 'integer' | 'boolean' | 'null';

interface SimpleSchema {
  properties: Map<string, Primitive>;
  required: string[];
  closed: boolean;
}

const PRIMITIVES = new Set<string>(['string', 'number', 'integer', 'boolean', 'null']);
/** Keywords that never change what is valid. */
const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', '$comment']);
const OBJECT_KEYWORDS = new Set(['type', 'properties', 'required', 'additionalProperties', '$schema', ...ANNOTATIONS]);

/** The schema in the simple form, or undefined when it uses anything more. */
export function simpleSchemaOf(schema: Record<string, unknown>): SimpleSchema | undefined {
  if (schema.type !== 'object') return undefined;
  for (const key of Object.keys(schema)) if (!OBJECT_KEYWORDS.has(key)) return undefined;
  const { properties = {}, required = [], additionalProperties } = schema;
  if (!isRecord(properties)) return undefined;
  if (!Array.isArray(required) || !required.every((name) => typeof name === 'string')) return undefined;
  if (additionalProperties !== undefined && additionalProperties !== true && additionalProperties !== false) return undefined;
  const types = new Map<string, Primitive>();
  for (const [name, property] of Object.entries(properties)) {
    if (!isRecord(property) || typeof property.type !== 'string' || !PRIMITIVES.has(property.type)) return undefined;
    for (const key of Object.keys(property)) if (key !== 'type' && !ANNOTATIONS.has(key)) return undefined;
    types.set(name, property.type as Primitive);
  }
  return { properties: types, required: required as string[], closed: additionalProperties === false };
}

/** True when `args` is certainly valid against `schema`; false means "ask the general validator". */
export function certainlyValid(schema: SimpleSchema, args: unknown): boolean {
  if (!isRecord(args)) return false;
  for (const name of schema.required) if (!Object.hasOwn(args, name)) return false;
  for (const name of Object.keys(args)) {
    const type = schema.properties.get(name);
    if (type === undefined) {
      if (schema.closed) return false;
      continue;
    }
    if (!hasType(args[name], type)) return false;
  }
  return true;
}

function hasType(value: unknown, type: Primitive): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
