/**
 * Checking a tool's arguments against its input schema before the call, with a validator that
 * compiles nothing at run time (Workers forbid it): one entry per failing field.
 */
import { Validator, type OutputUnit, type SchemaDraft } from '@cfworker/json-schema';
import { certainlyValid, simpleSchemaOf } from './simple-schema.ts';

export interface FieldError {
  /** Where in the arguments: a JSON pointer without the leading "#", "" for the whole object. */
  path: string;
  message: string;
}

/** Keywords that only say "something inside failed"; the inner errors say what. */
const CONTAINER_KEYWORDS = new Set(['properties', 'items', 'prefixItems', 'additionalProperties', 'allOf', '$ref', 'dependentSchemas', 'unevaluatedProperties', 'patternProperties', 'then', 'else', 'if']);

function draftOf(schema: Record<string, unknown>): SchemaDraft {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (declared.includes('draft-04')) return '4';
  if (declared.includes('draft-07') || declared.includes('draft-06')) return '7';
  if (declared.includes('2019-09')) return '2019-09';
  return '2020-12';
}

export class ArgumentsValidator {
  readonly #validator: Validator;
  /** The schema in a form simple enough to say "valid" without the general validator, if it is. */
  readonly #simple: ReturnType<typeof simpleSchemaOf>;

  constructor(schema: Record<string, unknown>) {
    this.#validator = new Validator(schema as never, draftOf(schema), false);
    this.#simple = simpleSchemaOf(schema);
  }

  /** The failing fields, or an empty list when the arguments are valid. */
  check(args: unknown): FieldError[] {
    if (this.#simple && certainlyValid(this.#simple, args)) return [];
    const result = this.#validator.validate(args);
    if (result.valid) return [];
    const seen = new Set<string>();
    const fields: FieldError[] = [];
    const leaves = result.errors.filter((e: OutputUnit) => !CONTAINER_KEYWORDS.has(e.keyword));
    for (const error of leaves.length ? leaves : result.errors) {
      const path = error.instanceLocation.replace(/^#/, '');
      const key = `${path}\u0000${error.error}`;
      if (seen.has(key)) continue;
      seen.add(key);
      fields.push({ path, message: error.error });
    }
    return fields;
  }
}
