#!/usr/bin/env node
// Our MCP fixture server for the official conformance suite's *server* scenarios
// (`conformance server --url …`), serving two protocol revisions on ONE endpoint:
//
//   2025-11-25  sessionful Streamable HTTP: initialize, Mcp-Session-Id, the session's GET
//               stream, DELETE, SSE priming events with `retry:` and resumption with
//               Last-Event-ID from an in-memory event store, push-style server→client requests
//               (sampling, elicitation) on the request's stream.
//   2026-07-28  stateless: every exchange is one POST carrying its own `_meta` envelope
//               (protocol version, client capabilities); server/discover, subscriptions/listen
//               streams, multi-round-trip (`input_required`) results with an HMAC-sealed
//               requestState, `resultType`, cache hints, Mcp-Method / Mcp-Name / Mcp-Param-*
//               header checks.
//
// Built on the official TypeScript SDK v2 (@modelcontextprotocol/server and …/node). Each
// request is routed by the SDK's own era classifier (`classifyInboundRequest`): anything
// claiming the 2026 envelope, malformed claims included, goes to the SDK's per-request handler
// (`createMcpHandler`, legacy serving off); everything else to our sessionful 2025 wiring. One
// definition of the tools, resources and prompts (`buildServer`) backs both. Tool schemas are
// plain JSON Schema (`fromJsonSchema`), so they go out exactly as written here.
//
// It exists to run the suite directly and then through the gatekeeper, so that every
// difference between the two runs is the gatekeeper's doing. It serves on loopback only, and
// refuses a Host or Origin naming anything else (DNS rebinding).
//
// Usage: node fixture-server.mjs [PORT]   (or FIXTURE_PORT; 0 / unset = an ephemeral port)
// Prints one line once it accepts connections:  fixture-server listening on http://127.0.0.1:PORT/mcp

import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { deflateSync, crc32 } from 'node:zlib';

import {
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
  CLIENT_CAPABILITIES_META_KEY,
  classifyInboundRequest,
  createMcpHandler,
  fromJsonSchema,
  inputRequired,
  inputResponse,
  isInitializeRequest,
} from '@modelcontextprotocol/server';
import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';

const HOST = '127.0.0.1';
const PORT = Number(process.argv[2] ?? process.env.FIXTURE_PORT ?? 0);
const MCP_PATH = '/mcp';
/** Suggested client reconnection delay, sent as `retry:` in priming events (2025-11-25). */
const RETRY_MS = 500;
/** The largest request body read (the SDK's own default bound). */
const MAX_BODY = 4 * 1024 * 1024;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Binary payloads, made here rather than pasted: a 1×1 PNG and a short silent WAV.

/** A 1×1 RGB PNG of the given colour, base64. */
function pngPixel([r, g, b]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0); // width
  ihdr.writeUInt32BE(1, 4); // height
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const scanline = Buffer.from([0, r, g, b]); // filter byte 0, then the pixel
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(scanline)),
    chunk('IEND', Buffer.alloc(0)),
  ]).toString('base64');
}

/** 10 ms of 8 kHz, 8-bit mono silence as a RIFF/WAVE file, base64. */
function silentWav() {
  const samples = Buffer.alloc(80, 0x80); // 0x80 is silence for unsigned 8-bit PCM
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24); // sample rate
  header.writeUInt32LE(8000, 28); // byte rate
  header.writeUInt16LE(1, 32); // block align
  header.writeUInt16LE(8, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples.length, 40);
  return Buffer.concat([header, samples]).toString('base64');
}

const PNG = pngPixel([0x2e, 0x7d, 0x32]);
const WAV = silentWav();

// ---------------------------------------------------------------------------------------------
// 2025-11-25 resumability: an in-memory event store shared by all sessions. Event ids are
// `<streamId>:<n>`, so the stream of an id is read off the id itself.

class MemoryEventStore {
  #events = []; // { id, streamId, message }, in the order stored
  #seq = 0;

