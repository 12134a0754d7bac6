#include <stdint.h>

/// A small C face over epoll(7) and eventfd(2) for the event loops: Swift's Glibc module does
/// not import <sys/epoll.h>, and `struct epoll_event` is packed on x86-64. Events come back as
/// plain arrays of descriptors and RS_EVENT_* bits.

#define RS_EVENT_READABLE 1u
#define RS_EVENT_WRITABLE 2u
/// Hang-up, error or the peer's shutdown of its write side: worth a read (which then says which).
#define RS_EVENT_CLOSED 4u

/// epoll_create1(EPOLL_CLOEXEC); -1 and errno on failure.
int rs_epoll_create(void);
/// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); -1 and errno on failure.
int rs_eventfd(void);

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC: the new descriptor is never inherited by a
/// child spawned meanwhile, and costs no fcntl calls. Returns the descriptor or -1 (errno).
struct sockaddr;
int rs_accept(int listener, struct sockaddr *address, unsigned int *length);
/// Watches a socket for input, output and hang-up, edge-triggered; with `input_only`, input
/// alone, level-triggered (the loop's wake-up eventfd).
int rs_epoll_add(int epoll_fd, int fd, int input_only);
int rs_epoll_remove(int epoll_fd, int fd);
/// Waits up to `timeout_ms` (-1: forever); fills `fds` and `events` (RS_EVENT_* bits), at most
/// `capacity` of each; returns how many, or -1 and errno.
int rs_epoll_wait(int epoll_fd, int32_t *fds, uint32_t *events, int capacity, int timeout_ms);

/// CPUs in this thread's affinity mask (taskset, a cpuset), sched_getaffinity(2) with CPU_COUNT,
/// which Swift cannot call (a macro); -1 on failure (or a machine of more than 1,024 CPUs).
int rs_affinity_cpu_count(void);
