/* The HTTP server's connection caps (issue 17 items 2 and 7): per remote address and in all,
 * with the bookkeeping that frees a place when its connection ends. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "bot/net/httpd.h"
#include "bot/net/httpd_peers.h"

static struct sockaddr_in v4(const char *ip)
{
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
  return a;
}

static struct sockaddr_in6 v6(const char *ip)
{
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof(a));
  a.sin6_family = AF_INET6;
  assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
  return a;
}

static enum httpd_admit admit4(struct httpd_peers *p, const char *ip)
{
  struct sockaddr_in a = v4(ip);
  return httpd_peers_admit(p, (const struct sockaddr *)&a, sizeof(a));
}

static void test_per_client_cap(void **state)
{
  (void)state;
  struct httpd_peers *p = httpd_peers_new(10, 3);
  int conns[10];
  for (int i = 0; i < 3; i++) {
    assert_int_equal(admit4(p, "192.0.2.1"), HTTPD_ADMIT_OK);
    assert_true(httpd_peers_bind(p, &conns[i]));
  }
  assert_int_equal(admit4(p, "192.0.2.1"), HTTPD_ADMIT_CLIENT_FULL);
  /* another address is not affected */
  assert_int_equal(admit4(p, "192.0.2.2"), HTTPD_ADMIT_OK);
  assert_true(httpd_peers_bind(p, &conns[3]));
  assert_int_equal(httpd_peers_open(p), 4);
  /* one ends: its address may connect again */
  assert_true(httpd_peers_release(p, &conns[1]));
  assert_false(httpd_peers_release(p, &conns[1]));
  assert_int_equal(admit4(p, "192.0.2.1"), HTTPD_ADMIT_OK);
  assert_true(httpd_peers_bind(p, &conns[4]));
  assert_int_equal(admit4(p, "192.0.2.1"), HTTPD_ADMIT_CLIENT_FULL);
  assert_string_equal(httpd_admit_name(HTTPD_ADMIT_CLIENT_FULL), "per_client");
  httpd_peers_free(p);
}

static void test_total_cap(void **state)
{
  (void)state;
  struct httpd_peers *p = httpd_peers_new(4, 64);
  int conns[4];
  char ip[32];
  for (int i = 0; i < 4; i++) {
    snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
    assert_int_equal(admit4(p, ip), HTTPD_ADMIT_OK);
    assert_true(httpd_peers_bind(p, &conns[i]));
  }
  assert_int_equal(admit4(p, "198.51.100.99"), HTTPD_ADMIT_SERVER_FULL);
  assert_int_equal(httpd_peers_open(p), 4);
  assert_true(httpd_peers_release(p, &conns[2]));
  assert_int_equal(admit4(p, "198.51.100.99"), HTTPD_ADMIT_OK);
  assert_string_equal(httpd_admit_name(HTTPD_ADMIT_SERVER_FULL), "server_full");
  httpd_peers_free(p);
}

/* The server failed to set up an admitted connection (no handle ever bound): the next admission
 * takes its place back, so no place leaks. A bind with nothing admitted binds nothing. */
static void test_unbound_admission_is_dropped(void **state)
{
  (void)state;
  struct httpd_peers *p = httpd_peers_new(2, 1);
  int conn;
  assert_int_equal(admit4(p, "192.0.2.7"), HTTPD_ADMIT_OK);
  assert_int_equal(admit4(p, "192.0.2.7"), HTTPD_ADMIT_OK); /* the first was dropped */
  assert_int_equal(httpd_peers_open(p), 1);
  assert_true(httpd_peers_bind(p, &conn));
  assert_false(httpd_peers_bind(p, &conn));
  assert_false(httpd_peers_release(p, NULL));
  assert_true(httpd_peers_release(p, &conn));
  assert_int_equal(httpd_peers_open(p), 0);
  httpd_peers_free(p);
  httpd_peers_free(NULL);
  assert_null(httpd_peers_new(0, 1));
  assert_null(httpd_peers_new(1, 0));
}

/* An IPv4 client counts once whether it comes as IPv4 or IPv4-mapped IPv6. */
static void test_v4_mapped_is_the_same_client(void **state)
{
  (void)state;
  struct httpd_peers *p = httpd_peers_new(8, 2);
  int conns[3];
  assert_int_equal(admit4(p, "203.0.113.5"), HTTPD_ADMIT_OK);
  assert_true(httpd_peers_bind(p, &conns[0]));
  struct sockaddr_in6 m = v6("::ffff:203.0.113.5");
  assert_int_equal(httpd_peers_admit(p, (const struct sockaddr *)&m, sizeof(m)), HTTPD_ADMIT_OK);
  assert_true(httpd_peers_bind(p, &conns[1]));
  assert_int_equal(httpd_peers_admit(p, (const struct sockaddr *)&m, sizeof(m)),
                   HTTPD_ADMIT_CLIENT_FULL);
  assert_int_equal(admit4(p, "203.0.113.5"), HTTPD_ADMIT_CLIENT_FULL);
  struct sockaddr_in6 other = v6("2001:db8::5");
  assert_int_equal(httpd_peers_admit(p, (const struct sockaddr *)&other, sizeof(other)),
                   HTTPD_ADMIT_OK);
  /* a truncated address is one unknown client, not a read past its end */
  assert_int_equal(httpd_peers_admit(p, (const struct sockaddr *)&other, 4), HTTPD_ADMIT_OK);
  httpd_peers_free(p);
}

/* The total cap fits the process's descriptor limit: a low RLIMIT_NOFILE lowers it, so accept()
 * never fails with EMFILE. */
static void test_budget(void **state)
{
  (void)state;
  assert_int_equal(httpd_peers_budget(4096, HTTPD_CONN_MAX, HTTPD_FD_RESERVE), HTTPD_CONN_MAX);
  assert_int_equal(httpd_peers_budget(RLIM_INFINITY, HTTPD_CONN_MAX, HTTPD_FD_RESERVE),
                   HTTPD_CONN_MAX);
  assert_int_equal(httpd_peers_budget(1024, HTTPD_CONN_MAX, HTTPD_FD_RESERVE),
                   1024 - HTTPD_FD_RESERVE);
  assert_int_equal(httpd_peers_budget(100, HTTPD_CONN_MAX, HTTPD_FD_RESERVE), 1);
  assert_true(HTTPD_CONN_MAX < HTTPD_FD_LIMIT);
  assert_true(HTTPD_PER_CLIENT_MAX <= HTTPD_CONN_MAX);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_per_client_cap),
      cmocka_unit_test(test_total_cap),
      cmocka_unit_test(test_unbound_admission_is_dropped),
      cmocka_unit_test(test_v4_mapped_is_the_same_client),
      cmocka_unit_test(test_budget),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
