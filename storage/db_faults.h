/*
 * db_faults.h — storage faults for tests: a SQLite VFS that wraps the default one and, only
 * when KLAXON_TEST_FAULTS is set, makes writes, syncs and locks fail on the database and its
 * WAL. Without the variable nothing is registered and SQLite runs as it always does.
 *
 *   KLAXON_TEST_FAULTS=SPEC         the faults, from the first open on
 *   KLAXON_TEST_FAULTS=@/path/file  SPEC is the file's text, read again whenever it changes
 *                                   (checked every 20 ms), so a test turns faults on and off
 *                                   while the bot runs; an empty or missing file is no fault
 *
 * SPEC is a comma-separated list of:
 *   ioerr[:after=N]  every write (after N more good ones) fails: SQLITE_IOERR_WRITE
 *   full[:after=N]   every write (after N more) fails: SQLITE_FULL (disk full)
 *   fsync            every sync fails: SQLITE_IOERR_FSYNC
 *   busy             every write lock (the WAL's write lock, a RESERVED lock) is refused:
 *                    SQLITE_BUSY, as when another process holds it
 *   torn[:after=N]   the (N+1)th write writes half its bytes, then the process is killed with
 *                    SIGKILL: a torn write at kill -9
 * Counting starts when the spec is (re)loaded. Unknown words are logged and ignored.
 */
#ifndef KX_DB_FAULTS_H
#define KX_DB_FAULTS_H

/* Register the shim as the default VFS when KLAXON_TEST_FAULTS is set (once; thread-safe). */
void db_faults_install(void);

#endif
