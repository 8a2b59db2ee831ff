#!/usr/bin/env node
// A loopback HTTP forwarder that adds `Authorization: Bearer <token>` to every request: the
// conformance CLI cannot send a token, and the gatekeeper refuses requests without one.
//
// Everything else passes as it came — method, path, Host, Origin, MCP headers, bodies — and
// both directions are streamed chunk by chunk (no buffering), so SSE events reach the client
// when the gatekeeper sends them and a client that hangs up is seen upstream at once.
//
// The token is minted here: HS256 over {"user_id":"conf","role":ROLE,"username":"conformance",
// "exp":now+3600} with JWT_SECRET, as the web app in front of the gatekeeper would.
//
// Environment:
//   FORWARD_TO        the gatekeeper's base URL, e.g. http://127.0.0.1:8080 (required)
//   ROLE              the role claim (required)
//   JWT_SECRET        the gatekeeper's HMAC secret (required)
//   FORWARDER_PORT    where to listen on 127.0.0.1 (default 0: an ephemeral port)
//   FORWARDER_TRACE   a file: one JSON line per exchange (request and response heads, the
//                     first 64 KiB of each body), to see exactly what the gatekeeper answered
// Prints one line once it accepts connections:  forwarder listening on http://127.0.0.1:PORT

import { createHmac } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import http from 'node:http';

const target = new URL(required('FORWARD_TO'));
const role = required('ROLE');
const secret = required('JWT_SECRET');
const port = Number(process.env.FORWARDER_PORT ?? 0);
const tracePath = process.env.FORWARDER_TRACE;
const TRACE_BODY_LIMIT = 64 * 1024;

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`forwarder: ${name} must be set`);
    process.exit(2);
  }
  return value;
}

const b64url = (data) => Buffer.from(data).toString('base64url');

/** An HS256 JWT for `claims`. */
function signJwt(claims) {
  const signingInput = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

// One token for the forwarder's life (an hour is far longer than a suite run).
const token = signJwt({
  user_id: 'conf',
  role,
  username: 'conformance',
  exp: Math.floor(Date.now() / 1000) + 3600,
});

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection: never forwarded. Node frames
// each side itself (Content-Length when given, else chunked).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Raw [name, value, …] header pairs minus hop-by-hop ones, names' case and order kept. */
function endToEnd(rawHeaders, drop = []) {
  const out = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (!HOP_BY_HOP.has(name) && !drop.includes(name)) out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return out;
}

/** Keeps the first TRACE_BODY_LIMIT bytes of a body for the trace. */
class Capture {
  chunks = [];
  size = 0;
  total = 0;
  add(chunk) {
    this.total += chunk.length;
    if (this.size < TRACE_BODY_LIMIT) {
      const part = chunk.subarray(0, TRACE_BODY_LIMIT - this.size);
      this.chunks.push(part);
      this.size += part.length;
    }
  }
  text() {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  const reqBody = new Capture();
  const resBody = new Capture();
  let upstreamRes;
  let traced = false;

  // The client's Authorization, if any, is replaced by ours.
  const headers = endToEnd(req.rawHeaders, ['authorization']);
  headers.push('Authorization', `Bearer ${token}`);

  const upstream = http.request({
    host: target.hostname,
    port: target.port,
    method: req.method,
    path: req.url,
    headers, // an array keeps the client's Host as sent (the gatekeeper judges Host/Origin)
    setHost: false,
  });

  function trace(outcome) {
    if (!tracePath || traced) return;
    traced = true;
    const record = {
      at: new Date(started).toISOString(),
      ms: Date.now() - started,
      outcome,
      request: { method: req.method, url: req.url, headers: req.headers, body: reqBody.text(), bytes: reqBody.total },
      response: upstreamRes && {
        status: upstreamRes.statusCode,
        headers: upstreamRes.headers,
        body: resBody.text(),
        bytes: resBody.total,
      },
    };
    appendFileSync(tracePath, JSON.stringify(record) + '\n');
  }

  upstream.on('response', (ures) => {
    upstreamRes = ures;
    res.writeHead(ures.statusCode, ures.statusMessage, endToEnd(ures.rawHeaders));
    res.flushHeaders(); // an SSE stream's head goes out before its first event
    ures.on('data', (chunk) => resBody.add(chunk));
    ures.on('end', () => trace('complete'));
    ures.on('error', () => res.destroy());
    ures.pipe(res); // chunk by chunk, with backpressure
  });

  upstream.on('error', (err) => {
    trace(`upstream error: ${err.message}`);
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`forwarder: ${err.message}\n`);
    } else {
      res.destroy();
    }
  });

  req.on('data', (chunk) => reqBody.add(chunk));
  req.pipe(upstream);

  // The client went away before the answer ended (e.g. it cancelled an SSE reader): hang up
  // upstream too, as the client's own connection would have.
  res.on('close', () => {
    if (!res.writableFinished) {
      trace('client closed');
      upstream.destroy();
    }
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`forwarder listening on http://127.0.0.1:${server.address().port} -> ${target.origin} as ${role}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
