#!/usr/bin/env node
// twilio_sim.js — a strict local stand-in for Twilio's REST API (Messages and Calls) and for the
// webhooks Twilio sends back (status callbacks, the call's TwiML fetches, <Gather> digits, an
// inbound SMS), each signed with X-Twilio-Signature by Twilio's own helper library (the pinned
// `twilio` npm package in tests/node), so a signature klaxon accepts here verifies there.
//
//   node tests/sim/twilio_sim.js [--port 0] [--account-sid AC…] [--auth-token T]
//        [--from +15005550006 ...] [--step-ms 20] [--max-seconds 900]
//
// Loopback only (it listens on 127.0.0.1 and sends webhooks to loopback URLs only); exits when
// its stdin closes (the test runner died), after --max-seconds, or on SIGTERM. It prints one
// ready line on stdout: {"ready":true,"port":N,"account_sid":"AC…","auth_token":"…","from":[…]}.
// tests/sim/README.md ("The Twilio stand-in") documents the behaviour and the /_sim/ control API;
// tests/e2e/twilio_stub.py wraps it for the tests.
'use strict';

const http = require('http');
const crypto = require('crypto');
const path = require('path');
const twilio = require(path.join(__dirname, '..', 'node', 'node_modules', 'twilio'));

// ---- options ---------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { port: 0, accountSid: null, authToken: null, from: [], stepMs: 20, maxSeconds: 900 };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--port') { o.port = Number(v); i++; }
    else if (a === '--account-sid') { o.accountSid = v; i++; }
    else if (a === '--auth-token') { o.authToken = v; i++; }
    else if (a === '--from') { o.from.push(v); i++; }
    else if (a === '--step-ms') { o.stepMs = Number(v); i++; }
    else if (a === '--max-seconds') { o.maxSeconds = Number(v); i++; }
    else { process.stderr.write('twilio_sim: unknown option ' + a + '\n'); process.exit(2); }
  }
  o.accountSid = o.accountSid || 'AC' + crypto.randomBytes(16).toString('hex');
  o.authToken = o.authToken || crypto.randomBytes(16).toString('hex');
  if (o.from.length === 0) o.from = ['+15005550006'];
  return o;
}

const opt = parseArgs(process.argv);
const API_VERSION = '2010-04-01';
const MAX_BODY = 64 * 1024;        // a request body we accept (REST and control)
const MAX_RECORDS = 2000;          // messages, calls, webhooks kept
const MAX_DOCUMENTS = 10;          // TwiML documents one call may fetch (Redirect/Gather loops)
const WEBHOOK_TIMEOUT_MS = 5000;   // Twilio waits 15 s; a local test needs less
const E164 = /^\+[1-9][0-9]{1,14}$/;

// ---- state -----------------------------------------------------------------------------------

const state = {
  messages: [],     // outbound messages created through the REST API
  calls: [],        // outbound calls
  webhooks: [],     // every request we sent to klaxon: {kind, sid, url, method, params, signature, status, body}
  requests: [],     // every REST request: {method, path, status, code}
  behaviours: {},   // destination number -> {sms, call, digit, error_code, answered_by}
  inflight: 0,      // webhooks being sent
  failNext: null,   // {status, count, retry_after}: the next REST calls fail so (fault injection)
};

function keep(list, item) {
  list.push(item);
  if (list.length > MAX_RECORDS) list.shift();
  return item;
}

function newSid(prefix) {
  return prefix + crypto.randomBytes(16).toString('hex');
}

function rfc2822(d) {
  return d.toUTCString().replace('GMT', '+0000');
}

