/* lib/twilio_sig.c: X-Twilio-Signature, checked against vectors made by Twilio's own helper
 * library. The vectors were printed by `node tests/sim/twilio_vectors.js`, which calls the pinned
 * npm package's twilio.getExpectedTwilioSignature(token, url, params) (tests/node, twilio 6.3.1)
 * on each body parsed as Express parses it (a repeated name becomes an array), and checks each
 * with twilio.validateRequest. The first is the example of Twilio's security documentation
 * (token 12345, https://mycompany.com/myapp.php?foo=1&bar=2, signature GvWf1cFY/…); the "ruby"
 * vector is a real Twilio voice request kept in twilio-ruby's spec/util/request_validator_spec.rb.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/form.h"
#include "lib/kx.h"
#include "lib/twilio_sig.h"

struct vector {
  const char *token, *url, *body, *sig;
};

static const struct vector vectors[] = {
    {"12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
     "CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%"
     "2B18005551212",
     "GvWf1cFY/Q7PnoempGyD5oXAezc="},
    {"tok", "https://klaxon.example.com/twilio/sms", "", "hxg0DXHEr3xYvsCLteFjGEi8UrA="},
    {"tok", "https://klaxon.example.com/twilio/sms",
     "MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B15005550006&To=%2B15005550001&Body=ack+"
     "12",
     "erJC/S6THtKt3vFNpZoR0tVgvBI="},
    {"s3cr3t", "http://127.0.0.1:8080/twilio/voice?page=12&k=a%20b",
     "Digits=1&CallSid=CA0123456789abcdef0123456789abcdef&AccountSid="
     "AC0123456789abcdef0123456789abcdef",
     "0O0CXLac5BMuN/AtXFogZ3VitVw="},
    /* Repeated names (values sorted, a repeated value once), UTF-8, an empty value. */
    {"s3cr3t", "https://klaxon.example.com/twilio/status",
     "Z=last&A=first&Media=b&Media=a&Media=b&Body=caf%C3%A9+%E2%9C%93&Empty=",
     "4oBwUg0PMQ/7N1P6yRN7nnj4nSk="},
    /* Sorting by bytes: "A" < "a" < "a b" < "a&b" < "ab" < "b". */
    {"another-token", "https://klaxon.example.com/twilio/status", "b=2&a=1&ab=3&a%26b=4&a+b=5&A=6",
     "TP0RNbl1CYsv+Y1/XSPRJ9Ocv8o="},
    /* ruby */
    {"2bd9e9638872de601313dc77410d3b23", "http://twiliotests.heroku.com/validate/voice",
     "ToState=California&CalledState=California&Direction=inbound&FromState=CA&AccountSid="
     "ACba8bc05eacf94afdae398e642c9cc32d&Caller=%2B14153595711&CallerZip=94108&CallerCountry=US&"
     "From=%2B14153595711&FromCity=SAN+FRANCISCO&CallerCity=SAN+FRANCISCO&To=%2B14157669926&"
     "FromZip=94108&FromCountry=US&ToCity=&CallStatus=ringing&CalledCity=&CallerState=CA&CalledZip="
     "&ToZip=&ToCountry=US&CallSid=CA136d09cd59a3c0ec8dbff44da5c03f31&CalledCountry=US&Called=%"
     "2B14157669926&ApiVersion=2010-04-01&ApplicationSid=AP44efecad51364e80b133bb7c07eb8204",
     "oVb2kXoVy8GEfwBDjR8bk/ZZ6eA="},
};

static struct form *parse(const char *body)
{
  struct form *f = NULL;
  assert_int_equal(form_parse(body, strlen(body), &f), 0);
  return f;
}

static void test_vectors(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    const struct vector *v = &vectors[i];
    struct form *f = parse(v->body);
    char sig[TWILIO_SIG_LEN + 1];
    assert_int_equal(twilio_sig_compute(v->token, v->url, f, sig), 0);
    assert_string_equal(sig, v->sig);
    assert_true(twilio_sig_ok(v->token, v->url, f, v->sig));
    form_free(f);
  }
}

