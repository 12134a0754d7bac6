#define _GNU_SOURCE
#include <sys/socket.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sched.h>
#include "cepoll.h"

int rs_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int rs_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int rs_epoll_add(int epoll_fd, int fd, int input_only) {
    struct epoll_event event = {0};
    /* A socket: input, output and hang-up, edge-triggered. Otherwise (the wake-up eventfd):
       input only, level-triggered; an eventfd is always writable, so watching output would
       wake the loop forever. */
    event.events = input_only ? EPOLLIN : (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
    event.data.fd = fd;
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

int rs_epoll_remove(int epoll_fd, int fd) { return epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL); }

int rs_epoll_wait(int epoll_fd, int32_t *fds, uint32_t *events, int capacity, int timeout_ms) {
    struct epoll_event buffer[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epoll_fd, buffer, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        uint32_t e = buffer[i].events, out = 0;
        if (e & EPOLLIN) out |= RS_EVENT_READABLE;
        if (e & EPOLLOUT) out |= RS_EVENT_WRITABLE;
        if (e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) out |= RS_EVENT_CLOSED;
        fds[i] = buffer[i].data.fd;
        events[i] = out;
    }
    return count;
}

int rs_accept(int listener, struct sockaddr *address, unsigned int *length) {
    socklen_t size = *length;
    int fd = accept4(listener, address, &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
    *length = size;
    return fd;
}

int rs_affinity_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    return CPU_COUNT(&set);
}
