/*
 * The project's Node addon: calls Node does not have.
 *
 * trim(): glibc's malloc_trim(0), which gives the kernel back every whole free page of the
 *   allocator's heap, not only its top (what MALLOC_TRIM_THRESHOLD_ does on each free). The
 *   supervisor calls it after its collections (src/supervisor/lifecycle/settle-gc.ts): a
 *   burst of output leaves the heap full of holes between the buffers that live on (the
 *   history's chunks, xterm's lines), measured 2.6 MB of a supervisor holding a full
 *   10 000-line history.
 *
 * peer(fd): who is at the other end of a Unix socket, as the kernel recorded it at connect
 *   (SO_PEERCRED): [pid, uid, gid], or a negative errno. The supervisor asks it for every
 *   viewer that hands over its terminal (src/supervisor/viewers/peer-terminal.ts). Without
 *   the addon the native relay's "peer" mode answers instead, as a process of its own: 15-20
 *   ms of every such attach here, and a fork of the supervisor.
 *
 * rawOutput(fd): output processing off on a terminal (OPOST, as cfmakeraw and tmux's client
 *   do; Node's raw mode keeps it): 0, or a negative errno. `agent attach` calls it once its
 *   terminal is raw (src/backends/pty/attach-terminal.ts). Without the addon it runs
 *   `stty -opost`: Node's child_process loaded and a fork, 5-10 ms of the attach here.
 *
 * setsid(), dupCloexec(fd), dup2(from, to): what a process needs to leave its terminal for
 *   a session of its own and put a log under its standard descriptors, which Node does only
 *   when it starts a child. The CLI started by `agent spawn`'s native front end does that as
 *   it becomes the agent's supervisor (src/spawn-front-end.ts), instead of starting a
 *   second Node for it (~40 ms of each spawn and ~50 ms of CPU here). Each answers a
 *   descriptor or 0, or a negative errno.
 *
 * receive(fd, max, ms): one request to the standby (src/standby/serve.ts): a 4-byte length,
 *   then that many bytes (at most `max`), with the descriptors the client sent along
 *   (SCM_RIGHTS), read within `ms` from the connected socket `fd`: [body, fd...], or a
 *   negative errno. Node's sockets read bytes only and close what comes along.
 *
 * mapText(path): a file's bytes as a Latin-1 string that V8 reads from a read-only map of
 *   the file (an external string), or a negative errno (-ENOSYS: this Node has no external
 *   strings, 20.4 and later). A supervisor holds its bundle's source for as long as it runs
 *   (V8 compiles functions from it when first called): read into V8's heap, 0.65 MB of
 *   private memory in each; mapped, pages of the page cache that all supervisors share
 *   (src/supervisor/launch.ts). The file must not change in place while mapped (cut short,
 *   a supervisor would fault compiling a function past its end), as node-pty's and this
 *   addon's own .node files, which every supervisor maps too: the build and npm replace
 *   files (a new inode, the old one stays while mapped), they never write into them.
 *
 * forkDetached(): a copy of this process, for the standby to serve each spawn from a process
 *   that has Node started and both bundles loaded and compiled already (src/standby/
 *   serve.ts): in this process the copy's pid, or a negative errno; in the copy 0, once it
 *   is in a session of its own, no child of ours (a fork between, reaped at once: nobody
 *   here waits for an agent's supervisor) and its event loop made its own (libuv's
 *   uv_loop_fork: a new epoll set, signal pipe and async wake-up). V8 marks its heap's
 *   mappings MADV_DONTFORK (the copy would fault on its first object): every anonymous
 *   mapping is made inherited first. Only this thread goes on in the copy: the process
 *   must not count on Node's worker threads (the supervisor's flags keep V8's work on the
 *   main thread: --single-threaded) nor end through Node's teardown, which waits for them
 *   (exitNow). Measured: 5.7-8.2 ms, 2.5-3.5 ms of its CPU, for a standby of 57 MB
 *   resident (two forks: page tables copied twice).
 *
 * exitNow(code): _exit(code), for such a copy, once its 'exit' listeners ran. Output still
 *   queued for a full pipe is lost, as at Node's own exit: the CLI waits for it first
 *   (src/cli/main.ts). restoreStdio(): the status flags of 0-2 put back as dup2 found them,
 *   as Node's exit would have (a pipe it made non-blocking is the caller's too); a copy
 *   calls it before its 'exit' listeners, the first of which tells the front end it ended.
 *   ownPid(): getpid(), for the copy's process.pid.
 *
 * ptySpawn(file, args, env, cwd, cols, rows, utf8, onexit): the agent started on a new
 *   pseudo-terminal as node-pty's own fork does (its termios, the window size, a session
 *   of its own with the terminal as its controlling one, every signal at its default and
 *   none blocked, `cwd`, `env` as given, the program looked up in that env's PATH), but with
 *   posix_spawn, which clones without copying the page tables: a supervisor copied from
 *   the standby has ~57 MB mapped, which node-pty's forkpty copied for each agent (and
 *   the child tore down again at its exec), and every page the supervisor wrote after it
 *   faulted once more (src/supervisor/lifecycle/pty-spawn.ts has the figures).
 *   { fd, pid, pty } as node-pty's fork answers, the master non-blocking; `onexit(code,
 *   signal)` is called on the main thread once the child is reaped (a thread waits for it,
 *   as node-pty's does, made before the agent starts). A negative errno when it cannot,
 *   then nothing was started and no descriptor is left, and the caller falls back to
 *   node-pty's fork: -ENOENT for a program it does not find, -ENOSYS where its lookup could
 *   differ from execvp's (a relative PATH entry) or glibc is older than 2.29.
 *
 * Built by scripts/build-relay.js with the plain C compiler, without Node's headers: the
 * few Node-API declarations it needs are here, the symbols come from the node binary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>
#include <pthread.h>
#include <spawn.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <semaphore.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status;
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);
#define NAPI_AUTO_LENGTH ((size_t)-1)

extern napi_status napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern napi_status napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern napi_status napi_get_boolean(napi_env, int, napi_value *);
extern napi_status napi_get_cb_info(napi_env, napi_callback_info, size_t *, napi_value *, napi_value *, void **);
extern napi_status napi_get_value_int32(napi_env, napi_value, int32_t *);
extern napi_status napi_create_int32(napi_env, int32_t, napi_value *);
extern napi_status napi_create_uint32(napi_env, uint32_t, napi_value *);
extern napi_status napi_create_array_with_length(napi_env, size_t, napi_value *);
extern napi_status napi_set_element(napi_env, napi_value, uint32_t, napi_value);
extern napi_status napi_create_buffer_copy(napi_env, size_t, const void *, void **, napi_value *);
extern napi_status napi_get_value_string_utf8(napi_env, napi_value, char *, size_t, size_t *);
struct uv_loop_s;
extern napi_status napi_get_uv_event_loop(napi_env, struct uv_loop_s **);
extern int uv_loop_fork(struct uv_loop_s *);
typedef void (*napi_finalize)(napi_env, void *, void *);
typedef struct napi_threadsafe_function__ *napi_threadsafe_function;
typedef void (*napi_threadsafe_function_call_js)(napi_env, napi_value, void *, void *);
extern napi_status napi_create_threadsafe_function(napi_env, napi_value, napi_value, napi_value, size_t, size_t, void *, napi_finalize, void *,
                                                   napi_threadsafe_function_call_js, napi_threadsafe_function *);
extern napi_status napi_call_threadsafe_function(napi_threadsafe_function, void *, int);
extern napi_status napi_release_threadsafe_function(napi_threadsafe_function, int);
extern napi_status napi_call_function(napi_env, napi_value, napi_value, size_t, const napi_value *, napi_value *);
extern napi_status napi_get_undefined(napi_env, napi_value *);
extern napi_status napi_create_object(napi_env, napi_value *);
extern napi_status napi_create_string_utf8(napi_env, const char *, size_t, napi_value *);
extern napi_status napi_get_array_length(napi_env, napi_value, uint32_t *);
extern napi_status napi_get_element(napi_env, napi_value, uint32_t, napi_value *);
extern napi_status napi_get_value_bool(napi_env, napi_value, _Bool *);
#define NAPI_TSFN_RELEASE 0
#define NAPI_TSFN_NONBLOCKING 0
/* Weak: glibc has it from 2.29 (Node 20 runs on 2.28); without it ptySpawn says -ENOSYS. */
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *, const char *) __attribute__((weak));
/* Weak: a Node without it (before 20.4) still loads the addon; mapText then says -ENOSYS. */
extern napi_status node_api_create_external_string_latin1(napi_env, char *, size_t, napi_finalize, void *, napi_value *, _Bool *)
    __attribute__((weak));