  async storeEvent(streamId, message) {
    const id = `${streamId}:${++this.#seq}`;
    this.#events.push({ id, streamId, message });
    return id;
  }

  async getStreamIdForEventId(eventId) {
    return this.#events.find((e) => e.id === eventId)?.streamId;
  }

  /** Sends every JSON-RPC message of the same stream stored after `lastEventId`. */
  async replayEventsAfter(lastEventId, { send }) {
    const at = this.#events.findIndex((e) => e.id === lastEventId);
    if (at < 0) return '';
    const { streamId } = this.#events[at];
    for (const e of this.#events.slice(at + 1)) {
      // Priming events are stored as `{}`: they carry no message to replay.
      if (e.streamId === streamId && e.message?.jsonrpc) await send(e.id, e.message);
    }
    return streamId;
  }
}

const eventStore = new MemoryEventStore();

// ---------------------------------------------------------------------------------------------
// 2026-07-28 requestState: sealed here, opened on the retry. The state travels through the
// client, so it is authenticated: `<base64url JSON>.<base64url HMAC-SHA256>` under a key that
// lives as long as this process. The SDK calls `openState` (its `requestState.verify` hook)
// before the handler runs; a throw there becomes the wire error -32602 "Invalid or expired
// requestState". The handler reads the opened payload through `ctx.mcpReq.requestState()`.
// The same payload seals to the same string for the fixture's whole life (no nonce, no
// clock): the traces of two runs against one fixture then compare equal, and any change the
// gatekeeper makes to a requestState shows in the trace diff.

const STATE_KEY = randomBytes(32);
const mac = (text) => createHmac('sha256', STATE_KEY).update(text).digest();

