/*
 * crtos-sim-client: one stand-in tool invocation of a simulated machine, forwarded to the
 * machine's tool server (src/sim/server/) instead of starting Node.js: a stand-in then costs what
 * a real C tool costs (a few ms), not a Node.js start-up.
 *
 *   crtos-sim-client DIR NODE BUNDLE TOOL [ARGS...]
 *
 * Sends argv, the environment, cwd, its pid and parent's pid and its start time over the UNIX
 * socket DIR/.sim/tools.sock (starting `NODE BUNDLE serve DIR` first if nobody listens), forwards
 * stdin while the tool runs, writes what the server sends to stdout and stderr, and exits with the
 * tool's status. Killing this process (crtosd's timeout kills the process group) closes the
 * socket, and the server stops that request as if the tool itself had been killed.
 *
 * Frames both ways: 1 byte type, 4 bytes little-endian length, payload.
 *   client -> server: 'R' request (NUL-terminated fields: start ms, pid, ppid, cwd, argc, argv...,
 *                     env...), 'I' stdin data (empty: end of stdin)
 *   server -> client: 'O' stdout data, 'E' stderr data, 'X' exit status (4 bytes LE)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *SOCKET_NAME = "tools.sock";

static void die(const char *what) {
  fprintf(stderr, "crtos-sim-client: %s: %s\n", what, strerror(errno));
  exit(1);
}

struct buf {
  char *data;
  size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 256;
    b->data = realloc(b->data, b->cap);
    if (!b->data) die("realloc");
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void put_str(struct buf *b, const char *s) { put(b, s, strlen(s) + 1); }

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int send_frame(int fd, char type, const char *p, uint32_t n) {
  unsigned char head[5] = {(unsigned char)type, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff};
  if (write_all(fd, (const char *)head, 5) < 0) return -1;
  return write_all(fd, p, n);
}

/* Connects to the socket in the directory open as dirfd (a path of any length works). */
static int try_connect(int dirfd) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, SOCKET_NAME);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
  close(fd);
  return -1;
}

/*
 * Starts the server in its own session (crtosd kills the tool's process group on a timeout; the
 * server must outlive that) with no descriptor of ours but a pipe it writes to once it listens.
 */
static void start_server(const char *dir, int dirfd, const char *node, const char *bundle) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (fork() != 0) _exit(0); /* reparented: nobody has to wait for the server */
    setsid();
    int null = open("/dev/null", O_RDWR);
    char log[64];
    snprintf(log, sizeof log, "/proc/self/fd/%d/tools-server.log", dirfd);
    int err = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(null, 0);
    dup2(null, 1);
    dup2(err >= 0 ? err : null, 2);
    dup2(ready[1], 3);
    for (int fd = 4; fd < 1024; fd++) close(fd);
    /*
     * Not a tool of the machine: without CRTOS_SIM_DIR in its environment, whoever looks for the
     * machine's running tools by it (as crtosd's crash test does) finds the clients, not the server.
     * Nor the run token crtosd gave the tool that started it (CRTOS_TOOL_RUN): a restarted crtosd
     * looks for a tool it did not learn the PID of by that token, and must not find the server
     * (a session leader, as the tool is), wait for it until the tool's deadline, then kill it.
     */
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      if (strncmp(environ[i], "CRTOS_SIM_DIR=", 14) != 0 && strncmp(environ[i], "CRTOS_TOOL_RUN=", 15) != 0) env[k++] = environ[i];
    char *const args[] = {(char *)node, (char *)bundle, "serve", (char *)dir, NULL};
    execve(node, args, env);
    _exit(127);
  }
  close(ready[1]);
  waitpid(pid, NULL, 0);
  char c;
  ssize_t r;
  do r = read(ready[0], &c, 1);
  while (r < 0 && errno == EINTR);
  close(ready[0]);
}

