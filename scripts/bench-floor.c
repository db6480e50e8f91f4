/*
 * The kernel's floor for scripts/bench.sh: the least a program can do to run
 * COMMAND in new namespaces, with nothing else — no options, no checks, no
 * parent/child protocol, no narration, no cleanup beyond what the kernel needs.
 * A lab's start is compared with it to see what the runtime itself costs.
 *
 *   bench-floor KINDS [--nested] [--cgroup DIR[:FILE=VALUE...]]... -- COMMAND [ARG...]
 *   bench-floor --enter PID -- COMMAND [ARG...]
 *
 * KINDS: the namespaces, comma-separated (uts,ipc,pid,mnt,net,user,cgroup,time),
 * or "none". One clone(2) with their flags and SIGCHLD, on the caller's stack
 * (like fork(2): the child has its own copy of the memory), then execve(2) of
 * COMMAND in the child and waitpid(2) in the parent. With "user", the child
 * first writes its own ID maps, root inside for the caller outside (setgroups
 * "deny", then gid_map and uid_map, as unshare --map-root-user does): a user
 * namespace without them runs COMMAND as the overflow user, which is not the
 * same container. "time" takes effect for the children of the caller (Linux
 * 5.6, unshare(2)): it is unshared before the clone.
 *
 * --cgroup DIR[:FILE=VALUE...] (repeatable: a v1 hierarchy each, or the one
 * v2 cgroup): the cgroup DIR.PID (PID: this program's) is made with mkdir(2)
 * and each FILE in it written with VALUE (the limits); the child moves itself
 * in (writing 0 to cgroup.procs, as cgroups(7) allows), then makes its cgroup
 * namespace if "cgroup" is among KINDS, so that the namespace's root is the
 * container's cgroup, as in lab 08; once COMMAND has ended, the directory is
 * removed, rmdir(2) retried while the kernel says EBUSY.
 *
 * --nested (before the first --cgroup): lab 08's shape instead of one
 * directory: DIR.PID stands for nslab/ (on cgroup v2 it enables, in its
 * cgroup.subtree_control, the controllers that the limits name), DIR.PID/PID
 * for nslab/PID (it takes the limits) and DIR.PID/PID/container for the leaf
 * (the child moves itself there); the three are removed leaf first.
 *
 * --enter PID: as nsenter --all: opens each namespace of PID that differs
 * from ours (user first, then cgroup, ipc, uts, net, pid, mnt), joins them in
 * that order, then forks, since a new PID namespace applies to children only,
 * and waits for COMMAND.
 *
 * Exit status: COMMAND's, 128+N when signal N killed it; 125 with one line on
 * stderr when a step failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
  const char *name;
  int flag;
} kinds[] = {
    {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID},       {"mnt", CLONE_NEWNS},  {"time", CLONE_NEWTIME},
};
#define KIND_COUNT (sizeof kinds / sizeof kinds[0])

static void die(const char *what) {
  fprintf(stderr, "bench-floor: %s: %s\n", what, strerror(errno));
  exit(125);
}

/* One write(2) of TEXT to PATH, as the ID map files demand. */
static void write_file(const char *path, const char *text) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die(path);
  close(fd);
}

/* DIR/NAME into PATH (PATH_MAX bytes), or a one-line error. */
static void join_path(char *path, const char *dir, const char *name) {
  const int length = snprintf(path, PATH_MAX, "%s/%s", dir, name);
  if (length < 0 || length >= PATH_MAX) {
    errno = ENAMETOOLONG;
    die(dir);
  }
}

static int status_of(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

static int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) == -1) {
    if (errno != EINTR) die("waitpid");
  }
  return status_of(status);
}