/** `payload` (an object) → an opaque, tamper-evident requestState string. */
function sealState(payload) {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(body).toString('base64url')}`;
}

/** The payload of a state `sealState` made, or a throw for anything else (edited or foreign). */
function openState(state) {
  const [body, tag, extra] = String(state).split('.');
  if (!body || !tag || extra !== undefined) throw new Error('requestState is not <body>.<tag>');
  const expected = mac(body);
  const given = Buffer.from(tag, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error('requestState MAC mismatch');
  return JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
}

/** The opened state of this round if it was sealed for `tool`; an error if it was sealed for another. */
function stateFor(ctx, tool) {
  const state = ctx.mcpReq.requestState();
  if (state === undefined) return undefined;
  if (state?.tool !== tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `requestState was not issued by ${tool}`);
  return state;
}

// ---------------------------------------------------------------------------------------------
// What the server offers. Inputs are JSON Schema, sent as written.

const NO_ARGS = { type: 'object', properties: {} };
const text = (t) => ({ type: 'text', text: t });
const toolError = (t) => ({ isError: true, content: [text(t)] });

// The `subscriptions/listen` change events go through the 2026 handler's bus (set below).
let modernHandler;

/** Embedded requests of the multi-round-trip (2026-07-28) tools, keyed as the suite expects. */
const ASK = {
  name: () =>
    inputRequired.elicit({
      message: 'Who is calling? Give a name.',
      requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    }),
  confirm: () =>
    inputRequired.elicit({
      message: 'Confirm to continue.',
      requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
    }),
  colour: () =>
    inputRequired.elicit({
      message: 'Which colour do you like best?',
      requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
    }),
  context: () =>
    inputRequired.elicit({
      message: 'Which context should the prompt be written for?',
      requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] },
    }),
  sample: (prompt, maxTokens) =>
    inputRequired.createMessage({ messages: [{ role: 'user', content: text(prompt) }], maxTokens }),
  roots: () => inputRequired.listRoots(),
};

/** The accepted elicitation content's string field `field` under `key`, else undefined. */
function answered(ctx, key, field, type = 'string') {
  const view = inputResponse(ctx.mcpReq.inputResponses, key);
  if (view.kind !== 'elicit' || view.action !== 'accept') return undefined;
  const value = view.content?.[field];
  return typeof value === type ? value : undefined;
}
const sampled = (ctx, key) => {
  const view = inputResponse(ctx.mcpReq.inputResponses, key);
  if (view.kind !== 'sampling') return undefined;
  const c = view.result.content;
  return c?.type === 'text' ? c.text : JSON.stringify(c);
};
const rootsGiven = (ctx, key) => {
  const view = inputResponse(ctx.mcpReq.inputResponses, key);
  return view.kind === 'roots' ? view.roots : undefined;
};

/** Runs a push-style elicitation (2025-11-25 sessions only) and reports what the user answered. */
async function elicit(ctx, server, message, requestedSchema) {
  if (!server.server.getClientCapabilities()?.elicitation) return toolError('The client does not offer elicitation.');
  const answer = await ctx.mcpReq.send({ method: 'elicitation/create', params: { message, requestedSchema } });
  const content = answer.content === undefined ? '' : `, content=${JSON.stringify(answer.content)}`;
  return { content: [text(`Elicitation answered: action=${answer.action}${content}`)] };
}

/**
 * Each tool: [name, description, inputSchema, run(args, ctx, server)]. The 2025-only tools
 * (push-style sampling and elicitation, stream closing) and the 2026-only ones (multi-round
 * trips, listen triggers) are all listed in both revisions; the suite calls each only where
 * it belongs.
 */
const TOOLS = [
  ['test_simple_text', 'Answers with one text block', NO_ARGS, async () => ({
    content: [text('Plain text from the fixture server.')],
  })],
  ['test_image_content', 'Answers with a 1x1 PNG image', NO_ARGS, async () => ({
    content: [{ type: 'image', data: PNG, mimeType: 'image/png' }],
  })],
  ['test_audio_content', 'Answers with a short silent WAV clip', NO_ARGS, async () => ({
    content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }],
  })],
  ['test_embedded_resource', 'Answers with an embedded text resource', NO_ARGS, async () => ({
    content: [{
      type: 'resource',
      resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'Text carried inside an embedded resource.' },
    }],
  })],
  ['test_multiple_content_types', 'Answers with text, an image and an embedded resource', NO_ARGS, async () => ({
    content: [
      text('Three kinds of content follow.'),
      { type: 'image', data: PNG, mimeType: 'image/png' },
      {
        type: 'resource',
        resource: {
          uri: 'test://mixed-content-resource',
          mimeType: 'application/json',
          text: JSON.stringify({ kind: 'fixture', count: 3 }),
        },
      },
    ],
  })],
  // 2025: logging/setLevel filters per session. 2026: the SDK sends log messages only when the
  // request's `_meta` names a log level (the server-stateless scenario calls test_logging_tool
  // without one and expects none).
  ['test_tool_with_logging', 'Sends three info log messages while it runs', NO_ARGS, async (_args, ctx) => {
    await ctx.mcpReq.log('info', 'logging tool: started', 'fixture');
    await sleep(50);
    await ctx.mcpReq.log('info', 'logging tool: working', 'fixture');
    await sleep(50);
    await ctx.mcpReq.log('info', 'logging tool: finished', 'fixture');
    return { content: [text('Sent three log messages.')] };
  }],
  ['test_logging_tool', 'Logs one info message (2026: only if the request asks for a log level)', NO_ARGS, async (_args, ctx) => {
    await ctx.mcpReq.log('info', 'logging tool ran', 'fixture');
    return { content: [text('Logged one message, if a level allowed it.')] };
  }],
  ['test_error_handling', 'Always fails, reporting the failure in the result (isError)', NO_ARGS, async () =>
    toolError('The fixture tool failed on purpose.')],
  ['test_tool_with_progress', 'Reports progress 0, 50 and 100 of 100 when given a progress token', NO_ARGS, async (_args, ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    for (const progress of [0, 50, 100]) {
      if (progressToken !== undefined) {
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
      }
      if (progress < 100) await sleep(50);
    }
    return { content: [text('Progress reported: 0, 50, 100.')] };
  }],
  ['test_sampling', 'Asks the client to sample an LLM with the given prompt (sessionful revision only)', {
    type: 'object',
    properties: { prompt: { type: 'string', description: 'Sent to the LLM as the user turn' } },
    required: ['prompt'],
  }, async ({ prompt }, ctx, server) => {
    if (!server.server.getClientCapabilities()?.sampling) return toolError('The client does not offer sampling.');
    const reply = await ctx.mcpReq.send({
      method: 'sampling/createMessage',
      params: { messages: [{ role: 'user', content: text(String(prompt)) }], maxTokens: 100 },
    });
    const said = reply.content?.type === 'text' ? reply.content.text : JSON.stringify(reply.content);
    return { content: [text(`Sampled (${reply.model}): ${said}`)] };
  }],
  ['test_elicitation', 'Asks the user, through the client, for a name and an email address (sessionful revision only)', {
    type: 'object',
    properties: { message: { type: 'string', description: 'Shown to the user' } },
    required: ['message'],
  }, async ({ message }, ctx, server) =>
    elicit(ctx, server, String(message), {
      type: 'object',
      properties: {
        username: { type: 'string', description: 'A name to use' },
        email: { type: 'string', description: 'An email address' },
      },
      required: ['username', 'email'],
    })],
  ['test_elicitation_sep1034_defaults', 'Elicits a form whose every primitive field has a default (SEP-1034)', NO_ARGS, async (_args, ctx, server) =>
    elicit(ctx, server, 'Fields with defaults', {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'A name', default: 'John Doe' },
        age: { type: 'integer', description: 'An age in years', default: 30 },
        score: { type: 'number', description: 'A score', default: 95.5 },
        status: { type: 'string', description: 'A state', enum: ['active', 'inactive', 'pending'], default: 'active' },
        verified: { type: 'boolean', description: 'Checked or not', default: true },
      },
      required: [],
    })],
  ['test_elicitation_sep1330_enums', 'Elicits a form with each enum schema variant (SEP-1330)', NO_ARGS, async (_args, ctx, server) =>
    elicit(ctx, server, 'Choices of every kind', {
      type: 'object',
      properties: {
        // Single choice, values only.
        untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
        // Single choice, each value with a display title.
        titledSingle: {
          type: 'string',
          oneOf: [
            { const: 'value1', title: 'Value one' },
            { const: 'value2', title: 'Value two' },
            { const: 'value3', title: 'Value three' },
          ],
        },
        // The deprecated way to title values: a parallel enumNames array.
        legacyEnum: { type: 'string', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['First', 'Second', 'Third'] },
        // Several choices, values only.
        untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
        // Several choices, each with a title.
        titledMulti: {
          type: 'array',
          items: {
            anyOf: [
              { const: 'value1', title: 'Pick one' },
              { const: 'value2', title: 'Pick two' },
              { const: 'value3', title: 'Pick three' },
            ],
          },
        },
      },
      required: [],
    })],
  // SEP-1613 ($schema, $defs, $ref, additionalProperties) and SEP-2106 (allOf/anyOf,
  // if/then/else, $anchor): the suite checks that tools/list carries every keyword unchanged.
  ['json_schema_2020_12_tool', 'Declares its input with JSON Schema 2020-12 keywords', {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    $defs: {
      address: {
        $anchor: 'postalAddress',
        type: 'object',
        properties: { street: { type: 'string' }, city: { type: 'string' } },
      },
    },
    properties: {
      name: { type: 'string' },
      address: { $ref: '#/$defs/address' },
      contactMethod: { type: 'string', enum: ['phone', 'email'] },
      phone: { type: 'string' },
      email: { type: 'string' },
    },
    // At least one way to reach the caller …
    allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
    // … and the one named, if one is named.
    if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
    then: { required: ['phone'] },
    else: { required: ['email'] },
    additionalProperties: false,
  }, async (args) => ({ content: [text(`Received ${JSON.stringify(args)}`)] })],
  ['test_reconnection', 'Closes its SSE stream before answering, so the client must resume (SEP-1699, sessionful revision only)', NO_ARGS, async (_args, ctx) => {
    // Offered by the transport only when resumption is possible (event store, and a client
    // on 2025-11-25 or later); otherwise the answer simply comes on the stream.
    if (ctx.http?.closeSSE) {
      await sleep(50);
      ctx.http.closeSSE();
      await sleep(200);
    }
    return { content: [text('Answered after the stream was closed.')] };
  }],

  // ---- 2026-07-28 ----
  // SEP-2243: `region` is mirrored in the Mcp-Param-Region header; the SDK's entry refuses a
  // request whose header and argument disagree (or whose header is missing).
  ['test_x_mcp_header', 'Echoes its region, which travels in the Mcp-Param-Region header too', {
    type: 'object',
    properties: {
      region: { type: 'string', description: 'A region name (also sent as Mcp-Param-Region)', 'x-mcp-header': 'Region' },
      level: { type: 'integer', description: 'Any number; not mirrored in a header' },
    },
  }, async ({ region }) => ({ content: [text(`region=${region ?? '(none)'}`)] })],
  // server-stateless (SEP-2575) calls these three by name.
  ['test_missing_capability', 'Needs sampling from the client: answers -32021 to a client without it', NO_ARGS, async (_args, ctx) => {
    if (sampled(ctx, 'answer') !== undefined) return { content: [text('Sampling answered.')] };
    return inputRequired({ inputRequests: { answer: ASK.sample('Say one word.', 16) } });
  }],
  ['test_streaming_elicitation', 'Answers with a result only: no request of its own on the stream', NO_ARGS, async () => ({
    content: [text('Nothing asked of the client.')],
  })],
  ['test_trigger_tool_change', 'Announces notifications/tools/list_changed on open listen streams', NO_ARGS, async () => {
    modernHandler.notify.toolsChanged();
    return { content: [text('tools/list_changed announced.')] };
  }],
  ['test_trigger_prompt_change', 'Announces notifications/prompts/list_changed on open listen streams', NO_ARGS, async () => {
    modernHandler.notify.promptsChanged();
    return { content: [text('prompts/list_changed announced.')] };
  }],
  // SEP-2322 multi-round trips: each returns `input_required` until the retry carries what it
  // asked for (a wrong or missing answer is asked for again), then completes.
  ['test_input_required_result_elicitation', 'Asks for a name (elicitation) before answering', NO_ARGS, async (_args, ctx) => {
    const name = answered(ctx, 'user_name', 'name');
    if (name === undefined) return inputRequired({ inputRequests: { user_name: ASK.name() } });
    return { content: [text(`Hello, ${name}.`)] };
  }],
  ['test_input_required_result_sampling', 'Asks the client to sample an LLM before answering', NO_ARGS, async (_args, ctx) => {
    const said = sampled(ctx, 'capital_question');
    if (said === undefined) {
      return inputRequired({ inputRequests: { capital_question: ASK.sample('Which city is the capital of France?', 100) } });
    }
    return { content: [text(`The LLM said: ${said}`)] };
  }],
  ['test_input_required_result_list_roots', "Asks for the client's roots before answering", NO_ARGS, async (_args, ctx) => {
    const roots = rootsGiven(ctx, 'client_roots');
    if (roots === undefined) return inputRequired({ inputRequests: { client_roots: ASK.roots() } });
    return { content: [text(`${roots.length} root(s): ${roots.map((r) => r.uri).join(', ')}`)] };
  }],
  ['test_input_required_result_request_state', 'Asks for a confirmation, with sealed requestState', NO_ARGS, async (_args, ctx) => {
    const state = stateFor(ctx, 'request_state');
    const ok = answered(ctx, 'confirm', 'ok', 'boolean');
    if (state === undefined || ok === undefined) {
      return inputRequired({ inputRequests: { confirm: ASK.confirm() }, requestState: sealState({ tool: 'request_state' }) });
    }
    return { content: [text(`state-ok: the requestState was ours and unchanged; confirmed=${ok}`)] };
  }],
  ['test_input_required_result_multiple_inputs', 'Asks for a name, an LLM sample and the roots at once', NO_ARGS, async (_args, ctx) => {
    const state = stateFor(ctx, 'multiple_inputs');
    const name = answered(ctx, 'user_name', 'name');
    const greeting = sampled(ctx, 'greeting');
    const roots = rootsGiven(ctx, 'client_roots');
    if (state === undefined || name === undefined || greeting === undefined || roots === undefined) {
      return inputRequired({
        inputRequests: { user_name: ASK.name(), greeting: ASK.sample('Write a one-line greeting.', 50), client_roots: ASK.roots() },
        requestState: sealState({ tool: 'multiple_inputs' }),
      });
    }
    return { content: [text(`${greeting} (${name}; ${roots.length} root(s))`)] };
  }],
  ['test_input_required_result_multi_round', 'Asks two questions, one per round, the round kept in requestState', NO_ARGS, async (_args, ctx) => {
    const state = stateFor(ctx, 'multi_round');
    const round = state?.round ?? 0;
    if (round === 1) {
      const name = answered(ctx, 'step1', 'name');
      if (name !== undefined) {
        return inputRequired({ inputRequests: { step2: ASK.colour() }, requestState: sealState({ tool: 'multi_round', round: 2, name }) });
      }
    } else if (round === 2) {
      const colour = answered(ctx, 'step2', 'color');
      if (colour !== undefined) return { content: [text(`Three rounds done: ${state.name} likes ${colour}.`)] };
      return inputRequired({ inputRequests: { step2: ASK.colour() }, requestState: sealState(state) });
    }
    return inputRequired({ inputRequests: { step1: ASK.name() }, requestState: sealState({ tool: 'multi_round', round: 1 }) });
  }],
  ['test_input_required_result_tampered_state', 'Asks for a confirmation; refuses a requestState it did not seal', NO_ARGS, async (_args, ctx) => {
    const state = stateFor(ctx, 'tampered_state');
    if (state !== undefined && answered(ctx, 'confirm', 'ok', 'boolean') !== undefined) {
      return { content: [text('The requestState was ours and unchanged.')] };
    }
    return inputRequired({ inputRequests: { confirm: ASK.confirm() }, requestState: sealState({ tool: 'tampered_state' }) });
  }],
  ['test_input_required_result_capabilities', 'Asks only for the kinds of input the client says it offers', NO_ARGS, async (_args, ctx) => {
    if (ctx.mcpReq.inputResponses !== undefined) return { content: [text('Got what was asked for.')] };
    const offered = ctx.mcpReq.envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? {};
    const inputRequests = {
      ...(offered.elicitation && { user_name: ASK.name() }),
      ...(offered.sampling && { greeting: ASK.sample('Write a one-line greeting.', 50) }),
      ...(offered.roots && { client_roots: ASK.roots() }),
    };
    if (Object.keys(inputRequests).length === 0) return { content: [text('The client offers no kind of input; nothing asked.')] };
    return inputRequired({ inputRequests });
  }],
];

const RESOURCES = [
  ['static-text', 'test://static-text', 'A fixed text resource', 'text/plain', { text: 'Fixed text served by the fixture server.' }],
  ['static-binary', 'test://static-binary', 'A fixed binary resource (a 1x1 PNG)', 'image/png', { blob: PNG }],
  ['watched-resource', 'test://watched-resource', 'A resource clients may subscribe to', 'text/plain', { text: 'A resource that can be watched.' }],
];

/** Arguments of a prompt as a JSON Schema: each a required string. */
const stringArgs = (args) => ({
  type: 'object',
  properties: Object.fromEntries(args.map(([name, description]) => [name, { type: 'string', description }])),
  required: args.map(([name]) => name),
});

/** Candidate values offered by completion/complete, filtered by the typed prefix. */
const COMPLETIONS = ['test', 'testing', 'tested', 'paris', 'park', 'party'];

/**
 * A fresh server with everything above. The 2025 wiring makes one per session; the 2026
 * handler one per request (the SDK binds it to the request's revision).
 */
function buildServer() {
  const server = new McpServer(
    { name: 'mcp-gatekeeper-conformance-fixture', version: '2.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {}, // 2025-11-25 (logging/setLevel); 2026 reads the level from each request's _meta
        completions: {},
      },
      requestState: { verify: openState },
    },
  );

  for (const [name, description, schema, run] of TOOLS) {
    server.registerTool(name, { description, inputSchema: fromJsonSchema(schema) }, (args, ctx) => run(args ?? {}, ctx, server));
  }

  for (const [name, uri, description, mimeType, body] of RESOURCES) {
    server.registerResource(name, uri, { description, mimeType }, async () => ({ contents: [{ uri, mimeType, ...body }] }));
  }
  server.registerResource(
    'template-data',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { description: 'JSON data for any id', mimeType: 'application/json' },
    async (uri, { id }) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, fromTemplate: true }) }],
    }),
  );
  // resources/(un)subscribe exist in 2025-11-25 only; the SDK answers them -32601 at 2026.
  const subscriptions = new Set();
  server.server.setRequestHandler('resources/subscribe', async (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', async (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });

  server.registerPrompt('test_simple_prompt', { description: 'A prompt without arguments' }, async () => ({
    messages: [{ role: 'user', content: text('A prompt with no arguments.') }],
  }));
  server.registerPrompt(
    'test_prompt_with_arguments',
    { description: 'A prompt that quotes its two arguments', argsSchema: fromJsonSchema(stringArgs([['arg1', 'The first value'], ['arg2', 'The second value']])) },
    async ({ arg1, arg2 }) => ({ messages: [{ role: 'user', content: text(`First: ${arg1}; second: ${arg2}.`) }] }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    { description: 'A prompt that embeds the resource it is given', argsSchema: fromJsonSchema(stringArgs([['resourceUri', 'The resource to embed']])) },
    async ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded for the prompt.' } } },
        { role: 'user', content: text('Use the resource above.') },
      ],
    }),
  );
  server.registerPrompt('test_prompt_with_image', { description: 'A prompt carrying an image' }, async () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
      { role: 'user', content: text('Describe the image above.') },
    ],
  }));
  // SEP-2322 on prompts/get (2026-07-28): asks for a context before rendering.
  server.registerPrompt('test_input_required_result_prompt', { description: 'A prompt that asks for its context first' }, async (ctx) => {
    const context = answered(ctx, 'user_context', 'context');
    if (context === undefined) return inputRequired({ inputRequests: { user_context: ASK.context() } });
    return { messages: [{ role: 'user', content: text(`Write for this context: ${context}`) }] };
  });

  server.server.setRequestHandler('completion/complete', async (request) => {
    const typed = String(request.params.argument?.value ?? '').toLowerCase();
    const values = COMPLETIONS.filter((v) => v.startsWith(typed));
    return { completion: { values, total: values.length, hasMore: false } };
  });

  return server;
}

// ---------------------------------------------------------------------------------------------
// 2026-07-28: the SDK's per-request handler, strict (2025 traffic never reaches it).

modernHandler = createMcpHandler(() => buildServer(), {
  legacy: 'reject',
  onerror: (err) => console.error(`fixture (2026): ${err.message}`),
});
const serveModern = toNodeHandler(modernHandler);

// ---------------------------------------------------------------------------------------------
// 2025-11-25: sessions keyed by Mcp-Session-Id, each with its own server and transport.

/** sessionId → { transport, server } */
const sessions = new Map();

async function serveLegacy(req, res, body) {
  const sessionId = req.headers['mcp-session-id'];
  if (sessionId !== undefined) {
    const session = sessions.get(sessionId);
    if (!session) return replyError(res, 404, -32001, 'Session not found');
    return session.transport.handleRequest(req, res, body);
  }
  if (req.method !== 'POST') return replyError(res, 400, -32000, 'Bad Request: no Mcp-Session-Id');
  if (!isInitializeRequest(body)) {
    return replyError(res, 400, -32000, 'Bad Request: no Mcp-Session-Id, and not an initialize request', body?.id);
  }

  const session = {};
  session.transport = new NodeStreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore,
    retryInterval: RETRY_MS,
    onsessioninitialized: (id) => sessions.set(id, session),
    onsessionclosed: (id) => sessions.delete(id),
  });
  session.transport.onclose = () => {
    if (session.transport.sessionId) sessions.delete(session.transport.sessionId);
  };
  session.server = buildServer();
  await session.server.connect(session.transport);
  await session.transport.handleRequest(req, res, body);
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** A JSON-RPC error answer; `id` is echoed when the request had a usable one. */
function replyError(res, status, code, message, id) {
  const echo = typeof id === 'string' || typeof id === 'number' ? id : null;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: echo, error: { code, message } }));
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** DNS rebinding protection: Host, and Origin when sent, must name a loopback host (any port). */
function rebindingRefusal(req) {
  const hostname = (value) => {
    try {
      return new URL(`http://${value}`).hostname;
    } catch {
      return null;
    }
  };
  if (!LOOPBACK.has(hostname(req.headers.host ?? ''))) return `Host not allowed: ${req.headers.host}`;
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let originHost;
  try {
    originHost = new URL(origin).hostname;
  } catch {
    originHost = null;
  }
  return LOOPBACK.has(originHost) ? undefined : `Origin not allowed: ${origin}`;
}

