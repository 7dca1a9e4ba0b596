/*
 * `agent spawn`'s native front end, and `agent list`'s. bin/symposium-mcp starts it as
 *   symposium-spawn BIN agent spawn|list ARGS...
 * A list runs in a copy of the standby when one listens (a `run` request, below), else as
 * the CLI; it never starts a standby. The rest of this says what a spawn does.
 * (BIN: the launcher's real path). It starts the CLI, `node FLAGS BIN agent spawn ARGS...`,
 * under the supervisor's own Node flags and allocator settings, with a pipe as fd 3 named by
 * SYMPOSIUM_SPAWN_REPORT_FD, and exits with the code the CLI writes there (`exit N`). The
 * CLI's process then goes on as the agent's supervisor (src/spawn-front-end.ts): one Node
 * start per spawn instead of two, and the front end is what the user's shell waits for.
 * A CLI that did not become a supervisor (an error, help, the tmux backend) says nothing
 * and ends: its own exit status is the answer, once it is gone.
 *
 * First it asks the standby, when one is listening (src/standby/): a process that is already
 * the CLI under those flags, its bundles loaded, waiting for spawns. It takes the
 * arguments, environment, directory, umask and terminal size, and our stdout and stderr
 * (SCM_RIGHTS), and a copy of it (a fork) says its pid, runs the command as the CLI would,
 * becomes the supervisor, and says `exit N` on the socket. No Node starts for that spawn
 * (~55 ms of ~120 here, and ~100 ms of CPU). Anything
 * but `ok` to the request (no standby, another build, another context) and nothing has
 * happened: the CLI starts as below.
 *
 * FLAGS and the allocator's settings are the supervisor's (src/held-env.ts:
 * SUPERVISOR_NODE_FLAGS, SUPERVISOR_MALLOC_ENV; a test compares them): glibc reads its
 * settings once, as the process starts, and V8 its flags. The CLI checks the flags before
 * it becomes a supervisor and starts one apart otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "places.h"

static const char *const NODE_FLAGS[] = {"--max-semi-space-size=4", "--v8-pool-size=1", "--single-threaded-gc", "--single-threaded", "--expose-gc"};
#define NODE_FLAG_COUNT (sizeof NODE_FLAGS / sizeof NODE_FLAGS[0])

/* The supervisor's allocator settings: the user's own values travel under a held name and
 * are put back for the agent (src/held-env.ts). */
static const char *const MALLOC_NAMES[] = {"MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_"};
static const char *const MALLOC_VALUES[] = {"1", "65536"};
#define HELD_PREFIX "SYMPOSIUM_HELD_"
#define REPORT_FD 3

/* Starts `node FLAGS BIN agent spawn ARGS...` (argv[1..]); does not return. */
static void exec_node(char **argv, int argc, const char *const *flags, size_t nflags) {
  size_t n = 0;
  char **args = calloc((size_t)argc + nflags + 1, sizeof *args);
  if (!args) _exit(1);
  args[n++] = "node";
  for (size_t i = 0; i < nflags; i++) args[n++] = (char *)flags[i];
  for (int i = 1; i < argc; i++) args[n++] = argv[i];
  execvp("node", args);
  fprintf(stderr, "symposium-mcp: cannot start node: %s\n", strerror(errno));
  _exit(127);
}

/* Node on BIN with the arguments as they came, the CLI as usual (nothing can loop). */
static void plain_node(char **argv, int argc) { exec_node(argv, argc, NULL, 0); }

static int set_supervisor_env(void) {
  char held[128];
  for (size_t i = 0; i < sizeof MALLOC_NAMES / sizeof MALLOC_NAMES[0]; i++) {
    const char *user = getenv(MALLOC_NAMES[i]);
    snprintf(held, sizeof held, HELD_PREFIX "%s", MALLOC_NAMES[i]);
    if (user && setenv(held, user, 1) != 0) return -1;
    if (setenv(MALLOC_NAMES[i], MALLOC_VALUES[i], 1) != 0) return -1;
  }
  return setenv("SYMPOSIUM_SUPERVISOR_SET", "MALLOC_ARENA_MAX,MALLOC_TRIM_THRESHOLD_", 1);
}

