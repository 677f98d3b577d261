import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nestsDeeperThan } from './json-depth.ts';

describe('nestsDeeperThan', () => {
  it('counts arrays and objects inside one another', () => {
    expect(nestsDeeperThan('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(nestsDeeperThan('{"a":[1,{"b":2}]}', 2)).toBe(true);
    expect(nestsDeeperThan('[[],[],[]]', 2)).toBe(false);
    expect(nestsDeeperThan('['.repeat(200_000) + ']'.repeat(200_000), 200)).toBe(true);
    // A text as long as the limit cannot pass it; one character more can.
    expect(nestsDeeperThan('[[[', 3)).toBe(false);
    expect(nestsDeeperThan('[[[[', 3)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan(JSON.stringify({ a: '[[[[{{{{' }), 1)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ a: 'say \\"[[[[\\" and "{{{{"' }), 1)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify(['\\', [[1]]]), 2)).toBe(true);
  });
});

/** The character-by-character scan this module used before skipping strings with indexOf: the reference. */
function reference(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

describe('nestsDeeperThan on long texts (where brackets are counted first)', () => {
  it('agrees with the plain scan on long texts with few or many brackets, in strings or not', () => {
    const pieces = fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"', 'a', ',', 'é"<a href=\\"x\\">'.repeat(40), 'x'.repeat(300));
    fc.assert(
      fc.property(fc.array(pieces, { minLength: 20, maxLength: 200 }), fc.integer({ min: 0, max: 8 }), (parts, limit) => {
        const text = parts.join('');
        expect(nestsDeeperThan(text, limit)).toBe(reference(text, limit));
      }),
      { numRuns: 1000 },
    );
    const prose = JSON.stringify({ text: 'é"<a href="x">'.repeat(100_000) });
    expect(nestsDeeperThan(prose, 1)).toBe(false);
    expect(nestsDeeperThan(`[[${prose}]]`, 2)).toBe(true);
  });
});

describe('nestsDeeperThan against the plain scan', () => {
  it('agrees on any text made of brackets, quotes, backslashes and letters, valid JSON or not', () => {
    const pieces = fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"', '\\\\', 'a', ',', ':', ' ');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 60 }), fc.integer({ min: 0, max: 6 }), (parts, limit) => {
        const text = parts.join('');
        expect(nestsDeeperThan(text, limit)).toBe(reference(text, limit));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees on JSON values, and on them as strings inside JSON (escapes everywhere)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 7 }), (value, limit) => {
        const text = JSON.stringify(value);
        expect(nestsDeeperThan(text, limit)).toBe(reference(text, limit));
        const wrapped = JSON.stringify({ data: text, next: [[value]] });
        expect(nestsDeeperThan(wrapped, limit)).toBe(reference(wrapped, limit));
      }),
      { numRuns: 1000 },
    );
  });
});