/* trim(): true when memory was given back. */
static napi_value trim(napi_env env, napi_callback_info info) {
  napi_value released = NULL;
  (void)info;
  napi_get_boolean(env, malloc_trim(0), &released);
  return released;
}

static napi_value int_value(napi_env env, int32_t n) {
  napi_value v = NULL;
  napi_create_int32(env, n, &v);
  return v;
}

/* The call's one argument, a descriptor: -1 when there is none or it is not one. */
static int32_t fd_arg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != 0) return -1;
  return fd < 0 ? -1 : fd;
}

/* peer(fd): [pid, uid, gid] of the socket's other end, or -errno (-EBADF for a bad fd). */
static napi_value peer(napi_env env, napi_callback_info info) {
  int32_t fd = fd_arg(env, info);
  if (fd < 0) return int_value(env, -EBADF);
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return int_value(env, -errno);
  if (len != sizeof cred) return int_value(env, -EPROTO);
  napi_value out = NULL, v = NULL;
  if (napi_create_array_with_length(env, 3, &out) != 0) return int_value(env, -ENOMEM);
  const uint32_t fields[3] = {(uint32_t)cred.pid, (uint32_t)cred.uid, (uint32_t)cred.gid};
  for (uint32_t i = 0; i < 3; i++) {
    if (napi_create_uint32(env, fields[i], &v) != 0 || napi_set_element(env, out, i, v) != 0) return int_value(env, -ENOMEM);
  }
  return out;
}