static int connect_server(const char *dir, const char *node, const char *bundle) {
  char sim[4096];
  snprintf(sim, sizeof sim, "%s/.sim", dir);
  int dirfd = open(sim, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    fprintf(stderr, "crtos-sim-client: %s is not a simulated machine (no .sim directory): %s\n", dir, strerror(errno));
    exit(2);
  }
  int fd = try_connect(dirfd);
  if (fd >= 0) {
    close(dirfd);
    return fd;
  }
  /* Nobody listens: one client at a time starts the server, the others then find it. */
  char lockpath[4200];
  snprintf(lockpath, sizeof lockpath, "%s/tools.lock", sim);
  int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0) die("open tools.lock");
  while (flock(lock, LOCK_EX) < 0)
    if (errno != EINTR) die("flock");
  fd = try_connect(dirfd);
  if (fd < 0) {
    char sock[4200];
    snprintf(sock, sizeof sock, "%s/%s", sim, SOCKET_NAME);
    unlink(sock);
    start_server(dir, dirfd, node, bundle);
    fd = try_connect(dirfd);
  }
  close(lock);
  close(dirfd);
  if (fd < 0) {
    fprintf(stderr, "crtos-sim-client: the tool server of %s did not start (see %s/tools-server.log)\n", dir, sim);
    exit(1);
  }
  return fd;
}

static struct buf request(int argc, char **argv, double start) {
  struct buf b = {0};
  char num[64];
  snprintf(num, sizeof num, "%.3f", start);
  put_str(&b, num);
  snprintf(num, sizeof num, "%d", (int)getpid());
  put_str(&b, num);
  snprintf(num, sizeof num, "%d", (int)getppid());
  put_str(&b, num);
  char *cwd = getcwd(NULL, 0);
  put_str(&b, cwd ? cwd : "/");
  free(cwd);
  snprintf(num, sizeof num, "%d", argc);
  put_str(&b, num);
  for (int i = 0; i < argc; i++) put_str(&b, argv[i]);
  for (char **e = environ; *e; e++) put_str(&b, *e);
  return b;
}

/* Runs one exchange. Returns the exit status, or -1 if the server closed before answering at all. */
static int exchange(int fd, const struct buf *req) {
  if (send_frame(fd, 'R', req->data, (uint32_t)req->len) < 0) return -1;
  int in_open = 1;
  int answered = 0;
  struct buf rx = {0};
  char chunk[65536];
  for (;;) {
    struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    int n = poll(fds, in_open ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (in_open && fds[1].revents) {
      ssize_t r = read(0, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        in_open = 0;
        send_frame(fd, 'I', "", 0);
      } else send_frame(fd, 'I', chunk, (uint32_t)r);
    }
    if (!fds[0].revents) continue;
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (answered) fprintf(stderr, "crtos-sim-client: the tool server closed the connection before the tool's exit status\n");
      return answered ? 1 : -1;
    }
    answered = 1;
    put(&rx, chunk, (size_t)r);
    size_t off = 0;
    while (rx.len - off >= 5) {
      const unsigned char *h = (const unsigned char *)rx.data + off;
      uint32_t len = h[1] | (h[2] << 8) | (h[3] << 16) | ((uint32_t)h[4] << 24);
      if (rx.len - off - 5 < len) break;
      const char *payload = rx.data + off + 5;
      if (h[0] == 'O') write_all(1, payload, len);
      else if (h[0] == 'E') write_all(2, payload, len);
      else if (h[0] == 'X' && len == 4) {
        const unsigned char *p = (const unsigned char *)payload;
        return (int)(p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24));
      }
      off += 5 + len;
    }
    memmove(rx.data, rx.data + off, rx.len - off);
    rx.len -= off;
  }
}

int main(int argc, char **argv) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double start = (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6;
  if (argc < 5) {
    fprintf(stderr, "usage: crtos-sim-client DIR NODE BUNDLE TOOL [ARGS...]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const char *dir = argv[1], *node = argv[2], *bundle = argv[3];
  struct buf req = request(argc - 4, argv + 4, start);
  /* A server exiting for idleness may drop a connection it never read: then ask again. */
  for (int attempt = 0; attempt < 5; attempt++) {
    int fd = connect_server(dir, node, bundle);
    int status = exchange(fd, &req);
    close(fd);
    if (status >= 0) return status;
  }
  fprintf(stderr, "crtos-sim-client: the tool server of %s keeps closing the connection unanswered\n", dir);
  return 1;
}