/** The request body as text; `undefined` when it exceeds MAX_BODY. */
async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function route(req, res) {
  const { pathname } = new URL(req.url, 'http://localhost');
  if (pathname !== MCP_PATH) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    return res.end('Not found\n');
  }
  const refused = rebindingRefusal(req);
  if (refused) return replyError(res, 403, -32000, refused);

  let body;
  if (req.method === 'POST') {
    const raw = await readBody(req);
    if (raw === undefined) return replyError(res, 413, -32000, 'Request body too large');
    try {
      body = JSON.parse(raw);
    } catch {
      return replyError(res, 400, -32700, 'Parse error: the body is not JSON');
    }
  }
  const header = (name) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const era = classifyInboundRequest({
    httpMethod: req.method,
    protocolVersionHeader: header('mcp-protocol-version'),
    mcpMethodHeader: header('mcp-method'),
    mcpNameHeader: header('mcp-name'),
    body,
  });
  // `modern`, and also a ladder rejection: the 2026 handler answers those itself.
  if (era.kind !== 'legacy') return serveModern(req, res, body);
  return serveLegacy(req, res, body);
}

const listener = http.createServer((req, res) => {
  route(req, res).catch((err) => {
    console.error(`fixture: ${req.method} ${req.url}: ${err?.stack ?? err}`);
    if (!res.headersSent) replyError(res, 500, -32603, 'Internal error');
    else res.destroy();
  });
});

listener.listen(PORT, HOST, () => {
  console.log(`fixture-server listening on http://${HOST}:${listener.address().port}${MCP_PATH}`);
});

async function shutdown() {
  for (const { transport } of sessions.values()) await transport.close().catch(() => {});
  await modernHandler.close().catch(() => {});
  listener.close();
  listener.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