/* rawOutput(fd): 0, or -errno. */
static napi_value raw_output(napi_env env, napi_callback_info info) {
  int32_t fd = fd_arg(env, info);
  if (fd < 0) return int_value(env, -EBADF);
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return int_value(env, -errno);
  if (!(t.c_oflag & OPOST)) return int_value(env, 0);
  t.c_oflag &= ~(tcflag_t)OPOST;
  /* TCSANOW: what was written before was processed as it was written. */
  return int_value(env, tcsetattr(fd, TCSANOW, &t) == 0 ? 0 : -errno);
}

/* setsid(): the new session's id, or -errno (-EPERM for a process group leader). */
static napi_value new_session(napi_env env, napi_callback_info info) {
  (void)info;
  pid_t sid = setsid();
  return int_value(env, sid < 0 ? -errno : (int32_t)sid);
}

/* dupCloexec(fd): a new descriptor for the same file, closed on exec, or -errno. */
static napi_value dup_cloexec(napi_env env, napi_callback_info info) {
  int32_t fd = fd_arg(env, info);
  if (fd < 0) return int_value(env, -EBADF);
  int out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  return int_value(env, out < 0 ? -errno : out);
}

/* The status flags of 0-2 as dup2 put them there, for restoreStdio to put back: Node makes a
   pipe it writes to non-blocking (libuv's uv_pipe_open), on the open file description it
   shares with whoever handed it over, and only its own exit (ResetStdio) undoes that. */
static int stdio_flags[3] = {-1, -1, -1};

/* dup2(from, to): 0, or -errno. `to` is not closed on exec (it is a standard descriptor). */
static napi_value dup_to(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  int32_t from = -1, to = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 2 || napi_get_value_int32(env, argv[0], &from) != 0 ||
      napi_get_value_int32(env, argv[1], &to) != 0 || from < 0 || to < 0)
    return int_value(env, -EBADF);
  int r;
  do r = dup2(from, to);
  while (r < 0 && errno == EINTR);
  if (r >= 0 && to <= 2) stdio_flags[to] = fcntl(to, F_GETFL);
  return int_value(env, r < 0 ? -errno : 0);
}

