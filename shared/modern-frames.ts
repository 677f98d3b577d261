/**
 * Frames of the 2026-07-28 bridge between the edge and a host: a stateless request run on a
 * 2025-era server process, its input requests (the server asked the client something during the
 * call), the client's answers, and what the call reports on its own stream.
 */
import { z } from 'zod';
import { NAME_PATTERN } from './constants.ts';

const Name = z.string().regex(NAME_PATTERN);
const CallId = z.string().min(1).max(128);
const ParkId = z.string().min(1).max(128);

/** Edge to host: run one 2026-07-28 request (the `_meta` envelope already checked and removed). */
export const ModernCallFrameSchema = z.object({
  type: z.literal('modern.call'),
  id: CallId,
  server: Name,
  /** Which process pool serves it: one per (principal, server, client capabilities). */
  lease: z.string().min(1).max(128),
  method: z.string().min(1).max(256),
  params: z.looseObject({}),
  clientCapabilities: z.looseObject({}),
  clientInfo: z.object({ name: z.string().max(256), version: z.string().max(256) }).optional(),
  logLevel: z.string().max(32).optional(),
  timeoutMs: z.number().int().positive().max(3_600_000),
  /** The server speaks 2026-07-28 itself: `params` keep their `_meta` envelope and go to it unchanged. */
  relay: z.boolean().optional(),
});

/** Edge to host: the client's answers to a parked call's input requests. */
export const ModernResumeFrameSchema = z.object({
  type: z.literal('modern.resume'),
  id: CallId,
  server: Name,
  park: ParkId,
  inputResponses: z.record(z.string().max(256), z.unknown()),
  timeoutMs: z.number().int().positive().max(3_600_000),
});

/** Host to edge: the call `id` waits for the client's answers; the server process stays parked as `park`. */
export const ModernInputFrameSchema = z.object({
  type: z.literal('modern.input'),
  id: CallId,
  park: ParkId,
  inputRequests: z.record(z.string().max(256), z.object({ method: z.string().max(256), params: z.unknown().optional() })),
});

/** Host to edge: a progress or log notification of call `id`, for its own stream. */
export const ModernEventFrameSchema = z.object({
  type: z.literal('modern.event'),
  id: CallId,
  message: z.looseObject({ jsonrpc: z.literal('2.0'), method: z.string() }),
});

/** Host to edge: a process of the server said one of its lists changed (for `subscriptions/listen` streams). */
export const ModernChangedFrameSchema = z.object({
  type: z.literal('modern.changed'),
  server: Name,
  list: z.enum(['tools', 'prompts', 'resources']),
});

export const MODERN_FRAME_SCHEMAS = [ModernCallFrameSchema, ModernResumeFrameSchema, ModernInputFrameSchema, ModernEventFrameSchema, ModernChangedFrameSchema] as const;