static void test_refusals(void **state)
{
  (void)state;
  const struct vector *v = &vectors[2];
  struct form *f = parse(v->body);
  assert_true(twilio_sig_ok(v->token, v->url, f, v->sig));
  /* Another token, URL, scheme, query, or a changed parameter: refused. */
  assert_false(twilio_sig_ok("tok2", v->url, f, v->sig));
  assert_false(twilio_sig_ok(v->token, "https://klaxon.example.com/twilio/sms2", f, v->sig));
  assert_false(twilio_sig_ok(v->token, "http://klaxon.example.com/twilio/sms", f, v->sig));
  assert_false(twilio_sig_ok(v->token, "https://klaxon.example.com/twilio/sms?x=1", f, v->sig));
  struct form *g = parse(
      "MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B15005550006&To=%2B15005550001&Body="
      "ack+"
      "13");
  assert_false(twilio_sig_ok(v->token, v->url, g, v->sig));
  form_free(g);
  /* A parameter moved into the query is not the same request. */
  g = parse("From=%2B15005550006&To=%2B15005550001&Body=ack+12");
  assert_false(twilio_sig_ok(v->token,
                             "https://klaxon.example.com/twilio/"
                             "sms?MessageSid=SM0123456789abcdef0123456789abcdef",
                             g, v->sig));
  form_free(g);
  /* The header: empty, missing, truncated, padded, another case, a prefix of it. */
  assert_false(twilio_sig_ok(v->token, v->url, f, ""));
  assert_false(twilio_sig_ok(v->token, v->url, f, NULL));
  assert_false(twilio_sig_ok(v->token, v->url, f, "erJC/S6THtKt3vFNpZoR0tVgvBI"));
  assert_false(twilio_sig_ok(v->token, v->url, f, "erJC/S6THtKt3vFNpZoR0tVgvBI=="));
  assert_false(twilio_sig_ok(v->token, v->url, f, "ERJC/S6THtKt3vFNpZoR0tVgvBI="));
  assert_false(twilio_sig_ok(NULL, v->url, f, v->sig));
  assert_false(twilio_sig_ok("", v->url, f, v->sig));
  assert_false(twilio_sig_ok(v->token, NULL, f, v->sig));
  char sig[TWILIO_SIG_LEN + 1];
  assert_int_equal(twilio_sig_compute("", v->url, f, sig), KX_EINVAL);
  form_free(f);
}

static void test_ports(void **state)
{
  (void)state;
  /* Signed without a port: accepted with the scheme's default port. twilio-node's validateRequest
   * also tries the URL with its port removed, whatever the port: so do we (parity with the
   * library the stand-in signs with), which is why :8443 passes too. */
  const struct vector *v = &vectors[2];
  struct form *f = parse(v->body);
  assert_true(twilio_sig_ok(v->token, "https://klaxon.example.com:443/twilio/sms", f, v->sig));
  assert_true(twilio_sig_ok(v->token, "https://klaxon.example.com:8443/twilio/sms", f, v->sig));
  assert_false(twilio_sig_ok(v->token, "https://klaxon.example.org:443/twilio/sms", f, v->sig));
  char sig[TWILIO_SIG_LEN + 1];
  assert_int_equal(twilio_sig_compute(v->token, "http://u@[::1]:80/x", f, sig), 0);
  assert_true(twilio_sig_ok(v->token, "http://u@[::1]/x", f, sig));
  assert_false(twilio_sig_ok(v->token, "http://u@[::1]:8080/x", f, sig));
  form_free(f);
  /* Signed with a port that is not the default (127.0.0.1:8080): only that URL. */
  const struct vector *w = &vectors[3];
  f = parse(w->body);
  assert_true(twilio_sig_ok(w->token, w->url, f, w->sig));
  assert_true(
      twilio_sig_ok(w->token, "http://127.0.0.1:8080/twilio/voice?page=12&k=a%20b", f, w->sig));
  assert_false(twilio_sig_ok(w->token, "http://127.0.0.1/twilio/voice?page=12&k=a%20b", f, w->sig));
  form_free(f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_ports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