#define RECEIVE_MAX_FDS 4

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* receive(fd, max, ms): [body, fd...] or -errno (-ETIMEDOUT, -EMSGSIZE, -ECONNRESET at EOF). */
static napi_value receive(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {NULL, NULL, NULL};
  int32_t fd = -1, max = 0, ms = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 3 || napi_get_value_int32(env, argv[0], &fd) != 0 ||
      napi_get_value_int32(env, argv[1], &max) != 0 || napi_get_value_int32(env, argv[2], &ms) != 0 || fd < 0 || max < 0 || ms < 0)
    return int_value(env, -EINVAL);
  unsigned char head[4];
  unsigned char *body = NULL;
  uint32_t need = 0;
  size_t have = 0; /* bytes of head and body so far */
  int fds[RECEIVE_MAX_FDS], nfds = 0, err = 0;
  long long deadline = now_ms() + ms;
  while (!err && (have < 4 || have < 4 + (size_t)need)) {
    long long left = deadline - now_ms();
    struct pollfd p = {fd, POLLIN, 0};
    int r = left > 0 ? poll(&p, 1, (int)left) : 0;
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      err = r < 0 ? errno : ETIMEDOUT;
      break;
    }
    union {
      struct cmsghdr align;
      char b[CMSG_SPACE(sizeof(int) * RECEIVE_MAX_FDS)];
    } ctl;
    struct iovec iov = have < 4 ? (struct iovec){head + have, 4 - have} : (struct iovec){body + have - 4, 4 + need - have};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
    ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
        int got;
        memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
        if (nfds < RECEIVE_MAX_FDS) fds[nfds++] = got;
        else close(got);
      }
    }
    if (n < 0 || (m.msg_flags & MSG_CTRUNC)) err = n < 0 ? errno : EMSGSIZE;
    else if (n == 0) err = ECONNRESET;
    else if ((have += (size_t)n) == 4) {
      need = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
      if (need > (uint32_t)max) err = EMSGSIZE;
      else if (!(body = malloc(need ? need : 1))) err = ENOMEM;
    }
  }
  napi_value out = NULL, v = NULL;
  if (!err && (napi_create_array_with_length(env, 1 + (size_t)nfds, &out) != 0 || napi_create_buffer_copy(env, need, body, NULL, &v) != 0 ||
               napi_set_element(env, out, 0, v) != 0))
    err = ENOMEM;
  for (int i = 0; !err && i < nfds; i++)
    if (napi_create_int32(env, fds[i], &v) != 0 || napi_set_element(env, out, (uint32_t)i + 1, v) != 0) err = ENOMEM;
  free(body);
  if (!err) return out;
  for (int i = 0; i < nfds; i++) close(fds[i]);
  return int_value(env, -err);
}

static void unmap_text(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

/* mapText(path): an external Latin-1 string over a read-only map of the file, or -errno. */
static napi_value map_text(napi_env env, napi_callback_info info) {
  if (!node_api_create_external_string_latin1) return int_value(env, -ENOSYS);
  size_t argc = 1, len = 0, got = 0;
  napi_value argv[1] = {NULL};
  char path[4096];
  /* The whole path or nothing (a long one would come back cut short), and no NUL inside. */
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 1 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != 0 ||
      len == 0 || len >= sizeof path || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &got) != 0 || got != len || strlen(path) != len)
    return int_value(env, -EINVAL);
  /* O_NONBLOCK: a FIFO in its place must not hold the event loop until a writer comes. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return int_value(env, -errno);
  struct stat st;
  int err = fstat(fd, &st) != 0 ? errno : !S_ISREG(st.st_mode) || st.st_size <= 0 ? EINVAL : 0;
  void *p = MAP_FAILED;
  if (!err && (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) err = errno;
  close(fd);
  if (err) return int_value(env, -err);
  size_t size = (size_t)st.st_size;
  napi_value s = NULL;
  _Bool copied = 0;
  /* Copied (V8 declined to keep it outside its heap): the finalizer has already unmapped it. */
  if (node_api_create_external_string_latin1(env, p, size, unmap_text, (void *)(uintptr_t)size, &s, &copied) != 0) {
    munmap(p, size);
    return int_value(env, -ENOMEM);
  }
  return s;
}

/* Every anonymous private mapping inherited by a child (MADV_DOFORK): V8 marks its heap's
   MADV_DONTFORK. 0, or -errno when the maps cannot be read. */
static int inherit_anonymous_maps(void) {
  FILE *f = fopen("/proc/self/maps", "re");
  if (!f) return -errno;
  char line[4096 + 128];
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi, inode;
    char perms[8];
    int name_at = 0;
    /* "lo-hi perms offset dev inode [name]": anonymous when the inode is 0 and no name follows */
    if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %n", &lo, &hi, perms, &inode, &name_at) < 4 || inode != 0 || perms[3] != 'p') continue;
    if (name_at > 0 && line[name_at] != '\n' && line[name_at] != 0) continue;
    madvise((void *)lo, hi - lo, MADV_DOFORK); /* EINVAL for a mapping that must not be: left */
  }
  fclose(f);
  return 0;
}