static int enter(const char *target, char **command) {
  int fds[KIND_COUNT];
  int count = 0;
  for (size_t i = 0; i < KIND_COUNT; ++i) {
    char theirs[64];
    char ours[64];
    struct stat a;
    struct stat b;
    snprintf(theirs, sizeof theirs, "/proc/%s/ns/%s", target, kinds[i].name);
    snprintf(ours, sizeof ours, "/proc/self/ns/%s", kinds[i].name);
    if (stat(theirs, &a) == -1 || stat(ours, &b) == -1) continue; /* a kind this kernel lacks */
    if (a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;  /* the same: nothing to join */
    fds[count] = open(theirs, O_RDONLY | O_CLOEXEC);
    if (fds[count] == -1) die(theirs);
    ++count;
  }
  for (int i = 0; i < count; ++i) {
    if (setns(fds[i], 0) == -1) die("setns");
    close(fds[i]);
  }
  /* Forked whether or not the PID namespace is among them, as nsenter --all does. */
  const pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    execvp(command[0], command);
    _exit(errno == ENOENT ? 127 : 126);
  }
  return wait_for(pid);
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "--enter") == 0 && strcmp(argv[3], "--") == 0) return enter(argv[2], argv + 4);
  if (argc < 4) {
    fprintf(stderr, "usage: bench-floor KINDS [--nested] [--cgroup DIR...] -- COMMAND [ARG...] | --enter PID -- COMMAND\n");
    return 125;
  }
  int flags = 0;
  char *list = argv[1];
  if (strcmp(list, "none") != 0) {
    for (char *kind = strtok(list, ","); kind != NULL; kind = strtok(NULL, ",")) {
      size_t i = 0;
      while (i < KIND_COUNT && strcmp(kinds[i].name, kind) != 0) ++i;
      if (i == KIND_COUNT) {
        fprintf(stderr, "bench-floor: unknown namespace kind '%s'\n", kind);
        return 125;
      }
      flags |= kinds[i].flag;
    }
  }
  /* Each cgroup's directories, outermost first: one, or three with --nested;
     the child joins the last, and the limits go in the one above it. */
  char cgroups[8][3][PATH_MAX];
  int cgroup_count = 0;
  int next = 2;
  const int levels = next < argc && strcmp(argv[next], "--nested") == 0 ? 3 : 1;
  if (levels == 3) ++next;
  const int limited = levels == 3 ? 1 : 0;
  while (next + 1 < argc && strcmp(argv[next], "--cgroup") == 0 && cgroup_count < 8) {
    char *spec = argv[next + 1];
    char *limit = strchr(spec, ':');
    if (limit != NULL) *limit++ = '\0';
    char(*dirs)[PATH_MAX] = cgroups[cgroup_count];
    const int length = snprintf(dirs[0], PATH_MAX, "%s.%d", spec, (int)getpid());
    if (length < 0 || length >= PATH_MAX) {
      errno = ENAMETOOLONG;
      die(spec);
    }
    if (mkdir(dirs[0], 0755) == -1) die(dirs[0]);
    if (levels == 3) {
      char pid[16];
      snprintf(pid, sizeof pid, "%d", (int)getpid());
      join_path(dirs[1], dirs[0], pid);
      if (mkdir(dirs[1], 0755) == -1) die(dirs[1]);
      join_path(dirs[2], dirs[1], "container");
      if (mkdir(dirs[2], 0755) == -1) die(dirs[2]);
    }
    ++cgroup_count;
    char control[PATH_MAX];
    join_path(control, dirs[0], "cgroup.subtree_control");
    const int v2 = levels == 3 && access(control, F_OK) == 0;
    while (limit != NULL) {
      char *rest = strchr(limit, ':');
      if (rest != NULL) *rest++ = '\0';
      char *value = strchr(limit, '=');
      if (value == NULL) {
        fprintf(stderr, "bench-floor: --cgroup: '%s' is not FILE=VALUE\n", limit);
        return 125;
      }
      *value++ = '\0';
      if (v2) {
        /* memory.max: "+memory", so that the level below has the file. */
        char enable[64];
        snprintf(enable, sizeof enable, "+%.*s", (int)strcspn(limit, "."), limit);
        write_file(control, enable);
      }
      char path[PATH_MAX];
      join_path(path, dirs[limited], limit);
      write_file(path, value);
      limit = rest;
    }
    next += 2;
  }
  if (next >= argc || strcmp(argv[next], "--") != 0 || next + 1 >= argc) {
    fprintf(stderr, "bench-floor: expected -- COMMAND after the kinds\n");
    return 125;
  }
  char **command = argv + next + 1;
  /* Read before the clone: inside a new user namespace they would be the overflow IDs. */
  char uid_map[64];
  char gid_map[64];
  snprintf(uid_map, sizeof uid_map, "0 %u 1", (unsigned)geteuid());
  snprintf(gid_map, sizeof gid_map, "0 %u 1", (unsigned)getegid());
  if ((flags & CLONE_NEWTIME) != 0 && unshare(CLONE_NEWTIME) == -1) die("unshare(CLONE_NEWTIME)");
  /* With a cgroup to join, the cgroup namespace comes after it, so that its
     root is the container's cgroup (cgroup_namespaces(7)), as in lab 08. */
  const int late = cgroup_count > 0 ? flags & CLONE_NEWCGROUP : 0;
  const int early = flags & ~(CLONE_NEWTIME | late);
  const pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(early | SIGCHLD), NULL, NULL, NULL, 0UL);
  if (pid == -1) die("clone");
  if (pid == 0) {
    if ((flags & CLONE_NEWUSER) != 0) {
      write_file("/proc/self/setgroups", "deny");
      write_file("/proc/self/gid_map", gid_map);
      write_file("/proc/self/uid_map", uid_map);
    }
    for (int i = 0; i < cgroup_count; ++i) {
      char path[PATH_MAX];
      join_path(path, cgroups[i][levels - 1], "cgroup.procs");
      write_file(path, "0");
    }
    if (late != 0 && unshare(late) == -1) die("unshare(CLONE_NEWCGROUP)");
    execvp(command[0], command);
    _exit(errno == ENOENT ? 127 : 126);
  }
  const int status = wait_for(pid);
  for (int i = 0; i < cgroup_count; ++i) {
    /* The kernel frees a cgroup a moment after its last process has gone. */
    for (int level = levels - 1; level >= 0; --level) {
      while (rmdir(cgroups[i][level]) == -1) {
        if (errno != EBUSY) die(cgroups[i][level]);
      }
    }
  }
  return status;
}
