/*
 * A board of a ring on the simulated board (pty_ring.h). Options, added to pty_board.c's:
 *   --ring                 this board is in a ring (docs/protocol.md §4.5); with more than one board every
 *                          board takes --in-pty and --next PATH (the last board's PATH: board 0's UART in)
 *   --in-link PATH         a symlink to this board's PTY_IN at PATH (replaced when it exists): the previous
 *                          board's --next PATH stays right when this board restarts on a new PTY
 *   --driver               board 0: it drives the stories and has the console; with it:
 *   --console stdio|pty    the console: stdout + stdin lines (default), or the board's own PTY (its `PTY`
 *                          path: the USB port, which then carries no protocol)
 *   --prompt TEXT          the default prompt (token ids "1 403 …" without a tokenizer; default: the image's story
 *                          defaults' (docs/image-format.md §4c), else BOS alone)
 *   --tokenizer PATH       a llama2.c tokenizer.bin for prompts and text (else the image's tokenizer section, if
 *                          it has one; else prompts and stories are token ids)
 *   --steps N --temperature T --topp P --sample-seed S    the sampler (defaults: the image's story defaults, else
 *                          256, 1.0, 0.9, 1)
 *   --parallel K           stories at once, at most (default: the image's, else 1; the ring's smallest --streams caps
 *                          it). Each of these six given overrides that one setting of the image's, no other.
 *   --stories K            exit (status 0) after K stories (default 0: the default prompt, forever)
 */
#define _GNU_SOURCE
#include "pty_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../../src/standalone.h"
#include "../../src/standalone_tok.h"
#include "tokenizer_file.h"

static int ring, driver, console_pty;
static const char *in_link, *prompt, *tokenizer_path;
static tp_tokenizer tokenizer;
static tp_driver_config cfg = {1.0f, 0.9f, 1, 256, 1, NULL, 0, NULL, NULL, NULL};
static unsigned given; /* the story options given (bit k: valued[k]) */
static tp_story_defaults story;
static tp_driver drv;
static tp_console console;
static int console_fd = -1; /* --console pty: the board's PTY */
static char line[TP_DRIVER_LINE];
static size_t line_n;

int tp_ring_option(const char *a, const char *v) {
    if (!strcmp(a, "--ring")) return ring = 1;
    if (!strcmp(a, "--driver")) return driver = 1;
    const char *valued[] = {"--in-link", "--console",  "--prompt",  "--steps",       "--temperature",
                            "--topp",    "--parallel", "--stories", "--sample-seed", "--tokenizer"};
    int k = -1;
    for (int i = 0; i < (int)(sizeof valued / sizeof valued[0]); i++)
        if (!strcmp(a, valued[i])) k = i;
    if (k < 0) return 0;
    if (!v) return fprintf(stderr, "tinypipe-board: USAGE: %s needs a value\n", a), -1;
    given |= 1u << k;
    switch (k) {
    case 0: in_link = v; break;
    case 1:
        if (strcmp(v, "stdio") && strcmp(v, "pty"))
            return fprintf(stderr, "tinypipe-board: USAGE: --console stdio or --console pty\n"), -1;
        console_pty = !strcmp(v, "pty");
        break;
    case 2: prompt = v; break;
    case 3: cfg.steps = atoi(v); break;
    case 4: cfg.temperature = strtof(v, NULL); break;
    case 5: cfg.topp = strtof(v, NULL); break;
    case 6: cfg.lanes = atoi(v); break;
    case 7: cfg.stories = atoi(v); break;
    case 8: cfg.seed = strtoull(v, NULL, 10); break;
    default: tokenizer_path = v; break;
    }
    if (cfg.steps < 1 || cfg.lanes < 1 || cfg.lanes > TP_SERVE_MAX_STREAMS || cfg.stories < 0 ||
        !(cfg.temperature >= 0) || !(cfg.topp >= 0 && cfg.topp <= 1))
        return fprintf(stderr,
                       "tinypipe-board: USAGE: --steps >= 1, --parallel 1..%d, --stories >= 0, --temperature >= 0, "
                       "--topp in [0, 1]\n",
                       TP_SERVE_MAX_STREAMS),
               -1;
    return 2;
}

int tp_ring_mode(void) { return ring; }

/* A board that ends removes its --in-link, so the previous board does not open whatever PTY reuses the number
 * (SIGKILL cannot: a restarted board replaces the link). */
static void unlink_in(void) { unlink(in_link); }
static void on_signal(int sig) {
    unlink(in_link);
    _exit(128 + sig);
}

