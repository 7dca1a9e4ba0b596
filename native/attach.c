/*
 * symposium-attach: the native front end of `agent attach` (bin/symposium-mcp starts it).
 *
 * Node's start-up is most of an attach (~40 ms of ~80 here); the common case needs none
 * of it: find the session's socket in agent-sessions.json, make the terminal raw, hand it
 * to the supervisor (protocol.md §8.6) and wait for the end. This does exactly that, with
 * the same bytes as src/backends/pty/attach-terminal.ts in hand-over mode, and nothing
 * else: everything it does not handle goes to the Node CLI, before this process has
 * drawn anything, by exec'ing `node BIN agent attach ARGS...` with the user's arguments
 * unchanged (and SYMPOSIUM_NATIVE_CLIENT=0, so nothing can come back here). Node then
 * gives the exact error messages, the relaying mode, tmux sessions, legacy ids...
 *
 *   argv[1]   the real path of bin/symposium-mcp (BIN)
 *   argv[2..] the user's arguments: `agent attach ...`
 *
 * Hand-over to Node: an option not known here, --help, --print, stdin not a terminal or
 * not stdout's terminal, SYMPOSIUM_ATTACH_RELAY=1, an id or detach key Node would refuse
 * or read otherwise, a sessions file or home that is missing, odd or not private, a record
 * that is not a Running pty session with a socket of ours where this environment puts
 * them, a failed connect, anything before the welcome but the welcome, and a welcome that
 * says the supervisor did not take the terminal (it then drew nothing: §8.6).
 *
 * Built by scripts/build-relay.js with the plain C compiler and no library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "places.h"

/* ---- limits and constants (the Node side's names in brackets) ---------------------- */

#define MAX_FRAME (16u << 20)          /* protocol.md §2: a larger header is an error */
#define MAX_ID 64                      /* src/ids.ts */
#define MAX_SOCKET_PATH 107            /* Linux sun_path without its NUL [MAX_SOCKET_PATH] */
#define MAX_SESSIONS_FILE (64u << 20)  /* larger: Node reads it (and says what is wrong) */
#define MAX_JSON_DEPTH 256             /* deeper: Node decides */
#define MAX_MSGPACK_DEPTH 64           /* deeper nesting: a malformed frame */
#define MAX_HINT 1024                  /* hello.terminal.hint, protocol.md §6 */
#define WELCOME_WAIT_MS 5000           /* the Node client's connect timeout */
#define RELEASE_WAIT_MS 1000           /* [RELEASE_WAIT_MS] a signal's wait for the let-go */
#define MAX_SAFE_INTEGER 9007199254740991ULL
#define DEFAULT_DETACH_KEY 0x1c        /* Ctrl-\ */
#define PROTOCOL_VERSION 1
#define CLIENT_NAME "symposium-mcp/native-attach"

/* src/protocol/messages.ts FEATURES: what the Node client says it speaks, the same list. */
static const char *const FEATURES[] = {"snapshot-seq", "read-only", "resync", "requests", "queue", "wait", "terminal", "key-modes", "redraw", "key-names", "records-attach"};

/* src/terminal-modes.ts */
#define ON_ENTER "\x1b[22;0t"
#define TITLE_RESTORE "\x1b[23;0t"
#define LEGACY_KEY_RESET "\x1b[<u\x1b[>4;0m"
#define MODES_OFF                                                                                     \
  "\x1b[?1l\x1b>\x1b[?66l\x1b[?2004l\x1b[4l\x1b[20l\x1b[?6l\x1b[?45l\x1b[?1004l\x1b[?7h"            \
  "\x1b[?9l\x1b[?1000l\x1b[?1001l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1016l" \
  "\x1b[0 q\x1b]112\x07\x1b[?25h\x1b[0m\x1b]8;;\x1b\\\x1b(B\x1b)B\x1b*B\x1b+B\x0f\x1b[r"
#define ON_LEAVE "\x1b[?1049l" MODES_OFF TITLE_RESTORE

/* ---- state -------------------------------------------------------------------------- */

static int g_argc;
static char **g_argv;
static struct termios saved_tio; /* the terminal as found, put back on leaving */
static int terminal_raw;         /* we changed it */
static sigset_t old_mask;        /* the signal mask we were started with, for the exec */
static int sock = -1;

static volatile sig_atomic_t got_winch, got_term, got_hup;

/* ---- handing over to Node ------------------------------------------------------------- */

/* Puts back what we changed of the terminal, as the Node client does when its connect fails. */
static void write_all(int fd, const void *data, size_t len);
static void undo_terminal(void) {
  if (!terminal_raw) return;
  write_all(1, TITLE_RESTORE, sizeof TITLE_RESTORE - 1);
  tcsetattr(0, TCSADRAIN, &saved_tio);
  terminal_raw = 0;
}

/* Runs the Node CLI on the user's arguments: everything this client does not handle. */
static void __attribute__((noreturn)) hand_over(void) {
  if (sock >= 0) close(sock);
  undo_terminal();
  /* What exec keeps of ours must be what we were given: the mask, the signals' actions. */
  signal(SIGPIPE, SIG_DFL);
  signal(SIGWINCH, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  setenv("SYMPOSIUM_NATIVE_CLIENT", "0", 1);
  char **args = calloc((size_t)g_argc + 1, sizeof *args);
  if (args) {
    args[0] = "node";
    for (int i = 1; i < g_argc; i++) args[i] = g_argv[i];
    args[g_argc] = NULL;
    execvp("node", args);
  }
  fprintf(stderr, "symposium-mcp: cannot start node: %s\n", strerror(errno));
  _exit(127);
}

/* ---- small helpers --------------------------------------------------------------------- */

static void write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd w = {fd, POLLOUT, 0};
        poll(&w, 1, 100);
        continue;
      }
      return; /* the terminal is gone: nothing to tell anyone */
    }
    p += n;
    len -= (size_t)n;
  }
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int valid_id(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > MAX_ID) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return 0;
  }
  return 1;
}