/* Reads the pipe until `exit N`; -1 when it closed without a word. */
static int read_exit_code(int fd) {
  char buf[64];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    len += (size_t)n;
    buf[len] = '\0';
    char *end = strchr(buf, '\n');
    if (end) {
      int code;
      if (sscanf(buf, "exit %d", &code) == 1 && code >= 0 && code <= 255) return code;
      return -1;
    }
    if (len == sizeof buf - 1) return -1; /* not ours */
  }
}

/* ---- the standby (src/standby/wire.ts: the request and the words, the same) ---------- */

#define STANDBY_SOCKET "standby.sock"
#define STANDBY_LOG "standby.log"
#define STANDBY_STARTING "standby.starting"
#define STANDBY_START_STALE_S 30       /* a start that has not listened by then never will */
#define STANDBY_HELLO "symposium-standby 2"
#define STANDBY_MAX_REQUEST (1u << 20) /* [MAX_REQUEST] larger: the CLI starts as usual */
#define STANDBY_OK_WAIT_MS 5000        /* a standby that does not take it in this long: as usual */
/* Another spawn is starting one: we wait for it this long at most, then start the CLI as
   usual. Spawns at once (10 at a time) each started a Node of their own until the first
   standby listened, ~170 ms of CPU each against ~50 for a copy of the standby; a standby
   listens ~150 ms after its start here, more on a busy machine. */
#define STANDBY_START_WAIT_MS 3000
#define STANDBY_POLL_MS 5

extern char **environ;

typedef struct {
  char *b;
  size_t len, cap;
} Buf;

static int add(Buf *b, const char *s) {
  size_t n = strlen(s) + 1;
  if (b->len + n > STANDBY_MAX_REQUEST) return 0;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *nb = realloc(b->b, cap);
    if (!nb) return 0;
    b->b = nb, b->cap = cap;
  }
  memcpy(b->b + b->len, s, n);
  b->len += n;
  return 1;
}

static int add_num(Buf *b, long v) {
  char n[32];
  snprintf(n, sizeof n, "%ld", v);
  return add(b, n);
}

/* The install's dist directory, as a real path: BIN cut at its last /bin/, then /dist (as the launcher finds us). */
static int dist_of(const char *bin, char *out, size_t cap) {
  char dist[PATH_MAX + 8];
  const char *cut = NULL;
  for (const char *q = strstr(bin, "/bin/"); q; q = strstr(q + 1, "/bin/")) cut = q;
  if (!cut || (size_t)(cut - bin) + 6 > sizeof dist || cap < PATH_MAX) return 0;
  memcpy(dist, bin, (size_t)(cut - bin));
  strcpy(dist + (cut - bin), "/dist");
  return realpath(dist, out) != NULL;
}

/* The request: NUL-ended strings after a 4-byte length (wire.ts). */
static int standby_request(Buf *b, const char *kind, char **argv, int argc) {
  char cwd[PATH_MAX], dist[PATH_MAX];
  const char *bin = argv[1];
  if (!dist_of(bin, dist, sizeof dist) || !getcwd(cwd, sizeof cwd)) return 0;
  mode_t mask = umask(0);
  umask(mask);
  struct winsize ws;
  int tty = isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0;
  size_t envc = 0;
  while (environ[envc]) envc++;
  b->len = 4;
  if (!add(b, STANDBY_HELLO) || !add(b, dist) || !add(b, kind) || !add(b, cwd) || !add_num(b, (long)mask)) return 0;
  if (!add_num(b, tty ? ws.ws_col : 0) || !add_num(b, tty ? ws.ws_row : 0) || !add(b, bin) || !add_num(b, argc - 2)) return 0;
  for (int i = 2; i < argc; i++)
    if (!add(b, argv[i])) return 0;
  if (!add_num(b, (long)envc)) return 0;
  for (size_t i = 0; i < envc; i++)
    if (!add(b, environ[i])) return 0;
  uint32_t n = (uint32_t)(b->len - 4);
  b->b[0] = (char)(n >> 24), b->b[1] = (char)(n >> 16), b->b[2] = (char)(n >> 8), b->b[3] = (char)n;
  return 1;
}

