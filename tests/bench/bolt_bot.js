#!/usr/bin/env node
// The bench's reference bot: a Bolt for JavaScript app (the pinned @slack/bolt of
// tests/node/package-lock.json) in Socket Mode, doing for the bench's envelopes what klaxon does:
//   - `/oncall help` is acked with its answer in the ack's payload ({response_type, text}, the
//     shape klaxon acks with), rendered from a command table like klaxon's;
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

// The /oncall commands, as klaxon's command table lists them (synopsis, what it does).
const ONCALL = [
  ['help', 'this list'],
  ['note [--rota R] TEXT', 'a note for the next handoff (ongoing issue, maintenance)'],
  ['page @user|ROTA [SEVERITY] TEXT', "page someone, or a rota's on-call, by hand"],
  ['test-page', 'send yourself a test page to check delivery'],
  ['pages', 'open pages, who acknowledged them, and how far each SMS, call or push got'],
  ['notify [test METHOD]', 'how klaxon reaches you (your methods and rules); test one: chat, email, push, sms, voice'],
  ['escalate PAGE', 'escalate a page to its next step now (also releases a held page)'],
  ['[who] [ROTA]', 'who is on call now in every rota (primary, secondary, manager, until when)'],
  ['schedule [N] [--rota R]', 'the next N shifts (default 4) with overrides, covers and holidays'],
  ['override @user FROM TO [--rota R] [--secondary]', '@user holds primary (or secondary) from FROM to TO'],
  ['away [@user] FROM TO [--rota R]', "you (or @user) are away: the previous shift's person covers"],
  ['swap @user WEEK [--rota R]', "swap shifts: one of you takes the other's shift WEEK, who takes the first one's next shift"],
  ['changes [--rota R]', 'overrides and absences from now on, with their numbers'],
  ['cancel ID [--rota R]', 'cancel an override or an absence (a swap is two overrides)'],
  ['whoami', 'who klaxon takes you for, how it reaches you, the rotas you may change'],
  ['checks', 'synthetic checks and heartbeats with their states'],
];
const FOOTER =
  "FROM and TO are YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DDTHH:MM (in the rota's time zone), or RFC 3339 " +
  'with an offset (2026-12-01T14:00:00+01:00). A date alone means the whole day: `/oncall away 2026-12-01 ' +
  '2026-12-03` is 1 December 00:00 to 4 December 00:00. WEEK (for swap) is a shift number from `/oncall ' +
  'schedule` (`#5`), a date in that shift (`2026-12-07`) or an ISO week (`2026-W50`).';

function help(command) {
  const lines = [`*${command}* — what I can do:`];
  for (const [synopsis, what] of ONCALL) lines.push(`• \`${command} ${synopsis}\` — ${what}`);
  lines.push(FOOTER);
  return lines.join('\n');
}

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
  const words = command.text.trim().split(/\s+/);
  if (words[0] === 'help') {
    await ack({ response_type: 'ephemeral', text: help(command.command) });
  } else {
    await ack({ response_type: 'ephemeral', text: `I do not know \`${command.command} ${words[0]}\`: try \`${command.command} help\`.` });
  }
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
