import { describe, expect, it } from 'vitest';
import { CHUNK_CHARS, WHOLE_MESSAGE_CHARS } from '../shared/constants.ts';
import { chunkFrameText } from '../shared/framing.ts';
import { unwelcomedFraming, welcomedFraming } from './link-framing.ts';

const frameOf = (chars: number) => JSON.stringify({ type: 'rpc.response', id: 'c', result: { text: 'x'.repeat(chars) } });

describe('the host link framing', () => {
  it('sends a 5 MiB frame whole to an edge that takes 8 Mi, and in chunks to one that says nothing', () => {
    const text = frameOf(5 * 1024 * 1024);
    expect(chunkFrameText(text, welcomedFraming({ type: 'host.welcome', version: '1.1', maxFrameChars: 16 * 1024 * 1024, maxMessageChars: WHOLE_MESSAGE_CHARS }))).toEqual([text]);
    expect(chunkFrameText(text, welcomedFraming({ type: 'host.welcome', version: '1.1', maxFrameChars: 16 * 1024 * 1024 })).length).toBeGreaterThan(1);
    expect(chunkFrameText(text, unwelcomedFraming()).length).toBeGreaterThan(1);
  });

  it('still refuses a frame over the edge\'s largest frame, and chunks past what it takes in one message', () => {
    const welcome = { type: 'host.welcome' as const, version: '1.1', maxFrameChars: 2 * 1024 * 1024, maxMessageChars: 1024 * 1024 };
    expect(() => chunkFrameText(frameOf(3 * 1024 * 1024), welcomedFraming(welcome))).toThrow(/exceeds/);
    const messages = chunkFrameText(frameOf(1536 * 1024), welcomedFraming(welcome));
    expect(messages.length).toBeGreaterThan(1);
    expect(chunkFrameText(frameOf(CHUNK_CHARS * 3), welcomedFraming(welcome))).toHaveLength(1);
  });
});