/* parseDetachKey (src/client/verbs/attach.ts); -1 where Node would refuse or read it otherwise. */
static int parse_detach_key(const char *spec) {
  size_t a = 0, b = strlen(spec);
  for (size_t i = 0; i < b; i++)
    if ((unsigned char)spec[i] >= 0x80) return -1; /* Unicode spaces and letters: Node's business */
  while (a < b && strchr(" \t\n\v\f\r", spec[a])) a++;
  while (b > a && strchr(" \t\n\v\f\r", spec[b - 1])) b--;
  const char *s = spec + a;
  size_t n = b - a, pre;
  if (n >= 2 && (s[0] == 'C' || s[0] == 'c') && s[1] == '-') pre = 2;
  else if (n >= 1 && s[0] == '^') pre = 1;
  else if (n >= 5 && strncasecmp(s, "ctrl", 4) == 0 && (s[4] == '-' || s[4] == '+')) pre = 5;
  else return -1;
  if (n != pre + 1) return -1;
  unsigned char c = (unsigned char)s[pre];
  if (c == '\n' || c == '\r') return -1; /* `.` does not match a line end */
  unsigned char up = (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
  if (up >= 0x40 && up <= 0x5f) return up - 0x40;
  if (c == '?') return 0x7f;
  return -1;
}

/* detachKeyName (src/attach-hint.ts). */
static void detach_key_name(int key, char *out, size_t cap) {
  if (key == 0x7f) snprintf(out, cap, "Ctrl-?");
  else if (key < 0x20) {
    char c = (char)(key + 0x40);
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    snprintf(out, cap, "Ctrl-%c", c);
  } else snprintf(out, cap, "0x%x", key);
}

/* ---- agent-sessions.json: a strict reader of what src/store/codec.ts accepts --------- */

/* Anything it does not accept as Node would (or is not sure of) ends in hand_over(). */
typedef struct {
  const unsigned char *p, *end;
  int depth;
} Json;

static void jws(Json *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int hex4(const unsigned char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/*
 * A string at j->p (its opening quote); its UTF-8 bytes into out (up to cap-1, NUL-ended),
 * `*len` the full length (more than cap-1: truncated). `*odd`: it holds a NUL or a lone
 * surrogate, which no name of ours holds. Returns 0 when it is not valid JSON.
 */
static int jstr(Json *j, char *out, size_t cap, size_t *len, int *odd) {
  size_t n = 0;
  *odd = 0;
  if (j->p >= j->end || *j->p != '"') return 0;
  j->p++;
  for (;;) {
    if (j->p >= j->end) return 0;
    unsigned char c = *j->p++;
    unsigned char buf[4];
    size_t k = 0;
    if (c == '"') break;
    if (c < 0x20) return 0;
    if (c != '\\') {
      buf[k++] = c;
    } else {
      if (j->p >= j->end) return 0;
      unsigned char e = *j->p++;
      switch (e) {
        case '"': case '\\': case '/': buf[k++] = e; break;
        case 'b': buf[k++] = '\b'; break;
        case 'f': buf[k++] = '\f'; break;
        case 'n': buf[k++] = '\n'; break;
        case 'r': buf[k++] = '\r'; break;
        case 't': buf[k++] = '\t'; break;
        case 'u': {
          if (j->end - j->p < 4) return 0;
          int u = hex4(j->p);
          if (u < 0) return 0;
          j->p += 4;
          if (u >= 0xd800 && u <= 0xdbff && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
            int lo = hex4(j->p + 2);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              j->p += 6;
              u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            }
          }
          if (u == 0 || (u >= 0xd800 && u <= 0xdfff)) *odd = 1;
          if (u < 0x80) buf[k++] = (unsigned char)u;
          else if (u < 0x800) {
            buf[k++] = (unsigned char)(0xc0 | (u >> 6));
            buf[k++] = (unsigned char)(0x80 | (u & 0x3f));
          } else if (u < 0x10000) {
            buf[k++] = (unsigned char)(0xe0 | (u >> 12));
            buf[k++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
            buf[k++] = (unsigned char)(0x80 | (u & 0x3f));
          } else {
            buf[k++] = (unsigned char)(0xf0 | (u >> 18));
            buf[k++] = (unsigned char)(0x80 | ((u >> 12) & 0x3f));
            buf[k++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
            buf[k++] = (unsigned char)(0x80 | (u & 0x3f));
          }
          break;
        }
        default: return 0;
      }
    }
    for (size_t i = 0; i < k; i++, n++)
      if (out && n + 1 < cap) out[n] = (char)buf[i];
  }
  if (out && cap > 0) out[n < cap ? n : cap - 1] = 0;
  if (len) *len = n;
  return 1;
}

/* A number; `*integer` set when it is a plain integer literal within 2^53-1 (its value in *val). */
static int jnum(Json *j, int *integer, long long *val) {
  const unsigned char *s = j->p;
  int neg = 0, plain = 1;
  unsigned long long v = 0;
  if (j->p < j->end && *j->p == '-') neg = 1, j->p++;
  if (j->p >= j->end || *j->p < '0' || *j->p > '9') return 0;
  if (*j->p == '0') j->p++;
  else
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
      if (v <= MAX_SAFE_INTEGER) v = v * 10 + (unsigned)(*j->p - '0');
      j->p++;
    }
  if (j->p < j->end && *j->p == '.') {
    plain = 0;
    j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    plain = 0;
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  /* -0, 1.0, 1e3 are integers to Node too, but rare enough to leave to it. */
  *integer = plain && v <= MAX_SAFE_INTEGER && !(neg && v == 0) && (j->p - s) <= 17;
  *val = neg ? -(long long)v : (long long)v;
  return 1;
}

static int jlit(Json *j, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0) return 0;
  j->p += n;
  return 1;
}

/* A container's opening `open`: 0 when it is not there; `*empty` when `close` follows at once (consumed). */
static int jopen(Json *j, unsigned char open, unsigned char close, int *empty) {
  jws(j);
  if (j->p >= j->end || *j->p != open) return 0;
  j->p++;
  jws(j);
  *empty = j->p < j->end && *j->p == close;
  if (*empty) j->p++;
  return 1;
}

/* An object's key (as jstr reads it) and its colon. */
static int jkey(Json *j, char *key, size_t cap, size_t *len, int *odd) {
  jws(j);
  if (!jstr(j, key, cap, len, odd)) return 0;
  jws(j);
  return j->p < j->end && *j->p++ == ':';
}

/* After a member or an element: 1 when another follows, 0 when `close` ends the container, -1 otherwise. */
static int jnext(Json *j, unsigned char close) {
  jws(j);
  if (j->p >= j->end) return -1;
  if (*j->p == ',') {
    j->p++;
    return 1;
  }
  return *j->p++ == close ? 0 : -1;
}

/* Any value, checked and skipped. */
static int jskip(Json *j) {
  jws(j);
  if (j->p >= j->end) return 0;
  unsigned char c = *j->p;
  if (c == '"') {
    size_t len;
    int odd;
    return jstr(j, NULL, 0, &len, &odd);
  }
  if (c == '{' || c == '[') {
    if (++j->depth > MAX_JSON_DEPTH) return 0;
    unsigned char close = c == '{' ? '}' : ']';
    int empty, more = 0;
    if (!jopen(j, c, close, &empty)) return 0;
    if (!empty) do {
        size_t len;
        int odd;
        if (c == '{' && !jkey(j, NULL, 0, &len, &odd)) return 0;
        if (!jskip(j)) return 0;
      } while ((more = jnext(j, close)) > 0);
    if (more < 0) return 0;
    j->depth--;
    return 1;
  }
  if (c == 't') return jlit(j, "true");
  if (c == 'f') return jlit(j, "false");
  if (c == 'n') return jlit(j, "null");
  int integer;
  long long v;
  return jnum(j, &integer, &v);
}

static int jnull(Json *j) {
  jws(j);
  return jlit(j, "null");
}

/* Kinds of a record's fields, as decodeRecord checks them. */
enum { F_STR, F_OPTSTR, F_STRARRAY, F_STATUS, F_TIME, F_OPTTIME, F_BACKEND, F_OPTINT };

static const struct {
  const char *name;
  int kind;
} FIELDS[] = {
    {"uuid", F_STR}, {"tmux_session_name", F_STR}, {"agent_command", F_STRARRAY}, {"working_directory", F_STR},
    {"status", F_STATUS}, {"created_at", F_TIME}, {"last_attached", F_OPTTIME}, {"backend", F_BACKEND},
    {"supervisor_pid", F_OPTINT}, {"agent_pid", F_OPTINT}, {"exit_code", F_OPTINT}, {"exit_signal", F_OPTSTR},
    {"status_reason", F_OPTSTR}, {"ended_at", F_OPTTIME}, {"socket_path", F_OPTSTR}, {"tmux_socket", F_OPTSTR},
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])
#define REQUIRED_FIELDS 6 /* the first six; last_attached may be absent (optTime) */

/* What the attach needs of its record. */
typedef struct {
  char uuid[MAX_ID + 1];
  char status[16];
  char backend[8]; /* "" when absent or null */
  char socket_path[MAX_SOCKET_PATH + 1];
  int has_socket_path, unusable; /* unusable: a field we use is odd (too long, NUL...) */
} Record;

/* {secs_since_epoch, nanos_since_epoch}: both plain integers in range, other keys anything. */
static int jtime(Json *j) {
  int empty, seen = 0, more;
  if (!jopen(j, '{', '}', &empty) || empty) return 0;
  do {
    char key[32];
    size_t len;
    int odd;
    if (!jkey(j, key, sizeof key, &len, &odd)) return 0;
    int which = len < sizeof key && !odd ? (!strcmp(key, "secs_since_epoch") ? 1 : !strcmp(key, "nanos_since_epoch") ? 2 : 0) : 0;
    if (which) {
      int integer;
      long long v;
      jws(j);
      if ((seen & which) || !jnum(j, &integer, &v) || !integer || v < 0 || (which == 2 && v > 999999999)) return 0;
      seen |= which;
    } else if (!jskip(j)) return 0;
  } while ((more = jnext(j, '}')) > 0);
  return more == 0 && seen == 3;
}

/* One record, checked as decodeRecord does; `rec` filled when it is the one we want. 0: hand over. */
static int jrecord(Json *j, Record *rec) {
  unsigned seen = 0;
  int empty, more;
  if (!jopen(j, '{', '}', &empty) || empty) return 0; /* empty: the required fields are missing */
  do {
    char key[32];
    size_t len;
    int odd;
    if (!jkey(j, key, sizeof key, &len, &odd)) return 0;
    size_t f = NFIELDS;
    if (len < sizeof key && !odd)
      for (f = 0; f < NFIELDS && strcmp(FIELDS[f].name, key); f++) {
      }
    if (f == NFIELDS) {
      if (len == 9 && !memcmp(key, "__proto__", 9)) return 0;
      if (!jskip(j)) return 0;
    } else {
      if (seen & (1u << f)) return 0; /* twice: JSON.parse keeps the last one, leave it to it */
      seen |= 1u << f;
      jws(j);
      int kind = FIELDS[f].kind;
      int is_null = j->p < j->end && *j->p == 'n';
      if (is_null && (kind == F_OPTSTR || kind == F_OPTTIME || kind == F_BACKEND || kind == F_OPTINT)) {
        if (!jnull(j)) return 0;
      } else if (kind == F_STR || kind == F_OPTSTR || kind == F_STATUS || kind == F_BACKEND) {
        char v[MAX_SOCKET_PATH + 2];
        size_t vlen;
        int vodd;
        if (!jstr(j, v, sizeof v, &vlen, &vodd)) return 0;
        int fits = vlen < sizeof v && !vodd;
        if (kind == F_STATUS && !(fits && (!strcmp(v, "Starting") || !strcmp(v, "Running") || !strcmp(v, "Crashed") || !strcmp(v, "Stopped")))) return 0;
        if (kind == F_BACKEND && !(fits && (!strcmp(v, "pty") || !strcmp(v, "tmux")))) return 0;
        if (rec) {
          if (!strcmp(key, "uuid")) {
            if (fits && vlen <= MAX_ID) memcpy(rec->uuid, v, vlen + 1);
            else rec->unusable = 1;
          } else if (kind == F_STATUS) memcpy(rec->status, v, vlen + 1);
          else if (kind == F_BACKEND) memcpy(rec->backend, v, vlen + 1);
          else if (!strcmp(key, "socket_path")) {
            if (fits && vlen <= MAX_SOCKET_PATH) {
              memcpy(rec->socket_path, v, vlen + 1);
              rec->has_socket_path = 1;
            } else rec->unusable = 1;
          }
        }
      } else if (kind == F_STRARRAY) {
        int none, next = 0;
        if (!jopen(j, '[', ']', &none)) return 0;
        if (!none) do {
            size_t vlen;
            int vodd;
            jws(j);
            if (!jstr(j, NULL, 0, &vlen, &vodd)) return 0;
          } while ((next = jnext(j, ']')) > 0);
        if (next < 0) return 0;
      } else if (kind == F_TIME || kind == F_OPTTIME) {
        if (!jtime(j)) return 0;
      } else { /* F_OPTINT */
        int integer;
        long long v;
        if (!jnum(j, &integer, &v) || !integer) return 0;
      }
    }
  } while ((more = jnext(j, '}')) > 0);
  if (more < 0) return 0;
  for (unsigned f2 = 0; f2 < REQUIRED_FIELDS; f2++)
    if (!(seen & (1u << f2))) return 0;
  return 1;
}

/* Reads the sessions file and finds `id`'s record: 1 found, 0 anything else (hand over). */
static int find_record(const char *file, const char *id, Record *rec) {
  int fd = open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (unsigned long long)st.st_size > MAX_SESSIONS_FILE) {
    close(fd);
    return 0;
  }
  size_t size = (size_t)st.st_size, got = 0;
  unsigned char *buf = malloc(size);
  if (!buf) {
    close(fd);
    return 0;
  }
  while (got < size) {
    ssize_t n = read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  Json j = {buf, buf + got, 0};
  int found = 0, ok = 0, empty, more = 0;
  if (jopen(&j, '{', '}', &empty)) {
    if (!empty) do {
        char key[MAX_ID + 2];
        size_t len;
        int odd;
        if (!jkey(&j, key, sizeof key, &len, &odd)) {
          more = -1;
          break;
        }
        int mine = !odd && len == strlen(id) && !strcmp(key, id);
        /* __proto__, the id twice, or a record Node would refuse: Node decides */
        if ((len == 9 && !memcmp(key, "__proto__", 9)) || (mine && found) || !jrecord(&j, mine ? rec : NULL)) {
          more = -1;
          break;
        }
        found |= mine;
      } while ((more = jnext(&j, '}')) > 0);
    jws(&j);
    ok = more == 0 && j.p == j.end;
  }
  free(buf);
  return ok && found && !rec->unusable;
}

/*
 * The record's socket, when it is where this environment puts this id's sockets, in a
 * private directory of ours, and a socket of ours (src/backends/pty/locate.ts). Anything
 * else (another environment's path, an older record without one): Node finds it.
 */
static int session_socket(const Record *rec, const char *id, char *out, size_t cap) {
  if (!rec->has_socket_path) return 0;
  const char *sp = rec->socket_path;
  char norm[MAX_SOCKET_PATH + 2], base[PATH_MAX], dir[MAX_SOCKET_PATH + 2];
  if (!normalize(sp, norm, sizeof norm) || strcmp(norm, sp) != 0) return 0;
  const char *slash = strrchr(sp, '/');
  size_t dlen = (size_t)(slash - sp);
  if (dlen == 0 || dlen >= sizeof dir) return 0;
  memcpy(dir, sp, dlen);
  dir[dlen] = 0;
  char suffix[MAX_ID + 8];
  snprintf(suffix, sizeof suffix, "-%s.sock", id);
  size_t blen = strlen(slash + 1), slen = strlen(suffix);
  if (blen <= slen || strcmp(slash + 1 + blen - slen, suffix) != 0) return 0;
  if (!runtime_base(base, sizeof base) || strcmp(base, dir) != 0) return 0;
  if (!private_dir(dir)) return 0;
  struct stat st;
  if (lstat(sp, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_uid != getuid()) return 0;
  if (strlen(sp) + 1 > cap) return 0;
  strcpy(out, sp);
  return 1;
}

/* ---- msgpack: an encoder for the hello, a strict decoder for the supervisor's frames -- */

typedef struct {
  unsigned char *b;
  size_t len, cap;
  int overflow;
} Out;

static void put(Out *o, const void *p, size_t n) {
  if (o->overflow || n > o->cap - o->len) {
    o->overflow = 1;
    return;
  }
  memcpy(o->b + o->len, p, n);
  o->len += n;
}
static void put1(Out *o, unsigned c) {
  unsigned char b = (unsigned char)c;
  put(o, &b, 1);
}
static void put_be(Out *o, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; i--) put1(o, (unsigned)(v >> (8 * i)) & 0xff);
}
static void mp_map(Out *o, unsigned n) { n < 16 ? put1(o, 0x80 | n) : (put1(o, 0xde), put_be(o, n, 2)); }
static void mp_arr(Out *o, unsigned n) { n < 16 ? put1(o, 0x90 | n) : (put1(o, 0xdc), put_be(o, n, 2)); }
static void mp_strn(Out *o, const char *s, size_t n) {
  if (n < 32) put1(o, 0xa0 | (unsigned)n);
  else if (n < 256) put1(o, 0xd9), put_be(o, n, 1);
  else if (n < 65536) put1(o, 0xda), put_be(o, n, 2);
  else put1(o, 0xdb), put_be(o, n, 4);
  put(o, s, n);
}
static void mp_str(Out *o, const char *s) { mp_strn(o, s, strlen(s)); }
static void mp_uint(Out *o, uint64_t v) {
  if (v < 128) put1(o, (unsigned)v);
  else if (v < 256) put1(o, 0xcc), put_be(o, v, 1);
  else if (v < 65536) put1(o, 0xcd), put_be(o, v, 2);
  else if (v <= 0xffffffffULL) put1(o, 0xce), put_be(o, v, 4);
  else put1(o, 0xcf), put_be(o, v, 8);
}
static void mp_bool(Out *o, int v) { put1(o, v ? 0xc3 : 0xc2); }

/* One frame: the 4-byte length, then the payload built by `o` from offset 4. */
static int send_frame(Out *o) {
  if (o->overflow || o->len <= 4) return 0;
  uint32_t n = (uint32_t)(o->len - 4);
  o->b[0] = (unsigned char)(n >> 24), o->b[1] = (unsigned char)(n >> 16), o->b[2] = (unsigned char)(n >> 8), o->b[3] = (unsigned char)n;
  size_t off = 0;
  while (off < o->len) {
    ssize_t w = send(sock, o->b + off, o->len - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      struct pollfd p = {sock, POLLOUT, 0};
      poll(&p, 1, 1000);
      continue;
    }
    if (w <= 0) return 0;
    off += (size_t)w;
  }
  return 1;
}

static void send_simple(const char *t) {
  unsigned char b[64];
  Out o = {b, 4, sizeof b, 0};
  mp_map(&o, 1);
  mp_str(&o, "t");
  mp_str(&o, t);
  send_frame(&o);
}

/* A decoded scalar or the extent of a container. */
enum { V_NIL, V_BOOL, V_INT, V_FLOAT, V_STR, V_BIN, V_ARR, V_MAP };
typedef struct {
  int type;
  int b;          /* V_BOOL */
  int integral;   /* V_INT, or a V_FLOAT holding an integer within 2^53 */
  long long i;    /* V_INT / integral V_FLOAT: the value */
  int neg_big;    /* an integer out of long long's range */
  const unsigned char *s; /* V_STR / V_BIN: the bytes */
  uint32_t n;     /* V_STR / V_BIN: length; V_ARR / V_MAP: element count */
} Val;

typedef struct {
  const unsigned char *p, *end;
} Rd;

static int need(Rd *r, size_t n) { return (size_t)(r->end - r->p) >= n; }
static uint64_t be(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

/* The head of the next value (a container's elements follow it). 0: malformed. */
static int head(Rd *r, Val *v) {
  if (!need(r, 1)) return 0;
  unsigned c = *r->p++;
  memset(v, 0, sizeof *v);
  int lb = 0; /* bytes of a length or number that follow */
  if (c <= 0x7f) return v->type = V_INT, v->integral = 1, v->i = c, 1;
  if (c >= 0xe0) return v->type = V_INT, v->integral = 1, v->i = (int)c - 256, 1;
  if ((c & 0xe0) == 0xa0) v->type = V_STR, v->n = c & 0x1f;
  else if ((c & 0xf0) == 0x90) return v->type = V_ARR, v->n = c & 0x0f, 1;
  else if ((c & 0xf0) == 0x80) return v->type = V_MAP, v->n = c & 0x0f, 1;
  else
    switch (c) {
      case 0xc0: return v->type = V_NIL, 1;
      case 0xc2: case 0xc3: return v->type = V_BOOL, v->b = c == 0xc3, 1;
      case 0xc4: case 0xc5: case 0xc6:
        lb = 1 << (c - 0xc4);
        if (!need(r, (size_t)lb)) return 0;
        v->type = V_BIN, v->n = (uint32_t)be(r->p, lb), r->p += lb;
        break;
      case 0xd9: case 0xda: case 0xdb:
        lb = 1 << (c - 0xd9);
        if (!need(r, (size_t)lb)) return 0;
        v->type = V_STR, v->n = (uint32_t)be(r->p, lb), r->p += lb;
        break;
      case 0xdc: case 0xdd:
        lb = c == 0xdc ? 2 : 4;
        if (!need(r, (size_t)lb)) return 0;
        v->type = V_ARR, v->n = (uint32_t)be(r->p, lb), r->p += lb;
        return 1;
      case 0xde: case 0xdf:
        lb = c == 0xde ? 2 : 4;
        if (!need(r, (size_t)lb)) return 0;
        v->type = V_MAP, v->n = (uint32_t)be(r->p, lb), r->p += lb;
        return 1;
      case 0xcc: case 0xcd: case 0xce: case 0xcf: {
        lb = 1 << (c - 0xcc);
        if (!need(r, (size_t)lb)) return 0;
        uint64_t u = be(r->p, lb);
        r->p += lb;
        v->type = V_INT, v->integral = u <= (uint64_t)LLONG_MAX, v->i = (long long)u;
        v->neg_big = !v->integral;
        return 1;
      }
      case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        lb = 1 << (c - 0xd0);
        if (!need(r, (size_t)lb)) return 0;
        uint64_t u = be(r->p, lb);
        r->p += lb;
        int shift = 64 - 8 * lb;
        v->type = V_INT, v->integral = 1, v->i = shift ? (long long)(u << shift) >> shift : (long long)u;
        return 1;
      }
      case 0xca: case 0xcb: {
        lb = c == 0xca ? 4 : 8;
        if (!need(r, (size_t)lb)) return 0;
        uint64_t u = be(r->p, lb);
        r->p += lb;
        double d;
        if (lb == 4) {
          uint32_t u32 = (uint32_t)u;
          float f;
          memcpy(&f, &u32, 4);
          d = f;
        } else memcpy(&d, &u, 8);
        v->type = V_FLOAT;
        if (d == d && d >= -9007199254740991.0 && d <= 9007199254740991.0 && d == (double)(long long)d) v->integral = 1, v->i = (long long)d;
        return 1;
      }
      default: return 0; /* 0xc1 and every extension type */
    }
  /* str / bin: their bytes */
  if (!need(r, v->n)) return 0;
  v->s = r->p;
  r->p += v->n;
  return 1;
}

/* Skips one whole value. */
static int skip(Rd *r, int depth) {
  Val v;
  if (depth > MAX_MSGPACK_DEPTH || !head(r, &v)) return 0;
  if (v.type == V_ARR || v.type == V_MAP) {
    uint64_t items = (uint64_t)v.n * (v.type == V_MAP ? 2 : 1);
    if (items > (uint64_t)(r->end - r->p)) return 0; /* every item takes a byte at least */
    for (uint64_t k = 0; k < items; k++)
      if (!skip(r, depth + 1)) return 0;
  }
  return 1;
}

/* Finds `key` in the map whose entries start at `m` (n of them); 1 with its value's reader. */
static int field(Rd m, uint32_t n, const char *key, Rd *at) {
  size_t kl = strlen(key);
  for (uint32_t k = 0; k < n; k++) {
    Val kv;
    Rd save = m;
    if (!head(&m, &kv)) return 0;
    if (kv.type == V_ARR || kv.type == V_MAP) {
      m = save;
      if (!skip(&m, 1) || !skip(&m, 1)) return 0;
      continue;
    }
    if (kv.type == V_STR && kv.n == kl && !memcmp(kv.s, key, kl)) {
      *at = m;
      return 1;
    }
    if (!skip(&m, 1)) return 0;
  }
  return 0;
}

/* The value of `key` (V_NIL when absent: nil and absent are the same, protocol.md §3). */
static int get(Rd m, uint32_t n, const char *key, Val *v, Rd *after) {
  Rd at;
  if (!field(m, n, key, &at)) {
    memset(v, 0, sizeof *v);
    v->type = V_NIL;
    return 1;
  }
  if (!head(&at, v)) return 0;
  if (after) *after = at;
  return 1;
}

static int is_uint(const Val *v, long long max) { return (v->type == V_INT || v->type == V_FLOAT) && v->integral && v->i >= 0 && v->i <= max; }
static int is_dim(const Val *v) { return is_uint(v, 1000) && v->i >= 1; }
static int str_is(const Val *v, const char *s) { return v->type == V_STR && v->n == strlen(s) && !memcmp(v->s, s, v->n); }

/* The welcome's session map holds what the Node client checks (messages.ts), or Node decides. */
static int welcome_session(Rd sm, uint32_t n) {
  Val v;
  static const char *const uints[] = {"supervisorPid", "agentPid", "viewerId"};
  for (size_t i = 0; i < 3; i++)
    if (!get(sm, n, uints[i], &v, NULL) || !is_uint(&v, 0xffffffffLL)) return 0;
  if (!get(sm, n, "cols", &v, NULL) || !is_dim(&v) || !get(sm, n, "rows", &v, NULL) || !is_dim(&v)) return 0;
  if (!get(sm, n, "id", &v, NULL) || v.type != V_STR || v.n > (1u << 20)) return 0;
  if (!get(sm, n, "readOnly", &v, NULL) || !(v.type == V_BOOL || v.type == V_NIL)) return 0;
  if (!get(sm, n, "terminalError", &v, NULL) || !(v.type == V_STR || v.type == V_NIL)) return 0;
  return 1;
}

/* ---- the attach ------------------------------------------------------------------------ */

static char id[MAX_ID + 1];
static int read_only;
static int own_cols = 80, own_rows = 24; /* this terminal's size, as Node's stdout.columns || 80 */
static int agent_cols, agent_rows;       /* 0: not known yet */
static int replayed;                     /* a picture was shown */
static int key_modes;                    /* the supervisor undoes the agent's key modes itself */

static void read_size(int *cols, int *rows) {
  struct winsize ws;
  *cols = 80, *rows = 24;
  if (ioctl(1, TIOCGWINSZ, &ws) == 0) {
    if (ws.ws_col) *cols = ws.ws_col;
    if (ws.ws_row) *rows = ws.ws_row;
  }
}

/* The receive buffer: frames are cut from [0, rlen). */
static unsigned char *rbuf;
static size_t rlen, rcap;

/* Reads what the socket has; 1 data, 0 end of file, -1 error. */
static int fill(void) {
  if (rcap - rlen < 65536) {
    size_t want = rcap ? rcap * 2 : 65536;
    if (want > MAX_FRAME + 4 + 65536) want = MAX_FRAME + 4 + 65536;
    if (want > rcap) {
      unsigned char *p = realloc(rbuf, want);
      if (!p) return -1;
      rbuf = p, rcap = want;
    }
    if (rcap == rlen) return -1; /* cannot happen: a frame is cut once whole */
  }
  for (;;) {
    ssize_t n = recv(sock, rbuf + rlen, rcap - rlen, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 1;
    if (n < 0) return -1;
    if (n == 0) return 0;
    rlen += (size_t)n;
    return 1;
  }
}

/* The next whole frame's payload: 1 (in *p, *n), 0 none yet, -1 a broken frame. */
static int next_frame(size_t *off, const unsigned char **p, uint32_t *n) {
  if (rlen - *off < 4) return 0;
  uint32_t len = (uint32_t)be(rbuf + *off, 4);
  if (len == 0 || len > MAX_FRAME) return -1;
  if (rlen - *off - 4 < len) return 0;
  *p = rbuf + *off + 4;
  *n = len;
  *off += 4 + (size_t)len;
  return 1;
}

static void consumed(size_t off) {
  memmove(rbuf, rbuf + off, rlen - off);
  rlen -= off;
}

/* A frame's message: its map's entries and its type. 0: malformed or not a message. */
static int message(const unsigned char *p, uint32_t n, Rd *m, uint32_t *count, Val *t) {
  Rd r = {p, p + n};
  if (!skip(&r, 0) || r.p != r.end) return 0; /* exactly one well-formed value */
  r.p = p;
  Val v;
  if (!head(&r, &v) || v.type != V_MAP) return 0;
  *m = r, *count = v.n;
  return get(r, v.n, "t", t, NULL) && t->type == V_STR;
}

/* The end of the attach: finish() of attach-terminal.ts. */
static void __attribute__((noreturn)) finish(const char *line, size_t line_len, int code, int restore) {
  if (restore) {
    read_size(&own_cols, &own_rows);
    size_t cap = 1024 + line_len;
    char *b = malloc(cap);
    if (b) {
      size_t n = 0;
      /* The supervisor wrote what undoes the agent's key modes, unless it is too old to. */
      const char *undo = key_modes || !replayed ? "" : LEGACY_KEY_RESET;
      n += (size_t)snprintf(b + n, cap - n, "%s%s\x1b[%d;1H\r\n", undo, ON_LEAVE, own_rows);
      if (line) {
        memcpy(b + n, line, line_len);
        n += line_len;
        memcpy(b + n, "\r\n", 2);
        n += 2;
      }
      /* Told on leaving, not while attached: drawing over the agent's screen would corrupt it. */
      if (agent_cols && (agent_cols != own_cols || agent_rows != own_rows))
        n += (size_t)snprintf(b + n, cap - n, "[%s's window is %dx%d, this terminal is %dx%d: %s]\r\n", id, agent_cols, agent_rows, own_cols, own_rows,
                              read_only ? "a read-only viewer never sets it" : "another viewer sets it; typing a key takes it over");
      write_all(1, b, n);
    }
    /* Cooked mode last: a Ctrl-C or Ctrl-\ typed behind the detach key must not stop us first. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    tcsetattr(0, TCSADRAIN, &saved_tio);
  }
  if (sock >= 0) close(sock);
  _exit(code);
}

static void __attribute__((noreturn)) finish_str(const char *line, int code) { finish(line, line ? strlen(line) : 0, code, 1); }

static void __attribute__((noreturn)) lost(void) {
  char line[MAX_ID + 32];
  snprintf(line, sizeof line, "[lost connection to %s]", id);
  finish_str(line, 1);
}

/*
 * Leaving on our own (a signal): the supervisor is asked to let go first, so that nothing
 * it writes lands after our restore; at most RELEASE_WAIT_MS.
 */
static void __attribute__((noreturn)) leave_by_signal(int restore) {
  char line[MAX_ID + 32];
  snprintf(line, sizeof line, "[detached from %s]", id);
  send_simple("detach");
  long long until = now_ms() + RELEASE_WAIT_MS;
  for (;;) {
    long long left = until - now_ms();
    if (left <= 0) break;
    struct pollfd p = {sock, POLLIN, 0};
    int r = poll(&p, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    rlen = 0; /* whatever it still says no longer matters */
    if (fill() <= 0) break;
  }
  finish(restore ? line : NULL, restore ? strlen(line) : 0, 0, restore);
}

static void on_signal(int sig) {
  if (sig == SIGWINCH) got_winch = 1;
  else if (sig == SIGTERM) got_term = 1;
  else if (sig == SIGHUP) got_hup = 1;
}

static void send_resize(void) {
  unsigned char b[64];
  Out o = {b, 4, sizeof b, 0};
  mp_map(&o, 3);
  mp_str(&o, "t");
  mp_str(&o, "resize");
  mp_str(&o, "cols");
  mp_uint(&o, (uint64_t)own_cols);
  mp_str(&o, "rows");
  mp_uint(&o, (uint64_t)own_rows);
  send_frame(&o);
}

/* One message after the welcome (handleMessage of attach-terminal.ts, hand-over mode). */
static void handle(Rd m, uint32_t n, const Val *t) {
  Val a, b;
  if (str_is(t, "shown") || str_is(t, "size")) {
    if (!get(m, n, "cols", &a, NULL) || !get(m, n, "rows", &b, NULL) || !is_dim(&a) || !is_dim(&b)) lost();
    if (str_is(t, "shown")) {
      Val seq;
      if (!get(m, n, "seq", &seq, NULL) || !is_uint(&seq, (long long)MAX_SAFE_INTEGER)) lost();
      replayed = 1;
    }
    agent_cols = (int)a.i, agent_rows = (int)b.i;
  } else if (str_is(t, "detached")) {
    char line[MAX_ID + 32];
    snprintf(line, sizeof line, "[detached from %s]", id);
    finish_str(line, 0);
  } else if (str_is(t, "exit")) {
    if (!get(m, n, "code", &a, NULL) || !get(m, n, "signal", &b, NULL)) lost();
    if (!(a.type == V_NIL || ((a.type == V_INT || a.type == V_FLOAT) && a.integral)) || !(b.type == V_NIL || (b.type == V_STR && b.n <= (1u << 20)))) lost();
    size_t cap = MAX_ID + 64 + (b.type == V_STR ? b.n : 0);
    char *line = malloc(cap);
    if (!line) lost();
    int k;
    if (b.type == V_STR && b.n > 0) {
      k = snprintf(line, cap, "[%s was killed by ", id);
      memcpy(line + k, b.s, b.n);
      k += (int)b.n;
      line[k++] = ']';
    } else if (a.type == V_NIL) k = snprintf(line, cap, "[%s exited with code null]", id);
    else k = snprintf(line, cap, "[%s exited with code %lld]", id, a.i);
    finish(line, (size_t)k, 0, 1);
  } else if (str_is(t, "error")) {
    if (!get(m, n, "code", &a, NULL) || !get(m, n, "message", &b, NULL)) lost();
    if (a.type != V_STR || b.type != V_STR || a.n > (1u << 20) || b.n > (1u << 20)) lost();
    size_t cap = MAX_ID + 8 + b.n;
    char *line = malloc(cap);
    if (!line) lost();
    int k = snprintf(line, cap, "[%s: ", id);
    memcpy(line + k, b.s, b.n);
    k += (int)b.n;
    line[k++] = ']';
    finish(line, (size_t)k, 1, 1);
  }
  /* Anything else: a handed-over terminal gets no output, snapshot or leave frames; a
     newer supervisor's messages are ignored (protocol.md §4). */
}

int main(int argc, char **argv) {
  g_argc = argc, g_argv = argv;
  sigprocmask(SIG_SETMASK, NULL, &old_mask);
  if (argc < 2) {
    fprintf(stderr, "symposium-attach: started without the path of bin/symposium-mcp\n");
    return 2;
  }
  if (getenv("SYMPOSIUM_NATIVE_CLIENT") && strcmp(getenv("SYMPOSIUM_NATIVE_CLIENT"), "1") != 0) hand_over();
  if (argc < 4 || strcmp(argv[2], "agent") != 0 || strcmp(argv[3], "attach") != 0) hand_over();

  /* Options as the CLI reads them; anything else is Node's. */
  const char *raw_id = NULL, *key_spec = NULL;
  int redraw = 0, no_hint = 0;
  for (int i = 4; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--read-only")) read_only = 1;
    else if (!strcmp(a, "--redraw")) redraw = 1;
    else if (!strcmp(a, "--no-hint")) no_hint = 1;
    else if (!strcmp(a, "--detach-key") || !strncmp(a, "--detach-key=", 13)) {
      if (key_spec) hand_over();
      if (a[12] == '=') key_spec = a + 13;
      else if (i + 1 < argc && argv[i + 1][0] != '-') key_spec = argv[++i];
      else hand_over();
    } else if (a[0] == '-' || raw_id) hand_over();
    else raw_id = a;
  }
  if (!raw_id || !valid_id(raw_id)) hand_over();
  strcpy(id, raw_id);
  int detach_key = key_spec ? parse_detach_key(key_spec) : DEFAULT_DETACH_KEY;
  if (detach_key < 0) hand_over();
  const char *relay = getenv("SYMPOSIUM_ATTACH_RELAY");
  if (relay && !strcmp(relay, "1")) hand_over();

  /* Our terminal, whole: stdin a terminal, stdout the same one (else Node relays). */
  struct stat in, out;
  if (!isatty(0) || fstat(0, &in) != 0 || fstat(1, &out) != 0 || in.st_dev != out.st_dev || in.st_ino != out.st_ino) hand_over();
  if ((unsigned long long)in.st_dev > MAX_SAFE_INTEGER || (unsigned long long)in.st_ino > MAX_SAFE_INTEGER) hand_over();
  char tty_path[4097];
  ssize_t tl = readlink("/proc/self/fd/0", tty_path, sizeof tty_path - 1);
  if (tl <= 0 || tl >= (ssize_t)sizeof tty_path - 1) hand_over();
  tty_path[tl] = 0;
  if (tty_path[0] != '/') hand_over();

  /* The session: its record in HOME/agent-sessions.json. */
  char home[PATH_MAX], file[PATH_MAX + 32];
  const char *h = getenv("SYMPOSIUM_HOME");
  if (h && *h) {
    if (!resolve(h, home, sizeof home)) hand_over();
  } else {
    h = getenv("HOME");
    if (!h || h[0] != '/' || !join(h, ".symposium", home, sizeof home)) hand_over();
  }
  if (!private_dir(home) || !join(home, "agent-sessions.json", file, sizeof file)) hand_over();
  Record rec;
  memset(&rec, 0, sizeof rec);
  if (!find_record(file, id, &rec)) hand_over();
  if (strcmp(rec.uuid, id) != 0 || strcmp(rec.backend, "pty") != 0 || strcmp(rec.status, "Running") != 0) hand_over();
  char sock_path[MAX_SOCKET_PATH + 1];
  if (!session_socket(&rec, id, sock_path, sizeof sock_path)) hand_over();

  /* Connected before the terminal is touched: a supervisor that is gone costs nothing. */
  sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) hand_over();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
  while (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0)
    if (errno != EINTR) hand_over();

  /* Signals are taken only while we wait (ppoll), never in the middle of a write. */
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGWINCH);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGWINCH, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  /* Raw as Node's setRawMode (libuv's UV_TTY_MODE_RAW), and output processing off too, as
     the Node client does through its addon (protocol.md §8.6): before the hello, so that
     keys typed now are no signal and the replay finds it off. */
  if (tcgetattr(0, &saved_tio) != 0) hand_over();
  struct termios raw = saved_tio;
  raw.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
  raw.c_oflag |= ONLCR;
  raw.c_oflag &= ~(tcflag_t)OPOST;
  raw.c_cflag |= CS8;
  raw.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (tcsetattr(0, TCSADRAIN, &raw) != 0) hand_over();
  terminal_raw = 1;
  write_all(1, ON_ENTER, sizeof ON_ENTER - 1);

  /* The hello, as src/link/supervisor-link.ts sends it. */
  read_size(&own_cols, &own_rows);
  char hint[MAX_HINT + 1];
  int want_hint = !no_hint;
  const char *hint_env = getenv("SYMPOSIUM_ATTACH_HINT");
  if (!no_hint && hint_env && !strcmp(hint_env, "0")) want_hint = 0;
  if (want_hint) {
    char name[16];
    detach_key_name(detach_key, name, sizeof name);
    snprintf(hint, sizeof hint, "%s to detach from %s", name, id);
  }
  unsigned char hb[8192];
  Out o = {hb, 4, sizeof hb, 0};
  mp_map(&o, 10);
  mp_str(&o, "t"), mp_str(&o, "hello");
  mp_str(&o, "protocol"), mp_uint(&o, PROTOCOL_VERSION);
  mp_str(&o, "client"), mp_str(&o, CLIENT_NAME);
  mp_str(&o, "mode"), mp_str(&o, "attach");
  mp_str(&o, "readOnly"), mp_bool(&o, read_only);
  mp_str(&o, "cols"), mp_uint(&o, (uint64_t)own_cols);
  mp_str(&o, "rows"), mp_uint(&o, (uint64_t)own_rows);
  mp_str(&o, "features"), mp_arr(&o, sizeof FEATURES / sizeof FEATURES[0]);
  for (size_t i = 0; i < sizeof FEATURES / sizeof FEATURES[0]; i++) mp_str(&o, FEATURES[i]);
  mp_str(&o, "terminal"), mp_map(&o, 5);
  mp_str(&o, "path"), mp_str(&o, tty_path);
  mp_str(&o, "dev"), mp_uint(&o, (uint64_t)in.st_dev);
  mp_str(&o, "ino"), mp_uint(&o, (uint64_t)in.st_ino);
  mp_str(&o, "detachKey"), mp_uint(&o, (uint64_t)detach_key);
  mp_str(&o, "hint");
  if (want_hint) mp_str(&o, hint);
  else put1(&o, 0xc0);
  mp_str(&o, "redraw"), mp_bool(&o, redraw);
  if (!send_frame(&o)) hand_over();

  /* Until the welcome, anything else is Node's to report (it connects again and sees it). */
  int welcomed = 0;
  long long welcome_until = now_ms() + WELCOME_WAIT_MS;
  sigset_t waitmask;
  sigprocmask(SIG_SETMASK, NULL, &waitmask);
  sigdelset(&waitmask, SIGWINCH);
  sigdelset(&waitmask, SIGTERM);
  sigdelset(&waitmask, SIGHUP);
  for (;;) {
    if (got_hup) {
      if (!welcomed) _exit(129); /* the terminal is gone: nothing to restore */
      leave_by_signal(0);
    }
    if (got_term) {
      if (!welcomed) {
        undo_terminal();
        _exit(143);
      }
      leave_by_signal(1);
    }
    if (got_winch) {
      got_winch = 0;
      int c, r;
      read_size(&c, &r);
      /* As Node's 'resize' event: only a real change. */
      if (welcomed && (c != own_cols || r != own_rows)) {
        own_cols = c, own_rows = r;
        if (!read_only) send_resize();
      }
    }
    struct pollfd p = {sock, POLLIN, 0};
    struct timespec ts, *tsp = NULL;
    if (!welcomed) {
      long long left = welcome_until - now_ms();
      if (left <= 0) hand_over();
      ts.tv_sec = left / 1000, ts.tv_nsec = (left % 1000) * 1000000;
      tsp = &ts;
    }
    int pr = ppoll(&p, 1, tsp, &waitmask);
    if (pr < 0) {
      if (errno == EINTR) continue;
      if (!welcomed) hand_over();
      lost();
    }
    if (pr == 0) continue;
    int fr = fill();
    size_t off = 0;
    for (;;) {
      const unsigned char *fp;
      uint32_t fn;
      int k = next_frame(&off, &fp, &fn);
      if (k == 0) break;
      Rd m;
      uint32_t count;
      Val t;
      if (k < 0 || !message(fp, fn, &m, &count, &t)) {
        if (!welcomed) hand_over();
        lost();
      }
      if (welcomed) {
        handle(m, count, &t);
        continue;
      }
      if (!str_is(&t, "welcome")) {
        if (str_is(&t, "error")) hand_over();
        continue; /* the Node client skips anything else before the welcome */
      }
      Val session, features, term, proto;
      Rd sm, fm;
      if (!get(m, count, "protocol", &proto, NULL) || !is_uint(&proto, 0xffffffffLL)) hand_over();
      if (!get(m, count, "features", &features, &fm) || !(features.type == V_ARR || features.type == V_NIL)) hand_over();
      if (features.type == V_ARR)
        for (uint32_t i = 0; i < features.n; i++) {
          Val f;
          if (!head(&fm, &f) || f.type != V_STR) hand_over();
          if (str_is(&f, "key-modes")) key_modes = 1;
        }
      if (!get(m, count, "session", &session, &sm) || session.type != V_MAP || !welcome_session(sm, session.n)) hand_over();
      if (!get(sm, session.n, "terminal", &term, NULL) || !(term.type == V_BOOL || term.type == V_NIL)) hand_over();
      /* Not taken: the supervisor drew nothing, and Node relays (the same frames again). */
      if (!(term.type == V_BOOL && term.b)) hand_over();
      welcomed = 1;
    }
    consumed(off);
    if (fr == 0 || fr < 0) {
      if (!welcomed) hand_over();
      lost();
    }
  }
}
