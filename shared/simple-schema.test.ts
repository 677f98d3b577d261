import { Validator } from '@cfworker/json-schema';
import { describe, expect, it } from 'vitest';
import { certainlyValid, simpleSchemaOf } from './simple-schema.ts';

const echo = {
  type: 'object',
  properties: { message: { type: 'string', description: 'Message to echo' } },
  required: ['message'],
  additionalProperties: false,
  $schema: 'http://json-schema.org/draft-07/schema#',
};
const mixed = {
  type: 'object',
  properties: { a: { type: 'number' }, b: { type: 'integer', default: 1 }, c: { type: 'boolean' }, d: { type: 'null' }, e: { type: 'string', title: 'E' } },
  required: ['a'],
};

const inputs: unknown[] = [
  {},
  { message: 'hi' },
  { message: 5 },
  { message: 'hi', extra: 1 },
  { a: 1 },
  { a: 1.5, b: 2, c: true, d: null, e: 'x', other: [1] },
  { a: '1' },
  { a: 1, b: 1.5 },
  { a: 1, c: 'true' },
  { a: 1, d: 0 },
  [],
  null,
  'text',
];

describe('simple tool schemas', () => {
  it('never says valid where the general validator refuses, and says valid for what it accepts', () => {
    for (const schema of [echo, mixed]) {
      const simple = simpleSchemaOf(schema)!;
      expect(simple).toBeDefined();
      const general = new Validator(schema as never, '2020-12', false);
      for (const input of inputs) {
        expect(certainlyValid(simple, input), JSON.stringify([schema.properties, input])).toBe(general.validate(input).valid);
      }
    }
  });

  it('leaves any schema with more than types, required and additionalProperties to the general validator', () => {
    expect(simpleSchemaOf({ type: 'object', properties: { s: { type: 'string', maxLength: 3 } } })).toBeUndefined();
    expect(simpleSchemaOf({ type: 'object', properties: { s: { type: ['string', 'null'] } } })).toBeUndefined();
    expect(simpleSchemaOf({ type: 'object', properties: { s: { enum: ['a'] } } })).toBeUndefined();
    expect(simpleSchemaOf({ type: 'object', properties: { o: { type: 'object' } } })).toBeUndefined();
    expect(simpleSchemaOf({ type: 'object', additionalProperties: { type: 'string' } })).toBeUndefined();
    expect(simpleSchemaOf({ type: 'object', minProperties: 1 })).toBeUndefined();
    expect(simpleSchemaOf({ properties: {} })).toBeUndefined();
    expect(simpleSchemaOf({ type: 'object', $defs: {} })).toBeUndefined();
  });
});
