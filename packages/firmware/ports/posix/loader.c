/*
 * The virtual ESP32-S3's download mode: SLIP framing on the PTY, the reply in the running loader's form, and
 * the chip's resets (docs/esp-rom.md). At power-on the ROM loader (rom.c) answers; after a stub upload the
 * flasher stub (stub.c) does.
 *
 *   command:  u8 0x00, u8 op, u16 size, u32 checksum, data[size]
 *   response: u8 0x01, u8 op, u16 size, u32 value, data[size] ending with the status bytes
 * Frames end with 0xC0; inside one 0xDB 0xDC stands for 0xC0 and 0xDB 0xDD for 0xDB.
 */
#define _XOPEN_SOURCE 700
#include "loader.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t en_pulse; /* the last EN pulse not yet seen: SIGUSR1 (boot) or SIGUSR2 (download) */

static void on_reset_pin(int sig) { en_pulse = sig; }

uint32_t tp_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void tp_put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

uint8_t tp_loader_checksum(const uint8_t *p, size_t n) {
    uint8_t x = 0xef;
    for (size_t i = 0; i < n; i++) x ^= p[i];
    return x;
}

long long tp_loader_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(long long us) {
    if (us <= 0) return;
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

void tp_loader_erase_time(tp_loader *L, uint32_t bytes) {
    sleep_us((long long)L->opt->erase_us_per_mb * bytes / (1 << 20));
}

void tp_loader_md5_time(const tp_loader *L, uint32_t bytes) {
    sleep_us((long long)L->opt->md5_us_per_mb * bytes / (1 << 20));
}

void tp_loader_send_frame(tp_loader *L, const uint8_t *p, size_t n) {
    static uint8_t out[2 * 4096 + 2];
    size_t o = 0;
    out[o++] = 0xc0;
    for (size_t i = 0; i < n && o < sizeof out - 2; i++) {
        if (p[i] == 0xc0) out[o++] = 0xdb, out[o++] = 0xdc;
        else if (p[i] == 0xdb) out[o++] = 0xdb, out[o++] = 0xdd;
        else out[o++] = p[i];
    }
    out[o++] = 0xc0;
    for (size_t at = 0; at < o;) {
        ssize_t k = write(L->fd, out + at, o - at);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return; /* the host is gone: the reply is lost, as on a wire */
        at += (size_t)k;
    }
}

void tp_loader_reply(tp_loader *L, uint8_t op, uint32_t value, const uint8_t *data, size_t n, uint8_t error) {
    uint8_t p[8 + 64 + 4];
    size_t status = L->mode == MODE_ROM ? 4 : 2;
    if (n > 64) n = 64;
    p[0] = 0x01, p[1] = op, p[2] = (uint8_t)(n + status), p[3] = 0;
    tp_put32(p + 4, value);
    if (n) memcpy(p + 8, data, n);
    if (L->mode == MODE_ROM) /* status (1: failed), error, 2 reserved */
        p[8 + n] = error ? 1 : 0, p[9 + n] = error, p[10 + n] = 0, p[11 + n] = 0;
    else /* the stub: a big-endian u16 code, the error in its first byte */ p[8 + n] = error, p[9 + n] = 0;
    tp_loader_send_frame(L, p, 8 + n + status);
}

void tp_loader_security_info(tp_loader *L, uint8_t op) {
    uint8_t info[20] = {0};
    tp_put32(info + 12, L->opt->chip_id);
    tp_loader_reply(L, op, 0, info, sizeof info, 0);
}

int tp_slip_feed(tp_slip_rx *s, uint8_t b, uint8_t *packet, size_t cap, size_t *len) {
    if (b == 0xc0) {
        int whole = s->in_frame && s->len > 0;
        *len = s->len;
        s->in_frame = 1, s->len = 0, s->escape = 0;
        return whole;
    }
    if (!s->in_frame) return 0;
    if (s->escape) b = b == 0xdc ? 0xc0 : b == 0xdd ? 0xdb : b, s->escape = 0;
    else if (b == 0xdb) return s->escape = 1, 0;
    if (s->len < cap) packet[s->len++] = b;
    else s->in_frame = 0; /* too long for any loader: dropped, wait for the next frame */
    return 0;
}

long tp_loader_read_frame(tp_loader *L, uint8_t *p, size_t cap, int timeout_ms) {
    tp_slip_rx s = {0, 0, 0};
    for (;;) {
        struct pollfd f = {L->fd, POLLIN, 0};
        if (poll(&f, 1, timeout_ms) <= 0) return -1;
        uint8_t b;
        if (read(L->fd, &b, 1) != 1) return -1;
        size_t len;
        if (tp_slip_feed(&s, b, p, cap, &len)) return (long)len;
    }
}

void tp_loader_power_on(tp_loader *L) {
    if (L->write.active && L->write.compressed) inflateEnd(&L->write.z);
    memset(&L->write, 0, sizeof L->write);
    memset(&L->mem, 0, sizeof L->mem);
    L->mode = MODE_ROM, L->reset = L->reset_later = RESET_NONE, L->attached = 0;
    L->chip_size = (uint32_t)(L->flash_size > 0xffffffffu ? 0xffffffffu : L->flash_size);
    tp_regs_reset();
}

void tp_loader_packet(tp_loader *L, const uint8_t *p, size_t n) {
    if (n < 8 || p[0] != 0x00) return;
    size_t size = (size_t)(p[2] | p[3] << 8);
    if (size != n - 8) return; /* a frame cut short or run together: no command to answer */
    if (L->mode == MODE_ROM) tp_rom_command(L, p[1], p + 8, size, tp_le32(p + 4));
    else tp_stub_command(L, p[1], p + 8, size, tp_le32(p + 4));
}

int tp_rom_flash_size_ok(size_t flash_size) {
    for (size_t s = 256u << 10; s <= (256u << 20); s <<= 1)
        if (flash_size == s) return 1;
    return 0;
}

int tp_rom_serve(int fd, uint8_t *flash, size_t flash_size, const tp_rom_options *o) {
    static tp_loader L;
    static uint8_t buf[64 * 1024 + 64]; /* room for a stub's 16 KiB block, escaped, and more: refused whole */
    tp_slip_rx rx = {0, 0, 0};
    memset(&L, 0, sizeof L);
    L.fd = fd, L.flash = flash, L.flash_size = flash_size, L.opt = o;
    tp_loader_power_on(&L);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_reset_pin;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    int result = -1;
    for (;;) {
        if (en_pulse) {
            int boot = en_pulse == SIGUSR1;
            en_pulse = 0;
            fprintf(stderr, "tinypipe-board: reset: EN pulse, GPIO0 %s\n", boot ? "high" : "low: the ROM loader");
            if (boot) {
                result = 0;
                break;
            }
            tp_loader_power_on(&L);
        }
        if (L.reset_later != RESET_NONE && tp_loader_now_us() >= L.reset_at) L.reset = L.reset_later;
        if (L.reset == RESET_BOOT) {
            result = 0;
            break;
        }
        if (L.reset == RESET_DOWNLOAD) { /* USB download forced: the chip restarts in the ROM loader */
            fprintf(stderr, "tinypipe-board: reset: watchdog, download forced: the ROM loader\n");
            tp_loader_power_on(&L), rx.in_frame = 0; /* bytes in flight are lost in a reset */
        }
        int wait_ms = 100;
        if (L.reset_later != RESET_NONE) wait_ms = (int)((L.reset_at - tp_loader_now_us()) / 1000) + 1;
        struct pollfd fds[3] = {{fd, POLLIN, 0}, {0, POLLIN, 0}, {o->idle_fd, POLLIN, 0}};
        if (poll(fds, o->idle_fd >= 0 ? 3 : 2, wait_ms < 100 ? wait_ms : 100) < 0) continue;
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            char c;
            if (read(0, &c, 1) <= 0) break; /* stdin closed: the parent is gone */
        }
        if (o->idle_fd >= 0 && (fds[2].revents & POLLIN)) {
            uint8_t junk[4096]; /* the previous board says HELLO before this one runs: nobody listens yet */
            if (read(o->idle_fd, junk, sizeof junk) < 0) continue;
        }
        if (!(fds[0].revents & POLLIN)) continue;
        static uint8_t in[4096];
        ssize_t n = read(fd, in, sizeof in);
        for (ssize_t i = 0; i < n && L.reset == RESET_NONE; i++) {
            size_t len;
            if (tp_slip_feed(&rx, in[i], buf, sizeof buf, &len)) tp_loader_packet(&L, buf, len);
        }
    }
    if (L.write.active && L.write.compressed) inflateEnd(&L.write.z);
    sa.sa_handler = SIG_IGN; /* the firmware has no reset pin to watch: a pulse no longer ends the process */
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    return result;
}