/* Reads all of `n` bytes from `fd` (EINTR retried): 1 when read, 0 otherwise. */
static int read_all(int fd, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    got += (size_t)r;
  }
  return 1;
}

/* forkDetached(): the copy's pid here, 0 in the copy, or -errno. The copy goes on only once
   this process has its pid (a byte down `go`): one whose pid never came up (the process
   between killed after its fork) ends at once, so that a negative answer here always
   means that no copy runs. */
static napi_value fork_detached(napi_env env, napi_callback_info info) {
  (void)info;
  struct uv_loop_s *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != 0 || !loop) return int_value(env, -EINVAL);
  int err = -inherit_anonymous_maps();
  int up[2], go[2];
  if (err) return int_value(env, -err);
  if (pipe2(up, O_CLOEXEC) != 0) return int_value(env, -errno);
  if (pipe2(go, O_CLOEXEC) != 0) {
    err = errno;
    close(up[0]);
    close(up[1]);
    return int_value(env, -err);
  }
  pid_t between = fork();
  if (between < 0) {
    err = errno;
    close(up[0]);
    close(up[1]);
    close(go[0]);
    close(go[1]);
    return int_value(env, -err);
  }
  if (between == 0) {
    /* The one between: the copy's pid (or why there is none) up the pipe, and gone. */
    close(up[0]);
    close(go[1]);
    pid_t copy = setsid() < 0 ? -1 : fork();
    if (copy != 0) {
      int32_t said = copy > 0 ? (int32_t)copy : -errno;
      ssize_t w;
      do w = write(up[1], &said, sizeof said);
      while (w < 0 && errno == EINTR);
      _exit(0);
    }
    close(up[1]);
    char byte;
    int told = read_all(go[0], &byte, 1);
    close(go[0]);
    if (!told) _exit(0);
    if (uv_loop_fork(loop) != 0) _exit(125);
    return int_value(env, 0);
  }
  close(up[1]);
  close(go[0]);
  int32_t copy = -EPIPE;
  if (!read_all(up[0], &copy, sizeof copy)) copy = -EPIPE;
  close(up[0]);
  while (waitpid(between, NULL, 0) < 0 && errno == EINTR) {
  }
  if (copy > 0) {
    ssize_t w;
    do w = write(go[1], "g", 1);
    while (w < 0 && errno == EINTR);
    if (w != 1) copy = -EPIPE; /* it went: nothing runs there */
  }
  close(go[1]);
  return int_value(env, copy);
}

/* ownPid(): getpid(), which Node reads once at its start (a copy is another process). */
static napi_value own_pid(napi_env env, napi_callback_info info) {
  (void)info;
  return int_value(env, (int32_t)getpid());
}

/* restoreStdio(): the status flags of 0-2 put back as dup2 found them. */
static napi_value restore_stdio(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  for (int fd = 0; fd <= 2; fd++)
    if (stdio_flags[fd] >= 0) fcntl(fd, F_SETFL, stdio_flags[fd]);
  return NULL;
}

/* exitNow(code): does not return. */
static napi_value exit_now(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  int32_t code = 1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 1 || napi_get_value_int32(env, argv[0], &code) != 0) code = 1;
  _exit(code & 0xff);
}

/* A JS string argument, malloc'd (NULL when it is not one). */
static char *string_arg(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != 0) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  if (napi_get_value_string_utf8(env, v, s, len + 1, &len) != 0) {
    free(s);
    return NULL;
  }
  return s;
}

static void free_strings(char **list) {
  if (!list) return;
  for (char **p = list; *p; p++) free(*p);
  free(list);
}

/* A JS array of strings as a NULL-ended list, `first` (if any) put before them. */
static char **string_list(napi_env env, napi_value v, const char *first) {
  uint32_t n = 0;
  if (napi_get_array_length(env, v, &n) != 0) return NULL;
  size_t extra = first ? 1 : 0;
  char **list = calloc(n + extra + 1, sizeof *list);
  if (!list) return NULL;
  if (first && !(list[0] = strdup(first))) {
    free(list);
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    if (napi_get_element(env, v, i, &item) != 0 || !(list[extra + i] = string_arg(env, item))) {
      free_strings(list);
      return NULL;
    }
  }
  return list;
}

