#include "storage/db_faults.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

#define SPEC_MAX 256
#define RELOAD_EVERY_NS (20LL * 1000 * 1000)

struct fault {
  bool on;
  long after; /* good writes left before it fires */
};

static struct {
  pthread_mutex_t mu;
  const char *env;  /* the variable's value */
  const char *file; /* after '@', or NULL */
  struct timespec mtime;
  off_t size;
  bool present;
  long long checked_ns;
  char spec[SPEC_MAX];
  struct fault ioerr, full, torn;
  bool fsync, busy;
} F = {.mu = PTHREAD_MUTEX_INITIALIZER};

static sqlite3_vfs *real;
static sqlite3_vfs shim;

struct shim_file {
  sqlite3_file base;
  sqlite3_file *real; /* allocated right after this struct */
  bool target;        /* the main database or its WAL */
};

static long long mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void parse(const char *spec)
{
  memset(&F.ioerr, 0, sizeof(F.ioerr));
  memset(&F.full, 0, sizeof(F.full));
  memset(&F.torn, 0, sizeof(F.torn));
  F.fsync = F.busy = false;
  snprintf(F.spec, sizeof(F.spec), "%s", spec);
  char copy[SPEC_MAX];
  snprintf(copy, sizeof(copy), "%s", spec);
  char *save = NULL;
  for (char *w = strtok_r(copy, ", \t\r\n", &save); w; w = strtok_r(NULL, ", \t\r\n", &save)) {
    long after = 0;
    char *colon = strchr(w, ':');
    if (colon) {
      *colon = '\0';
      if (strncmp(colon + 1, "after=", 6) == 0)
        after = strtol(colon + 7, NULL, 10);
    }
    struct fault *f = strcmp(w, "ioerr") == 0  ? &F.ioerr
                      : strcmp(w, "full") == 0 ? &F.full
                      : strcmp(w, "torn") == 0 ? &F.torn
                                               : NULL;
    if (f) {
      f->on = true;
      f->after = after < 0 ? 0 : after;
    } else if (strcmp(w, "fsync") == 0) {
      F.fsync = true;
    } else if (strcmp(w, "busy") == 0) {
      F.busy = true;
    } else {
      LOG_WARN("db", "test_fault_unknown", "word=%.40s", w);
    }
  }
  LOG_WARN("db", "test_faults", "spec=\"%.200s\"", F.spec[0] ? F.spec : "none");
}

/* With F.mu held: read the control file again when it changed. */
static void reload(void)
{
  if (!F.file)
    return;
  long long now = mono_ns();
  if (now - F.checked_ns < RELOAD_EVERY_NS)
    return;
  F.checked_ns = now;
  struct stat st;
  bool present = stat(F.file, &st) == 0;
  if (present == F.present &&
      (!present || (st.st_mtim.tv_sec == F.mtime.tv_sec && st.st_mtim.tv_nsec == F.mtime.tv_nsec &&
                    st.st_size == F.size)))
    return;
  F.present = present;
  char spec[SPEC_MAX] = "";
  if (present) {
    F.mtime = st.st_mtim;
    F.size = st.st_size;
    FILE *fp = fopen(F.file, "r");
    if (fp) {
      size_t n = fread(spec, 1, sizeof(spec) - 1, fp);
      spec[n] = '\0';
      (void)fclose(fp);
    }
  }
  parse(spec);
}

/* Does this fault fire now? Counts a good write down. */
static bool fires(struct fault *f)
{
  if (!f->on)
    return false;
  if (f->after > 0) {
    f->after--;
    return false;
  }
  return true;
}

/* ---- the file methods: faults on the target files, everything else passed through ---------- */

#define REAL(p) (((struct shim_file *)(p))->real)

static int x_close(sqlite3_file *p)
{
  int rc = REAL(p)->pMethods ? REAL(p)->pMethods->xClose(REAL(p)) : SQLITE_OK;
  return rc;
}

