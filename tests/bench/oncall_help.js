// The answer to `/oncall help` of the bench's Node clients (bolt_bot.js, ack_floor.js): the
// /oncall commands as klaxon's command table lists them (synopsis, what it does), rendered the
// way klaxon renders its help (about 1.9 KB of mrkdwn).
'use strict';

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

// The ack payload for a slash command's text: the help for `help`, else a pointer to it.
function answer(command, text) {
  const word = String(text || '').trim().split(/\s+/)[0];
  if (word === 'help') return { response_type: 'ephemeral', text: help(command) };
  return { response_type: 'ephemeral', text: `I do not know \`${command} ${word}\`: try \`${command} help\`.` };
}

module.exports = { help, answer };