// ---- HTTP helpers ----------------------------------------------------------------------------

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new Error('body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// application/x-www-form-urlencoded, strictly: a malformed escape is an error (null).
function parseForm(text) {
  const out = [];
  if (!text) return out;
  for (const seg of text.split('&')) {
    if (!seg) continue;
    const eq = seg.indexOf('=');
    const dec = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    try {
      out.push([dec(eq < 0 ? seg : seg.slice(0, eq)), eq < 0 ? '' : dec(seg.slice(eq + 1))]);
    } catch (e) {
      return null;
    }
  }
  return out;
}

// As Express's body parser gives them to twilio.getExpectedTwilioSignature: a repeated name is
// an array.
function paramsObject(pairs) {
  const o = {};
  for (const [k, v] of pairs) {
    if (Object.prototype.hasOwnProperty.call(o, k)) o[k] = [].concat(o[k], v);
    else o[k] = v;
  }
  return o;
}

function encodeForm(params) {
  return Object.keys(params).map((k) => [].concat(params[k]).map((v) =>
    encodeURIComponent(k) + '=' + encodeURIComponent(v)).join('&')).join('&');
}

function send(res, status, obj, headers) {
  const body = typeof obj === 'string' ? obj : JSON.stringify(obj);
  res.writeHead(status, Object.assign({
    'Content-Type': typeof obj === 'string' ? 'text/plain' : 'application/json',
    'Content-Length': Buffer.byteLength(body),
  }, headers || {}));
  res.end(body);
}

function twilioError(res, status, code, message, headers) {
  send(res, status, {
    code, message, more_info: 'https://www.twilio.com/docs/errors/' + code, status,
  }, headers);
  return { status, code };
}

function isLoopbackUrl(u) {
  try {
    const x = new URL(u);
    return (x.protocol === 'http:' || x.protocol === 'https:') &&
      (x.hostname === '127.0.0.1' || x.hostname === 'localhost' || x.hostname === '[::1]');
  } catch (e) {
    return false;
  }
}

function isUrl(u) {
  try {
    const x = new URL(u);
    return x.protocol === 'http:' || x.protocol === 'https:';
  } catch (e) {
    return false;
  }
}

// POST (or GET) a signed webhook to klaxon; resolves {status, body, contentType} (status 0 with
// error when it could not be sent). Recorded in state.webhooks.
function webhook(kind, sid, url, params, methodName, sign) {
  const method = (methodName || 'POST').toUpperCase();
  let target = url, body = '';
  if (method === 'GET') {
    const q = encodeForm(params);
    target = url + (q ? (url.includes('?') ? '&' : '?') + q : '');
  } else {
    body = encodeForm(params);
  }
  const signature = sign === undefined
    ? twilio.getExpectedTwilioSignature(opt.authToken, target, method === 'GET' ? {} : params)
    : sign;
  const rec = keep(state.webhooks, {
    kind, sid, url: target, method, params, signature, status: null, body: null, error: null,
    at: Date.now(),
  });
  if (!isLoopbackUrl(target)) {
    rec.status = 0;
    rec.error = 'not a loopback URL: the stand-in sends webhooks to 127.0.0.1 only';
    return Promise.resolve(rec);
  }
  state.inflight++;
  return new Promise((resolve) => {
    const headers = {
      'User-Agent': 'TwilioProxy/1.1',
      'Content-Type': 'application/x-www-form-urlencoded',
      'Content-Length': Buffer.byteLength(body),
      'I-Twilio-Idempotency-Token': crypto.randomUUID(),
    };
    if (signature !== null) headers['X-Twilio-Signature'] = signature;
    const req = http.request(target.replace(/^https:/, 'http:'), { method, headers, timeout: WEBHOOK_TIMEOUT_MS }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => { size += c.length; if (size <= MAX_BODY) chunks.push(c); });
      res.on('end', () => {
        rec.status = res.statusCode;
        rec.contentType = res.headers['content-type'] || '';
        rec.body = Buffer.concat(chunks).toString('utf8');
        state.inflight--;
        resolve(rec);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => {
      if (rec.status === null) {
        rec.status = 0;
        rec.error = String(e.message || e);
        state.inflight--;
        resolve(rec);
      }
    });
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- TwiML: a strict little XML parser and the verbs klaxon may use --------------------------

function xmlParse(text) {
  let i = 0;
  const err = (m) => { throw new Error('TwiML: ' + m + ' at offset ' + i); };
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const entity = (s) => s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos|[^;]*);?/g, (m, e) => {
    if (!m.endsWith(';')) err('bad entity ' + m);
    if (e === 'amp') return '&';
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return err('unknown entity &' + e + ';');
  });
  const skipMisc = () => {
    for (;;) {
      ws();
      if (text.startsWith('<!--', i)) {
        const e = text.indexOf('-->', i);
        if (e < 0) err('unterminated comment');
        i = e + 3;
      } else if (text.startsWith('<?', i)) {
        const e = text.indexOf('?>', i);
        if (e < 0) err('unterminated declaration');
        i = e + 2;
      } else if (text.startsWith('<!', i)) {
        err('DOCTYPE not allowed');
      } else return;
    }
  };
  const name = () => {
    const m = /^[A-Za-z_][A-Za-z0-9_.:-]*/.exec(text.slice(i));
    if (!m) err('expected a name');
    i += m[0].length;
    return m[0];
  };
  const element = () => {
    if (text[i] !== '<') err('expected <');
    i++;
    const el = { name: name(), attrs: {}, children: [], text: '' };
    for (;;) {
      ws();
      if (text.startsWith('/>', i)) { i += 2; return el; }
      if (text[i] === '>') { i++; break; }
      const a = name();
      ws();
      if (text[i] !== '=') err('expected = after ' + a);
      i++;
      ws();
      const q = text[i];
      if (q !== '"' && q !== "'") err('unquoted attribute ' + a);
      const e = text.indexOf(q, i + 1);
      if (e < 0) err('unterminated attribute ' + a);
      if (Object.prototype.hasOwnProperty.call(el.attrs, a)) err('duplicate attribute ' + a);
      const raw = text.slice(i + 1, e);
      if (raw.includes('<')) err('< in attribute ' + a);
      el.attrs[a] = entity(raw);
      i = e + 1;
    }
    for (;;) {
      const lt = text.indexOf('<', i);
      if (lt < 0) err('unterminated <' + el.name + '>');
      el.text += entity(text.slice(i, lt));
      i = lt;
      if (text.startsWith('<!--', i)) {
        const e = text.indexOf('-->', i);
        if (e < 0) err('unterminated comment');
        i = e + 3;
      } else if (text.startsWith('<![CDATA[', i)) {
        const e = text.indexOf(']]>', i);
        if (e < 0) err('unterminated CDATA');
        el.text += text.slice(i + 9, e);
        i = e + 3;
      } else if (text.startsWith('</', i)) {
        i += 2;
        const n = name();
        if (n !== el.name) err('</' + n + '> closes <' + el.name + '>');
        ws();
        if (text[i] !== '>') err('expected >');
        i++;
        return el;
      } else {
        el.children.push(element());
      }
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== text.length) err('content after the root element');
  return root;
}

const VERBS = {
  Say: { attrs: ['voice', 'language', 'loop'], children: [], text: true },
  Play: { attrs: ['loop', 'digits'], children: [], text: true },
  Pause: { attrs: ['length'], children: [], text: false },
  Hangup: { attrs: [], children: [], text: false },
  Reject: { attrs: ['reason'], children: [], text: false },
  Redirect: { attrs: ['method'], children: [], text: true },
  Gather: {
    attrs: ['action', 'method', 'numDigits', 'timeout', 'finishOnKey', 'input', 'language',
      'hints', 'speechTimeout', 'actionOnEmptyResult', 'profanityFilter', 'speechModel'],
    children: ['Say', 'Play', 'Pause'], text: false,
  },
};

// Check a parsed document; returns the list of verbs (with nested ones) or throws.
function checkTwiml(root) {
  if (root.name !== 'Response') throw new Error('TwiML: the root is <' + root.name + '>, not <Response>');
  if (Object.keys(root.attrs).length) throw new Error('TwiML: <Response> takes no attributes');
  if (root.text.trim()) throw new Error('TwiML: text directly inside <Response>');
  const check = (el, allowed) => {
    const spec = VERBS[el.name];
    if (!spec || !allowed.includes(el.name)) throw new Error('TwiML: unknown or misplaced verb <' + el.name + '>');
    for (const a of Object.keys(el.attrs))
      if (!spec.attrs.includes(a)) throw new Error('TwiML: <' + el.name + '> has no attribute ' + a);
    if (!spec.text && el.text.trim()) throw new Error('TwiML: <' + el.name + '> takes no text');
    if (spec.text && !el.text.trim()) throw new Error('TwiML: <' + el.name + '> is empty');
    if (el.attrs.method && !['GET', 'POST'].includes(el.attrs.method)) throw new Error('TwiML: method must be GET or POST');
    if (el.name === 'Gather') {
      if (el.attrs.numDigits !== undefined && !/^[1-9][0-9]*$/.test(el.attrs.numDigits)) throw new Error('TwiML: numDigits must be a positive integer');
      if (el.attrs.timeout !== undefined && !/^[0-9]+$/.test(el.attrs.timeout)) throw new Error('TwiML: timeout must be an integer');
      if (el.attrs.input !== undefined && !/^(dtmf|speech|dtmf speech|speech dtmf)$/.test(el.attrs.input)) throw new Error('TwiML: bad input');
    }
    if (el.name === 'Say' && el.attrs.loop !== undefined && !/^[0-9]+$/.test(el.attrs.loop)) throw new Error('TwiML: loop must be an integer');
    if (el.name === 'Pause' && el.attrs.length !== undefined && !/^[0-9]+$/.test(el.attrs.length)) throw new Error('TwiML: length must be an integer');
    for (const c of el.children) check(c, spec.children);
    return {
      verb: el.name, attrs: el.attrs, text: el.text.trim(),
      children: el.children.map((c) => ({ verb: c.name, attrs: c.attrs, text: c.text.trim() })),
    };
  };
  return root.children.map((c) => check(c, ['Say', 'Play', 'Pause', 'Hangup', 'Reject', 'Redirect', 'Gather']));
}

// ---- REST: Messages and Calls ----------------------------------------------------------------

function authorised(req) {
  const h = req.headers.authorization || '';
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(h);
  if (!m) return null;
  const plain = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = plain.indexOf(':');
  if (colon < 0) return null;
  const user = plain.slice(0, colon), pass = plain.slice(colon + 1);
  const ok = user === opt.accountSid && pass.length === opt.authToken.length &&
    crypto.timingSafeEqual(Buffer.from(pass), Buffer.from(opt.authToken));
  return ok ? user : null;
}

function behaviourFor(number) {
  return Object.assign({ sms: 'delivered', call: 'answer', digit: null, error_code: null },
    state.behaviours[number] || {});
}

function messageResource(m) {
  return {
    account_sid: opt.accountSid, api_version: API_VERSION, body: m.body,
    date_created: rfc2822(m.created), date_sent: null, date_updated: rfc2822(m.created),
    direction: 'outbound-api', error_code: null, error_message: null, from: m.from,
    messaging_service_sid: null, num_media: '0', num_segments: String(Math.max(1, Math.ceil(m.body.length / 153))),
    price: null, price_unit: 'USD', sid: m.sid, status: 'queued',
    subresource_uris: { media: `/${API_VERSION}/Accounts/${opt.accountSid}/Messages/${m.sid}/Media.json` },
    to: m.to, uri: `/${API_VERSION}/Accounts/${opt.accountSid}/Messages/${m.sid}.json`,
  };
}

function callResource(c) {
  return {
    account_sid: opt.accountSid, annotation: null, answered_by: null, api_version: API_VERSION,
    caller_name: null, date_created: rfc2822(c.created), date_updated: rfc2822(c.created),
    direction: 'outbound-api', duration: null, end_time: null, forwarded_from: null,
    from: c.from, from_formatted: c.from, group_sid: null, parent_call_sid: null,
    phone_number_sid: 'PN' + crypto.createHash('md5').update(c.from).digest('hex'),
    price: null, price_unit: 'USD', sid: c.sid, start_time: null, status: 'queued',
    subresource_uris: {}, to: c.to, to_formatted: c.to, trunk_sid: null,
    uri: `/${API_VERSION}/Accounts/${opt.accountSid}/Calls/${c.sid}.json`, queue_time: '0',
  };
}

// What a test can make Twilio refuse a destination with (its REST 400s, as documented in
// twilio.com/docs/api/errors): an opted-out recipient, a number that cannot take SMS.
const REFUSALS = {
  21610: 'Attempt to send to unsubscribed recipient',
  21614: "'To' number is not a valid mobile number",
};

function createMessage(res, p) {
  const to = p.To, from = p.From, body = p.Body;
  if (!to) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
  if (!from && !p.MessagingServiceSid) return twilioError(res, 400, 21603, "A 'From' phone number is required.");
  if (!E164.test(to)) return twilioError(res, 400, 21211, "Invalid 'To' Phone Number: " + to);
  const refuse = (state.behaviours[to] || {}).refuse;
  if (refuse) return twilioError(res, 400, Number(refuse), REFUSALS[refuse]);
  if (!E164.test(from)) return twilioError(res, 400, 21212, "Invalid 'From' Phone Number: " + from);
  if (!opt.from.includes(from)) return twilioError(res, 400, 21606, "The From phone number " + from + " is not a valid, SMS-capable inbound phone number or short code for your account.");
  if (!body && !p.MediaUrl) return twilioError(res, 400, 21602, 'Message body is required.');
  if ((body || '').length > 1600) return twilioError(res, 400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
  if (p.StatusCallback !== undefined && !isUrl(p.StatusCallback)) return twilioError(res, 400, 21609, 'Invalid StatusCallback URL: ' + p.StatusCallback);
  const m = keep(state.messages, {
    sid: newSid('SM'), to, from, body: body || '', status_callback: p.StatusCallback || null,
    params: p, status: 'queued', created: new Date(), statuses: ['queued'], error_code: null,
  });
  send(res, 201, messageResource(m));
  runMessage(m);
  return { status: 201 };
}

async function runMessage(m) {
  const b = behaviourFor(m.to);
  const path = {
    delivered: ['sent', 'delivered'], sent: ['sent'], undelivered: ['sent', 'undelivered'],
    failed: ['failed'], queued: [],
  }[b.sms] || ['sent', 'delivered'];
  const base = () => ({
    AccountSid: opt.accountSid, ApiVersion: API_VERSION, From: m.from, MessageSid: m.sid,
    SmsSid: m.sid, To: m.to,
  });
  if (m.status_callback) {
    await sleep(opt.stepMs);
    await webhook('sms-status', m.sid, m.status_callback, Object.assign(base(), { MessageStatus: 'queued', SmsStatus: 'queued' }));
  }
  for (const st of path) {
    await sleep(opt.stepMs);
    m.status = st;
    m.statuses.push(st);
    const params = Object.assign(base(), { MessageStatus: st, SmsStatus: st });
    if (st === 'failed' || st === 'undelivered') {
      m.error_code = String(b.error_code || (st === 'failed' ? 30008 : 30003));
      params.ErrorCode = m.error_code;
    }
    if (m.status_callback) await webhook('sms-status', m.sid, m.status_callback, params);
  }
}

function createCall(res, p) {
  const to = p.To, from = p.From;
  if (!to) return twilioError(res, 400, 21201, "No 'To' number is specified");
  if (!from) return twilioError(res, 400, 21213, "No 'From' number is specified");
  if (!E164.test(to)) return twilioError(res, 400, 21211, "Invalid 'To' Phone Number: " + to);
  if (!E164.test(from)) return twilioError(res, 400, 21212, "Invalid 'From' Phone Number: " + from);
  if (!opt.from.includes(from)) return twilioError(res, 400, 21210, "The source phone number provided, " + from + ", is not yet verified for your account.");
  if (!p.Url && !p.Twiml && !p.ApplicationSid) return twilioError(res, 400, 21205, 'Url parameter is required.');
  if (p.Url !== undefined && !isUrl(p.Url)) return twilioError(res, 400, 21205, 'Invalid Url: ' + p.Url);
  if (p.Method !== undefined && !['GET', 'POST'].includes(p.Method)) return twilioError(res, 400, 21207, 'Invalid Method: ' + p.Method);
  if (p.StatusCallback !== undefined && !isUrl(p.StatusCallback)) return twilioError(res, 400, 21609, 'Invalid StatusCallback URL: ' + p.StatusCallback);
  if (p.StatusCallbackMethod !== undefined && !['GET', 'POST'].includes(p.StatusCallbackMethod)) return twilioError(res, 400, 21208, 'Invalid StatusCallbackMethod');
  const events = (p.StatusCallbackEvent || 'completed').split(/[\s,]+/).filter(Boolean);
  for (const e of events)
    if (!['initiated', 'ringing', 'answered', 'completed'].includes(e)) return twilioError(res, 400, 21626, 'Invalid StatusCallbackEvent: ' + e);
  if (p.MachineDetection !== undefined && !['Enable', 'DetectMessageEnd'].includes(p.MachineDetection)) return twilioError(res, 400, 21626, 'Invalid MachineDetection: ' + p.MachineDetection);
  const c = keep(state.calls, {
    sid: newSid('CA'), to, from, url: p.Url || null, method: p.Method || 'POST', twiml_inline: p.Twiml || null,
    status_callback: p.StatusCallback || null, status_callback_method: p.StatusCallbackMethod || 'POST',
    events, machine_detection: p.MachineDetection || null, params: p, status: 'queued',
    created: new Date(), statuses: ['queued'], answered_by: null, documents: [], digits_sent: [],
    error: null,
  });
  send(res, 201, callResource(c));
  runCall(c);
  return { status: 201 };
}

function callParams(c, status) {
  const p = {
    AccountSid: opt.accountSid, ApiVersion: API_VERSION, CallSid: c.sid, CallStatus: status,
    Called: c.to, Caller: c.from, Direction: 'outbound-api', From: c.from, To: c.to,
  };
  if (c.answered_by) p.AnsweredBy = c.answered_by;
  return p;
}

async function statusCallback(c, event, status, extra) {
  c.status = status;
  c.statuses.push(status);
  if (!c.status_callback || !c.events.includes(event)) return;
  const p = Object.assign(callParams(c, status), {
    CallbackSource: 'call-progress-events', SequenceNumber: String(c.seq = (c.seq || 0)), Timestamp: rfc2822(new Date()),
  }, extra || {});
  c.seq++;
  await webhook('call-status', c.sid, c.status_callback, p, c.status_callback_method);
}

// Fetch a TwiML document and run it; returns when the call ends.
async function runTwiml(c, url, method, extraParams, digit) {
  let next = { url, method, extra: extraParams };
  let pressed = false;
  while (next && c.documents.length < MAX_DOCUMENTS) {
    const params = Object.assign(callParams(c, 'in-progress'), next.extra || {});
    const rec = await webhook('call-twiml', c.sid, next.url, params, next.method);
    const doc = { url: rec.url, method: rec.method, params, status: rec.status, body: rec.body, verbs: null, error: null };
    c.documents.push(doc);
    if (rec.status !== 200) { doc.error = 'HTTP ' + rec.status + (rec.error ? ' ' + rec.error : ''); c.error = doc.error; return; }
    if (!/^(text|application)\/xml\b/.test(rec.contentType || '')) { doc.error = 'content type ' + rec.contentType + ' is not XML'; c.error = doc.error; return; }
    try {
      doc.verbs = checkTwiml(xmlParse(rec.body));
    } catch (e) {
      doc.error = e.message;
      c.error = e.message;
      return;
    }
    const docUrl = rec.url;
    next = null;
    for (const v of doc.verbs) {
      if (v.verb === 'Hangup' || v.verb === 'Reject') return;
      if (v.verb === 'Redirect') {
        next = { url: new URL(v.text, docUrl).toString(), method: v.attrs.method || 'POST', extra: {} };
        break;
      }
      if (v.verb === 'Gather' && digit && !pressed) {
        pressed = true;
        const n = Number(v.attrs.numDigits || 1);
        const digits = String(digit).slice(0, n);
        c.digits_sent.push(digits);
        next = {
          url: new URL(v.attrs.action || docUrl, docUrl).toString(), method: v.attrs.method || 'POST',
          extra: { Digits: digits, FinishedOnKey: '' },
        };
        break;
      }
      // A <Gather> nobody answers times out: the next verb runs (Twilio's rule).
    }
  }
}

async function runCall(c) {
  const b = behaviourFor(c.to);
  await sleep(opt.stepMs);
  await statusCallback(c, 'initiated', 'initiated');
  await sleep(opt.stepMs);
  await statusCallback(c, 'ringing', 'ringing');
  await sleep(opt.stepMs);
  if (['no-answer', 'busy', 'failed'].includes(b.call)) {
    await statusCallback(c, 'completed', b.call, { CallDuration: '0', Duration: '0' });
    return;
  }
  const voicemail = b.call === 'voicemail';
  if (c.machine_detection)
    c.answered_by = voicemail ? (c.machine_detection === 'DetectMessageEnd' ? 'machine_end_beep' : 'machine_start') : (b.answered_by || 'human');
  await statusCallback(c, 'answered', 'in-progress');
  if (c.url) await runTwiml(c, c.url, c.method, {}, voicemail ? null : b.digit);
  await sleep(opt.stepMs);
  await statusCallback(c, 'completed', 'completed', { CallDuration: '12', Duration: '1' });
}

// ---- the control API (/_sim/) ----------------------------------------------------------------

function publicCall(c) {
  return {
    sid: c.sid, to: c.to, from: c.from, url: c.url, method: c.method, status: c.status,
    statuses: c.statuses, status_callback: c.status_callback, events: c.events,
    machine_detection: c.machine_detection, answered_by: c.answered_by, params: c.params,
    documents: c.documents, digits_sent: c.digits_sent, error: c.error,
  };
}

function publicMessage(m) {
  return {
    sid: m.sid, to: m.to, from: m.from, body: m.body, status: m.status, statuses: m.statuses,
    status_callback: m.status_callback, error_code: m.error_code, params: m.params,
    created: m.created.toISOString(),
  };
}

async function control(req, res, url, text) {
  const route = req.method + ' ' + url.pathname;
  let j = {};
  if (text) {
    try { j = JSON.parse(text); } catch (e) { return send(res, 400, { error: 'invalid JSON' }); }
  }
  switch (route) {
    case 'GET /_sim/health':
      return send(res, 200, { ok: true, account_sid: opt.accountSid, auth_token: opt.authToken, from: opt.from, inflight: state.inflight });
    case 'GET /_sim/messages':
      return send(res, 200, state.messages.map(publicMessage));
    case 'GET /_sim/calls':
      return send(res, 200, state.calls.map(publicCall));
    case 'GET /_sim/webhooks':
      return send(res, 200, state.webhooks);
    case 'GET /_sim/requests':
      return send(res, 200, state.requests);
    case 'POST /_sim/reset':
      state.messages = []; state.calls = []; state.webhooks = []; state.requests = []; state.behaviours = {};
      return send(res, 200, { ok: true });
    case 'POST /_sim/behaviour': {
      if (!j.number || !E164.test(j.number)) return send(res, 400, { error: 'number must be E.164' });
      const sms = ['delivered', 'sent', 'undelivered', 'failed', 'queued'];
      const call = ['answer', 'no-answer', 'busy', 'failed', 'voicemail'];
      if (j.sms !== undefined && j.sms !== null && !sms.includes(j.sms)) return send(res, 400, { error: 'sms: one of ' + sms.join(' ') });
      if (j.call !== undefined && j.call !== null && !call.includes(j.call)) return send(res, 400, { error: 'call: one of ' + call.join(' ') });
      if (j.digit !== undefined && j.digit !== null && !/^[0-9*#]{1,8}$/.test(String(j.digit))) return send(res, 400, { error: 'digit: 0-9 * #' });
      const b = state.behaviours[j.number] = Object.assign(state.behaviours[j.number] || {}, {});
      if (j.refuse !== undefined && j.refuse !== null && !REFUSALS[j.refuse]) return send(res, 400, { error: 'refuse: one of ' + Object.keys(REFUSALS).join(' ') });
      for (const k of ['sms', 'call', 'digit', 'error_code', 'answered_by', 'refuse'])
        if (j[k] !== undefined) b[k] = j[k];
      return send(res, 200, behaviourFor(j.number));
    }
    case 'POST /_sim/inbound_sms': {
      // An SMS to one of our numbers, as Twilio posts it to the number's messaging webhook.
      if (!j.url || !j.From || !j.To || j.Body === undefined) return send(res, 400, { error: 'url, From, To, Body' });
      const sid = j.MessageSid || newSid('SM');
      const params = {
        ToCountry: 'US', ToState: '', SmsMessageSid: sid, NumMedia: '0', ToCity: '', FromZip: '',
        SmsSid: sid, FromState: '', SmsStatus: 'received', FromCity: '', Body: String(j.Body),
        FromCountry: 'US', To: j.To, ToZip: '', NumSegments: '1', MessageSid: sid,
        AccountSid: opt.accountSid, From: j.From, ApiVersion: API_VERSION,
      };
      const rec = await webhook('sms-inbound', sid, j.url, params, 'POST');
      return send(res, 200, rec);
    }
    case 'POST /_sim/forged': {
      // A request that did not come from Twilio: signature "absent" (no header), a given string,
      // or signed with another token (token: "…"); params as given.
      if (!j.url || typeof j.params !== 'object') return send(res, 400, { error: 'url, params' });
      let sig;
      if (j.signature === 'absent' || j.signature === undefined) sig = j.token ? twilio.getExpectedTwilioSignature(j.token, j.url, j.params) : null;
      else sig = String(j.signature);
      const rec = await webhook('forged', null, j.url, j.params, j.method || 'POST', sig);
      return send(res, 200, rec);
    }
    case 'POST /_sim/fail_next':
      // The next `count` authorised REST calls answer `status` (429 or 5xx) with Twilio's error.
      if (![429, 500, 502, 503].includes(j.status) || !(j.count > 0)) return send(res, 400, { error: 'status 429|500|502|503, count > 0' });
      state.failNext = { status: j.status, count: j.count, retry_after: j.retry_after || null };
      return send(res, 200, state.failNext);
    case 'POST /_sim/sign':
      // The signature Twilio would send for (url, params): for tests that build requests.
      if (!j.url || typeof j.params !== 'object') return send(res, 400, { error: 'url, params' });
      return send(res, 200, { signature: twilio.getExpectedTwilioSignature(j.token || opt.authToken, j.url, j.params) });
    default:
      return send(res, 404, { error: 'no such control route ' + route });
  }
}

// ---- the server ------------------------------------------------------------------------------

const REST = new RegExp('^/' + API_VERSION.replace(/\./g, '\\.') + '/Accounts/([^/]+)/(Messages|Calls)\\.json$');

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  let text;
  try {
    text = await readBody(req);
  } catch (e) {
    return twilioError(res, 413, 20001, 'Request body too large');
  }
  if (url.pathname.startsWith('/_sim/')) return control(req, res, url, text);
  const rec = keep(state.requests, { method: req.method, path: url.pathname, status: null, code: null, at: Date.now() });
  const done = (r) => { rec.status = r.status; rec.code = r.code || null; };
  const m = REST.exec(url.pathname);
  if (!m) return done(twilioError(res, 404, 20404, 'The requested resource ' + url.pathname + ' was not found'));
  if (req.method !== 'POST') return done(twilioError(res, 405, 20004, 'Method not allowed'));
  const user = authorised(req);
  if (!user) return done(twilioError(res, 401, 20003, 'Authenticate', { 'WWW-Authenticate': 'Basic realm="Twilio API"' }));
  if (m[1] !== user) return done(twilioError(res, 404, 20404, 'The requested resource ' + url.pathname + ' was not found'));
  if (state.failNext && state.failNext.count > 0) {
    const f = state.failNext;
    f.count--;
    if (f.status === 429)
      return done(twilioError(res, 429, 20429, 'Too Many Requests', f.retry_after ? { 'Retry-After': String(f.retry_after) } : {}));
    return done(twilioError(res, f.status, 20500, 'Internal Server Error'));
  }
  const ctype = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  let pairs = [];
  if (text) {
    if (ctype !== 'application/x-www-form-urlencoded') return done(twilioError(res, 400, 20001, 'Content-Type must be application/x-www-form-urlencoded'));
    pairs = parseForm(text);
    if (pairs === null) return done(twilioError(res, 400, 20001, 'Malformed form body'));
  }
  const p = {};
  for (const [k, v] of pairs) p[k] = v; // Twilio takes the last of a repeated scalar
  rec.params = p;
  if (m[2] === 'Messages') return done(createMessage(res, p));
  return done(createCall(res, p));
});

server.on('clientError', (err, socket) => socket.destroy());
server.listen(opt.port, '127.0.0.1', () => {
  const port = server.address().port;
  process.stdout.write(JSON.stringify({ ready: true, port, account_sid: opt.accountSid, auth_token: opt.authToken, from: opt.from }) + '\n');
});

function quit() {
  server.close();
  process.exit(0);
}
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
process.stdin.on('end', quit);
process.stdin.on('error', quit);
process.stdin.resume();
setTimeout(quit, opt.maxSeconds * 1000).unref();
