/*
 * The simulated board's UARTs: PTYs, fault injection and a paced transmit (pty_uart.h).
 */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#include "pty_uart.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double ber_byte, drop_p; /* fault injection */
static uint32_t rng_state;

void tp_uart_faults(double ber, double drop, uint32_t seed) {
    ber_byte = 1.0 - pow(1.0 - ber, 8);
    drop_p = drop;
    rng_state = seed;
}

static double rnd(void) { /* splitmix32-style: the same generator as the TS test line */
    uint32_t z = (rng_state += 0x9e3779b9u);
    z = (z ^ (z >> 16)) * 0x85ebca6bu;
    z = (z ^ (z >> 13)) * 0xc2b2ae35u;
    return (double)(z ^ (z >> 16)) / 4294967296.0;
}

size_t tp_uart_damage(uint8_t *buf, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop_p > 0 && rnd() < drop_p) continue;
        uint8_t b = buf[i];
        if (ber_byte > 0 && rnd() < ber_byte) b ^= (uint8_t)(1u << (int)(rnd() * 8));
        buf[o++] = b;
    }
    return o;
}

long long tp_uart_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --line-baud: what a board sends goes out as its UART does on the ESP-IDF port — copied into the
 * driver's 8 KB transmit ring (the CPU goes on computing) and shifted out at 10 bits per byte. Here each
 * frame waits in a per-UART queue and is written to the PTY when its last byte would have left the pin,
 * so the receiver sees it no earlier than on the wire, while the board's compute overlaps the transfer
 * as it does on the chip. A full ring blocks the writer, as uart_write_bytes does. */
#define TX_RING 8192
typedef struct {
    int *fd;                /* the UART's PTY (the variable: a chain's next port is reopened) */
    uint8_t bytes[TX_RING]; /* queued frames, back to back */
    size_t used, count;
    size_t len[64]; /* each queued frame's length and release time */
    long long due[64];
    long long line_free; /* when the line has shifted out everything queued */
} tx_line;
static tx_line tx_lines[2];

static void tx_flush(tx_line *q, long long now) {
    size_t k = 0, at = 0;
    for (; k < q->count && q->due[k] <= now; at += q->len[k++]) {
        for (size_t w = 0; w < q->len[k];) {
            ssize_t r = *q->fd >= 0 ? write(*q->fd, q->bytes + at + w, q->len[k] - w) : -1;
            if (r < 0) break; /* the peer is gone: the frame is lost, ARQ or a new HELLO deal with it */
            w += (size_t)r;
        }
    }
    if (k == 0) return;
    memmove(q->bytes, q->bytes + at, q->used - at);
    memmove(q->len, q->len + k, (q->count - k) * sizeof q->len[0]);
    memmove(q->due, q->due + k, (q->count - k) * sizeof q->due[0]);
    q->used -= at, q->count -= k;
}

void tp_uart_flush(long long now) {
    for (int i = 0; i < 2; i++) tx_flush(&tx_lines[i], now);
}

long long tp_uart_next_due(long long limit) {
    for (int i = 0; i < 2; i++)
        if (tx_lines[i].count && tx_lines[i].due[0] < limit) limit = tx_lines[i].due[0];
    return limit;
}

/* Also flushes the frames already due: a full ring waits here for its oldest frame, so returning without
 * flushing it would spin forever. */
void tp_uart_sleep_until_us(long long t) {
    for (;;) {
        long long now = tp_uart_now_us();
        tp_uart_flush(now);
        if (now >= t) return;
        long long d = tp_uart_next_due(t) - now;
        struct timespec ts = {(time_t)(d / 1000000), (long)(d % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

void tp_uart_send(int line, int *fd, const uint8_t *bytes, size_t n, long baud) {
    if (baud <= 0) {
        for (size_t at = 0; at < n;) {
            ssize_t w = write(*fd, bytes + at, n - at);
            if (w < 0) return; /* the host is gone: the frame is lost, ARQ or a new HELLO deal with it */
            at += (size_t)w;
        }
        return;
    }
    tx_line *q = &tx_lines[line];
    q->fd = fd;
    while (q->count == 64 || q->used + n > TX_RING) tp_uart_sleep_until_us(q->due[0]); /* the ring is full */
    long long now = tp_uart_now_us(), start = q->line_free > now ? q->line_free : now;
    q->line_free = start + (long long)n * 10 * 1000000 / baud; /* 8N1 on the wire */
    memcpy(q->bytes + q->used, bytes, n);
    q->len[q->count] = n, q->due[q->count++] = q->line_free, q->used += n;
    tx_flush(q, now);
}

uint32_t tp_uart_departs_ms(int line) { return (uint32_t)(tx_lines[line].line_free / 1000); }

int tp_uart_open_pty(int *fd, const char *label) {
    int master = *fd = posix_openpt(O_RDWR | O_NOCTTY);
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
    printf("%s %s\n", label, name);
    fflush(stdout);
    return 0;
}
