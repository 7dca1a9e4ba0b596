/*
 * symposium-relay: the keystroke fast path of a handed-over terminal, and the flood pump.
 *
 * A Node process costs about 50 us per hop in a keystroke's path (measured: a bare Node
 * relay echoes no faster than the supervisor, 1.3-1.4x tmux); this copies bytes between
 * the viewer's terminal and the agent's pty master in C while the supervisor watches
 * (src/supervisor/fast-relay.ts has the other side and the rules of when it runs).
 *
 *   fd 3  a socket to the supervisor
 *   fd 4  the viewer's terminal (the supervisor's descriptor)
 *   fd 5  the agent's pty master
 *   fd 2  the supervisor's log
 * (not 0 and 1: libuv makes a child's fds 0-2 blocking, and these files' flags are shared
 * with the supervisor's descriptors)
 *   argv[1]  the detach key (0-255), or -1
 *   argv[1]  "peer" instead: no relay at all; fd 3 is a client's connection to the
 *            supervisor, and this prints the kernel's word on who connected (SO_PEERCRED:
 *            "PID UID GID" on stdout, or "error ERRNO") and exits. Node cannot ask the
 *            kernel this of a socket; the terminal hand-over (src/supervisor/viewers/
 *            peer-terminal.ts) needs it to take only a terminal the client holds itself.
 *   argv[2]  "pump" for the flood pump: there is no terminal (fd 4 is not used); the relay
 *            only reads the agent's output in a tight loop and hands it over in 'o' frames
 *            at once (src/supervisor/flood-pump.ts). A Node process reads a flooding pty
 *            ~4 KB per wake-up, and the agent waits whenever the supervisor is busy
 *            parsing; this reader never is, and buffers up to OUT_LIMIT meanwhile.
 *
 * To the supervisor, frames of type (1 byte), length (4 bytes, big-endian), payload:
 *   'o'  output read from the agent and written whole to the terminal (for the mirror and
 *        the other viewers; sent up to TEE_DELAY_MS late, so that waking the supervisor
 *        does not compete with the echo); consecutive reads join one frame of up to CHUNK
 *        bytes while it waits to be sent
 *   't'  keys read from the terminal and written to the agent (for its bookkeeping)
 *   'k'  keys NOT written: the supervisor handles them (the detach key, an escape
 *        sequence such as a cursor position report, or keys the agent did not take); from
 *        then on every key goes this way until the supervisor sends 'd'
 *   'r'  output not yet written to the terminal when the relay ends (it was slow): the
 *        supervisor writes it, then goes on itself; more than TERM_PENDING_LIMIT of it
 *        ends the relay ('x' 'f'), as the supervisor then stops feeding a slow terminal
 *   'x'  the end, one byte why: 's' stopped as asked, 'f' terminal full, 'h' terminal
 *        gone, 'e' the agent's pty ended, 'i' an internal error; nothing follows.
 * From the supervisor, single bytes: 'd' (keys may go straight to the agent again) and
 * 's' (stop). The socket closing also stops it. Nothing read is ever dropped: every byte
 * from the agent is in an 'o' frame, every key in a 't' or 'k' frame.
 * After 'x' the relay lets go of the terminal and the pty and waits for the supervisor to
 * close the socket, reading and ignoring what it still sends: a relay that exited at once
 * made a late 's' or 'd' of the supervisor's fail (EPIPE), and Node then threw away the
 * frames not yet read, the 'x' among them (seen in floods: 2-4 KB of output lost).
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CTL_FD 3
#define TERM_FD 4
#define MASTER_FD 5
#define CHUNK 65536
#define TEE_DELAY_MS 2
#define OUT_LIMIT (1024 * 1024) /* frames queued for the supervisor before the agent waits */
#define TERM_PENDING_LIMIT (256 * 1024) /* output a slow terminal may owe before we give up */

/* Frames for the supervisor: [out_head, out_len) of out; what is before out_head has gone. */
static unsigned char *out;
static size_t out_head, out_len, out_cap;
static int urgent;        /* a frame the supervisor must act on is queued */
static long long due = -1; /* when the queued frames must go, ms; -1 none */
static int pump;           /* the flood pump: no terminal, output goes up at once */

/* Output read from the agent and not yet taken by the terminal, in order. */
static unsigned char *tp;
static size_t tp_len, tp_cap;

