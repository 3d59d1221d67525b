#!/usr/bin/env node
// The bench's reference bot: a Bolt for JavaScript app (the pinned @slack/bolt of
// tests/node/package-lock.json) in Socket Mode, doing for the bench's envelopes what klaxon does:
//   - `/oncall help` is acked with its answer in the ack's payload ({response_type, text}, the
//     shape klaxon acks with), rendered from a command table like klaxon's (oncall_help.js);
//   - a channel message event is acked (Bolt acks events itself before the listener runs) and
//     read by a message listener.
// Run by tests/bench/bolt_compare.py with the environment klaxon gets: SLACK_APP_TOKEN,
// SLACK_BOT_TOKEN and KLAXON_SLACK_API_URL (the local simulator's Web API base, e.g.
// http://127.0.0.1:PORT/api/). Both of Bolt's clients talk to that URL: the App's WebClient
// (clientOptions.slackApiUrl: auth.test at start) and the SocketModeClient's own WebClient
// (installerOptions.clientOptions.slackApiUrl: apps.connections.open, whose answer names the
// WebSocket URL). SIGTERM and SIGINT stop the app (the socket is closed) and exit 0.
'use strict';

const path = require('node:path');

const modules = path.join(__dirname, '..', 'node', 'node_modules');
const { App, LogLevel } = require(path.join(modules, '@slack', 'bolt'));

const appToken = process.env.SLACK_APP_TOKEN;
const botToken = process.env.SLACK_BOT_TOKEN;
const apiUrl = process.env.KLAXON_SLACK_API_URL;
if (!appToken || !botToken || !apiUrl) {
  console.error('bolt_bot: SLACK_APP_TOKEN, SLACK_BOT_TOKEN and KLAXON_SLACK_API_URL are required');
  process.exit(2);
}
if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(apiUrl)) {
  console.error('bolt_bot: refusing a Slack API URL that is not on loopback: ' + apiUrl);
  process.exit(2);
}

const { answer } = require('./oncall_help.js');

const app = new App({
  token: botToken,
  appToken,
  socketMode: true,
  logLevel: process.env.BOLT_LOG_LEVEL === 'debug' ? LogLevel.DEBUG : LogLevel.WARN,
  clientOptions: { slackApiUrl: apiUrl },
  installerOptions: { clientOptions: { slackApiUrl: apiUrl } },
});

let messages = 0;

app.command('/oncall', async ({ command, ack }) => {
  await ack(answer(command.command, command.text));
});

app.message(async ({ message }) => {
  // klaxon reads every channel message (it records the event's delivery); so does this one.
  if (message.channel && message.ts) messages += 1;
});

app.error(async (error) => {
  console.error('bolt_bot: ' + (error && error.stack ? error.stack : error));
});

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  const timer = setTimeout(() => process.exit(3), 5000);
  try {
    await app.stop();
  } catch (e) {
    console.error('bolt_bot: stop: ' + e);
  }
  clearTimeout(timer);
  console.error(`bolt_bot: ${signal}, stopped after ${messages} messages`);
  process.exit(0);
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

(async () => {
  try {
    await app.start();
    console.error('bolt_bot: connected');
  } catch (e) {
    console.error('bolt_bot: start failed: ' + (e && e.stack ? e.stack : e));
    process.exit(1);
  }
})();