static int x_read(sqlite3_file *p, void *buf, int n, sqlite3_int64 off)
{
  return REAL(p)->pMethods->xRead(REAL(p), buf, n, off);
}

static int x_write(sqlite3_file *p, const void *buf, int n, sqlite3_int64 off)
{
  struct shim_file *s = (struct shim_file *)p;
  if (s->target) {
    pthread_mutex_lock(&F.mu);
    reload();
    bool torn = fires(&F.torn), ioerr = !torn && fires(&F.ioerr),
         full = !torn && !ioerr && fires(&F.full);
    pthread_mutex_unlock(&F.mu);
    if (torn) {
      (void)s->real->pMethods->xWrite(s->real, buf, n / 2, off);
      kill(getpid(), SIGKILL);
      pause();
    }
    if (ioerr)
      return SQLITE_IOERR_WRITE;
    if (full)
      return SQLITE_FULL;
  }
  return s->real->pMethods->xWrite(s->real, buf, n, off);
}

static int x_truncate(sqlite3_file *p, sqlite3_int64 size)
{
  return REAL(p)->pMethods->xTruncate(REAL(p), size);
}

static int x_sync(sqlite3_file *p, int flags)
{
  struct shim_file *s = (struct shim_file *)p;
  if (s->target) {
    pthread_mutex_lock(&F.mu);
    reload();
    bool fail = F.fsync;
    pthread_mutex_unlock(&F.mu);
    if (fail)
      return SQLITE_IOERR_FSYNC;
  }
  return s->real->pMethods->xSync(s->real, flags);
}

static int x_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
  return REAL(p)->pMethods->xFileSize(REAL(p), size);
}

static bool busy_now(void)
{
  pthread_mutex_lock(&F.mu);
  reload();
  bool busy = F.busy;
  pthread_mutex_unlock(&F.mu);
  return busy;
}

static int x_lock(sqlite3_file *p, int level)
{
  struct shim_file *s = (struct shim_file *)p;
  if (s->target && level >= SQLITE_LOCK_RESERVED && busy_now())
    return SQLITE_BUSY;
  return s->real->pMethods->xLock(s->real, level);
}

static int x_unlock(sqlite3_file *p, int level)
{
  return REAL(p)->pMethods->xUnlock(REAL(p), level);
}

static int x_check_reserved(sqlite3_file *p, int *out)
{
  return REAL(p)->pMethods->xCheckReservedLock(REAL(p), out);
}

static int x_file_control(sqlite3_file *p, int op, void *arg)
{
  return REAL(p)->pMethods->xFileControl(REAL(p), op, arg);
}

static int x_sector_size(sqlite3_file *p)
{
  return REAL(p)->pMethods->xSectorSize(REAL(p));
}

static int x_device_characteristics(sqlite3_file *p)
{
  return REAL(p)->pMethods->xDeviceCharacteristics(REAL(p));
}

static int x_shm_map(sqlite3_file *p, int pg, int pgsz, int extend, void volatile **out)
{
  return REAL(p)->pMethods->xShmMap(REAL(p), pg, pgsz, extend, out);
}

/* WAL mode: a writer takes the WAL's write lock (slot 0) exclusively through xShmLock. */
static int x_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
  struct shim_file *s = (struct shim_file *)p;
  if (s->target && offset == 0 && (flags & SQLITE_SHM_LOCK) && (flags & SQLITE_SHM_EXCLUSIVE) &&
      busy_now())
    return SQLITE_BUSY;
  return s->real->pMethods->xShmLock(s->real, offset, n, flags);
}

static void x_shm_barrier(sqlite3_file *p)
{
  REAL(p)->pMethods->xShmBarrier(REAL(p));
}

static int x_shm_unmap(sqlite3_file *p, int del)
{
  return REAL(p)->pMethods->xShmUnmap(REAL(p), del);
}

