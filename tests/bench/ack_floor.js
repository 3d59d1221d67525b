#!/usr/bin/env node
// The bench's yardstick, not a bot: the least work a Socket Mode client can do for the bench's
// envelopes, so bolt_compare.py can show what the peer (the Python simulator) itself can resolve.
// It opens a connection as Slack's SDKs do (POST apps.connections.open with the app token, then
// the WebSocket of the URL it returns; undici's WebSocket, the transport @slack/socket-mode uses),
// and answers each envelope at once: a slash command with the same help payload as the Bolt bot
// (oncall_help.js), anything else with an empty ack. No framework, no storage, no reconnection.
// Environment as for bolt_bot.js: SLACK_APP_TOKEN, KLAXON_SLACK_API_URL (loopback only).
// SIGTERM closes the socket and exits 0.
'use strict';

const path = require('node:path');

const { WebSocket } = require(path.join(__dirname, '..', 'node', 'node_modules', 'undici'));
const { answer } = require('./oncall_help.js');

const appToken = process.env.SLACK_APP_TOKEN;
const apiUrl = process.env.KLAXON_SLACK_API_URL;
if (!appToken || !apiUrl || !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(apiUrl)) {
  console.error('ack_floor: SLACK_APP_TOKEN and a loopback KLAXON_SLACK_API_URL are required');
  process.exit(2);
}

let ws = null;

async function main() {
  const r = await fetch(new URL('apps.connections.open', apiUrl), {
    method: 'POST',
    headers: { Authorization: `Bearer ${appToken}`, 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  const body = await r.json();
  if (!body.ok || !body.url) throw new Error('apps.connections.open: ' + JSON.stringify(body));
  ws = new WebSocket(body.url);
  ws.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') return;
    let env;
    try {
      env = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!env.envelope_id) return; // hello, disconnect
    const ack = { envelope_id: env.envelope_id };
    if (env.type === 'slash_commands' && env.accepts_response_payload) {
      ack.payload = answer(env.payload.command, env.payload.text);
    }
    ws.send(JSON.stringify(ack));
  });
  ws.addEventListener('close', () => {
    if (!stopping) process.exit(1);
  });
}

let stopping = false;
function stop() {
  stopping = true;
  if (ws) ws.close(1000);
  setTimeout(() => process.exit(0), 200);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

main().catch((e) => {
  console.error('ack_floor: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
