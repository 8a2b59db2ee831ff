#!/usr/bin/env node
// Our MCP fixture server for the official conformance suite's *server* scenarios
// (`conformance server --url …`). Built on the official TypeScript SDK: the low-level `Server`
// (so every tool schema goes out exactly as written here, e.g. JSON Schema 2020-12 keywords)
// behind the SDK's Streamable HTTP transport, with stateful sessions and an in-memory event
// store (SSE priming events, `retry:`, resumption with Last-Event-ID).
//
// It exists to run the suite directly and then through the gatekeeper, so that every
// difference between the two runs is the gatekeeper's doing. It serves on loopback only.
//
// Usage: node fixture-server.mjs [PORT]   (or FIXTURE_PORT; 0 / unset = an ephemeral port)
// Prints one line once it accepts connections:  fixture-server listening on http://127.0.0.1:PORT/mcp

import { randomUUID } from 'node:crypto';
import { deflateSync, crc32 } from 'node:zlib';

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  LATEST_PROTOCOL_VERSION,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  LoggingLevelSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  UnsubscribeRequestSchema,
  isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';

const HOST = '127.0.0.1';
const PORT = Number(process.argv[2] ?? process.env.FIXTURE_PORT ?? 0);
/** Suggested client reconnection delay, sent as `retry:` in priming events. */
const RETRY_MS = 500;

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
// Resumability: an in-memory event store shared by all sessions. Event ids are
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
// What the server offers. Each tool: its listing (name, description, inputSchema) and a
// handler `(args, ctx) => CallToolResult`, where ctx = { extra, session }.

const noArgs = { type: 'object', properties: {} };

/** A notification on the stream of the request being handled (not the standalone GET one). */
const notify = (extra, method, params) => extra.sendNotification({ method, params });

const LOG_LEVELS = LoggingLevelSchema.options; // debug … emergency, least severe first

/** Sends a log message on the request's stream unless the session's level filters it out. */
async function log(ctx, level, data) {
  const threshold = ctx.session.logLevel;
  if (threshold && LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(threshold)) return;
  await notify(ctx.extra, 'notifications/message', { level, logger: 'fixture', data });
}

