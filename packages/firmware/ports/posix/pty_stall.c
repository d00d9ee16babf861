/*
 * The stall ticker (pty_stall.h): a thread that sleeps TICK_MS at a time and measures, on the monotonic
 * clock, how long each sleep really took. A gap longer than the threshold is a time the process was not
 * scheduled (its threads wait alike on a loaded machine, and all stop together on SIGSTOP). It is the same
 * measurement as the TS host's (ts/line-throughput.ts: a 5 ms timer, a stall when a tick comes over
 * 40 ms late), so the two ends' stalls compare.
 */
#include "pty_stall.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

enum { TICK_MS = 5 };

static long threshold_ms;
static long long started_us; /* read before the thread is created: a stall before its first tick counts too */

static long long now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *tick(void *arg) {
    (void)arg;
    const struct timespec sleep = {0, TICK_MS * 1000000L};
    long long last = started_us;
    for (;;) {
        nanosleep(&sleep, NULL);
        long long now = now_us(), gap_ms = (now - last) / 1000;
        if (gap_ms > threshold_ms) fprintf(stderr, "tinypipe-board: stall: %lld ms\n", gap_ms);
        last = now;
    }
    return NULL;
}

int tp_stall_start(long stall_ms) {
    if (stall_ms <= 0) return 0;
    threshold_ms = stall_ms;
    started_us = now_us();
    /* the ticker takes no signals: SIGUSR1/SIGUSR2 (the EN pin), SIGTERM and SIGINT stay the main thread's,
       which polls and sleeps expecting them to interrupt it */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_t thread;
    int r = pthread_create(&thread, NULL, tick, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) return -1;
    pthread_detach(thread);
    return 0;
}