/* `file` as execvp finds it with the PATH of `envp` (its first; glibc's default without
   one), malloc'd; NULL with *why: ENOENT when no candidate is an executable regular file
   (the caller's fallback, node-pty's fork, then fails as it always did), ENOSYS where the
   lookup could differ from execvp's in the child (a relative or empty PATH entry, which
   it reads from the agent's directory; an error at which execvp stops). */
static char *find_program(const char *file, char **envp, int *why) {
  *why = ENOENT;
  if (strchr(file, '/')) return strdup(file); /* relative ones: from the child's directory, as execvp */
  const char *path = "/bin:/usr/bin";
  for (char **e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) {
      path = *e + 5;
      break;
    }
  size_t flen = strlen(file);
  for (const char *p = path;; p++) {
    const char *end = strchr(p, ':');
    size_t dlen = end ? (size_t)(end - p) : strlen(p);
    if (dlen == 0 || p[0] != '/') {
      *why = ENOSYS;
      return NULL;
    }
    char *full = malloc(dlen + flen + 2);
    if (!full) {
      *why = ENOMEM;
      return NULL;
    }
    snprintf(full, dlen + flen + 2, "%.*s/%s", (int)dlen, p, file);
    struct stat st;
    if (stat(full, &st) == 0) {
      if (S_ISREG(st.st_mode) && access(full, X_OK) == 0) return full;
    } else if (errno != ENOENT && errno != ENOTDIR && errno != EACCES && errno != ESTALE && errno != ENODEV && errno != ETIMEDOUT) {
      free(full);
      *why = ENOSYS;
      return NULL;
    }
    free(full);
    if (!end) return NULL;
    p = end;
  }
}

/* node-pty 1.1.0's termios for a new pty (src/unix/pty.cc, PtyFork), byte for byte. */
static void agent_termios(struct termios *t, int utf8) {
  memset(t, 0, sizeof *t);
  t->c_iflag = ICRNL | IXON | IXANY | IMAXBEL | BRKINT;
  if (utf8) t->c_iflag |= IUTF8;
  t->c_oflag = OPOST | ONLCR;
  t->c_cflag = CREAD | CS8 | HUPCL;
  t->c_lflag = ICANON | ISIG | IEXTEN | ECHO | ECHOE | ECHOK | ECHOKE | ECHOCTL;
  t->c_cc[VEOF] = 4;
  t->c_cc[VEOL] = (cc_t)-1;
  t->c_cc[VEOL2] = (cc_t)-1;
  t->c_cc[VERASE] = 0x7f;
  t->c_cc[VWERASE] = 23;
  t->c_cc[VKILL] = 21;
  t->c_cc[VREPRINT] = 18;
  t->c_cc[VINTR] = 3;
  t->c_cc[VQUIT] = 0x1c;
  t->c_cc[VSUSP] = 26;
  t->c_cc[VSTART] = 17;
  t->c_cc[VSTOP] = 19;
  t->c_cc[VLNEXT] = 22;
  t->c_cc[VDISCARD] = 15;
  t->c_cc[VMIN] = 1;
  t->c_cc[VTIME] = 0;
  cfsetispeed(t, B38400);
  cfsetospeed(t, B38400);
}

/* The thread that waits for the agent and the threadsafe function it calls through, which
   Node may finalize first as its environment ends: each holds a reference, and `gone`
   (under `lock`) tells the thread not to touch the function any more. */
struct exit_watch {
  pid_t pid; /* set before `started` is posted: the agent's, or -1 when none was started */
  napi_threadsafe_function tsfn;
  pthread_mutex_t lock;
  int gone;
  int refs;
  sem_t started;
};

struct exit_status {
  int32_t code;
  int32_t signal;
};

static void watch_unref(struct exit_watch *w) {
  pthread_mutex_lock(&w->lock);
  int left = --w->refs;
  pthread_mutex_unlock(&w->lock);
  if (left) return;
  pthread_mutex_destroy(&w->lock);
  sem_destroy(&w->started);
  free(w);
}