int tp_ring_setup(int in_fd, int master) {
    if (!ring && (driver || in_link))
        return fprintf(stderr, "tinypipe-board: USAGE: --driver and --in-link are ring options: add --ring\n"), -1;
    if (in_link && in_fd >= 0) {
        char *name = ptsname(in_fd);
        unlink(in_link);
        if (!name || symlink(name, in_link) != 0)
            return fprintf(stderr, "tinypipe-board: cannot link %s to the PTY_IN: %s\n", in_link, strerror(errno)), -1;
        atexit(unlink_in);
        signal(SIGTERM, on_signal), signal(SIGINT, on_signal), signal(SIGHUP, on_signal);
    }
    if (console_pty) console_fd = master;
    return 0;
}

static void console_out(void *ctx, const uint8_t *bytes, size_t n) {
    (void)ctx;
    if (console_fd < 0) {
        fwrite(bytes, 1, n, stdout);
        fflush(stdout);
        return;
    }
    while (n > 0) { /* a raw PTY nobody reads fills up: the console waits, as a UART's TX would */
        ssize_t w = write(console_fd, bytes, n);
        if (w > 0) bytes += w, n -= (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EINTR) return;
    }
}

void tp_ring_start(tp_server *s, uint16_t session, int has_next) {
    if (has_next) tp_ring_join(s, session);
    if (!driver || !s->stages) return;
    /* the image's story defaults (§4c), then only the options given here */
    tp_driver_config explicit = cfg;
    if (tp_image_story(s->stages[0].img, &story) == TP_OK) tp_driver_use_story(&cfg, &story);
    if (given & 1u << 2) cfg.prompt = prompt;
    if (given & 1u << 3) cfg.steps = explicit.steps;
    if (given & 1u << 4) cfg.temperature = explicit.temperature;
    if (given & 1u << 5) cfg.topp = explicit.topp;
    if (given & 1u << 6) cfg.lanes = explicit.lanes;
    if (given & 1u << 8) cfg.seed = explicit.seed;
    char why[200];
    if (tokenizer_path) {
        if (tp_tokenizer_file(tokenizer_path, (uint32_t)s->stages[0].img->config.vocab_size, &tokenizer, why,
                              sizeof why) == 0)
            tp_driver_use_tokenizer(&cfg, &tokenizer);
        else fprintf(stderr, "tinypipe-board: --tokenizer: %s (prompts are token ids)\n", why);
    } else if (tp_image_tokenizer(s->stages[0].img, &tokenizer) == TP_OK) /* the image's own (§4b) */
        tp_driver_use_tokenizer(&cfg, &tokenizer);
    tp_console_init(&console, console_out, NULL);
    tp_driver_init(&drv, s, &cfg, &console.sink);
}

static void console_in(const char *bytes, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (bytes[i] == '\n' || bytes[i] == '\r') {
            if (line_n > 0 || bytes[i] == '\n') tp_driver_line(&drv, line, line_n);
            line_n = 0;
        } else if (line_n < sizeof line - 1) line[line_n++] = bytes[i];
    }
}

int tp_ring_stdin(void) {
    char buf[256];
    ssize_t n = read(0, buf, sizeof buf);
    if (n <= 0) return -1; /* the parent is gone */
    if (driver && console_fd < 0 && drv.s) console_in(buf, (size_t)n);
    return 0;
}

/* --stories ran out with the console on the PTY: a PTY's unread output dies with the board, so give the
 * reader up to 2 s to take it first — FIONREAD on the terminal side is what it has not read yet, and it reads
 * 0 for a moment after a write too (the kernel moves the bytes across later): empty three times in a row. */
static void console_drain(void) {
    int fd = open(ptsname(console_fd), O_RDONLY | O_NOCTTY | O_NONBLOCK);
    int left = 0, empty = 0;
    for (int i = 0; fd >= 0 && i < 100 && empty < 3 && ioctl(fd, FIONREAD, &left) == 0; i++) {
        struct timespec ms20 = {0, 20000000};
        nanosleep(&ms20, NULL);
        empty = left > 0 ? 0 : empty + 1;
    }
    if (fd >= 0) close(fd);
}

int tp_ring_board_step(tp_server *s) {
    if (!driver || !drv.s) return tp_ring_step(s);
    if (console_fd >= 0) {
        char buf[256];
        struct pollfd p = {console_fd, POLLIN, 0};
        ssize_t n = poll(&p, 1, 0) > 0 && (p.revents & POLLIN) ? read(console_fd, buf, sizeof buf) : 0;
        if (n > 0) console_in(buf, (size_t)n);
    }
    if (tp_driver_step(&drv)) return 1;
    if (!tp_driver_done(&drv)) return 0;
    if (console_fd >= 0) console_drain();
    return 1;
}
