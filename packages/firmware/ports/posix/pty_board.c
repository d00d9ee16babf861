/*
 * The simulated board's protocol mode: it opens a pseudo-terminal — its "UART" — prints
 * `PTY /dev/pts/N` on stdout, and serves docs/protocol.md on it: HELLO/HELLO_ACK with its image's
 * fingerprint and ranges, PING/PONG, the reliable link, and the §5 messages run on its stage.
 *
 *   tinypipe-board --pty --image PATH [--board N] [--ber P] [--drop P] [--seed S]
 *
 * --ber / --drop damage the bytes it sends and receives (seeded), so the host's ARQ is exercised against
 * the C side too. Events (accepted, refused, link down) go to stderr, one line each. It exits when its
 * stdin closes (the parent went away) or on SIGTERM.
 */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../src/serve.h"

int serve_pty(int argc, char **argv);

static tp_image image;
static tp_stage stage;
static tp_server server;
static int master = -1;
static double ber_byte, drop_p; /* fault injection */
static uint32_t rng_state;

static double rnd(void) { /* splitmix32-style: the same generator as the TS test line */
    uint32_t z = (rng_state += 0x9e3779b9u);
    z = (z ^ (z >> 16)) * 0x85ebca6bu;
    z = (z ^ (z >> 13)) * 0xc2b2ae35u;
    return (double)(z ^ (z >> 16)) / 4294967296.0;
}

/* Applies the faults to buf in place; returns the bytes that survive. */
static size_t damage(uint8_t *buf, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop_p > 0 && rnd() < drop_p) continue;
        uint8_t b = buf[i];
        if (ber_byte > 0 && rnd() < ber_byte) b ^= (uint8_t)(1u << (int)(rnd() * 8));
        buf[o++] = b;
    }
    return o;
}

static void port_write(void *port, const uint8_t *bytes, size_t n) {
    (void)port;
    static uint8_t copy[TP_MAX_WIRE];
    memcpy(copy, bytes, n);
    n = damage(copy, n);
    for (size_t at = 0; at < n;) {
        ssize_t w = write(master, copy + at, n - at);
        if (w < 0) return; /* the host is gone: the frame is lost, ARQ or a new HELLO deal with it */
        at += (size_t)w;
    }
}

static uint32_t port_now(void *port) {
    (void)port;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)(ts.tv_sec * 1000u + ts.tv_nsec / 1000000);
}

static void port_log(void *port, const char *line) {
    (void)port;
    fprintf(stderr, "tinypipe-board: %s\n", line);
}

/* Reads what the line has (waiting up to wait_ms), runs the link's timers; 0, or -1 to exit. */
static int pump(void *port, int wait_ms) {
    (void)port;
    struct pollfd fds[2] = {{master, POLLIN, 0}, {0, POLLIN, 0}};
    int r = poll(fds, 2, wait_ms);
    if (r > 0 && (fds[1].revents & (POLLIN | POLLHUP))) {
        char c;
        if (read(0, &c, 1) <= 0) return -1; /* stdin closed: the parent is gone */
    }
    if (r > 0 && (fds[0].revents & POLLIN)) {
        static uint8_t buf[4096];
        ssize_t n = read(master, buf, sizeof buf);
        if (n > 0) tp_link_rx(&server.link, buf, damage(buf, (size_t)n));
    }
    tp_link_poll(&server.link);
    return 0;
}

static int open_pty(void) {
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return -1;
    const char *name = ptsname(master);
    int slave = name ? open(name, O_RDWR | O_NOCTTY) : -1; /* held open: the line stays up between hosts */
    struct termios t;
    if (slave < 0 || tcgetattr(slave, &t) != 0) return -1;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    if (tcsetattr(slave, TCSANOW, &t) != 0) return -1;
    printf("PTY %s\n", name);
    fflush(stdout);
    return 0;
}

int serve_pty(int argc, char **argv) {
    const char *path = NULL;
    unsigned board = 0xffff, seed = 1;
    double ber = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--pty")) continue;
        if (!v) return fprintf(stderr, "tinypipe-board: USAGE: %s needs a value\n", a), 2;
        if (!strcmp(a, "--image")) path = v;
        else if (!strcmp(a, "--board")) board = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--ber")) ber = strtod(v, NULL);
        else if (!strcmp(a, "--drop")) drop_p = strtod(v, NULL);
        else if (!strcmp(a, "--seed")) seed = (unsigned)strtoul(v, NULL, 10);
        else return fprintf(stderr, "tinypipe-board: USAGE: unknown option %s\n", a), 2;
        i++;
    }
    if (!path) return fprintf(stderr, "tinypipe-board: USAGE: --image PATH is required\n"), 2;
    ber_byte = 1.0 - (1.0 - ber) * (1.0 - ber) * (1.0 - ber) * (1.0 - ber) * (1.0 - ber) * (1.0 - ber) *
                         (1.0 - ber) * (1.0 - ber);
    rng_state = seed;

    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size == 0)
        return fprintf(stderr, "tinypipe-board: IMAGE: cannot open %s\n", path), 1;
    const uint8_t *flash = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0); /* the "flash" */
    close(fd);
    tp_status s = flash == MAP_FAILED ? TP_E_ARG : tp_image_open(&image, flash, (size_t)sb.st_size, 1);
    if (s != TP_OK) return fprintf(stderr, "tinypipe-board: %s: image %s refused\n", tp_status_name(s), path), 1;
    size_t need = tp_stage_arena_bytes(&image);
    void *arena = NULL; /* allocated once, at boot: the KV cache lives here */
    if (posix_memalign(&arena, 16, need) != 0 || tp_stage_init(&stage, &image, arena, need) != TP_OK)
        return fprintf(stderr, "tinypipe-board: NO_MEMORY: %lu bytes for the stage\n", (unsigned long)need), 1;

    static float logits[1 << 16];
    if (image.has_classifier && image.vocab_to - image.vocab_from > (int)(sizeof logits / sizeof logits[0]))
        return fprintf(stderr, "tinypipe-board: UNSUPPORTED: vocab slice larger than this build's buffer\n"), 1;
    server.link.port = NULL, server.link.write = port_write, server.link.now_ms = port_now, server.link.log = port_log;
    server.pump = pump;
    tp_server_init(&server, &stage, &image, TP_OK, logits, (uint16_t)board,
                   (uint16_t)(port_now(NULL) ^ (uint32_t)getpid() * 2654435761u));
    if (open_pty() != 0) return fprintf(stderr, "tinypipe-board: cannot open a pseudo-terminal\n"), 1;

    for (;;)
        if (pump(NULL, 5) != 0 || tp_server_step(&server) != 0) return 0;
}
