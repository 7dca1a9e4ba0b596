/*
 * `agent spawn`'s native front end. bin/symposium-mcp starts it as
 *   symposium-spawn BIN agent spawn ARGS...
 * (BIN: the launcher's real path). It starts the CLI, `node FLAGS BIN agent spawn ARGS...`,
 * under the supervisor's own Node flags and allocator settings, with a pipe as fd 3 named by
 * SYMPOSIUM_SPAWN_REPORT_FD, and exits with the code the CLI writes there (`exit N`). The
 * CLI's process then goes on as the agent's supervisor (src/spawn-front-end.ts): one Node
 * start per spawn instead of two, and the front end is what the user's shell waits for.
 * A CLI that did not become a supervisor (an error, help, the tmux backend) says nothing
 * and ends: its own exit status is the answer, once it is gone.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const NODE_FLAGS[] = {"--max-semi-space-size=4", "--v8-pool-size=1", "--single-threaded-gc", "--expose-gc"};
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

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: symposium-spawn BIN agent spawn ARGS...\n");
    return 2;
  }
  /* Nothing of ours must start a second front end. */
  setenv("SYMPOSIUM_NATIVE_CLIENT", "0", 1);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0 || set_supervisor_env() != 0) plain_node(argv, argc);
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
  int code = read_exit_code(p[0]);
  if (code >= 0) return code;
  /* No word: the CLI ended (or is ending); its status is the answer. */
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}