static void pend(const unsigned char *data, size_t len) {
  if (tp_len + len > tp_cap) {
    size_t cap = tp_cap ? tp_cap : CHUNK;
    while (cap < tp_len + len) cap *= 2;
    unsigned char *p = realloc(tp, cap);
    if (!p) _exit(3);
    tp = p;
    tp_cap = cap;
  }
  memcpy(tp + tp_len, data, len);
  tp_len += len;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(void) { _exit(3); }

static size_t queued(void) { return out_len - out_head; }

/* Room for `more` bytes at out_len; moves the unsent frames to the start first. */
static void reserve(size_t more) {
  if (out_len + more <= out_cap) return;
  if (out_head > 0) {
    memmove(out, out + out_head, out_len - out_head);
    out_len -= out_head;
    out_head = 0;
  }
  if (out_len + more <= out_cap) return;
  size_t cap = out_cap ? out_cap : CHUNK;
  while (cap < out_len + more) cap *= 2;
  unsigned char *p = realloc(out, cap);
  if (!p) die();
  out = p;
  out_cap = cap;
}

/* The last queued frame while it is an 'o' with its header unsent: it may still grow. */
static unsigned char *last_o;

static void frame(char type, const unsigned char *data, size_t len) {
  if (type == 'o' && last_o) {
    /* Joined to the 'o' right before it (up to CHUNK): a flood's 4 KB reads reach the
       supervisor as a few large chunks, each of which costs it a fixed amount of work. */
    size_t had = ((size_t)last_o[1] << 24) | ((size_t)last_o[2] << 16) | ((size_t)last_o[3] << 8) | last_o[4];
    if (had + len <= CHUNK) {
      size_t at = (size_t)(last_o - out) - out_head;
      reserve(len);
      unsigned char *h = out + out_head + at;
      memcpy(out + out_len, data, len);
      out_len += len;
      had += len;
      h[1] = (unsigned char)(had >> 24);
      h[2] = (unsigned char)(had >> 16);
      h[3] = (unsigned char)(had >> 8);
      h[4] = (unsigned char)had;
      last_o = h;
      return;
    }
  }
  reserve(5 + len);
  unsigned char *p = out + out_len;
  p[0] = (unsigned char)type;
  p[1] = (unsigned char)(len >> 24);
  p[2] = (unsigned char)(len >> 16);
  p[3] = (unsigned char)(len >> 8);
  p[4] = (unsigned char)len;
  if (len) memcpy(p + 5, data, len);
  out_len += 5 + len;
  last_o = type == 'o' ? p : NULL;
  if ((type == 'o' || type == 't') && !pump) {
    if (due < 0) due = now_ms() + TEE_DELAY_MS;
  } else {
    urgent = 1;
  }
}

/* Writes what the socket takes now; returns -1 when the supervisor is gone. */
static int flush_some(void) {
  while (queued() > 0) {
    ssize_t n = write(CTL_FD, out + out_head, queued());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return -1;
    }
    out_head += (size_t)n;
    /* A frame whose header has (partly) gone can no longer grow. */
    if (last_o && last_o < out + out_head) last_o = NULL;
  }
  out_head = out_len = 0;
  last_o = NULL;
  urgent = 0;
  due = -1;
  return 0;
}

/* The end: everything queued goes out (waiting for the socket), then exit. */
static void finish(char why) {
  unsigned char w = (unsigned char)why;
  /* To the supervisor's log, which is a file: it cannot block like the socket. */
  if (pump) {
    if (why != 's' && why != 'e') dprintf(2, "symposium-relay (pump): ending (%c), %zu bytes queued for the supervisor\n", why, queued());
  } else if (why != 's') {
    dprintf(2, "symposium-relay: ending (%c), %zu bytes owed to the terminal, %zu queued for the supervisor\n", why, tp_len, queued());
  }
  if (tp_len > 0 && why != 'h') frame('r', tp, tp_len);
  frame('x', &w, 1);
  if (!pump) close(TERM_FD);
  close(MASTER_FD);
  int fl = fcntl(CTL_FD, F_GETFL);
  if (fl >= 0) fcntl(CTL_FD, F_SETFL, fl & ~O_NONBLOCK);
  if (flush_some() < 0) _exit(0);
  unsigned char c[64];
  for (;;) {
    ssize_t n = read(CTL_FD, c, sizeof c);
    if (n == 0 || (n < 0 && errno != EINTR)) _exit(0);
  }
}