/* Sends the request with our stdout and stderr; 0 when it did not all go. */
static int send_request(int s, const Buf *b) {
  int fds[2] = {1, 2};
  union {
    struct cmsghdr align;
    char b[CMSG_SPACE(sizeof fds)];
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct iovec iov = {b->b, b->len};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(c), fds, sizeof fds);
  ssize_t w;
  while ((w = sendmsg(s, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (w <= 0) return 0;
  for (size_t off = (size_t)w; off < b->len; off += (size_t)w) {
    while ((w = send(s, b->b + off, b->len - off, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    if (w <= 0) return 0;
  }
  return 1;
}

static volatile pid_t standby_pid; /* the standby's copy running our spawn: what a Ctrl-C is passed to */
static volatile sig_atomic_t held_sig; /* one that came before we knew that copy */

/* The listener is of our uid, as the kernel says (the directory was checked before: this
   is for a path that changed since). */
static int ours(int s) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  return getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred && cred.uid == getuid();
}

/*
 * The user's Ctrl-C, Ctrl-\ or hang-up reach us (the terminal's process group) but not the
 * standby (a session of its own): passed on as SIGUSR2, which ends it until it leaves the
 * terminal and is ignored after (src/spawn-front-end.ts), as the CLI in our process group
 * would have ended, or not. Then we end by the signal, as we would have.
 */
static void pass_on(int sig) {
  if (standby_pid <= 0) {
    held_sig = sig; /* passed on once the copy says its pid (`running PID`) */
    return;
  }
  kill(standby_pid, SIGUSR2);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* One line from the standby (without its newline), waiting up to `ms` (-1: for ever); 0 on EOF, error or timeout. */
static int read_line(int s, char *line, size_t cap, int ms) {
  size_t len = 0;
  while (len + 1 < cap) {
    struct pollfd p = {s, POLLIN, 0};
    int r = poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    ssize_t n = read(s, line + len, 1); /* byte by byte: nothing past the line is ours */
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    if (line[len] == '\n') {
      line[len] = 0;
      return 1;
    }
    len++;
  }
  return 0;
}

/* Whether standbys are used here, and where: the runtime directory, private and ours. */
static int standby_dir(char *base, size_t cap) {
  const char *off = getenv("SYMPOSIUM_STANDBY");
  if (off && !strcmp(off, "0")) return 0;
  return runtime_base(base, cap) && private_dir(base);
}

/* What became of asking the standby. */
enum { STANDBY_NONE, STANDBY_TAKEN, STANDBY_REFUSED };

/*
 * A connection to the standby of this runtime directory: its socket a socket of ours (never
 * a symlink followed), its listener of our uid; -1 when none listens there.
 */
static int standby_connect(const char *base) {
  char path[PATH_MAX];
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  struct stat st;
  if (!join(base, STANDBY_SOCKET, path, sizeof path) || strlen(path) >= sizeof addr.sun_path) return -1;
  if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_uid != getuid()) return -1;
  strcpy(addr.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof addr) == 0 && ours(s)) return s;
  if (s >= 0) close(s);
  return -1;
}

/*
 * The command through the standby (`kind`: wire.ts): STANDBY_TAKEN with *code, or
 * STANDBY_NONE (none answers there, it was of another build and ends, or its copy ended
 * before `running`) or STANDBY_REFUSED (it stays, but does not take this command), and
 * nothing happened.
 */
static int try_standby(const char *base, const char *kind, char **argv, int argc, int *code) {
  int s = standby_connect(base);
  if (s < 0) return STANDBY_NONE;
  Buf b = {0};
  char line[512];
  int answered = standby_request(&b, kind, argv, argc) && send_request(s, &b) && read_line(s, line, sizeof line, STANDBY_OK_WAIT_MS);
  free(b.b);
  /* `go` (an empty request) once `ok` came: without it the standby runs nothing. */
  static const char go[4] = {0, 0, 0, 0};
  if (!answered || strcmp(line, "ok") != 0 || send(s, go, sizeof go, MSG_NOSIGNAL) != (ssize_t)sizeof go) {
    close(s);
    /* `refused`: that standby stays, and no other is started for it; none, `stale`: none is left */
    return answered && !strncmp(line, "refused ", 8) ? STANDBY_REFUSED : STANDBY_NONE;
  }
  /* Taken: the command runs there, printing to our stdout and stderr; then its code. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = pass_on;
  static const int passed[3] = {SIGINT, SIGQUIT, SIGHUP};
  struct sigaction before[3];
  for (int i = 0; i < 3; i++) {
    /* One ignored by whoever started us (`nohup`, `cmd &`) stays ignored, as for the CLI. */
    if (sigaction(passed[i], NULL, &before[i]) == 0 && before[i].sa_handler != SIG_IGN) sigaction(passed[i], &sa, NULL);
  }
  char word[8];
  int pid = 0;
  if (!read_line(s, line, sizeof line, -1) || sscanf(line, "running %d", &pid) != 1 || pid <= 0) {
    /* Nothing runs there (a copy says `running` before it runs anything): as if no standby
       had answered, the user's Ctrl-C ours again. */
    close(s);
    for (int i = 0; i < 3; i++) sigaction(passed[i], &before[i], NULL);
    if (held_sig) raise(held_sig);
    return STANDBY_NONE;
  }
  standby_pid = pid;
  if (held_sig) pass_on(held_sig);
  if (read_line(s, line, sizeof line, -1) && sscanf(line, "%7s %d", word, code) == 2 && *code >= 0 && *code <= 255 &&
      (!strcmp(word, "exit") || !strcmp(word, "ended"))) {
    return STANDBY_TAKEN;
  }
  fprintf(stderr, "symposium-mcp: the process running this command ended without an answer (its log, if any: %s/" STANDBY_LOG ")\n", base);
  *code = 1;
  return STANDBY_TAKEN;
}

/* Whether a standby of ours listens there now (a connect and a hang-up: it goes on waiting). */
static int standby_listening(const char *base) {
  int s = standby_connect(base);
  if (s >= 0) close(s);
  return s >= 0;
}

/* What start_standby did. */
enum { START_NONE, START_OURS, START_OTHERS };

/* Whether another spawn is starting a standby there now (its start not stale). */
static int standby_starting(const char *base) {
  char lock[PATH_MAX];
  struct stat st;
  return join(base, STANDBY_STARTING, lock, sizeof lock) && lstat(lock, &st) == 0 && time(NULL) - st.st_mtime <= STANDBY_START_STALE_S;
}

/* Waits while a standby starts there: 1 once one listens, 0 when the start ended without
   one or took too long. */
static int standby_started(const char *base) {
  for (int waited = 0; waited < STANDBY_START_WAIT_MS; waited += STANDBY_POLL_MS) {
    if (standby_listening(base)) return 1;
    if (!standby_starting(base)) return standby_listening(base);
    struct timespec t = {0, STANDBY_POLL_MS * 1000000L};
    nanosleep(&t, NULL);
  }
  return 0;
}

/*
 * Starts a standby for the next spawn, unless another start is under way: `node FLAGS
 * DIST/standby/main.js`, in a session of its own, no child of ours (we exit now), its
 * stderr in the runtime directory's standby.log. The environment is ours: the supervisor's
 * settings over the user's (the standby takes each spawn's own environment).
 */
static int start_standby(const char *base, const char *bin) {
  char lock[PATH_MAX], log[PATH_MAX], dist[PATH_MAX], main_js[PATH_MAX + 32];
  if (!join(base, STANDBY_STARTING, lock, sizeof lock) || !join(base, STANDBY_LOG, log, sizeof log) || !dist_of(bin, dist, sizeof dist)) return START_NONE;
  /* Another spawn's start may have made one since we asked (many spawns at once: each
     would start a Node that finds it and leaves, ~100 ms of CPU each). */
  if (standby_listening(base)) return START_OTHERS;
  snprintf(main_js, sizeof main_js, "%s/standby/main.js", dist);
  char bundle[PATH_MAX + 32];
  snprintf(bundle, sizeof bundle, "%s/cli.bundle.js", dist);
  /* Without the CLI's bundle (only tsc ran) a standby would end at once, saving nothing. */
  if (access(main_js, R_OK) != 0 || access(bundle, R_OK) != 0) return START_NONE;
  int l = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  struct stat st;
  if (l < 0 && errno == EEXIST && lstat(lock, &st) == 0 && time(NULL) - st.st_mtime > STANDBY_START_STALE_S) {
    unlink(lock); /* a start that never listened */
    l = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  }
  if (l < 0) return errno == EEXIST ? START_OTHERS : START_NONE;
  close(l);
  pid_t pid = fork();
  if (pid < 0) {
    unlink(lock);
    return START_NONE;
  }
  if (pid == 0) {
    pid_t second = setsid() < 0 ? -1 : fork();
    if (second != 0) {
      if (second < 0) unlink(lock);
      _exit(0);
    }
    int null_fd = open("/dev/null", O_RDWR);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (null_fd < 0 || log_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(log_fd, 2) < 0 || chdir("/") != 0) {
      unlink(lock);
      _exit(1);
    }
    /* Nothing of the caller's beyond 0-2 (a pipe a script waits on must not stay open for
       the standby's life, then its supervisor's). */
    if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
      long max = sysconf(_SC_OPEN_MAX);
      for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++) close((int)fd);
    }
    char *args[NODE_FLAG_COUNT + 3];
    size_t n = 0;
    args[n++] = "node";
    for (size_t i = 0; i < NODE_FLAG_COUNT; i++) args[n++] = (char *)NODE_FLAGS[i];
    args[n++] = main_js;
    args[n] = NULL;
    execvp("node", args);
    unlink(lock);
    _exit(127);
  }
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  return START_OURS;
}

int main(int argc, char **argv) {
  if (argc < 4 || (strcmp(argv[3], "spawn") != 0 && strcmp(argv[3], "list") != 0)) {
    fprintf(stderr, "usage: symposium-spawn BIN agent spawn|list ARGS...\n");
    return 2;
  }
  /* Nothing of ours must start a second front end. */
  setenv("SYMPOSIUM_NATIVE_CLIENT", "0", 1);
  if (set_supervisor_env() != 0) plain_node(argv, argc);
  char base[PATH_MAX];
  int standbys = standby_dir(base, sizeof base);
  int code = 0;
  if (!strcmp(argv[3], "list")) {
    /* `agent list` runs in a copy of the standby when one listens (a fork, ~6 ms, against
       a Node start, ~70 ms of its ~90 at 100 agents); never starts one. */
    if (standbys && try_standby(base, "run", argv, argc, &code) == STANDBY_TAKEN) return code;
    plain_node(argv, argc);
  }
  int asked = standbys ? try_standby(base, "spawn", argv, argc, &code) : STANDBY_NONE;
  if (asked == STANDBY_NONE && standbys) {
    /* None listens: start one now, while ours runs as usual, or wait for the one another
       spawn is starting (or that listens since we asked). */
    if (start_standby(base, argv[1]) == START_OTHERS && standby_started(base)) asked = try_standby(base, "spawn", argv, argc, &code);
  }
  if (asked == STANDBY_TAKEN) {
    /* A copy of the standby ran it; the standby waits for the next (or, when it could not
       make a copy, ran it itself: the next spawn finds none and starts one). */
    return code;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) plain_node(argv, argc);
  pid_t child = fork();
  if (child < 0) plain_node(argv, argc);
  if (child == 0) {
    /* fd 3 for the CLI, open across exec; the read end closes on exec. */
    if (p[1] == REPORT_FD) {
      if (fcntl(REPORT_FD, F_SETFD, 0) != 0) _exit(1);
    } else if (dup2(p[1], REPORT_FD) < 0) {
      _exit(1);
    }
    setenv("SYMPOSIUM_SPAWN_REPORT_FD", "3", 1);
    exec_node(argv, argc, NODE_FLAGS, NODE_FLAG_COUNT);
  }
  close(p[1]);
  code = read_exit_code(p[0]);
  if (code >= 0) {
    /* The CLI became the supervisor. The runtime directory was not there when we asked
       (the first spawn makes it): a standby for the spawns that follow. Otherwise one was
       started, or found, above. */
    if (!standbys && standby_dir(base, sizeof base)) start_standby(base, argv[1]);
    return code;
  }
  /* No word: the CLI ended (or is ending); its status is the answer. */
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}
