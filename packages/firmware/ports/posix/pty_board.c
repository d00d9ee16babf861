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

#include "../../src/link/link.h"
#include "../../src/link/messages.h"
#include "../../src/stage.h"

int serve_pty(int argc, char **argv);

static tp_image image;
static tp_stage stage;
static tp_link link_;
static int master = -1;
static double ber_byte, drop_p; /* fault injection */
static uint32_t rng_state;
static uint8_t start_flags;

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
static int pump(int wait_ms) {
    struct pollfd fds[2] = {{master, POLLIN, 0}, {0, POLLIN, 0}};
    int r = poll(fds, 2, wait_ms);
    if (r > 0 && (fds[1].revents & (POLLIN | POLLHUP))) {
        char c;
        if (read(0, &c, 1) <= 0) return -1; /* stdin closed: the parent is gone */
    }
    if (r > 0 && (fds[0].revents & POLLIN)) {
        static uint8_t buf[4096];
        ssize_t n = read(master, buf, sizeof buf);
        if (n > 0) tp_link_rx(&link_, buf, damage(buf, (size_t)n));
    }
    tp_link_poll(&link_);
    return 0;
}

static void send_msg(const uint8_t *msg, size_t n) {
    for (;;) {
        int r = tp_link_send(&link_, msg, n);
        if (r != -1) return; /* queued, or no host any more (dropped) */
        if (pump(2) != 0) exit(0);
    }
}

static void send_error(uint16_t stream, tp_status code, const char *text) {
    static uint8_t out[256];
    send_msg(out, tp_msg_error(out, stream, (uint16_t)code, text));
}

static void run(uint16_t stream, uint16_t pos, float *x) {
    static uint32_t hashes[256];
    static float logits[1 << 16];
    static uint8_t out[TP_MAX_PAYLOAD];
    tp_status s = tp_stage_forward(&stage, x, pos, hashes);
    if (s != TP_OK) return send_error(stream, s, "position out of range for this stage's KV cache");
    if (start_flags & TP_START_HASHES)
        send_msg(out, tp_msg_hashes(out, stream, pos, (uint16_t)image.layer_from, hashes,
                                    (size_t)(image.layer_to - image.layer_from)));
    if (!image.has_classifier) {
        send_msg(out, tp_msg_floats(out, TP_MSG_ACTIVATION, stream, pos, 0, x, (size_t)image.config.dim));
        return;
    }
    size_t rows = (size_t)(image.vocab_to - image.vocab_from);
    if (rows > sizeof logits / sizeof logits[0]) return send_error(stream, TP_E_UNSUPPORTED, "vocab slice too large");
    tp_stage_classify(&stage, x, logits);
    const size_t per = (TP_MAX_PAYLOAD - 9) / 4; /* LOGITS larger than a payload go as consecutive slices */
    for (size_t at = 0; at < rows; at += per) {
        size_t n = rows - at < per ? rows - at : per;
        send_msg(out, tp_msg_floats(out, TP_MSG_LOGITS, stream, pos, (uint32_t)(image.vocab_from + at), logits + at, n));
    }
}

static void handle(const uint8_t *p, size_t n) {
    static float x[4096];
    tp_msg m;
    if (tp_msg_parse(p, n, &m) != 0) return send_error(0xffff, TP_E_ARG, "malformed or unexpected message");
    if (m.stream != 0) return send_error(m.stream, TP_E_ARG, "this board has room for one stream (0)");
    switch (m.kind) {
    case TP_MSG_START:
        if (m.flags & TP_START_SAMPLE)
            return send_error(m.stream, TP_E_UNSUPPORTED, "sampling on the board is not in this build");
        start_flags = m.flags;
        return;
    case TP_MSG_END:
        start_flags = 0;
        return;
    case TP_MSG_TOKEN: {
        tp_status s = tp_stage_embed(&stage, (int)m.token, x);
        if (s != TP_OK) return send_error(m.stream, s, "token out of range, or this stage holds no embedding");
        return run(m.stream, m.pos, x);
    }
    case TP_MSG_ACTIVATION:
        if (m.n != (size_t)image.config.dim) return send_error(m.stream, TP_E_ARG, "activation is not dim floats");
        for (size_t i = 0; i < m.n; i++) x[i] = tp_msg_f32(m.x, i);
        return run(m.stream, m.pos, x);
    }
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

    uint8_t hello[TP_HELLO_BYTES];
    tp_hello_board(hello, (uint16_t)board, image.fingerprint, (uint16_t)image.layer_from, (uint16_t)image.layer_to,
                   image.has_classifier ? (uint32_t)image.vocab_from : 0,
                   image.has_classifier ? (uint32_t)image.vocab_to : 0, 1,
                   (image.has_embedding ? 1u : 0u) | (image.has_classifier ? 2u : 0u));
    link_.port = NULL, link_.write = port_write, link_.now_ms = port_now, link_.log = port_log;
    tp_link_init(&link_, hello, (uint16_t)(port_now(NULL) ^ (uint32_t)getpid() * 2654435761u));
    if (open_pty() != 0) return fprintf(stderr, "tinypipe-board: cannot open a pseudo-terminal\n"), 1;

    for (;;) {
        if (pump(5) != 0) return 0;
        const uint8_t *msg;
        size_t n;
        while ((msg = tp_link_next(&link_, &n)) != NULL) {
            static uint8_t copy[TP_MAX_PAYLOAD]; /* handling may pump the line, which may reuse the slot */
            memcpy(copy, msg, n);
            tp_link_release(&link_);
            handle(copy, n);
        }
    }
}