/* Writes all it can without waiting; returns the bytes written, -1 on a hard error. */
static ssize_t write_now(int fd, const unsigned char *p, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return done > 0 ? (ssize_t)done : -1;
    }
    done += (size_t)n;
  }
  return (ssize_t)done;
}

/* "peer" mode: who is at the other end of the socket on fd 3. */
static int peer(void) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(CTL_FD, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
    printf("error %d\n", errno);
    return 1;
  }
  printf("%ld %ld %ld\n", (long)cred.pid, (long)cred.uid, (long)cred.gid);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "peer") == 0) return peer();
  int detach = argc > 1 ? atoi(argv[1]) : -1;
  pump = argc > 2 && strcmp(argv[2], "pump") == 0;
  int direct = 1; /* keys may go straight to the agent */
  static unsigned char buf[CHUNK];
  static unsigned char keys[4096];
  for (int fd = CTL_FD; fd <= MASTER_FD; fd++) {
    if (pump && fd == TERM_FD) continue;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) die();
    /* Shared with the supervisor's descriptions of these files, which are non-blocking too. */
    if (!(fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  }
  for (;;) {
    struct pollfd p[3];
    /* A supervisor that does not read (stopped, swamped) holds both directions, as a frozen
       tmux server would: memory stays bounded and nothing is dropped. */
    p[0].fd = pump ? -1 : TERM_FD; /* poll skips a negative fd */
    p[0].events = (queued() < OUT_LIMIT ? POLLIN : 0) | (tp_len > 0 ? POLLOUT : 0);
    p[1].fd = MASTER_FD;
    p[1].events = queued() < OUT_LIMIT ? POLLIN : 0;
    p[2].fd = CTL_FD;
    p[2].events = POLLIN | (queued() > 0 && (urgent || now_ms() >= due) ? POLLOUT : 0);
    int timeout = -1;
    if (queued() > 0 && !(p[2].events & POLLOUT)) {
      long long left = due - now_ms();
      timeout = left > 0 ? (int)left : 0;
    }
    for (int i = 0; i < 3; i++) p[i].revents = 0;
    if (poll(p, 3, timeout) < 0) {
      if (errno == EINTR) continue;
      finish('i');
    }
    if ((p[0].revents | p[1].revents | p[2].revents) & POLLNVAL) finish('i');
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      unsigned char c[64];
      ssize_t n = read(CTL_FD, c, sizeof c);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) _exit(0); /* supervisor gone */
      for (ssize_t i = 0; i < n; i++) {
        if (c[i] == 'd') direct = 1;
        else if (c[i] == 's') finish('s');
      }
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(MASTER_FD, buf, sizeof buf);
      if (n > 0) {
        frame('o', buf, (size_t)n);
        if (pump) {
          /* nothing more: the supervisor has it all */
        } else if (tp_len > 0) {
          pend(buf, (size_t)n); /* behind: in order, after what the terminal still owes */
        } else {
          ssize_t w = write_now(TERM_FD, buf, (size_t)n);
          if (w < 0) finish('h');
          if (w < n) pend(buf + w, (size_t)(n - w));
        }
        if (tp_len > TERM_PENDING_LIMIT) finish('f');
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        finish('e');
      }
    }
    if ((p[0].revents & POLLOUT) && tp_len > 0) {
      ssize_t w = write_now(TERM_FD, tp, tp_len);
      if (w < 0) finish('h');
      memmove(tp, tp + w, tp_len - (size_t)w);
      tp_len -= (size_t)w;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(TERM_FD, keys, sizeof keys);
      if (n > 0) {
        int plain = direct;
        for (ssize_t i = 0; plain && i < n; i++) {
          if (keys[i] == 0x1b || (detach >= 0 && keys[i] == (unsigned char)detach)) plain = 0;
        }
        if (plain) {
          ssize_t w = write_now(MASTER_FD, keys, (size_t)n);
          if (w < 0) w = 0;
          if (w > 0) frame('t', keys, (size_t)w);
          if (w < n) {
            frame('k', keys + w, (size_t)(n - w));
            direct = 0;
          }
        } else {
          frame('k', keys, (size_t)n);
          direct = 0;
        }
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        finish('h');
      }
    }
    if (p[2].revents & POLLOUT || urgent) {
      if (flush_some() < 0) _exit(0);
    }
  }
}