static void watch_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct exit_watch *w = data;
  pthread_mutex_lock(&w->lock);
  w->gone = 1;
  pthread_mutex_unlock(&w->lock);
  watch_unref(w);
}

/* On the main thread: onexit(code, signal). */
static void call_onexit(napi_env env, napi_value onexit, void *context, void *data) {
  (void)context;
  struct exit_status *st = data;
  if (env && onexit) {
    napi_value args[2], undefined, result;
    napi_create_int32(env, st->code, &args[0]);
    napi_create_int32(env, st->signal, &args[1]);
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, onexit, 2, args, &result);
  }
  free(st);
}

static void *wait_for_exit(void *arg) {
  struct exit_watch *w = arg;
  while (sem_wait(&w->started) != 0 && errno == EINTR) {
  }
  if (w->pid > 0) {
    int status = 0;
    pid_t r;
    do r = waitpid(w->pid, &status, 0);
    while (r < 0 && errno == EINTR);
    struct exit_status *st = calloc(1, sizeof *st);
    if (st) {
      /* As node-pty: the code when it exited, the signal when one ended it (ECHILD: 0, 0). */
      if (r == w->pid && WIFEXITED(status)) st->code = WEXITSTATUS(status);
      if (r == w->pid && WIFSIGNALED(status)) st->signal = WTERMSIG(status);
      pthread_mutex_lock(&w->lock);
      if (!w->gone && napi_call_threadsafe_function(w->tsfn, st, NAPI_TSFN_NONBLOCKING) == 0) st = NULL; /* an unbounded queue */
      pthread_mutex_unlock(&w->lock);
      free(st);
    }
  }
  pthread_mutex_lock(&w->lock);
  if (!w->gone) napi_release_threadsafe_function(w->tsfn, NAPI_TSFN_RELEASE);
  pthread_mutex_unlock(&w->lock);
  watch_unref(w);
  return NULL;
}

/* The spawn itself; 0 with *pid and *master set, or an errno with nothing started and
   nothing left open. Once posix_spawn succeeds the agent runs: nothing may fail after it. */
static int spawn_on_pty(const char *program, char **argv, char **envp, const char *cwd, int cols, int rows, int utf8, pid_t *pid,
                        int *master_out, char *name, size_t name_size) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) return errno;
  int err = 0, slave = -1;
  int flags = fcntl(master, F_GETFL);
  /* Non-blocking, as node-pty makes it; close-on-exec not, as openpty's is not. */
  if (flags < 0 || fcntl(master, F_SETFL, flags | O_NONBLOCK) != 0) err = errno;
  if (!err && (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, name_size) != 0)) err = errno ? errno : EIO;
  if (!err && (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) err = errno;
  struct termios t;
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  agent_termios(&t, utf8);
  if (!err && (tcsetattr(slave, TCSAFLUSH, &t) != 0 || ioctl(slave, TIOCSWINSZ, &ws) != 0)) err = errno;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  int fa_ok = 0, attr_ok = 0;
  if (!err) err = posix_spawn_file_actions_init(&fa);
  if (!err) fa_ok = 1;
  if (!err) err = posix_spawnattr_init(&attr);
  if (!err) attr_ok = 1;
  sigset_t all, none;
  /* Every signal back to its default, glibc's own two (32, 33) too: sigfillset leaves them
     out, and posix_spawn then leaves them ignored in the agent (node-pty's fork does not). */
  memset(&all, 0xff, sizeof all);
  sigemptyset(&none);
  /* In the child, in this order: a session of its own (the attribute, before the actions),
     the directory, the terminal opened as fd 0 (it becomes the controlling terminal), then
     on 1 and 2; the master is not the child's. */
  if (!err) err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (!err) err = posix_spawnattr_setsigdefault(&attr, &all);
  if (!err) err = posix_spawnattr_setsigmask(&attr, &none);
  if (!err && cwd[0]) err = posix_spawn_file_actions_addchdir_np(&fa, cwd);
  if (!err) err = posix_spawn_file_actions_addclose(&fa, master);
  if (!err) err = posix_spawn_file_actions_addopen(&fa, 0, name, O_RDWR, 0);
  if (!err) err = posix_spawn_file_actions_adddup2(&fa, 0, 1);
  if (!err) err = posix_spawn_file_actions_adddup2(&fa, 0, 2);
  if (!err) err = posix_spawn(pid, program, &fa, &attr, argv, envp);
  if (fa_ok) posix_spawn_file_actions_destroy(&fa);
  if (attr_ok) posix_spawnattr_destroy(&attr);
  if (slave >= 0) close(slave);
  if (err) {
    close(master);
    return err;
  }
  *master_out = master;
  return 0;
}

