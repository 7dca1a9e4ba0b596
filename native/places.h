/*
 * Where this environment keeps things, as src/places.ts computes them: shared by the
 * native front ends (attach.c, spawn.c), each built as one file that includes this.
 */
#ifndef SYMPOSIUM_PLACES_H
#define SYMPOSIUM_PLACES_H
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Node's path.resolve / path.join of absolute paths: one slash between parts, no `.` or
   `..`, no trailing slash. 0 when it does not fit. */
static int normalize(const char *in, char *out, size_t cap) {
  if (in[0] != '/' || cap < 2) return 0;
  size_t len = 0;
  const char *p = in;
  while (*p) {
    while (*p == '/') p++;
    const char *e = p;
    while (*e && *e != '/') e++;
    size_t n = (size_t)(e - p);
    if (n == 0 || (n == 1 && p[0] == '.')) {
    } else if (n == 2 && p[0] == '.' && p[1] == '.') {
      while (len > 0 && out[len - 1] != '/') len--;
      if (len > 0) len--; /* the slash before it */
    } else {
      if (len + 1 + n + 1 > cap) return 0;
      out[len++] = '/';
      memcpy(out + len, p, n);
      len += n;
    }
    p = e;
  }
  if (len == 0) out[len++] = '/';
  out[len] = 0;
  return 1;
}

/* `base` then `rel` (no dots in it), normalized; base must be absolute. */
static int join(const char *base, const char *rel, char *out, size_t cap) {
  char tmp[PATH_MAX + 64];
  if (strlen(base) + 1 + strlen(rel) + 1 > sizeof tmp) return 0;
  snprintf(tmp, sizeof tmp, "%s/%s", base, rel);
  return normalize(tmp, out, cap);
}

/* path.resolve(v): relative to the working directory. */
static int resolve(const char *v, char *out, size_t cap) {
  if (v[0] == '/') return normalize(v, out, cap);
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return 0;
  return join(cwd, v, out, cap);
}

/* checkPrivateDir without its repairs: a real directory of ours, nobody else's (Node
   makes a group-readable one 0700 and refuses a writable one: it does either). */
static int private_dir(const char *dir) {
  struct stat st;
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) return 0;
  return (st.st_mode & 077) == 0;
}

/* The runtime directory this environment uses (Places.runtimeBase). */
static int runtime_base(char *out, size_t cap) {
  const char *v = getenv("SYMPOSIUM_RUNTIME_DIR");
  if (v && *v) return resolve(v, out, cap);
  v = getenv("XDG_RUNTIME_DIR");
  if (v && *v) return v[0] == '/' && join(v, "symposium", out, cap);
  const char *t = getenv("TMPDIR");
  if (!t || !*t) t = getenv("TMP");
  if (!t || !*t) t = getenv("TEMP");
  if (!t || !*t) t = "/tmp";
  if (t[0] != '/') return 0;
  char name[64];
  snprintf(name, sizeof name, "symposium-%u", (unsigned)getuid());
  return join(t, name, out, cap);
}

#endif