const TOOLS = [
  {
    name: 'test_simple_text',
    description: 'Answers with one text block',
    inputSchema: noArgs,
    run: async () => ({ content: [{ type: 'text', text: 'Plain text from the fixture server.' }] }),
  },
  {
    name: 'test_image_content',
    description: 'Answers with a 1x1 PNG image',
    inputSchema: noArgs,
    run: async () => ({ content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] }),
  },
  {
    name: 'test_audio_content',
    description: 'Answers with a short silent WAV clip',
    inputSchema: noArgs,
    run: async () => ({ content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] }),
  },
  {
    name: 'test_embedded_resource',
    description: 'Answers with an embedded text resource',
    inputSchema: noArgs,
    run: async () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'Text carried inside an embedded resource.',
          },
        },
      ],
    }),
  },
  {
    name: 'test_multiple_content_types',
    description: 'Answers with text, an image and an embedded resource',
    inputSchema: noArgs,
    run: async () => ({
      content: [
        { type: 'text', text: 'Three kinds of content follow.' },
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
    }),
  },
  {
    name: 'test_tool_with_logging',
    description: 'Sends three info log messages while it runs',
    inputSchema: noArgs,
    run: async (_args, ctx) => {
      await log(ctx, 'info', 'logging tool: started');
      await sleep(50);
      await log(ctx, 'info', 'logging tool: working');
      await sleep(50);
      await log(ctx, 'info', 'logging tool: finished');
      return { content: [{ type: 'text', text: 'Sent three log messages.' }] };
    },
  },
  {
    name: 'test_error_handling',
    description: 'Always fails, reporting the failure in the result (isError)',
    inputSchema: noArgs,
    run: async () => ({
      isError: true,
      content: [{ type: 'text', text: 'The fixture tool failed on purpose.' }],
    }),
  },
  {
    name: 'test_tool_with_progress',
    description: 'Reports progress 0, 50 and 100 of 100 when given a progress token',
    inputSchema: noArgs,
    run: async (_args, { extra }) => {
      const progressToken = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progressToken !== undefined) {
          await notify(extra, 'notifications/progress', { progressToken, progress, total: 100 });
        }
        if (progress < 100) await sleep(50);
      }
      return { content: [{ type: 'text', text: 'Progress reported: 0, 50, 100.' }] };
    },
  },
  {
    name: 'test_sampling',
    description: 'Asks the client to sample an LLM with the given prompt',
    inputSchema: {
      type: 'object',
      properties: { prompt: { type: 'string', description: 'Sent to the LLM as the user turn' } },
      required: ['prompt'],
    },
    run: async ({ prompt }, ctx) => {
      if (!ctx.session.server.getClientCapabilities()?.sampling) {
        return toolError('The client does not offer sampling.');
      }
      const reply = await ctx.extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: {
            messages: [{ role: 'user', content: { type: 'text', text: String(prompt) } }],
            maxTokens: 100,
          },
        },
        CreateMessageResultSchema,
      );
      const text = reply.content?.type === 'text' ? reply.content.text : JSON.stringify(reply.content);
      return { content: [{ type: 'text', text: `Sampled (${reply.model}): ${text}` }] };
    },
  },
  {
    name: 'test_elicitation',
    description: 'Asks the user, through the client, for a name and an email address',
    inputSchema: {
      type: 'object',
      properties: { message: { type: 'string', description: 'Shown to the user' } },
      required: ['message'],
    },
    run: async ({ message }, ctx) =>
      elicit(ctx, String(message), {
        type: 'object',
        properties: {
          username: { type: 'string', description: 'A name to use' },
          email: { type: 'string', description: 'An email address' },
        },
        required: ['username', 'email'],
      }),
  },
  {
    name: 'test_elicitation_sep1034_defaults',
    description: 'Elicits a form whose every primitive field has a default (SEP-1034)',
    inputSchema: noArgs,
    run: async (_args, ctx) =>
      elicit(ctx, 'Fields with defaults', {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'A name', default: 'John Doe' },
          age: { type: 'integer', description: 'An age in years', default: 30 },
          score: { type: 'number', description: 'A score', default: 95.5 },
          status: {
            type: 'string',
            description: 'A state',
            enum: ['active', 'inactive', 'pending'],
            default: 'active',
          },
          verified: { type: 'boolean', description: 'Checked or not', default: true },
        },
        required: [],
      }),
  },
  {
    name: 'test_elicitation_sep1330_enums',
    description: 'Elicits a form with each enum schema variant (SEP-1330)',
    inputSchema: noArgs,
    run: async (_args, ctx) =>
      elicit(ctx, 'Choices of every kind', {
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
          legacyEnum: {
            type: 'string',
            enum: ['opt1', 'opt2', 'opt3'],
            enumNames: ['First', 'Second', 'Third'],
          },
          // Several choices, values only.
          untitledMulti: {
            type: 'array',
            items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          },
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
      }),
  },
  {
    name: 'json_schema_2020_12_tool',
    description: 'Declares its input with JSON Schema 2020-12 keywords ($schema, $defs, $ref)',
    inputSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: {
        address: {
          type: 'object',
          properties: { street: { type: 'string' }, city: { type: 'string' } },
        },
      },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    },
    run: async (args) => ({ content: [{ type: 'text', text: `Received ${JSON.stringify(args)}` }] }),
  },
  {
    name: 'test_reconnection',
    description: 'Closes its SSE stream before answering, so the client must resume (SEP-1699)',
    inputSchema: noArgs,
    run: async (_args, { extra }) => {
      // Offered by the transport only when resumption is possible (event store, and a
      // client on 2025-11-25 or later); otherwise the answer simply comes on the stream.
      if (extra.closeSSEStream) {
        await sleep(50);
        extra.closeSSEStream();
        await sleep(200);
      }
      return { content: [{ type: 'text', text: 'Answered after the stream was closed.' }] };
    },
  },
];

const toolError = (text) => ({ isError: true, content: [{ type: 'text', text }] });

/** Runs elicitation/create on the request's stream and reports what the user answered. */
async function elicit(ctx, message, requestedSchema) {
  if (!ctx.session.server.getClientCapabilities()?.elicitation) {
    return toolError('The client does not offer elicitation.');
  }
  const answer = await ctx.extra.sendRequest(
    { method: 'elicitation/create', params: { message, requestedSchema } },
    ElicitResultSchema,
  );
  const content = answer.content === undefined ? '' : `, content=${JSON.stringify(answer.content)}`;
  return { content: [{ type: 'text', text: `Elicitation answered: action=${answer.action}${content}` }] };
}

