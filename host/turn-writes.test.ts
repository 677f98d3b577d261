import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { corkForTurn } from './turn-writes.ts';

describe('corkForTurn', () => {
  it('sends the writes of one turn as one chunk, at the end of that turn', async () => {
    const writes: number[] = [];
    const stream = new PassThrough({
      writev(chunks, done) {
        writes.push(chunks.length);
        done();
      },
      write(_chunk, _encoding, done) {
        writes.push(1);
        done();
      },
    });
    for (const line of ['a\n', 'b\n', 'c\n']) {
      corkForTurn(stream);
      stream.write(line);
    }
    expect(writes).toEqual([]);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(writes).toEqual([3]);
    // The next turn's write is corked on its own.
    corkForTurn(stream);
    stream.write('d\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([3, 1]);
  });

  it('writes made in promise callbacks of the same turn go out together too', async () => {
    const writes: number[] = [];
    const stream = new PassThrough({
      writev(chunks, done) {
        writes.push(chunks.length);
        done();
      },
    });
    await Promise.all(
      [1, 2, 3, 4].map(async (n) => {
        await Promise.resolve();
        corkForTurn(stream);
        stream.write(`${n}\n`);
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([4]);
  });
});