static int x_fetch(sqlite3_file *p, sqlite3_int64 off, int n, void **out)
{
  return REAL(p)->pMethods->xFetch(REAL(p), off, n, out);
}

static int x_unfetch(sqlite3_file *p, sqlite3_int64 off, void *ptr)
{
  return REAL(p)->pMethods->xUnfetch(REAL(p), off, ptr);
}

static const sqlite3_io_methods methods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

static int x_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p, int flags, int *out_flags)
{
  (void)vfs;
  struct shim_file *s = (struct shim_file *)p;
  s->real = (sqlite3_file *)(s + 1);
  s->target = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0;
  p->pMethods = NULL;
  int rc = real->xOpen(real, name, s->real, flags, out_flags);
  if (s->real->pMethods)
    p->pMethods = &methods; /* xClose must run even when the open failed half way */
  return rc;
}

static int x_delete(sqlite3_vfs *v, const char *name, int sync)
{
  (void)v;
  return real->xDelete(real, name, sync);
}

static int x_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
  (void)v;
  return real->xAccess(real, name, flags, out);
}

static int x_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
  (void)v;
  return real->xFullPathname(real, name, n, out);
}

static void *x_dlopen(sqlite3_vfs *v, const char *name)
{
  (void)v;
  return real->xDlOpen(real, name);
}

static void x_dlerror(sqlite3_vfs *v, int n, char *out)
{
  (void)v;
  real->xDlError(real, n, out);
}

static void (*x_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
  (void)v;
  return real->xDlSym(real, h, sym);
}

static void x_dlclose(sqlite3_vfs *v, void *h)
{
  (void)v;
  real->xDlClose(real, h);
}

static int x_randomness(sqlite3_vfs *v, int n, char *out)
{
  (void)v;
  return real->xRandomness(real, n, out);
}

static int x_sleep(sqlite3_vfs *v, int us)
{
  (void)v;
  return real->xSleep(real, us);
}

static int x_current_time(sqlite3_vfs *v, double *out)
{
  (void)v;
  return real->xCurrentTime(real, out);
}

static int x_get_last_error(sqlite3_vfs *v, int n, char *out)
{
  (void)v;
  return real->xGetLastError ? real->xGetLastError(real, n, out) : 0;
}

static int x_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
  (void)v;
  return real->xCurrentTimeInt64(real, out);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void install(void)
{
  const char *env = getenv("KLAXON_TEST_FAULTS");
  if (!env || !*env)
    return;
  real = sqlite3_vfs_find(NULL);
  if (!real)
    return;
  shim = (sqlite3_vfs){
      .iVersion = 2,
      .szOsFile = (int)sizeof(struct shim_file) + real->szOsFile,
      .mxPathname = real->mxPathname,
      .zName = "klaxon-faults",
      .xOpen = x_open,
      .xDelete = x_delete,
      .xAccess = x_access,
      .xFullPathname = x_full_pathname,
      .xDlOpen = x_dlopen,
      .xDlError = x_dlerror,
      .xDlSym = x_dlsym,
      .xDlClose = x_dlclose,
      .xRandomness = x_randomness,
      .xSleep = x_sleep,
      .xCurrentTime = x_current_time,
      .xGetLastError = x_get_last_error,
      .xCurrentTimeInt64 = x_current_time_int64,
  };
  pthread_mutex_lock(&F.mu);
  F.env = env;
  if (env[0] == '@') {
    F.file = env + 1;
    F.checked_ns = mono_ns() - RELOAD_EVERY_NS;
    F.present = false;
    reload();
  } else {
    parse(env);
  }
  pthread_mutex_unlock(&F.mu);
  sqlite3_vfs_register(&shim, 1);
  LOG_WARN("db", "test_faults_installed", "note=\"KLAXON_TEST_FAULTS is set: for tests only\"");
}

void db_faults_install(void)
{
  pthread_once(&once, install);
}