const RESOURCES = [
  {
    uri: 'test://static-text',
    name: 'static-text',
    description: 'A fixed text resource',
    mimeType: 'text/plain',
    read: () => ({ text: 'Fixed text served by the fixture server.' }),
  },
  {
    uri: 'test://static-binary',
    name: 'static-binary',
    description: 'A fixed binary resource (a 1x1 PNG)',
    mimeType: 'image/png',
    read: () => ({ blob: PNG }),
  },
  {
    uri: 'test://watched-resource',
    name: 'watched-resource',
    description: 'A resource clients may subscribe to',
    mimeType: 'text/plain',
    read: () => ({ text: 'A resource that can be watched.' }),
  },
];

/** `test://template/{id}/data` — the one resource template. */
const TEMPLATE = {
  uriTemplate: 'test://template/{id}/data',
  name: 'template-data',
  description: 'JSON data for any id',
  mimeType: 'application/json',
  match: (uri) => /^test:\/\/template\/([^/]+)\/data$/.exec(uri)?.[1],
  read: (id) => ({ text: JSON.stringify({ id, fromTemplate: true }) }),
};

const PROMPTS = [
  {
    name: 'test_simple_prompt',
    description: 'A prompt without arguments',
    arguments: [],
    get: () => [{ role: 'user', content: { type: 'text', text: 'A prompt with no arguments.' } }],
  },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt that quotes its two arguments',
    arguments: [
      { name: 'arg1', description: 'The first value', required: true },
      { name: 'arg2', description: 'The second value', required: true },
    ],
    get: ({ arg1, arg2 }) => [
      { role: 'user', content: { type: 'text', text: `First: ${arg1}; second: ${arg2}.` } },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt that embeds the resource it is given',
    arguments: [{ name: 'resourceUri', description: 'The resource to embed', required: true }],
    get: ({ resourceUri }) => [
      {
        role: 'user',
        content: {
          type: 'resource',
          resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded for the prompt.' },
        },
      },
      { role: 'user', content: { type: 'text', text: 'Use the resource above.' } },
    ],
  },
  {
    name: 'test_prompt_with_image',
    description: 'A prompt carrying an image',
    arguments: [],
    get: () => [
      { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Describe the image above.' } },
    ],
  },
];

/** Candidate values offered by completion/complete, filtered by the typed prefix. */
const COMPLETIONS = ['test', 'testing', 'tested', 'paris', 'park', 'party'];

// ---------------------------------------------------------------------------------------------
// One SDK Server per session.

/** @returns {Server} a server wired to `session` (which it fills in: logLevel, subscriptions). */
function createServer(session) {
  const server = new Server(
    { name: 'mcp-gatekeeper-conformance-fixture', version: '1.0.0' },
    {
      capabilities: {
        tools: {},
        resources: { subscribe: true },
        prompts: {},
        logging: {},
        completions: {},
      },
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: TOOLS.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = TOOLS.find((t) => t.name === request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    return tool.run(request.params.arguments ?? {}, { extra, session });
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: RESOURCES.map(({ uri, name, description, mimeType }) => ({ uri, name, description, mimeType })),
  }));

  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: TEMPLATE.uriTemplate,
        name: TEMPLATE.name,
        description: TEMPLATE.description,
        mimeType: TEMPLATE.mimeType,
      },
    ],
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const { uri } = request.params;
    const fixed = RESOURCES.find((r) => r.uri === uri);
    if (fixed) return { contents: [{ uri, mimeType: fixed.mimeType, ...fixed.read() }] };
    const id = TEMPLATE.match(uri);
    if (id !== undefined) return { contents: [{ uri, mimeType: TEMPLATE.mimeType, ...TEMPLATE.read(id) }] };
    throw new McpError(-32002, `Resource not found: ${uri}`); // the spec's "resource not found"
  });

  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    session.subscriptions.add(request.params.uri);
    return {};
  });

  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    session.subscriptions.delete(request.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: PROMPTS.map(({ name, description, arguments: args }) => ({ name, description, arguments: args })),
  }));

  server.setRequestHandler(GetPromptRequestSchema, async (request) => {
    const prompt = PROMPTS.find((p) => p.name === request.params.name);
    if (!prompt) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
    const args = request.params.arguments ?? {};
    const missing = prompt.arguments.filter((a) => a.required && args[a.name] === undefined);
    if (missing.length) {
      throw new McpError(ErrorCode.InvalidParams, `Missing arguments: ${missing.map((a) => a.name).join(', ')}`);
    }
    return { description: prompt.description, messages: prompt.get(args) };
  });

  server.setRequestHandler(CompleteRequestSchema, async (request) => {
    const typed = String(request.params.argument?.value ?? '').toLowerCase();
    const values = COMPLETIONS.filter((v) => v.startsWith(typed));
    return { completion: { values, total: values.length, hasMore: false } };
  });

  // Replaces the SDK's built-in handler so the level lives with the session we filter by.
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    session.logLevel = request.params.level;
    return {};
  });

  return server;
}

