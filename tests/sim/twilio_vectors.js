#!/usr/bin/env node
// Print X-Twilio-Signature test vectors made by Twilio's own helper library (the pinned `twilio`
// npm package in tests/node), for tests/unit/lib/test_twilio_sig.c:
//   node tests/sim/twilio_vectors.js
// Each vector: the auth token, the URL, the POST body as sent (form-encoded, in order; a name may
// repeat) and getExpectedTwilioSignature(token, url, params), where params is the body parsed the
// way Express does (a repeated name becomes an array).
'use strict';
const path = require('path');
const twilio = require(path.join(__dirname, '..', 'node', 'node_modules', 'twilio'));

const cases = [
  ['12345', 'https://mycompany.com/myapp.php?foo=1&bar=2',
   'CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212'],
  ['tok', 'https://klaxon.example.com/twilio/sms', ''],
  ['tok', 'https://klaxon.example.com/twilio/sms',
   'MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B15005550006&To=%2B15005550001&Body=ack+12'],
  ['s3cr3t', 'http://127.0.0.1:8080/twilio/voice?page=12&k=a%20b',
   'Digits=1&CallSid=CA0123456789abcdef0123456789abcdef&AccountSid=AC0123456789abcdef0123456789abcdef'],
  ['s3cr3t', 'https://klaxon.example.com/twilio/status',
   'Z=last&A=first&Media=b&Media=a&Media=b&Body=caf%C3%A9+%E2%9C%93&Empty='],
  ['another-token', 'https://klaxon.example.com/twilio/status',
   'b=2&a=1&ab=3&a%26b=4&a+b=5&A=6'],
];

function parse(body) {
  const params = {};
  if (!body) return params;
  for (const seg of body.split('&')) {
    if (!seg) continue;
    const eq = seg.indexOf('=');
    const dec = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    const k = dec(eq < 0 ? seg : seg.slice(0, eq));
    const v = eq < 0 ? '' : dec(seg.slice(eq + 1));
    if (k in params) params[k] = [].concat(params[k], v); else params[k] = v;
  }
  return params;
}

for (const [token, url, body] of cases) {
  const sig = twilio.getExpectedTwilioSignature(token, url, parse(body));
  // Checked with validateRequest too: the library's own verifier accepts what it signed.
  if (!twilio.validateRequest(token, sig, url, parse(body))) throw new Error('self-check ' + url);
  console.log(JSON.stringify({token, url, body, sig}));
}