/* ptySpawn(file, args, env, cwd, cols, rows, utf8, onexit): { fd, pid, pty }, or -errno.
   The thread that will wait is made first, so that nothing can fail once the agent runs. */
static napi_value pty_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value a[8] = {NULL};
  if (!posix_spawn_file_actions_addchdir_np) return int_value(env, -ENOSYS);
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != 0 || argc < 8) return int_value(env, -EINVAL);
  int32_t cols = 0, rows = 0;
  _Bool utf8 = 0;
  if (napi_get_value_int32(env, a[4], &cols) != 0 || napi_get_value_int32(env, a[5], &rows) != 0 || napi_get_value_bool(env, a[6], &utf8) != 0 ||
      cols <= 0 || rows <= 0 || cols > 0xffff || rows > 0xffff)
    return int_value(env, -EINVAL);
  char *file = string_arg(env, a[0]);
  char *cwd = string_arg(env, a[3]);
  char **argv = file ? string_list(env, a[1], file) : NULL;
  char **envp = string_list(env, a[2], NULL);
  int err = 0;
  char *program = NULL;
  if (!file || !cwd || !argv || !envp) err = EINVAL;
  else {
    int why = 0;
    if (!(program = find_program(file, envp, &why))) err = why;
  }
  struct exit_watch *w = NULL;
  if (!err && !(w = calloc(1, sizeof *w))) err = ENOMEM;
  if (!err) {
    pthread_mutex_init(&w->lock, NULL);
    sem_init(&w->started, 0, 0);
    w->refs = 2; /* the thread's, the finalizer's */
    napi_value name_value = NULL;
    if (napi_create_string_utf8(env, "symposium-pty-exit", NAPI_AUTO_LENGTH, &name_value) != 0 ||
        napi_create_threadsafe_function(env, a[7], NULL, name_value, 0, 1, w, watch_finalized, NULL, call_onexit, &w->tsfn) != 0) {
      pthread_mutex_destroy(&w->lock);
      sem_destroy(&w->started);
      free(w);
      w = NULL;
      err = EINVAL;
    }
  }
  if (!err) {
    pthread_t thread;
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&ta, 64 * 1024); /* it only waits */
    err = pthread_create(&thread, &ta, wait_for_exit, w);
    pthread_attr_destroy(&ta);
    if (err) {
      /* The thread's share: the function released (its finalizer drops the other). */
      napi_release_threadsafe_function(w->tsfn, NAPI_TSFN_RELEASE);
      watch_unref(w);
      w = NULL;
    }
  }
  int master = -1;
  char name[128];
  pid_t pid = 0;
  if (!err) {
    err = spawn_on_pty(program, argv, envp, cwd, cols, rows, utf8, &pid, &master, name, sizeof name);
    w->pid = err ? -1 : pid;
    sem_post(&w->started);
  }
  free(file);
  free(cwd);
  free(program);
  free_strings(argv);
  free_strings(envp);
  if (err) return int_value(env, -err);
  napi_value out = NULL, v;
  napi_create_object(env, &out);
  napi_create_int32(env, master, &v);
  napi_set_named_property(env, out, "fd", v);
  napi_create_int32(env, pid, &v);
  napi_set_named_property(env, out, "pid", v);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "pty", v);
  return out;
}

static void define(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == 0) napi_set_named_property(env, exports, name, fn);
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  define(env, exports, "trim", trim);
  define(env, exports, "peer", peer);
  define(env, exports, "rawOutput", raw_output);
  define(env, exports, "setsid", new_session);
  define(env, exports, "dupCloexec", dup_cloexec);
  define(env, exports, "dup2", dup_to);
  define(env, exports, "receive", receive);
  define(env, exports, "mapText", map_text);
  define(env, exports, "forkDetached", fork_detached);
  define(env, exports, "exitNow", exit_now);
  define(env, exports, "ownPid", own_pid);
  define(env, exports, "restoreStdio", restore_stdio);
  define(env, exports, "ptySpawn", pty_spawn);
  return exports;
}