// ---------------------------------------------------------------------------------------------
// HTTP: POST / GET / DELETE on /mcp, sessions keyed by Mcp-Session-Id.

/** sessionId → { transport, server, protocolVersion, logLevel, subscriptions } */
const sessions = new Map();

// The SDK's Express app: JSON body parsing, and a Host check that refuses any Host other
// than localhost / 127.0.0.1 / [::1] (any port): DNS rebinding protection.
const app = createMcpExpressApp({ host: HOST });

// The same protection for Origin: a browser page on another site is refused (403).
app.use((req, res, next) => {
  const origin = req.headers.origin;
  if (origin === undefined) return next();
  let hostname;
  try {
    hostname = new URL(origin).hostname;
  } catch {
    hostname = null;
  }
  if (['localhost', '127.0.0.1', '[::1]'].includes(hostname)) return next();
  res.status(403).json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: `Origin not allowed: ${origin}` } });
});

const jsonRpcError = (res, status, message) =>
  res.status(status).json({ jsonrpc: '2.0', id: null, error: { code: -32000, message } });

/**
 * A session speaks the protocol revision it negotiated. A later request announcing an older
 * revision in MCP-Protocol-Version (the suite's SSE scenarios send 2025-03-26 on a 2025-11-25
 * session) is served as the session's revision, so the SDK transport's revision-dependent
 * behaviour (priming events, closing a stream for polling) follows the session.
 */
function pinProtocolVersion(req, session) {
  const raw = req.rawHeaders; // what the SDK transport reads the headers from
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === 'mcp-protocol-version' && raw[i + 1] < session.protocolVersion) {
      raw[i + 1] = session.protocolVersion;
    }
  }
}

app.post('/mcp', async (req, res) => {
  const sessionId = req.headers['mcp-session-id'];
  if (sessionId !== undefined) {
    const session = sessions.get(sessionId);
    if (!session) return jsonRpcError(res, 404, 'Session not found');
    pinProtocolVersion(req, session);
    return session.transport.handleRequest(req, res, req.body);
  }
  if (!isInitializeRequest(req.body)) {
    return jsonRpcError(res, 400, 'Bad Request: no Mcp-Session-Id, and not an initialize request');
  }

  const requested = req.body.params.protocolVersion;
  const session = {
    protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION,
    logLevel: undefined,
    subscriptions: new Set(),
  };
  session.transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore,
    retryInterval: RETRY_MS,
    onsessioninitialized: (id) => sessions.set(id, session),
    onsessionclosed: (id) => sessions.delete(id),
  });
  session.transport.onclose = () => {
    if (session.transport.sessionId) sessions.delete(session.transport.sessionId);
  };
  session.server = createServer(session);
  await session.server.connect(session.transport);
  await session.transport.handleRequest(req, res, req.body);
});

/** GET opens the session's standalone SSE stream (or resumes one); DELETE ends the session. */
const existingSession = async (req, res) => {
  const session = sessions.get(req.headers['mcp-session-id']);
  if (!session) return jsonRpcError(res, req.headers['mcp-session-id'] ? 404 : 400, 'Unknown or missing Mcp-Session-Id');
  pinProtocolVersion(req, session);
  await session.transport.handleRequest(req, res);
};
app.get('/mcp', existingSession);
app.delete('/mcp', existingSession);

const listener = app.listen(PORT, HOST, () => {
  console.log(`fixture-server listening on http://${HOST}:${listener.address().port}/mcp`);
});

async function shutdown() {
  for (const { transport } of sessions.values()) await transport.close().catch(() => {});
  listener.close();
  listener.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
