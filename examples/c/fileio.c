// fileio: state = open files. Several FILE* streams and a raw fd stay open
// across many WASI calls, with reads, writes, seeks, overwrites and appends,
// so a thawed run must restore every descriptor and its file offset; last, a
// scratch file is used after it was unlinked.
// An in-memory copy of log.txt is kept and every read is checked against it.
// Leaves log.txt and second.txt behind in the directory for comparison.
//
// Usage: fileio [dir]   (default /data, which must be a preopened directory)
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECLEN 25  // "rec NNN value=NNNNNNNNNN\n"
#define MAXRECS 40

static char expect[RECLEN * MAXRECS];  // what log.txt should contain
static size_t expect_len;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static uint32_t fnv(const char *p, size_t n) {
  uint32_t h = 2166136261u;
  while (n--) h = (h ^ (uint8_t)*p++) * 16777619u;
  return h;
}

// Format record i into buf (exactly RECLEN bytes, no NUL kept).
static void make_record(char *buf, int i, uint32_t value) {
  char tmp[RECLEN + 1];
  snprintf(tmp, sizeof tmp, "rec %03d value=%010u\n", i, (unsigned)value);
  memcpy(buf, tmp, RECLEN);
}

// Write record i at offset pos (the stream's current position, tracked by the
// caller so no ftell is needed) and mirror it in `expect`.
static void put_record(FILE *f, size_t pos, int i, uint32_t value) {
  char rec[RECLEN];
  make_record(rec, i, value);
  if (fwrite(rec, 1, RECLEN, f) != RECLEN || fflush(f) != 0) die("write log");
  memcpy(expect + pos, rec, RECLEN);
  if (pos + RECLEN > expect_len) expect_len = pos + RECLEN;
}

// Read the whole stream from the start and check it matches `expect`.
static uint32_t verify(FILE *f, const char *label) {
  static char buf[sizeof expect + 1];
  if (fseek(f, 0, SEEK_SET) != 0) die("fseek");
  size_t n = fread(buf, 1, sizeof buf, f);
  if (n != expect_len || memcmp(buf, expect, n) != 0) {
    fprintf(stderr, "fileio: %s: content mismatch (%zu bytes, expected %zu)\n", label, n,
            expect_len);
    exit(1);
  }
  uint32_t h = fnv(buf, n);
  printf("%s: %zu bytes checksum=%08x\n", label, n, h);
  fflush(stdout);
  return h;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/data";
  char logpath[512], secondpath[512];
  snprintf(logpath, sizeof logpath, "%s/log.txt", dir);
  snprintf(secondpath, sizeof secondpath, "%s/second.txt", dir);

  // 1. Create log.txt and write 20 records, flushing each one.
  FILE *log = fopen(logpath, "w+");
  if (!log) die(logpath);
  for (int i = 0; i < 20; i++) {
    put_record(log, (size_t)i * RECLEN, i, (uint32_t)i * 2654435761u);
    if (i % 5 == 4) {
      printf("wrote %d records\n", i + 1);
      fflush(stdout);
    }
  }

  // 2. Seek back to the start and read everything back.
  verify(log, "readback");

  // 3. Seek into the middle and overwrite record 10.
  if (fseek(log, 10 * RECLEN, SEEK_SET) != 0) die("fseek");
  put_record(log, 10 * RECLEN, 10, 4242424242u);
  printf("overwrote record 10\n");
  fflush(stdout);

  // 4. Open second.txt; it stays open while we keep working on log.txt.
  FILE *second = fopen(secondpath, "w");
  if (!second) die(secondpath);
  fprintf(second, "second file, line 1\n");
  fflush(second);

  // 5. Append five more records at the end.
  if (fseek(log, 0, SEEK_END) != 0) die("fseek");
  for (int i = 20; i < 25; i++) put_record(log, (size_t)i * RECLEN, i, (uint32_t)i * 40503u);
  printf("appended 5 records, log is %zu bytes\n", expect_len);
  fflush(stdout);

  // 6. A second, read-only FILE* on the same file sees the same contents.
  FILE *reader = fopen(logpath, "r");
  if (!reader) die(logpath);
  verify(reader, "reader");
  fprintf(second, "second file, line 2\n");
  fflush(second);

  // 7. A raw fd: lseek/read/write record 5, turning its text upper case.
  int fd = open(logpath, O_RDWR);
  if (fd < 0) die(logpath);
  char rec[RECLEN];
  if (lseek(fd, 5 * RECLEN, SEEK_SET) != 5 * RECLEN) die("lseek");
  if (read(fd, rec, RECLEN) != RECLEN) die("read");
  for (int i = 0; i < RECLEN; i++)
    if (rec[i] >= 'a' && rec[i] <= 'z') rec[i] -= 'a' - 'A';
  if (lseek(fd, -RECLEN, SEEK_CUR) != 5 * RECLEN) die("lseek");
  if (write(fd, rec, RECLEN) != RECLEN) die("write");
  memcpy(expect + 5 * RECLEN, rec, RECLEN);
  off_t pos = lseek(fd, 0, SEEK_CUR);
  printf("raw fd: upper-cased record 5, offset now %lld\n", (long long)pos);
  fflush(stdout);

  // 8. Interleave: one more record through the raw fd (at its current offset,
  //    record 6), then re-verify through both streams.
  char rec6[RECLEN];
  make_record(rec6, 6, 666u);
  if (write(fd, rec6, RECLEN) != RECLEN) die("write");
  memcpy(expect + 6 * RECLEN, rec6, RECLEN);
  verify(log, "log");
  verify(reader, "reader");

  // 9. Final lines in second.txt, then close everything.
  for (int i = 3; i <= 5; i++) {
    fprintf(second, "second file, line %d\n", i);
    fflush(second);
  }
  if (close(fd) != 0 || fclose(reader) != 0 || fclose(second) != 0 || fclose(log) != 0)
    die("close");

  // 10. A scratch file unlinked while still open (the tmpfile pattern): no name is
  //     left to re-open it by, so a migration must carry its bytes.
  char scratchpath[512];
  snprintf(scratchpath, sizeof scratchpath, "%s/scratch.tmp", dir);
  FILE *scratch = fopen(scratchpath, "w+");
  if (!scratch) die(scratchpath);
  if (unlink(scratchpath) != 0) die("unlink");
  expect_len = 0;
  for (int i = 0; i < 4; i++) {
    if (fseek(scratch, 0, SEEK_END) != 0) die("fseek");
    put_record(scratch, expect_len, i, (uint32_t)i * 7919u);
    verify(scratch, "scratch");
  }
  if (fclose(scratch) != 0) die("close");
  printf("done\n");
  fflush(stdout);
  return 0;
}
